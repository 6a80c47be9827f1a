"""Proration of plan changes against the account balance.

Business rule (SPEC §3 "Billing periods and dates"): "Proration is against the
account balance: the unused part of the current period is credited (by days:
amount × unused days ÷ days in period), the new configuration is charged for a
full new period starting today; the net is due now, and a negative net becomes
account credit used by later invoices."

Rounding: the *unused* share is rounded half-up to the minor unit and the
*used* share is the remainder, so ``used + unused == amount`` to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from billing_desktop.domain.errors import ValidationError
from billing_desktop.domain.money import Money
from billing_desktop.domain.periods import Frequency, Period, next_period
from billing_desktop.domain.text import QT_TRANSLATE_NOOP

__all__ = [
    "ChangeQuote",
    "proration_credit",
    "quote_change",
    "quote_new_subscription",
    "split_period_amount",
]


def _require_not_before(period: Period, on: date) -> None:
    if on < period.start:
        raise ValidationError(
            "change_before_period",
            QT_TRANSLATE_NOOP(
                "DomainError",
                "The change date {on} is before the current billing period starts ({start}).",
            ),
            on=on,
            start=period.start,
        )


def _require_not_negative(amount: Money) -> None:
    if amount.is_negative:
        raise ValidationError(
            "amount_negative",
            QT_TRANSLATE_NOOP("DomainError", "The amount must not be negative."),
            amount=amount,
        )


def split_period_amount(amount: Money, period: Period, on: date) -> tuple[Money, Money]:
    """Split a period's ``amount`` into ``(used, unused)`` as of ``on``.

    SPEC §3: the unused part is "amount × unused days ÷ days in period" with
    unused days = ``period.end − on``, rounded half-up; ``used = amount − unused``
    so the two always add up exactly. A change on ``period.start`` leaves the
    whole amount unused; on or after ``period.end`` nothing is unused.
    ``on`` before ``period.start`` raises ``ValidationError``; so does a
    negative ``amount``.
    """
    _require_not_before(period, on)
    _require_not_negative(amount)
    unused_days = max((period.end - on).days, 0)
    unused = amount.scaled(unused_days, period.days)
    return amount - unused, unused


def proration_credit(amount: Money, period: Period, on: date) -> Money:
    """The credit (a positive ``Money``) for the unused part of ``period`` as of ``on``."""
    return split_period_amount(amount, period, on)[1]


@dataclass(frozen=True, slots=True)
class ChangeQuote:
    """What a checkout change costs today (the review page of SPEC §3).

    ``net = charge − credit``; ``due_now = max(net, 0)``;
    ``to_account_credit = max(−net, 0)`` — "a negative net becomes account credit".
    ``old_period`` is ``None`` for a new subscription (no paid period to credit).
    """

    old_period: Period | None
    credit: Money
    new_period: Period
    charge: Money
    net: Money
    due_now: Money
    to_account_credit: Money


def _quote(
    old_period: Period | None, credit: Money, new_amount: Money, new_period: Period
) -> ChangeQuote:
    net = new_amount - credit
    zero = Money.zero(new_amount.currency)
    return ChangeQuote(
        old_period=old_period,
        credit=credit,
        new_period=new_period,
        charge=new_amount,
        net=net,
        due_now=net if net.is_positive else zero,
        to_account_credit=-net if net.is_negative else zero,
    )


def quote_change(
    old_amount: Money,
    old_period: Period,
    new_amount: Money,
    new_frequency: Frequency,
    on: date,
) -> ChangeQuote:
    """Quote a change of plan, licences or frequency taking effect on ``on``.

    SPEC §3: the unused part of the current period is credited by days, "the
    new configuration is charged for a full new period starting today" (the
    billing period restarts: ``new_period = [on, on + one period)``), and the
    net is due now or, if negative, becomes account credit. When ``on`` is at
    or after ``old_period.end`` (e.g. a trial or expired subscription with no
    paid period left) the credit is zero. ``on`` before ``old_period.start``
    raises ``ValidationError``. ``old_amount`` and ``new_amount`` must share a
    currency (``ValueError`` otherwise).
    """
    _require_not_negative(new_amount)
    credit = proration_credit(old_amount, old_period, on)
    if credit.currency != new_amount.currency:
        raise ValueError(f"cannot combine {credit.currency} and {new_amount.currency}")
    return _quote(old_period, credit, new_amount, next_period(on, new_frequency))


def quote_new_subscription(amount: Money, frequency: Frequency, on: date) -> ChangeQuote:
    """Quote a new subscription (e.g. after a trial): a full period from ``on``, no credit."""
    _require_not_negative(amount)
    return _quote(None, Money.zero(amount.currency), amount, next_period(on, frequency))
