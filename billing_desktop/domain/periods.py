"""Billing frequencies and billing periods computed from an anchor date.

Business rules (SPEC §3 "Billing periods and dates"):

* "Monthly/annual periods are computed from an anchor date with
  ``dateutil.relativedelta`` (Jan 31 + 1 month = Feb 28/29, and the period
  after that returns to the 31st where the month has one)." Period *k* starts
  at ``anchor + relativedelta(months=k × frequency.months)`` — always counted
  from the anchor, never from the previous (clipped) start.
* "A change placed through checkout takes effect at once, and the billing
  period restarts today: the next billing date becomes today + one period" —
  :func:`next_period`.

A :class:`Period` is half-open: ``start`` is the first day of service and
``end`` is exclusive, i.e. ``end`` is the next billing date. Consecutive
periods therefore tile the calendar without gaps or overlaps.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from dateutil.relativedelta import relativedelta

from billing_desktop.domain.errors import ValidationError
from billing_desktop.domain.text import QT_TRANSLATE_NOOP

__all__ = [
    "Frequency",
    "Period",
    "add_months",
    "iter_periods",
    "months_between",
    "months_remaining",
    "next_period",
    "period_at",
    "period_start",
    "term_end",
]


class Frequency(StrEnum):
    """Billing frequency of a subscription (SPEC §2: ``monthly``/``annual``)."""

    MONTHLY = "monthly"
    ANNUAL = "annual"

    @property
    def months(self) -> int:
        """Length of one billing period in months (1 or 12)."""
        return 12 if self is Frequency.ANNUAL else 1


def _check_date(value: object, name: str) -> None:
    # datetime is a subclass of date; a datetime here is almost always a bug.
    if not isinstance(value, date) or isinstance(value, _dt.datetime):
        raise TypeError(f"{name} must be a datetime.date, not {type(value).__name__}")


@dataclass(frozen=True, slots=True)
class Period:
    """A billing period ``[start, end)``; ``end`` is exclusive and is the next billing date."""

    start: date
    end: date

    def __post_init__(self) -> None:
        _check_date(self.start, "start")
        _check_date(self.end, "end")
        if self.end <= self.start:
            raise ValidationError(
                "period_empty",
                QT_TRANSLATE_NOOP(
                    "DomainError", "A period must end after it starts ({start} – {end})."
                ),
                start=self.start,
                end=self.end,
            )

    @property
    def days(self) -> int:
        """Number of days in the period (``end − start``)."""
        return (self.end - self.start).days

    @property
    def last_day(self) -> date:
        """The last day of service (``end − 1 day``), for display as an inclusive range."""
        return self.end - _dt.timedelta(days=1)

    def contains(self, day: date) -> bool:
        """``True`` when ``start <= day < end``."""
        return self.start <= day < self.end


def add_months(day: date, n: int) -> date:
    """``day + n`` calendar months via ``relativedelta`` (Jan 31 + 1 → Feb 28/29)."""
    _check_date(day, "day")
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"months must be int, not {type(n).__name__}")
    try:
        result: date = day + relativedelta(months=n)
    except (ValueError, OverflowError):
        raise ValidationError(
            "date_out_of_range",
            QT_TRANSLATE_NOOP("DomainError", "The date is out of the supported range."),
        ) from None
    return result


def period_start(anchor: date, k: int, freq: Frequency) -> date:
    """Start of the ``k``-th period after ``anchor``: ``anchor + k × freq.months`` months.

    Counting from the anchor (not from the previous start) is what makes an
    anchor of Jan 31 give Feb 28/29 and then Mar 31 again (SPEC §3).
    """
    return add_months(anchor, k * Frequency(freq).months)


def months_between(earlier: date, later: date) -> int:
    """Calendar months from ``earlier``'s month to ``later``'s month (days are ignored).

    ``months_between(start, add_months(start, n)) == n`` for every ``start``, since
    ``relativedelta`` only clips the day, never the month.
    """
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def period_at(anchor: date, freq: Frequency, day: date) -> Period:
    """The billing period (anchored at ``anchor``) that contains ``day``.

    ``day`` must not be before ``anchor`` (``ValidationError("date_before_anchor")``).
    """
    _check_date(anchor, "anchor")
    _check_date(day, "day")
    freq = Frequency(freq)
    if day < anchor:
        raise ValidationError(
            "date_before_anchor",
            QT_TRANSLATE_NOOP("DomainError", "{day} is before the billing start date {anchor}."),
            day=day,
            anchor=anchor,
        )
    k = max(months_between(anchor, day) // freq.months - 1, 0)
    while period_start(anchor, k + 1, freq) <= day:
        k += 1
    return Period(period_start(anchor, k, freq), period_start(anchor, k + 1, freq))


def next_period(anchor: date, freq: Frequency) -> Period:
    """The period starting on ``anchor``: ``[anchor, anchor + one period)``.

    SPEC §3: after a checkout change "the billing period restarts today: the
    next billing date becomes today + one period" — call with ``anchor=today``.
    """
    return period_at(anchor, freq, anchor)


def iter_periods(anchor: date, freq: Frequency) -> Iterator[Period]:
    """All periods from ``anchor`` onwards, in order (an endless generator; slice it)."""
    _check_date(anchor, "anchor")
    freq = Frequency(freq)
    k = 0
    start = anchor
    while True:
        end = period_start(anchor, k + 1, freq)
        yield Period(start, end)
        k += 1
        start = end


def term_end(start: date, months: int) -> date:
    """End (exclusive) of a fixed-term agreement of ``months`` months starting on ``start``."""
    if isinstance(months, bool) or not isinstance(months, int):
        raise TypeError(f"months must be int, not {type(months).__name__}")
    if months < 1:
        raise ValidationError(
            "term_too_short",
            QT_TRANSLATE_NOOP("DomainError", "A fixed term must last at least one month."),
            months=months,
        )
    return add_months(start, months)


def months_remaining(term_end: date, on: date, *, term_start: date) -> int:
    """Billing months of a fixed term still to be paid when it is cancelled on ``on``.

    Article 002 (SPEC §3, cancellation step 4): "a fixed-term agreement
    cancelled early is billed for its remaining months". Definition: the
    number of monthly periods, anchored at ``term_start`` (exactly the periods
    that were invoiced), that end after ``on`` and start before ``term_end`` —
    the monthly period containing ``on`` counts in full (a month already begun
    is billed whole), plus every later month up to the end.

    ``term_start`` is required (keyword-only): ``term_end`` alone does not
    determine the month boundaries. For example 2023-01-29, 2023-01-30 and
    2023-01-31 plus 13 months all end on 2024-02-29, yet on 2023-08-29 the first
    term has 6 months left (a period starts that day) and the last has 7 (the
    period 2023-07-31 – 2023-08-31 is under way).

    Examples: a 15-month contract 2025-01-01 → 2026-04-01 cancelled on
    2026-01-01 or on 2026-01-15 → 3 (January, February, March); on or after
    ``term_end`` → 0; before ``term_start`` → the whole term.
    ``term_start >= term_end`` raises ``ValidationError("period_empty")``.
    """
    _check_date(term_end, "term_end")
    _check_date(on, "on")
    _check_date(term_start, "term_start")
    if term_start >= term_end:
        raise ValidationError(
            "period_empty",
            QT_TRANSLATE_NOOP(
                "DomainError", "A period must end after it starts ({start} – {end})."
            ),
            start=term_start,
            end=term_end,
        )
    if on >= term_end:
        return 0
    first = period_at(term_start, Frequency.MONTHLY, max(on, term_start))
    k = months_between(term_start, first.start)
    count = 0
    while period_start(term_start, k, Frequency.MONTHLY) < term_end:
        count += 1
        k += 1
    return count
