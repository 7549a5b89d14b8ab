"""The client's wire behaviour against a recorded server (httpx.MockTransport, no network): errors carry the
envelope, retries only where a call cannot start a job twice, job progress, SigV4 from the credential chain, and
the upload flow."""

import hashlib
import json

import httpx
import pytest

from costplan_client import ApiError, CostPlanClient, CostPlanError, JobFailed
from costplan_client.client import Job
from costplan_contracts.report import ReportJob

BASE = "https://abc123.execute-api.eu-west-1.amazonaws.com/"
RID = "0123456789abcdef0123456789abcdef"
ENVELOPE = {"error": {"code": "VALIDATION_ERROR", "message": "Request failed validation",
                      "details": [{"field": "workload.input_tokens_per_month", "reason": "Input should be >= 0"}]},
            "correlation_id": "cid-1"}
PLAN = {"workload": {"input_tokens_per_month": 3e9, "output_tokens_per_month": 1e9}, "model": "llama-3.1-70b-instruct"}
SHA_AB = hashlib.sha256(b"a,b").hexdigest()
REPORT = {"source": {"kind": "plan_llm", "request": PLAN}, "formats": ["csv"], "mode": "async"}


def job(status="queued", progress=0.0, **extra) -> dict:
    return {"report_id": RID, "status": status, "progress": progress, "status_url": f"/api/v1/report/{RID}",
            **extra}


class Recorder:
    """A scripted server: each (method, path) answers from its queue of responses; every request is kept."""

    def __init__(self, script: dict[tuple[str, str], list[httpx.Response]]) -> None:
        self.script, self.requests = script, []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        key = (request.method, request.url.path)
        queue = self.script.get(key) or self.script.get((request.method, "*"))
        assert queue, f"unexpected {key}"
        return queue.pop(0) if len(queue) > 1 else queue[0]

    def calls(self, method: str, path: str) -> int:
        return sum(r.method == method and r.url.path == path for r in self.requests)


def client_for(recorder: Recorder, sleeps: list | None = None) -> CostPlanClient:
    return CostPlanClient(BASE, auth="none", transport=httpx.MockTransport(recorder),
                          sleep=(sleeps.append if sleeps is not None else lambda s: None))


def test_an_error_is_the_envelope_with_field_reason_and_correlation_id():
    rec = Recorder({("POST", "/api/v1/plan/llm"): [httpx.Response(422, json=ENVELOPE,
                                                                  headers={"x-correlation-id": "cid-1"})]})
    with pytest.raises(ApiError) as e:
        client_for(rec).plan_llm(PLAN)
    err = e.value
    assert (err.status, err.code, err.correlation_id) == (422, "VALIDATION_ERROR", "cid-1")
    assert [(d.field, d.reason) for d in err.details] == [("workload.input_tokens_per_month", "Input should be >= 0")]
    assert err.is_input_error and "workload.input_tokens_per_month: Input should be >= 0" in str(err)


def test_an_api_gateway_refusal_without_an_envelope_keeps_its_status():
    rec = Recorder({("GET", "/api/v1/meta/bounds"): [httpx.Response(403, json={"message": "Forbidden"},
                                                                     headers={"apigw-requestid": "gw-1"})]})
    with pytest.raises(ApiError) as e:
        client_for(rec).bounds()
    assert (e.value.code, e.value.status, e.value.correlation_id) == ("HTTP_403", 403, "gw-1")


def test_a_get_is_retried_with_growing_backoff_on_503_and_429():
    rec = Recorder({("GET", f"/api/v1/report/{RID}"): [httpx.Response(503), httpx.Response(429),
                                                       httpx.Response(200, json=job("running", 0.5))]})
    sleeps: list[float] = []
    assert client_for(rec, sleeps).report_status(RID).progress == 0.5
    assert rec.calls("GET", f"/api/v1/report/{RID}") == 3
    assert len(sleeps) == 2 and sleeps[1] > sleeps[0] * 0.5  # full-jitter bounds: [b/2, b], then [b, 2b]


