"""The unit registry: exact conversions within a dimension, factors across them, refusal without one."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from costplan.core.units import FACTORS, UNITS, Dimension, conversion_factor, cross_factor, quantity_in
from costplan_contracts.enums import ConversionFactor, PricingUnit

SAME_DIM = [(a, b) for a in UNITS for b in UNITS if UNITS[a].dimension == UNITS[b].dimension]


def test_every_public_unit_and_factor_is_in_the_core_registry():
    assert set(UNITS) == {u.value for u in PricingUnit}
    assert set(FACTORS) == {f.value for f in ConversionFactor}


@pytest.mark.parametrize("a, b", SAME_DIM)
def test_round_trips_within_a_dimension_are_exact(a, b):
    # Scales are whole numbers, so a factor is a ratio of integers; a round trip returns the price to the last bit
    # or within one rounding of the float factor.
    assert UNITS[a].quantity == int(UNITS[a].quantity) and UNITS[b].quantity == int(UNITS[b].quantity)
    assert Fraction(int(UNITS[b].quantity), int(UNITS[a].quantity)) == Fraction(conversion_factor(a, b)).limit_denominator(10**7)
    for price in (0.006, 1.25, 16.0, 3e-7):
        assert price * conversion_factor(a, b) * conversion_factor(b, a) == pytest.approx(price, rel=1e-15, abs=0)


def test_worked_conversions():
    assert conversion_factor("per_audio_minute", "per_audio_hour") == 60  # $0.006/min = $0.36/hour
    assert conversion_factor("per_1m_characters", "per_1k_characters") == 1e-3
    assert conversion_factor("per_1k_searches", "per_search") == 1e-3
    assert conversion_factor("per_gpu_hour", "per_gpu_second") == 1 / 3600


@pytest.mark.parametrize("a, b", [("per_1m_tokens", "per_1m_characters"), ("per_image", "per_request"),
                                  ("per_audio_minute", "per_1k_characters")])
def test_across_dimensions_conversion_is_refused_without_a_factor(a, b):
    with pytest.raises(ValueError):
        conversion_factor(a, b)
    assert quantity_in(10, a, UNITS[b].dimension, {}) is None


def test_a_supplied_factor_converts_across_dimensions_both_ways():
    # 2M requests x 400 characters per request = 800M characters
    assert quantity_in(2e6, "per_request", Dimension.CHARACTERS, {"characters_per_request": 400}) == (
        8e8, "characters_per_request")
    # 1M characters at 4 characters per token = 250k tokens
    assert quantity_in(1, "per_1m_characters", Dimension.TOKENS, {"characters_per_token": 4}) == (
        2.5e5, "characters_per_token")
    assert cross_factor(Dimension.TOKENS, Dimension.CHARACTERS, {"characters_per_token": 4}) == ("characters_per_token", 4)


@given(value=st.floats(1e-3, 1e12), unit=st.sampled_from(sorted(UNITS)))
def test_quantity_in_its_own_dimension_is_value_times_scale(value, unit):
    base, factor = quantity_in(value, unit, UNITS[unit].dimension, {})
    assert factor is None and base == pytest.approx(value * UNITS[unit].quantity, rel=1e-12)
