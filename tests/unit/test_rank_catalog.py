"""rank/catalog: one ranking across services and pricing units, over the real catalogs."""

import random

import pytest
from pydantic import ValidationError

from costplan.catalog.services import offerings, providers_by_workload
from costplan.core.units import UNITS
from costplan.services.catalog_rank.rank import rank_catalog
from costplan.services.errors import RequestRejected
from costplan_contracts.enums import FallbackStep, ReasonCode, StepStatus, WarningCode
from costplan_contracts.rank_catalog import RankCatalogRequest

STT = {"workload_type": "speech_to_text", "quantity": {"value": 100_000, "unit": "per_audio_minute"}, "top_k": 100}


def rank(**body):
    return rank_catalog(RankCatalogRequest.model_validate({**STT, **body}))


def statuses(out):
    return {s.step: s.status for s in out.fallback_steps}


def codes(out):
    return {w.code for w in out.warnings}


def test_catalog_has_60_non_llm_offerings_from_12_providers_each_with_provenance():
    rows = [o for w in ("speech_to_text", "text_to_speech", "image_generation", "rerank") for o in offerings(w)]
    assert len(rows) >= 60 and len({o.provider for o in rows}) >= 12
    for o in rows:
        assert o.source and o.as_of and o.price > 0 and o.unit in UNITS
    assert offerings("embeddings") and offerings("gpu_compute") and offerings("llm_tokens")


def test_monthly_cost_is_quantity_in_native_units_times_native_price():
    out = rank()
    assert out.rows
    for r in out.rows:
        assert r.monthly_cost_usd == pytest.approx(r.quantity_in_native_units * r.native_price_usd, rel=1e-9)
    assert [r.monthly_cost_usd for r in out.rows] == sorted(r.monthly_cost_usd for r in out.rows)


def test_strict_admits_only_the_requested_unit_then_relax_unit_converts_within_the_dimension():
    out = rank()
    assert statuses(out)[FallbackStep.STRICT] == StepStatus.PRODUCED_RESULTS
    assert {r.native_unit.value for r in out.rows} == {"per_audio_minute"}
    hourly = rank(constraints={"pricing_unit": "per_audio_hour"})
    if statuses(hourly)[FallbackStep.STRICT] == StepStatus.NO_RESULTS:
        assert statuses(hourly)[FallbackStep.RELAX_UNIT] == StepStatus.PRODUCED_RESULTS
        assert WarningCode.UNIT_CONVERTED in codes(hourly)
    for r in hourly.rows:
        assert r.normalised_unit.value == "per_audio_hour"
        if r.native_unit.value == "per_audio_minute":
            assert r.normalised_price_usd == pytest.approx(r.native_price_usd * 60)


def test_a_unit_mismatch_in_strict_is_counted_and_relaxed():
    out = rank(constraints={"pricing_unit": "per_audio_second"})
    strict = next(s for s in out.fallback_steps if s.step == FallbackStep.STRICT)
    natively_per_second = sum(1 for o in offerings("speech_to_text") if o.unit == "per_audio_second")
    assert strict.admitted == natively_per_second


def test_cross_dimension_units_need_a_factor_and_name_it():
    body = {"workload_type": "text_to_speech", "quantity": {"value": 2_000_000, "unit": "per_request"}}
    without = rank(**body)
    assert not without.rows
    assert without.exclusions.by_reason[ReasonCode.UNIT_INCOMPATIBLE].count == len(offerings("text_to_speech"))
    missing = next(w for w in without.warnings if w.code == WarningCode.CONVERSION_FACTOR_MISSING)
    assert "characters_per_request" in missing.action
    with_factor = rank(**body, conversion_factors={"characters_per_request": 400},
                       constraints={"pricing_unit": "per_1m_characters"})
    assert with_factor.rows
    r = with_factor.rows[0]
    assert r.quantity_in_native_units * UNITS[r.native_unit.value].quantity == pytest.approx(8e8)
    assert WarningCode.CROSS_DIMENSION_FACTOR_USED in codes(with_factor)
    assert r.conversion is not None and r.conversion.factor.value == "characters_per_request" and r.estimated


