"""Seeded fault injection over the whole async report path, against moto.

More than 50 jobs are submitted through the real API handler and driven through the real worker,
sweeper and DLQ handler (the functions' own handlers, with SQS and schedule events), while a seeded
hook makes S3, DynamoDB and SQS calls fail or throttle, some renders outlive their deadline (the
worker's alarm interrupts them), some workers are killed mid-render (nothing recorded at all), and
the first job's send fails at submit. Messages really go to the moto DLQ by the queue's redrive
policy (maxReceiveCount from template.yaml). After the faults stop, the sweeper and the DLQ handler
run, the DLQ is redriven, and then: every accepted job is succeeded or failed with an error code and
a safe message, and no job item holds a payload. The counts are printed (`pytest -s`) for the record.
COSTPLAN_FAULT_SEED picks another seed.
"""

import json
import os
import random
import time
from collections import Counter

import pytest
from conftest import load_event
from report_aws import BUCKET, RES, Faults, focus_of_size, moto_reports, sqs_records

from costplan.services.reports import jobs as report_jobs
from costplan.services.reports.jobs import DEADLINE_MARGIN_S, STRANDED_AFTER_S
from costplan_contracts.enums import JobErrorCode
from tools.template import load_function_module

pytestmark = pytest.mark.integration

generate = load_function_module("functions/report_generate")
worker = load_function_module("functions/report_worker")
sweeper = load_function_module("functions/report_sweeper")
dlq_handler = load_function_module("functions/report_dlq")

SEED = int(os.environ.get("COSTPLAN_FAULT_SEED", "20261128"))  # CI's seed; set another to explore
GOOD_JOBS, POISON_JOBS = 52, 4
FAULT_RATE = float(os.environ.get("COSTPLAN_FAULT_RATE", "0.08"))  # of every S3, DynamoDB and SQS call made
SLOW_RATE, KILL_RATE = 0.08, 0.05  # per worker invocation / per render
BATCH_SIZE = RES["ReportWorkerFunction"]["Properties"]["Events"]["ReportJobs"]["Properties"]["BatchSize"]
SECRETS = ("arn:", "123456789012", "Traceback", "ClientError", "injected", "Exception", "Error:")


class Killed(BaseException):
    """Lambda ending the invocation (its timeout, or out of memory): no code of ours runs after it."""


@pytest.fixture
def aws(monkeypatch, lambda_context):
    with moto_reports(monkeypatch, lambda_context, Faults(SEED)) as env:
        yield env


