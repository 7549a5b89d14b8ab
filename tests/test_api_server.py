"""End to end: a real HTTP client against the server `make run` starts (tools.local_api under uvicorn)."""

import json
import time

import httpx
import pytest
from invoice_data import five_mb_focus_csv

from tools.template import ROOT

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(local_api):
    return local_api.base


def test_plan_llm_over_http_matches_the_event_body(server):
    body = json.loads(json.loads((ROOT / "events" / "plan_llm.json").read_text())["body"])
    r1 = httpx.post(f"{server}/api/v1/plan/llm", json=body, timeout=10)
    r2 = httpx.post(f"{server}/api/v1/plan/llm", json=body, timeout=10)
    assert r1.status_code == 200 and r1.json()["rows"]
    assert r1.content == r2.content  # byte-identical across calls
    assert r1.headers["x-correlation-id"]


def test_errors_over_http_use_the_envelope(server):
    bad = httpx.post(f"{server}/api/v1/plan/llm", content=b"{not json", headers={"content-type": "application/json"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "MALFORMED_JSON"
    missing = httpx.get(f"{server}/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"
    assert missing.json()["correlation_id"] == missing.headers["x-correlation-id"]


def test_the_server_publishes_openapi_and_docs(server):
    spec = httpx.get(f"{server}/openapi.json").json()
    assert "/api/v1/plan/llm" in spec["paths"]
    assert httpx.get(f"{server}/docs").status_code == 200


def test_an_async_report_completes_and_downloads_over_http(server):
    body = json.loads(json.loads((ROOT / "events" / "report_generate_async.json").read_text())["body"])
    body["title"] = f"e2e {time.time_ns()}"  # a fresh report id for this run
    accepted = httpx.post(f"{server}/api/v1/report/generate", json=body, timeout=10)
    assert accepted.status_code == 202
    job = accepted.json()
    deadline = time.monotonic() + 30
    while job["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.2)
        job = httpx.get(server + job["status_url"], timeout=10).json()
    assert job["status"] == "succeeded", job
    html = next(f for f in job["files"] if f["format"] == "html")
    got = httpx.get(html["download_url"], timeout=10)
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/html")
    assert "<svg" in got.text and body["title"] in got.text


def test_make_run_accepts_a_5_mb_csv_invoice_as_the_function_does(server):
    r = httpx.post(f"{server}/api/v1/invoice/analyze", content=five_mb_focus_csv().encode(),
                   headers={"content-type": "text/csv"}, timeout=60)
    assert r.status_code == 200 and r.json()["format"] == "focus"
    too_big = httpx.post(f"{server}/api/v1/plan/llm", content=b" " * (300 * 1024),
                         headers={"content-type": "application/json"}, timeout=10)
    assert too_big.status_code == 413  # plan/llm keeps its own 256 KiB limit, as in Lambda


def test_wrong_media_type_and_method_over_http(server):
    wrong = httpx.post(f"{server}/api/v1/plan/llm", content=b"{}", headers={"content-type": "text/plain"})
    assert wrong.status_code == 415 and wrong.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    method = httpx.get(f"{server}/api/v1/plan/llm")
    assert method.status_code == 405 and "POST" in method.headers["allow"]
