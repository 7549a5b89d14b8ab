"""The serving model: memory feasibility, roofline decode, replicas. Worked examples by hand."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costplan.core.throughput import (
    BYTES_PER_PARAM,
    Configs,
    Efficiency,
    Fit,
    Shape,
    at_load,
    closed_loop,
    replica_capacity,
    replicas_needed,
    step_time,
    terms,
    tp_efficiency,
)

EFF = Efficiency(mem_util=0.9, overhead_gb=2.0, eff_bw=0.7, eff_flops=0.5, tp_eff={1: 1.0, 2: 0.9, 4: 0.85, 8: 0.8},
                 max_batch=256)
# Llama 3.1 70B (config.json): 80 layers, 8 KV heads, head_dim 128; 70.6B parameters.
LLAMA70_KV_BF16 = 2 * 80 * 8 * 128 * 2  # K and V, bytes per token = 327,680
H100 = dict(memory_gb=80.0, bandwidth_gb_s=3350.0)


def configs(n=1, *, total=70.6, active=70.6, kv=LLAMA70_KV_BF16, precision="bf16", gpus=8, memory_gb=80.0,
            bandwidth_gb_s=3350.0, tflops=989.4, calibrated=True, supported=True, max_context=131072):

    def full(v):
        return np.full(n, v, dtype=float)

    return Configs(total_params_b=full(total), active_params_b=full(active), kv_bytes_per_token=full(kv),
                   bytes_per_param=full(BYTES_PER_PARAM[precision]), gpus=full(gpus), memory_gb=full(memory_gb),
                   bandwidth_gb_s=full(bandwidth_gb_s), tflops=full(tflops), calibrated=np.full(n, calibrated),
                   supported=np.full(n, supported), max_context=full(max_context))


def test_llama_70b_weights_are_141_gb_at_bf16_and_70_6_gb_at_fp8():
    shape = Shape(3072, 1024)
    assert replica_capacity(configs(precision="bf16"), shape, EFF).weights_gb[0] == pytest.approx(141.2)
    assert replica_capacity(configs(precision="fp8", kv=LLAMA70_KV_BF16 / 2), shape, EFF).weights_gb[0] == pytest.approx(70.6)


def test_kv_budget_and_concurrency_by_hand():
    # 8 x H100: usable 8 x (80 x 0.9 - 2) = 560 GB; minus 141.2 GB of weights = 418.8 GB of KV.
    # A 4k-token sequence holds 327,680 B x 4096 = 1.342 GB, so 312 fit, capped at max_batch 256.
    cap = replica_capacity(configs(gpus=8), Shape(3072, 1024), EFF)
    assert cap.kv_budget_gb[0] == pytest.approx(418.8)
    assert cap.batch[0] == 256
    # 2 x H100 at fp8 (KV at 1 byte): usable 140 GB - 70.6 GB = 69.4 GB; 0.671 GB per sequence -> 103.
    cap2 = replica_capacity(configs(gpus=2, precision="fp8", kv=LLAMA70_KV_BF16 / 2, tflops=1978.9),
                            Shape(3072, 1024), EFF)
    assert cap2.kv_budget_gb[0] == pytest.approx(69.4)
    assert cap2.batch[0] == 103


def test_a_model_that_does_not_fit_is_flagged_not_costed():
    cap = replica_capacity(configs(gpus=1), Shape(1000, 200), EFF)  # 141 GB on one 80 GB GPU
    assert cap.fit[0] == Fit.MODEL_DOES_NOT_FIT and cap.requests_per_s[0] == 0


def test_missing_specs_or_calibration_is_missing_throughput():
    assert replica_capacity(configs(bandwidth_gb_s=np.nan), Shape(100, 100), EFF).fit[0] == Fit.MISSING_THROUGHPUT
    assert replica_capacity(configs(calibrated=False), Shape(100, 100), EFF).fit[0] == Fit.MISSING_THROUGHPUT
    assert replica_capacity(configs(supported=False), Shape(100, 100), EFF).fit[0] == Fit.PRECISION_UNSUPPORTED


# Llama 3.1 8B at bf16 on one H100 (EFF above), 100 input / 100 output tokens:
#   a = 16 GB / (3350 x 0.7) GB/s = 6.8230 ms           (weights streamed once per step)
#   b = 131,072 B x 150 tokens / 1e9 / 2345 GB/s = 8.384 us per sequence per step
#   c = 2 x 8e9 / (989.4e12 x 0.5) = 32.34 us of compute per token
LLAMA8_KV = 2 * 32 * 8 * 128 * 2
A, B, C = 16.0 / (3350 * 0.7), LLAMA8_KV * 150 / 1e9 / (3350 * 0.7), 2 * 8e9 / (989.4e12 * 0.5)


SHAPE_100_100 = Shape(100, 100)


def llama8(shape=SHAPE_100_100):
    c = configs(total=8.0, active=8.0, kv=LLAMA8_KV, gpus=1)
    return c, terms(c, shape, EFF)


def test_the_model_terms_by_hand():
    _, t = llama8()
    assert (t.a[0], t.b[0], t.c[0]) == pytest.approx((6.8230e-3, 8.384e-6, 3.234e-5), rel=1e-3)
    # KV budget 80 x 0.9 - 2 - 16 = 54 GB over 131,072 B x 200 tokens -> 2,059 sequences, capped at 256
    assert t.batch_max[0] == 256


def test_offline_capacity_by_hand():
    # step(256, 0) = max(a + 256 b, 256 c) = max(8.969, 8.279) ms; lam_max = 256 / (100 x 8.969 ms + 256 x 100 c)
    _, t = llama8()
    step = max(A + 256 * B, 256 * C)
    assert step == pytest.approx(8.969e-3, rel=1e-3)
    assert t.lam_max[0] == pytest.approx(256 / (100 * step + 256 * 100 * C))
    assert t.lam_max[0] == pytest.approx(148.4, rel=1e-3)


def test_tpot_at_load_carries_the_prefill_admitted_per_step_by_hand():
    # At 10 requests/s: prefill takes rho_p = 10 x 100 x c = 3.2% of the replica and KV reads 10 x 100 x b,
    # so TPOT = (a + b) / (1 - 0.03234 - 0.00838) = 7.121 ms, and the batch is 1 + 10 x 100 x TPOT = 8.12.
    _, t = llama8()
    load = at_load(t, 10.0)
    assert load.tpot_s[0] == pytest.approx((A + B) / (1 - 10 * 100 * C - 10 * 100 * B))
    assert load.tpot_s[0] == pytest.approx(7.121e-3, rel=1e-3)
    assert load.batch[0] == pytest.approx(1 + 10 * 100 * load.tpot_s[0])


def test_ttft_is_prefill_plus_an_m_d_1_wait_by_hand():
    # Zero load: 100 c + one chunk step a = 10.06 ms. At rho = lam / lam_max the M/D/1 wait is rho S / (2 (1 - rho)),
    # with S the prefill whose chunk steps also carry the running batch.
    _, t = llama8()
    assert at_load(t, 0.0).ttft_s[0] == pytest.approx(100 * C + A)
    lam = 0.5 * t.lam_max[0]
    load = at_load(t, lam)
    s = 100 * C + A + B * (load.batch[0] - 1)
    assert load.ttft_s[0] == pytest.approx(s + 0.5 * s / (2 * 0.5))


def test_slo_bound_capacity_by_hand():
    # TPOT 7 ms: lam = (1 - (a + b) / 7 ms) / (100 c + 100 b) = 5.93 requests/s, far below the offline 148
    c, _ = llama8()
    cap = replica_capacity(c, Shape(100, 100, tpot_s=0.007), EFF)
    assert cap.slo_requests_per_s[0] == pytest.approx((1 - (A + B) / 0.007) / (100 * C + 100 * B))
    assert cap.slo_requests_per_s[0] == pytest.approx(5.93, rel=1e-2)
    assert cap.requests_per_s[0] == cap.slo_requests_per_s[0] < cap.offline_requests_per_s[0]
    _, t = llama8()
    assert at_load(t, cap.slo_requests_per_s[0]).tpot_s[0] == pytest.approx(0.007)


def test_a_ttft_target_binds_where_the_queue_would_exceed_it():
    c, t = llama8()
    cap = replica_capacity(c, Shape(100, 100, ttft_s=0.050), EFF)
    assert 0 < cap.slo_requests_per_s[0] < cap.offline_requests_per_s[0]
    assert at_load(t, cap.slo_requests_per_s[0]).ttft_s[0] == pytest.approx(0.050, rel=1e-6)


def test_an_unreachable_latency_target_is_flagged_with_the_latency_it_reaches():
    c, _ = llama8()
    cap = replica_capacity(c, Shape(100, 100, tpot_s=0.005), EFF)  # below a + b = 6.83 ms
    assert cap.fit[0] == Fit.SLO_UNREACHABLE and cap.requests_per_s[0] == 0
    assert cap.min_tpot_s[0] == pytest.approx(A + B)
    slow_ttft = replica_capacity(configs(gpus=8), Shape(100_000, 10, ttft_s=0.01), EFF)
    assert slow_ttft.fit[0] == Fit.SLO_UNREACHABLE and slow_ttft.min_ttft_s[0] > 0.01


def test_a_closed_loop_of_one_user_sees_no_queue_to_speak_of():
    _, t = llama8()
    one = closed_loop(t, np.array([1.0]))
    assert one.requests_per_s[0] * (one.ttft_s[0] + 100 * one.tpot_s[0]) == pytest.approx(1.0, rel=1e-6)
    assert one.tpot_s[0] == pytest.approx(A + B, rel=0.01)
    full = closed_loop(t, np.array([np.inf]))
    assert full.requests_per_s[0] == t.lam_max[0]


SHAPES = st.tuples(st.floats(16, 20_000), st.floats(16, 4_000))


@settings(max_examples=60, deadline=None)
@given(batch=st.floats(0, 500), more=st.floats(0, 500), prefill=st.floats(0, 8192), extra=st.floats(0, 8192))
def test_a_step_grows_with_batch_and_with_prefill_load(batch, more, prefill, extra):
    args = (np.array([A]), np.array([B]), np.array([C]))
    base = step_time(*args, batch, prefill)[0]
    assert step_time(*args, batch + more, prefill)[0] >= base
    assert step_time(*args, batch, prefill + extra)[0] >= base


@settings(max_examples=60, deadline=None)
@given(shape=SHAPES, lo=st.floats(0, 0.99), hi=st.floats(0, 0.99))
def test_tpot_and_ttft_grow_with_utilisation(shape, lo, hi):
    lo, hi = sorted((lo, hi))
    _, t = llama8(Shape(*shape))
    a, b = at_load(t, lo * t.lam_max), at_load(t, hi * t.lam_max)
    assert b.tpot_s[0] >= a.tpot_s[0] * (1 - 1e-12) and b.ttft_s[0] >= a.ttft_s[0] * (1 - 1e-12)
    assert b.utilisation[0] >= a.utilisation[0]


@settings(max_examples=60, deadline=None)
@given(shape=SHAPES, tpot=st.floats(0.001, 0.5), ttft=st.floats(0.001, 60))
def test_slo_bound_capacity_never_exceeds_offline_and_meets_its_targets(shape, tpot, ttft):
    c, t = llama8()
    s = Shape(*shape, ttft_s=ttft, tpot_s=tpot)
    cap = replica_capacity(c, s, EFF)
    assert cap.slo_requests_per_s[0] <= cap.offline_requests_per_s[0] + 1e-12
    if cap.fit[0] == Fit.OK and cap.slo_requests_per_s[0] > 0:
        load = at_load(terms(c, s, EFF), cap.slo_requests_per_s[0])
        assert load.tpot_s[0] <= tpot * (1 + 1e-9) and load.ttft_s[0] <= ttft * (1 + 1e-6)


@settings(max_examples=40, deadline=None)
@given(shape=SHAPES, lam=st.floats(0, 0.9), more=st.floats(0, 1e4))
def test_tpot_grows_with_prefill_load(shape, lam, more):
    # Longer prompts at the same request rate put more prefill into every step.
    isl, osl = shape
    _, short = llama8(Shape(isl, osl))
    _, long = llama8(Shape(isl + more, osl))
    rate = lam * min(short.lam_max[0], long.lam_max[0])
    assert at_load(long, rate).tpot_s[0] >= at_load(short, rate).tpot_s[0] * (1 - 1e-12)


def test_a_context_longer_than_the_model_allows_is_flagged():
    cap = replica_capacity(configs(max_context=4096), Shape(8000, 500), EFF)
    assert cap.fit[0] == Fit.CONTEXT_DOES_NOT_FIT


def test_replicas_round_up_against_target_utilisation():
    assert replicas_needed(10.0, np.array([2.0]), 0.5)[0] == 10
    assert replicas_needed(10.0, np.array([4.0]), 0.5)[0] == 5
    assert replicas_needed(0.01, np.array([4.0]), 0.5)[0] == 1
    assert np.isnan(replicas_needed(1.0, np.array([0.0]), 0.5)[0])


def test_tp_efficiency_takes_the_next_lower_degree():
    assert list(tp_efficiency(np.array([1, 2, 3, 4, 8, 16]), EFF.tp_eff)) == [1.0, 0.9, 0.9, 0.85, 0.8, 0.8]


@settings(max_examples=50, deadline=None)
@given(rps=st.floats(0.01, 1e4), extra=st.floats(0, 1e4), cap=st.floats(0.01, 100), util=st.floats(0.1, 1.0))
def test_more_traffic_never_needs_fewer_replicas(rps, extra, cap, util):
    c = np.array([cap])
    assert replicas_needed(rps + extra, c, util)[0] >= replicas_needed(rps, c, util)[0]


@settings(max_examples=50, deadline=None)
@given(mem=st.sampled_from([24.0, 40.0, 48.0, 80.0, 141.0]), extra=st.floats(0, 200), gpus=st.sampled_from([1, 2, 4, 8]),
       params=st.floats(1, 400), ctx=st.integers(128, 32_000))
def test_a_bigger_gpu_never_makes_a_fitting_config_infeasible(mem, extra, gpus, params, ctx):
    shape = Shape(ctx * 0.75, ctx * 0.25)
    small = replica_capacity(configs(total=params, active=params, gpus=gpus, memory_gb=mem), shape, EFF)
    big = replica_capacity(configs(total=params, active=params, gpus=gpus, memory_gb=mem + extra), shape, EFF)
    if small.fit[0] == Fit.OK:
        assert big.fit[0] == Fit.OK and big.requests_per_s[0] >= small.requests_per_s[0] * (1 - 1e-9)
