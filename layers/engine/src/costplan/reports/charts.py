"""The Vega-Lite v5 charts CostPlan returns, each spec built in one place, and the static SVG of a report's bars.

- :func:`bar_chart`: a report's options (or opportunities) in rank order, as horizontal bars; the JSON report
  carries it as ``chart``. :func:`bar_chart_svg` lays out that same spec for the HTML report, whose template
  draws it as inline SVG: a static picture, so the page keeps its ``default-src 'none'`` policy (no script,
  no Vega runtime in the layer).
- :func:`quality_price_chart`: insights/quality-price, every scored offering by monthly cost and quality, the
  Pareto frontier as a line with its points named, one colour legend for providers, one legend for
  published against estimated scores, and tooltips.

Pure: no I/O, no imports beyond the standard library and the report text helpers (cheap on a cold start).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from costplan.reports.text import money

if TYPE_CHECKING:  # annotations only: the contracts' import cost stays off this module
    from costplan.reports.content import ReportContent
    from costplan_contracts.insights import QualityPoint

VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
LABEL_WIDTH = 300  # px for a bar's label: a label shortened to ``text.LABEL_MAX`` characters fits at 12 px

# The field names of the quality-price chart's rows (its tooltips and the tests read them).
PUBLISHED, ESTIMATED = "published", "estimated"
SCORE_LEGEND = "Quality score"
PROVIDER_LEGEND = "Provider"


def bar_chart(c: "ReportContent") -> dict:
    """One bar per option in rank order: ``option`` (label), ``monthly_usd`` (value), ``rank`` (order)."""
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "description": c.chart_title,
        "data": {"values": [{"option": label, "monthly_usd": cost, "rank": i}
                            for i, (label, cost) in enumerate(c.chart, start=1)]},
        "mark": {"type": "bar"},
        "encoding": {
            "y": {"field": "option", "type": "nominal", "sort": {"field": "rank"}, "title": c.chart_item,
                  "axis": {"labelLimit": LABEL_WIDTH}},
            "x": {"field": "monthly_usd", "type": "quantitative", "title": c.chart_axis},
            "tooltip": [{"field": "option", "type": "nominal"},
                        {"field": "monthly_usd", "type": "quantitative", "format": ",.2f"}],
        },
    }


class SvgBar(NamedTuple):  # a tuple: a report lays out up to a few hundred of them
    label: str
    value: str  # the value as money
    y: str
    text_y: str
    width: str
    value_x: str


@dataclass(frozen=True)
class SvgBarChart:
    """Geometry of a horizontal bar chart, numbers already as text (they print as is), drawn by
    ``templates/bar_chart.svg``."""

    title: str
    width: str
    height: str
    label_x: str  # right edge of the labels
    plot_x: str  # left edge of the bars
    bar_height: str
    bars: tuple[SvgBar, ...]


def bar_chart_svg(spec: dict, width: int = 720) -> SvgBarChart | None:
    """Lay out a :func:`bar_chart` spec: its description titles the picture, ``encoding.y`` names the labels
    (in ``encoding.y.sort`` order, ``labelLimit`` px wide) and ``encoding.x`` the values, printed as money.
    None when it has no bars.

    Labels arrive shortened at a word boundary (``reports.text.short_label``)."""
    enc = spec["encoding"]
    label, value, order = enc["y"]["field"], enc["x"]["field"], enc["y"]["sort"]["field"]
    label_w = enc["y"]["axis"]["labelLimit"]
    values = sorted(spec["data"]["values"], key=lambda v: v[order])
    if not values:
        return None
    bar, gap, value_w = 22, 8, 110
    plot_w = width - label_w - value_w
    top = max(v[value] for v in values) or 1.0
    bars = []
    for i, v in enumerate(values):
        y = gap + i * (bar + gap)
        cost = v[value]
        w = max(1.0, plot_w * cost / top) if cost > 0 else 0.0
        # positional (label, value, y, text_y, width, value_x): the keyword form costs twice as much per bar
        bars.append(SvgBar(v[label], money(cost), str(y), f"{y + bar * 0.7:.1f}", f"{w:.1f}", f"{label_w + w + 6:.1f}"))
    return SvgBarChart(title=spec["description"], width=str(width), height=str(len(values) * (bar + gap) + gap),
                       label_x=str(label_w - 6), plot_x=str(label_w), bar_height=str(bar), bars=tuple(bars))


def _point(p: "QualityPoint") -> dict:
    return {"model": p.model, "provider": p.provider, "monthly_cost_usd": p.monthly_cost_usd,
            "quality_index": p.quality_index, "coverage": p.coverage,
            "estimated": ESTIMATED if p.estimated else PUBLISHED}


def quality_price_chart(points: Sequence["QualityPoint"], frontier: Sequence["QualityPoint"], profile: str) -> dict:
    """Quality index against monthly cost (log scale), one point per scored offering, the frontier as a line.

    Readable without hovering: the frontier's points carry their model's name, providers have one colour
    legend, and one legend (shape and opacity together, one title) tells published scores from estimated
    ones. Hovering any point shows model, provider, monthly cost, quality index, benchmark coverage and score."""
    x = {"field": "monthly_cost_usd", "type": "quantitative", "title": "Monthly cost (USD)", "scale": {"type": "log"}}
    y = {"field": "quality_index", "type": "quantitative", "title": f"Quality index ({profile})",
         "scale": {"domain": [0, 100]}}
    score = {"field": "estimated", "type": "nominal", "title": SCORE_LEGEND,
             "scale": {"domain": [PUBLISHED, ESTIMATED]}}
    tooltip = [{"field": "model", "type": "nominal", "title": "Model"},
               {"field": "provider", "type": "nominal", "title": "Provider"},
               {"field": "monthly_cost_usd", "type": "quantitative", "title": "Monthly cost (USD)", "format": ",.2f"},
               {"field": "quality_index", "type": "quantitative", "title": "Quality index", "format": ".1f"},
               {"field": "coverage", "type": "quantitative", "title": "Benchmark coverage", "format": ".0%"},
               {"field": "estimated", "type": "nominal", "title": SCORE_LEGEND}]
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "description": "Quality against monthly cost for this workload; the line is the Pareto frontier",
        "title": {"text": f"Quality against monthly cost ({profile})",
                  "subtitle": "Line: the Pareto frontier (nothing cheaper scores higher); its points are named"},
        "width": 640, "height": 400,
        "datasets": {"points": [_point(p) for p in points], "frontier": [_point(p) for p in frontier]},
        "layer": [
            {"data": {"name": "points"}, "mark": {"type": "point", "filled": True, "size": 60},
             "encoding": {"x": x, "y": y, "shape": score,
                          "opacity": {**score, "scale": {**score["scale"], "range": [0.9, 0.4]}},
                          "color": {"field": "provider", "type": "nominal", "title": PROVIDER_LEGEND},
                          "tooltip": tooltip}},
            {"data": {"name": "frontier"}, "mark": {"type": "line", "color": "black"},
             "encoding": {"x": x, "y": y, "order": {"field": "monthly_cost_usd", "type": "quantitative"}}},
            {"data": {"name": "frontier"}, "mark": {"type": "text", "align": "left", "dx": 7, "dy": -7, "fontSize": 11},
             "encoding": {"x": x, "y": y, "text": {"field": "model", "type": "nominal"}, "tooltip": tooltip}},
        ],
    }
