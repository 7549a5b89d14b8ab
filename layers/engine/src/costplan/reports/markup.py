"""Markdown and HTML reports from Jinja2 templates (``reports/templates``): each section is listed once
(:func:`sections`) and both formats render that one list, one template block per section kind.

Escaping is the default, never a call to remember:

- HTML (``report.html``, ``bar_chart.svg``): Jinja2 autoescape is on; every printed value is escaped. The
  page has a ``default-src 'none'`` security policy: no script, no external request; the chart is inline SVG.
- Markdown (``report.md``): the environment's ``finalize`` hook passes every printed value through
  :func:`costplan.reports.text.md_cell` (HTML and Markdown syntax escaped, line breaks to spaces), so no value
  can break a table row or inject a link, an image or a tag.

Both environments are built once per process (on first use) and keep their compiled templates.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined
from jinja2.ext import Extension

from costplan.reports.charts import bar_chart, bar_chart_svg
from costplan.reports.content import Cell, ReportContent
from costplan.reports.text import html_value, md_cell

NONE_TEXT = "None."  # what an empty table says


class SectionKind(StrEnum):
    BULLETS = "bullets"
    CHART = "chart"  # HTML draws it; Markdown has no picture (the JSON report carries the chart's spec)
    TABLE = "table"


@dataclass(frozen=True)
class Section:
    kind: SectionKind
    title: str
    lines: Sequence[str] = ()  # BULLETS
    chart: dict | None = None  # CHART: its Vega-Lite spec (the HTML template lays it out with bar_chart_svg)
    columns: Sequence[str] = ()  # TABLE
    rows: Sequence[Sequence[Cell]] = ()
    css: str = ""  # the HTML table's class
    empty: str | None = NONE_TEXT  # shown instead of an empty table; None: the table is shown even when empty


def _css(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def sections(c: ReportContent) -> list[Section]:
    """What a report shows, in order, for every text format."""
    out = [Section(SectionKind.BULLETS, "Summary", lines=c.summary),
           Section(SectionKind.CHART, c.chart_title, chart=bar_chart(c)),
           Section(SectionKind.TABLE, c.table_title, columns=c.columns, rows=c.rows, css="ranked")]
    out += [Section(SectionKind.TABLE, title, columns=columns, rows=rows, css=_css(title))
            for title, columns, rows in c.sections]
    if c.steps:
        out.append(Section(SectionKind.TABLE, "Fallback steps", columns=["Step", "Status", "Note"], rows=c.steps,
                           css="steps"))
    if c.exclusions_title:
        out.append(Section(SectionKind.TABLE, c.exclusions_title, columns=["Reason", "Count", "Examples"],
                           rows=c.exclusions, css="exclusions"))
    out.append(Section(SectionKind.TABLE, "Warnings", columns=["Code", "Severity", "Field", "Message", "Action"],
                       rows=c.warnings, css="warnings"))
    out.append(Section(SectionKind.TABLE, "Provenance", columns=["Source", "As of"], rows=c.provenance,
                       css="provenance", empty=None))
    return out


class CompactMarkup(Extension):
    """Lets ``.html`` and ``.svg`` templates be written one element per line, indented: each source line is
    stripped and the lines are joined, so the output carries no layout whitespace (a line break in these
    templates is never a space; write ``{{ "\\n" }}`` for a real one)."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        if name and name.endswith((".html", ".svg")):
            return "".join(line.strip() for line in source.splitlines())
        return source


def _common() -> dict:
    return {"loader": PackageLoader("costplan.reports", "templates"), "undefined": StrictUndefined,
            "keep_trailing_newline": True, "auto_reload": False}


@cache
def html_environment() -> Environment:
    env = Environment(autoescape=True, finalize=html_value, extensions=[CompactMarkup], **_common())
    env.globals.update(SectionKind=SectionKind, bar_chart_svg=bar_chart_svg)
    return env


@cache
def markdown_environment() -> Environment:
    env = Environment(autoescape=False, finalize=md_cell, trim_blocks=True, lstrip_blocks=True, **_common())
    env.globals["SectionKind"] = SectionKind
    return env


def to_markdown(c: ReportContent) -> bytes:
    return markdown_environment().get_template("report.md").render(c=c, sections=sections(c)).encode("utf-8")


def to_html(c: ReportContent) -> bytes:
    return html_environment().get_template("report.html").render(c=c, sections=sections(c)).encode("utf-8")
