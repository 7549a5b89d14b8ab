"""The quality-price chart (insights/quality-price ``vega_lite``) drawn by Vega itself: vl-convert (test-only)
renders the spec to SVG, and the picture must be readable without hovering."""

import html
import re

import pytest
import vl_convert

from costplan.reports.charts import PROVIDER_LEGEND, SCORE_LEGEND, quality_price_chart
from costplan.services.plan.insights import quality_price
from costplan_contracts.insights import QualityPriceRequest

REQUEST = {"workload": {"input_tokens_per_month": 1e9, "output_tokens_per_month": 2e8}, "profile": "coding",
           "monthly_budget_usd": 2000, "providers": ["anthropic", "openai", "google", "deepseek"]}
LEGEND = re.compile(r"aria-label=\"Symbol legend titled '([^']*)' for ([a-z ]+) with \d+ values: ([^\"]*)\"")


@pytest.fixture(scope="module")
def insights():
    return quality_price(QualityPriceRequest.model_validate(REQUEST))


@pytest.fixture(scope="module")
def svg(insights) -> str:
    return vl_convert.vegalite_to_svg(insights.vega_lite)


def _texts(svg: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


def test_the_response_carries_the_one_chart_spec(insights):
    assert insights.vega_lite == quality_price_chart(insights.points, insights.pareto_frontier, "coding")


def test_every_frontier_point_is_named_and_no_other_point_is(insights, svg):
    texts = _texts(svg)
    frontier = {p.model for p in insights.pareto_frontier}
    assert len(frontier) >= 3 and frontier <= set(texts)
    others = {p.model for p in insights.points} - frontier
    assert others and not others & set(texts)  # the rest would crowd the chart: their names are in the tooltips


def test_providers_have_one_colour_legend_naming_every_provider(insights, svg):
    legends = [m for m in LEGEND.findall(svg) if m[0] == PROVIDER_LEGEND]
    assert len(legends) == 1 and "color" in legends[0][1]
    assert legends[0][2].split(", ") == sorted({p.provider for p in insights.points})


def test_one_legend_tells_published_from_estimated_scores(insights, svg):
    assert any(p.estimated for p in insights.points) and any(not p.estimated for p in insights.points)
    legends = LEGEND.findall(svg)
    score = [m for m in legends if "estimated" in m[2] or "published" in m[2]]
    assert len(score) == 1 and score[0][0] == SCORE_LEGEND and score[0][2] == "published, estimated"
    assert "shape" in score[0][1] and "opacity" in score[0][1]  # both channels in that one legend
    assert len(legends) == 2  # providers, scores: nothing repeated
    assert _texts(svg).count(SCORE_LEGEND) == 1


def test_hovering_a_point_shows_model_provider_cost_quality_and_coverage(insights):
    vega = vl_convert.vegalite_to_vega(insights.vega_lite)
    symbols = [m for m in vega["marks"] if m["type"] == "symbol"]
    assert len(symbols) == 1  # the points; the frontier is a line and its names are text
    tooltip = symbols[0]["encode"]["update"]["tooltip"]["signal"]
    for title in ("Model", "Provider", "Monthly cost (USD)", "Quality index", "Benchmark coverage", SCORE_LEGEND):
        assert f'"{title}"' in tooltip
    rows = insights.vega_lite["datasets"]["points"]
    assert [(r["model"], r["coverage"]) for r in rows] == [(p.model, p.coverage) for p in insights.points]


def test_axes_and_title_say_what_is_plotted(svg):
    texts = _texts(svg)
    for text in ("Monthly cost (USD)", "Quality index (coding)", "Quality against monthly cost (coding)"):
        assert text in texts
