"""Hosted LLM APIs as ranking candidates: model resolution and per-workload price resolution."""

import difflib
from dataclasses import dataclass

import numpy as np

from costplan.catalog.canonical import canonical_id
from costplan.catalog.llm import LlmCatalog
from costplan.core.pricing import select_tier
from costplan.services.errors import FieldError, RequestRejected
from costplan_contracts.enums import PriceBasis
from costplan_contracts.plan_llm import PlanLlmRequest


@dataclass(frozen=True)
class HostedBlock:
    idx: np.ndarray  # catalog indices in scope
    input_per_1m: np.ndarray
    output_per_1m: np.ndarray
    cache_read_per_1m: np.ndarray
    tiered: np.ndarray  # bool: the price came from a context-length tier
    time_of_day: np.ndarray  # bool: ranked at the peak time-of-day rate
    cache_as_input: np.ndarray  # bool: cache reads charged at the input price
    tier_basis: PriceBasis

    def basis(self, j: int) -> list[PriceBasis]:
        out = [self.tier_basis] if self.tiered[j] else []
        if self.time_of_day[j]:
            out.append(PriceBasis.TIME_OF_DAY_PEAK)
        if self.cache_as_input[j]:
            out.append(PriceBasis.CACHE_READ_AS_INPUT)
        return out or [PriceBasis.LIST_PRICE]


def resolve_model(catalog: LlmCatalog, requested: str, extra_ids: set[str] = frozenset()) -> str:
    """A canonical id for ``requested`` (any alias), or a 422 naming close matches."""
    key = requested.strip().lower()
    if key in catalog.aliases:
        return catalog.aliases[key]
    guess = canonical_id(key)
    if guess in catalog.canonical_offerings or guess in extra_ids:
        return guess
    close = difflib.get_close_matches(key, sorted(set(catalog.canonical_offerings) | set(extra_ids)), n=5, cutoff=0.6)
    hint = f"; close matches: {', '.join(close)}" if close else ""
    raise RequestRejected(f"Unknown model '{requested}'", [FieldError("model", f"unknown model '{requested}'{hint}")])


def prompt_tokens(req: PlanLlmRequest) -> tuple[float, PriceBasis]:
    """The prompt size that selects a context tier, and how it was known."""
    w = req.workload
    if w.max_context_tokens is not None:
        return float(w.max_context_tokens), PriceBasis.TIER_SELECTED
    if w.requests_per_month:
        return w.input_tokens_per_month / w.requests_per_month, PriceBasis.TIER_FROM_AVERAGE_PROMPT
    return 0.0, PriceBasis.TIER_BASE_ASSUMED


def hosted_block(catalog: LlmCatalog, idx: np.ndarray, req: PlanLlmRequest) -> HostedBlock:
    prompt, tier_basis = prompt_tokens(req)
    tiered, tod = catalog.tiered[idx], catalog.time_of_day[idx]
    t = np.flatnonzero(tiered)
    price = {}
    for d, table in catalog.tiers.items():
        p = table.prices[idx, 0]
        if t.size and prompt > 0:
            p[t] = select_tier(table.starts[idx[t]], table.prices[idx[t]], prompt)
        if tod.any():
            peak = catalog.peak[d][idx]
            p = np.where(tod & ~np.isnan(peak), peak, p)
        price[d] = p
    cache_as_input = np.isnan(price["cache_read"]) & ~np.isnan(price["input"])
    if req.workload.cached_input_share > 0:
        price["cache_read"] = np.where(cache_as_input, price["input"], price["cache_read"])
    else:
        cache_as_input[:] = False
    return HostedBlock(idx, price["input"], price["output"], price["cache_read"], tiered, tod, cache_as_input, tier_basis)
