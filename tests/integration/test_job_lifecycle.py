"""Report jobs keep their promise under faults: each case reported in issue 10 ends succeeded, or failed
with an error code and a safe message, over real boto3 calls against moto (faults injected with a
botocore before-call hook on the backends' own clients)."""

import json
import time

import pytest
from conftest import load_event
from report_aws import BUCKET, Faults, focus_of_size, moto_reports, sqs_records

from costplan.services.reports import jobs as report_jobs
from costplan.services.reports.jobs import DEADLINE_MARGIN_S, STRANDED_AFTER_S, UNSENT_AFTER_S, JobTimeout
from tools.template import load_function_module

pytestmark = pytest.mark.integration

generate = load_function_module("functions/report_generate")
status = load_function_module("functions/report_status")
worker = load_function_module("functions/report_worker")
sweeper = load_function_module("functions/report_sweeper")
dlq_handler = load_function_module("functions/report_dlq")
SECRETS = ("arn:", "123456789012", "Traceback", "ClientError", "injected", "Exception")


@pytest.fixture
def aws(monkeypatch, lambda_context):
    with moto_reports(monkeypatch, lambda_context, Faults()) as env:
        yield env


def _post(aws, title="Lifecycle", body=None):
    event = load_event("report_generate_async")
    body = body or {**json.loads(event["body"]), "title": title}
    event["body"] = json.dumps(body)
    r = generate.handler(event, aws["ctx"])
    return r["statusCode"], json.loads(r["body"])


def _state(aws, rid):
    event = load_event("report_status")
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/api/v1/report/{rid}"
    event["pathParameters"] = {"report_id": rid}
    return json.loads(status.handler(event, aws["ctx"])["body"])


def _receive(aws, url=None):
    return aws["sqs"].receive_message(QueueUrl=url or aws["url"], MaxNumberOfMessages=10,
                                      AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])


def _deliver(aws, ctx=None):
    """One poll of the event source mapping: receive, invoke, delete what succeeded, and let what failed
    become visible again at once (the test's stand-in for the visibility timeout passing)."""
    got = _receive(aws)
    if not got:
        return None, []
    records = sqs_records(got, load_event("report_worker")["Records"][0])
    result = worker.handler({"Records": records}, ctx or aws["ctx"])
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    for m in got:
        if m["MessageId"] in failed:
            aws["sqs"].change_message_visibility(QueueUrl=aws["url"], ReceiptHandle=m["ReceiptHandle"],
                                                 VisibilityTimeout=0)
        else:
            aws["sqs"].delete_message(QueueUrl=aws["url"], ReceiptHandle=m["ReceiptHandle"])
    return result, records


def _item(aws, rid):
    return aws["ddb"].get_item(TableName="jobs", Key={"report_id": {"S": rid}})["Item"]


def _assert_safe(job):
    assert job["status"] == "failed" and job["error_code"] and job["error"]
    assert not any(s in job["error"] for s in SECRETS), job["error"]


def test_a_render_that_outlives_the_deadline_is_interrupted_and_the_job_fails_timeout(aws, monkeypatch, lambda_context):
    real_render = report_jobs.render
    interrupted = []

    def slow_render(req, exports=None):
        try:
            time.sleep(30)  # longer than the whole test may take: only the alarm gets us out
        except JobTimeout:
            interrupted.append(True)
            raise
        return real_render(req, exports)

    monkeypatch.setattr(report_jobs, "render", slow_render)
    monkeypatch.setattr(lambda_context, "get_remaining_time_in_millis", lambda: (DEADLINE_MARGIN_S + 0.2) * 1000)
    _, job = _post(aws)
    for attempt in (1, 2, 3):
        result, _ = _deliver(aws, lambda_context)
        assert result["batchItemFailures"]  # redelivered
        state = _state(aws, job["report_id"])
        assert state["error_code"] == "TIMEOUT" and state["attempts"] == attempt
        assert state["status"] == ("queued" if attempt < 3 else "failed")
    assert interrupted == [True, True, True]
    _assert_safe(state)


