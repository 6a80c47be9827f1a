"""Cards and bank accounts: validate, then keep only brand, last four and expiry (SPEC §3)."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import luhn

from billing_desktop.domain.cards import (
    BankAccountSummary,
    CardBrand,
    CardSummary,
    validate_card,
    validate_iban,
)
from billing_desktop.domain.errors import ValidationError

TODAY = date(2026, 4, 26)


def with_check_digit(body: str) -> str:
    return body + luhn.calc_check_digit(body)


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        ("4111 1111 1111 1111", CardBrand.VISA),
        ("4012-8888-8888-1881", CardBrand.VISA),
        ("4222222222222", CardBrand.VISA),  # 13 digits
        ("5555555555554444", CardBrand.MASTERCARD),
        ("2223003122003222", CardBrand.MASTERCARD),  # 2-series
        ("378282246310005", CardBrand.AMEX),
        ("3714 496353 98431", CardBrand.AMEX),
        ("6011111111111117", CardBrand.DISCOVER),
        ("6445644564456445", CardBrand.DISCOVER),
        ("6759649826438453", CardBrand.MAESTRO),
        ("3530111333300000", CardBrand.JCB),
        ("30569309025904", CardBrand.DINERS),
    ],
)
def test_valid_cards(number: str, brand: CardBrand) -> None:
    summary = validate_card(number, 12, 2030, TODAY)
    digits = number.replace(" ", "").replace("-", "")
    assert summary == CardSummary(brand=brand, last4=digits[-4:], exp_month=12, exp_year=2030)


def test_summary_never_holds_the_full_number() -> None:
    number = "4111111111111111"
    summary = validate_card(number, 1, 2031, TODAY)
    assert [f.name for f in dataclasses.fields(summary)] == [
        "brand",
        "last4",
        "exp_month",
        "exp_year",
    ]
    assert number not in repr(summary) and number not in str(summary)


@pytest.mark.parametrize(
    "number",
    [
        "4111111111111112",  # Luhn fails
        "4111 1111 1111 111a",
        "41111111111",  # 11 digits
        "4" * 20,
        "",
        "５５５５５５５５５５５５４４４４",  # full-width digits are not accepted
        with_check_digit("555555555544"),  # Mastercard prefix, impossible length, Luhn-valid
    ],
)
def test_invalid_numbers(number: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_card(number, 12, 2030, TODAY)
    assert info.value.code == "card_invalid_number"
    assert not info.value.params  # the number is never carried by the error


def test_unknown_brand() -> None:
    number = with_check_digit("900000000000000")
    with pytest.raises(ValidationError) as info:
        validate_card(number, 12, 2030, TODAY)
    assert info.value.code == "card_unknown_brand"


@given(st.text(alphabet="0123456789", min_size=11, max_size=18))
def test_any_luhn_valid_number_is_accepted_or_refused_with_a_code(body: str) -> None:
    number = with_check_digit(body)
    try:
        summary = validate_card(number, 12, 2030, TODAY)
    except ValidationError as exc:
        assert exc.code in {"card_unknown_brand", "card_invalid_number"}
        assert number not in str(exc)
    else:
        assert summary.last4 == number[-4:]


def test_expiry_is_valid_through_the_end_of_the_month() -> None:
    assert validate_card("4111111111111111", 4, 2026, date(2026, 4, 30)).exp_year == 2026
    with pytest.raises(ValidationError) as info:
        validate_card("4111111111111111", 4, 2026, date(2026, 5, 1))
    assert info.value.code == "card_expired"
    assert str(info.value) == "The card expired in 04/2026."
    with pytest.raises(ValidationError) as info:
        validate_card("4111111111111111", 12, 2025, TODAY)
    assert info.value.code == "card_expired"


def test_two_digit_years() -> None:
    assert validate_card("4111111111111111", 5, 27, TODAY).exp_year == 2027
    with pytest.raises(ValidationError) as info:
        validate_card("4111111111111111", 3, 26, TODAY)
    assert info.value.code == "card_expired"


@pytest.mark.parametrize(
    ("month", "year"), [(0, 2030), (13, 2030), (12, 1999), (12, 2060), (True, 2030), (12, "2030")]
)
def test_invalid_expiry(month: object, year: object) -> None:
    with pytest.raises(ValidationError) as info:
        validate_card("4111111111111111", month, year, TODAY)  # type: ignore[arg-type]
    assert info.value.code == "card_invalid_expiry"


def test_card_summary_expires_before() -> None:
    summary = validate_card("4111111111111111", 6, 2026, TODAY)
    assert not summary.expires_before(date(2026, 6, 30))
    assert summary.expires_before(date(2026, 7, 1))


# -- IBAN ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("iban", "country", "last4"),
    [
        ("DE89 3704 0044 0532 0130 00", "DE", "3000"),
        ("gb29 nwbk 6016 1331 9268 19", "GB", "6819"),
        ("IE29AIBK93115212345678", "IE", "5678"),
    ],
)
def test_valid_iban(iban: str, country: str, last4: str) -> None:
    assert validate_iban(iban) == BankAccountSummary(country=country, last4=last4)


@pytest.mark.parametrize(
    ("iban", "code"),
    [
        ("DE89 3704 0044 0532 0130 01", "iban_invalid_checksum"),
        ("DE89 3704 0044", "iban_invalid_checksum"),
        ("not an iban", "iban_invalid_format"),
    ],
)
def test_invalid_iban(iban: str, code: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_iban(iban)
    assert info.value.code == code
    assert iban not in str(info.value)
