"""SigV4 for --auth iam: the signature on the wire is the one AWS documents for a fixed request, keys and date."""

import datetime as dt
import hashlib
import hmac

import httpx
import pytest
from botocore.credentials import Credentials

from costplan_client.auth import Bearer, SigV4, region_from_url

KEY, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"  # the AWS documentation's example keys
WHEN = dt.datetime(2015, 8, 30, 12, 36, 0, tzinfo=dt.UTC)


@pytest.fixture
def fixed_clock(monkeypatch):
    import botocore.auth

    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: WHEN)


def signed(request: httpx.Request, auth: httpx.Auth) -> httpx.Request:
    flow = auth.sync_auth_flow(request)
    return next(flow)


def test_the_aws_documented_example_signature(fixed_clock):
    """AWS General Reference, 'Signature Version 4 signing process' worked example (IAM ListUsers, 2015-08-30):
    signature 5d672d79...b2b5d7 over content-type;host;x-amz-date."""
    request = httpx.Request("GET", "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08",
                            headers={"content-type": "application/x-www-form-urlencoded; charset=utf-8"})
    out = signed(request, SigV4(Credentials(KEY, SECRET), "us-east-1", service="iam"))
    assert out.headers["x-amz-date"] == "20150830T123600Z"
    assert out.headers["authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date, "
        "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def independent_signature(method, host, path, query, headers: dict, body: bytes, region, service, secret, when):
    """SigV4 written out from the specification, without botocore: the oracle for an execute-api POST."""
    amz_date, day = when.strftime("%Y%m%dT%H%M%SZ"), when.strftime("%Y%m%d")
    canon_headers = dict(sorted({**{k.lower(): v.strip() for k, v in headers.items()}, "host": host,
                                 "x-amz-date": amz_date}.items()))
    signed_headers = ";".join(canon_headers)
    canonical = "\n".join([method, path, query, "".join(f"{k}:{v}\n" for k, v in canon_headers.items()),
                           signed_headers, hashlib.sha256(body).hexdigest()])
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(("AWS4" + secret).encode(), day), region), service), "aws4_request")
    return signed_headers, hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def test_an_execute_api_post_matches_the_specification(fixed_clock):
    body = b'{"workload":{"input_tokens_per_month":3000000000.0,"output_tokens_per_month":1000000000.0}}'
    url = "https://abc123.execute-api.eu-west-1.amazonaws.com/api/v1/plan/llm"
    request = httpx.Request("POST", url, content=body, headers={"content-type": "application/json",
                                                                "user-agent": "costplan-test"})
    out = signed(request, SigV4(Credentials(KEY, SECRET), "eu-west-1"))
    headers, signature = independent_signature("POST", "abc123.execute-api.eu-west-1.amazonaws.com",
                                               "/api/v1/plan/llm", "", {"content-type": "application/json"}, body,
                                               "eu-west-1", "execute-api", SECRET, WHEN)
    assert headers == "content-type;host;x-amz-date"  # user-agent and the like are not signed
    assert out.headers["authorization"] == (
        f"AWS4-HMAC-SHA256 Credential={KEY}/20150830/eu-west-1/execute-api/aws4_request, "
        f"SignedHeaders={headers}, Signature={signature}")
    assert out.content == body  # the body signed is the body sent


def test_temporary_credentials_send_and_sign_the_session_token(fixed_clock):
    request = httpx.Request("GET", "https://abc123.execute-api.us-east-1.amazonaws.com/api/v1/meta/bounds")
    out = signed(request, SigV4(Credentials(KEY, SECRET, token="session-token"), "us-east-1"))
    assert out.headers["x-amz-security-token"] == "session-token"
    assert "SignedHeaders=host;x-amz-date;x-amz-security-token," in out.headers["authorization"]


def test_the_region_comes_from_an_execute_api_host():
    assert region_from_url("https://abc123.execute-api.eu-west-1.amazonaws.com/") == "eu-west-1"
    assert region_from_url("https://api.example.com/") is None


def test_jwt_mode_sends_a_bearer_token():
    out = signed(httpx.Request("GET", "https://api.example.com/api/v1/meta/bounds"), Bearer("tok"))
    assert out.headers["authorization"] == "Bearer tok"
