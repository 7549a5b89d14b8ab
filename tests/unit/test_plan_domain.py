"""Request -> domain values once: below the service entry nothing sees a pydantic request of the plan domain."""

import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

import costplan
from costplan.services.plan import domain
from costplan.services.plan.insights import quality_price
from costplan.services.plan.llm import plan_llm
from costplan.services.plan.scaling import plan_scaling
from costplan_contracts.insights import QualityPriceRequest
from costplan_contracts.plan_llm import PlanLlmRequest
from costplan_contracts.plan_scaling import PlanScalingRequest

ENGINE = str(Path(costplan.__file__).parent)
ENTRIES = {"plan_llm", "quality_price", "plan_scaling"}  # the service entries: they hold the request
BUILDERS = {"plan_of", "workload_of", "scaling_of", "_measurements"}  # the one place each request is read


def request_models(root: type[BaseModel]) -> set[type[BaseModel]]:
    """``root`` and every pydantic model its fields can hold (the request's whole tree)."""
    seen: set[type[BaseModel]] = set()
    todo = [root]
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        for field in model.model_fields.values():
            stack = [field.annotation]
            while stack:
                t = stack.pop()
                if isinstance(t, type) and issubclass(t, BaseModel):
                    todo.append(t)
                stack.extend(getattr(t, "__args__", ()))
    return seen


def calls_below_the_entry(run, forbidden: tuple[type, ...]) -> tuple[list[str], int]:
    """Run ``run()``; (the engine functions below the entry called with a request model argument, how many engine
    calls were checked)."""
    offenders, checked = [], 0
    depth = {"entry": 0}

    def profile(frame, event, _arg):
        nonlocal checked
        code = frame.f_code
        if event != "call" or not code.co_filename.startswith(ENGINE):
            return
        name = code.co_name
        if name in ENTRIES:
            depth["entry"] += 1
            return
        if not depth["entry"] or name in BUILDERS:
            return
        checked += 1
        args = [frame.f_locals.get(v) for v in code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]]
        if any(isinstance(a, forbidden) for a in args):
            offenders.append(f"{Path(code.co_filename).name}:{name}")

    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(None)
    return sorted(set(offenders)), checked


PLAN_REQUESTS = [
    {"workload": {"input_tokens_per_month": 2e9, "output_tokens_per_month": 5e8, "cached_input_share": 0.25},
     "top_k": 10},
    {"workload": {"input_tokens_per_month": 2e9, "output_tokens_per_month": 5e8, "max_context_tokens": 300000,
                  "requests_per_month": 1e6, "context_shares": [{"above_tokens": 200000, "request_share": 0.1}]},
     "model": "gemini-2.5-pro", "constraints": {"monthly_budget_usd": 10, "providers": ["google", "nosuch"]},
     "workload_profile": "coding", "min_quality": 99},
    {"workload": {"input_tokens_per_month": 2e9, "output_tokens_per_month": 5e8, "requests_per_month": 1e6},
     "deployment": "both", "model": "llama-3.1-70b-instruct", "slo": {"ttft_ms": 2000, "tpot_ms": 80},
     "self_hosted": {"pricing_model": "spot", "measured_throughput": [
         {"instance_type": "g6e.12xlarge", "precision": "fp8", "output_tokens_per_s": 900}]},
     "objective": "balanced"},
]


@pytest.mark.parametrize("body", PLAN_REQUESTS, ids=["hosted", "tiers-quality-fallback", "self-hosted"])
def test_below_the_plan_llm_entry_no_function_receives_the_request(body):
    req = PlanLlmRequest.model_validate(body)
    offenders, checked = calls_below_the_entry(lambda: plan_llm(req), tuple(request_models(PlanLlmRequest)))
    assert checked > 20  # the probe did see the engine work
    assert offenders == []


