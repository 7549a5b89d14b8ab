"""Quality scoring: fixed anchors, the weighted index with coverage, the exact Pareto frontier, quality-aware plans."""

import csv
import json
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest

from costplan.catalog.quality import get_quality_catalog, profile_quality
from costplan.core.quality import normalise, pareto_frontier, quality_index
from costplan.services.plan.insights import quality_price
from costplan.services.plan.llm import plan_llm
from costplan_contracts.enums import FallbackStep, ReasonCode, StepStatus, WarningCode, WorkloadProfile
from costplan_contracts.insights import QualityPriceRequest
from costplan_contracts.plan_llm import PlanLlmRequest

WORKLOAD = {"input_tokens_per_month": 1e9, "output_tokens_per_month": 2e8}


def test_normalisation_uses_fixed_anchors_and_clips():
    out = normalise(np.array([[25.0, 62.5, 100.0, 10.0]]), np.array([25.0] * 4), np.array([100.0] * 4))
    assert out.tolist() == [[0.0, 50.0, 100.0, 0.0]]


def test_index_renormalises_weights_over_present_benchmarks_and_reports_coverage():
    scores = np.array([[80.0, np.nan, 60.0], [np.nan, np.nan, np.nan]])
    index, coverage = quality_index(scores, np.array([0.5, 0.3, 0.2]))
    assert index[0] == pytest.approx((0.5 * 80 + 0.2 * 60) / 0.7)
    assert coverage[0] == pytest.approx(0.7)
    assert np.isnan(index[1]) and coverage[1] == 0  # no score is unknown, never 0


def _brute_force(cost, quality):
    keep = []
    for i in range(len(cost)):
        dominated = any(cost[j] <= cost[i] and quality[j] >= quality[i] and (cost[j] < cost[i] or quality[j] > quality[i])
                        for j in range(len(cost)))
        if not dominated:
            keep.append(i)
    return sorted(keep)


