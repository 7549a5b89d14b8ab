"""Report rendering: golden files per format, injection safety, determinism, savings arithmetic."""

import csv
import io
import json
import os
from pathlib import Path

import pytest

from costplan.reports.content import ReportContent
from costplan.reports.render import RENDERERS, csv_cell, md_cell, to_csv, to_html, to_json, to_markdown
from costplan.services.errors import RequestRejected
from costplan.services.reports.dispatch import render, report_id
from costplan_contracts.report import ReportRequest

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
EXT = {"json": "json", "csv": "csv", "markdown": "md", "html": "html"}
PLAN = {"workload": {"input_tokens_per_month": 2e9, "output_tokens_per_month": 5e8, "cached_input_share": 0.25,
                     "max_context_tokens": 8000}, "model": "llama-3.1-70b-instruct", "top_k": 5}


def request(**over) -> ReportRequest:
    body = {"source": {"kind": "plan_llm", "request": PLAN}, "formats": ["json", "csv", "markdown", "html"],
            "title": "Llama 3.1 70B serving options", "as_of": "2026-11-26"}
    return ReportRequest.model_validate({**body, **over})


@pytest.mark.parametrize("fmt", ["json", "csv", "markdown", "html"])
def test_each_format_matches_its_golden_file(fmt):
    """A change here changes what finance receives: review it, then UPDATE_SNAPSHOTS=1 make test."""
    data = render(request())[next(f for f in request().formats if f.value == fmt)]
    path = GOLDEN / f"report_plan_llm.{EXT[fmt]}"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_bytes(data)
    assert data == path.read_bytes()


def test_the_same_request_gives_byte_identical_files_and_the_same_id():
    assert render(request()) == render(request())
    assert report_id(request()) == report_id(request(formats=["html", "markdown", "csv", "json"]))
    assert report_id(request()) != report_id(request(title="Other"))


def test_no_wall_clock_time_without_as_of():
    files = render(request(as_of=None))
    by_ext = {f.value: data for f, data in files.items()}
    assert json.loads(by_ext["json"])["as_of"] is None
    assert not any(line.startswith("As of ") for line in by_ext["markdown"].decode().splitlines())
    assert b"<p>As of" not in by_ext["html"]
    for data in files.values():
        assert b"T10:" not in data and b"+00:00" not in data  # no timestamps


def test_summary_states_best_option_savings_against_most_expensive_or_baseline_and_the_mix():
    doc = json.loads(render(request())[request().formats[0]])
    summary = " ".join(doc["summary"])
    assert "Best option: novita/" in summary and "$875.00/month" in summary
    assert "Savings against the most expensive option shown ($1,800.00/month): $925.00/month (51.4%)" in summary
    assert "80.0% input / 20.0% output" in summary
    base = json.loads(render(request(baseline_monthly_usd=3000))[request().formats[0]])
    assert "Savings against your baseline ($3,000.00/month): $2,125.00/month (70.8%)" in " ".join(base["summary"])


def test_json_carries_a_vega_lite_bar_chart_of_monthly_cost():
    doc = json.loads(render(request())[request().formats[0]])
    chart = doc["chart"]
    assert chart["$schema"].endswith("vega-lite/v5.json") and chart["mark"]["type"] == "bar"
    assert [v["monthly_usd"] for v in chart["data"]["values"]] == [r[4] for r in doc["table"]["rows"]]


def test_a_result_already_returned_renders_like_the_request():
    from costplan.services.plan.llm import plan_llm
    from costplan_contracts.plan_llm import PlanLlmRequest

    result = plan_llm(PlanLlmRequest.model_validate(PLAN)).model_dump(mode="json")
    assert render(request(source={"kind": "plan_llm", "result": result})) == render(request())


def test_a_bad_source_is_rejected_naming_the_nested_field():
    with pytest.raises(RequestRejected) as e:
        render(request(source={"kind": "plan_llm", "request": {"workload": {"input_tokens_per_month": -1,
                                                                            "output_tokens_per_month": 1}}}))
    assert e.value.details[0].field == "source.request.workload.input_tokens_per_month"


def test_rank_catalog_and_scaling_results_render_too():
    cat = {"workload_type": "speech_to_text", "quantity": {"value": 1000, "unit": "per_audio_minute"}, "top_k": 3}
    files = render(request(source={"kind": "rank_catalog", "request": cat}))
    assert b"Best option" in files[request().formats[2]]
    scale = {"model": "llama-3.1-8b-instruct", "peak_requests_per_second": 5, "avg_requests_per_second": 2,
             "avg_input_tokens": 1000, "avg_output_tokens": 200, "top_k": 3}
    html = render(request(source={"kind": "plan_scaling", "request": scale}))[request().formats[3]]
    assert b"Best configuration for llama-3.1-8b-instruct" in html


def _hostile() -> ReportContent:
    evil = '<script>alert("x")</script>'
    return ReportContent(
        title=evil, kind="plan_llm", as_of=None, summary=[f"Best option: {evil}"],
        columns=["Rank", "Provider", "Model", "Monthly USD"],
        rows=[[1, '=HYPERLINK("http://evil.example","click")', "a|b\nc", 12.5], [2, "+cmd", "@SUM(A1)", -3.0],
              [3, "\tTAB", "\rCR", 1.0], [4, "-2+3", "ok", 2.0]],
        chart=[(evil, 12.5)], steps=[], exclusions=[("PRICE_MISSING_OUTPUT", 1, evil)],
        warnings=[("X", "info", "f", evil, "a|b")], provenance=[("src", "2026-01-01")])


