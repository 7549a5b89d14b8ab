"""Build-time calibration of the serving model on public benchmark results, with held-out rows.

A developer tool, not shipped in the Lambda layer: it writes ``costplan/catalog/data/calibration.json``, which the
layer reads (``costplan.catalog.selfhosted``).

Reads two cited tables in ``data/``:

- ``throughput_benchmarks.csv``: measured serving throughput of named models on named GPUs;
- ``latency_benchmarks.csv``: published TTFT / inter-token latency / throughput by concurrency.

Every row carries ``split``: ``fit`` rows fit the factors, ``holdout`` rows are only predicted,
so the error reported for them is out-of-sample. The fit, in stages:

1. Physical factors on the reference group (NVIDIA, dense, bf16/fp8): ``eff_bw`` and
   ``eff_flops``, by grid search minimising the squared log error of predicted vs measured
   tokens/s. Offline rows are predicted at the model's maximum throughput, rows with a stated
   concurrency as a closed loop of that many clients (``costplan.core.throughput.closed_loop``).
2. One throughput factor per calibration group (vendor, precision, dense or MoE): the geometric
   mean of measured / predicted over the group's fit rows. A group outside the reference set with at
   least ``MIN_POINTS`` fit rows gets three, by grid search on the squared log error: ``factor`` on the
   memory terms, ``compute_factor`` on the compute terms and ``step_overhead_s``, a fixed time per
   decode step (kernel launches, tensor-parallel all-reduce). One factor cannot carry a GPU's decode at
   small batch, its compute-bound prefill and large batches, and a per-step cost that does not shrink
   with the model: MI300X's published batch-1 step is 8.4 ms for 70B and 23.6 ms for 405B on 8 GPUs,
   a 2.8x ratio for 5.75x the weights. Thin groups keep one factor for both terms and no overhead.
3. Latency terms on the latency fit rows: ``request_overhead_s`` and ``prefill_chunk_tokens``,
   by grid search on the squared log error of TTFT and inter-token latency together.

Honesty: every factor records ``points`` (how many public results it was fitted on) and its
median absolute error. A group whose fit rows are not all reproduced within ``TOLERANCE`` is
uncalibrated (its configurations are excluded with MISSING_THROUGHPUT, never costed on a
guess); a calibrated group is ``calibrated`` with at least ``MIN_POINTS`` points, else
``thin``. Tensor-parallel efficiency is an assumption whose evidence is the number of fit rows
run at that TP degree. Writes ``data/calibration.json`` with every row's prediction and error.

Run: ``python -m tools.calibrate``.
"""

import json
import math
from dataclasses import replace

import numpy as np

from costplan.catalog.selfhosted import DATA, compute_tflops, group_key, load_accelerators, load_models, number, read_table
from costplan.core.throughput import BYTES_PER_PARAM, Configs, Efficiency, Shape, closed_loop, terms

OUT = DATA / "calibration.json"
TOLERANCE = 1.6
MIN_POINTS = 5
FIXED = {
    "mem_util": 0.90,  # vLLM's default gpu_memory_utilization
    "overhead_gb": 2.0,  # per GPU: activations, CUDA graphs, allocator slack (assumption)
    "tp_eff": {"1": 1.0, "2": 0.92, "4": 0.87, "8": 0.8},  # all-reduce cost per TP degree (assumption)
    "max_batch": 256,  # vLLM's default max_num_seqs
}
ASSUMED = {"mem_util": "vLLM default gpu_memory_utilization", "overhead_gb": "engineering assumption",
           "max_batch": "vLLM default max_num_seqs"}
REFERENCE = ("nvidia", ("bf16", "fp8"), "dense")
EFF_BW_GRID = np.round(np.arange(0.30, 0.951, 0.01), 2)
EFF_FLOPS_GRID = np.round(np.arange(0.15, 0.851, 0.01), 2)
OVERHEAD_GRID = np.round(np.arange(0.0, 0.0501, 0.0025), 4)
CHUNK_GRID = (512.0, 1024.0, 2048.0, 4096.0, 8192.0, 16384.0)
BURSTINESS_GRID = (0.0, 1.0, 3.0, 7.0, 15.0, 31.0)
PAIR_RANGE, PAIR_STEPS, PAIR_REFINE = (0.05, 4.0), 41, 0.12  # (factor, compute_factor) search: log grid, then +-12%
STEP_OVERHEAD_GRID = (0.0, 0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.008, 0.01, 0.012, 0.015)  # s per step
DEFAULT_LATENCY = {"request_overhead_s": 0.0, "prefill_chunk_tokens": 2048.0, "queue_burstiness": 0.0}


