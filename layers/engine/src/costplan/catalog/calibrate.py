"""Build-time calibration of the throughput model on public benchmark results.

Reads ``data/throughput_benchmarks.csv`` (measured serving throughput for named models on
named GPUs, each row cited) and fits the two free efficiency factors of
``costplan.core.throughput`` -- ``eff_bw`` (achieved share of peak memory bandwidth in
decode) and ``eff_flops`` (achieved share of peak dense FLOPs in prefill) -- by grid search
minimising the squared log error of predicted vs measured output tokens/s. The other factors
are fixed engineering assumptions, stated in the output. Writes ``data/calibration.json``,
including every benchmark's prediction and error, so the fit can be audited and tested.

Run: ``python -m costplan.catalog.calibrate``.
"""

import json
from pathlib import Path

import numpy as np

from costplan.core.throughput import BYTES_PER_PARAM, Configs, Efficiency, Shape, replica_capacity

DATA = Path(__file__).parent / "data"
OUT = DATA / "calibration.json"
FIXED = {
    "mem_util": 0.90,  # vLLM's default gpu_memory_utilization
    "overhead_gb": 2.0,  # per GPU: activations, CUDA graphs, allocator slack (assumption)
    "tp_eff": {"1": 1.0, "2": 0.92, "4": 0.87, "8": 0.8},  # all-reduce cost per TP degree (assumption)
    "max_batch": 256,  # vLLM's default max_num_seqs
}
EFF_BW_GRID = np.round(np.arange(0.30, 0.951, 0.01), 2)
EFF_FLOPS_GRID = np.round(np.arange(0.20, 0.851, 0.01), 2)


def _benchmark_configs():
    from costplan.catalog.selfhosted import _accelerators, _models, _num, _rows, compute_tflops

    accs, models = _accelerators(), {m.model_id: m for m in _models()}
    rows = [r for r in _rows("throughput_benchmarks.csv")
            if r["model_id"] in models and r["accelerator_id"] in accs and r["precision"] in BYTES_PER_PARAM
            and not np.isnan(_num(r["output_tokens_per_s"])) and not np.isnan(_num(r["concurrency"]))]
    out = []
    for r in rows:
        m, a, p = models[r["model_id"]], accs[r["accelerator_id"]], r["precision"]
        out.append((r, m, a, p, int(r["gpus"]), _num(r["input_tokens"]), _num(r["output_tokens"]),
                    _num(r["concurrency"]), _num(r["output_tokens_per_s"]), compute_tflops(a, p)))
    return out


def predict(rows, eff: Efficiency) -> np.ndarray:
    preds = []
    for (_r, m, a, p, gpus, isl, osl, conc, _measured, tflops) in rows:
        one = lambda v: np.array([v], dtype=float)
        c = Configs(total_params_b=one(m.total_params_b), active_params_b=one(m.active_params_b),
                    kv_bytes_per_token=one(m.kv_bytes_per_token(p)), bytes_per_param=one(BYTES_PER_PARAM[p]),
                    gpus=one(gpus), memory_gb=one(a.memory_gb), bandwidth_gb_s=one(a.bandwidth_gb_s),
                    tflops=one(tflops), calibrated=np.array([True]), supported=np.array([True]),
                    max_context=one(max(m.max_context, isl + osl)))
        cap = replica_capacity(c, Shape(isl, osl), eff, fixed_batch=one(conc))
        preds.append(cap.output_tokens_per_s[0])
    return np.array(preds)


def efficiency(eff_bw: float, eff_flops: float) -> Efficiency:
    return Efficiency(mem_util=FIXED["mem_util"], overhead_gb=FIXED["overhead_gb"], eff_bw=eff_bw,
                      eff_flops=eff_flops, tp_eff={int(k): v for k, v in FIXED["tp_eff"].items()},
                      max_batch=FIXED["max_batch"])


def fit() -> dict:
    rows = _benchmark_configs()
    measured = np.array([r[8] for r in rows])
    best = None
    for bw in EFF_BW_GRID:
        for fl in EFF_FLOPS_GRID:
            pred = predict(rows, efficiency(float(bw), float(fl)))
            if np.any(pred <= 0):
                continue
            loss = float(np.sum(np.log(pred / measured) ** 2))
            if best is None or loss < best[0]:
                best = (loss, float(bw), float(fl), pred)
    _, bw, fl, pred = best
    ratio = pred / measured
    return {
        "method": "grid search over eff_bw x eff_flops minimising sum of squared log(predicted/measured) output tokens/s",
        "factors": {**FIXED, "eff_bw": bw, "eff_flops": fl},
        "calibrated": sorted({(r[2].vendor, r[3]) for r in rows}),
        "max_abs_log_error": round(float(np.max(np.abs(np.log(ratio)))), 4),
        "benchmarks": [
            {"model_id": r[0]["model_id"], "accelerator_id": r[0]["accelerator_id"], "gpus": r[4], "precision": r[3],
             "input_tokens": r[5], "output_tokens": r[6], "concurrency": r[7], "measured_output_tokens_per_s": r[8],
             "predicted_output_tokens_per_s": round(float(p), 1), "ratio": round(float(x), 4),
             "source": r[0]["source"], "as_of": r[0]["as_of"]}
            for r, p, x in zip(rows, pred, ratio)
        ],
    }


def main() -> None:
    result = fit()
    OUT.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    f = result["factors"]
    print(f"eff_bw={f['eff_bw']} eff_flops={f['eff_flops']} over {len(result['benchmarks'])} benchmarks; "
          f"max |log error| {result['max_abs_log_error']}")


if __name__ == "__main__":
    main()