def test_html_escapes_every_request_string_and_has_no_script_or_external_request():
    out = to_html(_hostile()).decode()
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "http://evil.example" in out  # shown as text, inside an escaped cell
    assert 'src="http' not in out and "<link" not in out and "<img" not in out


def test_csv_neutralises_formula_cells_but_not_numbers():
    rows = list(csv.reader(io.StringIO(to_csv(_hostile()).decode(), newline=""), quoting=csv.QUOTE_NONNUMERIC))
    assert rows[1][1] == '\'=HYPERLINK("http://evil.example","click")'
    assert rows[2][1] == "'+cmd" and rows[2][2] == "'@SUM(A1)" and rows[2][3] == -3.0
    assert rows[3][1] == "'\tTAB" and rows[4][1] == "'-2+3"
    assert csv_cell(-3.0) == -3.0 and csv_cell("ok") == "ok"


def test_markdown_escapes_pipes_and_newlines():
    out = to_markdown(_hostile()).decode()
    assert "a\\|b c" in out and md_cell("x|y") == "x\\|y"
    table_lines = [line for line in out.splitlines() if line.startswith("| 1 |")]
    assert len(table_lines) == 1 and table_lines[0].count(" | ") == 3


def test_every_renderer_is_deterministic():
    c = _hostile()
    for fn in RENDERERS.values():
        assert fn(c) == fn(c)
    assert json.loads(to_json(c))["title"] == c.title  # JSON keeps the text; escaping is the viewer's job


# ---------------------------------------------------------------- invoice reports: their own labels and sections

INVOICE_RESULT = json.loads((GOLDEN / "invoice_analyze_result.json").read_text())  # analyze() of the FOCUS 1.2 sample


def invoice_files(**over) -> dict[str, bytes]:
    req = request(source={"kind": "invoice_analyze", "result": INVOICE_RESULT}, title="October AI bill", **over)
    return {f.value: data for f, data in render(req).items()}


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_the_invoice_report_matches_its_golden_file(fmt):
    """Rendered from a stored analyze() result, so only a rendering change moves it (UPDATE_SNAPSHOTS=1)."""
    path = GOLDEN / f"report_invoice.{EXT[fmt]}"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_bytes(invoice_files()[fmt])
    assert invoice_files()[fmt] == path.read_bytes()


def test_an_invoice_report_has_invoice_sections_and_no_plan_labels():
    files = invoice_files()
    md = files["markdown"].decode()
    headings = [line[3:] for line in md.splitlines() if line.startswith("## ")]
    assert headings == ["Summary", "Opportunities", "Findings", "Reconciliation", "Spend by provider",
                        "Spend by model", "Spend by usage kind", "Warnings", "Provenance"]
    html = files["html"].decode()
    for text in ("Ranked options", "Monthly cost per option", "<h2>Exclusions</h2>"):
        assert text not in html and text not in md
    assert "<h2>Estimated monthly savings per opportunity</h2>" in html
    assert 'aria-label="Estimated monthly savings per opportunity"' in html
    doc = json.loads(files["json"])
    assert doc["table"]["title"] == "Opportunities"
    assert [s["title"] for s in doc["sections"]] == ["Findings", "Reconciliation", "Spend by provider",
                                                    "Spend by model", "Spend by usage kind"]
    assert doc["chart"]["description"] == "Estimated monthly savings per opportunity"
    assert doc["chart"]["encoding"]["y"]["title"] == "Opportunity"
    providers = next(s for s in doc["sections"] if s["title"] == "Spend by provider")["rows"]
    assert [row[0] for row in providers] == [g["key"] for g in INVOICE_RESULT["breakdowns"]["by_provider"]]
    assert len(next(s for s in doc["sections"] if s["title"] == "Findings")["rows"]) == len(INVOICE_RESULT["findings"])


def test_credits_print_as_negative_money_with_the_sign_first():
    files = invoice_files()
    md, html = files["markdown"].decode(), files["html"].decode()
    assert "Credits, refunds and adjustments, kept apart: -$520.00." in md
    assert "$-" not in md and "$-" not in html and "$-" not in files["json"].decode()
    assert "<td>Credits, refunds and adjustments</td><td>USD</td><td>-$520.00</td>" in html


def test_chart_labels_are_shortened_at_a_word_boundary_never_mid_word():
    doc = json.loads(invoice_files()["json"])
    titles = [o["title"] for o in INVOICE_RESULT["opportunities"]]
    labels = [v["option"] for v in doc["chart"]["data"]["values"]]
    assert any(label.endswith("\u2026") for label in labels)
    for label, title in zip(labels, titles, strict=False):
        assert len(label) <= 44
        if label.endswith("\u2026"):
            head = label[:-1]
            assert title.startswith(head) and title[len(head)] in " /-"  # the next character ends a word


def test_money_and_short_label():
    from costplan.reports.text import money, short_label

    assert [money(-520), money(1234.5), money(-0.004), money(-3, "EUR")] == ["-$520.00", "$1,234.50", "$0.00",
                                                                             "-3.00 EUR"]
    assert short_label("anthropic/claude-sonnet-4.5 looks like bulk processing (output 5%)") == \
        "anthropic/claude-sonnet-4.5 looks like\u2026"
    assert short_label("x" * 60) == "x" * 43 + "\u2026"  # one word longer than the limit: cut only then
    assert short_label("short label") == "short label"
