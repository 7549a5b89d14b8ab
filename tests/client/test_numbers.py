"""The one number parser behind every CLI option: 3e9, 3B, 3,000,000,000 and '3 billion' are the same number."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costplan_client.numbers import SCALES, parse_count, parse_number

WORDS = {10**3: ["k", "K", "thousand"], 10**6: ["M", "m", "mn", "million"], 10**9: ["B", "b", "bn", "billion"],
         10**12: ["T", "tn", "trillion"]}


@pytest.mark.parametrize("text", ["3e9", "3E9", "3B", "3b", "3bn", "3 billion", "3 Billion", "3,000,000,000",
                                  "3000000000", "3_000_000_000", "3000000000.0", "0.003T", "3000M", "3,000 million",
                                  " 3e9 ", "+3e9"])
def test_every_spelling_of_three_billion_is_three_billion(text):
    assert parse_number(text) == 3e9


@pytest.mark.parametrize(("text", "value"), [("2.5M", 2_500_000.0), ("1.1B", 1_100_000_000.0), (".5", 0.5),
                                             ("1,234.5", 1234.5), ("12k", 12_000.0), ("-2", -2.0), ("0", 0.0),
                                             ("7", 7.0), (2000, 2000.0), (0.25, 0.25)])
def test_scaled_and_plain_numbers(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize(("text", "reason"), [
    ("", "empty"), ("   ", "empty"), ("abc", "is not a number"), ("3,5", "is not a number"),
    ("3,00", "is not a number"), ("1,0000", "is not a number"), ("inf", "is not a number"),
    ("nan", "is not a number"), ("B", "is not a number"), ("3 zillion", "unknown scale"),
    ("1e3k", "not both"), ("1e400", "too large"), ("3B5", "is not a number"), ("--3", "is not a number")])
def test_what_is_not_a_number_is_refused_with_the_reason(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_number(text)


def test_non_finite_numbers_and_booleans_are_refused():
    for value in (float("nan"), float("inf"), True):
        with pytest.raises(ValueError):
            parse_number(value)


def test_counts_must_be_whole():
    assert parse_count("10") == 10 and parse_count("2k") == 2000
    with pytest.raises(ValueError, match="not a whole number"):
        parse_count("2.5")


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.integers(min_value=0, max_value=10**15))
def test_integers_parse_the_same_plain_grouped_and_underscored(n):
    assert parse_number(str(n)) == parse_number(f"{n:,}") == parse_number(f"{n:_}") == float(n)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.integers(min_value=0, max_value=999_999), st.sampled_from(sorted(WORDS)), st.integers(0, 3),
       st.booleans())
def test_a_scale_word_multiplies_exactly(mantissa, scale, decimals, space):
    """'12.345B' is 12.345 x 10**9 rounded once, the same as the float literal 12.345e9."""
    text = f"{mantissa / 10**decimals:.{decimals}f}"
    expected = float(f"{text}e{round(math.log10(scale))}")
    for word in WORDS[scale]:
        assert parse_number(text + (" " if space else "") + word) == expected


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_float_round_trips_through_its_repr(x):
    assert parse_number(repr(x)) == x


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.text(alphabet="0123456789,._ eEkKmMbBtT+-xz", max_size=12))
def test_any_text_is_a_number_or_a_value_error(text):
    try:
        value = parse_number(text)
    except ValueError:
        return
    assert math.isfinite(value)


def test_every_scale_is_a_power_of_a_thousand():
    assert {v for v in SCALES.values()} == {10**3, 10**6, 10**9, 10**12}
