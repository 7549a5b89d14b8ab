"""Memory feasibility, capacity and latency of one serving replica under load: a calibrated roofline.

Pure and vectorised over configurations (one array element per model x instance x precision).
Units: parameters in billions, bytes in GB (1e9), bandwidth in GB/s, compute in TFLOP/s, time in s,
arrival rates in requests/s per replica.

Memory per replica (tensor parallel across ``gpus`` GPUs of one instance)::

    usable_gb   = gpus x (memory_gb x mem_util - overhead_gb)
    weights_gb  = total_params_b x bytes_per_param
    kv_budget   = usable_gb - weights_gb                         (<= 0: the model does not fit)
    kv_per_seq  = kv_bytes_per_token x context_tokens / 1e9
    batch_max   = floor(min(kv_budget / kv_per_seq, max_batch))

Speeds (``f`` is the calibration group's throughput factor; ``g`` its compute factor, which equals ``f`` unless the
group was fitted on enough public results to separate what its memory streams from what its tensor cores compute)::

    bw_eff      = gpus x bandwidth x eff_bw x tp_eff x f
    flops_eff   = gpus x tflops x 1e12 x eff_flops x tp_eff x g
    a           = weights_gb / bw_eff + t0                       s per step to stream the weights (t0: the group's
                                                                 fixed per-step overhead, 0 unless fitted)
    b           = kv_bytes_per_token x avg_context / 1e9 / bw_eff   s per step per sequence (KV reads)
    c           = 2 x active_params_b x 1e9 / flops_eff          s of compute per token

Serving is continuous batching with chunked prefill: every step decodes the running batch and
also carries the prompt tokens admitted since the last step. A step with B decoding sequences
and P prefill tokens takes (the decode roofline plus the compute-bound prefill chunk)::

    step(B, P)  = max(a + b B, c B) + c P

At a Poisson arrival rate lam per replica, P = lam x isl x step and (Little's law) the batch the
tagged sequence sees is B = 1 + lam x osl x step, so on the bandwidth arm the step time is::

    rho_p       = lam x isl x c                                  share of the replica spent in prefill
    tpot(lam)   = (a + b) / (1 - rho_p - lam x osl x b)

Offline (maximum) throughput is the rate at which the batch reaches batch_max::

    lam_max     = batch_max / (osl x step(batch_max, 0) + batch_max x isl x c)

Time to first token is an M/D/1 queue per replica (Pollaczek-Khinchine, deterministic service)
whose utilisation is the replica's load share rho = lam / lam_max. The service is the prompt's
prefill: its compute, in ceil(isl / prefill_chunk_tokens) chunked steps that each also carry
the running decode batch; plus a fixed per-request overhead outside the GPU::

    chunks      = ceil(isl / prefill_chunk_tokens)
    prefill     = isl x c + chunks x step(B - 1, 0)
    ttft(lam)   = request_overhead + prefill + rho x prefill / (2 (1 - rho))

TPOT diverges as the prefill and KV traffic fill the replica; TTFT diverges at lam_max, where
the batch is full. The SLO-bound capacity is the largest lam meeting both targets: closed form
for TPOT, bisection for TTFT (monotone in lam)::

    lam_tpot    = (1 - (a + b) / tpot_slo) / (isl x c + osl x b)
    lam_slo     = min(lam_max, lam_tpot, largest lam with ttft(lam) <= ttft_slo)

A target below the zero-load latency (``a + b`` for TPOT, ``request_overhead + prefill`` for
TTFT) cannot be met at any batch: SLO_UNREACHABLE, with the reachable latency reported.
A closed loop of N users (how published benchmarks run) solves N = lam x (ttft + osl x tpot).

The efficiency factors (eff_bw, eff_flops) and the per-group factors are fitted to public
throughput results (catalog/data/throughput_benchmarks.csv), and the latency terms
(request_overhead, prefill_chunk_tokens) to published latency tables
(catalog/data/latency_benchmarks.csv), by ``tools.calibrate``.
"""

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

