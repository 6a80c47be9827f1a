"""VAT: rates file, VAT-number validation, reverse charge and half-up rounding (SPEC §3)."""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.eu import vat as eu_vat
from stdnum.iso7064 import mod_11_10

from billing_desktop.domain.errors import ValidationError
from billing_desktop.domain.money import Money
from billing_desktop.domain.tax import (
    DEFAULT_RATES_PATH,
    VatRates,
    invoice_vat,
    validate_vat_number,
    vat_amount,
    vat_treatment,
)

EU_27 = {
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
}  # fmt: skip

# Publicly documented example numbers; checked against stdnum below before being relied on.
VALID_EU = {
    "DE": "DE136695976",
    "GR": "EL094259216",
    "IE": "IE6388047V",
    "NL": "NL004495445B01",
    "AT": "ATU13585627",
    "FR": "FR40303265045",
    "BE": "BE0403019261",
}


def de_vat(body: str) -> str:
    """A German VAT number with a correct ISO 7064 MOD 11,10 check digit."""
    return "DE" + body + mod_11_10.calc_check_digit(body)


@pytest.fixture(scope="module")
def rates() -> VatRates:
    return VatRates.load()


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


# -- rates file ---------------------------------------------------------------------------


def test_examples_are_valid_according_to_stdnum() -> None:
    for number in VALID_EU.values():
        assert eu_vat.is_valid(number), number


def test_rates_file_loads(rates: VatRates) -> None:
    assert DEFAULT_RATES_PATH.is_file()
    assert rates.seller_country == "IE"
    assert rates.eu_countries == EU_27
    assert rates.rate_for("IE") == Decimal("23")
    assert rates.rate_for("IT") == Decimal("22")
    assert rates.rate_for("de") == Decimal("19")
    assert rates.rate_for("GB") == Decimal("20")
    assert rates.rate_for("CH") == Decimal("8.1")
    assert rates.rate_for("EL") == rates.rate_for("GR")
    assert rates.rate_for("US") == Decimal("0")
    assert rates.rate_for("BR") == Decimal("0")  # no entry → default
    assert rates.is_eu("FR") and not rates.is_eu("GB")
    assert rates.source_note
    raw = json.loads(DEFAULT_RATES_PATH.read_text(encoding="utf-8"))
    assert all(isinstance(v, str) for v in raw["rates"].values())  # rates are strings, not floats


def test_rates_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as info:
        VatRates.load(tmp_path / "missing.json")
    assert info.value.code == "vat_rates_unreadable"
    bad = tmp_path / "bad.json"
    bad.write_text('{"seller_country": "IE", "eu_countries": ["IE"], "rates": {}}', "utf-8")
    with pytest.raises(ValidationError) as info:
        VatRates.load(bad)
    assert info.value.code == "vat_rates_invalid"
    with pytest.raises(ValidationError) as info:  # a float rate in the file is refused
        VatRates.from_mapping(
            {"seller_country": "IE", "eu_countries": ["IE"], "rates": {"IE": 23.0}}
        )
    assert info.value.code == "vat_rates_invalid"
    good = tmp_path / "good.json"
    good.write_text(
        '{"seller_country": "IE", "eu_countries": ["IE", "DE"], "rates": {"IE": "23", "DE": "19"}}',
        "utf-8",
    )
    assert VatRates.load(str(good)).rate_for("DE") == Decimal("19")


# -- VAT numbers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "entered", "expected"),
    [
        ("DE", "DE136695976", "DE136695976"),
        ("DE", "de 136 695 976", "DE136695976"),
        ("DE", "136695976", "DE136695976"),  # prefix optional
        ("GR", "094259216", "EL094259216"),  # Greece uses EL
        ("GR", "GR094259216", "EL094259216"),
        ("gr", "EL 094 259 216", "EL094259216"),
        ("IE", "IE 6388047V", "IE6388047V"),
        ("NL", "NL004495445B01", "NL004495445B01"),
        ("AT", "U13585627", "ATU13585627"),
        ("FR", "FR 40 303 265 045", "FR40303265045"),
        ("BE", "BE0403.019.261", "BE0403019261"),
        ("GB", "GB980780684", "GB980780684"),
        ("GB", "980 7806 84", "GB980780684"),
        ("CH", "CHE-113.564.212 MWST", "CHE113564212MWST"),
        ("NO", "NO 974 760 673 MVA", "NO974760673MVA"),
    ],
)
def test_validate_vat_number_normalises(country: str, entered: str, expected: str) -> None:
    assert validate_vat_number(country, entered) == expected


