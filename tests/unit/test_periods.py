"""Billing periods from an anchor date (SPEC §3 "Billing periods and dates")."""

from __future__ import annotations

import calendar
import itertools
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_desktop.domain.errors import ValidationError
from billing_desktop.domain.periods import (
    Frequency,
    Period,
    add_months,
    iter_periods,
    months_remaining,
    next_period,
    period_at,
    period_start,
    term_end,
)

M, A = Frequency.MONTHLY, Frequency.ANNUAL


@st.composite
def anchors(draw: st.DrawFn) -> date:
    """Any calendar date, with days 29–31 well represented."""
    year = draw(st.integers(1990, 2090))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, 31))
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def test_frequency() -> None:
    assert M.months == 1 and A.months == 12
    assert Frequency("annual") is A
    assert M == "monthly"


def test_period_basics() -> None:
    p = Period(date(2026, 4, 11), date(2026, 5, 11))
    assert p.days == 30
    assert p.contains(date(2026, 4, 11)) and p.contains(date(2026, 5, 10))
    assert not p.contains(date(2026, 5, 11)) and not p.contains(date(2026, 4, 10))
    assert p.last_day == date(2026, 5, 10)
    with pytest.raises(ValidationError) as info:
        Period(date(2026, 5, 11), date(2026, 5, 11))
    assert info.value.code == "period_empty"
    with pytest.raises(TypeError):
        Period(datetime(2026, 4, 11), date(2026, 5, 11))


@pytest.mark.parametrize(("year", "february_end"), [(2025, 28), (2024, 29), (2100, 28), (2000, 29)])
def test_jan_31_anchor_goes_to_end_of_february_then_back_to_31st(
    year: int, february_end: int
) -> None:
    anchor = date(year, 1, 31)
    starts = [period_start(anchor, k, M) for k in range(4)]
    assert starts == [
        date(year, 1, 31),
        date(year, 2, february_end),
        date(year, 3, 31),  # returns to the 31st
        date(year, 4, 30),
    ]
    periods = list(itertools.islice(iter_periods(anchor, M), 3))
    assert periods[0] == Period(date(year, 1, 31), date(year, 2, february_end))
    assert periods[1] == Period(date(year, 2, february_end), date(year, 3, 31))
    assert periods[2].start == date(year, 3, 31)


def test_annual_leap_day_anchor() -> None:
    anchor = date(2024, 2, 29)
    assert [period_start(anchor, k, A) for k in range(5)] == [
        date(2024, 2, 29), date(2025, 2, 28), date(2026, 2, 28),
        date(2027, 2, 28), date(2028, 2, 29),
    ]  # fmt: skip


@settings(deadline=None)
@given(anchors(), st.sampled_from([M, A]))
def test_periods_tile_without_gaps_or_overlaps_over_five_years(
    anchor: date, freq: Frequency
) -> None:
    count = 60 // freq.months
    periods = list(itertools.islice(iter_periods(anchor, freq), count))
    assert periods[0].start == anchor
    for k, (before, after) in enumerate(itertools.pairwise(periods)):
        assert before.end == after.start  # no gap, no overlap
        assert before.days > 0
        assert before.start == period_start(anchor, k, freq)
    assert periods[-1].end == add_months(anchor, 60)
    assert sum(p.days for p in periods) == (add_months(anchor, 60) - anchor).days
    for p in periods:  # each start is the anchor day, clipped to the month's length
        last = calendar.monthrange(p.start.year, p.start.month)[1]
        assert p.start.day == min(anchor.day, last)


@settings(deadline=None)
@given(anchors(), st.sampled_from([M, A]), st.integers(0, 5 * 366))
def test_period_at_returns_the_tile_containing_the_day(
    anchor: date, freq: Frequency, offset: int
) -> None:
    day = anchor + timedelta(days=offset)
    p = period_at(anchor, freq, day)
    assert p.contains(day)
    k = next(k for k in itertools.count() if period_start(anchor, k, freq) == p.start)
    assert p.end == period_start(anchor, k + 1, freq)


def test_period_at_refuses_day_before_anchor() -> None:
    with pytest.raises(ValidationError) as info:
        period_at(date(2026, 4, 11), M, date(2026, 4, 10))
    assert info.value.code == "date_before_anchor"


def test_period_at_examples() -> None:
    anchor = date(2026, 4, 11)
    assert period_at(anchor, M, date(2026, 4, 26)) == Period(date(2026, 4, 11), date(2026, 5, 11))
    assert period_at(anchor, M, date(2026, 5, 11)) == Period(date(2026, 5, 11), date(2026, 6, 11))
    assert period_at(anchor, A, date(2027, 4, 10)) == Period(date(2026, 4, 11), date(2027, 4, 11))


