"""Reports over real AWS APIs (boto3) against moto: API -> DynamoDB + SQS -> worker -> S3 -> status -> download.

The table and the queues are built from their definitions in template.yaml, so the tests and the
template cannot disagree.
"""

import json
from urllib.parse import parse_qs, urlparse

import pytest
from botocore.exceptions import ClientError
from conftest import load_event
from report_aws import BUCKET, moto_reports

from tools.template import load_function_module

pytestmark = pytest.mark.integration


@pytest.fixture
def aws(monkeypatch, lambda_context):
    with moto_reports(monkeypatch, lambda_context) as env:
        yield env


generate = load_function_module("functions/report_generate")
status = load_function_module("functions/report_status")
worker = load_function_module("functions/report_worker")


def _post(aws, event_name, body=None):
    event = load_event(event_name)
    if body is not None:
        event["body"] = json.dumps(body)
    r = generate.handler(event, aws["ctx"])
    return r["statusCode"], json.loads(r["body"])


def _get(aws, path, rid, fmt=None):
    event = load_event("report_status_file" if fmt else "report_status")
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["pathParameters"] = {"report_id": rid, **({"format": fmt} if fmt else {})}
    return status.handler(event, aws["ctx"])


def _deliver(aws, receive_count=None):
    """Receive from the real queue and hand the batch to the worker, as the SQS event source would."""
    got = aws["sqs"].receive_message(QueueUrl=aws["url"], MaxNumberOfMessages=10,
                                     AttributeNames=["ApproximateReceiveCount"]).get("Messages", [])
    template = load_event("report_worker")["Records"][0]
    records = [{**template, "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                "attributes": {**template["attributes"], "ApproximateReceiveCount":
                               str(receive_count or m["Attributes"]["ApproximateReceiveCount"])}} for m in got]
    return worker.handler({"Records": records}, aws["ctx"]), records


def _async_body(**over):
    body = json.loads(load_event("report_generate_async")["body"])
    return {**body, **over}


def test_async_report_end_to_end(aws):
    code, job = _post(aws, "report_generate_async")
    assert code == 202 and job["status"] == "queued"
    rid = job["report_id"]
    item = aws["ddb"].get_item(TableName="jobs", Key={"report_id": {"S": rid}})["Item"]
    assert item["status"]["S"] == "queued"

    result, records = _deliver(aws)
    assert len(records) == 1 and result == {"batchItemFailures": []}

    done = json.loads(_get(aws, f"/api/v1/report/{rid}", rid)["body"])
    assert done["status"] == "succeeded" and done["progress"] == 1.0
    assert {f["format"] for f in done["files"]} == {"json", "csv", "markdown", "html"}
    html = next(f for f in done["files"] if f["format"] == "html")
    query = parse_qs(urlparse(html["download_url"]).query)
    assert query["X-Amz-Expires"] == ["900"] and BUCKET in html["download_url"]

    redirect = _get(aws, f"/api/v1/report/{rid}/files/html", rid, "html")
    assert redirect["statusCode"] == 307 and redirect["headers"]["location"].startswith("https://")
    key = f"reports/{rid}/report.html"
    obj = aws["s3"].get_object(Bucket=BUCKET, Key=key)
    assert obj["ServerSideEncryption"] == "AES256"
    _, sync = _post(aws, "report_generate")  # the same report, inline
    assert obj["Body"].read().decode() == next(f["content"] for f in sync["files"] if f["format"] == "html")


def test_resubmitting_returns_the_same_id_and_creates_no_duplicate_job(aws):
    _, first = _post(aws, "report_generate_async")
    _, again = _post(aws, "report_generate_async")
    assert first["report_id"] == again["report_id"]
    assert aws["ddb"].scan(TableName="jobs")["Count"] == 1
    msgs = aws["sqs"].receive_message(QueueUrl=aws["url"], MaxNumberOfMessages=10).get("Messages", [])
    assert len(msgs) == 1


def test_a_poison_message_fails_its_job_and_is_moved_to_the_dlq_at_once(aws):
    bad = _async_body(source={"kind": "plan_llm", "request": {
        "workload": {"input_tokens_per_month": 1e6, "output_tokens_per_month": 1e6}, "model": "no-such-model-xyz"}})
    code, job = _post(aws, "report_generate_async", bad)
    assert code == 202
    result, records = _deliver(aws)
    assert result == {"batchItemFailures": []}  # acknowledged on the queue: it is on the DLQ instead
    failed = json.loads(_get(aws, f"/api/v1/report/{job['report_id']}", job["report_id"])["body"])
    assert failed["status"] == "failed" and failed["error_code"] == "INVALID_REQUEST"
    assert "Unknown model 'no-such-model-xyz'" in failed["error"]  # our domain message, which a 422 would carry
    dead = aws["sqs"].receive_message(QueueUrl=aws["dlq"], MessageAttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in dead] == [records[0]["body"]]
    assert dead[0]["MessageAttributes"]["report_id"]["StringValue"] == job["report_id"]
    assert dead[0]["MessageAttributes"]["error_code"]["StringValue"] == "INVALID_REQUEST"
    assert aws["sqs"].receive_message(QueueUrl=aws["url"]).get("Messages", []) == []


