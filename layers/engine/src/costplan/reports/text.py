"""The report text helpers every format shares: one money formatter and one label shortener."""

ELLIPSIS = "\u2026"
LABEL_MAX = 44  # characters of a chart label (about 300 px at 12 px)


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
