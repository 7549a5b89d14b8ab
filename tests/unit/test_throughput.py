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
    replica_capacity,
    replicas_needed,
    tp_efficiency,
)

EFF = Efficiency(mem_util=0.9, overhead_gb=2.0, eff_bw=0.7, eff_flops=0.5, tp_eff={1: 1.0, 2: 0.9, 4: 0.85, 8: 0.8},
                 max_batch=256)
# Llama 3.1 70B (config.json): 80 layers, 8 KV heads, head_dim 128; 70.6B parameters.
LLAMA70_KV_BF16 = 2 * 80 * 8 * 128 * 2  # K and V, bytes per token = 327,680
H100 = dict(memory_gb=80.0, bandwidth_gb_s=3350.0)


def configs(n=1, *, total=70.6, active=70.6, kv=LLAMA70_KV_BF16, precision="bf16", gpus=8, memory_gb=80.0,
            bandwidth_gb_s=3350.0, tflops=989.4, calibrated=True, supported=True, max_context=131072):
    full = lambda v: np.full(n, v, dtype=float)
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


def test_decode_step_follows_the_roofline_by_hand():
    # One GPU, 8B model at bf16: 16 GB of weights over 3350 x 0.7 GB/s = 6.82 ms per step at batch ~1.
    kv = 2 * 32 * 8 * 128 * 2
    cap = replica_capacity(configs(total=8.0, active=8.0, kv=kv, gpus=1), Shape(100, 100, tpot_s=0.0069), EFF)
    a_mem = 16.0 / (3350 * 0.7)
    b_mem = kv * 150 / 1e9 / (3350 * 0.7)
    assert cap.batch[0] == np.floor((0.0069 - a_mem) / b_mem)
    assert cap.tpot_s[0] == pytest.approx(a_mem + b_mem * cap.batch[0])


def test_an_unreachable_latency_target_is_flagged():
    cap = replica_capacity(configs(gpus=8), Shape(3072, 1024, tpot_s=0.001), EFF)
    assert cap.fit[0] == Fit.SLO_UNREACHABLE
    slow_ttft = replica_capacity(configs(gpus=8), Shape(100_000, 10, ttft_s=0.01), EFF)
    assert slow_ttft.fit[0] == Fit.SLO_UNREACHABLE


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
