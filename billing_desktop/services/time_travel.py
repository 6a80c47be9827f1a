"""The trainer's clock (issue 7 item 2): move a demo database's date forward and say what happened.

A demo database runs on a simulated date (:mod:`billing_desktop.services.clock`).
:func:`move_clock` is the one call behind the clock control: it moves the date
forward by running the renewal engine (:func:`billing_desktop.services.renewal.advance`)
up to the new date — the engine moves the clock along, day by day — and returns
a :class:`ClockSummary` of what happened to whom (renewed, trials expired,
cancelled, invoiced, emailed…), ready to be listed. :func:`next_event` finds
where "to next event" goes; :func:`upcoming` lists what the next moves will do,
with the amount each renewal will bill.

Refused, with nothing changed: a real database (it has no simulated time,
:class:`NoSimulatedTime`), a date that is not after today (the clock never
moves backwards, and a move to today does nothing), and a role without
:attr:`~billing_desktop.services.auth.Action.MOVE_CLOCK`.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from billing_desktop.domain.errors import ValidationError
from billing_desktop.domain.money import Money
from billing_desktop.domain.periods import add_months
from billing_desktop.domain.text import QT_TRANSLATE_NOOP
from billing_desktop.services.auth import Action, authorize
from billing_desktop.services.clock import SIMULATED_KEY
from billing_desktop.services.errors import ServiceError
from billing_desktop.services.renewal import (
    EventFailure,
    EventKind,
    RenewalCancelled,
    RenewalItem,
    RenewalSummary,
    UpcomingEvent,
    advance,
    renewal_previews,
    upcoming_events,
)

if TYPE_CHECKING:
    from billing_desktop.services.context import AppContext
    from billing_desktop.services.demo import Progress

__all__ = [
    "NEXT_EVENT_KINDS",
    "ClockItem",
    "ClockSummary",
    "Happening",
    "NextEvent",
    "NoSimulatedTime",
    "UpcomingItem",
    "move_clock",
    "next_event",
    "next_event_date",
    "one_day_later",
    "one_month_later",
    "simulated_today",
    "upcoming",
]

#: how far one move may take the clock: a date years away would run every renewal
#: of every year on the way (and dates near 9999 cannot be computed at all)
MAX_YEARS_AHEAD = 10

#: the events "to next event" stops at (issue 7: renewal, trial end, cancellation end,
#: term end); notices, overdue invoices and data retention happen on the way
NEXT_EVENT_KINDS = frozenset(
    {
        EventKind.RENEWAL,
        EventKind.TRIAL_EXPIRY,
        EventKind.CANCELLATION_END,
        EventKind.TERM_RENEWAL,
    }
)


class NoSimulatedTime(ServiceError):
    """The database is a real one: its date is the computer's, it cannot be moved."""

    def __init__(self) -> None:
        super().__init__(
            "no_simulated_time",
            QT_TRANSLATE_NOOP(
                "ServiceError",
                "This is a real database: it has no simulated time, so its clock cannot be "
                "moved. Open a demo database to move the clock.",
            ),
        )


class Happening(StrEnum):
    """The groups of a clock summary, in the order they are listed."""

    RENEWED = "renewed"
    TRIAL_EXPIRED = "trial_expired"
    CANCELLED = "cancelled"
    INVOICED = "invoiced"
    EMAILED = "emailed"
    TERM_RENEWED = "term_renewed"
    OVERDUE = "overdue"
    MARKED_FOR_DELETION = "marked_for_deletion"


#: what each engine event appears as (a renewal also as an invoice and an email)
_HAPPENING = {
    EventKind.RENEWAL: Happening.RENEWED,
    EventKind.TRIAL_EXPIRY: Happening.TRIAL_EXPIRED,
    EventKind.CANCELLATION_END: Happening.CANCELLED,
    EventKind.TERM_RENEWAL: Happening.TERM_RENEWED,
    EventKind.INVOICE_OVERDUE: Happening.OVERDUE,
    EventKind.DATA_RETENTION: Happening.MARKED_FOR_DELETION,
}


@dataclass(frozen=True, slots=True)
class ClockItem:
    """One thing that happened while the clock moved, to one account."""

    kind: Happening
    date: date
    account_id: int
    account_number: str
    company_name: str
    product: str | None = None
    subscription_id: int | None = None
    #: invoiced (and renewed): the invoice, its status (``paid``/``open``) and total
    invoice_number: str | None = None
    invoice_status: str | None = None
    amount: Money | None = None
    #: renewed / term renewed: the end of the new period or term (None: the last one)
    until: date | None = None
    #: emailed: the email's kind (``renewal_invoice``, ``trial_ending``, ``trial_ended``),
    #: its recipient and row id
    email_kind: str | None = None
    email_to: str | None = None
    email_id: int | None = None
    #: overdue: how many of the account's invoices fell overdue that day
    overdue: int = 0


