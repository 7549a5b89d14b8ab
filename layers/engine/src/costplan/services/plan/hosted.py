"""Hosted LLM APIs as ranking candidates: model resolution and per-workload price resolution."""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from costplan.catalog.llm import LlmCatalog
from costplan.core.pricing import blend_tiers
from costplan.services.errors import FieldError, RequestRejected
from costplan.services.plan.domain import Workload
from costplan_contracts.enums import PriceBasis


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
    # Per direction, for the tiered rows only (see tier_index): the price with every unknown tier share at its low
    # end, and at its high end (an untiered row's range is its price).
    low: dict[str, np.ndarray] | None = None
    high: dict[str, np.ndarray] | None = None
    share_basis: np.ndarray | None = None  # per row: 0 no tier crossed, 1 shares stated, 2 share unknown (range)
    disagree: np.ndarray | None = None  # bool: the second price source differs by more than 5%
    extended: np.ndarray | None = None  # bool: an extended window priced from the second source's tier
    unverified: np.ndarray | None = None  # bool: no published window, and the workload states a prompt size
    tiered_rows: np.ndarray | None = None  # the tiered rows' positions, ascending: row j's low/high are at
    # searchsorted(tiered_rows, j)

    def tier_index(self, j: int) -> int:
        """Where tiered row j's low/high prices are."""
        return int(np.searchsorted(self.tiered_rows, j))

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
    # lazy: cold start, the canonical-id rules (a dozen regexes) are needed only for a name that is not an alias
    from costplan.catalog.canonical import canonical_id

    guess = canonical_id(key)
    if guess in catalog.canonical_offerings or guess in extra_ids:
        return guess
    import difflib  # lazy: cold start, only an unknown model needs close matches

    close = difflib.get_close_matches(key, sorted(set(catalog.canonical_offerings) | set(extra_ids)), n=5, cutoff=0.6)
    hint = f"; close matches: {', '.join(close)}" if close else ""
    raise RequestRejected(f"Unknown model '{requested}'", [FieldError("model", f"unknown model '{requested}'{hint}")])


def prompt_tokens(w: Workload) -> tuple[float, PriceBasis]:
    """The prompt size that says which end of an unknown tier share a row is ranked at, and how it was known."""
    if w.max_context_tokens is not None:
        return float(w.max_context_tokens), PriceBasis.TIER_SELECTED
    if w.requests_per_month:
        return w.input_tokens_per_month / w.requests_per_month, PriceBasis.TIER_FROM_AVERAGE_PROMPT
    return 0.0, PriceBasis.TIER_BASE_ASSUMED


def stated_bounds(w: Workload, output: bool) -> list[tuple[int, float, float]]:
    """[(threshold, low, high)] share of tokens above each stated threshold, for one direction.

    A stated token share is exact. For input, a request share r alone bounds it: the r x N requests above a
    threshold T send more than T tokens each and at most max_context_tokens, so the input share lies in
    [r N T / I, r N M / I] (capped at 1; the top is 1 without max_context_tokens). Output has no such bound.
    """
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