def test_next_period_restarts_today() -> None:
    # "the next billing date becomes today + one period"
    today = date(2026, 4, 26)
    assert next_period(today, M) == Period(today, date(2026, 5, 26))
    assert next_period(today, A) == Period(today, date(2027, 4, 26))
    assert next_period(date(2026, 1, 31), M).end == date(2026, 2, 28)


def test_add_months() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
    assert add_months(date(2026, 5, 15), 12) == date(2027, 5, 15)
    with pytest.raises(ValidationError):
        add_months(date(9999, 12, 1), 1)
    with pytest.raises(TypeError):
        add_months(date(2026, 1, 1), 1.0)  # type: ignore[arg-type]


def test_term_end() -> None:
    assert term_end(date(2025, 1, 1), 15) == date(2026, 4, 1)
    assert term_end(date(2025, 1, 31), 1) == date(2025, 2, 28)
    with pytest.raises(ValidationError):
        term_end(date(2025, 1, 1), 0)


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (date(2026, 1, 1), 3),  # 3 months to go: January, February, March
        (date(2026, 1, 15), 3),  # mid-January: January is billed whole
        (date(2026, 1, 31), 3),
        (date(2026, 2, 1), 2),
        (date(2025, 12, 31), 4),
        (date(2026, 3, 31), 1),
        (date(2026, 4, 1), 0),  # term over
        (date(2027, 1, 1), 0),
        (date(2025, 1, 1), 15),  # cancelled on the first day: the whole term
    ],
)
def test_months_remaining_of_a_15_month_contract(on: date, expected: int) -> None:
    start = date(2025, 1, 1)
    end = term_end(start, 15)  # 2026-04-01
    assert months_remaining(end, on, term_start=start) == expected


def test_months_remaining_before_term_start_counts_the_whole_term() -> None:
    assert months_remaining(date(2026, 4, 1), date(2024, 6, 1), term_start=date(2025, 1, 1)) == 15


def test_months_remaining_with_clipped_anchor_uses_term_start() -> None:
    # Term Jan 31 → Apr 30 (3 months): periods [Jan 31, Feb 28), [Feb 28, Mar 31), [Mar 31, Apr 30).
    # On Mar 30 the current period is [Feb 28, Mar 31): 2 months remain.
    start = date(2025, 1, 31)
    end = term_end(start, 3)
    assert end == date(2025, 4, 30)
    assert months_remaining(end, date(2025, 3, 30), term_start=start) == 2
    assert months_remaining(end, date(2025, 3, 31), term_start=start) == 1


def test_months_remaining_requires_term_start() -> None:
    # Review finding: counted back from term_end alone, a 13-month term from 2023-01-31
    # (ends 2024-02-29) had 6 months left on 2023-08-29 instead of 7 (the period
    # 2023-07-31 – 2023-08-31 is under way). term_end alone cannot decide it: a term from
    # 2023-01-29 ends on the same day and does have 6 left. So term_start is required.
    end = term_end(date(2023, 1, 31), 13)
    assert end == term_end(date(2023, 1, 29), 13) == date(2024, 2, 29)
    on = date(2023, 8, 29)
    assert months_remaining(end, on, term_start=date(2023, 1, 31)) == 7
    assert months_remaining(end, on, term_start=date(2023, 1, 29)) == 6
    with pytest.raises(TypeError):
        months_remaining(end, on)  # type: ignore[call-arg]
    with pytest.raises(ValidationError) as info:
        months_remaining(end, on, term_start=end)
    assert info.value.code == "period_empty"
    with pytest.raises(TypeError):
        months_remaining(end, on, term_start=datetime(2023, 1, 31))


@settings(deadline=None)
@given(anchors(), st.integers(1, 36), st.integers(-40, 40 * 31))
def test_months_remaining_counts_monthly_periods_not_yet_over(
    start: date, months: int, offset: int
) -> None:
    end = term_end(start, months)
    on = start + timedelta(days=offset)
    periods = list(itertools.islice(iter_periods(start, M), months))
    expected = sum(1 for p in periods if p.end > on)
    assert months_remaining(end, on, term_start=start) == expected
    # At every period boundary the count is the calendar months left to the end.
    for k, p in enumerate(periods):
        assert months_remaining(end, p.start, term_start=start) == months - k
