"""rank_configs: the cost-and-rank kernel behind every plan endpoint.

Pure and vectorised. Validation, price resolution and warnings belong to the callers
(``costplan.services``); this module trusts its inputs ("without any validation", in the
manner of scikit-criteria's kernels).

Monthly cost of candidate i (no hidden blending of input and output prices)::

    input_usd_i   = uncached_input_tokens / 1e6 x input_per_1m_i
    output_usd_i  = output_tokens         / 1e6 x output_per_1m_i
    cached_usd_i  = cached_input_tokens   / 1e6 x cache_read_per_1m_i
    request_usd_i = requests              / 1e3 x request_per_1k_i
    cost_i        = input_usd_i + output_usd_i + cached_usd_i + request_usd_i + fixed_monthly_usd_i

``fixed_monthly_usd`` is the self-hosted term (instances x hourly price x 730 h); a
self-hosted candidate has no per-token prices, so its token terms are 0 by construction.

A component with zero quantity costs 0 even where its price is missing; a component with a
positive quantity and a missing (NaN) price excludes the candidate with a reason code. It is
never priced at 0.

Order: admitted candidates by (objective key, provider key, model key), ascending; the default
objective's key is the cost itself. The keys are the
ranks of the provider and model id strings, so the order does not depend on catalog order.

Stable signature: ``rank_configs(candidates, workload, constraints, *, top_k)``. Later kinds
of candidate (self-hosted GPUs, other services) arrive as rows of ``Candidates``, never as
new positional parameters.
"""

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

TOKENS_PER_PRICE_UNIT = 1_000_000.0
REQUESTS_PER_PRICE_UNIT = 1_000.0


class Reason(IntEnum):
    """Exclusion reasons, in the precedence used when several apply (first wins)."""

    ADMITTED = 0
    MODEL_DEPRECATED = 1
    PRICE_ADAPTIVE = 2
    UNIT_MISMATCH = 3
    PROVIDER_EXCLUDED = 4
    PROVIDER_NOT_ALLOWED = 5
    CONTEXT_WINDOW_UNKNOWN = 6
    CONTEXT_WINDOW_TOO_SMALL = 7
    PRICE_MISSING_INPUT = 8
    PRICE_MISSING_OUTPUT = 9
    PRICE_MISSING_CACHE_READ = 10
    REQUESTS_REQUIRED = 11
    OVER_BUDGET = 12
    # Self-hosted configurations, fixed per configuration by the throughput model (costplan.core.throughput.Fit)
    MISSING_THROUGHPUT = 13
    PRECISION_UNSUPPORTED = 14
    MODEL_DOES_NOT_FIT = 15
    CONTEXT_DOES_NOT_FIT = 16
    SLO_UNREACHABLE = 17
    PRICE_MISSING_HOURLY = 18
    # Catalog ranking across units and services
    UNIT_INCOMPATIBLE = 19
    ATTRIBUTE_MISMATCH = 20
    PROVIDER_WORKLOAD_UNSUPPORTED = 21
    # Quality-aware ranking
    QUALITY_UNKNOWN = 22
    BELOW_MIN_QUALITY = 23


class Objective(IntEnum):
    """What the order optimises. Ties always break on provider id, then model id."""

    MIN_COST = 0  # cost ascending
    MAX_QUALITY_PER_DOLLAR = 1  # quality / cost descending
    BALANCED = 2  # w x quality/100 - (1 - w) x cost/max admitted cost, descending


# Plain ints (IntEnum members are slow in numpy calls), checked in this precedence after the catalog's own blocks.
_UNIT_MISMATCH, _PROVIDER_EXCLUDED, _PROVIDER_NOT_ALLOWED = (int(Reason.UNIT_MISMATCH), int(Reason.PROVIDER_EXCLUDED),
                                                            int(Reason.PROVIDER_NOT_ALLOWED))
_CONTEXT_WINDOW_UNKNOWN, _CONTEXT_WINDOW_TOO_SMALL = int(Reason.CONTEXT_WINDOW_UNKNOWN), int(Reason.CONTEXT_WINDOW_TOO_SMALL)
_PRICE_MISSING_INPUT, _PRICE_MISSING_OUTPUT, _PRICE_MISSING_CACHE_READ = (
    int(Reason.PRICE_MISSING_INPUT), int(Reason.PRICE_MISSING_OUTPUT), int(Reason.PRICE_MISSING_CACHE_READ))