def _load(name: str, metric) -> list[dict]:
    accs, models = load_accelerators(), {m.model_id: m for m in load_models()}
    out = []
    for r in read_table(name):
        if r["model_id"] not in models or r["accelerator_id"] not in accs or r["precision"] not in BYTES_PER_PARAM:
            continue
        m, a, p = models[r["model_id"]], accs[r["accelerator_id"]], r["precision"]
        kind, measured = metric(r, number)
        if np.isnan(measured):
            continue
        conc = number(r["concurrency"])
        out.append({
            "row": r, "model": m, "acc": a, "precision": p, "gpus": int(r["gpus"]),
            "isl": number(r["input_tokens"]), "osl": number(r["output_tokens"]),
            # An offline max-throughput run states no concurrency: the batch is whatever memory holds.
            "concurrency": np.inf if np.isnan(conc) else conc,
            "metric": kind, "measured": measured, "split": r.get("split") or "fit",
            "tflops": compute_tflops(a, p), "group": group_key(a.vendor, p, m.total_params_b, m.active_params_b),
            "num": number,
        })
    return out


def load_benchmarks() -> list[dict]:
    def metric(r, num):
        out_tps, total_tps = num(r["output_tokens_per_s"]), num(r["total_tokens_per_s"])
        return ("output", out_tps) if not np.isnan(out_tps) else ("total", total_tps)
    return _load("throughput_benchmarks.csv", metric)


def load_latency() -> list[dict]:
    rows = _load("latency_benchmarks.csv", lambda r, num: ("output", num(r["output_tokens_per_s"])))
    for b in rows:
        b["ttft_s"], b["itl_s"] = b["num"](b["row"]["ttft_ms"]) / 1e3, b["num"](b["row"]["itl_ms"]) / 1e3
    return rows


def _configs(rows: list[dict], factors: dict | None = None) -> Configs:
    col = lambda f: np.array([f(b) for b in rows], dtype=float)  # noqa: E731
    return Configs(
        total_params_b=col(lambda b: b["model"].total_params_b), active_params_b=col(lambda b: b["model"].active_params_b),
        kv_bytes_per_token=col(lambda b: b["model"].kv_bytes_per_token(b["precision"])),
        bytes_per_param=col(lambda b: BYTES_PER_PARAM[b["precision"]]), gpus=col(lambda b: b["gpus"]),
        memory_gb=col(lambda b: b["acc"].memory_gb), bandwidth_gb_s=col(lambda b: b["acc"].bandwidth_gb_s),
        tflops=col(lambda b: b["tflops"]), calibrated=np.ones(len(rows), bool), supported=np.ones(len(rows), bool),
        max_context=col(lambda b: max(b["model"].max_context, b["isl"] + b["osl"])),
        throughput_factor=None if factors is None else col(lambda b: factors.get(b["group"], {}).get("factor", 1.0)),
        compute_factor=None if factors is None else col(
            lambda b: factors.get(b["group"], {}).get("compute_factor", factors.get(b["group"], {}).get("factor", 1.0))),
        step_overhead_s=None if factors is None else col(lambda b: factors.get(b["group"], {}).get("step_overhead_s", 0.0)),
    )


def simulate(rows: list[dict], eff: Efficiency, factors: dict | None = None, configs: Configs | None = None):
    """The closed-loop steady state of every row (offline rows at the maximum throughput), vectorised."""
    c = configs if configs is not None else _configs(rows, factors)
    shape = Shape(np.array([b["isl"] for b in rows]), np.array([b["osl"] for b in rows]))
    t = terms(c, shape, eff)
    return t, closed_loop(t, np.array([b["concurrency"] for b in rows]))


def predict(rows: list[dict], eff: Efficiency, factors: dict | None = None, configs: Configs | None = None) -> np.ndarray:
    """Predicted tokens/s in each row's metric (output or total)."""
    _, load = simulate(rows, eff, factors, configs)
    rps = load.requests_per_s
    out = np.array([b["osl"] for b in rows]) * rps
    total = np.array([b["isl"] + b["osl"] for b in rows]) * rps
    return np.where(np.array([b["metric"] == "output" for b in rows]), out, total)


def efficiency(eff_bw: float, eff_flops: float, latency: dict | None = None) -> Efficiency:
    lat = latency or DEFAULT_LATENCY
    return Efficiency(mem_util=FIXED["mem_util"], overhead_gb=FIXED["overhead_gb"], eff_bw=eff_bw,
                      eff_flops=eff_flops, tp_eff={int(k): v for k, v in FIXED["tp_eff"].items()},
                      max_batch=FIXED["max_batch"], prefill_chunk_tokens=lat["prefill_chunk_tokens"],
                      request_overhead_s=lat["request_overhead_s"], queue_burstiness=lat["queue_burstiness"])


