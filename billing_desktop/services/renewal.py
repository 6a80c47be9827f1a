"""The renewal engine (SPEC §5; issue 3 item 8): everything that happens because time passes.

:func:`advance` processes every due event up to a date, in date order, across
all accounts:

=====================  ====================================================================
event                  what happens on its date
=====================  ====================================================================
cancellation end       a pending cancellation reaches ``cancellation_effective``: status
                       ``cancelled``, ``ended_on``, the live-subscription count drops and
                       the product appears under *Discover other products*. A
                       month-to-month subscription that is active with auto-renew off
                       ends the same way at its period end.
term renewal           a fixed-term agreement reaches ``term_end`` without having been
                       cancelled in time: ``term_start``/``term_end`` move by
                       ``term_months`` (also for a cancellation made inside the 30-day
                       window, whose ``cancellation_effective`` lies in the renewed term).
renewal                an active subscription reaches ``period_end``: a new period starting
                       there (anchored at ``anchor_date``), a *renewal* invoice with the
                       lines of :func:`~billing_desktop.services.billing_lines.period_bill`
                       issued by :func:`~billing_desktop.services.invoicing.issue_invoice`
                       (credit, autopay, corporate terms), one *renewal invoice* email
                       saying whether the amount was charged (autopay) or is due by when
                       (no separate *payment received* email for an autopay charge).
                       A *cancellation pending* subscription keeps being billed for the
                       periods that start before its effective end (a fixed term
                       cancelled online, a renewed term), the last one shortened; a
                       period already billed on an early-termination invoice (assisted
                       cancellation, line kind ``termination``) only moves on.
trial expiry           ``trial_end`` reached: status ``trial_expired``, no charge,
                       *trial ended* email. A trial becomes paid only through checkout.
trial-ending notice    :data:`TRIAL_NOTICE_DAYS` days before ``trial_end``, once per trial
                       (not for a trial the customer cancelled): *trial ending* email.
invoice overdue        the day after an open invoice's due date: the account totals are
                       refreshed (``oldest_due_date`` drives the overdue status); nothing else.
data retention         :func:`~billing_desktop.domain.policies.data_deletion_date` of a
                       cancelled subscription: one audit entry ``data.marked_for_deletion``
                       (nothing is deleted).
=====================  ====================================================================

Order and dates. Events run in ``(date, kind, account, subscription)`` order,
so invoice numbers follow issue dates across accounts. Billing and status
changes happen on their own date even when a run catches up late (an invoice
is dated its period start); the two notices (trial ending, data retention) are
never back-dated before the run: a late one is done on the run's first day.

Transactions. Events are processed in chunks of at most :data:`CHUNK_EVENTS`
events (:data:`PER_EVENT_CHUNK` on the per-event path) or :data:`CHUNK_SECONDS`
seconds of processing per transaction (short enough not to hold the write lock
long: about a second): a chunk commits whole or not at all, so every event is
all or nothing. An event that fails (a price missing from the catalog, an
invalid VAT number…) is left out, reported in :attr:`RenewalSummary.failures`
and retried by the next run, and the others go ahead.

Two ways to run a chunk, with the same result row for row (a test compares
them). On SQLite the *bulk path* (:data:`BULK`) loads what the chunk's events
read with a few queries, processes the events in order in memory with the
same domain functions (lines, VAT, credit, autopay, numbers, email texts,
audit values) and writes the chunk's rows with one ``executemany`` per table;
an event whose computation fails is simply not applied. The *per-event path*
(other databases, ``BULK = False``) runs each event through the ORM and
:func:`~billing_desktop.services.invoicing.issue_invoice`, one flush per
event; if an event fails, the chunk is rolled back and replayed with a
savepoint per event (savepoints are too slow to use always) so only the
failing event is left out. The bulk path falls back to that careful replay
if writing its rows fails.

Every event is recognised from the data itself (a subscription whose
``period_end`` is due, a trial whose ``trial_end`` passed, a notice
without its audit entry), so after a crash or a cancelled run the next run
simply continues, and running twice to the same date changes nothing more.
The setting ``renewal.processed_through`` records the last date all of whose
events are done; it bounds the overdue scan and is what the panel shows.

Clock. On a demo database the run moves the simulated clock along with it
(``clock.today`` = the last date fully processed, ending at ``to_date``), so
a cancelled run leaves the clock on a consistent day. A real database only
runs up to today.

Who. ``advance`` needs :attr:`Action.RUN_RENEWALS` on a real database and
:attr:`Action.MOVE_CLOCK` on a demo database. The engine acts as the operator
who ran it: its audit entries carry that operator, stamped with the event's
date (the simulated date in a demo).
"""

from __future__ import annotations