@pytest.mark.parametrize(
    ("country", "entered", "code"),
    [
        ("DE", "DE136695977", "vat_invalid_checksum"),
        ("GR", "EL094259217", "vat_invalid_checksum"),
        ("DE", "DE12345678", "vat_invalid_format"),
        ("DE", "DE13669597X", "vat_invalid_format"),
        ("DE", "", "vat_invalid_format"),
        ("DE", " - ", "vat_invalid_format"),
        ("FR", "DE136695976", "vat_wrong_country"),
        ("DE", "EL094259216", "vat_wrong_country"),
        ("GB", "DE136695976", "vat_wrong_country"),
        ("US", "12-3456789", "vat_unsupported_country"),
        ("ZZ", "123", "vat_unsupported_country"),
    ],
)
def test_validate_vat_number_errors(country: str, entered: str, code: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_vat_number(country, entered)
    assert info.value.code == code
    assert info.value.params["country"] == country.upper()
    assert str(info.value)  # the message formats


def test_bad_country_code() -> None:
    with pytest.raises(ValidationError) as info:
        validate_vat_number("Germany", "DE136695976")
    assert info.value.code == "country_invalid"


@given(st.integers(10_000_000, 99_999_999))
def test_generated_german_numbers(body: int) -> None:
    number = de_vat(str(body))
    assert eu_vat.is_valid(number)
    assert validate_vat_number("DE", number) == number
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    with pytest.raises(ValidationError) as info:
        validate_vat_number("DE", wrong)
    assert info.value.code == "vat_invalid_checksum"


# -- treatment ----------------------------------------------------------------------------


def test_valid_number_of_another_eu_country_gives_reverse_charge(rates: VatRates) -> None:
    t = vat_treatment("DE", "de136695976", rates)
    assert (t.country, t.rate, t.reverse_charge, t.vat_number) == (
        "DE",
        Decimal(0),
        True,
        "DE136695976",
    )
    t = vat_treatment("GR", "094259216", rates)
    assert t.reverse_charge and t.vat_number == "EL094259216"


def test_seller_country_pays_its_own_rate_even_with_a_vat_number(rates: VatRates) -> None:
    t = vat_treatment("IE", "IE6388047V", rates)
    assert (t.rate, t.reverse_charge, t.vat_number) == (Decimal("23"), False, "IE6388047V")


def test_no_vat_number_means_the_billing_country_rate(rates: VatRates) -> None:
    assert vat_treatment("DE", None, rates).rate == Decimal("19")
    assert vat_treatment("IT", "  ", rates).rate == Decimal("22")
    assert not vat_treatment("IT", None, rates).reverse_charge


def test_non_eu_countries(rates: VatRates) -> None:
    gb = vat_treatment("GB", "GB980780684", rates)
    assert (gb.rate, gb.reverse_charge) == (Decimal("20"), False)
    assert vat_treatment("CH", None, rates).rate == Decimal("8.1")
    us = vat_treatment("US", "12-3456789", rates)  # cannot be validated: kept, no effect
    assert (us.rate, us.reverse_charge, us.vat_number) == (Decimal(0), False, "12-3456789")


def test_invalid_vat_number_is_refused_not_silently_taxed(rates: VatRates) -> None:
    with pytest.raises(ValidationError) as info:
        vat_treatment("DE", "DE136695977", rates)
    assert info.value.code == "vat_invalid_checksum"


# -- amounts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("net", "rate", "vat"),
    [
        ("100.00", "22", "22.00"),
        ("0.50", "21", "0.11"),  # 0.105 → 0.11 (half-up)
        ("0.10", "5", "0.01"),  # 0.005 → 0.01
        ("-0.50", "21", "-0.11"),  # credit: symmetric
        ("19.99", "8.1", "1.62"),  # 1.61919 → 1.62
        ("84.00", "23", "19.32"),
        ("12.34", "0", "0.00"),
    ],
)
def test_vat_amount_examples(net: str, rate: str, vat: str) -> None:
    assert vat_amount(eur(net), Decimal(rate)) == eur(vat)


def test_vat_amount_refuses_float_rates() -> None:
    with pytest.raises(TypeError):
        vat_amount(eur("1"), 0.21)  # type: ignore[arg-type]


rates_strategy = st.decimals(min_value=0, max_value=30, places=1)


def half_up(value: Fraction, exponent: int) -> Fraction:
    scaled = abs(value) * 10**exponent
    whole = scaled.numerator // scaled.denominator + (1 if scaled % 1 >= Fraction(1, 2) else 0)
    return Fraction(-whole if value < 0 else whole, 10**exponent)


@given(st.integers(-(10**10), 10**10), rates_strategy, st.sampled_from(["EUR", "JPY", "KWD"]))
def test_vat_amount_is_half_up_of_the_exact_product(minor: int, rate: Decimal, cur: str) -> None:
    net = Money.from_minor(minor, cur)
    exponent = {"EUR": 2, "JPY": 0, "KWD": 3}[cur]
    exact = Fraction(net.amount) * Fraction(rate) / 100
    assert Fraction(vat_amount(net, rate).amount) == half_up(exact, exponent)
    assert vat_amount(-net, rate) == -vat_amount(net, rate)


def test_invoice_vat_sums_rounded_line_vats() -> None:
    # Rule (SPEC §2): VAT is rounded per line, the invoice VAT is the sum of the lines.
    # Three lines of €0.50 at 21 %: each 0.105 → 0.11, invoice VAT 0.33
    # (not 1.50 × 21 % = 0.315 → 0.32).
    lines = [eur("0.50")] * 3
    assert invoice_vat(lines, Decimal("21"), "EUR") == eur("0.33")
    assert vat_amount(eur("1.50"), Decimal("21")) == eur("0.32")
    assert invoice_vat([], Decimal("21"), "EUR") == eur("0")


@given(st.lists(st.integers(0, 10**8), max_size=30), rates_strategy)
def test_invoice_vat_is_within_half_a_cent_per_line_of_the_exact_total(
    lines_minor: list[int], rate: Decimal
) -> None:
    lines = [Money.from_minor(m, "EUR") for m in lines_minor]
    total = invoice_vat(lines, rate, "EUR")
    assert total.minor == sum(vat_amount(line, rate).minor for line in lines)
    exact = sum((Fraction(line.amount) * Fraction(rate) / 100 for line in lines), Fraction(0))
    assert abs(Fraction(total.amount) - exact) <= Fraction(len(lines), 200)
