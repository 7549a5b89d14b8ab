"""The parts of a hosted plan row that come from price provenance: the cost range (unknown long-context share,
disagreeing sources), both sources' quotes, the extended-window flag and the offering's own price date."""

from collections.abc import Callable

import numpy as np

from costplan.services.plan.candidates import CandidateSet
from costplan.services.plan.domain import Workload
from costplan_contracts.enums import PriceBasis

_DIRECTIONS = ("input", "output", "cache_read")


def _cost(prices: dict[str, float], w: Workload, fee: float) -> float:
    cached = w.input_tokens_per_month * w.cached_input_share
    tokens = {"input": w.input_tokens_per_month - cached, "output": w.output_tokens_per_month, "cache_read": cached}
    total = sum(tokens[d] * prices[d] / 1e6 for d in _DIRECTIONS if tokens[d])
    requests = w.requests_per_month or 0.0
    return total + requests * fee / 1e3


def hosted_extras(cs: CandidateSet, j: int, w: Workload, total: float, money: Callable[[float], float],
                  basis: list[PriceBasis], i: int, fee: float) -> dict:
    """Extra fields of hosted row j (a candidate index; catalog offering i, its per-1k-request fee and price basis
    as the row has them), as plain data for the row validator."""
    catalog, hb = cs.catalog, cs.hosted
    reasons, costs = [], [total]
    if PriceBasis.TIER_SHARE_ASSUMED in basis:
        reasons.append(PriceBasis.TIER_SHARE_ASSUMED)
        k = hb.tier_index(j)  # a tier share is assumed only on a tiered row
        costs += [_cost({d: float(hb.low[d][k]) for d in _DIRECTIONS}, w, fee),
                  _cost({d: float(hb.high[d][k]) for d in _DIRECTIONS}, w, fee)]
    quotes = None
    quote = (catalog.disagreements or {}).get(i)
    if quote is not None:
        ranked = {"input": float(hb.input_per_1m[j]), "output": float(hb.output_per_1m[j]),
                  "cache_read": float(hb.cache_read_per_1m[j])}
        second_won = quote.primary is not None  # a dated announcement shows the primary entry is older
        held = quote.primary if second_won else {d: getattr(quote, d) for d in _DIRECTIONS}
        other = {d: ranked[d] if held[d] is None else held[d] for d in _DIRECTIONS}
        reasons.append(PriceBasis.SOURCES_DISAGREE)
        costs.append(_cost(other, w, fee))
        primary_as_of = next((s["as_of"] for s in catalog.sources if s.get("role") == "primary"), catalog.as_of)
        as_used = {f"{d}_per_1m": None if np.isnan(ranked[d]) else ranked[d] for d in _DIRECTIONS}
        as_held = {f"{d}_per_1m": held[d] for d in _DIRECTIONS}
        quotes = [
            {"source": catalog.source, "as_of": primary_as_of if second_won else catalog.price_as_of[i],
             "used": not second_won, **(as_held if second_won else as_used)},
            {"source": catalog.second_source, "as_of": catalog.second_as_of, "used": second_won,
             **(as_used if second_won else as_held), **({"evidence": quote.evidence} if second_won else {})},
        ]
    finite = [c for c in costs if not np.isnan(c)]
    cost_range = None
    if reasons and finite:
        cost_range = {"low_usd": money(min(finite)), "high_usd": money(max(finite)), "reasons": reasons}
    return {"monthly_cost_range": cost_range, "price_sources": quotes,
            "extended_context": bool(hb.extended[j]) if hb.extended is not None else False}