def tier_shares(starts: np.ndarray, w: Workload, output: bool) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) share of tokens above each tier start; column 0 is 1, unused slots 0.

    A request no longer than ``max_context_tokens`` crosses no tier at or above it (share 0). Shares fall as
    the threshold rises, so a share stated above the start is a floor and one stated below it a ceiling; a
    share stated at the start gives both. With nothing stated the bounds are 0 and 1. One pass over every
    (row, tier) at once: ``low = max(stated lows at or above the start, 0)``, ``high = min(stated highs at or
    below it, 1)``, ``low <= high``.
    """
    rest = starts[:, 1:]
    live = np.isfinite(rest)
    if w.max_context_tokens is not None:
        live &= rest < w.max_context_tokens
    stated = stated_bounds(w, output)
    if stated:
        at, lows, highs = (np.array(v, dtype=float) for v in zip(*stated, strict=True))
        s = rest[..., None]
        with np.errstate(invalid="ignore"):  # inf starts compare fine; NaN never occurs (padding is +inf)
            low = np.where(at >= s, lows, 0.0).max(axis=-1)
            high = np.where(at <= s, highs, 1.0).min(axis=-1)
        low = np.minimum(low, high)
    else:
        low, high = 0.0, 1.0
    lo, hi = np.zeros_like(starts), np.zeros_like(starts)
    lo[:, 0] = hi[:, 0] = 1.0
    lo[:, 1:] = np.where(live, low, 0.0)
    hi[:, 1:] = np.where(live, high, 0.0)
    return lo, hi


def _tier_ends(starts: np.ndarray, prices: np.ndarray, w: Workload, output: bool):
    """(low, high, share basis) of tiered rows: the blended price at both ends of the unknown tier shares, and
    0 no tier crossed, 1 shares stated, 2 share unknown (a range)."""
    s_lo, s_hi = tier_shares(starts, w, output)
    a, b = blend_tiers(starts, prices, s_lo), blend_tiers(starts, prices, s_hi)
    crossed = (s_hi[:, 1:] > 0).any(axis=1)
    ranged = (s_lo != s_hi).any(axis=1)
    basis = np.where(ranged, 2, np.where(crossed & bool(w.context_shares), 1, 0)).astype(np.int8)
    return np.fmin(a, b), np.fmax(a, b), basis


NOTHING_STATED = Workload(0.0, 0.0)  # no context shares and no max_context_tokens: the tier shares run 0..1


class DirectionPrices(NamedTuple):  # a record (cheaper to define than a dataclass)
    """One price direction of the whole catalog, as every request starts from it (computed once per catalog)."""

    base: np.ndarray  # (n,) column 0: the price below every tier
    starts: np.ndarray  # (t, T) tier starts of the tiered offerings (``HostedInvariants.tiered_rows``)
    prices: np.ndarray  # (t, T)
    first: np.ndarray  # (t,) the lowest tier start (inf where this direction has no tier)
    low: np.ndarray  # (t,) _tier_ends with nothing stated
    high: np.ndarray  # (t,)
    basis: np.ndarray  # (t,) int8
    peak_use: np.ndarray  # (n,) bool: ranked at the peak time-of-day price
    peak: np.ndarray  # (n,)
    peak_rows: np.ndarray  # flatnonzero(peak_use)


class HostedInvariants(NamedTuple):  # a record (cheaper to define than a dataclass)
    """What hosted_block needs from the catalog and no request changes: built once per catalog and process."""

    tiered_rows: np.ndarray  # catalog indices of offerings with context-length tiers in some direction
    tier_pos: np.ndarray  # (n,) position of each offering in tiered_rows, -1 where untiered
    directions: dict[str, DirectionPrices]
    any_time_of_day: bool
    disagree: np.ndarray  # (n,) bool
    extended: np.ndarray  # (n,) bool
    unknown_window: np.ndarray  # (n,) bool
    window: np.ndarray  # (n,) the window each offering ranks with: an extended window counts as unknown (NaN)
    tiered: np.ndarray  # (n,) bool
    no: np.ndarray  # (n,) bool, all False (shared, read-only)
    cache_as_input: np.ndarray  # (n,) bool: no cache-read price but an input price, at the base (untiered) prices


def _invariants(catalog: LlmCatalog) -> HostedInvariants:
    n = len(catalog)
    rows = np.flatnonzero(catalog.tiered)
    pos = np.full(n, -1, np.int64)
    pos[rows] = np.arange(rows.size)
    directions = {}
    for d, table in catalog.tiers.items():
        starts, prices = table.starts[rows], table.prices[rows]
        low, high, basis = _tier_ends(starts, prices, NOTHING_STATED, d == "output")
        peak = catalog.peak[d]
        directions[d] = DirectionPrices(
            base=table.prices[:, 0].copy(), starts=starts, prices=prices,
            first=starts[:, 1:].min(axis=1) if starts.shape[1] > 1 else np.full(rows.size, np.inf),
            low=low, high=high, basis=basis, peak_use=(use := catalog.time_of_day & ~np.isnan(peak)), peak=peak,
            peak_rows=np.flatnonzero(use))
    none = np.zeros(n, bool)
    none.flags.writeable = False
    for dp in directions.values():  # shared by every request: nothing may write into them
        for a in (dp.base, dp.starts, dp.prices, dp.first, dp.low, dp.high, dp.basis, dp.peak_use):
            a.flags.writeable = False
    pos.flags.writeable = False
    return HostedInvariants(
        tiered_rows=rows, tier_pos=pos, directions=directions, any_time_of_day=bool(catalog.time_of_day.any()),
        disagree=catalog.disagrees if catalog.disagrees is not None else none,
        extended=catalog.extended if catalog.extended is not None else none,
        unknown_window=np.isnan(catalog.context_window),
        window=(np.where(catalog.extended, np.nan, catalog.context_window) if catalog.extended is not None
                else catalog.context_window),
        tiered=pos >= 0, no=none, cache_as_input=_cache_as_input(directions, np.arange(n)))


def _cache_as_input(directions: dict[str, "DirectionPrices"], rows: np.ndarray) -> np.ndarray:
    """Rows (of the catalog) with no cache-read price but an input price, at their base or peak prices."""
    cache, inp = directions["cache_read"], directions["input"]
    c = np.where(cache.peak_use[rows], cache.peak[rows], cache.base[rows])
    i = np.where(inp.peak_use[rows], inp.peak[rows], inp.base[rows])
    return np.isnan(c) & ~np.isnan(i)


_INVARIANTS: dict[int, tuple[LlmCatalog, HostedInvariants]] = {}
_INVARIANTS_KEPT = 4  # the bundled catalog, a refreshed snapshot, and what tests build


def hosted_invariants(catalog: LlmCatalog) -> HostedInvariants:
    """The catalog's HostedInvariants, computed on first use and kept for the process (catalogs are immutable)."""
    hit = _INVARIANTS.get(id(catalog))
    if hit is not None and hit[0] is catalog:
        return hit[1]
    if len(_INVARIANTS) >= _INVARIANTS_KEPT:
        _INVARIANTS.clear()
    inv = _invariants(catalog)
    _INVARIANTS[id(catalog)] = (catalog, inv)
    return inv