def _is_reference(b: dict) -> bool:
    vendor, precisions, kind = REFERENCE
    return b["group"].startswith(f"{vendor}/") and b["precision"] in precisions and b["group"].endswith(f"/{kind}")


def _median_error(ratio: np.ndarray) -> float | None:
    return round(float(np.median(np.abs(ratio - 1.0))), 4) if ratio.size else None


def _fit_physical(ref: list[dict]) -> tuple[float, float]:
    measured = np.array([b["measured"] for b in ref])
    best = None
    for bw in EFF_BW_GRID:
        for fl in EFF_FLOPS_GRID:
            pred = predict(ref, efficiency(float(bw), float(fl)))
            if np.any(pred <= 0):
                continue
            loss = float(np.sum(np.log(pred / measured) ** 2))
            if best is None or loss < best[0] - 1e-12:
                best = (loss, float(bw), float(fl))
    return best[1], best[2]


def _triple_loss(rows: list[dict], eff: Efficiency, triples: np.ndarray) -> np.ndarray:
    """Sum of squared log(predicted/measured) over ``rows`` for every (factor, compute_factor, step_overhead_s)."""
    n = len(rows)
    base = _configs(rows)
    tile = lambda a: np.tile(a, len(triples))  # noqa: E731
    c = Configs(**{k: tile(getattr(base, k)) for k in ("total_params_b", "active_params_b", "kv_bytes_per_token",
                   "bytes_per_param", "gpus", "memory_gb", "bandwidth_gb_s", "tflops", "calibrated", "supported",
                   "max_context")})
    c = replace(c, throughput_factor=np.repeat(triples[:, 0], n), compute_factor=np.repeat(triples[:, 1], n),
                step_overhead_s=np.repeat(triples[:, 2], n))
    pred = predict(rows * len(triples), eff, configs=c).reshape(len(triples), n)
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = np.sum(np.log(pred / np.array([b["measured"] for b in rows])) ** 2, axis=1)
    return np.where(np.isfinite(loss), loss, np.inf)


def _fit_triple(rows: list[dict], eff: Efficiency) -> tuple[float, float, float]:
    """(factor, compute_factor, step_overhead_s) minimising the squared log error: a grid (log grid for the two
    factors), then a finer factor grid around its best at the best overhead. The first minimum wins: deterministic."""
    coarse = np.exp(np.linspace(math.log(PAIR_RANGE[0]), math.log(PAIR_RANGE[1]), PAIR_STEPS))
    triples = np.array([(f, g, t) for t in STEP_OVERHEAD_GRID for f in coarse for g in coarse])
    f, g, t = triples[int(np.argmin(_triple_loss(rows, eff, triples)))]
    fine = np.exp(np.linspace(-PAIR_REFINE, PAIR_REFINE, PAIR_STEPS))
    triples = np.array([(ff, gg, t) for ff in f * fine for gg in g * fine])
    f, g, t = triples[int(np.argmin(_triple_loss(rows, eff, triples)))]
    return float(f), float(g), float(t)


def _fit_groups(rows: list[dict], eff: Efficiency) -> dict:
    log_ratio = np.log(np.array([b["measured"] for b in rows]) / predict(rows, eff))
    groups = {}
    for key in sorted({b["group"] for b in rows}):
        sel = np.array([b["group"] == key for b in rows])
        points = int(sel.sum())
        group_rows = [b for b, s in zip(rows, sel, strict=True) if s]
        if points >= MIN_POINTS and not _is_reference(group_rows[0]):
            factor, compute, overhead = (round(v, 4) for v in _fit_triple(group_rows, eff))
            fitted = {key: {"factor": factor, "compute_factor": compute, "step_overhead_s": overhead}}
            residual = np.abs(np.log(np.array([b["measured"] for b in group_rows]) / predict(group_rows, eff, fitted)))
            n_factors = 3
        else:
            factor = round(float(np.exp(np.mean(log_ratio[sel]))), 4)
            compute, overhead, n_factors = factor, 0.0, 1
            residual = np.abs(log_ratio[sel] - math.log(factor))
        within = bool(np.max(residual) <= math.log(TOLERANCE))
        groups[key] = {"factor": factor, "compute_factor": compute, "step_overhead_s": overhead,
                       "factors_fitted": n_factors, "points": points, "max_abs_log_error": round(float(residual.max()), 4),
                       "median_abs_error": _median_error(np.exp(residual)), "calibrated": within,
                       "basis": ("calibrated" if points >= MIN_POINTS else "thin") if within else "uncalibrated"}
    return groups


