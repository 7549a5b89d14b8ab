"""The report text helpers every format shares: one money formatter, one label shortener, and the escaping
rule of each text format (applied by the templates to every value they print, see ``reports.markup``)."""

import html
import re

ELLIPSIS = "\u2026"
LABEL_MAX = 44  # characters of a chart label (about 300 px at 12 px)
_MD_SPECIAL = re.compile(r"([\\`*_\[\]()|#!])")


def money(x: float, currency: str = "USD") -> str:
    """``$1,234.50`` and ``-$520.00`` (the sign before the symbol); other currencies as ``1,234.50 EUR``."""
    if currency != "USD":
        return f"{x:,.2f} {currency}"
    sign = "-" if round(x, 2) < 0 else ""
    return f"{sign}${abs(x):,.2f}"


def short_label(text: str, limit: int = LABEL_MAX) -> str:
    """``text`` if it fits, else cut at the last word boundary (space, ``/`` or ``-``) that fits with an
    ellipsis; a single word longer than the limit is cut inside it only then."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    room = text[:limit - 1]
    cut = max(room.rfind(" "), room.rfind("/") + 1 if "/" in room else -1, room.rfind("-") + 1 if "-" in room else -1)
    head = room[:cut] if cut > limit // 3 else room  # a word boundary too early would lose the label
    return head.rstrip(" /-,;:") + ELLIPSIS


def md_cell(value) -> str:
    """Markdown-safe text: HTML and Markdown syntax are escaped and line breaks become spaces, so a value can't
    break a table row or inject links, images or tags."""
    text = "" if value is None else str(value)
    text = html.escape(text, quote=False).replace("\r", " ").replace("\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", text)


def html_value(value):
    """A value as the HTML report prints it, before escaping: floats with 2 decimals (6 significant digits
    below 1), None as nothing, anything else as text; Markup (already safe) passes unchanged. Escaping is the
    template engine's job (a plain ``str`` takes MarkupSafe's fast path)."""
    if type(value) is str:  # most cells: checked first
        return value
    if isinstance(value, float):
        return f"{value:,.6g}" if abs(value) < 1 else f"{value:,.2f}"
    if value is None:
        return ""
    return value if hasattr(value, "__html__") else str(value)
