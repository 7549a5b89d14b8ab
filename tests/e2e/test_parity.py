"""Local parity: every API Gateway HTTP event in events/ gives the same body through the local server (`make run`'s
app, in-process over ASGI) as through its Lambda handler (Mangum), byte for byte once volatile ids are masked."""

import base64
import json
import re

import pytest
from fastapi.testclient import TestClient
from invoice_data import five_mb_focus_csv

from costplan.adapters import backends
from tools.local_api import build_app
from tools.template import ROOT, http_routes, load_function_module, load_template

ROUTES = {f"{r.method} {r.path}": r for r in http_routes(load_template())}
HTTP_EVENTS = sorted(p.name for p in (ROOT / "events").glob("*.json")
                     if json.loads(p.read_text()).get("routeKey") in ROUTES)
# Ids and clocks that differ per call by design: the correlation id (the API Gateway request id in Lambda, a fresh
# uuid locally) and job timestamps. Everything else must match byte for byte.
VOLATILE = re.compile(rb'"(correlation_id|request_id|created_at|updated_at)":"[^"]*"')
# An accepted async job moves on by itself (the in-process worker): queued, running or done when answered.
JOB_STATE = ("status", "progress", "attempts", "files", "error", "error_code", "created_at", "updated_at")


def masked(body: bytes, async_job: bool = False) -> bytes:
    if async_job:  # the job's identity, links and warnings must match; its state is a moving target
        job = json.loads(body)
        return json.dumps({k: v for k, v in job.items() if k not in JOB_STATE}, sort_keys=True).encode()
    return VOLATILE.sub(rb'"\1":"*"', body)


def test_every_route_has_an_http_event_to_compare():
    assert {json.loads((ROOT / "events" / n).read_text())["routeKey"] for n in HTTP_EVENTS} == set(ROUTES)


@pytest.fixture
def fresh_backends(tmp_path, monkeypatch):
    """Each side gets its own empty local job store, so an async report is new to both."""
    def use(name: str) -> None:
        monkeypatch.setenv("COSTPLAN_STORAGE", "local")
        monkeypatch.setenv("COSTPLAN_LOCAL_DIR", str(tmp_path / name))
        backends.ports.cache_clear()

    yield use
    backends.ports.cache_clear()


@pytest.mark.parametrize("name", HTTP_EVENTS)
def test_the_local_server_answers_each_event_as_lambda_does(name, lambda_context, fresh_backends):
    event = json.loads((ROOT / "events" / name).read_text())
    route = ROUTES[event["routeKey"]]

    fresh_backends("lambda")
    response = load_function_module(route.code_uri).handler(event, lambda_context)
    lambda_body = response["body"].encode()
    if response.get("isBase64Encoded"):
        lambda_body = base64.b64decode(response["body"])

    fresh_backends("local")
    body = event.get("body") or b""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body)
    query = f"?{event['rawQueryString']}" if event.get("rawQueryString") else ""
    with TestClient(build_app(), raise_server_exceptions=False) as client:
        local = client.request(event["requestContext"]["http"]["method"], event["rawPath"] + query, content=body,
                               headers={k: v for k, v in event.get("headers", {}).items() if k != "host"})

    assert local.status_code == response["statusCode"], (local.text, lambda_body)
    async_job = response["statusCode"] == 202
    assert masked(local.content, async_job) == masked(lambda_body, async_job)
    assert local.headers["content-type"] == response["headers"]["content-type"]


def test_a_5_mb_csv_invoice_gets_the_same_answer_locally_and_in_lambda(lambda_context, fresh_backends):
    csv_text = five_mb_focus_csv()
    assert len(csv_text.encode()) > 5 * 1024 * 1024
    event = json.loads((ROOT / "events" / "invoice_analyze.json").read_text())
    event["headers"]["content-type"] = "text/csv"
    event["body"] = csv_text
    response = load_function_module("functions/invoice_analyze").handler(event, lambda_context)
    with TestClient(build_app(), raise_server_exceptions=False) as client:
        local = client.post("/api/v1/invoice/analyze", content=csv_text, headers={"content-type": "text/csv"})
    assert local.status_code == response["statusCode"] == 200, local.text[:300]
    assert local.json()["reconciliation"]["input_rows"] > 10_000
    assert masked(local.content) == masked(response["body"].encode())
