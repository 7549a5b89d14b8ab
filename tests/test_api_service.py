"""plan_llm as a service: the fallback chain, edge cases, warnings, exclusions, determinism."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from costplan.services.errors import RequestRejected
from costplan.services.plan.llm import plan_llm
from costplan.services.warnings import WarningCollector
from costplan_contracts.enums import FallbackStep, ReasonCode, Severity, StepStatus, WarningCode
from costplan_contracts.plan_llm import PlanLlmRequest

WORKLOAD = {"input_tokens_per_month": 5e8, "output_tokens_per_month": 1e8}
CHAIN = [FallbackStep.STRICT, FallbackStep.RELAX_UNIT, FallbackStep.RELAX_BUDGET, FallbackStep.RELAX_PROVIDER,
         FallbackStep.RELAX_QUALITY]


def plan(**body):
    body.setdefault("workload", WORKLOAD)
    return plan_llm(PlanLlmRequest.model_validate(body))


def statuses(out):
    return {s.step: s.status for s in out.fallback_steps}


def codes(out):
    return {w.code for w in out.warnings}


def test_the_chain_always_lists_every_step_in_its_fixed_order():
    for body in ({}, {"constraints": {"monthly_budget_usd": 0}}, {"constraints": {"providers": ["nope"]}}):
        assert [s.step for s in plan(**body).fallback_steps] == CHAIN


def test_strict_results_stop_the_chain():
    out = plan(constraints={"monthly_budget_usd": 10_000})
    assert statuses(out)[FallbackStep.STRICT] == StepStatus.PRODUCED_RESULTS
    assert statuses(out)[FallbackStep.RELAX_BUDGET] == StepStatus.NOT_RUN
    assert all(r.over_budget_usd == 0 for r in out.rows)


def test_budget_of_zero_warns_then_relaxes_the_budget_and_says_by_how_much():
    out = plan(model="claude-sonnet-4.5", constraints={"monthly_budget_usd": 0})
    st = statuses(out)
    assert st[FallbackStep.STRICT] == StepStatus.NO_RESULTS
    assert st[FallbackStep.RELAX_UNIT] == StepStatus.NOOP
    assert st[FallbackStep.RELAX_BUDGET] == StepStatus.PRODUCED_RESULTS
    assert {WarningCode.BUDGET_ZERO, WarningCode.BUDGET_RELAXED} <= codes(out)
    assert all(r.over_budget_usd == pytest.approx(r.monthly_cost_usd) for r in out.rows)
    assert out.exclusions.step == FallbackStep.RELAX_BUDGET


def test_a_provider_list_that_matches_nothing_warns_and_relax_provider_adds_providers():
    out = plan(model="llama-3.1-70b-instruct", constraints={"providers": ["grok", "togther"]})
    assert {WarningCode.PROVIDER_UNKNOWN, WarningCode.PROVIDER_FILTER_MATCHED_NOTHING, WarningCode.PROVIDERS_ADDED} <= codes(out)
    unknown = next(w for w in out.warnings if w.code == WarningCode.PROVIDER_UNKNOWN)
    assert unknown.field == "constraints.providers" and "groq" in unknown.message
    assert statuses(out)[FallbackStep.RELAX_PROVIDER] == StepStatus.PRODUCED_RESULTS and out.rows


def test_provider_allow_list_outside_the_model_is_relaxed_but_exclusions_still_hold():
    out = plan(model="llama-3.1-70b-instruct", constraints={"providers": ["anthropic"], "exclude_providers": ["groq"]})
    assert statuses(out)[FallbackStep.RELAX_PROVIDER] == StepStatus.PRODUCED_RESULTS
    assert "groq" not in {r.provider for r in out.rows}
    added = next(w for w in out.warnings if w.code == WarningCode.PROVIDERS_ADDED)
    assert "together" in added.message


def test_a_non_native_token_unit_is_admitted_by_relax_unit_with_exact_conversion():
    out = plan(model="claude-sonnet-4.5", constraints={"pricing_unit": "per_1k_tokens"})
    assert statuses(out)[FallbackStep.STRICT] == StepStatus.NO_RESULTS
    assert statuses(out)[FallbackStep.RELAX_UNIT] == StepStatus.PRODUCED_RESULTS
    row = out.rows[0]
    assert row.requested_unit_prices.input == pytest.approx(row.unit_prices.input_per_1m / 1000)
    assert WarningCode.UNIT_CONVERTED in codes(out)


def test_an_hourly_unit_finds_nothing_and_every_candidate_excluded_is_explained():
    out = plan(constraints={"pricing_unit": "per_gpu_hour"})
    assert out.rows == []
    assert statuses(out)[FallbackStep.RELAX_UNIT] == StepStatus.NOOP
    assert "GPU-hours" in next(s.note for s in out.fallback_steps if s.step == FallbackStep.RELAX_UNIT)
    unit_warning = next(w for w in out.warnings if w.code == WarningCode.UNIT_NOT_NATIVE)
    assert "self_hosted" in unit_warning.action
    assert {WarningCode.UNIT_NOT_NATIVE, WarningCode.NO_CANDIDATES} <= codes(out)
    assert out.exclusions.by_reason[ReasonCode.UNIT_MISMATCH].count > 0
    assert out.exclusions.total == out.catalog.offerings_considered


def test_an_unknown_unit_is_rejected_naming_the_known_units():
    with pytest.raises(ValidationError) as err:
        PlanLlmRequest.model_validate({"workload": WORKLOAD, "constraints": {"pricing_unit": "per_fortnight"}})
    assert "per_1m_tokens" in str(err.value)


def test_an_unknown_model_is_rejected_with_close_matches():
    with pytest.raises(RequestRejected) as err:
        plan(model="llama-3.1-70b-instrukt")
    detail = err.value.details[0]
    assert detail.field == "model" and "llama-3.1-70b-instruct" in detail.reason


def test_min_context_window_excludes_small_and_unknown_windows():
    out = plan(model="llama-3.1-70b-instruct", constraints={"min_context_window": 100_000}, top_k=100)
    assert all(r.context_window and r.context_window >= 100_000 for r in out.rows)
    assert out.exclusions.by_reason[ReasonCode.CONTEXT_WINDOW_UNKNOWN].count > 0


def test_zero_tokens_is_a_validation_error():
    with pytest.raises(ValidationError):
        PlanLlmRequest.model_validate({"workload": {"input_tokens_per_month": 0, "output_tokens_per_month": 0}})


def test_every_warning_has_code_field_message_and_action():
    out = plan(constraints={"monthly_budget_usd": 0, "providers": ["nope"]},
               workload={**WORKLOAD, "cached_input_share": 0.3})
    assert out.warnings
    for w in out.warnings:
        assert w.code and w.message and w.action and w.severity in Severity


def test_blended_price_is_labelled_with_the_workloads_own_mix():
    out = plan(workload={"input_tokens_per_month": 3e8, "output_tokens_per_month": 1e8})
    row = out.rows[0]
    assert row.effective_price_io_mix.input_share == 0.75
    assert "75.0% input / 25.0% output" in row.effective_price_io_mix.label
    assert row.effective_price_per_1m == pytest.approx(row.monthly_cost_usd / 4e8 * 1e6, rel=1e-9)


def test_exclusion_examples_are_capped_at_five_per_reason():
    out = plan(constraints={"monthly_budget_usd": 1})
    assert out.exclusions.total == sum(g.count for g in out.exclusions.by_reason.values())
    assert all(len(g.examples) <= 5 for g in out.exclusions.by_reason.values())


def test_same_request_gives_a_byte_identical_response():
    body = {"workload": {**WORKLOAD, "cached_input_share": 0.2}, "constraints": {"monthly_budget_usd": 50}, "top_k": 50}
    assert plan(**body).model_dump_json() == plan(**body).model_dump_json()


def test_warnings_are_deduplicated_and_capped_with_a_summary():
    w = WarningCollector(cap=3)
    for i in range(5):
        w.add(WarningCode.PROVIDER_UNKNOWN, "constraints.providers", f"m{i}", "a")
    for code in (WarningCode.BUDGET_ZERO, WarningCode.LISTED_FREE, WarningCode.NO_CANDIDATES, WarningCode.UNIT_CONVERTED):
        w.add(code, None, "m", "a")
    out = w.result()
    assert [x.code for x in out] == [WarningCode.PROVIDER_UNKNOWN, WarningCode.BUDGET_ZERO, WarningCode.LISTED_FREE,
                                     WarningCode.WARNINGS_TRUNCATED]
    assert "repeated 4 more times" in out[0].message
    assert "2 further warnings" in out[-1].message


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(budget=st.one_of(st.none(), st.sampled_from([0, 1, 50, 10_000])),
       providers=st.one_of(st.none(), st.sampled_from([["anthropic"], ["nope"], ["groq", "together"]])),
       unit=st.sampled_from(["per_1m_tokens", "per_1k_tokens", "per_gpu_hour"]),
       model=st.sampled_from([None, "llama-3.1-70b-instruct", "claude-sonnet-4.5"]))
def test_relax_steps_run_in_the_fixed_order_and_stop_at_the_first_with_rows(budget, providers, unit, model):
    constraints = {"pricing_unit": unit}
    if budget is not None:
        constraints["monthly_budget_usd"] = budget
    if providers is not None:
        constraints["providers"] = providers
    out = plan(model=model, constraints=constraints, top_k=3)
    assert [s.step for s in out.fallback_steps] == CHAIN
    seen = [s.status for s in out.fallback_steps]
    if StepStatus.PRODUCED_RESULTS in seen:
        k = seen.index(StepStatus.PRODUCED_RESULTS)
        assert set(seen[:k]) <= {StepStatus.NO_RESULTS, StepStatus.NOOP}
        assert set(seen[k + 1:]) <= {StepStatus.NOT_RUN}
        assert out.rows and out.exclusions.step == CHAIN[k]
    else:
        assert not out.rows and set(seen) <= {StepStatus.NO_RESULTS, StepStatus.NOOP}
        assert WarningCode.NO_CANDIDATES in codes(out)