def test_budget_zero_relaxes_the_budget_and_says_by_how_much():
    out = rank(constraints={"monthly_budget_usd": 0})
    assert {WarningCode.BUDGET_ZERO, WarningCode.BUDGET_RELAXED} <= codes(out)
    assert statuses(out)[FallbackStep.RELAX_BUDGET] == StepStatus.PRODUCED_RESULTS
    strict = next(s for s in out.fallback_steps if s.step == FallbackStep.STRICT)
    assert strict.admitted == 0 and strict.excluded == len(offerings("speech_to_text"))
    assert out.exclusions.step == FallbackStep.RELAX_BUDGET
    assert all(r.over_budget_usd == r.monthly_cost_usd for r in out.rows)


def test_unknown_providers_warn_and_relax_provider_names_who_offers_it():
    out = rank(constraints={"providers": ["deepgramm"]})
    assert {WarningCode.PROVIDER_UNKNOWN, WarningCode.PROVIDER_FILTER_MATCHED_NOTHING, WarningCode.PROVIDERS_ADDED} <= codes(out)
    assert "deepgram" in next(w.message for w in out.warnings if w.code == WarningCode.PROVIDER_UNKNOWN)


def test_a_provider_that_does_not_offer_the_workload_is_excluded_and_offerers_are_named():
    out = rank(workload_type="image_generation", quantity={"value": 10_000, "unit": "per_image"},
               constraints={"providers": ["deepgram"]})
    group = out.exclusions.by_reason[ReasonCode.PROVIDER_WORKLOAD_UNSUPPORTED]
    assert group.count == 1 and group.examples[0].provider == "deepgram"
    assert statuses(out)[FallbackStep.RELAX_PROVIDER] == StepStatus.PRODUCED_RESULTS
    added = next(w for w in out.warnings if w.code == WarningCode.PROVIDERS_ADDED)
    assert "openai" in added.message and "Providers that offer it" in added.message


def test_empty_provider_list_matches_nothing_and_relaxes():
    out = rank(constraints={"providers": []})
    assert WarningCode.PROVIDER_FILTER_MATCHED_NOTHING in codes(out)
    assert statuses(out)[FallbackStep.RELAX_PROVIDER] == StepStatus.PRODUCED_RESULTS


def test_attributes_filter_offerings_that_state_a_different_value():
    out = rank(workload_type="image_generation", quantity={"value": 1000, "unit": "per_image"},
               constraints={"attributes": {"quality": "hd"}})
    assert out.exclusions.by_reason[ReasonCode.ATTRIBUTE_MISMATCH].count > 0
    for r in out.rows:
        assert r.attributes.get("quality", "hd").lower() == "hd"


def test_gpu_compute_ranks_per_gpu_hour_from_the_instance_catalog():
    out = rank(workload_type="gpu_compute", quantity={"value": 730, "unit": "per_gpu_hour"})
    assert out.rows and all(r.native_unit.value == "per_gpu_hour" for r in out.rows)
    assert out.rows[0].monthly_cost_usd == pytest.approx(730 * out.rows[0].native_price_usd)


def test_llm_tokens_blend_at_the_stated_share_and_refuse_a_default():
    with pytest.raises(RequestRejected) as e:
        rank(workload_type="llm_tokens", quantity={"value": 5, "unit": "per_1m_tokens"})
    assert e.value.details[0].field == "output_token_share"
    out = rank(workload_type="llm_tokens", quantity={"value": 1000, "unit": "per_1m_tokens"}, output_token_share=0.25)
    assert WarningCode.BLENDED_AT_STATED_SHARE in codes(out)
    assert "0.25" in out.rows[0].price_note