_REQUESTS_REQUIRED, _QUALITY_UNKNOWN, _BELOW_MIN_QUALITY, _OVER_BUDGET = (
    int(Reason.REQUESTS_REQUIRED), int(Reason.QUALITY_UNKNOWN), int(Reason.BELOW_MIN_QUALITY), int(Reason.OVER_BUDGET))


@dataclass(frozen=True)
class Candidates:
    """Struct of arrays, one row per offering. Prices are per 1M tokens; NaN means missing."""

    input_per_1m: np.ndarray
    output_per_1m: np.ndarray
    cache_read_per_1m: np.ndarray
    request_per_1k: np.ndarray  # 0 where the offering charges no per-request fee
    context_window: np.ndarray  # NaN where unknown
    provider_code: np.ndarray  # int index into the provider table
    provider_key: np.ndarray  # sort rank of the provider id string
    model_key: np.ndarray  # sort rank of the model id string
    unit_code: np.ndarray  # native pricing unit (costplan.core.units.UNIT_CODES)
    blocked: np.ndarray  # Reason fixed before ranking (deprecated, adaptive, does not fit, ...), else 0
    fixed_monthly_usd: np.ndarray | None = None  # self-hosted: instances x hourly x 730; None means 0 for all
    quality: np.ndarray | None = None  # quality index 0..100 under the request's profile; NaN unknown

    def __len__(self) -> int:
        return int(self.input_per_1m.shape[0])


@dataclass(frozen=True)
class Workload:
    uncached_input_tokens: float
    output_tokens: float
    cached_input_tokens: float
    requests: float = float("nan")  # NaN: not supplied


@dataclass(frozen=True)
class Constraints:
    budget_usd: float = float("inf")
    min_context: float = 0.0  # a known context window below this excludes the candidate
    unknown_context_ok: bool = True  # whether an unknown (NaN) context window passes a min_context
    admitted_units: np.ndarray | None = None  # bool per unit code; None admits every unit
    allowed_providers: np.ndarray | None = None  # bool per provider code; None admits every provider
    excluded_providers: np.ndarray | None = None  # bool per provider code
    ignore_blocked: frozenset[Reason] = field(default_factory=frozenset)
    needs_quality: bool = False  # an unknown quality excludes the candidate (never scored as 0)
    min_quality: float = 0.0
    objective: Objective = Objective.MIN_COST
    balance_weight: float = 0.5  # the quality weight of Objective.BALANCED


@dataclass(frozen=True)
class RankResult:
    order: np.ndarray  # indices of the top_k admitted candidates, best first
    cost: np.ndarray  # total monthly USD for every candidate (NaN where a needed price is missing)
    input_usd: np.ndarray
    output_usd: np.ndarray
    cached_usd: np.ndarray
    request_usd: np.ndarray
    reason: np.ndarray  # Reason per candidate; 0 admitted
    admitted: int


def _component(quantity: float, price: np.ndarray, per: float) -> np.ndarray:
    if quantity <= 0:
        return np.zeros_like(price)
    return price * (quantity / per)


def _objective_key(cost: np.ndarray, quality: np.ndarray, idx: np.ndarray, k: Constraints) -> np.ndarray:
    """The ascending sort key of the objective (cost itself for MIN_COST)."""
    if k.objective == Objective.MIN_COST or not idx.size:
        return cost
    with np.errstate(divide="ignore", invalid="ignore"):
        if k.objective == Objective.MAX_QUALITY_PER_DOLLAR:
            return -np.where(cost > 0, quality / cost, np.inf)
        top = float(cost[idx].max()) or 1.0
        return -(k.balance_weight * quality / 100.0 - (1.0 - k.balance_weight) * cost / top)


