"""assist/explain on real catalog rankings: every break-even, relaxation and margin is checked by running the
endpoint it explains."""

import json

import pytest
from conftest import load_event

from costplan.services.assist import explain
from costplan.services.plan.llm import plan_llm
from costplan_contracts.assist import AssistExplainRequest
from costplan_contracts.enums import BreakEvenStatus, BreakEvenVariable, ConstraintKind, WarningCode
from costplan_contracts.plan_llm import PlanLlmRequest

EVENT = json.loads(load_event("assist_explain")["body"])
PLAN = EVENT["plan_llm"]  # deepseek-v3.2, 1B in / 200M out, half cached, $400 budget


def run(body: dict):
    return explain(AssistExplainRequest.model_validate(body))


def costs_at(request: dict, variable: BreakEvenVariable, x: float) -> dict[str, float]:
    w = dict(request["workload"])
    if variable == BreakEvenVariable.OUTPUT_SHARE:
        total = w["input_tokens_per_month"] + w["output_tokens_per_month"]
        w.update(input_tokens_per_month=total * (1 - x), output_tokens_per_month=total * x)
    elif variable == BreakEvenVariable.CACHED_SHARE:
        w["cached_input_share"] = x
    else:
        w.update({k: w[k] * x for k in ("input_tokens_per_month", "output_tokens_per_month", "requests_per_month")})
    req = {**request, "workload": w, "top_k": 100, "constraints": {}}
    return {f"{r.provider} / {r.model}": r.monthly_cost_usd for r in plan_llm(PlanLlmRequest.model_validate(req)).rows}


@pytest.fixture(scope="module")
def explained():
    return run(EVENT)


@pytest.mark.parametrize("variable", [BreakEvenVariable.OUTPUT_SHARE, BreakEvenVariable.CACHED_SHARE])
def test_at_each_break_even_the_two_costs_are_equal_to_the_cent_and_the_order_flips_either_side(explained, variable):
    (b,) = [b for b in explained.break_evens if b.variable == variable]
    assert b.status == BreakEvenStatus.FOUND and b.checked
    first, second = explained.winner.first.label, explained.winner.second.label
    at = costs_at(PLAN, variable, b.value)
    assert abs(at[first] - at[second]) < 0.005
    below, above = costs_at(PLAN, variable, b.value * 0.99), costs_at(PLAN, variable, min(1.0, b.value * 1.01))
    stays, flips = (below, above) if b.first_cheaper == "below" else (above, below)
    assert stays[first] < stays[second] and flips[first] > flips[second]
    assert (b.current < b.value) == (b.first_cheaper == "below")


def test_two_api_rows_have_no_volume_break_even(explained):
    (b,) = [b for b in explained.break_evens if b.variable == BreakEvenVariable.MONTHLY_VOLUME]
    assert b.status == BreakEvenStatus.NONE_IN_RANGE and b.value is None


def test_the_margin_is_the_sum_of_the_component_differences(explained):
    w = explained.winner
    assert w.margin_usd == pytest.approx(w.second.monthly_cost_usd - w.first.monthly_cost_usd, abs=1e-6)
    assert sum(c.difference_usd for c in w.components) == pytest.approx(w.margin_usd, abs=1e-5)
    assert [abs(c.difference_usd) for c in w.components] == sorted((abs(c.difference_usd) for c in w.components),
                                                                   reverse=True)


def test_the_budget_relaxation_admits_what_it_says_when_run(explained):
    (r,) = [r for r in explained.relaxations if r.constraint == ConstraintKind.BUDGET]
    base = plan_llm(PlanLlmRequest.model_validate(PLAN)).fallback_steps[0].admitted
    raised = {**PLAN, "constraints": {**PLAN["constraints"], "monthly_budget_usd": r.proposed}}
    assert plan_llm(PlanLlmRequest.model_validate(raised)).fallback_steps[0].admitted - base == r.admits >= 1
    just_below = {**PLAN, "constraints": {**PLAN["constraints"], "monthly_budget_usd": r.proposed - 0.01}}
    assert plan_llm(PlanLlmRequest.model_validate(just_below)).fallback_steps[0].admitted == base  # the smallest