def _latency_loss(rows: list[dict], eff: Efficiency, groups: dict) -> float:
    _, load = simulate(rows, eff, groups)
    pred = np.concatenate([load.ttft_s, load.tpot_s])
    meas = np.concatenate([[b["ttft_s"] for b in rows], [b["itl_s"] for b in rows]])
    return float(np.sum(np.log(pred / meas) ** 2)) if np.all(np.isfinite(pred) & (pred > 0)) else float("inf")


def _fit_latency(rows: list[dict], bw: float, fl: float, groups: dict) -> dict:
    best = None
    for overhead in OVERHEAD_GRID:
        for chunk in CHUNK_GRID:
            for burst in BURSTINESS_GRID:
                lat = {"request_overhead_s": float(overhead), "prefill_chunk_tokens": chunk, "queue_burstiness": burst}
                loss = _latency_loss(rows, efficiency(bw, fl, lat), groups)
                if best is None or loss < best[0] - 1e-12:
                    best = (loss, lat)
    return best[1]


def _split_errors(ratio: np.ndarray, split: np.ndarray) -> dict:
    out = {}
    for name in ("fit", "holdout"):
        r = ratio[split == name]
        out["in_sample" if name == "fit" else "out_of_sample"] = {
            "points": int(r.size), "median_abs_error": _median_error(r),
            "median_abs_log_error": round(float(np.median(np.abs(np.log(r)))), 4) if r.size else None,
            "within_25pct": round(float(np.mean(np.abs(r - 1) <= 0.25)), 4) if r.size else None,
            "within_factor_2": round(float(np.mean(np.abs(np.log(r)) <= math.log(2))), 4) if r.size else None,
            "max_ratio": round(float(r.max()), 4) if r.size else None,
            "min_ratio": round(float(r.min()), 4) if r.size else None}
    return out