def _checks(c: Candidates, k: Constraints, blocked: np.ndarray, quality: np.ndarray, input_usd: np.ndarray,
            output_usd: np.ndarray, cached_usd: np.ndarray, cost: np.ndarray, has_fee: np.ndarray,
            requests_known: bool) -> list[tuple[np.ndarray, int | np.ndarray]]:
    """(failed, reason) per exclusion check, in precedence order; a check no candidate can fail is left out."""
    checks: list[tuple[np.ndarray, int | np.ndarray]] = [(blocked != 0, blocked)]
    if k.admitted_units is not None:
        checks.append((~k.admitted_units[c.unit_code], _UNIT_MISMATCH))
    if k.excluded_providers is not None:
        checks.append((k.excluded_providers[c.provider_code], _PROVIDER_EXCLUDED))
    if k.allowed_providers is not None:
        checks.append((~k.allowed_providers[c.provider_code], _PROVIDER_NOT_ALLOWED))
    if k.min_context > 0:
        if not k.unknown_context_ok:
            checks.append((np.isnan(c.context_window), _CONTEXT_WINDOW_UNKNOWN))
        checks.append((c.context_window < k.min_context, _CONTEXT_WINDOW_TOO_SMALL))
    checks += [(np.isnan(input_usd), _PRICE_MISSING_INPUT), (np.isnan(output_usd), _PRICE_MISSING_OUTPUT),
               (np.isnan(cached_usd), _PRICE_MISSING_CACHE_READ)]
    if not requests_known:
        checks.append((has_fee, _REQUESTS_REQUIRED))
    if k.needs_quality:
        checks.append((np.isnan(quality), _QUALITY_UNKNOWN))
    if k.min_quality > 0:
        with np.errstate(invalid="ignore"):
            checks.append((quality < k.min_quality, _BELOW_MIN_QUALITY))
    if k.budget_usd != float("inf"):
        checks.append((cost > k.budget_usd, _OVER_BUDGET))
    return checks


def first_failing(n: int, checks: list[tuple[np.ndarray, int | np.ndarray]]) -> np.ndarray:
    """Per candidate, the reason of the first check it fails (0 where it fails none), in one pass.

    The checks' masks are stacked once; a candidate's first failing check is the argmax of its column. A reason
    may be an array (the catalog's own block reason, per candidate)."""
    reason = np.zeros(n, np.int8)
    if not checks or not n:
        return reason
    masks = np.stack([m for m, _ in checks])
    rows = np.flatnonzero(masks.any(axis=0))
    if not rows.size:
        return reason
    first = masks[:, rows].argmax(axis=0)
    codes = np.array([0 if isinstance(r, np.ndarray) else r for _, r in checks], np.int8)
    reason[rows] = codes[first]
    for i, (_, r) in enumerate(checks):
        if isinstance(r, np.ndarray):
            hit = rows[first == i]
            reason[hit] = r[hit]
    return reason


def rank_configs(candidates: Candidates, workload: Workload, constraints: Constraints, *, top_k: int) -> RankResult:
    """Cost every candidate, exclude with reasons, and order the admitted ones."""
    c, w, k = candidates, workload, constraints
    input_usd = _component(w.uncached_input_tokens, c.input_per_1m, TOKENS_PER_PRICE_UNIT)
    output_usd = _component(w.output_tokens, c.output_per_1m, TOKENS_PER_PRICE_UNIT)
    cached_usd = _component(w.cached_input_tokens, c.cache_read_per_1m, TOKENS_PER_PRICE_UNIT)
    has_fee = c.request_per_1k > 0
    requests_known = not np.isnan(w.requests)
    cost = input_usd + output_usd
    cost += cached_usd
    if requests_known:
        request_usd = c.request_per_1k * (w.requests / REQUESTS_PER_PRICE_UNIT)
        cost += request_usd
    else:
        request_usd = np.zeros(len(c))
    if c.fixed_monthly_usd is not None:
        cost = cost + c.fixed_monthly_usd

    blocked = c.blocked
    if k.ignore_blocked:
        blocked = np.where(np.isin(blocked, [int(r) for r in k.ignore_blocked]), 0, blocked)
    needs = k.needs_quality or k.min_quality > 0 or k.objective != Objective.MIN_COST
    quality = c.quality if c.quality is not None or not needs else np.full(len(c), np.nan)
    reason = first_failing(len(c), _checks(c, k, blocked, quality, input_usd, output_usd, cached_usd, cost,
                                           has_fee, requests_known))

    idx = np.flatnonzero(reason == 0)
    key = _objective_key(cost, quality, idx, k)
    if idx.size > top_k:  # only rows as good as the k-th can place; ties at the k-th all stay in
        kth = np.partition(key[idx], top_k - 1)[top_k - 1]
        idx = idx[key[idx] <= kth]
    order = idx[np.lexsort((c.model_key[idx], c.provider_key[idx], key[idx]))][:top_k]
    admitted = int(np.count_nonzero(reason == 0))
    return RankResult(order, cost, input_usd, output_usd, cached_usd, request_usd, reason, admitted)