def test_the_budget_slack_is_the_winners_headroom(explained):
    (s,) = [s for s in explained.constraints if s.constraint == ConstraintKind.BUDGET]
    assert s.set and s.binding and s.slack == pytest.approx(400 - explained.winner.first.monthly_cost_usd)


def test_the_smallest_provider_relaxation_adds_the_fewest_providers():
    body = {"plan_llm": {"workload": {"input_tokens_per_month": 1e9, "output_tokens_per_month": 2e8},
                         "constraints": {"providers": ["openai"]}, "top_k": 3}, "more_options": 3}
    (r,) = [r for r in run(body).relaxations if r.constraint == ConstraintKind.PROVIDERS]
    assert len(r.proposed) == 1 and r.admits >= 3 and r.field == "constraints.providers"
    assert all(o.startswith(r.proposed[0] + " / ") for o in r.options)


def test_a_quality_floor_is_lowered_to_the_next_models_index():
    body = {"plan_llm": {"workload": {"input_tokens_per_month": 1e9, "output_tokens_per_month": 2e8},
                         "constraints": {"providers": ["openai"]}, "min_quality": 60, "workload_profile": "chat",
                         "top_k": 3}, "more_options": 2}
    (r,) = [r for r in run(body).relaxations if r.constraint == ConstraintKind.QUALITY]
    assert r.proposed < 60 and r.admits >= 2 and r.field == "min_quality"


def test_a_self_hosted_volume_break_even_is_checked_or_declined_with_the_step_named():
    for model, volume, status in (("qwen3-8b", 1e10, BreakEvenStatus.FOUND),
                                  ("mistral-7b-instruct-v0.3", 1e8, BreakEvenStatus.DECLINED)):
        body = {"plan_llm": {"workload": {"input_tokens_per_month": volume, "output_tokens_per_month": volume / 5,
                                          "requests_per_month": volume / 1000},
                             "model": model, "deployment": "both", "top_k": 2}}
        out = run(body)
        by = {b.variable: b for b in out.break_evens}
        assert by[BreakEvenVariable.OUTPUT_SHARE].status == BreakEvenStatus.DECLINED  # sized for the shape
        vol = by[BreakEvenVariable.MONTHLY_VOLUME]
        assert vol.status == status
        if status == BreakEvenStatus.FOUND:
            assert vol.checked and abs(vol.first_cost_usd - vol.second_cost_usd) < 0.005
        else:
            assert "replica count" in vol.explanation and vol.value is None


def test_a_result_alone_is_explained_without_reruns():
    result = plan_llm(PlanLlmRequest.model_validate(PLAN)).model_dump(mode="json")
    out = run({"plan_llm_result": result})
    assert out.winner.first.label == run(EVENT).winner.first.label
    assert out.relaxations == [] and all(b.status == BreakEvenStatus.DECLINED for b in out.break_evens)
    assert WarningCode.EXPLAIN_FROM_RESULT in [w.code for w in out.warnings]


def test_rank_catalog_and_plan_scaling_are_explained():
    catalog = run({"rank_catalog": {"workload_type": "speech_to_text",
                                    "quantity": {"value": 100000, "unit": "per_audio_minute"},
                                    "constraints": {"monthly_budget_usd": 300}, "top_k": 3}})
    assert catalog.winner.second is not None
    assert sum(c.difference_usd for c in catalog.winner.components) == pytest.approx(catalog.winner.margin_usd,
                                                                                    abs=1e-5)
    assert [b.status for b in catalog.break_evens] == [BreakEvenStatus.NONE_IN_RANGE]
    scaling = run({"plan_scaling": {"model": "llama-3.1-8b-instruct", "peak_requests_per_second": 20,
                                    "avg_requests_per_second": 8, "avg_input_tokens": 1000, "avg_output_tokens": 200,
                                    "top_k": 3}})
    assert scaling.winner.second is not None and scaling.break_evens[0].status == BreakEvenStatus.DECLINED
    assert sum(c.difference_usd for c in scaling.winner.components) == pytest.approx(scaling.winner.margin_usd,
                                                                                    abs=1e-4)


def test_one_ranking_at_a_time():
    with pytest.raises(ValueError, match="give one ranking"):
        AssistExplainRequest.model_validate({"plan_llm": PLAN, "rank_catalog": {
            "workload_type": "rerank", "quantity": {"value": 1000, "unit": "per_1k_searches"}}})