@dataclass(frozen=True, slots=True)
class ClockSummary:
    """What one move of the clock did; ``items`` in the order things happened."""

    #: the date before the move …
    moved_from: date
    #: … the date asked for …
    requested: date
    #: … and the date now (the one asked for, unless the run was cancelled midway)
    clock: date
    #: the trainer cancelled: what was done until then is kept, the clock stopped at ``clock``
    cancelled: bool
    items: tuple[ClockItem, ...]
    #: events that failed (left out, retried by the next move)
    failures: tuple[EventFailure, ...]
    #: the engine's own summary (counts)
    run: RenewalSummary

    def of(self, kind: Happening | str) -> tuple[ClockItem, ...]:
        """The items of one group, in the order they happened."""
        kind = Happening(kind)
        return tuple(item for item in self.items if item.kind is kind)

    def groups(self) -> list[tuple[Happening, tuple[ClockItem, ...]]]:
        """The groups that have items, in :class:`Happening` order."""
        return [(kind, found) for kind in Happening if (found := self.of(kind))]

    @property
    def invoiced(self) -> int:
        return len(self.run.invoices)

    @property
    def billed(self) -> tuple[Money, ...]:
        """Total invoiced, one amount per currency (sorted by currency code)."""
        return self.run.billed

    @property
    def emails(self) -> int:
        return self.run.emails

    @property
    def is_empty(self) -> bool:
        return not self.items and not self.failures


@dataclass(frozen=True, slots=True)
class NextEvent:
    """Where "to next event" goes: the date and what happens on it."""

    date: date
    #: the events of :data:`NEXT_EVENT_KINDS` on that date, in processing order
    events: tuple[UpcomingEvent, ...]


@dataclass(frozen=True, slots=True)
class UpcomingItem:
    """One row of the upcoming-events panel."""

    event: UpcomingEvent
    #: renewals: the total of the invoice it will issue (as things stand now)
    amount: Money | None = None


# --------------------------------------------------------------------------- dates


def simulated_today(ctx: AppContext) -> date:
    """The demo database's date (the stored simulated date), else the context's today."""
    value = ctx.db.setting(SIMULATED_KEY)
    return date.fromisoformat(value) if value else ctx.clock.today()


def one_day_later(ctx: AppContext) -> date:
    """Where "+1 day" goes."""
    return simulated_today(ctx) + timedelta(days=1)


def one_month_later(ctx: AppContext) -> date:
    """Where "+1 month" goes: the same day next month (Jan 31 → Feb 28/29)."""
    return add_months(simulated_today(ctx), 1)


# --------------------------------------------------------------------------- looking ahead


def next_event(ctx: AppContext) -> NextEvent | None:
    """The first date after today with a renewal, trial end, cancellation end or term end.

    Read from :func:`~billing_desktop.services.renewal.upcoming_events`
    (the engine's own view of what is due), asking for more events until one
    of those kinds turns up after today — notices and overdue invoices may
    come first — or nothing more is due. None when nothing of the kind lies ahead.
    """
    authorize(ctx, Action.VIEW)
    today = simulated_today(ctx)
    limit = 20
    while True:
        events = upcoming_events(ctx, limit=limit)
        ahead = [e for e in events if e.date > today and e.kind in NEXT_EVENT_KINDS]
        exhausted = len(events) < limit
        if ahead:
            first = ahead[0].date
            # every event of that date is in the list once a later one is (or all are)
            if exhausted or events[-1].date > first:
                return NextEvent(first, tuple(e for e in ahead if e.date == first))
        elif exhausted:
            return None
        limit *= 2


def next_event_date(ctx: AppContext) -> date | None:
    """The date "to next event" moves the clock to (see :func:`next_event`)."""
    found = next_event(ctx)
    return found.date if found is not None else None


def upcoming(ctx: AppContext, limit: int = 30) -> list[UpcomingItem]:
    """What the next moves of the clock will do, earliest first, with renewal amounts."""
    events = upcoming_events(ctx, limit=limit)
    renewals = [e.subscription_id for e in events if e.kind is EventKind.RENEWAL]
    amounts = renewal_previews(ctx, [sid for sid in renewals if sid is not None])
    return [
        UpcomingItem(
            e,
            amounts.get(e.subscription_id)
            if e.kind is EventKind.RENEWAL and e.subscription_id
            else None,
        )
        for e in events
    ]


# --------------------------------------------------------------------------- moving