# fp4 is NVFP4 (Blackwell, weights and activations): 4-bit E2M1 values plus one FP8 (E4M3) scale per 16 values =
# 4.5 bits per parameter (https://developer.nvidia.com/blog/introducing-nvfp4-for-efficient-and-accurate-low-precision-
# inference/; NVIDIA's FP4 checkpoints, e.g. huggingface.co/nvidia/Llama-3.1-405B-Instruct-FP4, quote ~3.5x less
# memory than 16-bit, i.e. ~4.6 bits). The KV cache is not part of the FP4 quantization; it is set at serve time
# and FP8 is the recommended setting (huggingface.co/Kaleto/Llama-3.3-70B-Instruct-NVFP4: "KV cache configurable at
# serve time (FP8 recommended)"), as for this catalog's fp8 rows. A 16-bit KV cache would halve the batch memory holds.
BYTES_PER_PARAM = {"bf16": 2.0, "fp8": 1.0, "int4": 0.5, "fp4": 0.5625}
KV_BYTES = {"bf16": 2.0, "fp8": 1.0, "int4": 2.0, "fp4": 1.0}  # int4 is weight-only; the KV cache stays 16-bit
BISECTION_STEPS = 60


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
    prefill_chunk_tokens: float = 2048.0  # chunked-prefill token budget per step
    request_overhead_s: float = 0.0  # per request, outside the GPU: HTTP, tokenisation, scheduling
    queue_burstiness: float = 0.0  # squared coefficient of variation in the TTFT queue (0: M/D/1)


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
    compute_factor: np.ndarray | None = None  # per group, on the compute terms only; None = throughput_factor
    step_overhead_s: np.ndarray | None = None  # per group: fixed time per step (launches, TP all-reduce); None = 0


@dataclass(frozen=True)
class Shape:
    avg_input_tokens: float
    avg_output_tokens: float
    ttft_s: float = float("inf")
    tpot_s: float = float("inf")


@dataclass(frozen=True)
class Capacity:
    """Per configuration. Rates are requests/s per replica; 0 (or NaN latency) where it cannot serve."""

    fit: np.ndarray  # Fit per configuration
    weights_gb: np.ndarray
    kv_budget_gb: np.ndarray
    batch: np.ndarray  # most concurrent sequences per replica (memory and engine cap)
    offline_requests_per_s: np.ndarray  # maximum throughput, latency unbounded
    slo_requests_per_s: np.ndarray  # largest rate meeting the TTFT and TPOT targets (= offline without targets)
    min_tpot_s: np.ndarray  # at zero load: the best TPOT this configuration reaches (also where unreachable)
    min_ttft_s: np.ndarray  # at zero load: the best TTFT

    @property
    def requests_per_s(self) -> np.ndarray:
        """The capacity a plan may use: SLO-bound where targets are set, else offline."""
        return np.minimum(self.offline_requests_per_s, self.slo_requests_per_s)


@dataclass(frozen=True)
class Load:
    """Predicted behaviour of each configuration at one arrival rate per replica."""

    requests_per_s: np.ndarray
    utilisation: np.ndarray  # lam / lam_max
    batch: np.ndarray  # mean concurrent decoding sequences
    tpot_s: np.ndarray
    ttft_s: np.ndarray


def tp_efficiency(gpus: np.ndarray, table: dict[int, float]) -> np.ndarray:
    """Per-GPU scaling at each TP degree; degrees between table entries take the next lower entry."""
    keys = np.array(sorted(table))
    vals = np.array([table[k] for k in keys])
    pos = np.clip(np.searchsorted(keys, gpus, side="right") - 1, 0, len(keys) - 1)
    return vals[pos]


@dataclass(frozen=True)
class Static:
    """The workload-independent part of the model, computed once per configuration."""

    weights_gb: np.ndarray
    kv_budget_gb: np.ndarray
    bw_eff: np.ndarray  # GB/s achieved across the replica
    flops_eff: np.ndarray  # FLOP/s achieved across the replica
    a_mem: np.ndarray  # s per decode step to stream the weights
    fit: np.ndarray  # PRECISION_UNSUPPORTED, MISSING_THROUGHPUT or MODEL_DOES_NOT_FIT, else OK