def test_an_s3_put_failure_retries_then_fails_the_job_with_the_reason(aws, monkeypatch):
    from costplan.adapters.storage import S3Store

    real_put = S3Store.put

    def broken(self, key, data, content_type):
        if key.startswith("reports/"):
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "injected arn:aws:s3:::secret-bucket"}},
                              "PutObject")
        return real_put(self, key, data, content_type)

    monkeypatch.setattr(S3Store, "put", broken)
    _, job = _post(aws, "report_generate_async")
    rid = job["report_id"]
    template = load_event("report_worker")
    for attempt in (1, 2, 3):
        record = {**template["Records"][0], "body": json.dumps({"report_id": rid}),
                  "attributes": {**template["Records"][0]["attributes"], "ApproximateReceiveCount": str(attempt)}}
        result = worker.handler({"Records": [record]}, aws["ctx"])
        assert result == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
        state = json.loads(_get(aws, f"/api/v1/report/{rid}", rid)["body"])
        if attempt < 3:
            assert state["status"] == "queued" and f"attempt {attempt} of 3; retrying" in state["error"]
    assert state["status"] == "failed" and state["error_code"] == "STORAGE_FAILED" and state["attempts"] == 3
    assert "SlowDown" not in state["error"] and "arn:" not in state["error"]  # a safe message, no exception text


def test_a_request_dropped_under_requests_starts_the_same_job(aws):
    body = _async_body()
    aws["s3"].put_object(Bucket=BUCKET, Key="requests/finance-q4.json", Body=json.dumps(body).encode())
    event = load_event("report_worker_s3")
    assert worker.handler(event, aws["ctx"]) == {"batchItemFailures": []}
    _, job = _post(aws, "report_generate_async")  # the API finds the job the event created
    assert job["status"] == "succeeded"
    keys = {o["Key"] for o in aws["s3"].list_objects_v2(Bucket=BUCKET, Prefix="reports/")["Contents"]}
    assert keys == {f"reports/{job['report_id']}/report.{e}" for e in ("json", "csv", "md", "html")}


def test_unknown_report_is_a_404(aws):
    r = _get(aws, "/api/v1/report/ffffffffffffffffffffffffffffffff", "ffffffffffffffffffffffffffffffff")
    assert r["statusCode"] == 404 and json.loads(r["body"])["error"]["code"] == "NOT_FOUND"


def test_an_invoice_dropped_under_invoices_is_analysed_into_a_report(aws):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from invoice_data import focus_csv

    aws["s3"].put_object(Bucket=BUCKET, Key="invoices/october.csv", Body=focus_csv("1.2").encode())
    event = load_event("report_worker_s3")
    body = json.loads(event["Records"][0]["body"])
    body["Records"][0]["s3"]["object"]["key"] = "invoices/october.csv"
    event["Records"][0]["body"] = json.dumps(body)
    assert worker.handler(event, aws["ctx"]) == {"batchItemFailures": []}
    keys = [o["Key"] for o in aws["s3"].list_objects_v2(Bucket=BUCKET, Prefix="reports/")["Contents"]]
    md = aws["s3"].get_object(Bucket=BUCKET, Key=next(k for k in keys if k.endswith(".md")))["Body"].read().decode()
    assert "# Invoice analysis: invoices/october.csv" in md and "opportunities" in md


def test_a_rendering_fault_leaves_the_job_retrying_then_failed(aws, monkeypatch):
    import costplan.services.reports.jobs as report

    _, job = _post(aws, "report_generate_async")
    rid = job["report_id"]

    def explode(req, exports=None):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(report, "render", explode)
    template = load_event("report_worker")["Records"][0]
    for attempt in (1, 2, 3):
        record = {**template, "body": json.dumps({"report_id": rid}),
                  "attributes": {**template["attributes"], "ApproximateReceiveCount": str(attempt)}}
        assert worker.handler({"Records": [record]}, aws["ctx"])["batchItemFailures"]
    state = json.loads(_get(aws, f"/api/v1/report/{rid}", rid)["body"])
    assert state["status"] == "failed" and state["error_code"] == "RENDER_FAILED"
    assert "renderer crashed" not in state["error"] and "RuntimeError" not in state["error"]


def test_s3_keys_arrive_url_encoded_and_are_decoded(aws):
    body = _async_body(title="From S3 with spaces")
    aws["s3"].put_object(Bucket=BUCKET, Key="requests/Q4 finance.json", Body=json.dumps(body).encode())
    event = load_event("report_worker_s3")
    note = json.loads(event["Records"][0]["body"])
    note["Records"][0]["s3"]["object"]["key"] = "requests/Q4+finance.json"
    event["Records"][0]["body"] = json.dumps(note)
    assert worker.handler(event, aws["ctx"]) == {"batchItemFailures": []}
