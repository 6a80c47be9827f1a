"""Money: exact Decimal amounts, half-up rounding to the minor unit, no floats (SPEC §2)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing_desktop.domain.errors import ValidationError
from billing_desktop.domain.money import (
    Money,
    currency_exponent,
    round_half_up,
    sum_money,
)

CURRENCIES = [
    "EUR", "USD", "GBP", "CHF", "SEK", "DKK", "NOK",
    "PLN", "CZK", "HUF", "JPY", "KRW", "BHD", "KWD",
]  # fmt: skip
minor_units = st.integers(min_value=-(10**12), max_value=10**12)


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def half_up_fraction(value: Fraction, exponent: int) -> Decimal:
    """Independent oracle: round an exact fraction half-up (ties away from zero)."""
    scaled = abs(value) * 10**exponent
    whole = scaled.numerator // scaled.denominator
    if scaled - whole >= Fraction(1, 2):
        whole += 1
    signed = -whole if value < 0 else whole
    return Decimal(signed).scaleb(-exponent)


# -- construction -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "exponent"),
    [("EUR", 2), ("USD", 2), ("GBP", 2), ("CHF", 2), ("SEK", 2), ("DKK", 2), ("NOK", 2),
     ("PLN", 2), ("CZK", 2), ("HUF", 2), ("JPY", 0), ("KRW", 0), ("BHD", 3), ("KWD", 3)],
)  # fmt: skip
def test_currency_exponents(code: str, exponent: int) -> None:
    assert currency_exponent(code) == exponent


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (Decimal("12.3"), "EUR", "12.30"),
        (12, "EUR", "12.00"),
        ("12.345", "EUR", "12.35"),  # tie → up
        ("12.344999", "EUR", "12.34"),
        ("-12.345", "EUR", "-12.35"),  # tie → away from zero
        ("0.005", "USD", "0.01"),
        ("-0.004", "USD", "0.00"),  # no negative zero
        ("1.5", "JPY", "2"),
        ("2.5", "JPY", "3"),
        ("1.0005", "KWD", "1.001"),
        (" 7.1 ", "GBP", "7.10"),
    ],
)
def test_constructor_quantizes_half_up(amount: object, currency: str, expected: str) -> None:
    money = Money(amount, currency)  # type: ignore[arg-type]
    assert str(money.amount) == expected
    assert money.amount == Decimal(expected)


def test_currency_code_is_normalised_and_validated() -> None:
    assert Money(1, "eur").currency == "EUR"
    with pytest.raises(ValidationError) as info:
        Money(1, "XYZ")
    assert info.value.code == "currency_unknown"
    assert "XYZ" in str(info.value)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_money_refuses_floats(value: float) -> None:
    with pytest.raises(TypeError):
        Money(value, "EUR")  # type: ignore[arg-type]


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_money_refuses_float_factors(value: float) -> None:
    with pytest.raises(TypeError):
        eur("1.00") * value  # type: ignore[operator]
    with pytest.raises(TypeError):
        value * eur("1.00")  # type: ignore[operator]


@pytest.mark.parametrize("value", [True, False, None, [1], 1 + 0j])
def test_money_refuses_non_numbers(value: object) -> None:
    with pytest.raises(TypeError):
        Money(value, "EUR")  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["abc", "", "NaN", "Infinity", Decimal("NaN"), Decimal("-Inf")])
def test_money_refuses_garbage_and_non_finite(value: object) -> None:
    with pytest.raises(ValidationError):
        Money(value, "EUR")  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["NaN", "-sNaN", "Infinity", Decimal("NaN"), Decimal("-Inf")])
def test_money_refuses_non_finite_as_invalid(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        Money(value, "EUR")  # type: ignore[arg-type]
    assert info.value.code == "amount_invalid"


# -- range: minor units must fit a signed 64-bit integer column ----------------------------

MAX_MINOR = 2**63 - 1  # 9_223_372_036_854_775_807


def expected_minor(value: Decimal, exponent: int) -> int | None:
    """Independent oracle: the half-up minor units of ``value``, ``None`` when out of range."""
    if value.is_zero():
        return 0
    if value.adjusted() + exponent >= 19:  # |value| × 10**exponent >= 10**19 > MAX_MINOR
        return None
    if value.adjusted() + exponent <= -2:  # |value| × 10**exponent < 0.1 → rounds to 0
        return 0
    minor = int(half_up_fraction(Fraction(value), exponent).scaleb(exponent))
    return minor if abs(minor) <= MAX_MINOR else None


@pytest.mark.parametrize(
    "value",
    [
        "1e400000000000000",  # was MemoryError
        "1e1000000",  # was decimal.InvalidOperation
        "1E+30",  # was accepted; .minor does not fit 64 bits
        "-1E+30",
        Decimal("1e999999999999999999"),
        "92233720368547758.075",  # rounds to MAX_MINOR + 1 cents
        "-92233720368547758.08",
        10**20,
        pytest.param(-(10**5000), id="-10**5000"),
    ],
)
def test_money_refuses_amounts_too_large_for_the_database(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        Money(value, "EUR")  # type: ignore[arg-type]
    assert info.value.code == "amount_too_large"
    assert str(info.value).startswith("The amount ")
    assert str(info.value).endswith(" is too large.")
    assert len(str(info.value)) < 80  # huge values are shown in short form


@pytest.mark.parametrize(
    ("value", "currency", "minor"),
    [
        ("92233720368547758.07", "EUR", MAX_MINOR),
        ("-92233720368547758.07", "EUR", -MAX_MINOR),
        ("92233720368547758.074999", "EUR", MAX_MINOR),
        ("9223372036854775807", "JPY", MAX_MINOR),
        ("9223372036854775.807", "KWD", MAX_MINOR),
        ("1e-400000000000000", "EUR", 0),
        ("-1e-999999999999999999", "EUR", 0),
        ("0E+1000000", "EUR", 0),
    ],
)
def test_money_accepts_the_whole_64_bit_range(value: str, currency: str, minor: int) -> None:
    money = Money(value, currency)
    assert money.minor == minor
    assert Money.from_minor(minor, currency) == money


@pytest.mark.parametrize(
    "minor",
    [
        MAX_MINOR + 1,
        -MAX_MINOR - 1,
        pytest.param(10**10000, id="10**10000"),
        pytest.param(-(10**10000), id="-10**10000"),
    ],
)
def test_from_minor_refuses_out_of_range(minor: int) -> None:
    with pytest.raises(ValidationError) as info:
        Money.from_minor(minor, "EUR")
    assert info.value.code == "amount_too_large"


def test_arithmetic_beyond_the_range_is_a_validation_error() -> None:
    top = Money.from_minor(MAX_MINOR, "EUR")
    for compute in (
        lambda: top + eur("0.01"),
        lambda: -top - eur("0.01"),
        lambda: top * 2,
        lambda: eur("1.50") * Decimal("1e400000000000000"),
        lambda: eur("1.50") * Decimal("1e999999999999999999"),
        lambda: top.scaled(3, 2),
    ):
        with pytest.raises(ValidationError) as info:
            compute()
        assert info.value.code == "amount_too_large"
    assert eur("1.50") * Decimal("1e-999999999999999999") == eur("0")


huge_or_tiny_decimals = st.builds(
    lambda sign, digits, exponent: Decimal((sign, tuple(digits), exponent)),
    st.integers(0, 1),
    st.lists(st.integers(0, 9), min_size=1, max_size=30),
    st.one_of(
        st.integers(-40, 25),  # around the limit
        st.integers(-(10**17), 10**17),  # absurd exponents
    ),
)
near_the_limit = st.integers(-MAX_MINOR - 10**4, MAX_MINOR + 10**4).map(
    lambda n: Decimal(n).scaleb(-3)
)


@given(
    st.one_of(
        huge_or_tiny_decimals,
        near_the_limit,
        st.decimals(allow_nan=False, allow_infinity=False),
    ),
    st.sampled_from(CURRENCIES),
)
def test_any_decimal_round_trips_or_is_refused_cleanly(value: Decimal, currency: str) -> None:
    exponent = currency_exponent(currency)
    expected = expected_minor(value, exponent)
    if expected is None:
        with pytest.raises(ValidationError) as info:  # never another exception
            Money(value, currency)
        assert info.value.code == "amount_too_large"
        return
    money = Money(value, currency)
    assert money.minor == expected
    assert Money.from_minor(money.minor, currency) == money
    assert Money(money.amount, currency) == money
    assert Money(str(value), currency) == money


@given(st.integers(), st.sampled_from(CURRENCIES))
def test_from_minor_accepts_exactly_the_64_bit_range(minor: int, currency: str) -> None:
    if abs(minor) <= MAX_MINOR:
        assert Money.from_minor(minor, currency).minor == minor
    else:
        with pytest.raises(ValidationError):
            Money.from_minor(minor, currency)


def test_str_is_debug_form() -> None:
    assert str(eur("12.3")) == "EUR 12.30"
    assert str(Money(-5, "JPY")) == "JPY -5"


def test_money_is_frozen_and_hashable() -> None:
    money = eur("1.00")
    with pytest.raises(AttributeError):
        money.amount = Decimal(2)  # type: ignore[misc]
    assert {money, Money("1", "EUR")} == {money}


# -- minor units --------------------------------------------------------------------------


@given(minor_units, st.sampled_from(CURRENCIES))
def test_from_minor_minor_round_trip(minor: int, currency: str) -> None:
    money = Money.from_minor(minor, currency)
    assert money.minor == minor
    assert Money.from_minor(money.minor, currency) == money


def test_from_minor_examples() -> None:
    assert Money.from_minor(1230, "EUR") == eur("12.30")
    assert Money.from_minor(1230, "JPY").amount == Decimal(1230)
    assert Money.from_minor(1230, "KWD").amount == Decimal("1.230")
    with pytest.raises(TypeError):
        Money.from_minor(12.0, "EUR")  # type: ignore[arg-type]


# -- arithmetic ---------------------------------------------------------------------------


@given(minor_units, minor_units, minor_units, st.sampled_from(CURRENCIES))
def test_addition_is_associative_and_commutative(a: int, b: int, c: int, cur: str) -> None:
    x, y, z = (Money.from_minor(v, cur) for v in (a, b, c))
    assert x + y == y + x
    assert (x + y) + z == x + (y + z)
    assert (x + y).minor == a + b
    assert x - y == -(y - x)
    assert x + Money.zero(cur) == x
    assert x - x == Money.zero(cur)


@given(minor_units, st.integers(min_value=-1000, max_value=1000), st.sampled_from(CURRENCIES))
def test_integer_multiplication_is_exact(minor: int, factor: int, cur: str) -> None:
    money = Money.from_minor(minor, cur)
    assert (money * factor).minor == minor * factor
    assert factor * money == money * factor


def test_decimal_multiplication_rounds_half_up() -> None:
    # 12.00 × 0.125 = 1.50 exactly; 0.10 × 0.05 = 0.005 → 0.01; −0.10 × 0.05 → −0.01
    assert eur("12.00") * Decimal("0.125") == eur("1.50")
    assert eur("0.10") * Decimal("0.05") == eur("0.01")
    assert eur("-0.10") * Decimal("0.05") == eur("-0.01")
    assert eur("0.10") * Decimal("0.0499") == eur("0.00")


def test_negation_abs_and_signs() -> None:
    assert -eur("3.10") == eur("-3.10")
    assert abs(eur("-3.10")) == eur("3.10")
    assert eur("-3.10").is_negative and not eur("-3.10").is_positive
    assert eur("0").is_zero and not eur("0").is_negative and not eur("0").is_positive
    assert str(-eur("0")) == "EUR 0.00"


@pytest.mark.parametrize(
    ("amount", "num", "den", "expected"),
    [
        ("10.00", 1, 3, "3.33"),  # 3.333… → 3.33
        ("20.00", 2, 3, "13.33"),  # 13.333… → 13.33
        ("0.05", 1, 2, "0.03"),  # 0.025 → 0.03 (half-up)
        ("-0.05", 1, 2, "-0.03"),  # −0.025 → −0.03 (away from zero)
        ("20.00", 15, 30, "10.00"),
        ("120.00", 14, 30, "56.00"),
        ("99.99", 0, 31, "0.00"),
        ("10.00", 1, -3, "-3.33"),
    ],
)
def test_scaled_rounds_half_up(amount: str, num: int, den: int, expected: str) -> None:
    assert eur(amount).scaled(num, den) == eur(expected)


@given(minor_units, st.integers(-400, 400), st.integers(1, 400), st.sampled_from(CURRENCIES))
def test_scaled_equals_half_up_of_exact_fraction(minor: int, num: int, den: int, cur: str) -> None:
    money = Money.from_minor(minor, cur)
    exact = Fraction(money.amount) * num / den
    assert money.scaled(num, den).amount == half_up_fraction(exact, currency_exponent(cur))


def test_scaled_refuses_zero_and_non_int() -> None:
    with pytest.raises(ZeroDivisionError):
        eur("1").scaled(1, 0)
    with pytest.raises(TypeError):
        eur("1").scaled(1.0, 2)  # type: ignore[arg-type]


def test_mixing_currencies_raises_value_error() -> None:
    with pytest.raises(ValueError, match="EUR and USD"):
        eur("1") + Money(1, "USD")
    with pytest.raises(ValueError):
        eur("1") - Money(1, "USD")
    with pytest.raises(ValueError):
        _ = eur("1") < Money(2, "USD")
    with pytest.raises(ValueError):
        _ = eur("1") >= Money(2, "USD")
    assert eur("1") != Money(1, "USD")  # equality is simply False


def test_ordering_same_currency() -> None:
    assert eur("1.00") < eur("1.01") <= eur("1.01") < eur("2")
    assert eur("3") > eur("-3") >= eur("-3")
    assert max(eur("1"), eur("5"), eur("2")) == eur("5")


def test_money_does_not_add_to_plain_numbers() -> None:
    with pytest.raises(TypeError):
        eur("1") + 1  # type: ignore[operator]
    with pytest.raises(TypeError):
        eur("1") * eur("1")  # type: ignore[operator]


def test_sum_money() -> None:
    assert sum_money([], "EUR") == eur("0")
    # 0.10 + 0.20 + 0.30 = 0.60 exactly (no float drift)
    assert sum_money([eur("0.10"), eur("0.20"), eur("0.30")], "EUR") == eur("0.60")
    with pytest.raises(ValueError):
        sum_money([eur("1"), Money(1, "USD")], "EUR")


@pytest.mark.parametrize(
    ("value", "exponent", "expected"),
    [("2.345", 2, "2.35"), ("2.3449", 2, "2.34"), ("-2.345", 2, "-2.35"), ("0.5", 0, "1"),
     ("1.0005", 3, "1.001"), ("123", 2, "123.00")],
)  # fmt: skip
def test_round_half_up(value: str, exponent: int, expected: str) -> None:
    assert str(round_half_up(Decimal(value), exponent)) == expected


def test_round_half_up_refuses_float() -> None:
    with pytest.raises(TypeError):
        round_half_up(2.345, 2)  # type: ignore[arg-type]
