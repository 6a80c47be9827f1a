"""The one clock every service reads (SPEC §5).

A real database follows the system clock. A demo database stores a simulated
date in ``app_settings`` under ``clock.today``; the trainer moves it forward
with :func:`set_simulated_date`, which runs the renewal engine up to the new
date ("moving the clock runs the renewal engine"), so the database never shows
a date whose renewals, expiries and trial ends have not happened.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any, Protocol

from billing_desktop.store.database import Database

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from billing_desktop.services.context import AppContext
    from billing_desktop.services.renewal import RenewalSummary

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


def store_simulated_date(session: Session, new_date: date) -> bool:
    """Write ``new_date`` as the simulated date in the caller's transaction, forward only.

    Returns True when the stored date changed. No permission check: callers
    (the renewal engine) authorise first.
    """
    from billing_desktop.store.models import AppSetting

    row = session.get(AppSetting, SIMULATED_KEY)
    if row is None:
        session.add(AppSetting(key=SIMULATED_KEY, value=new_date.isoformat()))
        return True
    if row.value and date.fromisoformat(row.value) >= new_date:
        return False
    row.value = new_date.isoformat()
    return True


def set_simulated_date(
    ctx: AppContext,
    new_date: date,
    *,
    progress: Any | Callable[[int, int], Any] | None = None,
) -> RenewalSummary:
    """Move a demo database's clock forward to ``new_date`` and run everything due on the way.

    Needs :attr:`Action.MOVE_CLOCK` (admins and trainers, demo databases only).
    The clock never goes back (``ValidationError("clock_backwards")``). The date
    moves along with the renewal engine, day by day as events are processed;
    see :func:`billing_desktop.services.renewal.advance`.
    """
    from billing_desktop.domain.errors import ValidationError
    from billing_desktop.domain.text import QT_TRANSLATE_NOOP
    from billing_desktop.services.auth import Action, authorize
    from billing_desktop.services.renewal import advance

    authorize(ctx, Action.MOVE_CLOCK)
    stored = ctx.db.setting(SIMULATED_KEY)
    current = date.fromisoformat(stored) if stored else ctx.clock.today()
    if new_date < current:
        raise ValidationError(
            "clock_backwards",
            QT_TRANSLATE_NOOP(
                "ServiceError",
                "The clock can only move forward: {date} is before the current date {today}.",
            ),
            date=new_date,
            today=current,
        )
    return advance(ctx, new_date, progress=progress)