class Driver:
    """Plays the parts AWS plays: API Gateway, the SQS event source mapping, the EventBridge schedule."""

    def __init__(self, aws, monkeypatch, lambda_context) -> None:
        self.aws, self.rng, self.trouble = aws, random.Random(SEED + 1), True
        self.counts: Counter = Counter()
        self.ctx, self.short = lambda_context, False
        monkeypatch.setattr(lambda_context, "get_remaining_time_in_millis", self._remaining_ms)
        real_render = report_jobs.render

        def render(req, exports=None):
            if self.trouble and self.short:
                try:
                    time.sleep(30)  # outlives the invocation: the worker's alarm must interrupt it
                except report_jobs.JobTimeout:
                    self.counts["renders_interrupted_by_the_alarm"] += 1
                    raise
            if self.trouble and self.rng.random() < KILL_RATE:
                self.counts["workers_killed_mid_render"] += 1
                raise Killed
            return real_render(req, exports)

        monkeypatch.setattr(report_jobs, "render", render)

    def _remaining_ms(self) -> float:
        return (DEADLINE_MARGIN_S + 0.15) * 1000 if self.short else 60_000

    def submit(self, body: dict, retries: int = 6) -> str | None:
        event = load_event("report_generate_async")
        event["body"] = json.dumps(body)
        for _ in range(retries):  # a client retries a 5xx with the same request (the same report_id)
            r = generate.handler(event, self.ctx)
            self.counts[f"api_{r['statusCode']}"] += 1
            if r["statusCode"] == 202:
                return json.loads(r["body"])["report_id"]
            assert r["statusCode"] == 500 and json.loads(r["body"])["error"]["code"] == "INTERNAL_ERROR"
        return None

    def pump(self, max_polls: int = 400) -> None:
        sqs, url = self.aws["sqs"], self.aws["url"]
        for _ in range(max_polls):
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=BATCH_SIZE,
                                      AttributeNames=["All"]).get("Messages", [])
            if not got:
                return
            self.short = self.trouble and self.rng.random() < SLOW_RATE
            records = sqs_records(got, load_event("report_worker")["Records"][0])
            self.counts["worker_invocations"] += 1
            try:
                failed = {f["itemIdentifier"] for f in worker.handler({"Records": records}, self.ctx)["batchItemFailures"]}
            except Killed:
                failed = {m["MessageId"] for m in got}  # the whole batch comes back after the visibility timeout
            for m in got:
                if m["MessageId"] in failed:
                    self.counts["deliveries_failed"] += 1
                    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
                else:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        raise AssertionError("the queue never drained")

    def scheduled(self) -> None:
        """Time passes (the sweeper's thresholds), then both scheduled functions run once."""
        self.aws["clock"].advance(STRANDED_AFTER_S + 40)
        time.sleep(1.05)  # DLQ messages peeked by the last run become visible again (DLQ_PEEK_VISIBILITY_S = 1)
        for name, fn, event in (("sweeper", sweeper, "report_sweeper"), ("dlq", dlq_handler, "report_dlq")):
            try:
                for what, n in fn.handler(load_event(event), self.ctx).items():
                    self.counts[f"{name}_{what}"] += n
            except Exception:  # noqa: BLE001 - a faulted run; EventBridge runs it again in 5 minutes
                self.counts[f"{name}_runs_failed"] += 1

    def dlq_depth(self) -> int:
        attrs = self.aws["sqs"].get_queue_attributes(QueueUrl=self.aws["dlq"], AttributeNames=["All"])["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])

    def redrive(self) -> int:
        """What StartMessageMoveTask does: every DLQ message back to the source queue."""
        sqs, moved = self.aws["sqs"], 0
        time.sleep(1.05)
        while got := sqs.receive_message(QueueUrl=self.aws["dlq"], MaxNumberOfMessages=10).get("Messages", []):
            for m in got:
                sqs.send_message(QueueUrl=self.aws["url"], MessageBody=m["Body"])
                sqs.delete_message(QueueUrl=self.aws["dlq"], ReceiptHandle=m["ReceiptHandle"])
                moved += 1
        return moved


def _bodies() -> list[dict]:
    base = json.loads(load_event("report_generate_async")["body"])
    good = [{**base, "title": f"Fault run job {i}"} for i in range(GOOD_JOBS)]
    poison = [{**base, "title": f"Poison job {i}", "source": {"kind": "plan_llm", "request": {
        "workload": {"input_tokens_per_month": 1e6, "output_tokens_per_month": 1e6}, "model": f"no-such-model-{i}"}}}
        for i in range(POISON_JOBS)]
    return good + poison


def test_every_accepted_job_ends_succeeded_or_failed_with_a_safe_reason(aws, monkeypatch, lambda_context):
    faults, drive = aws["faults"], Driver(aws, monkeypatch, lambda_context)
    faults.next("SendMessage", "ThrottlingException")  # the first job's send fails at submit; no client retry
    first = drive.submit(_bodies()[0], retries=1)
    assert first is not None
    faults.rate = FAULT_RATE
    accepted = [first] + [rid for rid in (drive.submit(b) for b in _bodies()[1:]) if rid]
    for _ in range(4):  # under faults
        drive.pump()
        drive.scheduled()
    dead_lettered_by_redrive_policy = drive.dlq_depth()
    open_when_faults_stopped = len(_open(aws))
    faults.rate, drive.trouble = 0.0, False
    rounds = 0
    while (rounds := rounds + 1) <= 6 and (_open(aws) or rounds == 1):  # the sweeper and the DLQ handler finish
        drive.pump()
        drive.scheduled()
    assert _open(aws) == []  # the invariant, before any redrive: nothing is left queued or running
    before_redrive = _outcome(_items(aws))
    drive.counts["dlq_messages_redriven"] = drive.redrive()
    drive.pump()  # the redrive re-runs the transiently failed jobs whose messages were on the DLQ
    drive.scheduled()

    items = {i["report_id"]["S"]: i for i in _items(aws)}
    open_jobs = _open(aws)
    outcome = _outcome(items.values())
    print("\nJOB FAULT RUN", json.dumps({
        "seed": SEED, "jobs_accepted": len(accepted), "outcome": dict(sorted(outcome.items())),
        "outcome_before_redrive": dict(sorted(before_redrive.items())),
        "injected_faults_total": faults.total, "injected_faults": dict(sorted(faults.injected.items())),
        "messages_in_dlq_before_redrive": dead_lettered_by_redrive_policy,
        "open_when_faults_stopped": open_when_faults_stopped, "scheduled_rounds_to_close": rounds - 1,
        "driver": dict(sorted(drive.counts.items()))}, indent=1))

    assert len(accepted) == GOOD_JOBS + POISON_JOBS and set(accepted) == set(items)
    assert open_jobs == []  # and again after the redrive
    for item in items.values():
        assert "pending" not in item  # off the sparse index once terminal
        assert len(json.dumps(item)) < 4096 and "request" not in item  # pointers and metadata, no payload
        if item["status"]["S"] == "failed":
            assert JobErrorCode(item["error_code"]["S"])
            assert not any(s in item["error"]["S"] for s in SECRETS), item["error"]["S"]
    assert items[first]["status"]["S"] == "succeeded"  # its lost send was recovered by the sweeper
    poison_ids = set(accepted[GOOD_JOBS:])
    assert {items[r]["error_code"]["S"] for r in poison_ids} == {"INVALID_REQUEST"}
    # the run exercised what it claims: faults on every service, interrupted renders, killed workers, the DLQ
    assert {label.split(":")[0] for label in faults.injected} == {"s3", "dynamodb", "sqs"}
    assert drive.counts["renders_interrupted_by_the_alarm"] > 0 and drive.counts["workers_killed_mid_render"] > 0
    assert dead_lettered_by_redrive_policy > len(poison_ids) and drive.counts["dlq_messages_redriven"] > 0


def _outcome(items) -> Counter:
    return Counter(i["status"]["S"] if i["status"]["S"] != "failed" else f"failed_{i['error_code']['S']}" for i in items)


def _open(aws) -> list[str]:
    return [i["report_id"]["S"] for i in _items(aws) if i["status"]["S"] not in ("succeeded", "failed")]


def _items(aws) -> list[dict]:
    pages = aws["ddb"].get_paginator("scan").paginate(TableName="jobs", ConsistentRead=True)
    return [item for page in pages for item in page["Items"]]


def test_a_5_mb_focus_file_dropped_under_invoices_becomes_a_report_despite_a_fault(aws):
    """The bucket notifies the queue (configured as in template.yaml); the first delivery's write of the
    job request fails, the redelivery succeeds; the worker reads the export from S3 by key."""
    rules = RES["ReportBucket"]["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    queue_arn = aws["sqs"].get_queue_attributes(QueueUrl=aws["url"], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws["s3"].put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={"QueueConfigurations": [
        {"QueueArn": queue_arn, "Events": [r["Event"]], "Filter": {"Key": {"FilterRules": [
            {"Name": rule["Name"], "Value": rule["Value"]} for rule in r["Filter"]["S3Key"]["Rules"]]}}}
        for r in rules]})
    csv_text = focus_of_size(5 * 1024 * 1024)
    aws["s3"].put_object(Bucket=BUCKET, Key="invoices/2026-10 focus.csv", Body=csv_text.encode())
    aws["faults"].next("PutObject", "SlowDown")
    outcomes = []
    for _ in range(3):
        got = aws["sqs"].receive_message(QueueUrl=aws["url"], MaxNumberOfMessages=10,
                                         AttributeNames=["All"]).get("Messages", [])
        got = [m for m in got if "Records" in json.loads(m["Body"])]  # moto's s3:TestEvent has no Records
        if not got:
            break
        result = worker.handler({"Records": sqs_records(got, load_event("report_worker")["Records"][0])}, aws["ctx"])
        outcomes.append(len(result["batchItemFailures"]))
        for m in got:
            aws["sqs"].change_message_visibility(QueueUrl=aws["url"], ReceiptHandle=m["ReceiptHandle"],
                                                 VisibilityTimeout=0) if result["batchItemFailures"] else \
                aws["sqs"].delete_message(QueueUrl=aws["url"], ReceiptHandle=m["ReceiptHandle"])
    assert len(csv_text) >= 5 * 1024 * 1024 and outcomes == [1, 0]
    items = _items(aws)
    assert len(items) == 1 and items[0]["status"]["S"] == "succeeded"
    assert len(json.dumps(items[0])) < 4096  # the 5 MB stays in S3: the item holds jobs/<id>/request.json
    rid = items[0]["report_id"]["S"]
    assert items[0]["request_key"]["S"] == f"jobs/{rid}/request.json"
    md = aws["s3"].get_object(Bucket=BUCKET, Key=f"reports/{rid}/report.md")["Body"].read().decode()
    assert "# Invoice analysis: invoices/2026-10 focus.csv" in md