def _fake_plan_llm(fixed_at):
    """plan/llm stand-in for the segment walk: an API row at $60 per unit of volume (1B input tokens at $0.06/1M)
    and a self-hosted row whose monthly cost steps with the volume, fixed_at(v)."""
    from types import SimpleNamespace as NS

    from costplan_contracts.enums import Deployment

    def rows_at(v):
        api = NS(provider="api", model="a", deployment=Deployment.HOSTED_API, monthly_cost_usd=round(60 * v, 6),
                 unit_prices=NS(input_per_1m=0.06, output_per_1m=0.06, cache_read_per_1m=None, request_per_1k=None))
        gpu = NS(provider="gpu", model="b", deployment=Deployment.SELF_HOSTED, monthly_cost_usd=fixed_at(v),
                 unit_prices=NS(input_per_1m=None, output_per_1m=None, cache_read_per_1m=None, request_per_1k=None))
        return NS(rows=[api, gpu])

    return rows_at, lambda req: rows_at(req.workload.input_tokens_per_month / 1e9)


def _volume_break_even(monkeypatch, fixed_at):
    import costplan.services.plan as plan_module  # the surface assist reads plan_llm from
    from costplan.services.assist.breakevens import plan_llm_break_evens
    from costplan.services.warnings import WarningCollector

    rows_at, fake = _fake_plan_llm(fixed_at)
    monkeypatch.setattr(plan_module, "plan_llm", fake)
    req = PlanLlmRequest.model_validate({"workload": {"input_tokens_per_month": 1e9, "output_tokens_per_month": 0},
                                         "deployment": "both"})
    out = plan_llm_break_evens(req, rows_at(1.0), WarningCollector())
    return {b.variable: b for b in out}[BreakEvenVariable.MONTHLY_VOLUME]


def test_the_volume_break_even_walks_to_the_replica_step_where_the_costs_meet(monkeypatch):
    """$100 fixed up to 1x, $120 above: the first crossing, 100 / 60 = 1.667x, lies in the $120 segment; its own
    crossing, 120 / 60 = 2x, lies inside it, where both cost $120."""
    b = _volume_break_even(monkeypatch, lambda v: 100.0 if v <= 1 else 120.0)
    assert b.status == BreakEvenStatus.FOUND and b.checked and b.value == pytest.approx(2.0)
    assert b.first_cost_usd == b.second_cost_usd == 120.0 and "after 1 step" in b.explanation
    assert b.first_cheaper == "below"


def test_a_volume_break_even_that_jumps_past_every_step_is_declined(monkeypatch):
    """$100 per started unit of volume: each segment's crossing (100 k / 60) lies beyond it, so the costs never
    meet; the order flips at a step instead."""
    b = _volume_break_even(monkeypatch, lambda v: 100.0 * -(-v // 1))
    assert b.status == BreakEvenStatus.DECLINED and b.value is None and "No equal-cost point" in b.explanation


def test_rank_catalog_llm_tokens_output_share_break_even_checked_against_rank_catalog():
    from costplan.services.catalog_rank.rank import rank_catalog
    from costplan_contracts.rank_catalog import RankCatalogRequest

    request = {"workload_type": "llm_tokens", "quantity": {"value": 1000, "unit": "per_1m_tokens"},
               "output_token_share": 0.2, "constraints": {"providers": ["fireworks"]}, "top_k": 2}
    out = run({"rank_catalog": request})
    (b,) = [b for b in out.break_evens if b.variable == BreakEvenVariable.OUTPUT_SHARE]
    assert b.status == BreakEvenStatus.FOUND and b.checked

    def costs(share):
        rows = rank_catalog(RankCatalogRequest.model_validate({**request, "output_token_share": share,
                                                               "top_k": 100})).rows
        return {f"{r.provider} / {r.offering}": r.monthly_cost_usd for r in rows}

    first, second = out.winner.first.label, out.winner.second.label
    at, below, above = costs(b.value), costs(b.value * 0.95), costs(min(1.0, b.value * 1.05))
    assert abs(at[first] - at[second]) < 0.005
    stays, flips = (below, above) if b.first_cheaper == "below" else (above, below)
    assert stays[first] < stays[second] and flips[first] > flips[second]
