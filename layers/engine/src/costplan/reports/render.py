"""Render a ReportContent to JSON, CSV, Markdown or HTML: deterministic bytes, safe against injection.

- HTML: every string is escaped (``html.escape``); the chart is inline SVG; no scripts, no
  external requests.
- CSV: a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a CR is prefixed with
  ``'`` so spreadsheets do not evaluate it (OWASP CSV injection guidance).
- Markdown: pipes, backslashes and newlines in cells are escaped.
"""

import csv
import html
import io
import json
import re

from costplan.reports.content import Cell, ReportContent
from costplan.reports.text import money

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
CONTENT_TYPES = {"json": "application/json", "csv": "text/csv; charset=utf-8",
                 "markdown": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8"}


def vega_lite(c: ReportContent) -> dict:
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "description": c.chart_title,
        "data": {"values": [{"option": label, "monthly_usd": cost, "rank": i}
                            for i, (label, cost) in enumerate(c.chart, start=1)]},
        "mark": {"type": "bar"},
        "encoding": {
            "y": {"field": "option", "type": "nominal", "sort": {"field": "rank"}, "title": c.chart_item},
            "x": {"field": "monthly_usd", "type": "quantitative", "title": c.chart_axis},
            "tooltip": [{"field": "option", "type": "nominal"},
                        {"field": "monthly_usd", "type": "quantitative", "format": ",.2f"}],
        },
    }


