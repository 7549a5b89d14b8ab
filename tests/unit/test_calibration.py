"""The serving model against cited public results: throughput and latency, in-sample and out-of-sample.

Tolerances are stated here and in catalog/data/README.md; ``holdout`` rows never fit a factor.
"""

import numpy as np
import pytest

from costplan.catalog.selfhosted import get_selfhosted_catalog
from tools import calibrate

# (median |predicted/measured - 1| at most, points at least) per split
THROUGHPUT = {"fit": (0.15, 15), "holdout": (0.20, 5)}
ITL = {"fit": (0.20, 40), "holdout": (0.20, 25)}
LATENCY_THROUGHPUT = {"fit": (0.20, 40), "holdout": (0.20, 25)}
TTFT_MEDIAN_LOG = {"fit": np.log(2.0), "holdout": np.log(1.5)}  # TTFT: within a factor 2 (fit), 1.5 (holdout)


@pytest.fixture(scope="module")
def latency():
    cat = get_selfhosted_catalog()
    rows = calibrate.load_latency()
    _, load = calibrate.simulate(rows, cat.efficiency, cat.calibration["groups"])
    return rows, load


def _ratios(rows, predicted, measured, split):
    sel = np.array([b["split"] == split for b in rows])
    return predicted[sel] / measured[sel]


@pytest.mark.parametrize("split", ["fit", "holdout"])
def test_throughput_of_calibrated_groups_matches_published_results(split):
    cat = get_selfhosted_catalog()
    groups = cat.calibration["groups"]
    rows = [b for b in calibrate.load_benchmarks() if groups[b["group"]]["calibrated"]]
    ratio = _ratios(rows, calibrate.predict(rows, cat.efficiency, groups), np.array([b["measured"] for b in rows]), split)
    limit, points = THROUGHPUT[split]
    assert ratio.size >= points
    assert np.median(np.abs(ratio - 1)) <= limit
    assert np.all((ratio >= 1 / calibrate.TOLERANCE) & (ratio <= calibrate.TOLERANCE))


@pytest.mark.parametrize("split", ["fit", "holdout"])
def test_inter_token_latency_matches_published_tables(latency, split):
    rows, load = latency
    ratio = _ratios(rows, load.tpot_s, np.array([b["itl_s"] for b in rows]), split)
    limit, points = ITL[split]
    assert ratio.size >= points and np.median(np.abs(ratio - 1)) <= limit
    assert np.all((ratio > 0.5) & (ratio < 2.0))  # never off by the 1.7-7x of the roofline without prefill sharing


@pytest.mark.parametrize("split", ["fit", "holdout"])
def test_throughput_at_a_given_concurrency_matches_published_tables(latency, split):
    rows, load = latency
    predicted = load.requests_per_s * np.array([b["osl"] for b in rows])
    ratio = _ratios(rows, predicted, np.array([b["measured"] for b in rows]), split)
    limit, points = LATENCY_THROUGHPUT[split]
    assert ratio.size >= points and np.median(np.abs(ratio - 1)) <= limit


@pytest.mark.parametrize("split", ["fit", "holdout"])
def test_time_to_first_token_matches_published_tables_within_its_wider_tolerance(latency, split):
    rows, load = latency
    ratio = _ratios(rows, load.ttft_s, np.array([b["ttft_s"] for b in rows]), split)
    assert np.median(np.abs(np.log(ratio))) <= TTFT_MEDIAN_LOG[split]


def test_every_factor_states_its_evidence():
    cal = get_selfhosted_catalog().calibration
    for name in ("eff_bw", "eff_flops", "request_overhead_s", "prefill_chunk_tokens", "mem_util", "tp_eff:4"):
        ev = cal["factor_evidence"][name]
        assert ev["basis"] in {"fitted", "assumed"} and ev["points"] >= 0
    for key, g in cal["groups"].items():
        assert g["points"] >= 1 and g["median_abs_error"] is not None
        expected = ("calibrated" if g["points"] >= calibrate.MIN_POINTS else "thin") if g["calibrated"] else "uncalibrated"
        assert g["basis"] == expected, key
    # 16 published MI300X results (2 model sizes, batch 1 to 3200): the model cannot reproduce all of them within
    # the tolerance, so MI300X is never costed on a fitted guess (it was "thin" on 2 rows before)
    amd = cal["groups"]["amd/fp8/dense"]
    assert amd["points"] >= 16 and amd["basis"] == "uncalibrated" and amd["max_abs_log_error"] > np.log(calibrate.TOLERANCE)
    # FP4 on Blackwell: the dense group is calibrated on 20 B200 results, the MoE group is not (off by up to 2x)
    fp4 = cal["groups"]["nvidia/fp4/dense"]
    assert fp4["points"] >= 20 and fp4["basis"] == "calibrated" and fp4["factors_fitted"] == 3
    assert cal["groups"]["nvidia/fp4/moe"]["basis"] == "uncalibrated"
    # the reference groups keep one factor and no step overhead: eff_bw / eff_flops were fitted on them
    assert cal["groups"]["nvidia/fp8/dense"]["factors_fitted"] == 1
    assert cal["groups"]["nvidia/fp8/dense"]["step_overhead_s"] == 0.0


def test_every_latency_row_is_cited_and_some_are_held_out():
    rows = calibrate.load_latency()
    assert len(rows) >= 60
    assert all(b["row"]["source"].startswith("https://") and b["row"]["as_of"] for b in rows)
    assert sum(b["split"] == "holdout" for b in rows) >= 20