def test_below_the_insights_entry_no_function_receives_the_request_and_no_plan_request_is_built():
    req = QualityPriceRequest.model_validate({"workload": {"input_tokens_per_month": 1e9,
                                                           "output_tokens_per_month": 2e8}})
    forbidden = tuple(request_models(QualityPriceRequest) | request_models(PlanLlmRequest))
    offenders, checked = calls_below_the_entry(lambda: quality_price(req), forbidden)
    assert checked > 10 and offenders == []


def test_below_the_plan_scaling_entry_no_function_receives_the_request():
    req = PlanScalingRequest.model_validate({
        "model": "llama-3.1-70b-instruct", "avg_requests_per_second": 5, "peak_requests_per_second": 20,
        "avg_input_tokens_per_request": 1500, "avg_output_tokens_per_request": 300, "slo": {"ttft_ms": 2000},
        "measured_throughput": [{"instance_type": "g6e.12xlarge", "precision": "fp8", "output_tokens_per_s": 900}]})
    offenders, checked = calls_below_the_entry(lambda: plan_scaling(req), tuple(request_models(PlanScalingRequest)))
    assert checked > 20 and offenders == []


def test_insights_and_plan_share_one_workload_builder():
    plan_w = PlanLlmRequest.model_validate({"workload": {"input_tokens_per_month": 1e9, "output_tokens_per_month": 2e8,
                                                         "cached_input_share": 0.5}}).workload
    insights_w = QualityPriceRequest.model_validate({"workload": {"input_tokens_per_month": 1e9,
                                                                  "output_tokens_per_month": 2e8,
                                                                  "cached_input_share": 0.5}}).workload
    assert domain.workload_of(plan_w) == domain.workload_of(insights_w)


def test_domain_values_are_frozen_and_hashable():
    p = domain.plan_of(PlanLlmRequest.model_validate(PLAN_REQUESTS[2]))
    with pytest.raises(AttributeError):
        p.workload.input_tokens_per_month = 1.0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        p.top_k = 3  # type: ignore[misc]
    assert hash(p) == hash(domain.plan_of(PlanLlmRequest.model_validate(PLAN_REQUESTS[2])))
    assert p.self_hosted.measured_throughput[0].precision == "fp8"

    def leaves(value):
        if isinstance(value, tuple):
            for v in value:
                yield from leaves(v)
        else:
            yield value

    assert not any(isinstance(v, BaseModel) for v in leaves(p))


def test_the_catalog_invariants_equal_the_per_request_computation():
    """hosted_block with nothing stated (invariants computed once per catalog) equals the general per-request path
    (tier shares blended for this request), on every offering and every direction."""
    import numpy as np

    from costplan.catalog.llm import get_llm_catalog
    from costplan.services.plan import hosted

    catalog = get_llm_catalog()
    inv = hosted.hosted_invariants(catalog)
    assert hosted.hosted_invariants(catalog) is inv  # once per catalog
    for d, dp in inv.directions.items():
        table = catalog.tiers[d]
        lo, hi, basis = hosted._tier_ends(table.starts[inv.tiered_rows], table.prices[inv.tiered_rows],
                                          domain.Workload(2e9, 5e8), d == "output")
        assert np.array_equal(dp.low, lo, equal_nan=True) and np.array_equal(dp.high, hi, equal_nan=True)
        assert np.array_equal(dp.basis, basis)
        assert np.array_equal(dp.base, table.prices[:, 0], equal_nan=True)
    # the whole-catalog fast path and the gather path (any subset) price every offering alike
    w = domain.Workload(2e9, 5e8, cached_input_share=0.25, requests_per_month=1e6)
    everything = np.arange(len(catalog))
    fast = hosted.hosted_block(catalog, everything, w)
    gathered = hosted.hosted_block(catalog, everything[::-1].copy(), w)
    for name in ("input_per_1m", "output_per_1m", "cache_read_per_1m", "tiered", "time_of_day", "share_basis"):
        assert np.array_equal(getattr(fast, name), getattr(gathered, name)[::-1], equal_nan=True), name
