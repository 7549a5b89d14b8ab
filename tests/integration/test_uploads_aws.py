"""The presigned upload flow under moto, end to end: POST /api/v1/uploads -> an HTTP PUT of a real FOCUS file to the
presigned URL (a moto server; the bucket's drop notifications from template.yaml on) -> invoice/analyze with
source.s3_prefix -> the report worker -> one succeeded report. Each upload ends in exactly one job: the drop events
of the uploaded files start none, the analyze call starts the one. A report request uploaded under requests/
starts its own job when it lands.

moto does not check SigV4 query signatures, so every PUT is first put to s3_presign.s3_verdict (the expiry and
signature check S3 makes); the refusals of another type, another size or a late PUT are asserted there."""

import datetime as dt
import json
import os
import urllib.request
from pathlib import Path
from urllib.parse import unquote_plus

import pytest
from botocore.credentials import Credentials
from conftest import load_event
from invoice_data import FOCUS_LINES, focus_csv
from report_aws import BUCKET, RES, moto_reports, sqs_records
from s3_presign import EXPIRED, SIGNATURE_DOES_NOT_MATCH, s3_verdict

from costplan.adapters import backends
from costplan.services.reports.dispatch import report_id
from costplan_contracts.report import ReportRequest
from tools.template import load_function_module

pytestmark = pytest.mark.integration
uploads = load_function_module("functions/uploads")
analyze_fn = load_function_module("functions/invoice_analyze")
worker = load_function_module("functions/report_worker")
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample_focus_1_2.csv"  # a real FOCUS 1.2 file


@pytest.fixture
def aws(monkeypatch, lambda_context):
    with moto_reports(monkeypatch, lambda_context) as env:
        notifications_from_template(env)
        # The presigned URLs point at the moto server, which serves the same in-memory bucket over HTTP.
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", os.environ["COSTPLAN_ARROW_S3_ENDPOINT"])
        backends.upload_signer.cache_clear()
        yield env
        backends.upload_signer.cache_clear()


def notifications_from_template(env) -> None:
    """The report bucket's drop notifications (ReportBucket NotificationConfiguration) on the moto bucket."""
    arn = env["sqs"].get_queue_attributes(QueueUrl=env["url"], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    configs = RES["ReportBucket"]["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    env["s3"].put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={"QueueConfigurations": [
        {"QueueArn": arn, "Events": [c["Event"]],
         "Filter": {"Key": {"FilterRules": [{"Name": r["Name"], "Value": r["Value"]} for r in c["Filter"]["S3Key"]["Rules"]]}}}
        for c in configs]})


def _credentials() -> Credentials:
    """The signer's credentials: the environment's, as mock_aws set them (the secret S3 would check against)."""
    env = os.environ
    return Credentials(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env.get("AWS_SESSION_TOKEN"))


def _post(handler, event_name: str, body: dict, ctx) -> tuple[int, dict]:
    event = load_event(event_name)
    event["body"] = json.dumps(body)
    r = handler(event, ctx)
    return r["statusCode"], json.loads(r["body"])


def _ask(aws, filename: str, data: bytes, content_type: str = "text/csv", purpose: str = "invoice",
         upload_id: str | None = None) -> dict:
    body = {"purpose": purpose, "content_type": content_type, "filename": filename, "size_bytes": len(data)}
    code, ticket = _post(uploads.handler, "uploads", body | ({"upload_id": upload_id} if upload_id else {}), aws["ctx"])
    assert code == 200, ticket
    return ticket


def _put(ticket: dict, data: bytes) -> int:
    """The client's PUT: first as S3 would judge it, then to the moto server."""
    assert s3_verdict(ticket["url"], ticket["method"], ticket["headers"], data, _credentials(),
                      dt.datetime.now(dt.UTC)) is None
    req = urllib.request.Request(ticket["url"], data=data, method=ticket["method"], headers=ticket["headers"])
    with urllib.request.urlopen(req, timeout=30) as r:  # noqa: S310 - the moto server on loopback
        return r.status


