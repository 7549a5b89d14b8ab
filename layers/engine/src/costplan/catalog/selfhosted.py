"""Self-hosted catalog: accelerators, GPU instances, open-weight models, benchmark results.

Every figure comes from a CSV in ``data/`` whose rows carry ``source`` and ``as_of``. The
configuration grid (model x instance x GPUs per replica x precision) is built once per
process and kept as numpy arrays; ``costplan.core.throughput`` sizes it per request.
"""

import csv
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from costplan.core.throughput import BYTES_PER_PARAM, KV_BYTES, Configs, Efficiency, Static, static_capacity

DATA = Path(__file__).parent / "data"
PRECISIONS = tuple(BYTES_PER_PARAM)
PRICING_COLUMNS = {"on_demand": "on_demand_usd_per_hour", "spot": "spot_usd_per_hour",
                   "committed_1y": "committed_1y_usd_per_hour"}


def group_key(vendor: str, precision: str, total_params_b: float, active_params_b: float) -> str:
    """A configuration's calibration group: vendor, precision, dense or MoE (``tools/calibrate.py`` fits one per group)."""
    return f"{vendor.lower()}/{precision}/{'moe' if active_params_b < total_params_b else 'dense'}"


def read_table(name: str) -> list[dict]:
    """One cited CSV table of ``data/`` as dict rows."""
    with (DATA / name).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def number(value: str | None) -> float:
    """A CSV cell as a float; an empty cell is NaN (never 0)."""
    return float(value) if value not in (None, "") else float("nan")


@dataclass(frozen=True)
class Accelerator:
    id: str
    vendor: str
    name: str
    memory_gb: float
    bandwidth_gb_s: float
    bf16_tflops: float
    fp8_tflops: float
    source: str
    as_of: str
    fp4_tflops: float = float("nan")  # dense FP4 (NVFP4) tensor throughput; NaN where the GPU has none


@dataclass(frozen=True)
class Instance:
    provider: str
    instance_type: str
    region: str
    accelerator_id: str
    count: int
    memory_per_gpu_gb: float
    prices: dict[str, float]  # pricing model -> USD/hour; NaN where not published
    price_as_of: str
    source: str


@dataclass(frozen=True)
class OpenModel:
    model_id: str
    name: str
    total_params_b: float
    active_params_b: float
    layers: int
    kv_values_per_token_per_layer: float  # 2 x kv_heads x head_dim, or the MLA latent width
    max_context: int
    license: str
    source: str
    as_of: str

    def kv_bytes_per_token(self, precision: str) -> float:
        return self.layers * self.kv_values_per_token_per_layer * KV_BYTES[precision]


@dataclass(frozen=True)
class Grid:
    """Every configuration, one row each."""

    model: np.ndarray  # index into SelfHostedCatalog.models
    instance: np.ndarray  # index into SelfHostedCatalog.instances
    precision: np.ndarray  # index into PRECISIONS
    gpus_per_replica: np.ndarray
    replicas_per_instance: np.ndarray
    configs: Configs
    static: Static | None  # the workload-independent capacity terms, once per process
    hourly: dict[str, np.ndarray]  # pricing model -> instance USD/hour
    evidence_points: np.ndarray  # public results behind the weakest fitted factor (group factor or TP degree)


@dataclass(frozen=True, eq=False)  # hashed by identity: one per process
class SelfHostedCatalog:
    accelerators: dict[str, Accelerator]
    instances: tuple[Instance, ...]
    models: tuple[OpenModel, ...]
    efficiency: Efficiency
    calibration: dict
    grid: Grid

    def model_index(self, model_id: str) -> int | None:
        return next((i for i, m in enumerate(self.models) if m.model_id == model_id), None)


def load_accelerators() -> dict[str, Accelerator]:
    """Read from the CSV on every call: ``get_selfhosted_catalog()`` holds them once per process."""
    return {r["accelerator_id"]: Accelerator(
        id=r["accelerator_id"], vendor=r["vendor"], name=r["name"], memory_gb=number(r["memory_gb"]),
        bandwidth_gb_s=number(r["memory_bandwidth_gb_s"]), bf16_tflops=number(r["bf16_dense_tflops"]),
        fp8_tflops=number(r["fp8_dense_tflops"]), source=r["source"], as_of=r["as_of"],
        fp4_tflops=number(r.get("fp4_dense_tflops")),
    ) for r in read_table("accelerators.csv")}


def load_instances() -> tuple[Instance, ...]:
    return tuple(Instance(
        provider=r["provider"], instance_type=r["instance_type"], region=r["region"],
        accelerator_id=r["accelerator_id"], count=int(r["accelerator_count"]),
        memory_per_gpu_gb=number(r["memory_per_gpu_gb"]),
        prices={k: number(r[col]) for k, col in PRICING_COLUMNS.items()},
        price_as_of=r["price_as_of"], source=r["source"],
    ) for r in sorted(read_table("gpu_instances.csv"), key=lambda r: (r["provider"], r["instance_type"])))


