"""Amounts typed in roubles, read exactly into kopecks; what is not an amount is refused
with a sentence. Known answers and hypothesis properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel.amounts import MAX_MINOR, AmountRefused, format_roubles, parse_roubles

KOPECKS = st.integers(min_value=0, max_value=MAX_MINOR)
GROUP_SEPARATORS = st.sampled_from(["", " ", "\u00a0", "\u202f"])


@pytest.mark.parametrize(
    ("typed", "kopecks"),
    [
        ("1 500 000", 150_000_000),
        ("1 500 000,50", 150_000_050),
        ("1500000.5", 150_000_050),
        ("0,01", 1),
        ("  42 ", 4200),
        ("1\u202f000\u00a0000,05", 100_000_005),
        ("0", 0),
        ("10000000000000", MAX_MINOR),
    ],
)
def test_known_answers(typed: str, kopecks: int) -> None:
    assert parse_roubles(typed) == kopecks


@pytest.mark.parametrize(
    ("typed", "because"),
    [
        ("1e9", "digits only"),
        ("-5", "negative"),
        ("1,505", "two digits"),
        ("1.2.3", "digits only"),
        ("NaN", "digits only"),
        ("Infinity", "digits only"),
        ("", "Enter an amount"),
        ("1 000 руб", "digits only"),
        ("+5", "digits only"),
        ("0x10", "digits only"),
        ("10000000000000,01", "too large"),
        ("١٢٣", "digits only"),
    ],
)
def test_refusals_say_why(typed: str, because: str) -> None:
    with pytest.raises(AmountRefused) as refused:
        parse_roubles(typed)
    assert because in refused.value.message


def test_zero_is_refused_where_an_amount_is_required() -> None:
    with pytest.raises(AmountRefused, match="greater than zero"):
        parse_roubles("0,00", allow_zero=False)


@settings(max_examples=300, deadline=None)
@given(KOPECKS)
def test_what_is_shown_reads_back_exactly(kopecks: int) -> None:
    assert parse_roubles(format_roubles(kopecks)) == kopecks


@settings(max_examples=300, deadline=None)
@given(KOPECKS, GROUP_SEPARATORS, st.sampled_from([",", "."]), st.booleans())
def test_typed_with_any_grouping_and_decimal_mark(
    kopecks: int, separator: str, mark: str, always_decimals: bool
) -> None:
    roubles, rest = divmod(kopecks, 100)
    text = f"{roubles:,}".replace(",", separator)
    if rest or always_decimals:
        text += f"{mark}{rest:02d}"
    assert parse_roubles(text) == kopecks


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_any_text_is_an_amount_in_range_or_a_refusal(text: str) -> None:
    try:
        value = parse_roubles(text)
    except AmountRefused as refused:
        assert refused.message
    else:
        assert 0 <= value <= MAX_MINOR
        assert isinstance(value, int)
