"""Hosted LLM APIs as ranking candidates: model resolution and per-workload price resolution."""

import difflib
from dataclasses import dataclass

import numpy as np

from costplan.catalog.canonical import canonical_id
from costplan.catalog.llm import LlmCatalog
from costplan.core.pricing import blend_tiers
from costplan.services.errors import FieldError, RequestRejected
from costplan_contracts.enums import PriceBasis
from costplan_contracts.plan_llm import PlanLlmRequest


@dataclass(frozen=True)
class HostedBlock:
    idx: np.ndarray  # catalog indices in scope
    input_per_1m: np.ndarray  # the prices each row is ranked at
    output_per_1m: np.ndarray
    cache_read_per_1m: np.ndarray
    tiered: np.ndarray  # bool: the price came from a context-length tier
    time_of_day: np.ndarray  # bool: ranked at the peak time-of-day rate
    cache_as_input: np.ndarray  # bool: cache reads charged at the input price
    tier_basis: PriceBasis
    low: dict[str, np.ndarray] | None = None  # per direction: price with every unknown tier share at its low end
    high: dict[str, np.ndarray] | None = None  # ... and at its high end
    share_basis: np.ndarray | None = None  # per row: 0 no tier crossed, 1 shares stated, 2 share unknown (range)
    disagree: np.ndarray | None = None  # bool: the second price source differs by more than 5%
    extended: np.ndarray | None = None  # bool: an extended window priced from the second source's tier
    unverified: np.ndarray | None = None  # bool: no published window, and the workload states a prompt size

    def basis(self, j: int) -> list[PriceBasis]:
        out = []
        if self.tiered[j]:
            share = 0 if self.share_basis is None else int(self.share_basis[j])
            out.append((PriceBasis.TIER_SELECTED, PriceBasis.TIER_SHARE_STATED, PriceBasis.TIER_SHARE_ASSUMED)[share])
        if self.extended is not None and self.extended[j]:
            out.append(PriceBasis.EXTENDED_CONTEXT)
        if self.unverified is not None and self.unverified[j]:
            out.append(PriceBasis.CONTEXT_WINDOW_UNVERIFIED)
        if self.time_of_day[j]:
            out.append(PriceBasis.TIME_OF_DAY_PEAK)
        if self.cache_as_input[j]:
            out.append(PriceBasis.CACHE_READ_AS_INPUT)
        if self.disagree is not None and self.disagree[j]:
            out.append(PriceBasis.SOURCES_DISAGREE)
        return out or [PriceBasis.LIST_PRICE]


EXACT_BASES = ({PriceBasis.LIST_PRICE}, {PriceBasis.TIER_SELECTED}, {PriceBasis.TIER_SHARE_STATED})


def is_exact(basis: list[PriceBasis]) -> bool:
    """A row carries no assumption: list price, a tier no request crosses, or tiers blended at stated shares."""
    return set(basis) in EXACT_BASES


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
    """The prompt size that says which end of an unknown tier share a row is ranked at, and how it was known."""
    w = req.workload
    if w.max_context_tokens is not None:
        return float(w.max_context_tokens), PriceBasis.TIER_SELECTED
    if w.requests_per_month:
        return w.input_tokens_per_month / w.requests_per_month, PriceBasis.TIER_FROM_AVERAGE_PROMPT
    return 0.0, PriceBasis.TIER_BASE_ASSUMED


def stated_bounds(req: PlanLlmRequest, output: bool) -> list[tuple[int, float, float]]:
    """[(threshold, low, high)] share of tokens above each stated threshold, for one direction.

    A stated token share is exact. For input, a request share r alone bounds it: the r x N requests above a
    threshold T send more than T tokens each and at most max_context_tokens, so the input share lies in
    [r N T / I, r N M / I] (capped at 1; the top is 1 without max_context_tokens). Output has no such bound.
    """
    w = req.workload
    out = []
    for c in w.context_shares:
        exact = c.output_token_share if output else c.input_token_share
        if exact is not None:
            out.append((c.above_tokens, exact, exact))
        elif not output and c.request_share is not None and w.requests_per_month and w.input_tokens_per_month:
            per = c.request_share * w.requests_per_month / w.input_tokens_per_month
            top = min(1.0, per * w.max_context_tokens) if w.max_context_tokens else 1.0
            out.append((c.above_tokens, min(1.0, per * c.above_tokens), top))
    return sorted(out)