def hosted_block(catalog: LlmCatalog, idx: np.ndarray, w: Workload) -> HostedBlock:
    """The offerings ``idx`` priced for workload ``w``: the prices each row is ranked at, their ranges and bases.

    Tiered rows are ranked at the end of their price range the prompt size points to: prompts that reach a tier
    are ranked as if all cross it. With nothing stated about the tier shares, the range comes from the catalog's
    invariants; otherwise it is blended for this request."""
    inv = hosted_invariants(catalog)
    prompt, tier_basis = prompt_tokens(w)
    n = len(catalog)  # idx is every offering in catalog order (plan/llm without a model, insights), or a subset
    full = idx.size == n and (n == 0 or (int(idx[0]) == 0 and int(idx[-1]) == n - 1))

    def pick(a: np.ndarray) -> np.ndarray:
        return a if full else a[idx]

    if full:  # the whole catalog: the tiered rows and their positions are invariants
        t = at_t = inv.tiered_rows
        tp = np.arange(t.size)
    else:
        pos = inv.tier_pos[idx]
        t = np.flatnonzero(pos >= 0)  # positions (in idx) of the tiered offerings
        tp, at_t = pos[t], idx[t]  # their positions in the invariants, their catalog indices
    nothing_stated = w.max_context_tokens is None and not w.context_shares
    price, low, high = {}, {}, {}
    share_basis = np.zeros(idx.size, np.int8)
    moved = [t]  # rows whose price may differ from the base price (tiered, time of day)
    for d, dp in inv.directions.items():
        p = dp.base.copy() if full else dp.base[idx]
        lo_t = hi_t = np.zeros(0)
        if t.size:
            if nothing_stated:
                lo_t, hi_t, basis = dp.low[tp], dp.high[tp], dp.basis[tp]
            else:
                lo_t, hi_t, basis = _tier_ends(dp.starts[tp], dp.prices[tp], w, d == "output")
            p[t] = np.where(prompt > dp.first[tp], hi_t, lo_t)
            share_basis[t] = np.maximum(share_basis[t], basis)
        if inv.any_time_of_day:  # the few time-of-day rows take their peak price
            rows = dp.peak_rows if full else np.flatnonzero(dp.peak_use[idx])
            if rows.size:
                p[rows] = dp.peak[rows] if full else dp.peak[idx[rows]]
                moved.append(rows)
            if t.size and (tod_t := np.flatnonzero(dp.peak_use[at_t])).size:
                lo_t, hi_t = lo_t.copy(), hi_t.copy()
                lo_t[tod_t] = hi_t[tod_t] = dp.peak[at_t[tod_t]]
        price[d], low[d], high[d] = p, lo_t, hi_t
    # No cache-read price but an input price: from the invariant, re-checked where a price moved off its base.
    cache_as_input = pick(inv.cache_as_input).copy()
    for rows in moved:
        cache_as_input[rows] = np.isnan(price["cache_read"][rows]) & ~np.isnan(price["input"][rows])
    if w.cached_input_share > 0:
        rows = np.flatnonzero(cache_as_input)
        price["cache_read"][rows] = price["input"][rows]
        in_t = np.flatnonzero(cache_as_input[t])
        for book in (low, high):
            book["cache_read"] = book["cache_read"].copy()
            book["cache_read"][in_t] = book["input"][in_t]
    else:
        cache_as_input = pick(inv.no)
    unverified = pick(inv.unknown_window) if w.max_context_tokens is not None else pick(inv.no)
    return HostedBlock(idx, price["input"], price["output"], price["cache_read"], pick(inv.tiered),
                       pick(catalog.time_of_day), cache_as_input, tier_basis, low, high, share_basis,
                       pick(inv.disagree), pick(inv.extended), unverified, t)