def static_capacity(c: Configs, eff: Efficiency) -> Static:
    tpe = tp_efficiency(c.gpus, eff.tp_eff)
    factor = 1.0 if c.throughput_factor is None else c.throughput_factor
    compute = factor if c.compute_factor is None else c.compute_factor
    weights = c.total_params_b * c.bytes_per_param
    kv_budget = c.gpus * (c.memory_gb * eff.mem_util - eff.overhead_gb) - weights
    with np.errstate(divide="ignore", invalid="ignore"):
        bw = c.gpus * c.bandwidth_gb_s * eff.eff_bw * tpe * factor
        flops = c.gpus * c.tflops * 1e12 * eff.eff_flops * tpe * compute
        a_mem = weights / bw + (0.0 if c.step_overhead_s is None else c.step_overhead_s)
    unknown = (~c.calibrated | np.isnan(c.bandwidth_gb_s) | np.isnan(c.tflops) | np.isnan(factor)
               | np.isnan(compute))
    fit = np.zeros(weights.shape, np.int8)
    for condition, code in ((kv_budget <= 0, Fit.MODEL_DOES_NOT_FIT), (unknown, Fit.MISSING_THROUGHPUT),
                            (~c.supported, Fit.PRECISION_UNSUPPORTED)):  # reversed: the first check wins
        fit[condition] = int(code)
    return Static(weights, kv_budget, bw, flops, a_mem, fit)


@dataclass(frozen=True)
class Terms:
    """The per-configuration terms of the serving model for one request shape (see the module docstring)."""

    isl: np.ndarray | float
    osl: np.ndarray | float
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    batch_max: np.ndarray
    mem_batch: np.ndarray
    prefill_s: np.ndarray  # at zero load
    chunks: np.ndarray  # prefill steps per prompt
    overhead_s: float
    burstiness: float
    lam_max: np.ndarray


def terms(c: Configs, shape: Shape, eff: Efficiency, s: Static | None = None) -> Terms:
    s = s if s is not None else static_capacity(c, eff)
    isl, osl = np.asarray(shape.avg_input_tokens, dtype=float), np.asarray(shape.avg_output_tokens, dtype=float)
    context = isl + osl
    avg_ctx = isl + osl / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        mem_batch = np.floor(np.maximum(s.kv_budget_gb, 0.0) / (c.kv_bytes_per_token * (context / 1e9)))
        b = c.kv_bytes_per_token * (avg_ctx / 1e9) / s.bw_eff
        cc = (2e9 * c.active_params_b) / s.flops_eff
        batch_max = np.floor(np.minimum(mem_batch, eff.max_batch))
        chunks = np.ceil(isl / eff.prefill_chunk_tokens)
        prefill = isl * cc + s.a_mem * chunks
        lam_max = batch_max / (osl * step_time(s.a_mem, b, cc, batch_max, 0.0) + batch_max * isl * cc)
    return Terms(isl, osl, s.a_mem, b, cc, batch_max, mem_batch, prefill, np.broadcast_to(chunks, b.shape),
                 eff.request_overhead_s, eff.queue_burstiness, np.where(batch_max >= 1, lam_max, 0.0))


def step_time(a, b, c, batch, prefill_tokens):
    """One continuous-batching step: decode ``batch`` sequences on the roofline, plus a prefill chunk."""
    return np.maximum(a + b * batch, c * batch) + c * prefill_tokens