def move_clock(
    ctx: AppContext,
    to_date: date,
    progress: Progress | Callable[[int, int], Any] | None = None,
) -> ClockSummary:
    """Move the demo database's clock forward to ``to_date``, running everything due on the way.

    One call for the clock control's worker thread. ``progress`` (a
    :class:`~billing_desktop.services.demo.Progress`, a ``TaskProgress`` or a
    ``(done, total)`` callable) is told after each of the engine's
    transactions; when its ``cancelled`` flag is set the engine stops between
    two events and the summary says so (``cancelled``, the clock on the last
    day fully done). Raises :class:`NoSimulatedTime` on a real database,
    ``ValidationError("clock_not_forward")`` for a date not after today,
    ``ValidationError("clock_too_far")`` for one more than
    :data:`MAX_YEARS_AHEAD` years ahead, and
    ``PermissionDenied`` for a role that may not move the clock; nothing changes then.
    """
    if not isinstance(to_date, date) or isinstance(to_date, datetime):
        raise TypeError(f"to_date must be a datetime.date, not {type(to_date).__name__}")
    if not ctx.is_demo:
        raise NoSimulatedTime()
    authorize(ctx, Action.MOVE_CLOCK)
    today = simulated_today(ctx)
    if to_date <= today:
        raise ValidationError(
            "clock_not_forward",
            QT_TRANSLATE_NOOP(
                "ServiceError",
                "The clock only moves forward: choose a date after {today}, not {date}.",
            ),
            today=today,
            date=to_date,
        )
    latest = add_months(today, 12 * MAX_YEARS_AHEAD)
    if to_date > latest:
        raise ValidationError(
            "clock_too_far",
            QT_TRANSLATE_NOOP(
                "ServiceError",
                "The clock moves at most {years} years at a time: choose a date until "
                "{latest}, not {date}.",
            ),
            years=MAX_YEARS_AHEAD,
            latest=latest,
            date=to_date,
        )
    emails_before = int(ctx.db.reader.scalar("SELECT coalesce(max(id), 0) FROM emails") or 0)
    cancelled = False
    try:
        run = advance(ctx, to_date, progress=progress, details=True)
    except RenewalCancelled as stop:
        run, cancelled = stop.summary, True
    clock = run.clock or simulated_today(ctx)
    return ClockSummary(
        moved_from=today,
        requested=to_date,
        clock=clock,
        cancelled=cancelled,
        items=_items(ctx, run.items, emails_before),
        failures=run.failures,
        run=run,
    )


def _items(
    ctx: AppContext, done: tuple[RenewalItem, ...], emails_before: int
) -> tuple[ClockItem, ...]:
    """The engine's items with names, split into what each looks like to a trainer.

    A renewal is three things (renewed, invoiced, emailed); a trial's end two
    (expired, emailed). Emails are matched to the rows the run queued, per
    account and kind in order, for their recipient.
    """
    if not done:
        return ()
    accounts = _names(
        ctx,
        "SELECT id, account_number, company_name FROM accounts WHERE id IN ({ids})",
        {item.account_id for item in done},
    )
    products = _names(
        ctx,
        "SELECT s.id, p.name FROM subscriptions s JOIN products p ON p.id = s.product_id "
        "WHERE s.id IN ({ids})",
        {item.subscription_id for item in done if item.subscription_id is not None},
    )
    queued: dict[tuple[int, str], deque[tuple[int, str]]] = defaultdict(deque)
    if any(item.email for item in done):
        for email_id, account_id, kind, to_address in ctx.db.reader.rows(
            "SELECT id, account_id, kind, to_address FROM emails WHERE id > :before ORDER BY id",
            {"before": emails_before},
        ):
            queued[(account_id, kind)].append((email_id, to_address))
    out: list[ClockItem] = []
    for item in done:
        number, company = accounts.get(item.account_id, (str(item.account_id), ""))
        common: dict[str, Any] = {
            "date": item.date,
            "account_id": item.account_id,
            "account_number": number,
            "company_name": company,
            "product": products.get(item.subscription_id) if item.subscription_id else None,
            "subscription_id": item.subscription_id,
        }
        if item.kind is EventKind.TRIAL_ENDING_NOTICE:
            pass  # only an email
        else:
            out.append(
                ClockItem(
                    _HAPPENING[item.kind],
                    **common,
                    invoice_number=item.invoice_number,
                    invoice_status=item.invoice_status,
                    amount=item.amount,
                    until=item.until,
                    overdue=item.overdue,
                )
            )
        if item.invoice_number is not None:
            out.append(
                ClockItem(
                    Happening.INVOICED,
                    **common,
                    invoice_number=item.invoice_number,
                    invoice_status=item.invoice_status,
                    amount=item.amount,
                )
            )
        if item.email is not None:
            email_id, to_address = (None, None)
            rows = queued.get((item.account_id, item.email.value))
            if rows:
                email_id, to_address = rows.popleft()
            out.append(
                ClockItem(
                    Happening.EMAILED,
                    **common,
                    invoice_number=item.invoice_number,
                    email_kind=item.email.value,
                    email_to=to_address,
                    email_id=email_id,
                )
            )
    return tuple(out)


def _names(ctx: AppContext, sql: str, ids: set[int]) -> dict[int, Any]:
    """``{id: rest of the row}`` of ``sql`` over ``ids`` (a few hundred per query)."""
    found: dict[int, Any] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        part = ordered[start : start + 500]
        params = {f"i{n}": value for n, value in enumerate(part)}
        marks = ", ".join(f":{key}" for key in params)
        for row in ctx.db.reader.rows(sql.format(ids=marks), params):
            found[row[0]] = tuple(row[1:]) if len(row) > 2 else row[1]
    return found
