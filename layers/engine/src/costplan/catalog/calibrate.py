"""Build-time calibration of the throughput model on public benchmark results.

Reads ``data/throughput_benchmarks.csv`` (measured serving throughput of named models on named
GPUs, each row cited) and fits ``costplan.core.throughput`` to it in two stages:

1. Physical factors on the reference group (NVIDIA, dense models, bf16/fp8): ``eff_bw``
   (achieved share of peak memory bandwidth in decode) and ``eff_flops`` (achieved share of
   peak dense FLOPs in prefill), by grid search minimising the squared log error of the
   predicted vs measured tokens/s.
2. One throughput factor per calibration group (accelerator vendor, precision, dense or MoE):
   the geometric mean of measured / predicted over the group's rows.

A group is *calibrated* only if every one of its benchmarks is then reproduced within
``TOLERANCE`` (a factor of 1.6 either way). Configurations in any other group are excluded
with MISSING_THROUGHPUT; they are never costed on a guess. The other factors (memory
utilisation, per-GPU overhead, tensor-parallel efficiency, engine batch cap) are stated
engineering assumptions. Writes ``data/calibration.json`` with every benchmark's prediction
and error, so the fit can be audited, and tested.

Run: ``python -m costplan.catalog.calibrate``.
"""

import json
import math
from pathlib import Path

import numpy as np

from costplan.core.throughput import BYTES_PER_PARAM, Configs, Efficiency, Shape, replica_capacity

DATA = Path(__file__).parent / "data"
OUT = DATA / "calibration.json"
TOLERANCE = 1.6
FIXED = {
    "mem_util": 0.90,  # vLLM's default gpu_memory_utilization
    "overhead_gb": 2.0,  # per GPU: activations, CUDA graphs, allocator slack (assumption)
    "tp_eff": {"1": 1.0, "2": 0.92, "4": 0.87, "8": 0.8},  # all-reduce cost per TP degree (assumption)
    "max_batch": 256,  # vLLM's default max_num_seqs
}
REFERENCE = ("nvidia", ("bf16", "fp8"), "dense")
EFF_BW_GRID = np.round(np.arange(0.30, 0.951, 0.01), 2)
EFF_FLOPS_GRID = np.round(np.arange(0.15, 0.851, 0.01), 2)


def group_key(vendor: str, precision: str, total_params_b: float, active_params_b: float) -> str:
    return f"{vendor.lower()}/{precision}/{'moe' if active_params_b < total_params_b else 'dense'}"


def load_benchmarks() -> list[dict]:
    from costplan.catalog.selfhosted import _accelerators, _models, _num, _rows, compute_tflops

    accs, models = _accelerators(), {m.model_id: m for m in _models()}
    out = []
    for r in _rows("throughput_benchmarks.csv"):
        if r["model_id"] not in models or r["accelerator_id"] not in accs or r["precision"] not in BYTES_PER_PARAM:
            continue
        m, a, p = models[r["model_id"]], accs[r["accelerator_id"]], r["precision"]
        out_tps, total_tps, conc = _num(r["output_tokens_per_s"]), _num(r["total_tokens_per_s"]), _num(r["concurrency"])
        if np.isnan(out_tps) and np.isnan(total_tps):
            continue
        out.append({
            "row": r, "model": m, "acc": a, "precision": p, "gpus": int(r["gpus"]),
            "isl": _num(r["input_tokens"]), "osl": _num(r["output_tokens"]),
            # An offline max-throughput run states no concurrency: the batch is whatever memory holds.
            "concurrency": np.inf if np.isnan(conc) else conc,
            "metric": "output" if not np.isnan(out_tps) else "total",
            "measured": out_tps if not np.isnan(out_tps) else total_tps,
            "tflops": compute_tflops(a, p),
            "group": group_key(a.vendor, p, m.total_params_b, m.active_params_b),
        })
    return out


