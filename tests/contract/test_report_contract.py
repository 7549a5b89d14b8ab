"""POST /api/v1/report/generate: its response contract snapshot, as plan/llm and rank/catalog have.

The rendered files have their own goldens (tests/golden); this pins the ReportJob the endpoint returns: id,
status, status URL and each file's format, content type, size, digest and inline content. Markdown and HTML
bodies are template output pinned by those goldens, so the snapshot takes the json and csv formats."""

from test_contracts import FIXED_REQUEST, check_snapshot

from costplan.services.reports.api import generate
from costplan_contracts.report import ReportRequest

REPORT_REQUEST = {"source": {"kind": "plan_llm", "request": FIXED_REQUEST}, "formats": ["json", "csv"],
                  "title": "Llama 3.1 70B serving options", "as_of": "2026-11-26", "baseline_monthly_usd": 2500}


def _no_ports():
    raise AssertionError("a sync report touches no storage or queue")


def test_report_generate_response_matches_its_snapshot():
    """A change here is a contract change: review it, then UPDATE_SNAPSHOTS=1 make test."""
    job, accepted = generate(ReportRequest.model_validate(REPORT_REQUEST), _no_ports)
    assert accepted is False  # sync: 200, the files inline
    check_snapshot("report_generate", REPORT_REQUEST, job.model_dump(mode="json"))
