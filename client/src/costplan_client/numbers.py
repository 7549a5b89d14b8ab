"""One parser for the numbers people type: ``3e9``, ``3B``, ``3,000,000,000``, ``3 billion``, ``2.5M``, ``3_000``.

Scales (case-insensitive; short scale, as in English finance): k / thousand = 1e3, m / mn / million = 1e6,
b / bn / billion = 1e9, t / tn / trillion = 1e12. The mantissa is read as a Decimal and multiplied exactly,
then rounded once to the nearest float, so ``1.1B`` is 1100000000.0 (not 1100000000.0000002).

Refused, with the reason: empty text, NaN and infinities, commas that are not thousands groups (``3,5`` is
ambiguous between locales), unknown words and a scale on its own.
"""

import re
from decimal import Decimal, InvalidOperation

SCALES: dict[str, int] = {
    "k": 10**3, "thousand": 10**3,
    "m": 10**6, "mn": 10**6, "million": 10**6,
    "b": 10**9, "bn": 10**9, "billion": 10**9,
    "t": 10**12, "tn": 10**12, "trillion": 10**12,
}
_NUMBER = re.compile(
    r"""^(?P<sign>[+-]?)
        (?P<mantissa>
            \d{1,3}(?:,\d{3})+(?:\.\d+)?      # thousands groups: 3,000,000 or 1,234.5
          | \d+(?:_\d+)*(?:\.\d*)?            # 3000, 3_000, 3., 3.5
          | \.\d+                             # .5
        )
        (?P<exponent>[eE][+-]?\d+)?
        \s*(?P<scale>[A-Za-z]+)?$""",
    re.VERBOSE,
)


def parse_number(text: str | float | int) -> float:
    """The number ``text`` names, as a float; ValueError naming the reason otherwise."""
    if isinstance(text, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(text, int | float):
        value = float(text)
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("not a finite number")
        return value
    raw = str(text).strip()
    if not raw:
        raise ValueError("empty; give a number such as 3e9, 3B, 3,000,000,000 or '3 billion'")
    m = _NUMBER.match(raw)
    if m is None:
        raise ValueError(f"{raw!r} is not a number; write it as 3e9, 3B, 3,000,000,000 or '3 billion'")
    scale = 1
    if m["scale"] and m["exponent"]:
        raise ValueError(f"{raw!r}: give an exponent (3e9) or a scale (3B), not both")
    if m["scale"]:
        word = m["scale"].lower()
        if word not in SCALES:
            raise ValueError(f"{raw!r}: unknown scale {m['scale']!r}; use k, M, B, T or thousand, million, billion, "
                             "trillion")
        scale = SCALES[word]
    try:
        value = Decimal(m["mantissa"].replace(",", "").replace("_", "") + (m["exponent"] or "")) * scale
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise ValueError(f"{raw!r} is not a number") from None
    out = float(-value if m["sign"] == "-" else value)
    if out in (float("inf"), float("-inf")):
        raise ValueError(f"{raw!r} is too large")
    return out


def parse_count(text: str | float | int) -> int:
    """A whole number (top_k, token counts per request): the parsed value must have no fraction."""
    value = parse_number(text)
    if not value.is_integer():
        raise ValueError(f"{text!r} is not a whole number")
    return int(value)