def _deliver_all(aws) -> list[dict]:
    """Everything on the queue (drop events and job messages) through the worker, until it is empty."""
    results = []
    while got := aws["sqs"].receive_message(QueueUrl=aws["url"], MaxNumberOfMessages=10,
                                            AttributeNames=["ApproximateReceiveCount"]).get("Messages", []):
        results.append(worker.handler({"Records": sqs_records(got, load_event("report_worker")["Records"][0])},
                                      aws["ctx"]))
        aws["sqs"].delete_message_batch(QueueUrl=aws["url"], Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
    return results


def _jobs(aws) -> list[dict]:
    items = aws["ddb"].scan(TableName="jobs")["Items"]
    return [{k: next(iter(v.values())) for k, v in item.items()} for item in items]


def _report(aws, rid: str) -> dict:
    return json.loads(aws["s3"].get_object(Bucket=BUCKET, Key=f"reports/{rid}/report.json")["Body"].read())


def _queued_drop_keys(aws) -> list[str]:
    got = aws["sqs"].receive_message(QueueUrl=aws["url"], MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [unquote_plus(r["s3"]["object"]["key"])  # S3 notifications URL-encode keys
            for m in got.get("Messages", []) for r in json.loads(m["Body"]).get("Records", [])]


def test_an_uploaded_focus_file_becomes_exactly_one_succeeded_report(aws):
    data = SAMPLE.read_bytes()
    ticket = _ask(aws, "focus-october.csv", data)
    assert _put(ticket, data) == 200
    stored = aws["s3"].get_object(Bucket=BUCKET, Key=ticket["key"])
    assert stored["Body"].read() == data and stored["ContentType"] == "text/csv"
    assert _queued_drop_keys(aws) == [ticket["key"]]  # the bucket's drop notification did fire for the file
    code, job = _post(analyze_fn.handler, "invoice_analyze_source", {"source": {"s3_prefix": ticket["s3_prefix"]}},
                      aws["ctx"])
    assert code == 202 and job["status"] == "queued"
    assert all(r == {"batchItemFailures": []} for r in _deliver_all(aws))
    (only,) = _jobs(aws)  # the drop event started no job; the analyze call started the one
    assert only["report_id"] == job["report_id"] and only["status"] == "succeeded", only.get("error")
    doc = _report(aws, job["report_id"])
    assert doc["title"] == f"Invoice analysis: {ticket['s3_prefix']}"
    assert "Credits, refunds and adjustments, kept apart: -$520.00." in doc["summary"]


def test_the_files_of_an_export_folder_share_one_prefix_and_one_analysis(aws):
    halves = [focus_csv("1.2", lines=FOCUS_LINES[:5]).encode(), focus_csv("1.2", lines=FOCUS_LINES[5:]).encode()]
    first = _ask(aws, "focus-00001.csv", halves[0])
    second = _ask(aws, "focus-00002.csv", halves[1], upload_id=first["upload_id"])
    assert second["s3_prefix"] == first["s3_prefix"]
    assert [_put(t, d) for t, d in zip([first, second], halves, strict=True)] == [200, 200]
    code, job = _post(analyze_fn.handler, "invoice_analyze_source", {"source": {"s3_prefix": first["s3_prefix"]}},
                      aws["ctx"])
    assert code == 202
    assert all(r == {"batchItemFailures": []} for r in _deliver_all(aws))
    assert [(j["report_id"], j["status"]) for j in _jobs(aws)] == [(job["report_id"], "succeeded")]
    whole = _report(aws, job["report_id"])
    assert "Credits, refunds and adjustments, kept apart: -$520.00." in whole["summary"]  # both halves were read


def test_an_uploaded_report_request_starts_its_job_when_it_lands(aws):
    req = {"source": {"kind": "invoice_analyze", "request": {"invoice": {"format": "focus",
                                                                         "csv": SAMPLE.read_text()}}},
           "formats": ["json", "markdown"], "mode": "async", "title": "October invoice"}
    data = json.dumps(req).encode()
    ticket = _ask(aws, "october-report.json", data, content_type="application/json", purpose="request")
    assert ticket["key"].startswith("requests/uploads/")
    assert _put(ticket, data) == 200
    assert all(r == {"batchItemFailures": []} for r in _deliver_all(aws))
    (only,) = _jobs(aws)
    assert only["report_id"] == report_id(ReportRequest.model_validate(req))  # what report/generate would give
    assert only["status"] == "succeeded", only.get("error")


def test_s3_refuses_another_type_another_size_or_a_late_put(aws):
    data = SAMPLE.read_bytes()
    ticket = _ask(aws, "focus.csv", data)
    now = dt.datetime.now(dt.UTC)
    assert s3_verdict(ticket["url"], "PUT", ticket["headers"], data, _credentials(), now) is None
    as_json = {**ticket["headers"], "Content-Type": "application/json"}
    assert s3_verdict(ticket["url"], "PUT", as_json, data, _credentials(), now) == SIGNATURE_DOES_NOT_MATCH
    assert s3_verdict(ticket["url"], "PUT", ticket["headers"], data + b"\n", _credentials(), now) == SIGNATURE_DOES_NOT_MATCH
    late = dt.datetime.fromisoformat(ticket["expires_at"]) + dt.timedelta(seconds=1)
    assert s3_verdict(ticket["url"], "PUT", ticket["headers"], data, _credentials(), late) == EXPIRED
    assert s3_verdict(ticket["url"], "GET", {}, b"", _credentials(), now) == SIGNATURE_DOES_NOT_MATCH  # a PUT only