def load_models() -> tuple[OpenModel, ...]:
    return tuple(OpenModel(
        model_id=r["model_id"], name=r["name"], total_params_b=number(r["total_params_b"]),
        active_params_b=number(r["active_params_b"]), layers=int(r["layers"]),
        kv_values_per_token_per_layer=number(r["kv_cache_values_per_token_per_layer"]),
        max_context=int(r["max_context"]), license=r["license"], source=r["source"], as_of=r["as_of"],
    ) for r in sorted(read_table("open_weight_models.csv"), key=lambda r: r["model_id"]))


def _efficiency(cal: dict) -> Efficiency:
    f = cal["factors"]
    return Efficiency(mem_util=f["mem_util"], overhead_gb=f["overhead_gb"], eff_bw=f["eff_bw"],
                      eff_flops=f["eff_flops"], tp_eff={int(k): v for k, v in f["tp_eff"].items()},
                      max_batch=int(f["max_batch"]), prefill_chunk_tokens=float(f["prefill_chunk_tokens"]),
                      request_overhead_s=float(f["request_overhead_s"]), queue_burstiness=float(f["queue_burstiness"]))


def compute_tflops(acc: Accelerator, precision: str) -> float:
    """Dense TFLOPs the precision computes at: fp8 on FP8 tensor cores, fp4 (NVFP4 weights and activations) on FP4
    tensor cores (NaN: unsupported, e.g. Hopper, MI300X); bf16 and int4 (weight-only) at bf16."""
    return {"fp8": acc.fp8_tflops, "fp4": acc.fp4_tflops}.get(precision, acc.bf16_tflops)


def build_grid(accelerators, instances, models, groups: dict, eff: Efficiency | None = None,
               tp_points: dict[str, int] | None = None) -> Grid:
    """Every (model, instance, GPUs per replica in powers of two, precision) configuration.

    A row's evidence is the smaller of its calibration group's points and the number of fit rows
    run at its tensor-parallel degree (TP efficiency is otherwise an assumption)."""

    def group(r):
        return groups.get(group_key(r[7].vendor, r[8], r[5].total_params_b, r[5].active_params_b))

    rows = []
    for mi, m in enumerate(models):
        for ii, inst in enumerate(instances):
            acc = accelerators[inst.accelerator_id]
            gpr = 1
            while gpr <= inst.count:
                for pi, p in enumerate(PRECISIONS):
                    rows.append((mi, ii, pi, gpr, inst.count // gpr, m, inst, acc, p))
                gpr *= 2

    def col(f, dtype=float):
        return np.array([f(r) for r in rows], dtype=dtype)

    configs = Configs(
        total_params_b=col(lambda r: r[5].total_params_b), active_params_b=col(lambda r: r[5].active_params_b),
        kv_bytes_per_token=col(lambda r: r[5].kv_bytes_per_token(r[8])),
        bytes_per_param=col(lambda r: BYTES_PER_PARAM[r[8]]), gpus=col(lambda r: r[3]),
        memory_gb=col(lambda r: r[6].memory_per_gpu_gb), bandwidth_gb_s=col(lambda r: r[7].bandwidth_gb_s),
        tflops=col(lambda r: compute_tflops(r[7], r[8])),
        calibrated=col(lambda r: bool(group(r) and group(r)["calibrated"]), bool),
        supported=col(lambda r: not np.isnan(compute_tflops(r[7], r[8])), bool),
        max_context=col(lambda r: r[5].max_context),
        throughput_factor=col(lambda r: group(r)["factor"] if group(r) else np.nan),
        compute_factor=col(lambda r: group(r).get("compute_factor", group(r)["factor"]) if group(r) else np.nan),
        step_overhead_s=col(lambda r: group(r).get("step_overhead_s", 0.0) if group(r) else 0.0),
    )
    return Grid(
        model=col(lambda r: r[0], np.int64), instance=col(lambda r: r[1], np.int64),
        precision=col(lambda r: r[2], np.int64), gpus_per_replica=col(lambda r: r[3], np.int64),
        replicas_per_instance=col(lambda r: r[4], np.int64), configs=configs,
        static=static_capacity(configs, eff) if eff is not None else None,
        hourly={k: col(lambda r, k=k: r[6].prices[k]) for k in PRICING_COLUMNS},
        evidence_points=col(lambda r: min(group(r)["points"] if group(r) else 0,
                                          (tp_points or {}).get(str(r[3]), 0)), np.int64),
    )


@cache
def get_selfhosted_catalog() -> SelfHostedCatalog:
    accelerators, instances, models = load_accelerators(), load_instances(), load_models()
    cal = json.loads((DATA / "calibration.json").read_text(encoding="utf-8"))
    eff = _efficiency(cal)
    return SelfHostedCatalog(accelerators, instances, models, eff, cal,
                             build_grid(accelerators, instances, models, cal["groups"], eff, cal["tp_points"]))


def row_id(cat: SelfHostedCatalog, r: int) -> str:
    """A configuration's id: model@instance:Ngpu:precision."""
    g = cat.grid
    inst = cat.instances[g.instance[r]]
    return f"{cat.models[g.model[r]].model_id}@{inst.instance_type}:{g.gpus_per_replica[r]}gpu:{PRECISIONS[g.precision[r]]}"