@pytest.mark.parametrize("seed", range(40))
def test_pareto_frontier_is_exactly_the_non_dominated_set(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    cost = rng.choice([1.0, 2.0, 5.0, 10.0, 20.0, 50.0], size=n) if seed % 2 else rng.random(n) * 100
    quality = rng.choice([40.0, 55.0, 70.0, 85.0], size=n) if seed % 3 else rng.random(n) * 100
    assert sorted(pareto_frontier(cost, quality).tolist()) == _brute_force(cost, quality)


def test_catalog_scores_at_least_40_models_with_provenance_and_documented_profiles():
    cat = get_quality_catalog()
    assert len(cat.models) >= 40
    assert set(cat.profiles) == {p.value for p in WorkloadProfile}
    for source, as_of in cat.provenance.values():
        assert source and as_of
    for profile in cat.profiles.values():
        assert profile.sum() == pytest.approx(1.0)


def test_adding_a_model_does_not_move_other_models_scores():
    cat = get_quality_catalog()
    before = profile_quality("chat")
    extra = np.vstack([cat.normalised, np.full((1, len(cat.benchmarks)), 100.0)])
    index, _ = quality_index(extra, cat.profiles["chat"])
    for i, model in enumerate(cat.models):
        if model in before:
            assert index[i] == pytest.approx(before[model].index)


def plan(**body):
    body.setdefault("workload", WORKLOAD)
    return plan_llm(PlanLlmRequest.model_validate(body))


def _borrowed_scores(profile: str) -> dict[str, bool]:
    """From the data files themselves: does a model use, under ``profile``, any score borrowed from a sibling?"""
    data = files("costplan.catalog") / "data"
    with (data / "quality_profiles.csv").open() as f:
        weighted = {r["benchmark_id"] for r in csv.DictReader(f) if r["profile"] == profile and float(r["weight"]) > 0}
    borrowed: dict[str, bool] = {}
    with (data / "quality_scores.csv").open() as f:
        for r in csv.DictReader(f):
            if r["benchmark_id"] in weighted:
                borrowed[r["model_id"]] = borrowed.get(r["model_id"], False) or bool(r["estimated_from"])
    return borrowed


def test_rows_carry_quality_index_coverage_and_estimated():
    out = plan(workload_profile="coding", top_k=100, constraints={"providers": ["openai", "google"]})
    scored = [r for r in out.rows if r.quality]
    for r in scored:
        assert 0 <= r.quality.index <= 100 and 0 < r.quality.coverage <= 1 and r.quality.sources
    assert [r.monthly_cost_usd for r in out.rows] == sorted(r.monthly_cost_usd for r in out.rows)  # min_cost
    borrowed = _borrowed_scores("coding")
    assert [r.quality.estimated for r in scored] == [borrowed[r.canonical_model] for r in scored]
    estimated = [f"{r.provider}/{r.model}" for r in scored if r.quality.estimated]
    assert "openai/gpt-4o" in estimated and len(estimated) < len(scored)  # both kinds are in this ranking
    warning = next(w for w in out.warnings if w.code == WarningCode.QUALITY_ESTIMATED)
    assert warning.message.startswith(f"{len(estimated)} ranked rows") and estimated[0] in warning.message


def test_min_quality_excludes_unscored_and_low_models_never_scoring_them_zero():
    out = plan(workload_profile="reasoning", min_quality=60, top_k=50)
    assert out.rows and all(r.quality and r.quality.index >= 60 for r in out.rows)
    assert out.exclusions.by_reason[ReasonCode.QUALITY_UNKNOWN].count > 0


def test_an_unreachable_min_quality_relaxes_last_and_names_the_best_reachable():
    out = plan(workload_profile="chat", min_quality=100, top_k=5)
    steps = {s.step: s.status for s in out.fallback_steps}
    assert [s.step for s in out.fallback_steps][-1] == FallbackStep.RELAX_QUALITY
    assert steps[FallbackStep.RELAX_QUALITY] == StepStatus.PRODUCED_RESULTS
    w = next(w for w in out.warnings if w.code == WarningCode.QUALITY_RELAXED)
    assert "best reachable" in w.message


def test_objectives_change_the_order():
    per_dollar = plan(workload_profile="chat", objective="max_quality_per_dollar", top_k=10).rows
    ratios = [r.quality.index / r.monthly_cost_usd for r in per_dollar if r.monthly_cost_usd > 0]
    assert ratios == sorted(ratios, reverse=True)
    balanced = plan(workload_profile="chat", objective="balanced", balance_weight=1.0, top_k=5).rows
    assert [r.quality.index for r in balanced] == sorted((r.quality.index for r in balanced), reverse=True)


def insights(**body):
    body.setdefault("workload", WORKLOAD)
    return quality_price(QualityPriceRequest.model_validate(body))


def test_insights_points_frontier_and_annotations():
    out = insights(profile="coding", monthly_budget_usd=2000)
    assert out.points and out.pareto_frontier
    cost = np.array([p.monthly_cost_usd for p in out.points])
    qual = np.array([p.quality_index for p in out.points])
    frontier = {(p.provider, p.offering) for p in out.pareto_frontier}
    brute = {(out.points[i].provider, out.points[i].offering) for i in _brute_force(cost, qual)}
    assert frontier == brute
    for a in out.annotations:
        if a.kind == "cheapest_at_or_above" and a.point:
            assert a.point.quality_index >= a.threshold
            assert a.point.monthly_cost_usd == min(p.monthly_cost_usd for p in out.points if p.quality_index >= a.threshold)
    best = next(a for a in out.annotations if a.kind == "best_quality_under_budget").point
    assert best.monthly_cost_usd <= 2000
    assert best.quality_index == max(p.quality_index for p in out.points if p.monthly_cost_usd <= 2000)


def test_the_chart_validates_against_the_vega_lite_v5_schema():
    jsonschema = pytest.importorskip("jsonschema")
    altair = pytest.importorskip("altair")
    schema = json.loads((Path(altair.__file__).parent / "vegalite" / "v5" / "schema" / "vega-lite-schema.json").read_text())
    spec = insights(profile="chat").vega_lite
    jsonschema.validate(spec, schema)
    assert spec["layer"][1]["mark"]["type"] == "line"  # the frontier
    assert spec["layer"][0]["encoding"]["shape"]["field"] == "estimated"  # estimated points styled apart


def test_insights_are_deterministic():
    assert insights(profile="agentic").model_dump_json() == insights(profile="agentic").model_dump_json()


def test_an_index_below_the_coverage_floor_counts_as_unknown():
    low = {m for m, q in profile_quality("coding").items() if q.coverage < 0.5}
    assert low  # e.g. arena-only models
    out = plan(workload_profile="coding", min_quality=1, top_k=100)
    assert not {r.canonical_model for r in out.rows} & low
    loose = plan(workload_profile="coding", min_quality=1, min_quality_coverage=0.0, top_k=100)
    assert len(loose.rows) >= len(out.rows)