def tier_shares(starts: np.ndarray, req: PlanLlmRequest, output: bool) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) share of tokens above each tier start; column 0 is 1, unused slots 0.

    A request no longer than ``max_context_tokens`` crosses no tier at or above it (share 0). Shares fall as
    the threshold rises, so a share stated above the start is a floor and one stated below it a ceiling; a
    share stated at the start gives both. With nothing stated the bounds are 0 and 1.
    """
    w = req.workload
    stated = stated_bounds(req, output)
    lo, hi = np.zeros_like(starts), np.zeros_like(starts)
    lo[:, 0] = hi[:, 0] = 1.0
    for (i, j) in zip(*np.nonzero(np.isfinite(starts[:, 1:]))):
        start = starts[i, j + 1]
        if w.max_context_tokens is not None and w.max_context_tokens <= start:
            continue
        lo[i, j + 1] = max([low for a, low, _ in stated if a >= start], default=0.0)
        hi[i, j + 1] = min([high for a, _, high in stated if a <= start], default=1.0)
        lo[i, j + 1] = min(lo[i, j + 1], hi[i, j + 1])
    return lo, hi


def hosted_block(catalog: LlmCatalog, idx: np.ndarray, req: PlanLlmRequest) -> HostedBlock:
    prompt, tier_basis = prompt_tokens(req)
    tiered, tod = catalog.tiered[idx], catalog.time_of_day[idx]
    t = np.flatnonzero(tiered)
    price, low, high = {}, {}, {}
    share_basis = np.zeros(idx.size, np.int8)
    stated = bool(req.workload.context_shares)
    for d, table in catalog.tiers.items():
        p = table.prices[idx, 0]
        lo_p, hi_p = p.copy(), p.copy()
        if t.size:
            starts, prices = table.starts[idx[t]], table.prices[idx[t]]
            s_lo, s_hi = tier_shares(starts, req, output=d == "output")
            a, b = blend_tiers(starts, prices, s_lo), blend_tiers(starts, prices, s_hi)
            lo_p[t], hi_p[t] = np.fmin(a, b), np.fmax(a, b)
            # Ranked at the end the prompt size points to: prompts that reach a tier are ranked as if all cross it.
            first = np.where(np.isfinite(starts[:, 1:]), starts[:, 1:], np.inf).min(axis=1)
            p[t] = np.where(prompt > first, hi_p[t], lo_p[t])
            crossed = (s_hi[:, 1:] > 0).any(axis=1)
            ranged = (s_lo != s_hi).any(axis=1)
            share_basis[t] = np.maximum(share_basis[t], np.where(ranged, 2, np.where(crossed & stated, 1, 0)))
        if tod.any():
            peak = catalog.peak[d][idx]
            use = tod & ~np.isnan(peak)
            p, lo_p, hi_p = (np.where(use, peak, x) for x in (p, lo_p, hi_p))
        price[d], low[d], high[d] = p, lo_p, hi_p
    cache_as_input = np.isnan(price["cache_read"]) & ~np.isnan(price["input"])
    if req.workload.cached_input_share > 0:
        for book in (price, low, high):
            book["cache_read"] = np.where(cache_as_input, book["input"], book["cache_read"])
    else:
        cache_as_input[:] = False
    disagree = catalog.disagrees[idx] if catalog.disagrees is not None else np.zeros(idx.size, bool)
    extended = catalog.extended[idx] if catalog.extended is not None else np.zeros(idx.size, bool)
    unverified = np.isnan(catalog.context_window[idx]) & (req.workload.max_context_tokens is not None)
    return HostedBlock(idx, price["input"], price["output"], price["cache_read"], tiered, tod, cache_as_input,
                       tier_basis, low, high, share_basis, disagree, extended, unverified)
