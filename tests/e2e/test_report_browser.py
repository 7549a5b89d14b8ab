"""The HTML report in a real browser: headless Chromium renders the table and the chart, with no console errors."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from costplan.services.reports.dispatch import render
from costplan_contracts.report import ReportRequest

pytestmark = pytest.mark.integration
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(os.environ.get("COSTPLAN_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / ".test-artifacts"))
BAR_FILL = "#3b6ea5"  # the HTML report's bar colour
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def report_html(tmp_path_factory):
    if CHROMIUM is None:
        pytest.fail("chromium is not installed: .ci/run installs Debian's chromium; locally `apt-get install chromium`")
    body = {"source": {"kind": "plan_llm", "request": {
        "workload": {"input_tokens_per_month": 2e9, "output_tokens_per_month": 5e8}, "top_k": 8}},
        "formats": ["html"], "title": 'Plan <script>alert("x")</script> =HYPERLINK("http://e.x")'}
    html = next(iter(render(ReportRequest.model_validate(body)).values()))
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_bytes(html)
    return path


def _chromium(path, *extra, tmp):
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp / 'profile'}", *extra, path.as_uri()],
                          capture_output=True, text=True, timeout=120)


def test_table_and_chart_render_without_console_errors(report_html, tmp_path):
    dom = _chromium(report_html, "--enable-logging=stderr", "--v=0", "--dump-dom", tmp=tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert len(re.findall(r"<tr>", dom.stdout)) >= 9  # header + 8 ranked rows in the ranked table, at least
    assert '<table class="ranked">' in dom.stdout
    assert len(re.findall(r'<rect class="bar"', dom.stdout)) == 8
    assert "<script>alert" not in dom.stdout  # the title stayed text
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == []


def test_screenshot_is_kept(report_html, tmp_path):
    """The rendered report is kept as a PNG to look at (.test-artifacts/, or $COSTPLAN_TEST_ARTIFACTS; git-ignored),
    and the picture is the report: the page's size, and the eight bars painted in the chart's colour."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report_plan_llm.png"
    shot.unlink(missing_ok=True)
    out = _chromium(report_html, f"--screenshot={shot}", "--window-size=1280,1600", tmp=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    with Image.open(shot) as image:
        rgb = image.convert("RGB")
    assert rgb.size == (1280, 1600)
    bar = tuple(int(BAR_FILL[i:i + 2], 16) for i in (1, 3, 5))
    painted = next((n for n, colour in rgb.getcolors(maxcolors=1 << 20) if colour == bar), 0)
    assert painted > 8 * 100, f"{painted} pixels in the bar colour {BAR_FILL}"  # 8 bars, each well over 100 px


def test_an_invoice_report_renders_its_sections_and_chart_without_console_errors(tmp_path):
    import json
    from pathlib import Path

    result = json.loads((Path(__file__).resolve().parents[1] / "golden" / "invoice_analyze_result.json").read_text())
    body = {"source": {"kind": "invoice_analyze", "result": result}, "formats": ["html"], "title": "October AI bill"}
    path = tmp_path / "invoice.html"
    path.write_bytes(next(iter(render(ReportRequest.model_validate(body)).values())))
    dom = _chromium(path, "--enable-logging=stderr", "--v=0", "--dump-dom", tmp=tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    for section in ("Opportunities", "Findings", "Reconciliation", "Spend by provider", "Spend by model",
                    "Spend by usage kind"):
        assert f"<h2>{section}</h2>" in dom.stdout
    assert "Ranked options" not in dom.stdout and "-$520.00" in dom.stdout
    assert len(re.findall(r'<rect class="bar"', dom.stdout)) == len(result["opportunities"][:15])
    assert [line for line in dom.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line] == []