import dataclasses
import heapq
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from billing_desktop.domain.errors import DomainError, ValidationError
from billing_desktop.domain.money import Money
from billing_desktop.domain.periods import (
    Frequency,
    Period,
    add_months,
    months_between,
    next_period,
    period_at,
    term_end,
)
from billing_desktop.domain.policies import (
    DATA_RETENTION_DAYS,
    blocks_plan_change,
    data_deletion_date,
)
from billing_desktop.domain.tax import VatTreatment, vat_treatment
from billing_desktop.domain.text import QT_TRANSLATE_NOOP
from billing_desktop.services import audit
from billing_desktop.services.auth import Action, authorize
from billing_desktop.services.billing_lines import period_bill
from billing_desktop.services.catalog import shipped_catalog
from billing_desktop.services.clock import SIMULATED_KEY, FixedClock, store_simulated_date
from billing_desktop.services.demo import Cancelled, Progress
from billing_desktop.services.invoicing import (
    CORPORATE_TERMS_DAYS,
    SELF_SERVICE_GRACE_DAYS,
    DraftLine,
    account_vat,
    figures_for_account,
    invoice_figures,
    issue_invoice,
    method_summary,
    payable_method,
    vat_rates,
)
from billing_desktop.services.mail import (
    SIGNATURE,
    EmailKind,
    PlainRenderer,
    _Missing,
    fill,
    plain_value,
    queue_email,
    template_for,
    template_values,
    tidy,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from billing_desktop.services.context import AppContext
    from billing_desktop.store.models import Account, Subscription

__all__ = [
    "BULK",
    "CHUNK_EVENTS",
    "CHUNK_SECONDS",
    "PER_EVENT_CHUNK",
    "PROCESSED_KEY",
    "TRIAL_NOTICE_DAYS",
    "DiscoverItem",
    "EventFailure",
    "EventKind",
    "RenewalCancelled",
    "RenewalItem",
    "RenewalSummary",
    "UpcomingEvent",
    "advance",
    "discover_products",
    "next_event_date",
    "processed_through",
    "renewal_previews",
    "upcoming_events",
]

#: app_settings key: the last date whose events are all processed (ISO date)
PROCESSED_KEY = "renewal.processed_through"
#: the "trial ending" email goes out this many days before ``trial_end``
TRIAL_NOTICE_DAYS = 3
#: at most this many events per transaction …
CHUNK_EVENTS = 10_000
#: … or this many on the per-event path (a few milliseconds each) …
PER_EVENT_CHUNK = 200
#: … and a transaction stops taking new events after this many seconds
CHUNK_SECONDS = 1.0
#: run chunks on the bulk path on SQLite (see "Transactions" above); False: per event
BULK = True
#: the progress stage shown while the engine runs
STAGE = QT_TRANSLATE_NOOP("Progress", "Running renewals")

#: the logger ``queue_email`` reports a failing renderer to
mail_log = logging.getLogger("billing_desktop.mail")

NOTICE_ACTION = "trial.ending_notice"
RETENTION_ACTION = "data.marked_for_deletion"


class EventKind(StrEnum):
    """What happens on an event's date; the order is the processing order within a day."""

    CANCELLATION_END = "cancellation_end"
    TERM_RENEWAL = "term_renewal"
    RENEWAL = "renewal"
    TRIAL_EXPIRY = "trial_expiry"
    TRIAL_ENDING_NOTICE = "trial_ending_notice"
    INVOICE_OVERDUE = "invoice_overdue"
    DATA_RETENTION = "data_retention"


_RANK = {kind: rank for rank, kind in enumerate(EventKind)}
_ZERO = Decimal(0)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class EventFailure:
    """An event that could not be processed; it was rolled back and is retried next run."""

    date: date
    kind: EventKind
    account_number: str
    subscription_id: int | None
    message: str


@dataclass(frozen=True, slots=True)
class RenewalItem:
    """One event a run processed, as the trainer's summary lists it (``advance(details=True)``).

    Recorded from the event's outcome once its transaction has committed, the
    same on the bulk and the per-event path. Names (account, product) are not
    kept here: the caller reads them for the few items it shows.
    """

    date: date
    kind: EventKind
    account_id: int
    #: the subscription, or None for an overdue event (which concerns the account)
    subscription_id: int | None
    #: the renewal invoice issued (renewals), and its status (``paid`` or ``open``)
    invoice_number: str | None = None
    invoice_status: str | None = None
    #: that invoice's total
    amount: Money | None = None
    #: the email queued for it (trial ending, trial ended, renewal invoice)
    email: EmailKind | None = None
    #: renewals: the end of the period (or term) now running; None when none follows
    until: date | None = None
    #: overdue events: how many open invoices fell overdue
    overdue: int = 0


@dataclass(frozen=True, slots=True)
class RenewalSummary:
    """What one run of the engine did."""

    #: the run covered the days after this date …
    started_after: date
    #: … up to and including this one
    through: date
    events: int
    renewed: int
    #: renewal invoices issued, in issue order
    invoices: tuple[str, ...]
    invoices_paid: int
    invoices_open: int
    #: total of the renewal invoices, one amount per currency
    billed: tuple[Money, ...]
    terms_renewed: int
    trials_expired: int
    trial_notices: int
    cancellations_ended: int
    #: open invoices that fell overdue during the run
    invoices_overdue: int
    marked_for_deletion: int
    emails: int
    failures: tuple[EventFailure, ...]
    #: the simulated date after the run (demo databases), else None
    clock: date | None = None
    #: every event processed, in processing order (only with ``advance(details=True)``)
    items: tuple[RenewalItem, ...] = ()

    def describe(self) -> str:
        """One English line for the command line and logs."""
        billed = ", ".join(f"{m.amount:,} {m.currency}" for m in self.billed) or "nothing"
        text = (
            f"Renewals through {self.through.isoformat()}: {self.events} events; "
            f"{self.renewed} renewed ({len(self.invoices)} invoices: {self.invoices_paid} paid, "
            f"{self.invoices_open} open; billed {billed}), {self.terms_renewed} terms renewed, "
            f"{self.trials_expired} trials expired, {self.trial_notices} trial-ending notices, "
            f"{self.cancellations_ended} cancellations ended, {self.invoices_overdue} invoices "
            f"overdue, {self.marked_for_deletion} marked for deletion; "
            f"{self.emails} emails queued"
        )
        if self.failures:
            text += f"; {len(self.failures)} events failed"
        return text + "."


class RenewalCancelled(Cancelled):
    """The run was cancelled between two events; what was done is kept (``summary``)."""

    def __init__(self, summary: RenewalSummary) -> None:
        super().__init__(f"renewal run cancelled after {summary.events} events")
        self.summary = summary


@dataclass(frozen=True, slots=True)
class UpcomingEvent:
    """One future (or due, not yet processed) event, for the trainer's panel."""

    date: date
    kind: EventKind
    account_id: int
    account_number: str
    company_name: str
    product: str | None
    subscription_id: int | None
    invoice_number: str | None = None


@dataclass(frozen=True, slots=True)
class DiscoverItem:
    """A product listed under *Discover other products* for an account."""

    product_code: str
    product_name: str
    family: str
    description: str
    #: ``never_bought`` or ``cancelled``
    reason: str
    #: when the last subscription of it ended (cancelled products)
    ended_on: date | None
    #: when that subscription's data is marked for deletion (cancelled products)
    data_deletion_date: date | None
    can_buy: bool
    #: why it cannot be bought now (English template, ``QT_TRANSLATE_NOOP`` marked)
    blocked_code: str | None = None
    blocked_message: str | None = None
    blocked_params: dict[str, object] = field(default_factory=dict, hash=False)


# --------------------------------------------------------------------------- progress


class _Progress:
    """Adapts a :class:`~billing_desktop.services.demo.Progress` or a ``(done, total)`` callable."""

    def __init__(self, target: Progress | Callable[[int, int], Any] | None) -> None:
        self._target = target

    @property
    def cancelled(self) -> bool:
        return bool(getattr(self._target, "cancelled", False))

    def update(self, done: int, total: int) -> None:
        target = self._target
        if target is None:
            return
        if hasattr(target, "update"):
            target.update(STAGE, done, total)
        else:
            target(done, total)


# --------------------------------------------------------------------------- settings


def _read_date(session: Session, key: str) -> date | None:
    from billing_desktop.store.models import AppSetting

    row = session.get(AppSetting, key)
    return date.fromisoformat(row.value) if row is not None and row.value else None


def _write_date(session: Session, key: str, value: date) -> None:
    from billing_desktop.store.models import AppSetting

    row = session.get(AppSetting, key)
    if row is None:
        session.add(AppSetting(key=key, value=value.isoformat()))
    elif row.value != value.isoformat():
        row.value = value.isoformat()


def processed_through(ctx: AppContext) -> date | None:
    """The last date whose events are all processed (None before the first run)."""
    value = ctx.db.setting(PROCESSED_KEY)
    return date.fromisoformat(value) if value else None


def _reading(ctx: AppContext) -> Any:
    """``services.base.reading``: a read whose database faults are the user's messages."""
    from billing_desktop.services.base import reading

    return reading(ctx)


def _default_cursor(ctx: AppContext) -> date:
    """Before the first run everything up to yesterday counts as done (the data was current)."""
    return ctx.clock.today() - timedelta(days=1)


# --------------------------------------------------------------------------- finding events


class _Due(NamedTuple):
    """An event; a tuple so the queue compares them fast: date, kind's rank, account, target.

    ``kind`` comes last and is decided by ``rank``, so it never changes an order.
    """

    date: date
    rank: int
    account_id: int
    #: the subscription, or the account for an overdue event
    target_id: int
    kind: EventKind


def _due(when: date, kind: EventKind, account_id: int, target_id: int) -> _Due:
    return _Due(when, _RANK[kind], account_id, target_id, kind)


def _markers(session: Session, action: str) -> set[int]:
    """Subscription ids named by the audit entries of ``action`` (the "once" markers)."""
    from billing_desktop.store.models import AuditEntry

    found: set[int] = set()
    for (raw,) in session.execute(select(AuditEntry.after_json).where(AuditEntry.action == action)):
        try:
            sub_id = json.loads(raw or "{}").get("subscription_id")
        except ValueError:
            continue
        if isinstance(sub_id, int):
            found.add(sub_id)
    return found


def _cap(
    stmt: Any, column: Any, until: date | None, limit: int | None, above: date | None = None
) -> Any:
    """Restrict ``stmt`` to ``above < column <= until``; the first ``limit`` rows by ``column``."""
    if until is not None:
        stmt = stmt.where(column <= until)
    if above is not None:
        stmt = stmt.where(column > above)
    if limit is not None:
        stmt = stmt.order_by(column).limit(limit)
    return stmt


def _find_events(
    session: Session,
    *,
    cursor: date,
    until: date | None,
    limit: int | None = None,
    after: date | None = None,
    notices_sent: set[int],
    marked: set[int],
) -> list[_Due]:
    """Every due event with a date up to ``until`` (all of them when ``until`` is None).

    ``limit`` takes only the first rows of each kind (the upcoming panel);
    ``after`` keeps only events dated after it (the next event).
    """
    from billing_desktop.store.models import Invoice
    from billing_desktop.store.models import Subscription as S

    events: list[_Due] = []
    first_day = cursor + timedelta(days=1)

    # active subscriptions at their period end: renewal, or the end when auto-renew is off
    stmt = select(S.id, S.account_id, S.period_end, S.auto_renew, S.contract).where(
        S.status == "active", S.period_end.is_not(None)
    )
    rows = session.execute(_cap(stmt, S.period_end, until, limit, after))
    for sid, aid, end, auto, contract in rows:
        renews = auto or contract == "fixed_term"
        kind = EventKind.RENEWAL if renews else EventKind.CANCELLATION_END
        events.append(_due(end, kind, aid, sid))

    # pending cancellations: billed periods before the effective end, then the end
    effective = func.coalesce(S.cancellation_effective, S.period_end)
    stmt = select(S.id, S.account_id, S.period_end).where(
        S.status == "cancellation_pending", S.period_end < effective
    )
    for sid, aid, end in session.execute(_cap(stmt, S.period_end, until, limit, after)):
        events.append(_due(end, EventKind.RENEWAL, aid, sid))
    stmt = select(S.id, S.account_id, effective).where(
        S.status == "cancellation_pending", effective.is_not(None)
    )
    for sid, aid, end in session.execute(_cap(stmt, effective, until, limit, after)):
        events.append(_due(end, EventKind.CANCELLATION_END, aid, sid))

    # fixed terms reaching their end (a late cancellation ends inside the renewed term)
    stmt = select(S.id, S.account_id, S.term_end).where(
        S.contract == "fixed_term",
        S.term_end.is_not(None),
        S.term_months.is_not(None),
        or_(
            S.status == "active",
            and_(S.status == "cancellation_pending", S.cancellation_effective > S.term_end),
        ),
    )
    for sid, aid, end in session.execute(_cap(stmt, S.term_end, until, limit, after)):
        events.append(_due(end, EventKind.TERM_RENEWAL, aid, sid))

    # trials
    trial_end = func.coalesce(S.trial_end, S.period_end)
    stmt = select(S.id, S.account_id, trial_end, S.period_start, S.cancel_requested_at).where(
        S.status == "trial", trial_end.is_not(None)
    )
    notice_until = until + timedelta(days=TRIAL_NOTICE_DAYS) if until is not None else None
    for sid, aid, end, start, cancel_requested in session.execute(
        # no limit: a later trial's notice may come before an earlier trial's end, and
        # notices already sent are only known here (live trials are few anyway)
        _cap(stmt, trial_end, notice_until, None, after)  # a notice comes before its end
    ):
        if until is None or end <= until:
            events.append(_due(end, EventKind.TRIAL_EXPIRY, aid, sid))
        if sid in notices_sent or cancel_requested is not None:
            continue
        notice = end - timedelta(days=TRIAL_NOTICE_DAYS)
        notice = max(notice, start or notice, first_day)  # not before the trial, nor the run
        if notice < end and (until is None or notice <= until):
            events.append(_due(notice, EventKind.TRIAL_ENDING_NOTICE, aid, sid))

    # invoices falling overdue (the day after the due date), one event per account and day
    stmt = (
        select(Invoice.account_id, Invoice.due_date)
        .where(Invoice.status == "open", Invoice.due_date >= cursor)
        .distinct()
    )
    overdue_until = until - timedelta(days=1) if until is not None else None
    overdue_above = after - timedelta(days=1) if after is not None else None
    for aid, due in session.execute(
        _cap(stmt, Invoice.due_date, overdue_until, limit, overdue_above)
    ):
        events.append(_due(due + timedelta(days=1), EventKind.INVOICE_OVERDUE, aid, aid))

    # data retention of cancelled subscriptions, once each
    stmt = select(S.id, S.account_id, S.ended_on).where(
        S.status == "cancelled", S.ended_on.is_not(None)
    )
    if until is None:
        stmt = stmt.where(S.ended_on >= cursor - timedelta(days=DATA_RETENTION_DAYS))
    if after is not None:
        stmt = stmt.where(S.ended_on > after - timedelta(days=DATA_RETENTION_DAYS))
    retention_until = until - timedelta(days=DATA_RETENTION_DAYS) if until is not None else None
    if limit is not None:
        stmt = _cap(stmt, S.ended_on, retention_until, limit + len(marked))
    elif retention_until is not None:
        stmt = stmt.where(S.ended_on <= retention_until)
    for sid, aid, ended in session.execute(stmt):
        if sid in marked:
            continue
        events.append(
            _due(max(data_deletion_date(ended), first_day), EventKind.DATA_RETENTION, aid, sid)
        )
    if after is not None:
        events = [e for e in events if e.date > after]
    return events


# --------------------------------------------------------------------------- the run


@dataclass
class _Tally:
    events: int = 0
    renewed: int = 0
    invoices: list[str] = field(default_factory=list)
    paid: int = 0
    open: int = 0
    #: per currency, the sum of the amounts (Decimal: quicker than adding Money)
    billed: dict[str, Decimal] = field(default_factory=dict)
    terms: int = 0
    trials: int = 0
    notices: int = 0
    cancellations: int = 0
    overdue: int = 0
    marked: int = 0
    emails: int = 0
    failures: list[EventFailure] = field(default_factory=list)
    items: list[RenewalItem] = field(default_factory=list)


@dataclass(slots=True)
class _Outcome:
    """What one event did; counted in the summary once its transaction has committed."""

    counter: str | None = None
    amount: Money | None = None
    invoice: tuple[str, str] | None = None  # number, status
    emails: int = 0
    overdue: int = 0
    follow_ups: list[_Due] = field(default_factory=list)
    notice_for: int | None = None
    marked: int | None = None
    #: the event it is the outcome of (set by ``_Engine._apply``)
    event: _Due | None = None


#: the email each kind of event queues (when its outcome counts one)
_EMAIL_OF = {
    EventKind.RENEWAL: EmailKind.RENEWAL_INVOICE,
    EventKind.TRIAL_EXPIRY: EmailKind.TRIAL_ENDED,
    EventKind.TRIAL_ENDING_NOTICE: EmailKind.TRIAL_ENDING,
}


def _item(outcome: _Outcome, event: _Due) -> RenewalItem:
    """The summary line of one committed event (both paths build the same ``_Outcome``)."""
    number, status = outcome.invoice or (None, None)
    until = None
    if event.kind in (EventKind.RENEWAL, EventKind.TERM_RENEWAL):
        # the follow-up of the same kind is due when the new period (or term) ends
        until = next((f.date for f in outcome.follow_ups if f.kind is event.kind), None)
    return RenewalItem(
        date=event.date,
        kind=event.kind,
        account_id=event.account_id,
        subscription_id=None if event.kind is EventKind.INVOICE_OVERDUE else event.target_id,
        invoice_number=number,
        invoice_status=status,
        amount=outcome.amount,
        email=_EMAIL_OF.get(event.kind) if outcome.emails else None,
        until=until,
        overdue=outcome.overdue,
    )


class _FastPathFailed(Exception):
    """An event failed in a chunk run without savepoints: replay the chunk carefully."""


def _recoverable(exc: Exception) -> bool:
    """Errors that concern one event (bad data, a conflict): skip it, keep the run going."""
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm.exc import StaleDataError

    return isinstance(exc, DomainError | LookupError | ValueError | IntegrityError | StaleDataError)


class _Engine:
    def __init__(
        self, ctx: AppContext, to_date: date, progress: _Progress, *, details: bool = False
    ) -> None:
        self.details = details
        self.undo: list[tuple[set[Any], Any]] = []
        self.uncommitted: list[_Outcome | EventFailure] = []
        self.ctx = ctx
        self.to_date = to_date
        self.progress = progress
        self.catalog = shipped_catalog()
        self.tally = _Tally()
        self.time_of_day = ctx.clock.now().time()
        self.heap: list[_Due] = []
        self.overdue_seen: set[tuple[int, date]] = set()
        self.bulk = BULK and ctx.db.target.is_sqlite
        self.moments: dict[date, tuple[datetime, str]] = {}
        #: bulk path: records of earlier chunks, valid while ``bulk_token`` is unchanged
        self.bulk_subs: dict[int, _SubRec] = {}
        self.bulk_accounts: dict[int, _AccountRec] = {}
        self.bulk_token: tuple[int, int, int] | None = None
        #: lines and figures per configuration (bulk path; the catalog is fixed for a run)
        self.figures: dict[tuple[Any, ...], _Figures] = {}
        self.contexts: dict[date, AppContext] = {}

    # -- driving ----------------------------------------------------------------------------

    def run(self) -> RenewalSummary:
        ctx = self.ctx
        with _reading(ctx) as session:
            stored = _read_date(session, PROCESSED_KEY)
            self.start_cursor = stored if stored is not None else _default_cursor(ctx)
            self.cursor = self.start_cursor
            self.notices_sent = _markers(session, NOTICE_ACTION)
            self.marked = _markers(session, RETENTION_ACTION)
            events = _find_events(
                session,
                cursor=self.cursor,
                until=self.to_date,
                notices_sent=self.notices_sent,
                marked=self.marked,
            )
            self.clock_before = _read_date(session, SIMULATED_KEY) if ctx.is_demo else None
        for event in events:
            self._push(event)
        self.total = self._estimate(events)
        done = 0
        self.progress.update(0, self.total)
        cancelled = False
        while self.heap:
            if self.progress.cancelled:
                cancelled = True
                break
            done += self._transaction()
            self.total = max(self.total, done + len(self.heap)) if self.heap else done
            self.progress.update(done, self.total)
        with ctx.db.transaction() as session:
            self._mark_progress(session, final=True)
        summary = self._summary()
        if cancelled:
            raise RenewalCancelled(summary)
        return summary

    def _transaction(self) -> int:
        """One chunk in one transaction; return the number of events it took.

        The chunk runs without savepoints (they cost more than the events on
        SQLite). If an event fails, the whole transaction is rolled back, the
        queue restored, and the same chunk replayed with one savepoint per
        event, so only the failing event is left out.
        """
        saved_heap = list(self.heap)
        self.undo = []
        self.uncommitted = []
        try:
            with self.ctx.db.transaction() as session:
                if self.bulk:
                    count = self._bulk_chunk(session)
                    self._mark_progress(session)
                    session.flush()
                    self.bulk_token = _records_token(
                        session.connection().connection.driver_connection
                    )
                else:
                    count = self._chunk(session, careful=False)
                    self._mark_progress(session)
        except _FastPathFailed:
            self.forget_records()  # changed in memory by the chunk that was rolled back
            self.heap = saved_heap
            for collection, key in reversed(self.undo):
                collection.discard(key)
            self.undo = []
            self.uncommitted = []
            with self.ctx.db.transaction() as session:
                count = self._chunk(session, careful=True)
                self._mark_progress(session)
        for item in self.uncommitted:
            self._count(item)
        self.uncommitted = []
        return count

    def forget_records(self) -> None:
        """Drop the bulk path's records (another writer, or a rolled-back chunk)."""
        self.bulk_subs.clear()
        self.bulk_accounts.clear()
        self.bulk_token = None

    def _estimate(self, events: Iterable[_Due]) -> int:
        """Events expected, counting the periods a late subscription will renew through."""
        total = 0
        for event in events:
            total += 1
            if event.kind is EventKind.RENEWAL:
                total += max(months_between(event.date, self.to_date), 0)
        return total

    def _push(self, event: _Due) -> None:
        if event.date <= self.to_date:
            heapq.heappush(self.heap, event)

    def _chunk(self, session: Session, *, careful: bool) -> int:
        """Process the next events in order within one transaction; return how many."""
        started = time.monotonic()
        size = min(CHUNK_EVENTS, PER_EVENT_CHUNK, len(self.heap))
        batch = [heapq.heappop(self.heap) for _ in range(size)]
        loaded = self._prefetch(session, batch)
        index = count = 0
        while index < len(batch):
            # a follow-up (pushed to the heap) may fall before the rest of the batch
            if self.heap and self.heap[0] < batch[index]:
                event = heapq.heappop(self.heap)
            else:
                event = batch[index]
                index += 1
            self._one(session, event, careful)
            count += 1
            if self.progress.cancelled or time.monotonic() - started > CHUNK_SECONDS:
                break
        for event in batch[index:]:  # not reached in this transaction: back to the queue
            heapq.heappush(self.heap, event)
        del loaded
        return count

    def _bulk_chunk(self, session: Session) -> int:
        """:meth:`_chunk` on the bulk path: the same events in the same order, rows in bulk."""
        started = time.monotonic()
        batch = [heapq.heappop(self.heap) for _ in range(min(CHUNK_EVENTS, len(self.heap)))]
        chunk = _BulkChunk(self, session, batch)
        index = count = 0
        while index < len(batch):
            if self.heap and self.heap[0] < batch[index]:
                event = heapq.heappop(self.heap)  # a follow-up of this chunk comes first
            else:
                event = batch[index]
                index += 1
            chunk.one(event)
            count += 1
            if self.progress.cancelled or time.monotonic() - started > CHUNK_SECONDS:
                break
        for event in batch[index:]:
            heapq.heappush(self.heap, event)
        try:
            chunk.write()
        except Exception as exc:
            if not _recoverable(exc):
                raise
            raise _FastPathFailed from exc  # replayed per event, with savepoints
        return count

    def _prefetch(self, session: Session, batch: list[_Due]) -> list[Any]:
        """Load the batch's subscriptions with everything a renewal reads, in a few queries.

        The caller keeps the returned objects for the transaction: the session
        only holds weak references, and a collected object would be loaded
        again, lazily, one relationship at a time.
        """
        from billing_desktop.store.models import Account, Subscription, SubscriptionAddon

        ids = sorted({e.target_id for e in batch if e.kind is not EventKind.INVOICE_OVERDUE})
        loaded: list[Any] = []
        for start in range(0, len(ids), 500):
            loaded += session.scalars(
                select(Subscription)
                .where(Subscription.id.in_(ids[start : start + 500]))
                .options(
                    joinedload(Subscription.account).options(
                        selectinload(Account.contacts), selectinload(Account.payment_methods)
                    ),
                    selectinload(Subscription.addons).joinedload(SubscriptionAddon.addon),
                    joinedload(Subscription.product),
                    joinedload(Subscription.plan),
                )
            ).unique().all()
        return loaded

    def _mark_progress(self, session: Session, final: bool = False) -> None:
        """Advance ``processed_through`` (and a demo's clock) to the last fully done date."""
        nxt = self.heap[0].date if self.heap else None
        done_through = self.to_date if nxt is None else min(nxt - timedelta(days=1), self.to_date)
        if done_through > self.cursor:
            _write_date(session, PROCESSED_KEY, done_through)
            self.cursor = done_through
        if self.ctx.is_demo:
            store_simulated_date(session, self.cursor)
        if final and (self.tally.events or self._clock_after() != self.clock_before):
            audit.record(
                session,
                self._at(self.cursor),
                "renewal.run",
                None,
                {"processed_through": self.start_cursor, "clock": self.clock_before},
                {
                    "processed_through": self.cursor,
                    "clock": self._clock_after(),
                    "events": self.tally.events,
                    "invoices": len(self.tally.invoices),
                    "failures": len(self.tally.failures),
                },
            )

    def _clock_after(self) -> date | None:
        if not self.ctx.is_demo:
            return None
        before = self.clock_before
        return self.cursor if before is None or self.cursor > before else before

    def _summary(self) -> RenewalSummary:
        t = self.tally
        return RenewalSummary(
            started_after=self.start_cursor,
            through=self.to_date,
            events=t.events,
            renewed=t.renewed,
            invoices=tuple(t.invoices),
            invoices_paid=t.paid,
            invoices_open=t.open,
            billed=tuple(Money(t.billed[c], c) for c in sorted(t.billed)),
            terms_renewed=t.terms,
            trials_expired=t.trials,
            trial_notices=t.notices,
            cancellations_ended=t.cancellations,
            invoices_overdue=t.overdue,
            marked_for_deletion=t.marked,
            emails=t.emails,
            failures=tuple(t.failures),
            clock=self._clock_after(),
            items=tuple(t.items),
        )

    # -- one event --------------------------------------------------------------------------

    def _at(self, day: date) -> AppContext:
        """The context as of ``day``: audit entries and emails carry the event's date."""
        found = self.contexts.get(day)
        if found is None:
            when = datetime.combine(day, self.time_of_day)
            found = self.contexts[day] = dataclasses.replace(self.ctx, clock=FixedClock(when))
        return found

    def _one(self, session: Session, event: _Due, careful: bool) -> None:
        handler = {
            EventKind.CANCELLATION_END: self._cancellation_end,
            EventKind.TERM_RENEWAL: self._term_renewal,
            EventKind.RENEWAL: self._renewal,
            EventKind.TRIAL_EXPIRY: self._trial_expiry,
            EventKind.TRIAL_ENDING_NOTICE: self._trial_notice,
            EventKind.INVOICE_OVERDUE: self._overdue,
            EventKind.DATA_RETENTION: self._retention,
        }[event.kind]
        ectx = self._at(event.date)
        try:
            if careful:
                with session.begin_nested():
                    outcome = handler(session, event, ectx)
            else:
                outcome = handler(session, event, ectx)
                # one flush per event (as a savepoint does): every event that changes a row
                # moves its version on by one, whatever the chunk (the bulk path counts alike)
                session.flush()
        except Exception as exc:
            if not _recoverable(exc):
                raise
            if not careful:
                raise _FastPathFailed from exc
            self.uncommitted.append(self._failure(session, event, exc))
            return
        if outcome is not None:  # None: no longer due (done already, or changed since)
            self._apply(outcome, event)

    def _failure(self, session: Session, event: _Due, exc: Exception) -> EventFailure:
        from billing_desktop.store.models import Account

        account = session.get(Account, event.account_id)
        return EventFailure(
            date=event.date,
            kind=event.kind,
            account_number=account.account_number if account else str(event.account_id),
            subscription_id=None if event.kind is EventKind.INVOICE_OVERDUE else event.target_id,
            message=str(exc),
        )

    def _remember(self, collection: set[Any], key: Any) -> bool:
        """Add ``key`` to ``collection`` (undone if the transaction is replayed); False if there."""
        if key in collection:
            return False
        collection.add(key)
        self.undo.append((collection, key))
        return True

    def _apply(self, outcome: _Outcome, event: _Due) -> None:
        """Queue the follow-ups at once (they may be due in this chunk); count at commit."""
        outcome.event = event
        if outcome.notice_for is not None:
            self._remember(self.notices_sent, outcome.notice_for)
        if outcome.marked is not None:
            self._remember(self.marked, outcome.marked)
        for follow in outcome.follow_ups:
            if follow.kind is EventKind.INVOICE_OVERDUE and not self._remember(
                self.overdue_seen, (follow.account_id, follow.date)
            ):
                continue
            self._push(follow)
        self.uncommitted.append(outcome)

    def _count(self, item: _Outcome | EventFailure) -> None:
        t = self.tally
        if isinstance(item, EventFailure):
            t.failures.append(item)
            return
        t.events += 1
        if item.counter:
            setattr(t, item.counter, getattr(t, item.counter) + 1)
        if item.invoice:
            number, status = item.invoice
            t.invoices.append(number)
            if status == "paid":
                t.paid += 1
            else:
                t.open += 1
        if item.amount is not None:
            cur = item.amount.currency
            t.billed[cur] = t.billed.get(cur, _ZERO) + item.amount.amount
        t.emails += item.emails
        t.overdue += item.overdue
        if self.details and item.event is not None:
            t.items.append(_item(item, item.event))

    def _subscription(self, session: Session, event: _Due) -> Subscription | None:
        from billing_desktop.store.models import Subscription

        return session.get(Subscription, event.target_id)

    # -- handlers (in the chunk's transaction; return None when nothing is due any more) ---

    def _renewal(self, session: Session, event: _Due, ectx: AppContext) -> _Outcome | None:
        sub = self._subscription(session, event)
        if sub is None or sub.period_end != event.date:
            return None
        d = event.date
        if sub.status == "active":
            if not (sub.auto_renew or sub.contract == "fixed_term"):
                return None
            period = _following_period(sub)
            effective = None
        elif sub.status == "cancellation_pending":
            effective = sub.cancellation_effective or sub.period_end
            if d >= effective:
                return None
            period = _following_period(sub)
            if period.end > effective:
                period = Period(d, effective)
        else:
            return None
        account = sub.account
        before = audit.snapshot(sub, "period_start", "period_end")
        outcome = _Outcome(counter="renewed")
        # cancelled add-ons whose end has come are not billed any more: they end now
        ending = [sa for sa in sub.addons if sa.active and _addon_ended(sa.ends_on, period)]
        for sa in ending:
            sa.active = False
        ended = {"addons_ended": sorted(sa.addon.code for sa in ending)} if ending else {}
        if effective is not None and _termination_billed(session, sub, d):
            # the early-termination invoice already covers this period: it only moves on
            sub.period_start, sub.period_end = period.start, period.end
            audit.record(
                session, ectx, "subscription.period_advanced", account.id, before,
                {"period_start": period.start, "period_end": period.end,
                 "subscription_id": sub.id, "billed_on": "termination invoice", **ended},
            )
        else:
            lines = self._lines(sub, account, period)
            figures = figures_for_account(account, lines)
            invoice = issue_invoice(
                session, account, figures, kind="renewal", issued_at=ectx.clock.now(),
                period=period, charge=True,
            )
            sub.period_start, sub.period_end = period.start, period.end
            audit.record(
                session, ectx, "subscription.renewed", account.id, before,
                {
                    "period_start": period.start,
                    "period_end": period.end,
                    "subscription_id": sub.id,
                    "invoice": invoice.number,
                    "total": str(figures.total.amount),
                    "currency": figures.currency,
                    "invoice_status": invoice.status,
                    **ended,
                },
            )
            params: dict[str, Any] = {
                "product": sub.product.name,
                "period": period,
                "invoice_number": invoice.number,
                "total": figures.total,
                "amount_due": Money.from_minor(invoice.due_minor, invoice.currency),
            }
            method = payable_method(account)
            if invoice.status == "paid" and figures.amount_due.is_positive and method:
                params["charged_to"] = method_summary(method)
            elif invoice.status == "open":
                params["due_date"] = invoice.due_date
            queue_email(session, ectx, account, EmailKind.RENEWAL_INVOICE, params)
            outcome.invoice = (invoice.number, invoice.status)
            outcome.amount = figures.total
            outcome.emails = 1
            if invoice.status == "open":
                outcome.follow_ups.append(
                    _due(
                        invoice.due_date + timedelta(days=1),
                        EventKind.INVOICE_OVERDUE, account.id, account.id,
                    )
                )
        if effective is None or period.end < effective:
            outcome.follow_ups.append(_due(period.end, EventKind.RENEWAL, account.id, sub.id))
        return outcome

    def _lines(self, sub: Subscription, account: Account, period: Period) -> list[DraftLine]:
        """The period's invoice lines: plan × licences and each active add-on (SPEC §2);
        an add-on that ends by the period's start is no longer active (``_renewal``)."""
        product = self.catalog.product(sub.product.code)
        plan = product.plan(sub.plan.code)
        addons = [product.addon(sa.addon.code) for sa in sub.addons if sa.active]
        bill = period_bill(
            product, plan, addons, sub.licence_count, account.currency, sub.frequency,
            account_vat(account),
        )
        full = _full_period(sub, period.start)
        scale = _share(period, full, Frequency(sub.frequency))
        lines = []
        for line in bill.lines:
            unit = line.unit_price if scale is None else line.unit_price.scaled(*scale)
            lines.append(
                DraftLine(
                    kind=line.kind,
                    description=line.description,
                    quantity=line.quantity,
                    unit_price=unit,
                    amount=unit * line.quantity,
                    subscription_id=sub.id,
                    period=period,
                )
            )
        return lines

    def _term_renewal(self, session: Session, event: _Due, ectx: AppContext) -> _Outcome | None:
        sub = self._subscription(session, event)
        if (
            sub is None
            or sub.contract != "fixed_term"
            or sub.term_end != event.date
            or not sub.term_months
        ):
            return None
        if sub.status == "cancellation_pending":
            if not (sub.cancellation_effective and sub.cancellation_effective > sub.term_end):
                return None
        elif sub.status != "active":
            return None
        before = audit.snapshot(sub, "term_start", "term_end")
        new_end = _next_term_end(sub)
        sub.term_start, sub.term_end = sub.term_end, new_end
        audit.record(
            session, ectx, "subscription.term_renewed", sub.account_id, before,
            {"term_start": sub.term_start, "term_end": sub.term_end, "subscription_id": sub.id,
             "term_months": sub.term_months},
        )
        return _Outcome(
            counter="terms",
            follow_ups=[_due(new_end, EventKind.TERM_RENEWAL, sub.account_id, sub.id)],
        )

    def _cancellation_end(
        self, session: Session, event: _Due, ectx: AppContext
    ) -> _Outcome | None:
        from billing_desktop.store.totals import refresh_account_totals

        sub = self._subscription(session, event)
        if sub is None:
            return None
        d = event.date
        if sub.status == "cancellation_pending":
            if (sub.cancellation_effective or sub.period_end) != d:
                return None
        elif sub.status == "active":
            # auto-renew off on a month-to-month plan: it runs out at its period end
            if sub.auto_renew or sub.contract == "fixed_term" or sub.period_end != d:
                return None
        else:
            return None
        before = audit.snapshot(sub, "status", "auto_renew", "ended_on")
        sub.status = "cancelled"
        sub.auto_renew = False
        sub.ended_on = d
        refresh_account_totals(session, sub.account)
        audit.record(
            session, ectx, "subscription.cancelled", sub.account_id, before,
            {"status": sub.status, "auto_renew": False, "ended_on": d, "subscription_id": sub.id,
             "data_deletion_date": data_deletion_date(d)},
        )
        return _Outcome(
            counter="cancellations",
            follow_ups=[
                _due(data_deletion_date(d), EventKind.DATA_RETENTION, sub.account_id, sub.id)
            ],
        )

    def _trial_expiry(self, session: Session, event: _Due, ectx: AppContext) -> _Outcome | None:
        from billing_desktop.store.totals import refresh_account_totals

        sub = self._subscription(session, event)
        if sub is None or sub.status != "trial" or (sub.trial_end or sub.period_end) != event.date:
            return None
        before = audit.snapshot(sub, "status", "auto_renew", "ended_on")
        sub.status = "trial_expired"
        sub.auto_renew = False
        sub.ended_on = event.date
        refresh_account_totals(session, sub.account)
        audit.record(
            session, ectx, "subscription.trial_expired", sub.account_id, before,
            {"status": sub.status, "auto_renew": False, "ended_on": event.date,
             "subscription_id": sub.id},
        )
        queue_email(
            session, ectx, sub.account, EmailKind.TRIAL_ENDED,
            {"product": sub.product.name, "trial_end": event.date},
        )
        return _Outcome(counter="trials", emails=1)

    def _trial_notice(self, session: Session, event: _Due, ectx: AppContext) -> _Outcome | None:
        sub = self._subscription(session, event)
        if (
            sub is None
            or sub.status != "trial"
            or sub.id in self.notices_sent
            or sub.cancel_requested_at is not None
        ):
            return None
        ends = sub.trial_end or sub.period_end
        if ends is None or ends <= event.date:
            return None
        queue_email(
            session, ectx, sub.account, EmailKind.TRIAL_ENDING,
            {"product": sub.product.name, "trial_end": ends},
        )
        audit.record(
            session, ectx, NOTICE_ACTION, sub.account_id, None,
            {"subscription_id": sub.id, "trial_end": ends, "email": EmailKind.TRIAL_ENDING.value},
        )
        return _Outcome(counter="notices", emails=1, notice_for=sub.id)

    def _overdue(self, session: Session, event: _Due, ectx: AppContext) -> _Outcome | None:
        from billing_desktop.store.models import Account, Invoice
        from billing_desktop.store.totals import refresh_account_totals

        fell_due = event.date - timedelta(days=1)
        count = session.scalar(
            select(func.count())
            .select_from(Invoice)
            .where(
                Invoice.account_id == event.account_id,
                Invoice.status == "open",
                Invoice.due_date == fell_due,
            )
        )
        if not count:
            return None
        account = session.get(Account, event.account_id)
        if account is None:
            return None
        refresh_account_totals(session, account)
        return _Outcome(overdue=int(count))

    def _retention(self, session: Session, event: _Due, ectx: AppContext) -> _Outcome | None:
        sub = self._subscription(session, event)
        if sub is None or sub.status != "cancelled" or sub.ended_on is None:
            return None
        deletion = data_deletion_date(sub.ended_on)
        if sub.id in self.marked or deletion > event.date:
            return None
        audit.record(
            session, ectx, RETENTION_ACTION, sub.account_id, None,
            {"subscription_id": sub.id, "product": sub.product.code, "ended_on": sub.ended_on,
             "data_deletion_date": deletion},
        )
        return _Outcome(counter="marked", marked=sub.id)


# --------------------------------------------------------------------------- the bulk path
#
# The same handlers as ``_Engine``'s, on plain in-memory records (loaded with a
# few queries per chunk, and kept for the next chunk while nothing else writes),
# writing rows instead of ORM objects. Each handler first computes
# everything that can fail (prices, VAT, periods) and only then changes the
# records, so a failing event leaves nothing behind. What the ORM path's
# helpers write is mirrored here column for column:
# ``issue_invoice`` (number, due date, credit, autopay payment, status — a
# paid invoice is version 2, as the ORM writes it open and then updates it),
# ``refresh_account_totals`` (open amounts, oldest due date, live
# subscriptions), ``queue_email`` (billing contact, renderer, fallback) and
# ``audit.record``. Versions move on by one per event that changes a row (the
# per-event path flushes once per event); ids are the next ones in event order,
# as SQLite hands them out. ``test_bulk_path_writes_exactly_the_per_event_rows``
# runs both paths on twin databases and compares every row.

#: ids per ``IN`` list (one query per table for a whole chunk)
_IN_CHUNK = CHUNK_EVENTS
#: records kept between chunks, at most (then loaded afresh)
_CACHE_LIMIT = 250_000


@dataclass(slots=True)
class _SubRec:
    """The subscription columns the handlers read and write (names as on the model)."""

    id: int
    account_id: int
    status: str
    auto_renew: bool
    contract: str
    frequency: str
    licence_count: int
    anchor_date: date | None
    period_start: date | None
    period_end: date | None
    term_months: int | None
    term_start: date | None
    term_end: date | None
    trial_end: date | None
    cancel_requested_at: datetime | None
    cancellation_effective: date | None
    ended_on: date | None
    version: int
    product_code: str
    product_name: str
    plan_code: str
    addon_codes: list[str] = field(default_factory=list)
    #: (subscription_addons.id, ends_on) of each active add-on, in the same order
    addon_rows: list[tuple[int, date | None]] = field(default_factory=list)
    #: (period_start, period_end) of its termination lines on invoices that are not void,
    #: read when a renewal of it needs them (None: not yet)
    termination: list[tuple[date | None, date | None]] | None = None
    changed: bool = False
    loaded_version: int = 0


@dataclass(slots=True)
class _Method:
    id: int
    kind: str
    brand: str | None
    last4: str | None
    is_default: bool
    #: ``method_summary`` of it ("Visa •••• 4242")
    summary: str = ""


@dataclass(frozen=True, slots=True)
class _Contact:
    full_name: str
    email: str
    is_billing_contact: bool = True


@dataclass(slots=True)
class _AccountRec:
    """The account columns the handlers read and write, and its open invoices."""

    id: int
    account_number: str
    company_name: str
    type: str
    country: str
    language: str
    currency: str
    vat_number: str | None
    credit_balance_minor: int
    outstanding_minor: int
    oldest_due_date: date | None
    active_subscriptions: int
    autopay: bool
    payment_terms_days: int | None
    po_number: str | None
    version: int
    contacts: list[_Contact] = field(default_factory=list)
    payment_methods: list[_Method] = field(default_factory=list)
    #: open invoices: sum of what is due, and how many fall due on each date
    open_sum: int = 0
    open_dues: dict[date, int] = field(default_factory=dict)
    live: int = 0
    changed: bool = False
    loaded_version: int = 0
    #: the four figures as the row holds them (only those that differ are written)
    stored: tuple[Any, ...] = ()
    #: ``account_vat`` of the account, once asked
    vat: VatTreatment | None = None
    #: ``payable_method`` of the account (it does not change during a run), once asked
    method: _Method | None = None
    method_known: bool = False

    def payable(self) -> _Method | None:
        if not self.method_known:
            self.method, self.method_known = payable_method(self), True  # type: ignore[arg-type]
        return self.method

    def figures(self) -> tuple[Any, ...]:
        return (
            self.credit_balance_minor, self.outstanding_minor, self.oldest_due_date,
            self.active_subscriptions,
        )  # fmt: skip

    def refresh(self) -> None:
        """``refresh_account_totals``: one version step if a figure changed."""
        figures = (self.open_sum, min(self.open_dues) if self.open_dues else None, self.live)
        if figures != (self.outstanding_minor, self.oldest_due_date, self.active_subscriptions):
            self.outstanding_minor, self.oldest_due_date, self.active_subscriptions = figures
            self.version += 1
            self.changed = True


def _records_token(raw: Any) -> tuple[int, int, int]:
    """What changes when anything but this engine writes between two of its chunks.

    ``data_version`` moves when another connection commits; ``total_changes``
    when anyone else uses this (pooled) connection to change rows; and another
    connection from the pool is another id.
    """
    version = raw.execute("PRAGMA data_version").fetchone()[0]
    return id(raw), version, raw.total_changes


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), _IN_CHUNK):
        yield ordered[start : start + _IN_CHUNK]


