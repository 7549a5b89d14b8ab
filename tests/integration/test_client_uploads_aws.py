"""The client's upload flow under moto, ending in a report: costplan_client uploads an export folder through
POST /api/v1/uploads (the function apps in-process, AWS backends in moto), PUTs each file over HTTP to its presigned
URL (a moto server on loopback), starts one invoice analysis with source.s3_prefix, waits on the job while the
report worker drains the queue, and downloads the report from its presigned S3 URL."""

import json
import os

import httpx
import pytest
from conftest import load_event
from invoice_data import FOCUS_LINES, focus_csv
from report_aws import BUCKET, RES, moto_reports, sqs_records

from costplan.adapters import backends
from costplan_client import CostPlanClient, Job
from costplan_client.transport import LocalTransport
from tools.template import ROOT, load_function_module

pytestmark = pytest.mark.integration
API = "https://abc123.execute-api.us-east-1.amazonaws.com/"


@pytest.fixture
def aws(monkeypatch, lambda_context):
    with moto_reports(monkeypatch, lambda_context) as env:
        arn = env["sqs"].get_queue_attributes(QueueUrl=env["url"], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        configs = RES["ReportBucket"]["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
        env["s3"].put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={"QueueConfigurations": [
            {"QueueArn": arn, "Events": [c["Event"]], "Filter": {"Key": {"FilterRules": [
                {"Name": r["Name"], "Value": r["Value"]} for r in c["Filter"]["S3Key"]["Rules"]]}}} for c in configs]})
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", os.environ["COSTPLAN_ARROW_S3_ENDPOINT"])  # presign for the server
        backends.upload_signer.cache_clear()
        yield env
        backends.upload_signer.cache_clear()


def deliver_all(aws) -> None:
    """The report worker over everything on the queue (the drop events of the uploads and the job message)."""
    worker = load_function_module("functions/report_worker")
    while got := aws["sqs"].receive_message(QueueUrl=aws["url"], MaxNumberOfMessages=10,
                                            AttributeNames=["ApproximateReceiveCount"]).get("Messages", []):
        out = worker.handler({"Records": sqs_records(got, load_event("report_worker")["Records"][0])}, aws["ctx"])
        assert out == {"batchItemFailures": []}
        aws["sqs"].delete_message_batch(QueueUrl=aws["url"], Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])


def test_an_export_folder_uploaded_by_the_client_ends_in_one_report(aws, tmp_path):
    export = tmp_path / "export" / "BILLING_PERIOD=2026-10"
    export.mkdir(parents=True)
    (export / "part-0.csv").write_text(focus_csv("1.2", lines=FOCUS_LINES[:5]))
    (export / "part-1.csv").write_text(focus_csv("1.2", lines=FOCUS_LINES[5:]))
    client = CostPlanClient(API, auth="none", transport=LocalTransport(ROOT),
                            presigned_transport=httpx.HTTPTransport(), sleep=lambda _s: deliver_all(aws))
    sent: list[tuple[int, int]] = []
    job = client.analyze_export(tmp_path / "export", upload_progress=lambda s, t: sent.append((s, t)))
    assert isinstance(job, Job) and job.job.status.value == "queued"
    listed = aws["s3"].list_objects_v2(Bucket=BUCKET, Prefix="invoices/uploads/")["Contents"]
    keys = sorted(o["Key"].rsplit("/", 1)[1] for o in listed)
    assert keys == ["BILLING_PERIOD=2026-10-part-0.csv", "BILLING_PERIOD=2026-10-part-1.csv"]
    assert sent[-1] == (sum(p.stat().st_size for p in export.iterdir()),) * 2
    seen: list[float] = []
    final = job.wait(progress_callback=seen.append, poll_s=0.01)
    assert final.status.value == "succeeded" and seen[-1] == 1.0
    jobs = aws["ddb"].scan(TableName="jobs")["Items"]
    assert len(jobs) == 1  # the drops under invoices/uploads/ started none; the analyze call the one
    doc = json.loads(job.files(["json"])["json"])  # from the presigned S3 URL, sha256 checked
    assert doc["kind"] == "invoice_analyze" and "invoices/uploads/" in doc["title"]
