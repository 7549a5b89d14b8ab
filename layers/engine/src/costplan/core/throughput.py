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


def replica_capacity(c: Configs, shape: Shape, eff: Efficiency, fixed_batch: np.ndarray | None = None) -> Capacity:
    """Capacity of one replica of every configuration for this request shape, without validation.

    ``fixed_batch`` pins the concurrency (as a benchmark run does) instead of maximising it.
    """
    tpe = tp_efficiency(c.gpus, eff.tp_eff)
    usable = c.gpus * (c.memory_gb * eff.mem_util - eff.overhead_gb)
    weights = c.total_params_b * c.bytes_per_param
    kv_budget = usable - weights
    context = shape.avg_input_tokens + shape.avg_output_tokens
    kv_seq = c.kv_bytes_per_token * context / 1e9
    with np.errstate(divide="ignore", invalid="ignore"):
        mem_batch = np.floor(np.where(kv_budget > 0, kv_budget / kv_seq, 0.0))
        bw = c.gpus * c.bandwidth_gb_s * eff.eff_bw * tpe
        flops = c.gpus * c.tflops * 1e12 * eff.eff_flops * tpe
        avg_ctx = shape.avg_input_tokens + shape.avg_output_tokens / 2
        a_mem = weights / bw  # tpot = a_mem + b_mem * B, or c_cmp * B
        b_mem = c.kv_bytes_per_token * avg_ctx / 1e9 / bw
        c_cmp = 2 * c.active_params_b * 1e9 / flops
        slo_batch = np.minimum(np.where(b_mem > 0, (shape.tpot_s - a_mem) / b_mem, np.inf), shape.tpot_s / c_cmp)
        limit = eff.max_batch if fixed_batch is None else fixed_batch
        batch = np.floor(np.minimum(np.minimum(mem_batch, slo_batch), limit))
        batch = np.maximum(batch, 0.0)
        tpot = np.maximum(a_mem + b_mem * batch, c_cmp * batch)
        prefill_in = 2 * c.active_params_b * 1e9 * shape.avg_input_tokens / flops
        per_request = prefill_in + shape.avg_output_tokens * tpot / batch
        rps = np.where(batch >= 1, 1.0 / per_request, 0.0)
        if c.throughput_factor is not None:
            rps = rps * c.throughput_factor

    unknown = ~c.calibrated | np.isnan(c.bandwidth_gb_s) | np.isnan(c.tflops)
    fit = np.select(
        [~c.supported, unknown, kv_budget <= 0, (mem_batch < 1) | (context > c.max_context),
         (batch < 1) | (prefill_in > shape.ttft_s)],
        [Fit.PRECISION_UNSUPPORTED, Fit.MISSING_THROUGHPUT, Fit.MODEL_DOES_NOT_FIT, Fit.CONTEXT_DOES_NOT_FIT,
         Fit.SLO_UNREACHABLE],
        default=Fit.OK,
    ).astype(np.int8)
    ok = fit == Fit.OK
    zero = np.zeros_like(rps)
    rps = np.where(ok, rps, zero)
    return Capacity(
        fit=fit, weights_gb=weights, kv_budget_gb=kv_budget, batch=np.where(ok, batch, zero),
        tpot_s=np.where(ok, tpot, np.nan), ttft_s=np.where(ok, prefill_in, np.nan), requests_per_s=rps,
        output_tokens_per_s=rps * shape.avg_output_tokens,
        total_tokens_per_s=rps * (shape.avg_input_tokens + shape.avg_output_tokens),
    )


def replicas_needed(requests_per_s: float, capacity_rps: np.ndarray, target_utilisation: float) -> np.ndarray:
    """Smallest replica count serving ``requests_per_s`` with each replica at most ``target_utilisation`` busy."""
    with np.errstate(divide="ignore", invalid="ignore"):
        n = np.ceil(requests_per_s / (capacity_rps * target_utilisation) - 1e-9)
    return np.where(capacity_rps > 0, np.maximum(n, 1.0), np.nan)
