"""The local transport: the engine in-process through the very function apps Lambda runs (no server, no AWS)."""

import json

import pytest

from costplan.adapters import backends
from costplan.adapters.http import json_body
from costplan_client import CostPlanClient, Job
from costplan_client.transport import LOCAL_BASE_URL
from costplan_contracts.invoice import AnalyzeResponse
from tools.template import ROOT, load_function_module

EVENTS = ROOT / "events"
SAMPLE = ROOT / "tests" / "data" / "sample_focus_1_2.csv"


@pytest.fixture
def local(tmp_path, monkeypatch):
    """A local client with its own empty job store (the in-process API's .local-data)."""
    monkeypatch.setenv("COSTPLAN_STORAGE", "local")
    monkeypatch.setenv("COSTPLAN_LOCAL_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COSTPLAN_PUBLIC_URL", LOCAL_BASE_URL)  # set here so that it is unset again afterwards
    backends.ports.cache_clear()
    backends.export_places.cache_clear()
    with CostPlanClient() as client:
        yield client
    backends.ports.cache_clear()
    backends.export_places.cache_clear()


def test_local_answers_what_the_lambda_handler_answers(local, lambda_context):
    event = json.loads((EVENTS / "plan_llm.json").read_text())
    got = local.plan_llm(json.loads(event["body"]))  # first: the caller's event loop state must survive it
    lambda_body = json_body(load_function_module("functions/plan_llm").handler(event, lambda_context))
    assert got.model_dump(mode="json", by_alias=True) == lambda_body
    assert local.mode == "local"


def test_an_async_report_waits_with_monotone_progress_and_downloads(local, tmp_path):
    body = json.loads(json.loads((EVENTS / "report_generate_async.json").read_text())["body"])
    job = local.generate_report({**body, "formats": ["html", "csv"]})
    assert isinstance(job, Job) and job.job.status.value in ("queued", "running", "succeeded")
    seen: list[float] = []
    final = job.wait(progress_callback=seen.append, poll_s=0.02)
    assert final.status.value == "succeeded"
    assert seen[-1] == 1.0 and all(a < b for a, b in zip(seen, seen[1:], strict=False))
    paths = job.download(tmp_path / "reports")
    assert sorted(p.name for p in paths) == [f"{job.report_id}.csv", f"{job.report_id}.html"]
    assert body["title"] in (tmp_path / "reports" / f"{job.report_id}.html").read_text()


def test_a_small_export_file_is_analysed_at_once(local):
    result = local.analyze_export(SAMPLE)
    assert isinstance(result, AnalyzeResponse)
    assert result.reconciliation.input_rows == 11 and result.focus_version == "1.2"


def test_an_export_folder_is_read_in_place_and_analysed_as_a_report_job(local, tmp_path):
    header, *rows = SAMPLE.read_text().splitlines()
    export = tmp_path / "export"
    export.mkdir()
    (export / "part-0.csv").write_text("\n".join([header, *rows[:5]]) + "\n")
    (export / "part-1.csv").write_text("\n".join([header, *rows[5:]]) + "\n")
    sent: list[tuple[int, int]] = []
    job = local.analyze_export(export, upload_progress=lambda s, t: sent.append((s, t)))
    assert isinstance(job, Job)
    final = job.wait(poll_s=0.02)
    assert final.status.value == "succeeded" and sent[-1][0] == sent[-1][1]
    doc = json.loads(job.files(["json"])["json"])
    assert doc["kind"] == "invoice_analyze"
    placed = sorted(p.name for p in (tmp_path / "data" / "invoices").rglob("*.csv"))
    assert placed == ["part-0.csv", "part-1.csv"]
    # The same export again is the same job (the prefix is a content hash), not a second one.
    assert local.analyze_export(export).report_id == job.report_id
