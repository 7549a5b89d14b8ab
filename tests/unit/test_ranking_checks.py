"""The fused exclusion pass (core.ranking.first_failing) against the obvious one, on seeded random instances."""

import numpy as np

from costplan.core.ranking import Candidates, Constraints, Reason, Workload, first_failing, rank_configs


def one_check_at_a_time(n, checks):
    """The oracle: walk the checks in precedence order for each candidate and keep the first that fails."""
    out = np.zeros(n, np.int8)
    for i in range(n):
        for mask, r in checks:
            if mask[i]:
                out[i] = r[i] if isinstance(r, np.ndarray) else r
                break
    return out


def test_the_first_failing_check_wins_as_one_check_at_a_time_would():
    rng = np.random.default_rng(13)
    for _ in range(200):
        n, k = int(rng.integers(0, 40)), int(rng.integers(0, 8))
        blocked = np.where(rng.random(n) < 0.2, rng.integers(1, 3, n), 0).astype(np.int8)
        checks = [(blocked != 0, blocked)] if rng.random() < 0.5 else []
        checks += [(rng.random(n) < rng.random() * 0.5, int(rng.integers(3, 24))) for _ in range(k)]
        assert np.array_equal(first_failing(n, checks), one_check_at_a_time(n, checks))


def test_reasons_follow_the_documented_precedence():
    # one candidate failing everything at once is excluded for its catalog block; then each check in turn
    nan = float("nan")
    c = Candidates(input_per_1m=np.array([nan, 1.0]), output_per_1m=np.array([nan, 1.0]),
                   cache_read_per_1m=np.array([nan, 1.0]), request_per_1k=np.array([1.0, 0.0]),
                   context_window=np.array([nan, 100.0]), provider_code=np.array([0, 1]),
                   provider_key=np.array([0, 1]), model_key=np.array([0, 1]), unit_code=np.array([0, 0]),
                   blocked=np.array([Reason.MODEL_DEPRECATED, 0], np.int8))
    w = Workload(1e6, 1e6, 1e6)
    k = Constraints(budget_usd=1.0, min_context=1000, unknown_context_ok=False, needs_quality=True, min_quality=50)
    r = rank_configs(c, w, k, top_k=5)
    assert r.reason.tolist() == [Reason.MODEL_DEPRECATED, Reason.CONTEXT_WINDOW_TOO_SMALL]
    r = rank_configs(c, w, Constraints(ignore_blocked=frozenset({Reason.MODEL_DEPRECATED}),
                                       excluded_providers=np.array([True, False])), top_k=5)
    assert r.reason.tolist() == [Reason.PROVIDER_EXCLUDED, Reason.ADMITTED] and r.order.tolist() == [1]