def at_load(t: Terms, lam) -> Load:
    """TPOT, TTFT and batch of every configuration at ``lam`` requests/s per replica (scalar or per row)."""
    lam = np.broadcast_to(np.asarray(lam, dtype=float), t.a.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(t.lam_max > 0, lam / t.lam_max, np.inf)
        free = 1.0 - lam * t.isl * t.c - lam * t.osl * t.b
        tpot = np.where((rho < 1) & (free > 0), (t.a + t.b) / free, np.inf)
        batch = np.where(np.isfinite(tpot), np.minimum(1 + lam * t.osl * tpot, t.batch_max), t.batch_max)
        prefill = t.prefill_s + t.chunks * (step_time(t.a, t.b, t.c, batch - 1, 0.0) - t.a)
        wait = rho * prefill * (1 + t.burstiness) / (2 * (1 - rho))
        ttft = np.where(rho < 1, t.overhead_s + prefill + wait, np.inf)
    return Load(requests_per_s=lam, utilisation=rho, batch=batch, tpot_s=tpot, ttft_s=ttft)


def slo_capacity(t: Terms, shape: Shape) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(largest rate meeting both targets, zero-load TPOT, zero-load TTFT) per configuration."""
    min_tpot = t.a + t.b
    min_ttft = t.overhead_s + t.prefill_s
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        lam_tpot = (1.0 - min_tpot / shape.tpot_s) / (t.isl * t.c + t.osl * t.b)
    lam = np.minimum(t.lam_max, np.where(np.isnan(lam_tpot), 0.0, np.maximum(lam_tpot, 0.0)))
    if np.isfinite(shape.ttft_s):  # TTFT grows monotonically with the rate: bisect below the TPOT bound
        lo, hi = np.zeros_like(lam), lam.copy()
        for _ in range(BISECTION_STEPS):
            mid = (lo + hi) / 2
            meets = at_load(t, mid).ttft_s <= shape.ttft_s
            lo, hi = np.where(meets, mid, lo), np.where(meets, hi, mid)
        lam = np.where(at_load(t, lam).ttft_s <= shape.ttft_s, lam, lo)
    return lam, min_tpot, min_ttft


def replica_capacity(c: Configs, shape: Shape, eff: Efficiency, static: Static | None = None) -> Capacity:
    """Offline and SLO-bound capacity of one replica of every configuration, without validation.

    ``static`` is ``static_capacity(c, eff)`` when the caller has it precomputed.
    """
    s = static if static is not None else static_capacity(c, eff)
    t = terms(c, shape, eff, s)
    lam_slo, min_tpot, min_ttft = slo_capacity(t, shape)
    context = shape.avg_input_tokens + shape.avg_output_tokens
    fit = s.fit.copy()
    live = fit == 0
    fit[live & ((t.mem_batch < 1) | (context > c.max_context))] = Fit.CONTEXT_DOES_NOT_FIT
    fit[(fit == 0) & ((t.batch_max < 1) | (min_tpot >= shape.tpot_s) | (min_ttft >= shape.ttft_s))] = Fit.SLO_UNREACHABLE
    ok = fit == 0
    reachable = ok | (fit == Fit.SLO_UNREACHABLE)
    return Capacity(
        fit=fit, weights_gb=s.weights_gb, kv_budget_gb=s.kv_budget_gb, batch=np.where(ok, t.batch_max, 0.0),
        offline_requests_per_s=np.where(ok, t.lam_max, 0.0), slo_requests_per_s=np.where(ok, lam_slo, 0.0),
        min_tpot_s=np.where(reachable, min_tpot, np.nan), min_ttft_s=np.where(reachable, min_ttft, np.nan),
    )


def closed_loop(t: Terms, users: np.ndarray) -> Load:
    """The steady state of ``users`` concurrent clients each sending its next request on completion.

    Solves users = lam x (ttft(lam) + osl x tpot(lam)) for lam in (0, lam_max) by bisection
    (the right side grows monotonically with lam). ``users`` = inf gives the offline point.
    """
    users = np.broadcast_to(np.asarray(users, dtype=float), t.a.shape)
    lo, hi = np.zeros_like(t.lam_max), t.lam_max.copy()
    for _ in range(BISECTION_STEPS):
        mid = (lo + hi) / 2
        load = at_load(t, mid)
        with np.errstate(invalid="ignore", over="ignore"):
            in_system = mid * (load.ttft_s + t.osl * load.tpot_s)
        below = in_system < users
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    lam = np.where(np.isinf(users), t.lam_max, lo)
    load = at_load(t, np.where(np.isinf(users), lo, lam))
    return Load(requests_per_s=lam, utilisation=load.utilisation, batch=load.batch, tpot_s=load.tpot_s,
                ttft_s=load.ttft_s)


def replicas_needed(requests_per_s: float, capacity_rps: np.ndarray, target_utilisation: float,
                    slo_rps: np.ndarray | None = None) -> np.ndarray:
    """Smallest replica count serving ``requests_per_s`` with each replica at most ``target_utilisation``
    of its capacity busy and, where given, at most its SLO-bound rate ``slo_rps``."""
    usable = capacity_rps * target_utilisation
    if slo_rps is not None:
        usable = np.minimum(usable, slo_rps)
    with np.errstate(divide="ignore", invalid="ignore"):
        n = np.ceil(requests_per_s / usable - 1e-9)
    return np.where(usable > 0, np.maximum(n, 1.0), np.nan)