def test_a_dynamodb_throttle_on_the_last_delivery_ends_failed_via_the_dlq(aws):
    _, job = _post(aws)
    rid = job["report_id"]
    for _ in range(3):  # every claim is throttled, the third on the last delivery
        aws["faults"].next("UpdateItem", "ProvisionedThroughputExceededException")
        result, _ = _deliver(aws)
        assert result["batchItemFailures"]
    assert _state(aws, rid)["status"] == "queued"
    assert _receive(aws) == []  # moto's redrive: the fourth receive moved the message to the DLQ
    assert dlq_handler.handler(load_event("report_dlq"), aws["ctx"]) == {"messages": 1, "failed": 1}
    state = _state(aws, rid)
    _assert_safe(state)
    assert state["error_code"] == "DEAD_LETTERED"
    time.sleep(1.1)  # the peek hid it for DLQ_PEEK_VISIBILITY_S (1 s here)
    kept = _receive(aws, aws["dlq"])
    assert [json.loads(m["Body"]) for m in kept] == [{"report_id": rid}]  # the message is kept for a redrive


def test_an_sqs_send_failure_returns_202_and_the_clients_retry_sends_it(aws):
    aws["faults"].next("SendMessage", "ThrottlingException")
    code, job = _post(aws)
    assert code == 202 and job["status"] == "queued" and job["error"] is None
    rid = job["report_id"]
    assert "sent_at" not in _item(aws, rid) and _receive(aws) == []
    code, again = _post(aws)  # the client retries the same request
    assert code == 202 and again["report_id"] == rid
    assert "sent_at" in _item(aws, rid)
    result, records = _deliver(aws)
    assert len(records) == 1 and result == {"batchItemFailures": []}
    assert _state(aws, rid)["status"] == "succeeded"


def test_an_sqs_send_failure_without_a_retry_is_sent_by_the_sweeper(aws):
    aws["faults"].next("SendMessage", "InternalError")
    _, job = _post(aws)
    assert sweeper.handler(load_event("report_sweeper"), aws["ctx"]) == {}  # too fresh: nothing to do yet
    aws["clock"].advance(UNSENT_AFTER_S + 1)
    assert sweeper.handler(load_event("report_sweeper"), aws["ctx"]) == {"resent": 1}
    result, records = _deliver(aws)
    assert len(records) == 1 and result == {"batchItemFailures": []}
    assert _state(aws, job["report_id"])["status"] == "succeeded"


class Killed(BaseException):
    """Lambda ending the invocation (its timeout, or out of memory): no code of ours runs after it."""


def test_a_killed_worker_leaves_running_and_the_sweeper_requeues_then_fails_it_timeout(aws, monkeypatch):
    def killed(req, exports=None):
        raise Killed

    monkeypatch.setattr(report_jobs, "render", killed)
    _, job = _post(aws)
    rid = job["report_id"]
    for n in range(1, 4):  # three workers killed mid-render: the job is left running, nothing recorded
        got = _receive(aws)
        with pytest.raises(Killed):
            worker.handler({"Records": sqs_records(got, load_event("report_worker")["Records"][0])}, aws["ctx"])
        for m in got:  # the sweeper sends a fresh message; drop this one as if it expired
            aws["sqs"].delete_message(QueueUrl=aws["url"], ReceiptHandle=m["ReceiptHandle"])
        assert _state(aws, rid)["status"] == "running"
        aws["clock"].advance(STRANDED_AFTER_S + 1)
        counts = sweeper.handler(load_event("report_sweeper"), aws["ctx"])
        assert counts == ({"resent": 1} if n < 3 else {"failed_TIMEOUT": 1}), n
    state = _state(aws, rid)
    _assert_safe(state)
    assert state["error_code"] == "TIMEOUT" and state["attempts"] == 3


def test_a_774_kb_invoice_dropped_under_invoices_becomes_a_report_and_stays_out_of_dynamodb(aws):
    csv_text = focus_of_size(774 * 1024)
    aws["s3"].put_object(Bucket=BUCKET, Key="invoices/november big.csv", Body=csv_text.encode())
    event = load_event("report_worker_s3")
    note = json.loads(event["Records"][0]["body"])
    note["Records"][0]["s3"]["object"]["key"] = "invoices/november+big.csv"
    event["Records"][0]["body"] = json.dumps(note)
    assert worker.handler(event, aws["ctx"]) == {"batchItemFailures": []}
    items = aws["ddb"].scan(TableName="jobs")["Items"]
    assert len(items) == 1 and items[0]["status"]["S"] == "succeeded" and "pending" not in items[0]
    assert len(json.dumps(items[0])) < 4096 and "BilledCost" not in json.dumps(items[0])  # pointers, no payload
    key = items[0]["request_key"]["S"]
    stored = json.loads(aws["s3"].get_object(Bucket=BUCKET, Key=key)["Body"].read())
    # the job's request points at the dropped file (read by the export reader), it does not copy it
    assert stored["source"]["request"] == {"source": {"s3_prefix": f"s3://{BUCKET}/invoices/november big.csv"}}
    rid = items[0]["report_id"]["S"]
    md = aws["s3"].get_object(Bucket=BUCKET, Key=f"reports/{rid}/report.md")["Body"].read().decode()
    assert "# Invoice analysis: invoices/november big.csv" in md


