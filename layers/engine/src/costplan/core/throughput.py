"""Memory feasibility and serving throughput of one replica: a calibrated roofline.

Pure and vectorised over configurations (one array element per model x instance x precision).
Units: parameters in billions, bytes in GB (1e9), bandwidth in GB/s, compute in TFLOP/s, time in s.

Memory per replica (tensor parallel across ``gpus`` GPUs of one instance)::

    usable_gb   = gpus x (memory_gb x mem_util - overhead_gb)
    weights_gb  = total_params_b x bytes_per_param
    kv_budget   = usable_gb - weights_gb                         (<= 0: the model does not fit)
    kv_per_seq  = kv_bytes_per_token x context_tokens / 1e9
    mem_batch   = floor(kv_budget / kv_per_seq)                  (capped at max_batch)

Decode, per step at batch B (roofline: the slower of memory traffic and compute)::

    bw_eff      = gpus x bandwidth x eff_bw x tp_eff
    flops_eff   = gpus x tflops x 1e12 x eff_flops x tp_eff
    t_mem(B)    = (weights_gb + B x kv_bytes_per_token x avg_context / 1e9) / bw_eff
    t_cmp(B)    = 2 x active_params_b x 1e9 x B / flops_eff
    tpot(B)     = max(t_mem(B), t_cmp(B))

Prefill is compute-bound: ``prefill(n) = 2 x active_params_b x 1e9 x n / flops_eff``; TTFT is
one prompt's prefill. The batch is the largest B within memory, ``max_batch`` and the TPOT SLO
(solved in closed form, since both roofline arms are affine in B). One replica then serves::

    seconds_per_request = prefill(avg_input) + avg_output x tpot(B) / B
    requests_per_s      = 1 / seconds_per_request
    output_tokens_per_s = requests_per_s x avg_output

The efficiency factors (eff_bw, eff_flops) are fitted to public benchmark results
(catalog/data/throughput_benchmarks.csv) by ``costplan.catalog.calibrate``, which also fits one
throughput factor per calibration group (vendor, precision, dense or MoE); ``requests_per_s``
is multiplied by it.
"""

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

BYTES_PER_PARAM = {"bf16": 2.0, "fp8": 1.0, "int4": 0.5}
KV_BYTES = {"bf16": 2.0, "fp8": 1.0, "int4": 2.0}  # int4 is weight-only; the KV cache stays 16-bit


class Fit(IntEnum):
    """Why a configuration cannot serve the workload (0: it can)."""

    OK = 0
    MISSING_THROUGHPUT = 1
    PRECISION_UNSUPPORTED = 2
    MODEL_DOES_NOT_FIT = 3
    CONTEXT_DOES_NOT_FIT = 4
    SLO_UNREACHABLE = 5


@dataclass(frozen=True)
class Efficiency:
    mem_util: float  # share of GPU memory the serving engine may use (vLLM gpu_memory_utilization)
    overhead_gb: float  # per GPU: activations, CUDA graphs, allocator slack
    eff_bw: float  # achieved / peak memory bandwidth in decode
    eff_flops: float  # achieved / peak dense FLOPs in prefill and compute-bound decode
    tp_eff: dict[int, float]  # per-GPU scaling efficiency at each tensor-parallel degree
    max_batch: int


@dataclass(frozen=True)
class Configs:
    """One row per configuration."""

    total_params_b: np.ndarray
    active_params_b: np.ndarray
    kv_bytes_per_token: np.ndarray  # at the configuration's KV precision, whole model
    bytes_per_param: np.ndarray
    gpus: np.ndarray
    memory_gb: np.ndarray  # per GPU
    bandwidth_gb_s: np.ndarray  # per GPU; NaN unknown
    tflops: np.ndarray  # per GPU, dense, at the compute precision; NaN unknown
    calibrated: np.ndarray  # bool: efficiency factors exist for this accelerator family and precision
    supported: np.ndarray  # bool: the accelerator runs this precision
    max_context: np.ndarray
    throughput_factor: np.ndarray | None = None  # per calibration group (vendor, precision, dense/MoE); None = 1


@dataclass(frozen=True)
class Shape:
    avg_input_tokens: float
    avg_output_tokens: float
    ttft_s: float = float("inf")
    tpot_s: float = float("inf")


@dataclass(frozen=True)
class Capacity:
    fit: np.ndarray  # Fit per configuration
    weights_gb: np.ndarray
    kv_budget_gb: np.ndarray
    batch: np.ndarray  # concurrent sequences per replica
    tpot_s: np.ndarray
    ttft_s: np.ndarray
    requests_per_s: np.ndarray
    output_tokens_per_s: np.ndarray
    total_tokens_per_s: np.ndarray


def tp_efficiency(gpus: np.ndarray, table: dict[int, float]) -> np.ndarray:
    """Per-GPU scaling at each TP degree; degrees between table entries take the next lower entry."""
    keys = np.array(sorted(table))
    vals = np.array([table[k] for k in keys])
    pos = np.clip(np.searchsorted(keys, gpus, side="right") - 1, 0, len(keys) - 1)
    return vals[pos]


