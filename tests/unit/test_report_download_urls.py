"""Report download URLs (GET /report/{id} in AWS mode) name the bucket's regional endpoint, as upload URLs do: the
global endpoint answers a new bucket outside us-east-1 with a 307 redirect for up to a day. Presigning is offline."""

from urllib.parse import parse_qs, urlsplit

import pytest

from costplan.adapters import backends

BUCKET = "costplan-reports-123456789012-eu-west-1"


@pytest.fixture
def aws(monkeypatch):
    env = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
           "COSTPLAN_STORAGE": "aws", "REPORT_BUCKET": BUCKET, "JOBS_TABLE": "jobs",
           "REPORT_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/q"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    for k in ("AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "REPORT_DLQ_URL"):
        monkeypatch.delenv(k, raising=False)
    backends.ports.cache_clear()
    yield monkeypatch
    backends.ports.cache_clear()


@pytest.mark.parametrize("region", ["eu-west-1", "ap-southeast-2"])
def test_a_report_download_url_names_the_buckets_regional_endpoint(aws, region):
    aws.setenv("AWS_DEFAULT_REGION", region)
    aws.setenv("AWS_REGION", region)
    url = backends.ports().store.url("reports/0123456789abcdef0123456789abcdef/report.csv")
    parts = urlsplit(url)
    assert parts.netloc == f"{BUCKET}.s3.{region}.amazonaws.com"
    assert parse_qs(parts.query)["X-Amz-Credential"][0].split("/")[2] == region