class _BulkChunk:
    """One chunk of the bulk path: load, process events in order, write the rows."""

    def __init__(self, engine: _Engine, session: Session, batch: list[_Due]) -> None:
        self.engine = engine
        self.ctx = engine.ctx
        self.catalog = engine.catalog
        self.conn = session.connection()
        #: the transaction's own sqlite3 connection: no statement compiling, no row wrapping
        self.raw = self.conn.connection.driver_connection
        #: rows to insert per table, as tuples in the order of :data:`_COLUMNS`
        self.rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in _COLUMNS}
        self.next_id = {name: self._max_id(name) + 1 for name in _COLUMNS}
        self.series: dict[str, list[int]] = {}  # prefix → [next number, number when loaded]
        #: subscription_addons that ended (set inactive)
        self.addons_ended: list[int] = []
        # records loaded by earlier chunks are still exact if nothing else has written since
        # (checked under the write lock, see ``_records_token``); else they are loaded anew
        if (
            _records_token(self.raw) != engine.bulk_token
            or len(engine.bulk_subs) > _CACHE_LIMIT
        ):
            engine.forget_records()
        self.subs: dict[int, _SubRec] = engine.bulk_subs
        self.accounts: dict[int, _AccountRec] = engine.bulk_accounts
        self.handlers = {
            EventKind.CANCELLATION_END: self._cancellation_end,
            EventKind.TERM_RENEWAL: self._term_renewal,
            EventKind.RENEWAL: self._renewal,
            EventKind.TRIAL_EXPIRY: self._trial_expiry,
            EventKind.TRIAL_ENDING_NOTICE: self._trial_notice,
            EventKind.INVOICE_OVERDUE: self._overdue,
            EventKind.DATA_RETENTION: self._retention,
        }
        self.operator_id = self.ctx.operator.id
        self.renderer = getattr(self.ctx, "renderer", None) or _PLAIN  # as ``queue_email``
        self._load(batch)

    def _max_id(self, table: str) -> int:
        return int(self.raw.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0])

    def _new_id(self, table: str) -> int:
        """The id SQLite would give the next row of ``table`` (rows go in in event order)."""
        new = self.next_id[table]
        self.next_id[table] = new + 1
        return new

    # -- loading ----------------------------------------------------------------------------

    def _load(self, batch: list[_Due]) -> None:
        """What the batch's events read and is not loaded yet, one query per table.

        Plain SQLite SQL: dates come back as the ISO text SQLAlchemy stores and
        are parsed here.
        """
        from billing_desktop.store.totals import LIVE_STATUSES

        day, moment = _date_of, _datetime_of
        known_subs, known_accounts = self.subs, self.accounts
        new_subs: dict[int, _SubRec] = {}
        new_accounts: dict[int, _AccountRec] = {}
        sub_ids = {
            e.target_id
            for e in batch
            if e.kind is not EventKind.INVOICE_OVERDUE and e.target_id not in known_subs
        }
        for row in self._rows(
            "SELECT s.id, s.account_id, s.status, s.auto_renew, s.contract, s.frequency, "
            "s.licence_count, s.anchor_date, s.period_start, s.period_end, s.term_months, "
            "s.term_start, s.term_end, s.trial_end, s.cancel_requested_at, "
            "s.cancellation_effective, s.ended_on, s.version, p.code, p.name, pl.code "
            "FROM subscriptions s JOIN products p ON p.id = s.product_id "
            "JOIN plans pl ON pl.id = s.plan_id WHERE s.id IN ({ids})",
            sub_ids,
        ):
            (sid, aid, status, auto, contract, freq, licences, anchor, start, end, months,
             t_start, t_end, trial, requested, effective, ended, version, *names) = row
            new_subs[sid] = _SubRec(
                sid, aid, status, bool(auto), contract, freq, licences, day(anchor), day(start),
                day(end), months, day(t_start), day(t_end), day(trial), moment(requested),
                day(effective), day(ended), version, *names, loaded_version=version,
            )  # fmt: skip
        for sid, code, sa_id, ends_on in self._rows(  # the order of ``Subscription.addons``
            "SELECT sa.subscription_id, a.code, sa.id, sa.ends_on FROM subscription_addons sa "
            "JOIN addons a ON a.id = sa.addon_id "
            "WHERE sa.subscription_id IN ({ids}) AND sa.active = 1 "
            "ORDER BY sa.subscription_id, sa.addon_id",
            new_subs,
        ):
            new_subs[sid].addon_codes.append(code)
            new_subs[sid].addon_rows.append((sa_id, day(ends_on)))

        account_ids = {e.account_id for e in batch} | {s.account_id for s in new_subs.values()}
        account_ids -= known_accounts.keys()
        for row in self._rows(
            "SELECT id, account_number, company_name, type, country, language, currency, "
            "vat_number, credit_balance_minor, outstanding_minor, oldest_due_date, "
            "active_subscriptions, autopay, payment_terms_days, po_number, version "
            "FROM accounts WHERE id IN ({ids})",
            account_ids,
        ):
            (aid, number, name, kind, country, language, currency, vat_number, credit,
             outstanding, oldest, live, autopay, terms, po, version) = row
            account = new_accounts[aid] = _AccountRec(
                aid, number, name, kind, country, language, currency, vat_number, credit,
                outstanding, day(oldest), live, bool(autopay), terms, po, version,
                loaded_version=version,
            )  # fmt: skip
            account.stored = account.figures()
        # sorted here: an ORDER BY id would make SQLite scan the whole table
        for _cid, aid, first, last, email in sorted(self._rows(
            "SELECT id, account_id, first_name, last_name, email FROM contacts "
            "WHERE account_id IN ({ids}) AND is_billing_contact = 1",
            new_accounts,
        )):  # fmt: skip
            account = new_accounts[aid]
            if not account.contacts:  # ``queue_email`` takes the first billing contact
                account.contacts.append(_Contact(f"{first} {last}".strip(), email))
        for mid, aid, kind, brand, last4, default in sorted(self._rows(
            "SELECT id, account_id, kind, brand, last4, is_default FROM payment_methods "
            "WHERE account_id IN ({ids})",
            new_accounts,
        )):  # fmt: skip
            method = _Method(mid, kind, brand, last4, bool(default))
            method.summary = method_summary(method)  # type: ignore[arg-type]
            new_accounts[aid].payment_methods.append(method)
        # open invoices through the (status, due_date) index: the few open ones of the whole
        # database cost less to read than every invoice of the chunk's accounts (the
        # always-true range and "+ 0" steer SQLite's planner there)
        for aid, due, count, amount in self._rows(
            "SELECT account_id, due_date, count(*), "
            "sum(total_minor - credit_applied_minor - paid_minor) FROM invoices "
            "WHERE status = 'open' AND due_date >= '0001-01-01' AND account_id + 0 IN ({ids}) "
            "GROUP BY account_id, due_date",
            new_accounts,
        ):
            account = new_accounts[aid]
            account.open_dues[day(due)] = count
            account.open_sum += amount
        live_statuses = ", ".join(f"'{status}'" for status in LIVE_STATUSES)
        for aid, live in self._rows(
            "SELECT account_id, count(*) FROM subscriptions "
            f"WHERE account_id IN ({{ids}}) AND status IN ({live_statuses}) GROUP BY account_id",
            new_accounts,
        ):
            new_accounts[aid].live = live
        known_subs.update(new_subs)
        known_accounts.update(new_accounts)
        for prefix, number in self.raw.execute("SELECT prefix, next_number FROM invoice_series"):
            self.series[prefix] = [number, number]

    def _termination(self, sub: _SubRec) -> list[tuple[date | None, date | None]]:
        """What ``_termination_billed`` looks for: the periods of ``sub``'s termination lines.

        Read through its account's invoices (indexed), where a subscription's
        lines are; the query of the per-event path scans every line.
        """
        if sub.termination is None:
            sub.termination = [
                (_date_of(start), _date_of(end))
                for start, end in self.raw.execute(
                    "SELECT l.period_start, l.period_end FROM invoices i "
                    "JOIN invoice_lines l ON l.invoice_id = i.id "
                    "WHERE i.account_id = ? AND i.status <> 'void' "
                    "AND l.kind = 'termination' AND l.subscription_id = ?",
                    (sub.account_id, sub.id),
                )
            ]
        return sub.termination

    def _rows(self, sql: str, ids: Iterable[int]) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` whose ``{ids}`` is the list of ``ids`` (none: no rows)."""
        out: list[tuple[Any, ...]] = []
        for part in _chunks(ids):
            marks = ", ".join("?" * len(part))
            out += self.raw.execute(sql.format(ids=marks), part).fetchall()
        return out

    # -- one event --------------------------------------------------------------------------

    def one(self, event: _Due) -> None:
        try:
            outcome = self.handlers[event.kind](event)
        except Exception as exc:
            if not _recoverable(exc):
                raise
            account = self.accounts.get(event.account_id)
            self.engine.uncommitted.append(
                EventFailure(
                    date=event.date,
                    kind=event.kind,
                    account_number=account.account_number if account else str(event.account_id),
                    subscription_id=None
                    if event.kind is EventKind.INVOICE_OVERDUE
                    else event.target_id,
                    message=str(exc),
                )
            )
            return
        if outcome is not None:
            self.engine._apply(outcome, event)

    def _moment(self, day: date) -> tuple[datetime, str]:
        """When an event of ``day`` happens (the engine's ``_at``), and as stored."""
        found = self.engine.moments.get(day)
        if found is None:
            now = self.engine._at(day).clock.now()
            found = self.engine.moments[day] = (now, _datetime_text(now))
        return found

    def _audit(
        self, day: date, action: str, account_id: int | None,
        before: dict[str, Any] | None, after: dict[str, Any] | None,
    ) -> None:
        """``audit.record`` as a row."""
        self.rows["audit_entries"].append((
            self._new_id("audit_entries"), self._moment(day)[1], self.operator_id, account_id,
            None, action, _audit_json(before), _audit_json(after),
        ))  # fmt: skip

    def _email(
        self, day: date, account: _AccountRec, kind: EmailKind, params: dict[str, Any]
    ) -> None:
        """``queue_email`` as a row."""
        billing = account.contacts[0] if account.contacts else None
        values = {
            "contact_name": billing.full_name if billing else "",
            "account_number": account.account_number,
            "company_name": account.company_name,
            **params,
        }
        try:
            if self.renderer is _PLAIN and "summary" not in values:
                subject, body = _render_plain(kind, values)
            else:
                subject, body = self.renderer.email(kind, account.language, values)
        except Exception:
            mail_log.exception(
                "rendering a %s email in %r failed; using plain English", kind, account.language
            )
            subject, body = PlainRenderer().email(kind, account.language, values)
        self.rows["emails"].append((
            self._new_id("emails"), account.id, kind.value,
            billing.email if billing else "", "", subject[:300], body, account.language,
            "queued", self._moment(day)[1], 0,
        ))  # fmt: skip

    def _sub_and_account(self, event: _Due) -> tuple[_SubRec | None, _AccountRec | None]:
        sub = self.subs.get(event.target_id)
        if sub is None:
            return None, None
        return sub, self.accounts.get(sub.account_id)

    @staticmethod
    def _changed(sub: _SubRec) -> None:
        sub.version += 1
        sub.changed = True

    # -- handlers: the same rules as ``_Engine``'s ------------------------------------------

    def _renewal(self, event: _Due) -> _Outcome | None:
        sub, account = self._sub_and_account(event)
        if sub is None or account is None or sub.period_end != event.date:
            return None
        d = event.date
        if sub.status == "active":
            if not (sub.auto_renew or sub.contract == "fixed_term"):
                return None
            period = full = _following_period(sub)  # type: ignore[arg-type]
            effective = None
        elif sub.status == "cancellation_pending":
            effective = sub.cancellation_effective or sub.period_end
            if d >= effective:
                return None
            period = full = _following_period(sub)  # type: ignore[arg-type]
            if period.end > effective:
                period = Period(d, effective)
        else:
            return None
        text = _date_text
        old_start, old_end = text(sub.period_start), text(sub.period_end)
        outcome = _Outcome(counter="renewed")
        billed = effective is not None and any(
            (start is None or start <= d) and (end is None or end > d)
            for start, end in self._termination(sub)
        )
        # cancelled add-ons whose end has come are not billed any more: they end now
        ending = [
            i for i, (_id, ends) in enumerate(sub.addon_rows)
            if ends is not None and _addon_ended(ends, period)
        ] if sub.addon_rows else ()  # fmt: skip
        codes = sub.addon_codes
        ended = {}
        if ending:
            codes = [c for i, c in enumerate(codes) if i not in ending]
            ended = {"addons_ended": sorted(sub.addon_codes[i] for i in ending)}
        if billed:
            sub.period_start, sub.period_end = period.start, period.end
            self._changed(sub)
            self._audit(
                d, "subscription.period_advanced", account.id,
                {"period_start": old_start, "period_end": old_end},
                {"period_start": period.start, "period_end": period.end,
                 "subscription_id": sub.id, "billed_on": "termination invoice", **ended},
            )  # fmt: skip
        else:
            vat = _vat_of(account)  # may fail: nothing done yet
            figures = self._figures(sub, account, period, full, vat, codes)
            method = account.payable()
            number, status, due_minor, due_date = self._invoice(
                d, account, figures, vat.vat_number, period, sub, method
            )
            sub.period_start, sub.period_end = period.start, period.end
            self._changed(sub)
            if ended:  # rare: ``audit.record``'s JSON the plain way
                self._audit(
                    d, "subscription.renewed", account.id,
                    {"period_start": old_start, "period_end": old_end},
                    {"period_start": period.start, "period_end": period.end,
                     "subscription_id": sub.id, "invoice": number,
                     "total": figures.total_text, "currency": account.currency,
                     "invoice_status": status, **ended},
                )  # fmt: skip
            else:
                # the JSON ``audit.record`` writes (keys sorted, json's own string
                # escaping), put together here: this is the engine's most frequent entry
                enc = _json_text
                self.rows["audit_entries"].append((
                    self._new_id("audit_entries"), self._moment(d)[1], self.operator_id,
                    account.id, None, "subscription.renewed",
                    f'{{"period_end": {enc(old_end)}, "period_start": {enc(old_start)}}}',
                    f'{{"currency": {enc(account.currency)}, "invoice": {enc(number)}, '
                    f'"invoice_status": {enc(status)}, "period_end": {enc(text(period.end))}, '
                    f'"period_start": {enc(text(period.start))}, "subscription_id": {sub.id}, '
                    f'"total": {enc(figures.total_text)}}}',
                ))  # fmt: skip
            params: dict[str, Any] = {
                "product": sub.product_name,
                "period": period,
                "invoice_number": number,
                "total": figures.total,
                "amount_due": _money(due_minor, account.currency),
            }
            if status == "paid" and figures.amount_due > 0 and method:
                params["charged_to"] = method.summary
            elif status == "open":
                params["due_date"] = due_date
            self._email(d, account, EmailKind.RENEWAL_INVOICE, params)
            outcome.invoice = (number, status)
            outcome.amount = figures.total
            outcome.emails = 1
            if status == "open":
                outcome.follow_ups.append(
                    _due(
                        due_date + timedelta(days=1),
                        EventKind.INVOICE_OVERDUE, account.id, account.id,
                    )
                )  # fmt: skip
        if ending:
            self.addons_ended += [sub.addon_rows[i][0] for i in ending]
            sub.addon_codes = codes
            sub.addon_rows = [r for i, r in enumerate(sub.addon_rows) if i not in ending]
        if effective is None or period.end < effective:
            outcome.follow_ups.append(_due(period.end, EventKind.RENEWAL, account.id, sub.id))
        return outcome

    def _figures(
        self, sub: _SubRec, account: _AccountRec, period: Period, full: Period,
        vat: VatTreatment, addon_codes: list[str],
    ) -> _Figures:
        """``_Engine._lines`` and ``figures_for_account``, remembered per configuration.

        ``full`` is the whole period starting where ``period`` starts (what
        ``_Engine._lines`` computes again as ``_full_period(sub, period.start)``).
        The amounts depend on the VAT rate and reverse charge only, so accounts
        with different VAT numbers share them (the number itself is not read
        from the remembered figures).
        """
        scale = None if period is full else _share(period, full, Frequency(sub.frequency))
        key = (
            sub.product_code, sub.plan_code, tuple(addon_codes), sub.licence_count,
            account.currency, sub.frequency, vat.rate, vat.reverse_charge, scale,
            account.credit_balance_minor,
        )
        cache = self.engine.figures
        found = cache.get(key)
        if found is None:
            product = self.catalog.product(sub.product_code)
            plan = product.plan(sub.plan_code)
            addons = [product.addon(code) for code in addon_codes]
            bill = period_bill(
                product, plan, addons, sub.licence_count, account.currency, sub.frequency, vat
            )
            drafts = []
            for line in bill.lines:
                unit = line.unit_price if scale is None else line.unit_price.scaled(*scale)
                drafts.append(
                    DraftLine(line.kind, line.description, line.quantity, unit,
                              unit * line.quantity)
                )  # fmt: skip
            credit = Money.from_minor(account.credit_balance_minor, account.currency)
            figures = invoice_figures(drafts, vat, credit)
            found = cache[key] = _Figures(
                lines=tuple(
                    (ln.kind, ln.description, ln.quantity, ln.unit_price.minor, ln.amount.minor)
                    for ln in drafts
                ),
                subtotal=figures.subtotal.minor,
                vat_rate_bp=int((figures.vat_rate * 100).to_integral_value()),
                vat=figures.vat.minor,
                reverse_charge=figures.reverse_charge,
                total=figures.total,
                total_text=str(figures.total.amount),
                total_minor=figures.total.minor,
                credit_applied=figures.credit_applied.minor,
                amount_due=figures.amount_due.minor,
                credit_created=figures.credit_created.minor,
            )
        return found

    def _invoice(
        self,
        day: date,
        account: _AccountRec,
        figures: _Figures,
        vat_number: str | None,
        period: Period,
        sub: _SubRec,
        method: _Method | None,
    ) -> tuple[str, str, int, date]:
        """``issue_invoice(kind="renewal", charge=True)`` as rows; (number, status, due, date)."""
        issued = self._moment(day)[1]
        if account.type == "corporate":
            terms = account.payment_terms_days or CORPORATE_TERMS_DAYS
        else:
            terms = SELF_SERVICE_GRACE_DAYS
        prefix = f"INV-{day.year}"
        counter = self.series.setdefault(prefix, [1, 0])
        number = f"{prefix}-{counter[0]:06d}"
        counter[0] += 1
        invoice_id = self._new_id("invoices")
        currency = account.currency
        due_date = day + timedelta(days=terms)
        start, end = _date_text(period.start), _date_text(period.end)
        out_lines = self.rows["invoice_lines"]
        for position, (kind, description, quantity, unit, amount) in enumerate(
            figures.lines, start=1
        ):
            out_lines.append((
                self._new_id("invoice_lines"), invoice_id, position, kind, description, sub.id,
                start, end, quantity, unit, amount,
            ))  # fmt: skip
        credit_change, reason = 0, ""
        if figures.credit_applied > 0:
            credit_change, reason = -figures.credit_applied, f"Applied to {number}"
        if figures.credit_created > 0:
            credit_change, reason = figures.credit_created, f"Credit from {number}"
        if credit_change:
            account.credit_balance_minor += credit_change
            account.version += 1  # flushed with the payment, before the totals
            account.changed = True
            self.rows["credits"].append((
                self._new_id("credits"), account.id, invoice_id, currency, credit_change,
                reason, issued,
            ))  # fmt: skip
        paid = 0
        status = "open"
        if figures.amount_due == 0:
            status = "paid"
        elif method is not None:
            paid = figures.amount_due
            status = "paid"
            self.rows["payments"].append((
                self._new_id("payments"), account.id, invoice_id, method.id, currency, paid,
                issued, method.summary, number,
            ))  # fmt: skip
        corporate = account.type == "corporate"
        self.rows["invoices"].append((
            invoice_id, number, account.id, None, "renewal", _date_text(day),
            _date_text(due_date), start, end, currency, figures.subtotal, figures.vat_rate_bp,
            figures.vat, figures.reverse_charge, vat_number, figures.credit_applied,
            figures.total_minor, paid, status, account.language,
            account.po_number if corporate else None,
            # written open, then updated when paid (autopay, or nothing due): version 2
            2 if status == "paid" else 1,
        ))  # fmt: skip
        due_minor = figures.total_minor - figures.credit_applied - paid
        if status == "open":
            account.open_sum += due_minor
            account.open_dues[due_date] = account.open_dues.get(due_date, 0) + 1
        account.refresh()
        return number, status, max(due_minor, 0), due_date

    def _term_renewal(self, event: _Due) -> _Outcome | None:
        sub, _account = self._sub_and_account(event)
        if (
            sub is None
            or sub.contract != "fixed_term"
            or sub.term_end != event.date
            or not sub.term_months
        ):
            return None
        if sub.status == "cancellation_pending":
            if not (sub.cancellation_effective and sub.cancellation_effective > sub.term_end):
                return None
        elif sub.status != "active":
            return None
        before = {"term_start": sub.term_start, "term_end": sub.term_end}
        new_end = _next_term_end(sub)  # type: ignore[arg-type]
        sub.term_start, sub.term_end = sub.term_end, new_end
        self._changed(sub)
        self._audit(
            event.date, "subscription.term_renewed", sub.account_id, before,
            {"term_start": sub.term_start, "term_end": sub.term_end, "subscription_id": sub.id,
             "term_months": sub.term_months},
        )  # fmt: skip
        return _Outcome(
            counter="terms",
            follow_ups=[_due(new_end, EventKind.TERM_RENEWAL, sub.account_id, sub.id)],
        )

    def _cancellation_end(self, event: _Due) -> _Outcome | None:
        sub, account = self._sub_and_account(event)
        if sub is None or account is None:
            return None
        d = event.date
        if sub.status == "cancellation_pending":
            if (sub.cancellation_effective or sub.period_end) != d:
                return None
        elif sub.status == "active":
            if sub.auto_renew or sub.contract == "fixed_term" or sub.period_end != d:
                return None
        else:
            return None
        before = {"status": sub.status, "auto_renew": sub.auto_renew, "ended_on": sub.ended_on}
        sub.status, sub.auto_renew, sub.ended_on = "cancelled", False, d
        self._changed(sub)
        account.live -= 1
        account.refresh()
        self._audit(
            d, "subscription.cancelled", sub.account_id, before,
            {"status": sub.status, "auto_renew": False, "ended_on": d, "subscription_id": sub.id,
             "data_deletion_date": data_deletion_date(d)},
        )  # fmt: skip
        return _Outcome(
            counter="cancellations",
            follow_ups=[
                _due(data_deletion_date(d), EventKind.DATA_RETENTION, sub.account_id, sub.id)
            ],
        )

    def _trial_expiry(self, event: _Due) -> _Outcome | None:
        sub, account = self._sub_and_account(event)
        if (
            sub is None
            or account is None
            or sub.status != "trial"
            or (sub.trial_end or sub.period_end) != event.date
        ):
            return None
        before = {"status": sub.status, "auto_renew": sub.auto_renew, "ended_on": sub.ended_on}
        sub.status, sub.auto_renew, sub.ended_on = "trial_expired", False, event.date
        self._changed(sub)
        account.live -= 1
        account.refresh()
        self._audit(
            event.date, "subscription.trial_expired", sub.account_id, before,
            {"status": sub.status, "auto_renew": False, "ended_on": event.date,
             "subscription_id": sub.id},
        )  # fmt: skip
        self._email(
            event.date, account, EmailKind.TRIAL_ENDED,
            {"product": sub.product_name, "trial_end": event.date},
        )  # fmt: skip
        return _Outcome(counter="trials", emails=1)

    def _trial_notice(self, event: _Due) -> _Outcome | None:
        sub, account = self._sub_and_account(event)
        if (
            sub is None
            or account is None
            or sub.status != "trial"
            or sub.id in self.engine.notices_sent
            or sub.cancel_requested_at is not None
        ):
            return None
        ends = sub.trial_end or sub.period_end
        if ends is None or ends <= event.date:
            return None
        self._email(
            event.date, account, EmailKind.TRIAL_ENDING,
            {"product": sub.product_name, "trial_end": ends},
        )  # fmt: skip
        self._audit(
            event.date, NOTICE_ACTION, sub.account_id, None,
            {"subscription_id": sub.id, "trial_end": ends, "email": EmailKind.TRIAL_ENDING.value},
        )  # fmt: skip
        return _Outcome(counter="notices", emails=1, notice_for=sub.id)

    def _overdue(self, event: _Due) -> _Outcome | None:
        account = self.accounts.get(event.account_id)
        count = account.open_dues.get(event.date - timedelta(days=1), 0) if account else 0
        if not count or account is None:
            return None
        account.refresh()
        return _Outcome(overdue=count)

    def _retention(self, event: _Due) -> _Outcome | None:
        sub = self.subs.get(event.target_id)
        if sub is None or sub.status != "cancelled" or sub.ended_on is None:
            return None
        deletion = data_deletion_date(sub.ended_on)
        if sub.id in self.engine.marked or deletion > event.date:
            return None
        self._audit(
            event.date, RETENTION_ACTION, sub.account_id, None,
            {"subscription_id": sub.id, "product": sub.product_code, "ended_on": sub.ended_on,
             "data_deletion_date": deletion},
        )  # fmt: skip
        return _Outcome(counter="marked", marked=sub.id)

    # -- writing ----------------------------------------------------------------------------

    def write(self) -> None:
        """Every row of the chunk: one ``executemany`` per table, in the open transaction."""
        from sqlalchemy.orm.exc import StaleDataError

        raw = self.raw
        for table, columns in _COLUMNS.items():
            rows = self.rows[table]
            if rows:
                raw.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) "
                    f"VALUES ({', '.join('?' for _ in columns)})",
                    rows,
                )
        for prefix, (number, loaded) in self.series.items():
            if number == loaded:
                continue
            if loaded:
                raw.execute(
                    "UPDATE invoice_series SET next_number = ? WHERE prefix = ?", (number, prefix)
                )
            else:
                raw.execute(
                    "INSERT INTO invoice_series (prefix, next_number) VALUES (?, ?)",
                    (prefix, number),
                )
        if self.addons_ended:
            raw.executemany(
                "UPDATE subscription_addons SET active = 0 WHERE id = ?",
                [(sa_id,) for sa_id in self.addons_ended],
            )
        text = _date_text
        subs = [
            (s.status, s.auto_renew, text(s.ended_on), text(s.period_start),
             text(s.period_end), text(s.term_start), text(s.term_end), s.version, s.id,
             s.loaded_version)
            for s in self.subs.values()
            if s.changed
        ]  # fmt: skip
        # accounts: only the figures that differ (each indexed column costs an index update)
        by_columns: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        for a in self.accounts.values():
            if not a.changed:
                continue
            now = a.figures()
            which = tuple(i for i in range(4) if now[i] != a.stored[i])
            values = tuple(text(now[i]) if i == 2 else now[i] for i in which)
            by_columns.setdefault(tuple(_ACCOUNT_FIGURES[i] for i in which), []).append(
                (*values, a.version, a.id, a.loaded_version)
            )
        statements = [
            (
                "UPDATE subscriptions SET status = ?, auto_renew = ?, ended_on = ?, "
                "period_start = ?, period_end = ?, term_start = ?, term_end = ?, version = ? "
                "WHERE id = ? AND version = ?",
                subs,
            )
        ]
        for columns, params in by_columns.items():
            sets = "".join(f"{column} = ?, " for column in columns)
            statements.append(
                (f"UPDATE accounts SET {sets}version = ? WHERE id = ? AND version = ?", params)
            )
        for sql, params in statements:
            if params:
                changed = raw.executemany(sql, params).rowcount
                if changed != len(params):
                    raise StaleDataError(f"{len(params) - changed} rows changed meanwhile")
        # the records now match the rows (kept for the next chunk, see ``__init__``)
        for sub in self.subs.values():
            if sub.changed:
                sub.loaded_version, sub.changed = sub.version, False
        for account in self.accounts.values():
            if account.changed:
                account.loaded_version, account.changed = account.version, False
                account.stored = account.figures()


#: the account figures the engine changes, in the order of ``_AccountRec.figures``
_ACCOUNT_FIGURES = (
    "credit_balance_minor", "outstanding_minor", "oldest_due_date", "active_subscriptions",
)
#: the columns each inserted row gives, in order (the order rows go in: ids and references)
_COLUMNS: dict[str, tuple[str, ...]] = {
    "invoices": (
        "id", "number", "account_id", "order_id", "kind", "issue_date", "due_date",
        "period_start", "period_end", "currency", "subtotal_minor", "vat_rate_bp", "vat_minor",
        "reverse_charge", "vat_number", "credit_applied_minor", "total_minor", "paid_minor",
        "status", "language", "po_number", "version",
    ),
    "invoice_lines": (
        "id", "invoice_id", "position", "kind", "description", "subscription_id",
        "period_start", "period_end", "quantity", "unit_price_minor", "amount_minor",
    ),
    "credits": (
        "id", "account_id", "invoice_id", "currency", "amount_minor", "reason", "created_at",
    ),
    "payments": (
        "id", "account_id", "invoice_id", "payment_method_id", "currency", "amount_minor",
        "received_at", "method_summary", "reference",
    ),
    "emails": (
        "id", "account_id", "kind", "to_address", "cc_addresses", "subject", "body_text",
        "language", "status", "created_at", "attempts",
    ),
    "audit_entries": (
        "id", "at", "operator_id", "account_id", "requested_by_contact_id", "action",
        "before_json", "after_json",
    ),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Figures:
    """What an invoice of one configuration stores (minor units), and its total."""

    lines: tuple[tuple[str, str, int, int, int], ...]
    subtotal: int
    vat_rate_bp: int
    vat: int
    reverse_charge: bool
    total: Money
    #: ``str(total.amount)``, as the audit entry of a renewal holds it
    total_text: str
    total_minor: int
    credit_applied: int
    amount_due: int
    credit_created: int


_PLAIN = PlainRenderer()


def _render_plain(kind: EmailKind, values: dict[str, Any]) -> tuple[str, str]:
    """``PlainRenderer().email(kind, language, values)`` (no ``summary``): the same text.

    The steps of ``PlainRenderer.email`` with mail's own helpers, the values'
    texts remembered (they repeat). The per-event path renders through
    ``queue_email``; the test comparing both paths row for row covers the
    email texts.
    """
    subject, body = template_for(kind, values)
    texts = _Missing({
        key: value if type(value) is str else _plain_text(value)
        for key, value in template_values(values).items()
    })  # fmt: skip
    return fill(subject, texts).strip(), tidy(fill(body + SIGNATURE, texts))


def _plain_text(value: Any) -> str:
    """``mail.plain_value``, remembered for the values that repeat (amounts, periods, dates).

    Money is always quantized to its currency, so equal amounts print alike.
    """
    try:
        return _plain_remembered(value)
    except TypeError:  # not hashable
        return plain_value(value)


_plain_remembered = lru_cache(maxsize=8192)(plain_value)


#: ``audit.record``'s JSON
_audit_json = audit._dump


def _json_text(value: str | None) -> str:
    """A string (or None) as ``json.dumps(..., ensure_ascii=False)`` writes it."""
    return "null" if value is None else encode_basestring(value)


@lru_cache(maxsize=4096)
def _date_text(value: date | None) -> str | None:
    """A date as SQLAlchemy stores it on SQLite."""
    return None if value is None else value.isoformat()


def _datetime_text(value: datetime) -> str:
    """A datetime as SQLAlchemy stores it on SQLite (``2026-04-26 09:00:00.000000``)."""
    return value.isoformat(sep=" ", timespec="microseconds")


@lru_cache(maxsize=4096)
def _date_of(text: str | None) -> date | None:
    """A date column as SQLAlchemy stores it on SQLite (``2026-04-26``)."""
    return None if text is None else date.fromisoformat(text)


def _datetime_of(text: str | None) -> datetime | None:
    """A datetime column as SQLAlchemy stores it on SQLite (``2026-04-26 09:00:00.000000``)."""
    return None if text is None else datetime.fromisoformat(text)


def _vat_of(account: _AccountRec) -> VatTreatment:
    """``account_vat(account)``, kept on the record once known (a failure is not kept)."""
    if account.vat is None:
        account.vat = vat_treatment(account.country, account.vat_number, vat_rates())
    return account.vat


@lru_cache(maxsize=4096)
def _money(minor: int, currency: str) -> Money:
    return Money.from_minor(minor, currency)


# --------------------------------------------------------------------------- period rules


def _addon_ended(ends_on: date | None, period: Period) -> bool:
    """A cancelled add-on (``ends_on``, its first day without it) is not billed for a
    period starting on or after its end: it ends there (cancellation module, SPEC §3)."""
    return ends_on is not None and ends_on <= period.start


def _full_period(sub: Subscription, start: date) -> Period:
    """The whole billing period of ``sub`` starting on ``start`` (kept on the anchor)."""
    return _period_from(sub.anchor_date, sub.frequency, start)


@lru_cache(maxsize=65536)
def _period_from(anchor: date | None, frequency: str, start: date) -> Period:
    """:func:`_full_period` of a subscription with this anchor and frequency (pure, cached)."""
    freq = Frequency(frequency)
    if anchor is not None and anchor <= start:
        period = period_at(anchor, freq, start)
        if period.start == start:
            return period
    return next_period(start, freq)  # off the anchor (inconsistent data): restart here


def _following_period(sub: Subscription) -> Period:
    """The period after the current one: from ``period_end``, anchored at ``anchor_date``.

    SPEC §3: Jan 31 + 1 month = Feb 28/29, and the period after returns to the 31st.
    """
    assert sub.period_end is not None
    return _full_period(sub, sub.period_end)


def _share(part: Period, full: Period, freq: Frequency) -> tuple[int, int] | None:
    """The fraction of a full period's price a shortened last period costs (None: all of it).

    Whole months when the short period ends on a month boundary of its start
    (``amount × months ÷ months per period``, as the cancellation quote), else days.
    """
    if part.end >= full.end:
        return None
    months = months_between(part.start, part.end)
    if months and add_months(part.start, months) == part.end:
        return months, freq.months
    return part.days, full.days


def _next_term_end(sub: Subscription) -> date:
    """End of the next term: ``term_months`` more, kept on the anchor's day of the month."""
    assert sub.term_end is not None and sub.term_months
    anchor = sub.anchor_date
    if anchor is not None and anchor <= sub.term_end:
        offset = months_between(anchor, sub.term_end)
        if add_months(anchor, offset) == sub.term_end:
            return add_months(anchor, offset + sub.term_months)
    return term_end(sub.term_end, sub.term_months)


def _termination_billed(session: Session, sub: Subscription, day: date) -> bool:
    """Whether an early-termination invoice (not void) already bills ``sub`` on ``day``."""
    from billing_desktop.store.models import Invoice, InvoiceLine

    found = session.scalar(
        select(InvoiceLine.id)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(
            InvoiceLine.subscription_id == sub.id,
            InvoiceLine.kind == "termination",
            Invoice.status != "void",
            or_(InvoiceLine.period_start.is_(None), InvoiceLine.period_start <= day),
            or_(InvoiceLine.period_end.is_(None), InvoiceLine.period_end > day),
        )
        .limit(1)
    )
    return found is not None


# --------------------------------------------------------------------------- public API


def advance(
    ctx: AppContext,
    to_date: date,
    *,
    progress: Progress | Callable[[int, int], Any] | None = None,
    details: bool = False,
) -> RenewalSummary:
    """Process every due event up to and including ``to_date``, in date order.

    Idempotent: a second run to the same date finds nothing due and writes
    nothing. On a demo database the simulated clock moves along to
    ``to_date`` (never back); a real database refuses a date after today.
    ``progress`` (a :class:`~billing_desktop.services.demo.Progress` or a
    ``(done, total)`` callable) is told after each transaction; when its
    ``cancelled`` flag is set the run stops between two events and raises
    :class:`RenewalCancelled` with the summary of what was done (and kept).
    ``details`` also lists every event done in :attr:`RenewalSummary.items`
    (the trainer's summary; off for large command-line runs).
    """
    if not isinstance(to_date, date) or isinstance(to_date, datetime):
        raise TypeError(f"to_date must be a datetime.date, not {type(to_date).__name__}")
    authorize(ctx, Action.MOVE_CLOCK if ctx.is_demo else Action.RUN_RENEWALS)
    today = ctx.clock.today()
    if not ctx.is_demo and to_date > today:
        raise ValidationError(
            "renewal_date_in_future",
            QT_TRANSLATE_NOOP(
                "ServiceError",
                "Renewals can run only up to today ({today}) on a real database, not to {date}.",
            ),
            today=today,
            date=to_date,
        )
    return _Engine(ctx, to_date, _Progress(progress), details=details).run()


def _cursor_of(session: Session, ctx: AppContext) -> date:
    stored = _read_date(session, PROCESSED_KEY)
    return stored if stored is not None else _default_cursor(ctx)


def _pending(
    session: Session, ctx: AppContext, limit: int | None, after: date | None = None
) -> list[_Due]:
    cursor = _cursor_of(session, ctx)
    events = _find_events(
        session,
        cursor=cursor,
        until=None,
        limit=limit,
        after=after,
        notices_sent=_markers(session, NOTICE_ACTION),
        marked=_markers(session, RETENTION_ACTION),
    )
    return sorted(events)


def upcoming_events(ctx: AppContext, limit: int = 20) -> list[UpcomingEvent]:
    """The next ``limit`` events not processed yet, earliest first (due ones included)."""
    from billing_desktop.store.models import Account, Invoice, Product, Subscription

    authorize(ctx, Action.VIEW)
    with _reading(ctx) as session:
        events = _pending(session, ctx, limit)[:limit]
        account_ids = {e.account_id for e in events}
        sub_ids = {e.target_id for e in events if e.kind is not EventKind.INVOICE_OVERDUE}
        accounts = {
            aid: (number, name)
            for aid, number, name in session.execute(
                select(Account.id, Account.account_number, Account.company_name).where(
                    Account.id.in_(account_ids)
                )
            )
        }
        products = dict(
            session.execute(
                select(Subscription.id, Product.name)
                .join(Product, Product.id == Subscription.product_id)
                .where(Subscription.id.in_(sub_ids))
            ).all()
        )
        result = []
        for e in events:
            number, name = accounts.get(e.account_id, ("", ""))
            invoice_number = None
            if e.kind is EventKind.INVOICE_OVERDUE:
                invoice_number = session.scalar(
                    select(Invoice.number)
                    .where(
                        Invoice.account_id == e.account_id,
                        Invoice.status == "open",
                        Invoice.due_date == e.date - timedelta(days=1),
                    )
                    .order_by(Invoice.number)
                    .limit(1)
                )
            result.append(
                UpcomingEvent(
                    date=e.date,
                    kind=e.kind,
                    account_id=e.account_id,
                    account_number=number,
                    company_name=name,
                    product=None if e.kind is EventKind.INVOICE_OVERDUE else products.get(
                        e.target_id
                    ),
                    subscription_id=None
                    if e.kind is EventKind.INVOICE_OVERDUE
                    else e.target_id,
                    invoice_number=invoice_number,
                )
            )
        return result


def renewal_previews(ctx: AppContext, subscription_ids: Iterable[int]) -> dict[int, Money]:
    """The total of the invoice each subscription's next renewal will issue, as things stand.

    For the upcoming-events panel: the lines the engine will bill for the
    period after ``period_end`` (:meth:`_Engine._lines`: plan × licences,
    add-ons still running then, a pending cancellation's last period
    shortened), with the account's VAT. Subscriptions that will not be billed
    again (not renewing, a period already on an early-termination invoice)
    or whose amount cannot be computed (a price missing) are left out.
    """
    from billing_desktop.store.models import Subscription, SubscriptionAddon

    authorize(ctx, Action.VIEW)
    wanted = sorted(set(subscription_ids))
    if not wanted:
        return {}
    engine = _Engine(ctx, ctx.clock.today(), _Progress(None))
    result: dict[int, Money] = {}
    with _reading(ctx) as session, session.no_autoflush:
        subs = session.scalars(
            select(Subscription)
            .where(Subscription.id.in_(wanted))
            .options(
                joinedload(Subscription.account),
                selectinload(Subscription.addons).joinedload(SubscriptionAddon.addon),
                joinedload(Subscription.product),
                joinedload(Subscription.plan),
            )
        ).unique().all()
        for sub in subs:
            if sub.period_end is None:
                continue
            period = _following_period(sub)
            if sub.status == "active":
                if not (sub.auto_renew or sub.contract == "fixed_term"):
                    continue
            elif sub.status == "cancellation_pending":
                effective = sub.cancellation_effective or sub.period_end
                if sub.period_end >= effective or _termination_billed(
                    session, sub, sub.period_end
                ):
                    continue
                if period.end > effective:
                    period = Period(sub.period_end, effective)
            else:
                continue
            # as ``_Engine._renewal``: add-ons ending by then are not billed (in memory
            # only; this session is never flushed and rolls back when it closes)
            for sa in sub.addons:
                if sa.active and _addon_ended(sa.ends_on, period):
                    sa.active = False
            try:
                lines = engine._lines(sub, sub.account, period)
                result[sub.id] = figures_for_account(sub.account, lines).total
            except (DomainError, LookupError, ValueError):
                continue
        session.rollback()
    return result


def next_event_date(ctx: AppContext, after: date | None = None) -> date | None:
    """The date of the first event after ``after`` (default: today), for "next event"."""
    authorize(ctx, Action.VIEW)
    after = after or ctx.clock.today()
    with _reading(ctx) as session:
        events = _pending(session, ctx, 1, after=after)
        return events[0].date if events else None


def discover_products(ctx: AppContext, account_id: int | str) -> list[DiscoverItem]:
    """Products the account has no live or expired-trial subscription of (SPEC §3).

    Cancelled products (all their subscriptions cancelled) and products never
    bought are listed in catalog order, with whether each can be bought again
    now: not while an overdue invoice is open (SPEC §3 "what blocks a change"),
    nor when the catalog has no price in the account's currency.
    """
    from billing_desktop.services.base import get_account
    from billing_desktop.store.models import Invoice, Product

    authorize(ctx, Action.VIEW)
    today = ctx.clock.today()
    with _reading(ctx) as session:
        account = get_account(session, account_id)
        by_product: dict[int, list[Subscription]] = {}
        for sub in account.subscriptions:
            by_product.setdefault(sub.product_id, []).append(sub)
        overdue = session.scalar(
            select(func.count())
            .select_from(Invoice)
            .where(
                Invoice.account_id == account.id,
                Invoice.status == "open",
                Invoice.due_date < today,
            )
        )
        decision = blocks_plan_change(bool(overdue), account.status == "expired")
        catalog = shipped_catalog()
        items = []
        for product in session.scalars(select(Product).order_by(Product.sort_order, Product.id)):
            subs = by_product.get(product.id, [])
            if any(s.status != "cancelled" for s in subs):
                continue  # live, or an expired trial shown with Subscribe now
            ended = max((s.ended_on for s in subs if s.ended_on), default=None)
            code: str | None = None
            message: str | None = None
            params: dict[str, object] = {}
            if not _sold_in(catalog, product.code, account.currency):
                code = "no_price_in_currency"
                message = QT_TRANSLATE_NOOP("ServiceError", "{product} is not sold in {currency}.")
                params = {"product": product.name, "currency": account.currency}
            elif not decision.allowed:
                code, message, params = decision.code, decision.message, dict(decision.params)
            items.append(
                DiscoverItem(
                    product_code=product.code,
                    product_name=product.name,
                    family=product.family,
                    description=product.description,
                    reason="cancelled" if subs else "never_bought",
                    ended_on=ended,
                    data_deletion_date=data_deletion_date(ended) if ended else None,
                    can_buy=code is None,
                    blocked_code=code,
                    blocked_message=message,
                    blocked_params=params,
                )
            )
        return items


def _sold_in(catalog: Any, product_code: str, currency: str) -> bool:
    """Whether the catalog prices every plan of the product in ``currency``."""
    try:
        product = catalog.product(product_code)
        for plan in product.plans:
            plan.price(currency)
    except LookupError:
        return False
    return bool(product.plans)