def to_json(c: ReportContent) -> bytes:
    doc = {
        "title": c.title, "kind": c.kind, "as_of": c.as_of, "summary": c.summary,
        "table": {"title": c.table_title, "columns": c.columns, "rows": c.rows},
        "sections": [{"title": t, "columns": cols, "rows": rows} for t, cols, rows in c.sections],
        "fallback_steps": [{"step": s, "status": st, "note": n} for s, st, n in c.steps],
        "exclusions": [{"reason": r, "count": n, "examples": ex} for r, n, ex in c.exclusions],
        "warnings": [{"code": a, "severity": b, "field": f, "message": m, "action": x} for a, b, f, m, x in c.warnings],
        "provenance": [{"source": s, "as_of": a} for s, a in c.provenance],
        "chart": vega_lite(c),
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


_MD_SPECIAL = re.compile(r"([\\`*_\[\]()|#!])")


def md_cell(value: Cell) -> str:
    """Markdown-safe text: HTML and Markdown syntax are escaped, so a cell can't inject links, images or tags."""
    text = "" if value is None else str(value)
    text = html.escape(text, quote=False).replace("\r", " ").replace("\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", text)


def _md_table(header: list[str], rows: list[list[Cell]]) -> list[str]:
    out = ["| " + " | ".join(md_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(md_cell(v) for v in row) + " |" for row in rows]
    return out


def to_markdown(c: ReportContent) -> bytes:
    lines = [f"# {md_cell(c.title)}", ""]
    if c.as_of:
        lines += [f"As of {md_cell(c.as_of)}", ""]
    lines += ["## Summary", ""] + [f"- {md_cell(s)}" for s in c.summary] + [""]
    lines += [f"## {md_cell(c.table_title)}", ""] + (_md_table(c.columns, c.rows) if c.rows else ["None."]) + [""]
    for title, columns, rows in c.sections:
        lines += [f"## {md_cell(title)}", ""] + (_md_table(columns, rows) if rows else ["None."]) + [""]
    if c.steps:
        lines += ["## Fallback steps", ""] + _md_table(["Step", "Status", "Note"], [list(s) for s in c.steps]) + [""]
    if c.exclusions_title:
        lines += [f"## {md_cell(c.exclusions_title)}", ""] + (
            _md_table(["Reason", "Count", "Examples"], [list(e) for e in c.exclusions]) if c.exclusions
            else ["None."]) + [""]
    lines += ["## Warnings", ""] + (_md_table(["Code", "Severity", "Field", "Message", "Action"],
                                              [list(w) for w in c.warnings]) if c.warnings else ["None."]) + [""]
    lines += ["## Provenance", ""] + _md_table(["Source", "As of"], [list(p) for p in c.provenance]) + [""]
    return "\n".join(lines).encode("utf-8")


def _h(value: Cell) -> str:
    if isinstance(value, float):
        return html.escape(f"{value:,.6g}" if abs(value) < 1 else f"{value:,.2f}")
    return html.escape("" if value is None else str(value), quote=True)


def svg_chart(c: ReportContent, width: int = 720) -> str:
    """A horizontal bar chart (the content's chart title and labels), as inline SVG. Labels arrive shortened
    at a word boundary (``reports.text.short_label``); values print with the one money formatter."""
    if not c.chart:
        return ""
    bar, gap, label_w, value_w = 22, 8, 300, 110
    plot_w = width - label_w - value_w
    top = max((cost for _, cost in c.chart), default=0) or 1.0
    height = len(c.chart) * (bar + gap) + gap
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{_h(c.chart_title)}" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">']
    for i, (label, cost) in enumerate(c.chart):
        y = gap + i * (bar + gap)
        w = max(1.0, plot_w * cost / top) if cost > 0 else 0.0
        parts.append(f'<text x="{label_w - 6}" y="{y + bar * 0.7:.1f}" text-anchor="end" font-size="12">{_h(label)}</text>')
        parts.append(f'<rect class="bar" x="{label_w}" y="{y}" width="{w:.1f}" height="{bar}" fill="#3b6ea5"/>')
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + bar * 0.7:.1f}" font-size="12">{_h(money(cost))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _html_table(header: list[str], rows: list[list[Cell]], cls: str) -> str:
    head = "".join(f"<th>{_h(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_h(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def to_html(c: ReportContent) -> bytes:
    style = ("body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;"
             "margin:1rem 0}th,td{border:1px solid #ccc;padding:4px 8px;font-size:13px;text-align:left}"
             "th{background:#f2f2f2}")
    sections = [f"<h1>{_h(c.title)}</h1>"]
    if c.as_of:
        sections.append(f"<p>As of {_h(c.as_of)}</p>")
    sections.append("<h2>Summary</h2><ul>" + "".join(f"<li>{_h(s)}</li>" for s in c.summary) + "</ul>")
    sections.append(f'<h2>{_h(c.chart_title)}</h2><figure id="chart">{svg_chart(c)}</figure>')
    sections.append(f"<h2>{_h(c.table_title)}</h2>" + (_html_table(c.columns, c.rows, "ranked") if c.rows
                                                       else "<p>None.</p>"))
    for title, columns, rows in c.sections:
        cls = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
        sections.append(f"<h2>{_h(title)}</h2>" + (_html_table(columns, rows, cls) if rows else "<p>None.</p>"))
    if c.steps:
        sections.append("<h2>Fallback steps</h2>" + _html_table(["Step", "Status", "Note"], [list(s) for s in c.steps],
                                                                 "steps"))
    if c.exclusions_title:
        sections.append(f"<h2>{_h(c.exclusions_title)}</h2>" + (
            _html_table(["Reason", "Count", "Examples"], [list(e) for e in c.exclusions], "exclusions")
            if c.exclusions else "<p>None.</p>"))
    sections.append("<h2>Warnings</h2>" + (_html_table(["Code", "Severity", "Field", "Message", "Action"],
                                                       [list(w) for w in c.warnings], "warnings")
                                           if c.warnings else "<p>None.</p>"))
    sections.append("<h2>Provenance</h2>" + _html_table(["Source", "As of"], [list(p) for p in c.provenance],
                                                         "provenance"))
    doc = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
           f"<title>{_h(c.title)}</title><style>{style}</style></head><body>" + "".join(sections) + "</body></html>\n")
    return doc.encode("utf-8")


RENDERERS = {"json": to_json, "csv": to_csv, "markdown": to_markdown, "html": to_html}