def fit() -> dict:
    rows = load_benchmarks()
    fit_rows = [b for b in rows if b["split"] == "fit"]
    bw, fl = _fit_physical([b for b in fit_rows if _is_reference(b)])
    groups = _fit_groups(fit_rows, efficiency(bw, fl))
    lat_rows = load_latency()
    latency = _fit_latency([b for b in lat_rows if b["split"] == "fit"], bw, fl, groups)
    eff = efficiency(bw, fl, latency)
    groups = _fit_groups(fit_rows, eff)  # refit the group factors under the fitted latency terms
    pred = predict(rows, eff, groups)
    ratio = pred / np.array([b["measured"] for b in rows])
    split = np.array([b["split"] for b in rows])
    calibrated = {k for k, g in groups.items() if g["calibrated"]}
    in_cal = np.array([b["group"] in calibrated for b in rows])

    _, load = simulate(lat_rows, eff, groups)
    lat_split = np.array([b["split"] for b in lat_rows])
    lat_ratio = {
        "ttft": load.ttft_s / np.array([b["ttft_s"] for b in lat_rows]),
        "itl": load.tpot_s / np.array([b["itl_s"] for b in lat_rows]),
        "output_tokens_per_s": load.requests_per_s * np.array([b["osl"] for b in lat_rows])
        / np.array([b["measured"] for b in lat_rows]),
    }
    ref_fit = np.array([_is_reference(b) and b["split"] == "fit" for b in rows])
    tp_points = {k: int(sum(1 for b in fit_rows if b["gpus"] == int(k) and b["group"] in calibrated))
                 for k in FIXED["tp_eff"]}
    lat_fit = lat_split == "fit"
    lat_fit_ratio = np.concatenate([lat_ratio["ttft"][lat_fit], lat_ratio["itl"][lat_fit]])
    evidence = {
        "eff_bw": {"basis": "fitted", "points": int(ref_fit.sum()), "median_abs_error": _median_error(ratio[ref_fit])},
        "eff_flops": {"basis": "fitted", "points": int(ref_fit.sum()), "median_abs_error": _median_error(ratio[ref_fit])},
        "request_overhead_s": {"basis": "fitted", "points": int(lat_fit.sum()), "median_abs_error": _median_error(lat_fit_ratio)},
        "prefill_chunk_tokens": {"basis": "fitted", "points": int(lat_fit.sum()),
                                 "median_abs_error": _median_error(lat_fit_ratio)},
        "queue_burstiness": {"basis": "fitted", "points": int(lat_fit.sum()), "median_abs_error": _median_error(lat_fit_ratio)},
        **{k: {"basis": "assumed", "points": 0, "median_abs_error": None, "note": note} for k, note in ASSUMED.items()},
        **{f"tp_eff:{k}": {"basis": "assumed", "points": n, "median_abs_error": None,
                           "note": f"assumed all-reduce efficiency; {n} fit rows of calibrated groups ran at TP{k}"}
           for k, n in tp_points.items()},
    }
    return {
        "method": ("stage 1: grid search of eff_bw x eff_flops on NVIDIA dense bf16/fp8 fit rows, minimising the sum of "
                   "squared log(predicted/measured) (closed loop at the stated concurrency, offline otherwise); "
                   "stage 2: per-group factor = geometric mean of measured/predicted over fit rows; stage 3: "
                   "request_overhead_s x prefill_chunk_tokens by grid search on the squared log error of TTFT and "
                   "inter-token latency over latency fit rows; stage 2 repeated under the stage 3 terms. "
                   "holdout rows are never used to fit"),
        "tolerance_factor": TOLERANCE,
        "min_points_calibrated": MIN_POINTS,
        "factors": {**FIXED, "eff_bw": bw, "eff_flops": fl, **latency},
        "factor_evidence": evidence,
        "tp_points": tp_points,
        "groups": groups,
        "errors": {
            "throughput": _split_errors(ratio[in_cal], split[in_cal]),
            "throughput_all_groups": _split_errors(ratio, split),
            "latency": {k: _split_errors(v, lat_split) for k, v in lat_ratio.items()},
        },
        "benchmarks": [
            {"model_id": b["row"]["model_id"], "accelerator_id": b["row"]["accelerator_id"], "gpus": b["gpus"],
             "precision": b["precision"], "group": b["group"], "input_tokens": b["isl"], "output_tokens": b["osl"],
             "concurrency": None if np.isinf(b["concurrency"]) else b["concurrency"], "split": b["split"],
             "metric": f"{b['metric']}_tokens_per_s", "measured": b["measured"], "predicted": round(float(p), 1),
             "ratio": round(float(r), 4), "source": b["row"]["source"], "as_of": b["row"].get("as_of", "")}
            for b, p, r in zip(rows, pred, ratio, strict=True)
        ],
        "latency_benchmarks": [
            {"model_id": b["row"]["model_id"], "accelerator_id": b["row"]["accelerator_id"], "gpus": b["gpus"],
             "precision": b["precision"], "input_tokens": b["isl"], "output_tokens": b["osl"],
             "concurrency": b["concurrency"], "split": b["split"],
             "ttft_ms": {"measured": round(b["ttft_s"] * 1e3, 2), "predicted": round(float(tt) * 1e3, 2)},
             "itl_ms": {"measured": round(b["itl_s"] * 1e3, 2), "predicted": round(float(it) * 1e3, 2)},
             "output_tokens_per_s": {"measured": b["measured"], "predicted": round(float(rps) * b["osl"], 1)},
             "source": b["row"]["source"], "as_of": b["row"]["as_of"]}
            for b, tt, it, rps in zip(lat_rows, load.ttft_s, load.tpot_s, load.requests_per_s, strict=True)
        ],
    }


def render(result: dict) -> str:
    return json.dumps(result, indent=2, sort_keys=True) + "\n"


def _line(name: str, e: dict) -> str:
    return (f"  {name}: in-sample {e['in_sample']['points']} pts, median |err| {e['in_sample']['median_abs_error']}; "
            f"out-of-sample {e['out_of_sample']['points']} pts, median |err| {e['out_of_sample']['median_abs_error']}")


def main() -> None:
    result = fit()
    OUT.write_text(render(result), encoding="utf-8")
    f = result["factors"]
    print(f"eff_bw={f['eff_bw']} eff_flops={f['eff_flops']} request_overhead_s={f['request_overhead_s']} "
          f"prefill_chunk_tokens={f['prefill_chunk_tokens']} over {len(result['benchmarks'])} throughput and "
          f"{len(result['latency_benchmarks'])} latency rows")
    for key, g in result["groups"].items():
        print(f"  {key}: factor {g['factor']}, {g['points']} points, median |err| {g['median_abs_error']}, {g['basis']}")
    print(_line("throughput (calibrated groups)", result["errors"]["throughput"]))
    for k, e in result["errors"]["latency"].items():
        print(_line(f"latency {k}", e))


if __name__ == "__main__":
    main()
