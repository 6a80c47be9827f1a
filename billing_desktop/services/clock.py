"""The one clock every service reads (SPEC §5).

A real database follows the system clock. A demo database stores a simulated
date in ``app_settings`` under ``clock.today``; the trainer moves it forward.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Protocol

from billing_desktop.store.database import Database

SIMULATED_KEY = "clock.today"


class Clock(Protocol):
    def today(self) -> date: ...

    def now(self) -> datetime: ...

    @property
    def simulated(self) -> bool: ...


class SystemClock:
    """The machine's date and time."""

    simulated = False

    def today(self) -> date:
        return date.today()

    def now(self) -> datetime:
        return datetime.now().replace(microsecond=0)


class SimulatedClock:
    """A date kept in the database; time of day follows the system clock."""

    simulated = True

    def __init__(self, db: Database) -> None:
        self._db = db

    def today(self) -> date:
        value = self._db.setting(SIMULATED_KEY)
        return date.fromisoformat(value) if value else date.today()

    def now(self) -> datetime:
        return datetime.combine(self.today(), datetime.now().time().replace(microsecond=0))


class FixedClock:
    """A clock stopped at one instant; for tests and command-line runs."""

    simulated = True

    def __init__(self, when: date | datetime) -> None:
        self._now = when if isinstance(when, datetime) else datetime.combine(when, time(9, 0))

    def today(self) -> date:
        return self._now.date()

    def now(self) -> datetime:
        return self._now


def clock_for(db: Database) -> Clock:
    """The simulated clock for a demo database (one with a stored date), else the system's."""
    if db.setting(SIMULATED_KEY) is not None:
        return SimulatedClock(db)
    return SystemClock()
