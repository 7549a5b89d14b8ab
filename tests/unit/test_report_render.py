"""Report rendering: golden files per format, injection safety, determinism, savings arithmetic, templates."""

import csv
import fnmatch
import io
import json
import os
import re
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import pytest
import vl_convert

from costplan.reports import markup
from costplan.reports.charts import bar_chart, bar_chart_svg
from costplan.reports.content import ReportContent
from costplan.reports.render import RENDERERS, csv_cell, to_csv, to_html, to_json, to_markdown
from costplan.reports.text import md_cell
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


# ---------------------------------------------------------------- templates: one section list, escaping by default

class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.h2, self.svg_labels, self._in = set(), [], [], None

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self._in = ("h2" if tag == "h2" else "label" if tag == "text" and ("text-anchor", "end") in attrs else None)

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "h2":
            self.h2.append(data)
        elif self._in == "label":
            self.svg_labels.append(data)


def _parsed(html: bytes) -> _Tags:
    p = _Tags()
    p.feed(html.decode())
    return p


TEMPLATE_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "ul", "li", "figure", "svg", "text",
                 "rect", "table", "thead", "tbody", "tr", "th", "td"}


def _everywhere_hostile() -> ReportContent:
    """Markup in every string a report prints: title, dates, labels, headers, cells, section titles, provenance."""
    x = '<img src=x onerror=alert(1)>|*a*\n[l](http://e.x)"\''
    return ReportContent(
        title=x, kind="plan_llm", as_of=x, summary=[x], columns=[x, "Monthly USD"], rows=[[x, 1.5], [None, x]],
        chart=[(x, 2.0)], steps=[(x, x, x)], exclusions=[(x, 1, x)], warnings=[(x, x, x, x, x)], provenance=[(x, x)],
        table_title=x, chart_title=x, chart_item=x, chart_axis=x, sections=[(x, [x], [[x]])], exclusions_title=x)


def test_html_prints_only_the_templates_own_tags_whatever_the_content_says():
    out = to_html(_everywhere_hostile())
    tags = _parsed(out).tags
    assert tags <= TEMPLATE_TAGS and "img" not in tags
    assert b"<img" not in out and b"&lt;img src=x onerror=alert(1)&gt;" in out
    assert b"default-src 'none'" in out  # the page's security policy stays


def test_markdown_escapes_every_value_whatever_the_content_says():
    out = to_markdown(_everywhere_hostile()).decode()
    assert "<img" not in out and "&lt;img" in out and "](http" not in out
    tables = re.findall(r"(?m)((?:^\|.*\n)+)", out)
    assert len(tables) == 6  # ranked, extra section, steps, exclusions, warnings, provenance
    for table in tables:  # a value's pipe or newline never adds a column or a row
        pipes = {len(re.findall(r"(?<!\\)\|", line)) for line in table.splitlines()}
        assert len(pipes) == 1 and len(table.splitlines()) >= 3


@pytest.mark.parametrize("kind", ["plan_llm", "invoice_analyze"])
def test_markdown_and_html_show_the_same_sections_in_the_same_order(kind):
    files = invoice_files() if kind == "invoice_analyze" else {f.value: d for f, d in render(request()).items()}
    md_headings = [line[3:] for line in files["markdown"].decode().splitlines() if line.startswith("## ")]
    chart_title = json.loads(files["json"])["chart"]["description"]
    html_headings = [h for h in _parsed(files["html"]).h2 if h != chart_title]  # Markdown has no picture
    assert md_headings == html_headings and len(md_headings) >= 5


def test_the_section_list_is_the_one_both_templates_render():
    content = ReportContent(
        title="T", kind="plan_llm", as_of=None, summary=["s"], columns=["A"], rows=[], chart=[], steps=[("a", "b", "c")],
        exclusions=[], warnings=[], provenance=[], sections=[("Extra one", ["B"], [[1]])])
    titles = [s.title for s in markup.sections(content) if s.kind != markup.SectionKind.CHART]
    md = [line[3:] for line in to_markdown(content).decode().splitlines() if line.startswith("## ")]
    assert md == titles == ["Summary", "Ranked options", "Extra one", "Fallback steps", "Exclusions", "Warnings",
                            "Provenance"]
    assert _parsed(to_html(content)).h2 == ["Summary", "Monthly cost per option", *titles[1:]]


def test_the_html_chart_is_drawn_from_the_json_reports_chart_spec():
    files = {f.value: d for f, d in render(request()).items()}
    spec = json.loads(files["json"])["chart"]
    page = _parsed(files["html"])
    assert page.svg_labels == [v["option"] for v in sorted(spec["data"]["values"], key=lambda v: v["rank"])]
    assert files["html"].count(b'<rect class="bar"') == len(spec["data"]["values"]) == 5
    assert f'aria-label="{spec["description"]}"'.encode() in files["html"]
    assert bar_chart_svg(bar_chart(ReportContent(**{**_everywhere_hostile().__dict__, "chart": []}))) is None


def test_vega_lite_draws_the_same_bars_and_labels_as_the_static_chart():
    """vl-convert (test-only) renders the spec the JSON report carries; the HTML report's SVG is its static twin."""
    files = invoice_files()
    spec = json.loads(files["json"])["chart"]
    svg = vl_convert.vegalite_to_svg(spec)
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    static = _parsed(files["html"]).svg_labels
    assert len(static) == 9 and svg.count('aria-roledescription="bar"') == len(static)
    assert [t for t in texts if t in static] == static  # every label whole (labelLimit), in rank order
    assert spec["encoding"]["y"]["title"] in texts and spec["encoding"]["x"]["title"] in texts


def test_report_templates_ship_as_package_data():
    """The layer installs the engine with pip: a template the package-data globs miss would be absent on Lambda."""
    engine = Path(__file__).resolve().parents[2] / "layers" / "engine"
    globs = tomllib.loads((engine / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["costplan.reports"]
    package = engine / "src" / "costplan" / "reports"
    templates = sorted(p.relative_to(package).as_posix() for p in (package / "templates").rglob("*") if p.is_file())
    assert {"templates/report.html", "templates/report.md", "templates/bar_chart.svg"} <= set(templates)
    assert [t for t in templates if not any(fnmatch.fnmatch(t, g) for g in globs)] == []
