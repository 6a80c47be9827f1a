"""Money and dates as the locale writes them, from integer minor units only."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QLocale

from billing_desktop.ui.formatting import currency_symbol, format_date, format_money

NBSP = "\u00a0"


def loc(name: str) -> QLocale:
    return QLocale(name)


@pytest.mark.parametrize(
    ("locale", "minor", "currency", "expected"),
    [
        # Italian: symbol after, "." groups, "," decimals (CLDR groups from 5 digits).
        ("it_IT", 123_456_789, "EUR", f"1.234.567,89{NBSP}€"),
        ("it_IT", 1_234_567_89, "EUR", f"1.234.567,89{NBSP}€"),
        ("it_IT", 1_234_56, "EUR", f"1234,56{NBSP}€"),
        ("it_IT", -123_456_789, "EUR", f"-1.234.567,89{NBSP}€"),
        ("it_IT", 5, "EUR", f"0,05{NBSP}€"),
        # US English: symbol before, "," groups, negatives in parentheses.
        ("en_US", 123_456, "EUR", "€1,234.56"),
        ("en_US", -123_456, "EUR", "(€1,234.56)"),
        ("en_US", 123_456, "USD", "$1,234.56"),
        ("en_US", 0, "EUR", "€0.00"),
        # German.
        ("de_DE", 123_456, "EUR", f"1.234,56{NBSP}€"),
        ("de_DE", -1, "EUR", f"-0,01{NBSP}€"),
        ("de_DE", 123_456, "USD", f"1.234,56{NBSP}US$"),
        # Dutch: symbol before with a space.
        ("nl_NL", 123_456, "EUR", f"€{NBSP}1.234,56"),
        ("nl_NL", 100, "CHF", f"CHF{NBSP}1,00"),
    ],
)
def test_exact_strings(locale: str, minor: int, currency: str, expected: str) -> None:
    assert format_money(minor, currency, loc(locale)) == expected


@pytest.mark.parametrize("locale", ["it_IT", "en_US", "de_DE", "nl_NL", "fr_FR", "sv_SE"])
def test_whole_amounts_match_qlocale_integer_currency_format(locale: str) -> None:
    """Same grouping, symbol and sign as QLocale's own int formatting, plus decimals."""
    q = loc(locale)
    for units in (0, 7, 1234, 98_765_432, -1234, -98_765_432):
        own = q.toCurrencyString(units, "€")
        digits = q.toString(abs(units))
        expected = own.replace(digits, f"{digits}{q.decimalPoint()}{q.zeroDigit() * 2}", 1)
        assert format_money(units * 100, "EUR", q) == expected


def test_amounts_beyond_float_precision_are_exact() -> None:
    # 2**53 + 1 cannot be represented as a float; the output must still be exact.
    minor = 12_345_678_901_234_567
    assert format_money(minor, "EUR", loc("en_US")) == "€123,456,789,012,345.67"
    assert format_money(-(2**53 + 1), "USD", loc("en_US")) == "($90,071,992,547,409.93)"


def test_minor_unit_exponents() -> None:
    us = loc("en_US")
    assert format_money(123_456, "JPY", us) == "JP¥123,456"
    assert format_money(123_456, "JPY", loc("ja_JP")) == "￥123,456"
    assert format_money(1_234_567, "KWD", us) == f"KWD{NBSP}1,234.567"
    assert format_money(5, "KWD", us) == f"KWD{NBSP}0.005"


def test_iso_codes_never_touch_the_digits() -> None:
    assert format_money(100, "CHF", loc("en_US")) == f"CHF{NBSP}1.00"
    assert format_money(-100, "SEK", loc("en_US")) == f"(SEK{NBSP}1.00)"


def test_float_and_bool_are_refused() -> None:
    with pytest.raises(TypeError):
        format_money(12.34, "EUR")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        format_money(True, "EUR")


def test_unknown_currency_still_displays() -> None:
    assert format_money(123, "XYZ", loc("en_US")) == f"XYZ{NBSP}1.23"


def test_default_locale_is_used() -> None:
    QLocale.setDefault(loc("de_DE"))  # the gui conftest restores it
    assert format_money(123_456, "EUR") == f"1.234,56{NBSP}€"


@given(st.integers(min_value=-(10**17), max_value=10**17))
def test_digits_round_trip(minor: int) -> None:
    """Dropping symbol and grouping gives back exactly the integer's digits."""
    text = format_money(minor, "EUR", loc("en_US"))
    negative = text.startswith("(")
    digits = text.strip("()€").replace(",", "")
    whole, _, cents = digits.partition(".")
    assert len(cents) == 2
    assert negative == (minor < 0)
    assert int(whole + cents) == abs(minor)


def test_currency_symbols() -> None:
    assert currency_symbol("USD", loc("en_US")) == "$"
    assert currency_symbol("USD", loc("en_GB")) == "US$"
    assert currency_symbol("GBP", loc("en_US")) == "£"
    assert currency_symbol("SEK", loc("sv_SE")) == "kr"
    assert currency_symbol("SEK", loc("it_IT")) == "SEK"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("it_IT", "26/04/2026"), ("en_US", "4/26/2026"), ("de_DE", "26.04.2026"),
     ("nl_NL", "26-04-2026")],
)
def test_format_date_uses_the_short_order_with_a_four_digit_year(
    locale: str, expected: str
) -> None:
    assert format_date(date(2026, 4, 26), loc(locale)) == expected


def test_format_date_examples() -> None:
    assert format_date(date(2026, 4, 26), loc("de_DE")) == "26.04.2026"
    assert format_date(date(2026, 4, 26), loc("en_US")) == "4/26/2026"


LOCALES = [
    "en_US", "en_GB", "it_IT", "nl_NL", "nl_BE", "es_ES", "de_DE", "de_CH", "fr_FR",
    "fr_CH", "sv_SE", "ja_JP", "ar_EG", "hi_IN", "pt_BR",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    minor=st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1),
    currency=st.sampled_from(["EUR", "USD", "GBP", "CHF", "JPY", "SEK", "KWD", "XYZ"]),
    locale=st.sampled_from(LOCALES),
)
def test_a_tables_money_texts_are_format_moneys(minor: int, currency: str, locale: str) -> None:
    """The per-locale shortcut a big table uses writes every amount exactly as
    format_money does (symbol, spacing, negative form, grouping, digits)."""
    from billing_desktop.ui.formatting import MoneyTexts

    loc = QLocale(locale)
    try:
        expected = format_money(minor, currency, loc)
    except OverflowError:  # beyond what a 64-bit amount of whole units can show
        return
    assert MoneyTexts(loc).text(minor, currency) == expected