def test_embeddings_come_from_genai_prices():
    out = rank(workload_type="embeddings", quantity={"value": 100, "unit": "per_1m_tokens"})
    assert out.rows and all(r.provenance.source.startswith("genai-prices") for r in out.rows)


def test_an_unknown_unit_is_rejected_listing_known_units():
    with pytest.raises(ValidationError) as e:
        RankCatalogRequest.model_validate({**STT, "quantity": {"value": 1, "unit": "per_fortnight"}})
    assert "per_audio_minute" in str(e.value)


def test_same_request_is_byte_identical():
    assert rank().model_dump_json() == rank().model_dump_json()


def _oracle(rows, budget, top_k):
    """Plain Python: cost = qty x price, admitted within budget, ordered by (cost, provider, label)."""
    scored = sorted((q * p, prov, label) for prov, label, q, p in rows if q * p <= budget)
    return [(prov, label) for _, prov, label in scored[:top_k]]


@pytest.mark.parametrize("seed", range(10))
def test_ranking_agrees_with_a_plain_python_oracle(seed, monkeypatch):
    import costplan.services.catalog_rank.rank as rc
    from costplan.catalog.services import ServiceOffering

    rng = random.Random(seed)
    providers = sorted(providers_by_workload()["speech_to_text"])
    fake = tuple(sorted((ServiceOffering(
        provider=rng.choice(providers), service="s", workload_type="speech_to_text", offering=f"o{i}",
        unit=rng.choice(["per_audio_second", "per_audio_minute", "per_audio_hour"]),
        price=rng.choice([0.0001, 0.004, 0.006, 0.01, 0.36, 0.9]), tier=None, attributes={}, source="t", as_of="d")
        for i in range(rng.randint(1, 40))), key=lambda o: (o.provider, o.label)))
    monkeypatch.setattr(rc, "offerings", lambda w: fake)
    budget = rng.choice([50.0, 500.0, 5000.0])
    top_k = rng.randint(1, 20)
    out = rank(constraints={"monthly_budget_usd": budget, "pricing_unit": "per_audio_hour"}, top_k=top_k)
    qty = {"per_audio_second": 6e6, "per_audio_minute": 1e5, "per_audio_hour": 100000 / 60}
    rows = [(o.provider, o.label, qty[o.unit], o.price) for o in fake]
    native = [(o.provider, o.label, qty[o.unit], o.price) for o in fake if o.unit == "per_audio_hour"]
    expected = _oracle(native, budget, top_k) or _oracle(rows, budget, top_k)  # strict, then relax_unit
    if expected:
        assert [(r.provider, r.offering) for r in out.rows] == expected
    shuffled = list(fake)
    rng.shuffle(shuffled)
    monkeypatch.setattr(rc, "offerings", lambda w: tuple(shuffled))
    again = rank(constraints={"monthly_budget_usd": budget, "pricing_unit": "per_audio_hour"}, top_k=top_k)
    assert [(r.provider, r.offering) for r in again.rows] == [(r.provider, r.offering) for r in out.rows]


def test_below_the_entry_no_function_takes_the_pydantic_request():
    """rank_catalog turns the request into a frozen CatalogQuery once; every helper takes domain values."""
    import dataclasses
    import inspect

    import costplan.services.catalog_rank.rank as rc

    takes_request = [name for name, fn in inspect.getmembers(rc, inspect.isfunction)
                     if fn.__module__ == rc.__name__ and name != "rank_catalog"
                     and any(p.annotation is RankCatalogRequest for p in inspect.signature(fn).parameters.values())]
    assert takes_request == []
    q = rc.CatalogQuery.of(RankCatalogRequest.model_validate(
        {**STT, "constraints": {"attributes": {"Language": "EN"}, "providers": ["OpenAI"]}}))
    assert q.attributes == {"language": "en"} and q.providers == ("OpenAI",) and q.requested_unit == "per_audio_minute"
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.top_k = 1
