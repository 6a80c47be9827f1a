"""Proration against the account balance (SPEC §3): credit unused days, charge a full new period."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_desktop.domain.errors import ValidationError
from billing_desktop.domain.money import Money, currency_exponent
from billing_desktop.domain.periods import Frequency, Period, add_months
from billing_desktop.domain.proration import (
    ChangeQuote,
    proration_credit,
    quote_change,
    quote_new_subscription,
    split_period_amount,
)


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def test_worked_example_20_dollar_plan_changed_half_way() -> None:
    # $20 plan for Apr 11 – May 11 (30 days), changed on Apr 26:
    # unused days = May 11 − Apr 26 = 15; credit = 20 × 15 / 30 = 10.00
    period = Period(date(2026, 4, 11), date(2026, 5, 11))
    assert period.days == 30
    credit = proration_credit(usd("20.00"), period, date(2026, 4, 26))
    assert credit == usd("10.00")
    used, unused = split_period_amount(usd("20.00"), period, date(2026, 4, 26))
    assert (used, unused) == (usd("10.00"), usd("10.00"))
    # Shown on the review page as a −$10.00 line.
    assert -credit == usd("-10.00")


def test_worked_example_10_licences_reduced_to_7_on_day_17() -> None:
    # 10 licences × €12.00 = €120.00 for Apr 1 – May 1 (30 days); reduced to 7 on Apr 17 (day 17).
    # unused days = May 1 − Apr 17 = 14; credit = 120 × 14 / 30 = 56.00
    # new charge = 7 × 12.00 = 84.00 for a full period Apr 17 – May 17; net = 84 − 56 = 28.00 due
    unit = eur("12.00")
    period = Period(date(2026, 4, 1), date(2026, 5, 1))
    on = date(2026, 4, 17)
    assert (on - period.start).days + 1 == 17 and period.days == 30
    quote = quote_change(unit * 10, period, unit * 7, Frequency.MONTHLY, on)
    assert quote == ChangeQuote(
        old_period=period,
        credit=eur("56.00"),
        new_period=Period(date(2026, 4, 17), date(2026, 5, 17)),
        charge=eur("84.00"),
        net=eur("28.00"),
        due_now=eur("28.00"),
        to_account_credit=eur("0.00"),
    )


def test_negative_net_becomes_account_credit() -> None:
    # €120.00 monthly changed on the first day to a €30.00 plan:
    # credit = 120 × 30 / 30 = 120.00; net = 30 − 120 = −90.00 → 0 due, 90.00 account credit
    period = Period(date(2026, 4, 1), date(2026, 5, 1))
    quote = quote_change(eur("120.00"), period, eur("30.00"), Frequency.MONTHLY, date(2026, 4, 1))
    assert quote.credit == eur("120.00")
    assert quote.net == eur("-90.00")
    assert quote.due_now == eur("0.00")
    assert quote.to_account_credit == eur("90.00")


def test_switch_to_annual_restarts_the_period_today() -> None:
    # €50.00/month, Mar 10 – Apr 10 (31 days), switched to €500.00/year on Mar 20:
    # unused = Apr 10 − Mar 20 = 21 days; credit = 50 × 21 / 31 = 33.870… → 33.87
    # net = 500.00 − 33.87 = 466.13; next billing date = Mar 20 next year
    period = Period(date(2026, 3, 10), date(2026, 4, 10))
    quote = quote_change(eur("50.00"), period, eur("500.00"), Frequency.ANNUAL, date(2026, 3, 20))
    assert quote.credit == eur("33.87")
    assert quote.net == eur("466.13") == quote.due_now
    assert quote.new_period == Period(date(2026, 3, 20), date(2027, 3, 20))


def test_rounding_half_up_of_the_credit() -> None:
    # €0.05 × 15 / 30 = 0.025 → 0.03 credited, 0.02 used
    period = Period(date(2026, 4, 11), date(2026, 5, 11))
    assert split_period_amount(eur("0.05"), period, date(2026, 4, 26)) == (eur("0.02"), eur("0.03"))


def test_change_on_period_boundaries() -> None:
    period = Period(date(2026, 4, 11), date(2026, 5, 11))
    assert proration_credit(eur("20"), period, period.start) == eur("20")
    assert proration_credit(eur("20"), period, period.end) == eur("0")
    assert proration_credit(eur("20"), period, date(2026, 6, 1)) == eur("0")  # expired
    with pytest.raises(ValidationError) as info:
        proration_credit(eur("20"), period, date(2026, 4, 10))
    assert info.value.code == "change_before_period"
    with pytest.raises(ValidationError):
        quote_change(eur("20"), period, eur("30"), Frequency.MONTHLY, date(2026, 4, 10))


def test_no_credit_when_the_paid_period_is_over() -> None:
    # e.g. an expired subscription: nothing to credit, full charge due
    period = Period(date(2026, 1, 1), date(2026, 2, 1))
    quote = quote_change(eur("20"), period, eur("30"), Frequency.MONTHLY, date(2026, 4, 26))
    assert quote.credit == eur("0") and quote.due_now == eur("30")


def test_quote_new_subscription() -> None:
    quote = quote_new_subscription(eur("99.00"), Frequency.ANNUAL, date(2026, 4, 26))
    assert quote.old_period is None
    assert quote.credit == eur("0.00")
    assert quote.new_period == Period(date(2026, 4, 26), date(2027, 4, 26))
    assert quote.charge == quote.net == quote.due_now == eur("99.00")
    assert quote.to_account_credit == eur("0.00")


def test_refuses_negative_amounts_and_mixed_currencies() -> None:
    period = Period(date(2026, 4, 1), date(2026, 5, 1))
    with pytest.raises(ValidationError):
        split_period_amount(eur("-1"), period, date(2026, 4, 2))
    with pytest.raises(ValueError):
        quote_change(eur("10"), period, usd("10"), Frequency.MONTHLY, date(2026, 4, 2))


@st.composite
def period_amount_day(draw: st.DrawFn) -> tuple[Money, Period, date]:
    currency = draw(st.sampled_from(["EUR", "USD", "JPY", "KWD", "HUF"]))
    amount = Money.from_minor(draw(st.integers(0, 10**9)), currency)
    start = draw(st.dates(date(2000, 1, 1), date(2090, 12, 31)))
    months = draw(st.sampled_from([1, 12]))
    period = Period(start, add_months(start, months))
    on = start + timedelta(days=draw(st.integers(0, period.days)))
    return amount, period, on


@settings(deadline=None)
@given(period_amount_day())
def test_used_plus_credit_is_the_period_amount(case: tuple[Money, Period, date]) -> None:
    amount, period, on = case
    used, credit = split_period_amount(amount, period, on)
    assert used + credit == amount  # to the minor unit
    assert not used.is_negative and not credit.is_negative
    unused_days = (period.end - on).days
    exact_credit = Fraction(amount.amount) * unused_days / period.days
    exact_used = Fraction(amount.amount) - exact_credit
    minor_unit = Fraction(1, 10 ** currency_exponent(amount.currency))
    assert abs(Fraction(credit.amount) - exact_credit) <= minor_unit / 2
    assert abs(Fraction(used.amount) - exact_used) <= minor_unit


@settings(deadline=None)
@given(period_amount_day(), st.integers(0, 10**9), st.sampled_from(list(Frequency)))
def test_quote_net_identities(
    case: tuple[Money, Period, date], new_minor: int, freq: Frequency
) -> None:
    old, period, on = case
    new = Money.from_minor(new_minor, old.currency)
    quote = quote_change(old, period, new, freq, on)
    assert quote.net == quote.charge - quote.credit
    assert quote.due_now - quote.to_account_credit == quote.net
    assert not quote.due_now.is_negative and not quote.to_account_credit.is_negative
    assert quote.due_now.is_zero or quote.to_account_credit.is_zero
    assert quote.new_period.start == on
    assert quote.new_period.end == add_months(on, freq.months)