def predict(rows: list[dict], eff: Efficiency) -> np.ndarray:
    """Predicted tokens/s (in each row's metric), vectorised over rows: one kernel call per (isl, osl) shape."""
    col = lambda f: np.array([f(b) for b in rows], dtype=float)
    c = Configs(
        total_params_b=col(lambda b: b["model"].total_params_b), active_params_b=col(lambda b: b["model"].active_params_b),
        kv_bytes_per_token=col(lambda b: b["model"].kv_bytes_per_token(b["precision"])),
        bytes_per_param=col(lambda b: BYTES_PER_PARAM[b["precision"]]), gpus=col(lambda b: b["gpus"]),
        memory_gb=col(lambda b: b["acc"].memory_gb), bandwidth_gb_s=col(lambda b: b["acc"].bandwidth_gb_s),
        tflops=col(lambda b: b["tflops"]), calibrated=np.ones(len(rows), bool), supported=np.ones(len(rows), bool),
        max_context=col(lambda b: max(b["model"].max_context, b["isl"] + b["osl"])),
    )
    out = np.zeros(len(rows))
    for shape in sorted({(b["isl"], b["osl"]) for b in rows}):
        sel = np.array([(b["isl"], b["osl"]) == shape for b in rows])
        cap = replica_capacity(c, Shape(*shape), eff, fixed_batch=col(lambda b: b["concurrency"]))
        metric = np.array([b["metric"] == "output" for b in rows])
        out[sel] = np.where(metric, cap.output_tokens_per_s, cap.total_tokens_per_s)[sel]
    return out


def efficiency(eff_bw: float, eff_flops: float) -> Efficiency:
    return Efficiency(mem_util=FIXED["mem_util"], overhead_gb=FIXED["overhead_gb"], eff_bw=eff_bw,
                      eff_flops=eff_flops, tp_eff={int(k): v for k, v in FIXED["tp_eff"].items()},
                      max_batch=FIXED["max_batch"])


def _is_reference(b: dict) -> bool:
    vendor, precisions, kind = REFERENCE
    return b["group"].startswith(f"{vendor}/") and b["precision"] in precisions and b["group"].endswith(f"/{kind}")


def fit() -> dict:
    rows = load_benchmarks()
    ref = [b for b in rows if _is_reference(b)]
    measured_ref = np.array([b["measured"] for b in ref])
    best = None
    for bw in EFF_BW_GRID:
        for fl in EFF_FLOPS_GRID:
            pred = predict(ref, efficiency(float(bw), float(fl)))
            if np.any(pred <= 0):
                continue
            loss = float(np.sum(np.log(pred / measured_ref) ** 2))
            if best is None or loss < best[0] - 1e-12:
                best = (loss, float(bw), float(fl))
    _, bw, fl = best
    pred = predict(rows, efficiency(bw, fl))
    log_ratio = np.log(np.array([b["measured"] for b in rows]) / pred)
    groups = {}
    for key in sorted({b["group"] for b in rows}):
        sel = np.array([b["group"] == key for b in rows])
        factor = float(np.exp(np.mean(log_ratio[sel])))
        residual = float(np.max(np.abs(log_ratio[sel] - math.log(factor))))
        groups[key] = {"factor": round(factor, 4), "benchmarks": int(sel.sum()),
                       "max_abs_log_error": round(residual, 4), "calibrated": residual <= math.log(TOLERANCE)}
    return {
        "method": ("stage 1: grid search of eff_bw x eff_flops on NVIDIA dense bf16/fp8 rows, minimising the sum of "
                   "squared log(predicted/measured); stage 2: per-group factor = geometric mean of measured/predicted"),
        "tolerance_factor": TOLERANCE,
        "factors": {**FIXED, "eff_bw": bw, "eff_flops": fl},
        "groups": groups,
        "benchmarks": [
            {"model_id": b["row"]["model_id"], "accelerator_id": b["row"]["accelerator_id"], "gpus": b["gpus"],
             "precision": b["precision"], "group": b["group"], "input_tokens": b["isl"], "output_tokens": b["osl"],
             "concurrency": None if np.isinf(b["concurrency"]) else b["concurrency"],
             "metric": f"{b['metric']}_tokens_per_s", "measured": b["measured"],
             "predicted": round(float(p) * groups[b["group"]]["factor"], 1),
             "ratio": round(float(p) * groups[b["group"]]["factor"] / b["measured"], 4),
             "source": b["row"]["source"], "as_of": b["row"].get("as_of", "")}
            for b, p in zip(rows, pred)
        ],
    }


def render(result: dict) -> str:
    return json.dumps(result, indent=2, sort_keys=True) + "\n"


def main() -> None:
    result = fit()
    OUT.write_text(render(result), encoding="utf-8")
    f = result["factors"]
    print(f"eff_bw={f['eff_bw']} eff_flops={f['eff_flops']} over {len(result['benchmarks'])} benchmarks")
    for key, g in result["groups"].items():
        print(f"  {key}: factor {g['factor']}, {g['benchmarks']} rows, max |log error| {g['max_abs_log_error']}, "
              f"calibrated={g['calibrated']}")


if __name__ == "__main__":
    main()