def test_retries_stop_after_the_budget_and_raise_the_last_error():
    rec = Recorder({("GET", f"/api/v1/report/{RID}"): [httpx.Response(502, json={"message": "Bad Gateway"})]})
    with pytest.raises(ApiError) as e:
        client_for(rec).report_status(RID)
    assert e.value.status == 502 and rec.calls("GET", f"/api/v1/report/{RID}") == 4  # 1 + 3 retries


def test_a_call_that_starts_a_job_is_never_sent_twice():
    rec = Recorder({("POST", "/api/v1/report/generate"): [httpx.Response(503), httpx.Response(202, json=job())]})
    with pytest.raises(ApiError) as e:
        client_for(rec).generate_report(REPORT)
    assert e.value.status == 503 and rec.calls("POST", "/api/v1/report/generate") == 1


def test_an_invoice_source_is_a_job_and_not_retried_but_an_inline_invoice_is():
    src = {"source": {"s3_prefix": "s3://costplan-local/invoices/x/"}}
    rec = Recorder({("POST", "/api/v1/invoice/analyze"): [httpx.Response(500), httpx.Response(202, json=job())]})
    with pytest.raises(ApiError):
        client_for(rec).invoice_analyze(src)
    assert rec.calls("POST", "/api/v1/invoice/analyze") == 1
    rec = Recorder({("POST", "/api/v1/invoice/analyze"): [httpx.Response(500), httpx.Response(202, json=job())]})
    assert isinstance(client_for(rec).invoice_analyze({"invoice": {"format": "focus", "csv": "a,b\n"}}), Job)
    assert rec.calls("POST", "/api/v1/invoice/analyze") == 2


def test_a_request_the_contract_refuses_is_not_sent():
    rec = Recorder({})
    with pytest.raises(CostPlanError) as e:
        client_for(rec).plan_llm({"workload": {"input_tokens_per_month": -1, "output_tokens_per_month": 1}})
    assert e.value.status is None and e.value.is_input_error
    assert [d.field for d in e.value.details] == ["workload.input_tokens_per_month"]
    assert rec.requests == []


def test_progress_is_monotone_and_ends_at_one_even_when_a_retry_restarts_the_job():
    states = [job("running", 0.1), job("running", 0.55), job("queued", 0.0, attempts=1),  # a fault: re-queued
              job("running", 0.1, attempts=1), job("running", 0.7, attempts=1), job("running", 0.7, attempts=1),
              job("succeeded", 1.0, files=[{"format": "csv", "content_type": "text/csv", "bytes": 3,
                                            "sha256": SHA_AB, "download_url": f"{BASE}api/v1/report/{RID}/files/csv"}])]
    rec = Recorder({("GET", f"/api/v1/report/{RID}"): [httpx.Response(200, json=s) for s in states],
                    ("GET", f"/api/v1/report/{RID}/files/csv"): [httpx.Response(200, content=b"a,b")]})
    client = client_for(rec)
    seen: list[float] = []
    final = Job(client, ReportJob.model_validate(job())).wait(progress_callback=seen.append)
    assert final.status.value == "succeeded"
    assert seen == [0.0, 0.1, 0.55, 0.7, 1.0]
    assert all(a < b for a, b in zip(seen, seen[1:], strict=False)) and seen[-1] == 1.0
    assert Job(client, final).files() == {"csv": b"a,b"}


def test_a_failed_job_raises_its_error_code_and_reason():
    failed = job("failed", 0.1, error="The request is invalid: model: unknown", error_code="INVALID_REQUEST")
    rec = Recorder({("GET", f"/api/v1/report/{RID}"): [httpx.Response(200, json=failed)]})
    with pytest.raises(JobFailed) as e:
        Job(client_for(rec), ReportJob.model_validate(job())).wait()
    assert e.value.code == "INVALID_REQUEST" and "model: unknown" in e.value.message


def test_presigned_download_urls_get_no_api_credentials():
    presigned = "https://bucket.s3.amazonaws.com/reports/x/report.csv?X-Amz-Signature=abc"
    done = job("succeeded", 1.0, files=[{"format": "csv", "content_type": "text/csv", "bytes": 3,
                                         "sha256": SHA_AB, "download_url": presigned}])
    rec = Recorder({("GET", "/reports/x/report.csv"): [httpx.Response(200, content=b"a,b")]})
    client = CostPlanClient(BASE, auth="jwt", token="tok", transport=httpx.MockTransport(rec))
    assert Job(client, ReportJob.model_validate(done)).files() == {"csv": b"a,b"}
    assert "authorization" not in rec.requests[0].headers


