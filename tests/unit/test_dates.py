"""Relative dates of the demo dataset: ``today``, ``today+16d``, ``today-1m``, ISO dates."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_desktop.domain.dates import parse_relative_date
from billing_desktop.domain.errors import ValidationError

TODAY = date(2026, 4, 26)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", TODAY),
        ("  TODAY ", TODAY),
        ("today+16d", date(2026, 5, 12)),
        ("today-1d", date(2026, 4, 25)),
        ("today+0d", TODAY),
        ("today-1m", date(2026, 3, 26)),
        ("today+1m", date(2026, 5, 26)),
        ("today-2y", date(2024, 4, 26)),
        ("today+2w", date(2026, 5, 10)),
        ("today + 1m - 2d", date(2026, 5, 24)),
        ("2026-04-11", date(2026, 4, 11)),
    ],
)
def test_parse(text: str, expected: date) -> None:
    assert parse_relative_date(text, TODAY) == expected


def test_months_clip_like_billing_periods() -> None:
    assert parse_relative_date("today+1m", date(2026, 1, 31)) == date(2026, 2, 28)
    assert parse_relative_date("today-1y", date(2024, 2, 29)) == date(2023, 2, 28)


@pytest.mark.parametrize(
    "text",
    ["", "tomorrow", "today+", "today+1", "today+1x", "today++1d", "2026-13-01", "2026-02-30",
     "26-04-11", "today+1.5d", "1d", "today+99999y", None, 20260411],
)  # fmt: skip
def test_garbage_is_refused(text: object) -> None:
    with pytest.raises(ValidationError) as info:
        parse_relative_date(text, TODAY)  # type: ignore[arg-type]
    assert info.value.code == "date_invalid"


@settings(deadline=None)
@given(st.dates(date(2000, 1, 1), date(2090, 1, 1)), st.integers(0, 3000))
def test_days_round_trip(today: date, n: int) -> None:
    later = parse_relative_date(f"today+{n}d", today)
    assert (later - today).days == n
    assert parse_relative_date(f"today-{n}d", later) == today
    assert parse_relative_date(later.isoformat(), today) == later
