"""Exact break-evens of the ranking's cost model (``costplan.core.ranking``), in closed form. Pure, no validation.

A hosted row's monthly cost, with prices per 1M tokens (p input, q cache read, r output) and per 1k requests (f):

    cost = [I (1 - c) p + I c q + O r] / 1e6 + R f / 1e3 + F

I input tokens (cached included), c the cached share, O output tokens, R requests, F a fixed monthly term
(self-hosted instances; 0 for an API). Varying one thing with the rest held makes it a line cost = a + b x:

    output share o (T = I + O held; I = T (1 - o), O = T o):
        a = T [(1 - c) p + c q] / 1e6 + R f / 1e3 + F,   b = T (r - (1 - c) p - c q) / 1e6
    cached share c (I, O, R held):
        a = (I p + O r) / 1e6 + R f / 1e3 + F,           b = I (q - p) / 1e6
    volume factor v (I, O, R all x v; shape and shares held):
        a = F,                                           b = [I (1 - c) p + I c q + O r] / 1e6 + R f / 1e3

Two rows swap where w1 (a1 + b1 x) = w2 (a2 + b2 x), i.e.

    x* = (w1 a1 - w2 a2) / (w2 b2 - w1 b1)

(w = 1 for cost; for quality per dollar, #1 keeps its place while q1 / cost1 >= q2 / cost2, so w1 = q2, w2 = q1).
Parallel lines never cross. The prices are those of one price segment: a long-context tier chosen by the average
prompt, or a self-hosted replica count, is constant only between its steps, so callers check the crossing
against the full model and decline where it leaves the segment.
"""

from dataclasses import dataclass

TOKENS = 1e6
REQUESTS = 1e3


@dataclass(frozen=True)
class RowPrices:
    input: float  # per 1M tokens
    output: float
    cache_read: float  # the input price where the row charges cache reads as input
    request_per_1k: float = 0.0
    fixed: float = 0.0  # F: fixed monthly USD


@dataclass(frozen=True)
class Line:
    """cost(x) = a + b x."""

    a: float
    b: float

    def at(self, x: float) -> float:
        return self.a + self.b * x


def cost(p: RowPrices, input_tokens: float, output_tokens: float, cached_share: float, requests: float) -> float:
    """The cost model itself (the same terms as ``rank_configs``), for one row."""
    cached = input_tokens * cached_share
    return ((input_tokens - cached) * p.input + cached * p.cache_read + output_tokens * p.output) / TOKENS \
        + requests * p.request_per_1k / REQUESTS + p.fixed


def output_share_line(p: RowPrices, total_tokens: float, cached_share: float, requests: float) -> Line:
    blended_in = (1.0 - cached_share) * p.input + cached_share * p.cache_read
    return Line(a=total_tokens * blended_in / TOKENS + requests * p.request_per_1k / REQUESTS + p.fixed,
                b=total_tokens * (p.output - blended_in) / TOKENS)


def cached_share_line(p: RowPrices, input_tokens: float, output_tokens: float, requests: float) -> Line:
    return Line(a=(input_tokens * p.input + output_tokens * p.output) / TOKENS + requests * p.request_per_1k / REQUESTS
                + p.fixed, b=input_tokens * (p.cache_read - p.input) / TOKENS)


def volume_line(p: RowPrices, input_tokens: float, output_tokens: float, cached_share: float, requests: float) -> Line:
    return Line(a=p.fixed, b=cost(p, input_tokens, output_tokens, cached_share, requests) - p.fixed)


def crossing(first: Line, second: Line, w1: float = 1.0, w2: float = 1.0) -> float | None:
    """x where w1 first(x) == w2 second(x); None when the lines are parallel (they never swap)."""
    db = w2 * second.b - w1 * first.b
    if db == 0.0:
        return None
    return (w1 * first.a - w2 * second.a) / db
