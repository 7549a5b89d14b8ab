"""Break-evens in closed form (costplan.core.breakeven) against the cost model itself (costplan.core.ranking):
at the break-even the two costs are equal to the cent, and on either side the order flips."""

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from costplan.core.breakeven import (
    RowPrices,
    cached_share_line,
    cost,
    crossing,
    output_share_line,
    volume_line,
)
from costplan.core.ranking import Candidates, Constraints, Workload, rank_configs

price = st.floats(min_value=0.01, max_value=100.0)
tokens = st.floats(min_value=1e3, max_value=1e13)
share = st.floats(min_value=0.0, max_value=1.0)


@st.composite
def rows(draw, fixed=False):
    p = draw(price)
    return RowPrices(input=p, output=draw(price), cache_read=draw(st.floats(min_value=0.0, max_value=p)),
                     request_per_1k=draw(st.sampled_from([0.0, 0.0, 0.5, 5.0])),
                     fixed=draw(st.floats(min_value=0.0, max_value=1e6)) if fixed else 0.0)


def model_costs(a: RowPrices, b: RowPrices, input_tokens, output_tokens, cached_share, requests) -> np.ndarray:
    """Both rows costed by rank_configs, the kernel behind every ranking."""
    two = lambda f: np.array([getattr(a, f), getattr(b, f)], dtype=float)  # noqa: E731
    cands = Candidates(input_per_1m=two("input"), output_per_1m=two("output"), cache_read_per_1m=two("cache_read"),
                       request_per_1k=two("request_per_1k"), context_window=np.full(2, np.nan),
                       provider_code=np.array([0, 1]), provider_key=np.array([0, 1]), model_key=np.array([0, 0]),
                       unit_code=np.zeros(2, np.int64), blocked=np.zeros(2, np.int8), fixed_monthly_usd=two("fixed"))
    cached = input_tokens * cached_share
    w = Workload(uncached_input_tokens=input_tokens - cached, output_tokens=output_tokens, cached_input_tokens=cached,
                 requests=requests)
    return rank_configs(cands, w, Constraints(), top_k=2).cost


def check_swap(x, lo, hi, costs_at):
    """Equal to the cent at x; strictly opposite orders on either side (far enough to clear rounding)."""
    assume(x is not None and lo < x < hi)
    at = costs_at(x)
    assert abs(at[0] - at[1]) < 0.005
    scale = max(abs(at[0]), abs(at[1]), 1.0)
    step = min(x - lo, hi - x) / 2
    below, above = costs_at(x - step), costs_at(x + step)
    gap_below, gap_above = below[1] - below[0], above[1] - above[0]
    assume(min(abs(gap_below), abs(gap_above)) > 1e-9 * scale)
    assert np.sign(gap_below) == -np.sign(gap_above)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(rows(), rows(), tokens, share, st.floats(min_value=0, max_value=1e9))
def test_output_share_break_even_is_where_the_model_costs_meet(a, b, total, cached, requests):
    x = crossing(output_share_line(a, total, cached, requests), output_share_line(b, total, cached, requests))
    check_swap(x, 0.0, 1.0, lambda o: model_costs(a, b, total * (1 - o), total * o, cached, requests))


@st.composite
def caching_rival(draw):
    """B dearer than A uncached and cheaper cached, so the two usually cross somewhere in 0..1."""
    a = draw(rows())
    b = RowPrices(input=a.input * draw(st.floats(1.01, 5.0)), output=a.output * draw(st.floats(0.5, 1.5)),
                  cache_read=a.cache_read * draw(st.floats(0.0, 0.99)), request_per_1k=a.request_per_1k)
    return a, b


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(caching_rival(), tokens, tokens, st.floats(min_value=0, max_value=1e9))
def test_cached_share_break_even_is_where_the_model_costs_meet(pair, inp, out, requests):
    a, b = pair
    x = crossing(cached_share_line(a, inp, out, requests), cached_share_line(b, inp, out, requests))
    check_swap(x, 0.0, 1.0, lambda c: model_costs(a, b, inp, out, c, requests))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(rows(fixed=True), rows(fixed=True), tokens, tokens, share, st.floats(min_value=0, max_value=1e9))
def test_volume_break_even_with_fixed_terms_is_where_the_model_costs_meet(a, b, inp, out, cached, requests):
    x = crossing(volume_line(a, inp, out, cached, requests), volume_line(b, inp, out, cached, requests))
    check_swap(x, 0.0, 1e4, lambda v: model_costs(a, b, inp * v, out * v, cached, requests * v))


@settings(max_examples=200, deadline=None)
@given(rows(fixed=True), tokens, tokens, share, st.floats(min_value=0, max_value=1e9))
def test_the_closed_form_cost_is_the_kernel_cost(a, inp, out, cached, requests):
    got = cost(a, inp, out, cached, requests)
    assert np.isclose(got, model_costs(a, a, inp, out, cached, requests)[0], rtol=1e-12, atol=1e-9)


def test_a_worked_output_share_break_even():
    """A: $1 in / $4 out; B: $2 in / $2 out per 1M; 1B tokens. cost_A = 1000 + 3000 o, cost_B = 2000:
    they meet at o = 1/3, where both cost $2,000; below it A is cheaper, above it B."""
    a, b = RowPrices(1.0, 4.0, 1.0), RowPrices(2.0, 2.0, 2.0)
    x = crossing(output_share_line(a, 1e9, 0.0, 0.0), output_share_line(b, 1e9, 0.0, 0.0))
    assert abs(x - 1 / 3) < 1e-12
    assert np.allclose(model_costs(a, b, 1e9 * (1 - x), 1e9 * x, 0.0, 0.0), [2000.0, 2000.0], atol=0.005)


def test_parallel_costs_never_swap():
    a, b = RowPrices(1.0, 2.0, 0.5), RowPrices(2.0, 4.0, 1.0)  # b is a at twice the price: no fixed term
    assert crossing(volume_line(a, 1e9, 1e8, 0.2, 0.0), volume_line(b, 1e9, 1e8, 0.2, 0.0)) == 0.0
    assert crossing(cached_share_line(a, 1e9, 0.0, 0.0), cached_share_line(a, 1e9, 0.0, 0.0)) is None