def test_iam_auth_signs_with_the_credential_chain_and_the_urls_region(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    rec = Recorder({("GET", "/api/v1/meta/bounds"): [httpx.Response(404, json=ENVELOPE)]})
    with pytest.raises(ApiError):
        CostPlanClient(BASE, transport=httpx.MockTransport(rec)).bounds()  # a non-loopback URL: iam by default
    sent = rec.requests[0]
    assert sent.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/execute-api/aws4_request" in sent.headers["authorization"]
    assert sent.headers["x-amz-security-token"] == "session"


def test_a_loopback_endpoint_defaults_to_no_auth():
    assert CostPlanClient("http://127.0.0.1:3000").auth.value == "none"


# ---------------------------------------------------------------- uploads


def grant(n: int, upload_id: str = "a" * 32) -> httpx.Response:
    return httpx.Response(200, json={
        "upload_id": upload_id, "method": "PUT", "url": f"https://bucket.s3.amazonaws.com/invoices/up/{n}?sig=x",
        "headers": {"Content-Type": "text/csv"}, "purpose": "invoice", "expires_in_s": 900, "key": f"invoices/up/{n}", "s3_uri": f"s3://bucket/invoices/up/{n}",
        "s3_prefix": "s3://bucket/invoices/up/", "expires_at": "2026-11-28T18:00:00Z", "max_bytes": 10**9,
        "warnings": []})


def test_a_folder_is_uploaded_file_by_file_then_analysed_as_one_job(tmp_path):
    export = tmp_path / "export"
    (export / "part").mkdir(parents=True)
    (export / "a.csv").write_text("x" * 10)
    (export / "part" / "b.csv").write_text("y" * 20)
    (export / "Manifest.json").write_text("{}")  # not a data file: not uploaded
    rec = Recorder({("POST", "/api/v1/uploads"): [grant(1), grant(2)],
                    ("PUT", "*"): [httpx.Response(200)],
                    ("POST", "/api/v1/invoice/analyze"): [httpx.Response(202, json=job())],
                    ("GET", f"/api/v1/report/{RID}"): [httpx.Response(200, json=job("succeeded", 1.0))]})
    client = CostPlanClient(BASE, auth="jwt", token="tok", transport=httpx.MockTransport(rec))
    progress: list[tuple[int, int]] = []
    result = client.analyze_export(export, invoice_format="focus", upload_progress=lambda s, t: progress.append((s, t)))
    assert isinstance(result, Job) and result.wait().status.value == "succeeded"
    asks = [json.loads(r.content) for r in rec.requests if r.url.path == "/api/v1/uploads"]
    assert [(a["filename"], a["size_bytes"], a.get("upload_id")) for a in asks] == [("a.csv", 10, None),
                                                                                   ("part-b.csv", 20, "a" * 32)]
    puts = [r for r in rec.requests if r.method == "PUT"]
    assert [r.content for r in puts] == [b"x" * 10, b"y" * 20]
    assert all(r.headers["content-length"] == str(len(r.content)) and "authorization" not in r.headers and
               r.headers["content-type"] == "text/csv" for r in puts)
    analyze = next(json.loads(r.content) for r in rec.requests if r.url.path == "/api/v1/invoice/analyze")
    assert analyze == {"source": {"s3_prefix": "s3://bucket/invoices/up/", "format": "focus"}}
    assert progress[-1] == (30, 30) and [s for s, _ in progress] == sorted(s for s, _ in progress)
    assert all(r.headers.get("authorization") == "Bearer tok" for r in rec.requests if r.method == "POST")


def test_a_small_file_goes_as_the_body_and_is_answered_at_once(tmp_path):
    f = tmp_path / "bill.csv.gz"
    import gzip

    f.write_bytes(gzip.compress(b"BilledCost\n1\n"))
    rec = Recorder({("POST", "/api/v1/invoice/analyze"): [httpx.Response(422, json=ENVELOPE)]})
    with pytest.raises(ApiError):
        client_for(rec).analyze_export(f, invoice_format="cur")
    sent = rec.requests[0]
    assert sent.headers["content-type"] == "text/csv" and sent.headers["content-encoding"] == "gzip"
    assert sent.url.params["invoice_format"] == "cur" and gzip.decompress(sent.content) == b"BilledCost\n1\n"


def test_a_server_without_uploads_says_what_to_do_for_a_folder(tmp_path):
    (tmp_path / "a.csv").write_text("a")
    (tmp_path / "b.csv").write_text("b")
    not_found = {"error": {"code": "NOT_FOUND", "message": "Not Found", "details": []}, "correlation_id": "c"}
    rec = Recorder({("POST", "/api/v1/uploads"): [httpx.Response(404, json=not_found)]})
    with pytest.raises(CostPlanError) as e:
        client_for(rec).analyze_export(tmp_path)
    assert e.value.code == "UPLOADS_UNAVAILABLE" and e.value.details[0].field == "path"
    assert "without --endpoint" in e.value.details[0].reason
    assert rec.calls("POST", "/api/v1/invoice/analyze") == 0  # no large body was sent


@pytest.mark.parametrize(("files", "reason"), [([], "holds no"), (["a.csv", "b.parquet"], "mixes Parquet and CSV")])
def test_a_folder_that_is_not_one_export_is_refused_before_any_call(tmp_path, files, reason):
    for name in files:
        (tmp_path / name).write_bytes(b"x")
    with pytest.raises(CostPlanError, match="validation") as e:
        client_for(Recorder({})).analyze_export(tmp_path)
    assert e.value.details[0].field == "path" and reason in e.value.details[0].reason


def test_a_download_that_does_not_match_the_stored_checksum_is_refused():
    done = job("succeeded", 1.0, files=[{"format": "csv", "content_type": "text/csv", "bytes": 3, "sha256": SHA_AB,
                                         "download_url": f"{BASE}api/v1/report/{RID}/files/csv"}])
    rec = Recorder({("GET", f"/api/v1/report/{RID}/files/csv"): [httpx.Response(200, content=b"a,c")]})
    with pytest.raises(CostPlanError) as e:
        Job(client_for(rec), ReportJob.model_validate(done)).files()
    assert e.value.code == "CHECKSUM_MISMATCH"


def test_fields_from_a_newer_server_are_dropped_and_a_wrong_shape_is_an_error():
    newer = {**job("running", 0.5), "eta_seconds": 12}
    rec = Recorder({("GET", f"/api/v1/report/{RID}"): [httpx.Response(200, json=newer)]})
    assert client_for(rec).report_status(RID).progress == 0.5
    rec = Recorder({("GET", f"/api/v1/report/{RID}"): [httpx.Response(200, json={"report_id": RID})]})
    with pytest.raises(CostPlanError) as e:
        client_for(rec).report_status(RID)
    assert e.value.code == "UNEXPECTED_RESPONSE"


def test_files_in_sub_folders_get_distinct_flat_upload_names(tmp_path):
    from costplan_client.uploads import upload_names

    files = [tmp_path / "BILLING_PERIOD=2026-10" / "part 0.parquet", tmp_path / "BILLING_PERIOD=2026-11" / "part 0.parquet"]
    assert upload_names(files, tmp_path) == ["BILLING_PERIOD=2026-10-part_0.parquet", "BILLING_PERIOD=2026-11-part_0.parquet"]
    with pytest.raises(CostPlanError, match="validation"):
        upload_names([tmp_path / "a-b.csv", tmp_path / "a" / "b.csv"], tmp_path)


def test_make_runs_409_is_a_clear_error_for_a_folder(tmp_path):
    (tmp_path / "a.csv").write_text("a")
    (tmp_path / "b.csv").write_text("b")
    refused = {"error": {"code": "UPLOADS_NOT_CONFIGURED", "message": "no upload bucket",
                         "details": [{"field": "purpose", "reason": "no S3 bucket"}]}, "correlation_id": "c"}
    rec = Recorder({("POST", "/api/v1/uploads"): [httpx.Response(409, json=refused)]})
    with pytest.raises(CostPlanError) as e:
        client_for(rec).analyze_export(tmp_path)
    assert e.value.code == "UPLOADS_UNAVAILABLE" and e.value.status == 409 and not e.value.is_input_error