def test_a_message_that_is_not_json_goes_to_the_dlq_and_is_acknowledged(aws):
    aws["sqs"].send_message(QueueUrl=aws["url"], MessageBody="not json {")
    result, _ = _deliver(aws)
    assert result == {"batchItemFailures": []}
    dead = _receive(aws, aws["dlq"])
    assert [m["Body"] for m in dead] == ["not json {"]
    assert dead[0]["MessageAttributes"]["error_code"]["StringValue"] == "INVALID_REQUEST"


def test_a_lost_race_is_not_an_error(aws, monkeypatch):
    _, job = _post(aws)
    rid = job["report_id"]
    real_render = report_jobs.render

    def render_while_the_dlq_handler_fails_the_job(req, exports=None):
        aws["ports"].jobs.update(rid, {"status": "failed", "error_code": "DEAD_LETTERED", "error": "moved"},
                                 when={"status": ("running",)})
        return real_render(req, exports)

    monkeypatch.setattr(report_jobs, "render", render_while_the_dlq_handler_fails_the_job)
    result, _ = _deliver(aws)
    assert result == {"batchItemFailures": []}  # the success write lost its condition: acknowledged, no error
    state = _state(aws, rid)
    assert state["status"] == "failed" and state["error_code"] == "DEAD_LETTERED"


def test_a_redriven_message_reruns_a_job_that_failed_for_a_transient_reason(aws):
    _, job = _post(aws)
    rid = job["report_id"]
    for _ in range(3):
        aws["faults"].next("PutObject", "SlowDown")
        _deliver(aws)
    assert _state(aws, rid)["error_code"] == "STORAGE_FAILED"
    assert _receive(aws) == []  # on the DLQ now
    moved = _receive(aws, aws["dlq"])
    for m in moved:  # what a DLQ redrive (StartMessageMoveTask) does
        aws["sqs"].send_message(QueueUrl=aws["url"], MessageBody=m["Body"])
        aws["sqs"].delete_message(QueueUrl=aws["dlq"], ReceiptHandle=m["ReceiptHandle"])
    result, _ = _deliver(aws)
    assert result == {"batchItemFailures": []}
    state = _state(aws, rid)
    assert state["status"] == "succeeded" and state["error"] is None and state["error_code"] is None


def test_every_failure_message_is_the_codes_safe_text():
    from costplan_contracts.enums import JobErrorCode

    for code in JobErrorCode:
        msg = report_jobs.safe_message(code, "bucket arn:aws:s3:::acct-123456789012-x in 123456789012")
        assert "arn:" not in msg and "123456789012" not in msg and msg.startswith(report_jobs.SAFE_MESSAGES[code])


def test_the_dlq_handler_finds_the_job_a_dropped_request_became(aws):
    body = {**json.loads(load_event("report_generate_async")["body"]), "title": "Dropped and dead-lettered"}
    aws["s3"].put_object(Bucket=BUCKET, Key="requests/finance-q4.json", Body=json.dumps(body).encode())
    event = load_event("report_worker_s3")
    aws["faults"].next("PutObject", None, "SlowDown")  # jobs/<id>/request.json is stored, the first file is not
    assert worker.handler(event, aws["ctx"])["batchItemFailures"]  # attempt 1 failed: the job is queued again
    items = aws["ddb"].scan(TableName="jobs")["Items"]
    assert [i["status"]["S"] for i in items] == ["queued"]
    aws["sqs"].send_message(QueueUrl=aws["dlq"], MessageBody=event["Records"][0]["body"])  # as the redrive policy would
    assert dlq_handler.handler(load_event("report_dlq"), aws["ctx"]) == {"messages": 1, "failed": 1}
    state = _state(aws, items[0]["report_id"]["S"])
    _assert_safe(state)
    assert state["error_code"] == "DEAD_LETTERED"
