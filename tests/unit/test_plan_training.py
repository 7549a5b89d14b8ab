"""plan/training over the real catalogs: pricing models, limits, lifecycle totals, managed offers."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costplan.catalog.training import get_training_catalog
from costplan.services.errors import RequestRejected
from costplan.services.training.estimate import plan_training
from costplan_contracts.enums import ReasonCode, TrainingOptionKind, WarningCode
from costplan_contracts.plan_training import PlanTrainingRequest

BASE = {"model": "llama-3.1-8b-instruct", "method": "lora", "dataset_tokens": 1e8, "epochs": 2, "top_k": 100}


def plan(**over):
    return plan_training(PlanTrainingRequest.model_validate({**BASE, **over}))


def self_run(out, label):
    return next(o for o in out.options if o.self_run and o.label == label)


def test_same_request_gives_the_same_bytes():
    a, b = plan().model_dump_json(), plan().model_dump_json()
    assert a == b


def test_options_rank_by_training_cost_without_a_lifecycle():
    out = plan()
    costs = [o.training_cost_usd for o in out.options]
    assert costs == sorted(costs) and [o.rank for o in out.options] == list(range(1, len(costs) + 1))


@pytest.mark.parametrize("pricing_model, column", [("on_demand", "on_demand_usd"), ("committed_1y", "committed_1y_usd"),
                                                  ("spot", "spot_usd")])
def test_pricing_model_prices_the_same_hours_at_that_rate(pricing_model, column):
    """The chosen pricing model is what the option costs; the other rates are shown beside it, same hours."""
    out = plan(pricing_model=pricing_model)
    assert out.options
    for o in out.options:
        if not o.self_run:
            continue
        d = o.self_run
        inst_hours = d.time.wall_clock_hours * d.parallelism.nodes
        assert getattr(d.cost_by_pricing_model, column) == o.training_cost_usd
        assert o.training_cost_usd == pytest.approx(inst_hours * d.instance_usd_per_hour, rel=6e-3)  # hours carry 3 figures


def test_spot_excludes_instances_without_a_spot_price_and_committed_is_cheaper_than_on_demand():
    spot = plan(pricing_model="spot", include_managed=False)
    assert spot.exclusions.by_reason[ReasonCode.PRICE_MISSING_HOURLY].count > 0
    on_demand = plan(include_managed=False)
    p4 = [o for o in on_demand.options if o.label == "g6e.xlarge"]
    if p4:
        c = p4[0].self_run.cost_by_pricing_model
        assert c.committed_1y_usd < c.on_demand_usd and c.spot_usd is None


def test_a_deadline_excludes_what_cannot_finish_and_keeps_what_can():
    out = plan(model="llama-3.1-70b-instruct", method="full_finetune", dataset_tokens=1e9, deadline_hours=20,
               max_nodes=2, include_managed=False)
    assert out.exclusions.by_reason[ReasonCode.DEADLINE_UNREACHABLE].count > 0
    assert out.options and all(o.wall_clock_hours <= 20 for o in out.options)
    example = out.exclusions.by_reason[ReasonCode.DEADLINE_UNREACHABLE].examples[0]
    assert "> 20 h" in example.detail


def test_a_budget_excludes_dearer_options_as_over_budget():
    everything = plan(include_managed=False)
    cheapest = everything.options[0].training_cost_usd
    out = plan(include_managed=False, budget_usd=cheapest * 1.5)
    assert out.options and all(o.training_cost_usd <= cheapest * 1.5 for o in out.options)
    assert out.exclusions.by_reason[ReasonCode.OVER_BUDGET].count == len(everything.options) - len(out.options)


def test_a_model_too_big_for_any_layout_is_excluded_as_not_fitting():
    out = plan(model="llama-3.1-405b-instruct", method="full_finetune", max_nodes=1, include_managed=False)
    fit = out.exclusions.by_reason[ReasonCode.MODEL_DOES_NOT_FIT]
    assert fit.count > 0 and "needs more than" in fit.examples[0].detail


def test_lifecycle_total_is_training_times_runs_plus_evaluation_storage_and_serving():
    life = {"serve_months": 12, "retrain_every_months": 3, "evaluation_runs": 2, "evaluation_tokens": 1e6,
            "checkpoints_retained": 3}
    out = plan(lifecycle=life)
    for o in out.options:
        lc = o.lifecycle
        assert lc.training_runs == 4  # the first run and retrains at months 3, 6 and 9
        assert lc.serving_usd is None  # no workload was given
        assert lc.total_usd == pytest.approx(lc.training_usd + lc.evaluation_usd + lc.storage_usd, abs=0.011)
        one_run = o.training_cost_usd
        assert lc.training_usd + lc.evaluation_usd == pytest.approx(one_run * 4, abs=0.05)
    top = next(o for o in out.options if o.self_run)
    month = top.self_run.checkpoint_gb * get_training_catalog().storage.usd_per_gb_month
    assert top.lifecycle.storage_usd == pytest.approx(month * 3 * 12, rel=0.01, abs=0.01)


def test_managed_fine_tuning_of_a_closed_model_prices_tokens_times_epochs_and_its_serving():
    w = {"input_tokens_per_month": 1e8, "output_tokens_per_month": 2e7}
    out = plan(model="gpt-4o-mini", dataset_tokens=1e7, epochs=3, lifecycle={"serve_months": 6, "workload": w})
    assert [o.kind for o in out.options] == [TrainingOptionKind.MANAGED]
    o = out.options[0]
    assert o.training_cost_usd == pytest.approx(3e7 / 1e6 * 3.00)
    assert o.lifecycle.serving_monthly_usd == pytest.approx(1e8 / 1e6 * 0.30 + 2e7 / 1e6 * 1.20)
    assert o.lifecycle.total_usd == pytest.approx(90 + 6 * o.lifecycle.serving_monthly_usd)
    assert WarningCode.NO_OPEN_WEIGHTS in [x.code for x in out.warnings]
    assert o.managed.provenance.url and o.managed.provenance.as_of


def test_managed_offers_refuse_methods_they_do_not_run():
    out = plan(model="gpt-4o-mini", method="pretrain")
    assert not out.options
    assert out.exclusions.by_reason[ReasonCode.METHOD_UNSUPPORTED].count == 1
    assert WarningCode.NO_CANDIDATES in [w.code for w in out.warnings]


def test_a_custom_architecture_has_no_managed_offering():
    arch = {"name": "my-3b", "params_b": 3.2, "layers": 28, "hidden_size": 3072, "heads": 24, "kv_heads": 8}
    out = plan_training(PlanTrainingRequest.model_validate({"architecture": arch, "method": "full_finetune",
                                                            "dataset_tokens": 1e8}))
    assert out.options and out.exclusions.by_reason[ReasonCode.NO_MANAGED_OFFERING].count == 1
    assert out.model.open_weights and out.model.params_b == 3.2


def test_fireworks_lora_is_offered_for_a_model_it_serves_in_the_size_bracket():
    out = plan()
    fw = [o for o in out.options if o.provider == "fireworks"]
    assert fw and fw[0].managed.training_usd_per_1m_tokens == 0.50
    assert fw[0].training_cost_usd == pytest.approx(2e8 / 1e6 * 0.50)


def test_unknown_model_and_both_model_and_architecture_are_rejected():
    with pytest.raises(RequestRejected) as e:
        plan(model="no-such-model-xyz")
    assert e.value.details[0].field == "model"
    with pytest.raises(ValueError):
        PlanTrainingRequest.model_validate({**BASE, "architecture": {"params_b": 1, "layers": 2, "hidden_size": 8,
                                                                     "heads": 2}})


def test_user_mfu_overrides_the_table_and_halving_it_doubles_the_time():
    a, b = plan(mfu=0.4, include_managed=False), plan(mfu=0.2, include_managed=False)
    ta, tb = self_run(a, "p5.48xlarge"), self_run(b, "p5.48xlarge")
    assert tb.wall_clock_hours == pytest.approx(2 * ta.wall_clock_hours, rel=0.01)
    assert ta.self_run.time.mfu == pytest.approx(0.4, rel=0.01)
    assert ta.self_run.time.utilisation_basis == "the caller's measured MFU"


@settings(max_examples=15, deadline=None)
@given(st.floats(1e6, 1e10), st.floats(1.0, 4.0), st.integers(1, 5))
def test_cost_is_monotone_in_tokens_and_epochs(tokens, factor, epochs):
    small = plan(dataset_tokens=tokens, epochs=epochs, include_managed=False, top_k=100)
    big = plan(dataset_tokens=tokens * factor, epochs=epochs + 1, include_managed=False, top_k=100)
    cost = {o.label: o.training_cost_usd for o in big.options}
    for o in small.options:
        if o.label in cost:
            assert cost[o.label] >= o.training_cost_usd - 0.01


def test_qlora_needs_less_memory_than_lora_than_full_on_the_same_gpu():
    mem = {}
    for method in ("qlora", "lora", "full_finetune"):
        out = plan(model="llama-3.1-8b-instruct", method=method, instance_types=["p5.48xlarge"], mfu=0.4,
                   include_managed=False)
        o = out.options[0].self_run
        mem[method] = o.memory_per_gpu.weights_gb + o.memory_per_gpu.gradients_gb + o.memory_per_gpu.optimizer_gb \
            + o.memory_per_gpu.adapter_gb
    assert mem["qlora"] < mem["lora"] < mem["full_finetune"]


def test_every_catalog_price_row_is_cited():
    cat = get_training_catalog()
    for o in cat.managed:
        assert o.source and o.url and o.as_of and o.training_usd_per_1m > 0
    assert cat.storage.usd_per_gb_month > 0 and cat.storage.url
    assert not math.isnan(cat.storage.usd_per_gb_month)


def test_a_self_trained_lora_adapter_is_served_where_adapters_cost_the_base_price_when_cheaper():
    """Fireworks serves LoRA adapters at the base model's price; for a small workload that beats a GPU of one's own."""
    w = {"input_tokens_per_month": 1e8, "output_tokens_per_month": 2e7, "requests_per_month": 1e5}
    out = plan(lifecycle={"serve_months": 12, "workload": w})
    managed = next(o for o in out.options if o.provider == "fireworks")
    own = next(o for o in out.options if o.self_run)
    assert own.lifecycle.serving_monthly_usd == managed.lifecycle.serving_monthly_usd
    assert "adapters are served at the base model's price" in own.lifecycle.serving_basis
    ref = out.reference
    assert ref.kind == TrainingOptionKind.BASE_MODEL_AS_IS and ref.lifecycle.training_runs == 0
    assert own.delta_vs_reference_usd == pytest.approx(own.lifecycle.total_usd - ref.lifecycle.total_usd, abs=0.011)


def test_a_provisioned_throughput_offer_serves_at_model_units_times_hours(monkeypatch):
    """Bedrock serves custom models only on provisioned throughput: model units x $/hour x 730 h a month.
    The rate here is a test figure, not a price (no citable Bedrock rate is in the catalog yet)."""
    from dataclasses import replace

    import costplan.services.training.estimate as svc
    from costplan.catalog.training import ManagedOffer

    cat = get_training_catalog()
    offer = ManagedOffer(provider="bedrock", base_model="llama-3.1-8b-instruct", min_params_b=None, max_params_b=None,
                         methods=("full_finetune", "lora", "qlora"), training_usd_per_1m=1.0, minimum_usd=5.0,
                         serving="provisioned_throughput", ft_input_per_1m=None, ft_output_per_1m=None,
                         model_unit_usd_per_hour=10.0, min_model_units=2, source="test", url="test", as_of="test")
    monkeypatch.setattr(svc, "get_training_catalog", lambda: replace(cat, managed=cat.managed + (offer,)))
    w = {"input_tokens_per_month": 1e6, "output_tokens_per_month": 1e5}
    out = plan(dataset_tokens=1e6, epochs=1, lifecycle={"serve_months": 3, "workload": w})
    bedrock = next(o for o in out.options if o.provider == "bedrock")
    assert bedrock.training_cost_usd == 5.0  # the minimum charge beats 1M tokens x $1/1M
    assert bedrock.lifecycle.serving_monthly_usd == 2 * 10.0 * 730
    assert bedrock.lifecycle.total_usd == pytest.approx(5.0 + 3 * 14600.0)


def test_a_moe_model_computes_with_its_active_parameters_but_holds_them_all():
    """Mixtral 8x7B: 46.7B parameters held in memory, 12.9B active per token in the FLOPs."""
    out = plan(model="mixtral-8x7b-instruct", method="full_finetune", instance_types=["p5.48xlarge"], mfu=0.4,
               include_managed=False, dataset_tokens=1e9, epochs=1)
    d = out.options[0].self_run
    dense_6nd = 6 * 12.9e9 * 1e9
    assert dense_6nd <= d.compute.model_flops < dense_6nd * 1.2  # plus attention, not 6 x 46.7B x D
    states = (d.memory_per_gpu.weights_gb + d.memory_per_gpu.gradients_gb + d.memory_per_gpu.optimizer_gb)
    assert states * d.parallelism.gpus == pytest.approx(16 * 46.7, rel=0.01)  # ZeRO-3: 16 B/param over the GPUs


def test_fp8_is_refused_on_gpus_without_fp8_tensor_cores():
    out = plan(precision="fp8", instance_types=["p4d.24xlarge", "p5.48xlarge"], include_managed=False)
    assert [o.label for o in out.options] == ["p5.48xlarge"]
    assert out.exclusions.by_reason[ReasonCode.PRECISION_UNSUPPORTED].examples[0].model == "p4d.24xlarge"


def test_only_the_entry_reads_the_pydantic_request():
    """plan_training turns the request into a frozen Job and LifecyclePlan (``_job``, ``_lifecycle``) once; every other
    function takes those values."""
    import dataclasses
    import inspect

    import costplan.services.training.estimate as svc
    from costplan_contracts.plan_training import PlanTrainingRequest

    readers = sorted(name for name, fn in inspect.getmembers(svc, inspect.isfunction) if fn.__module__ == svc.__name__
                     and any(p.annotation is PlanTrainingRequest for p in inspect.signature(fn).parameters.values()))
    assert readers == ["_job", "_lifecycle", "plan_training"]
    assert dataclasses.fields(svc.Job) and svc.Job.__dataclass_params__.frozen
    assert svc.LifecyclePlan.__dataclass_params__.frozen
