"""POST /api/v1/uploads through its Lambda handler: the presigned PUT is pinned to the file's type and exact size,
lives UPLOAD_URL_EXPIRY_SECONDS, and lands in the purpose's upload folder; bad input is a 422 naming the field; with
no bucket (make run) a 409 UPLOADS_NOT_CONFIGURED, never a 500. Presigning is offline: no AWS call is made."""

import datetime as dt
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.credentials import Credentials
from botocore.stub import Stubber
from conftest import load_event
from s3_presign import EXPIRED, SIGNATURE_DOES_NOT_MATCH, s3_verdict

from costplan.adapters import backends
from costplan.adapters.storage import S3UploadSigner
from costplan_contracts.bounds import UPLOAD_INVOICE_MAX_BYTES, UPLOAD_REQUEST_MAX_BYTES, UPLOAD_URL_EXPIRY_SECONDS
from tools.template import load_function_module

uploads = load_function_module("functions/uploads")
BUCKET = "costplan-reports-123456789012-us-east-1"
CREDS = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
CSV = {"purpose": "invoice", "content_type": "text/csv", "filename": "focus-00001.csv", "size_bytes": 4193}


@pytest.fixture
def aws(monkeypatch):
    """AWS mode with a bucket and static credentials (no session token): presigning needs nothing else."""
    for k, v in {**CREDS, "COSTPLAN_STORAGE": "aws", "REPORT_BUCKET": BUCKET, "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    backends.upload_signer.cache_clear()
    yield
    backends.upload_signer.cache_clear()


@pytest.fixture
def local(monkeypatch):
    monkeypatch.setenv("COSTPLAN_STORAGE", "local")
    backends.upload_signer.cache_clear()
    yield
    backends.upload_signer.cache_clear()


def post(body: dict, ctx) -> tuple[int, dict]:
    event = load_event("uploads")
    event["body"] = json.dumps(body)
    r = uploads.handler(event, ctx)
    return r["statusCode"], json.loads(r["body"])


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_the_event_file_gets_a_presigned_put_into_the_invoice_upload_folder(aws, lambda_context):
    r = uploads.handler(load_event("uploads"), lambda_context)
    body = json.loads(r["body"])
    assert r["statusCode"] == 200
    assert re.fullmatch(r"[0-9a-f]{32}", body["upload_id"])
    folder = f"invoices/uploads/{body['upload_id']}/"
    assert body["key"] == folder + "focus-00001.csv" and body["s3_uri"] == f"s3://{BUCKET}/{body['key']}"
    assert body["s3_prefix"] == f"s3://{BUCKET}/{folder}"
    assert body["method"] == "PUT" and body["headers"] == {"Content-Type": "text/csv", "Content-Length": "4193"}
    assert urlsplit(body["url"]).path == f"/{body['key']}" or urlsplit(body["url"]).path == f"/{BUCKET}/{body['key']}"
    assert body["max_bytes"] == UPLOAD_INVOICE_MAX_BYTES and body["warnings"] == []


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-2"])
def test_the_url_names_the_buckets_regional_endpoint(aws, lambda_context, monkeypatch, region):
    """Not the global endpoint, which redirects (307) a new bucket's PUTs outside us-east-1 for up to a day."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    monkeypatch.setenv("AWS_REGION", region)
    _, body = post(CSV, lambda_context)
    host = urlsplit(body["url"]).netloc
    assert host in {f"{BUCKET}.s3.{region}.amazonaws.com"} | ({f"{BUCKET}.s3.amazonaws.com"}
                                                              if region == "us-east-1" else set())
    assert query(body["url"])["X-Amz-Credential"].split("/")[2] == region


def test_the_url_signs_the_content_type_and_length_and_expires_in_minutes(aws, lambda_context):
    _, body = post(CSV, lambda_context)
    q = query(body["url"])
    assert q["X-Amz-SignedHeaders"].split(";") == ["content-length", "content-type", "host"]
    assert int(q["X-Amz-Expires"]) == body["expires_in_s"] == UPLOAD_URL_EXPIRY_SECONDS == 900
    signed_at = dt.datetime.strptime(q["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    assert dt.datetime.fromisoformat(body["expires_at"]) == signed_at + dt.timedelta(seconds=900)


def test_s3_accepts_the_file_as_described_and_refuses_another_type_size_or_a_late_put(aws, lambda_context):
    _, body = post(CSV, lambda_context)
    creds = Credentials(CREDS["AWS_ACCESS_KEY_ID"], CREDS["AWS_SECRET_ACCESS_KEY"])
    at = dt.datetime.fromisoformat(body["expires_at"]) - dt.timedelta(seconds=1)
    data = b"x" * 4193
    assert s3_verdict(body["url"], "PUT", body["headers"], data, creds, at) is None
    wrong_type = {**body["headers"], "Content-Type": "application/json"}
    assert s3_verdict(body["url"], "PUT", wrong_type, data, creds, at) == SIGNATURE_DOES_NOT_MATCH
    assert s3_verdict(body["url"], "PUT", body["headers"], data + b"x", creds, at) == SIGNATURE_DOES_NOT_MATCH
    assert s3_verdict(body["url"], "PUT", {}, data, creds, at) == SIGNATURE_DOES_NOT_MATCH  # no Content-Type
    assert s3_verdict(body["url"], "PUT", body["headers"], data, creds, at + dt.timedelta(seconds=2)) == EXPIRED


def test_more_files_of_one_export_share_its_folder(aws, lambda_context):
    _, first = post(CSV, lambda_context)
    _, second = post({**CSV, "filename": "focus-00002.csv", "upload_id": first["upload_id"]}, lambda_context)
    assert second["upload_id"] == first["upload_id"] and second["s3_prefix"] == first["s3_prefix"]
    assert second["key"] == f"invoices/uploads/{first['upload_id']}/focus-00002.csv"
    _, other = post(CSV, lambda_context)
    assert other["upload_id"] != first["upload_id"]  # a new upload never shares a folder


@pytest.mark.parametrize(("content_type", "filename"), [
    ("application/gzip", "focus-00001.csv.gz"), ("application/vnd.apache.parquet", "focus-00001.snappy.parquet"),
    ("application/octet-stream", "part-0.parquet"), ("text/csv", "FOCUS.CSV")])
def test_every_export_file_format_the_worker_reads_can_be_uploaded(aws, lambda_context, content_type, filename):
    code, body = post({**CSV, "content_type": content_type, "filename": filename}, lambda_context)
    assert code == 200 and body["headers"]["Content-Type"] == content_type and body["key"].endswith("/" + filename)


def test_a_report_request_goes_to_the_requests_upload_folder(aws, lambda_context):
    code, body = post({"purpose": "request", "content_type": "application/json", "filename": "report.json",
                       "size_bytes": 300_000}, lambda_context)
    assert code == 200 and body["key"] == f"requests/uploads/{body['upload_id']}/report.json"
    assert body["max_bytes"] == UPLOAD_REQUEST_MAX_BYTES


BAD = [
    ({"filename": "../focus.csv"}, "filename"),
    ({"filename": "exports/focus.csv"}, "filename"),
    ({"filename": ".focus.csv"}, "filename"),
    ({"filename": "focus .csv"}, "filename"),
    ({"filename": "a" * 197 + ".csv"}, "filename"),
    ({"filename": "focus.parquet"}, "filename"),  # text/csv must be named .csv
    ({"content_type": "application/json", "filename": "focus-Manifest.json"}, "content_type"),
    ({"content_type": "image/png"}, "content_type"),
    ({"size_bytes": 0}, "size_bytes"),
    ({"size_bytes": UPLOAD_INVOICE_MAX_BYTES + 1}, "size_bytes"),
    ({"size_bytes": "4193"}, "size_bytes"),
    ({"upload_id": "../../reports"}, "upload_id"),
    ({"upload_id": "ABCDEF0123456789ABCDEF0123456789"}, "upload_id"),
    ({"purpose": "reports"}, "purpose"),
    ({"purpose": "request", "content_type": "application/json", "filename": "r.json",
      "size_bytes": UPLOAD_REQUEST_MAX_BYTES + 1}, "size_bytes"),
    ({"purpose": "request"}, "content_type"),  # a request is JSON
    ({"bucket": "elsewhere"}, "bucket"),
]


@pytest.mark.parametrize(("change", "field"), BAD, ids=[f"{f}-{i}" for i, (_, f) in enumerate(BAD)])
def test_bad_input_is_a_422_naming_the_field(aws, lambda_context, change, field):
    code, body = post({**CSV, **change}, lambda_context)
    assert code == 422 and body["error"]["code"] == "VALIDATION_ERROR"
    assert [d["field"] for d in body["error"]["details"]] == [field], body


def test_without_a_bucket_the_answer_is_a_409_that_says_to_send_the_body(local, lambda_context):
    code, body = post(CSV, lambda_context)
    assert code == 409 and body["error"]["code"] == "UPLOADS_NOT_CONFIGURED"
    assert body["correlation_id"] == "req-uploads-0001"
    (detail,) = body["error"]["details"]
    assert detail["field"] == "purpose" and "invoice/analyze body" in detail["reason"]
    code, body = post({"purpose": "request", "content_type": "application/json", "filename": "r.json",
                       "size_bytes": 10}, lambda_context)
    assert code == 409 and "report/generate" in body["error"]["details"][0]["reason"]


def test_bad_input_is_still_a_422_without_a_bucket(local, lambda_context):
    code, body = post({**CSV, "filename": "a/b.csv"}, lambda_context)
    assert code == 422 and body["error"]["details"][0]["field"] == "filename"


def test_presigning_calls_no_aws_api(aws):
    signer = backends.upload_signer()
    with Stubber(signer.client):  # no response queued: any API call would raise
        put = signer.presign_put("invoices/uploads/0123456789abcdef0123456789abcdef/a.csv", "text/csv", 10, 900)
    assert put.headers == {"Content-Type": "text/csv", "Content-Length": "10"}


def test_a_signer_that_would_not_sign_the_size_is_refused_loudly(aws, monkeypatch):
    signer = backends.upload_signer()
    assert isinstance(signer, S3UploadSigner)
    url = ("https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261128T000000Z"
           "&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=00")
    monkeypatch.setattr(signer.client, "generate_presigned_url", lambda *a, **k: url)
    with pytest.raises(RuntimeError, match="content-length"):
        signer.presign_put("invoices/uploads/x/a.csv", "text/csv", 10, 900)
