"""rank_configs and the pricing kernels: worked examples, properties, and a brute-force oracle."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costplan.core.pricing import has_tiers, select_tier
from costplan.core.ranking import Candidates, Constraints, Reason, Workload, rank_configs
from costplan.core.units import UNIT_CODES, UNITS, conversion_factor, convertible

NAN = float("nan")


def make(rows, providers=None):
    """rows: (provider, model, input, output, cache_read[, context, request_fee, unit])."""
    providers = providers or sorted({r[0] for r in rows})
    pkey = {p: i for i, p in enumerate(sorted({r[0] for r in rows}))}
    mkey = {m: i for i, m in enumerate(sorted({r[1] for r in rows}))}

    def col(j, default):
        return np.array([r[j] if len(r) > j else default for r in rows], dtype=float)

    return Candidates(
        input_per_1m=col(2, NAN), output_per_1m=col(3, NAN), cache_read_per_1m=col(4, NAN),
        request_per_1k=col(6, 0.0), context_window=col(5, NAN),
        provider_code=np.array([providers.index(r[0]) for r in rows]),
        provider_key=np.array([pkey[r[0]] for r in rows]), model_key=np.array([mkey[r[1]] for r in rows]),
        unit_code=np.array([UNIT_CODES[r[7] if len(r) > 7 else "per_1m_tokens"] for r in rows]),
        blocked=np.zeros(len(rows), np.int8),
    )


def test_monthly_cost_is_the_sum_of_each_direction_at_its_own_price():
    # 10M uncached input at $3, 2M output at $15, 5M cached at $0.30 -> 30 + 30 + 1.5
    c = make([("anthropic", "claude", 3.0, 15.0, 0.30)])
    r = rank_configs(c, Workload(10e6, 2e6, 5e6), Constraints(), top_k=5)
    assert r.input_usd[0] == pytest.approx(30.0)
    assert r.output_usd[0] == pytest.approx(30.0)
    assert r.cached_usd[0] == pytest.approx(1.5)
    assert r.cost[0] == pytest.approx(61.5)
    assert list(r.order) == [0]


def test_per_request_fee_is_added_when_requests_are_known_and_required_otherwise():
    c = make([("p", "m", 1.0, 1.0, NAN, NAN, 5.0)])  # $5 per 1k requests
    known = rank_configs(c, Workload(1e6, 1e6, 0, requests=2000), Constraints(), top_k=1)
    assert known.request_usd[0] == pytest.approx(10.0) and known.cost[0] == pytest.approx(12.0)
    unknown = rank_configs(c, Workload(1e6, 1e6, 0), Constraints(), top_k=1)
    assert unknown.reason[0] == Reason.REQUESTS_REQUIRED and unknown.admitted == 0


def test_a_missing_price_excludes_only_when_its_direction_has_tokens():
    c = make([("voyage", "embed", 0.1, NAN, NAN), ("a", "chat", 1.0, 2.0, NAN)])
    with_output = rank_configs(c, Workload(1e6, 1e6, 0), Constraints(), top_k=5)
    assert with_output.reason[0] == Reason.PRICE_MISSING_OUTPUT
    assert list(with_output.order) == [1]
    input_only = rank_configs(c, Workload(1e6, 0, 0), Constraints(), top_k=5)
    assert input_only.cost[0] == pytest.approx(0.1)  # no output tokens: a missing output price costs nothing
    cached = rank_configs(c, Workload(1e6, 0, 1e6), Constraints(), top_k=5)
    assert cached.reason[0] == Reason.PRICE_MISSING_CACHE_READ and cached.reason[1] == Reason.PRICE_MISSING_CACHE_READ


def test_ties_break_on_provider_then_model_id():
    c = make([("zeta", "a", 1.0, 1.0, NAN), ("alpha", "b", 1.0, 1.0, NAN), ("alpha", "a", 1.0, 1.0, NAN)])
    r = rank_configs(c, Workload(1e6, 1e6, 0), Constraints(), top_k=3)
    assert list(r.order) == [2, 1, 0]


def test_reason_precedence_reports_the_first_failing_constraint():
    c = make([("p", "m", 100.0, 100.0, NAN, 1000)])
    allowed = np.array([False])
    r = rank_configs(c, Workload(1e6, 1e6, 0), Constraints(budget_usd=1, min_context=4000, allowed_providers=allowed),
                     top_k=1)
    assert r.reason[0] == Reason.PROVIDER_NOT_ALLOWED
    r = rank_configs(c, Workload(1e6, 1e6, 0), Constraints(budget_usd=1, min_context=4000), top_k=1)
    assert r.reason[0] == Reason.CONTEXT_WINDOW_TOO_SMALL
    r = rank_configs(c, Workload(1e6, 1e6, 0), Constraints(budget_usd=1), top_k=1)
    assert r.reason[0] == Reason.OVER_BUDGET


def test_unknown_context_window_passes_only_when_allowed():
    c = make([("p", "m", 1.0, 1.0, NAN)])
    assert rank_configs(c, Workload(1, 1, 0), Constraints(min_context=8000), top_k=1).admitted == 1
    strict = rank_configs(c, Workload(1, 1, 0), Constraints(min_context=8000, unknown_context_ok=False), top_k=1)
    assert strict.reason[0] == Reason.CONTEXT_WINDOW_UNKNOWN


def test_excluded_provider_and_unit_mismatch():
    c = make([("p", "m", 1.0, 1.0, NAN), ("q", "n", 1.0, 1.0, NAN)])
    r = rank_configs(c, Workload(1, 1, 0), Constraints(excluded_providers=np.array([True, False])), top_k=2)
    assert r.reason[0] == Reason.PROVIDER_EXCLUDED and list(r.order) == [1]
    units = np.array([name == "per_1k_tokens" for name in UNITS])
    assert rank_configs(c, Workload(1, 1, 0), Constraints(admitted_units=units), top_k=2).admitted == 0


def test_blocked_rows_stay_excluded_unless_ignored():
    c = make([("p", "m", 1.0, 1.0, NAN)])
    c.blocked[0] = Reason.MODEL_DEPRECATED
    assert rank_configs(c, Workload(1, 1, 0), Constraints(), top_k=1).reason[0] == Reason.MODEL_DEPRECATED
    ok = rank_configs(c, Workload(1, 1, 0), Constraints(ignore_blocked=frozenset({Reason.MODEL_DEPRECATED})), top_k=1)
    assert ok.admitted == 1


def test_select_tier_follows_the_cliff_model_of_genai_prices():
    # Gemini-style: $1.25 up to 200k prompt tokens, $2.50 above; a second row is untiered, a third missing.
    starts = np.array([[0, 200_000], [0, np.inf], [0, np.inf]], dtype=float)
    prices = np.array([[1.25, 2.5], [3.0, np.nan], [np.nan, np.nan]])
    assert select_tier(starts, prices, 200_000)[0] == 1.25  # exactly at the start: still base
    assert select_tier(starts, prices, 200_001)[0] == 2.5
    assert select_tier(starts, prices, 10_000_000)[1] == 3.0
    assert math.isnan(select_tier(starts, prices, 0)[2])
    assert list(has_tiers(starts)) == [True, False, False]


def test_units_convert_exactly_within_a_dimension_only():
    assert conversion_factor("per_1m_tokens", "per_1k_tokens") == 1e-3
    assert conversion_factor("per_1k_tokens", "per_1m_tokens") == 1e3
    assert convertible("per_token", "per_1m_tokens") and not convertible("per_gpu_hour", "per_1m_tokens")
    with pytest.raises(ValueError):
        conversion_factor("per_gpu_hour", "per_token")


def random_catalog(rng, n):
    providers = [f"p{i}" for i in range(rng.integers(1, 6))]
    rows = []
    for i in range(n):

        def price():
            return NAN if rng.random() < 0.1 else float(rng.choice([0.0, 0.1, 0.5, 1.0, 2.0, 3.0]))

        ctx = NAN if rng.random() < 0.3 else float(rng.choice([4096, 8192, 128000]))
        rows.append((str(rng.choice(providers)), f"m{i % 7}-{i}", price(), price(), price(), ctx,
                     float(rng.choice([0.0, 0.0, 0.0, 2.0]))))
    return rows, sorted({r[0] for r in rows})


def oracle(rows, w, budget, min_context, allowed, top_k):
    """Plain-Python ranking: the specification rank_configs must agree with."""
    scored = []
    for prov, model, pin, pout, pcache, ctx, fee in rows:
        if allowed is not None and prov not in allowed:
            continue
        if min_context and not math.isnan(ctx) and ctx < min_context:
            continue
        parts = []
        for q, p in ((w.uncached_input_tokens, pin), (w.output_tokens, pout), (w.cached_input_tokens, pcache)):
            if q > 0 and math.isnan(p):
                break
            parts.append(q / 1e6 * p if q > 0 else 0.0)
        else:
            if fee > 0 and math.isnan(w.requests):
                continue
            cost = sum(parts) + (fee * w.requests / 1e3 if fee > 0 else 0.0)
            if cost <= budget:
                scored.append((cost, prov, model))
    return [(p, m) for _, p, m in sorted(scored)[:top_k]]


@pytest.mark.parametrize("seed", range(25))
def test_rank_configs_agrees_with_a_plain_python_oracle(seed):
    rng = np.random.default_rng(seed)
    rows, providers = random_catalog(rng, int(rng.integers(1, 60)))
    w = Workload(float(rng.integers(0, 5) * 1e6), float(rng.integers(0, 3) * 1e6), float(rng.integers(0, 2) * 1e6),
                 requests=NAN if rng.random() < 0.5 else 1000.0)
    budget = float(rng.choice([np.inf, 1.0, 5.0, 20.0]))
    min_context = float(rng.choice([0, 8192]))
    allowed = None if rng.random() < 0.5 else set(rng.choice(providers, size=1))
    c = make(rows, providers)
    mask = None if allowed is None else np.array([p in allowed for p in providers])
    top_k = int(rng.integers(1, 20))
    r = rank_configs(c, w, Constraints(budget_usd=budget, min_context=min_context, allowed_providers=mask), top_k=top_k)
    got = [(rows[i][0], rows[i][1]) for i in r.order]
    assert got == oracle(rows, w, budget, min_context, allowed, top_k)


@pytest.mark.parametrize("seed", range(5))
def test_shuffled_catalog_gives_the_same_ranking(seed):
    rng = np.random.default_rng(100 + seed)
    rows, providers = random_catalog(rng, 50)
    w = Workload(3e6, 1e6, 0, requests=500)
    base = rank_configs(make(rows, providers), w, Constraints(), top_k=50)
    perm = rng.permutation(len(rows))
    shuffled = [rows[i] for i in perm]
    again = rank_configs(make(shuffled, providers), w, Constraints(), top_k=50)
    assert [rows[i][:2] for i in base.order] == [shuffled[i][:2] for i in again.order]
    assert np.allclose(np.sort(base.cost[base.order]), np.sort(again.cost[again.order]))


prices = st.floats(min_value=0, max_value=100, allow_nan=False)
tokens = st.floats(min_value=0, max_value=1e12, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(pin=prices, pout=prices, pc=prices, i=tokens, o=tokens, ca=tokens, k=st.floats(min_value=0, max_value=1000))
def test_cost_is_linear_in_tokens(pin, pout, pc, i, o, ca, k):
    c = make([("p", "m", pin, pout, pc)])
    one = rank_configs(c, Workload(i, o, ca), Constraints(), top_k=1).cost[0]
    scaled = rank_configs(c, Workload(k * i, k * o, k * ca), Constraints(), top_k=1).cost[0]
    assert scaled == pytest.approx(k * one, rel=1e-9, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), b1=st.floats(0, 50), extra=st.floats(0, 50))
def test_raising_the_budget_never_removes_a_row(seed, b1, extra):
    rng = np.random.default_rng(seed)
    rows, providers = random_catalog(rng, 30)
    c = make(rows, providers)
    w = Workload(2e6, 1e6, 0, requests=100)
    low = rank_configs(c, w, Constraints(budget_usd=b1), top_k=100)
    high = rank_configs(c, w, Constraints(budget_usd=b1 + extra), top_k=100)
    assert set(low.order.tolist()) <= set(high.order.tolist())
