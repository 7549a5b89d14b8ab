"""Render a ReportContent to JSON, CSV, Markdown or HTML: deterministic bytes, safe against injection.

- JSON: the content as data, with the chart as a Vega-Lite spec (``reports.charts.bar_chart``).
- CSV: a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a CR is prefixed with
  ``'`` so spreadsheets do not evaluate it (OWASP CSV injection guidance).
- Markdown and HTML: Jinja2 templates, one section list for both (``reports.markup``): HTML autoescaped,
  with the chart as inline SVG drawn from the same spec, no scripts and no external requests; Markdown
  with pipes, backslashes, Markdown and HTML syntax and newlines escaped in every value.
"""

import csv
import io
import json

from costplan.reports.charts import bar_chart
from costplan.reports.content import Cell, ReportContent

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CONTENT_TYPES = {"json": "application/json", "csv": "text/csv; charset=utf-8",
                 "markdown": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8"}


def to_json(c: ReportContent) -> bytes:
    doc = {
        "title": c.title, "kind": c.kind, "as_of": c.as_of, "summary": c.summary,
        "table": {"title": c.table_title, "columns": c.columns, "rows": c.rows},
        "sections": [{"title": t, "columns": cols, "rows": rows} for t, cols, rows in c.sections],
        "fallback_steps": [{"step": s, "status": st, "note": n} for s, st, n in c.steps],
        "exclusions": [{"reason": r, "count": n, "examples": ex} for r, n, ex in c.exclusions],
        "warnings": [{"code": a, "severity": b, "field": f, "message": m, "action": x} for a, b, f, m, x in c.warnings],
        "provenance": [{"source": s, "as_of": a} for s, a in c.provenance],
        "chart": bar_chart(c),
    }
    return (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def csv_cell(value: Cell) -> Cell:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return "" if value is None else value


def to_csv(c: ReportContent) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)  # every text cell quoted, CR/LF included
    w.writerow([csv_cell(h) for h in c.columns])
    for row in c.rows:
        w.writerow([csv_cell(v) for v in row])
    return buf.getvalue().encode("utf-8")


# Markdown and HTML import Jinja2 on first use (lazy, for cold start): report status and the JSON/CSV-only
# paths import this module and never load the template engine.
def to_markdown(c: ReportContent) -> bytes:
    from costplan.reports import markup

    return markup.to_markdown(c)


def to_html(c: ReportContent) -> bytes:
    from costplan.reports import markup

    return markup.to_html(c)


RENDERERS = {"json": to_json, "csv": to_csv, "markdown": to_markdown, "html": to_html}