@dataclass(frozen=True)
class Static:
    """The workload-independent part of ``replica_capacity``, computed once per configuration."""

    weights_gb: np.ndarray
    kv_budget_gb: np.ndarray
    bw_eff: np.ndarray  # GB/s achieved across the replica
    flops_eff: np.ndarray  # FLOP/s achieved across the replica
    a_mem: np.ndarray  # s per decode step to stream the weights
    fit: np.ndarray  # PRECISION_UNSUPPORTED, MISSING_THROUGHPUT or MODEL_DOES_NOT_FIT, else OK


def static_capacity(c: Configs, eff: Efficiency) -> Static:
    tpe = tp_efficiency(c.gpus, eff.tp_eff)
    weights = c.total_params_b * c.bytes_per_param
    kv_budget = c.gpus * (c.memory_gb * eff.mem_util - eff.overhead_gb) - weights
    with np.errstate(divide="ignore", invalid="ignore"):
        bw = c.gpus * c.bandwidth_gb_s * eff.eff_bw * tpe
        flops = c.gpus * c.tflops * 1e12 * eff.eff_flops * tpe
        a_mem = weights / bw
    unknown = ~c.calibrated | np.isnan(c.bandwidth_gb_s) | np.isnan(c.tflops)
    fit = np.zeros(weights.shape, np.int8)
    for condition, code in ((kv_budget <= 0, Fit.MODEL_DOES_NOT_FIT), (unknown, Fit.MISSING_THROUGHPUT),
                            (~c.supported, Fit.PRECISION_UNSUPPORTED)):  # reversed: the first check wins
        fit[condition] = int(code)
    return Static(weights, kv_budget, bw, flops, a_mem, fit)


def replica_capacity(c: Configs, shape: Shape, eff: Efficiency, fixed_batch: np.ndarray | None = None,
                     static: Static | None = None) -> Capacity:
    """Capacity of one replica of every configuration for this request shape, without validation.

    ``fixed_batch`` pins the concurrency (as a benchmark run does) instead of maximising it.
    ``static`` is ``static_capacity(c, eff)`` when the caller has it precomputed.
    """
    s = static if static is not None else static_capacity(c, eff)
    context = shape.avg_input_tokens + shape.avg_output_tokens
    avg_ctx = shape.avg_input_tokens + shape.avg_output_tokens / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        mem_batch = np.floor(np.maximum(s.kv_budget_gb, 0.0) / (c.kv_bytes_per_token * (context / 1e9)))
        b_mem = c.kv_bytes_per_token * (avg_ctx / 1e9) / s.bw_eff  # tpot(B) = a_mem + b_mem B, or c_cmp B
        c_cmp = (2e9 * c.active_params_b) / s.flops_eff
        slo_batch = np.minimum((shape.tpot_s - s.a_mem) / b_mem, shape.tpot_s / c_cmp)
        limit = eff.max_batch if fixed_batch is None else fixed_batch
        batch = np.maximum(np.floor(np.minimum(np.minimum(mem_batch, slo_batch), limit)), 0.0)
        tpot = np.maximum(s.a_mem + b_mem * batch, c_cmp * batch)
        prefill_in = c_cmp * shape.avg_input_tokens
        rps = batch / (prefill_in * batch + shape.avg_output_tokens * tpot)
        if c.throughput_factor is not None:
            rps = rps * c.throughput_factor
    fit = s.fit.copy()
    live = fit == 0
    fit[live & ((mem_batch < 1) | (context > c.max_context))] = Fit.CONTEXT_DOES_NOT_FIT
    fit[(fit == 0) & ((batch < 1) | (prefill_in > shape.ttft_s))] = Fit.SLO_UNREACHABLE
    ok = fit == 0
    return Capacity(
        fit=fit, weights_gb=s.weights_gb, kv_budget_gb=s.kv_budget_gb, batch=np.where(ok, batch, 0.0),
        tpot_s=np.where(ok, tpot, np.nan), ttft_s=np.where(ok, prefill_in, np.nan),
        requests_per_s=np.where(ok, rps, 0.0),
        output_tokens_per_s=np.where(ok, rps * shape.avg_output_tokens, 0.0),
        total_tokens_per_s=np.where(ok, rps * context, 0.0),
    )


def replicas_needed(requests_per_s: float, capacity_rps: np.ndarray, target_utilisation: float) -> np.ndarray:
    """Smallest replica count serving ``requests_per_s`` with each replica at most ``target_utilisation`` busy."""
    with np.errstate(divide="ignore", invalid="ignore"):
        n = np.ceil(requests_per_s / (capacity_rps * target_utilisation) - 1e-9)
    return np.where(capacity_rps > 0, np.maximum(n, 1.0), np.nan)
