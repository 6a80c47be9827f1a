"""The trainer's clock (issue 7 item 2): moving a demo database's date and what it does.

The curated demo accounts are loaded for 2026-04-26 (``demo_ctx``); the
context here reads the simulated date from the database, as the application's
does, so it moves with the clock.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any

import helpers
import pytest

from billing_desktop.domain.money import Money
from billing_desktop.services import renewal
from billing_desktop.services.clock import SimulatedClock
from billing_desktop.services.context import AppContext
from billing_desktop.services.errors import PermissionDenied, ValidationError
from billing_desktop.services.renewal import EventKind
from billing_desktop.services.time_travel import (
    ClockSummary,
    Happening,
    NoSimulatedTime,
    move_clock,
    next_event,
    next_event_date,
    one_day_later,
    one_month_later,
    simulated_today,
    upcoming,
)

START = date(2026, 4, 26)


def dump(db: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, for "nothing changed" comparisons."""
    return helpers.dump(db)


@pytest.fixture
def trainer(as_role: Any) -> AppContext:
    """A trainer on the curated demo, on the database's simulated clock."""
    ctx = as_role("trainer")
    return dataclasses.replace(ctx, clock=SimulatedClock(ctx.db))


def lines(summary: ClockSummary, kind: Happening) -> list[tuple[Any, ...]]:
    return [
        (i.date, i.account_number, i.product, i.invoice_number, i.invoice_status, i.amount, i.until)
        for i in summary.of(kind)
    ]


def eur(text: str) -> Money:
    return Money(Decimal(text), "EUR")


# --------------------------------------------------------------------------- +1 month


def test_one_month_on_the_curated_demo(trainer: AppContext) -> None:
    db = trainer.db
    emails_before = db.reader.scalar("SELECT max(id) FROM emails") or 0
    assert one_month_later(trainer) == date(2026, 5, 26)

    summary = move_clock(trainer, one_month_later(trainer))

    assert (summary.moved_from, summary.requested, summary.clock) == (
        START,
        date(2026, 5, 26),
        date(2026, 5, 26),
    )
    assert not summary.cancelled and not summary.failures
    assert db.setting("clock.today") == "2026-05-26"
    assert trainer.clock.today() == date(2026, 5, 26)

    # every auto-renewing subscription whose period ended in the month, in date order:
    # (date, account, product, invoice, status, total, new period end)
    r = [
        (date(2026, 4, 30), "A-100008", "GoToAssist Remote Support v4", "INV-2026-000067",
         "paid", eur("924.00"), date(2026, 5, 30)),
        (date(2026, 4, 30), "A-100012", "GoToAssist Remote Support v5", "INV-2026-000068",
         "paid", Money(Decimal("228.00"), "GBP"), date(2026, 5, 31)),
        (date(2026, 5, 7), "A-100018", "GoToAssist Remote Support v4", "INV-2026-000069",
         "paid", eur("58.00"), date(2026, 6, 7)),
        (date(2026, 5, 8), "A-100009", "GoTo Meeting", "INV-2026-000070",
         "open", eur("96.00"), date(2026, 6, 8)),
        (date(2026, 5, 9), "A-100016", "GoTo Webinar", "INV-2026-000071",
         "open", eur("537.00"), date(2026, 6, 9)),
        (date(2026, 5, 10), "A-100014", "GoTo Meeting", "INV-2026-000072",
         "paid", eur("73.80"), date(2026, 6, 10)),
        (date(2026, 5, 10), "A-100014", "GoToAssist Remote Support v5", "INV-2026-000073",
         "paid", eur("61.50"), date(2026, 6, 10)),
        (date(2026, 5, 10), "A-100017", "LogMeIn Resolve", "INV-2026-000074",
         "paid", eur("126.00"), date(2026, 6, 10)),
        (date(2026, 5, 12), "A-100010", "GoTo Webinar", "INV-2026-000075",
         "paid", eur("193.00"), date(2026, 6, 12)),
        (date(2026, 5, 16), "A-100006", "GoTo Connect", "INV-2026-000076",
         "paid", eur("837.00"), date(2026, 6, 16)),
        (date(2026, 5, 16), "A-100011", "GoToAssist Remote Support v5", "INV-2026-000077",
         "paid", eur("75.00"), date(2026, 6, 16)),
        (date(2026, 5, 16), "A-100019", "GoTo Meeting", "INV-2026-000078",
         "paid", eur("1730.00"), date(2027, 5, 16)),  # annual billing
        (date(2026, 5, 17), "A-100004", "GoToAssist Remote Support v5", "INV-2026-000079",
         "paid", eur("156.00"), date(2026, 6, 17)),
        (date(2026, 5, 17), "A-100007", "GoToAssist Remote Support v4", "INV-2026-000080",
         "paid", eur("87.00"), date(2026, 6, 17)),
        (date(2026, 5, 19), "A-100002", "GoToAssist Remote Support v5", "INV-2026-000081",
         "paid", eur("480.00"), date(2026, 6, 19)),
        (date(2026, 5, 21), "A-100005", "LogMeIn Resolve", "INV-2026-000082",
         "open", eur("512.00"), date(2026, 6, 21)),  # corporate terms: invoice, no card
        (date(2026, 5, 22), "A-100004", "GoTo Meeting", "INV-2026-000083",
         "paid", eur("128.00"), date(2026, 6, 22)),
    ]  # fmt: skip
    assert lines(summary, Happening.RENEWED) == r
    # each renewal is one invoice with the same total (no period end on the invoice line)
    assert lines(summary, Happening.INVOICED) == [(*row[:6], None) for row in r]
    assert summary.invoiced == 17
    # 924 + 58 + 96 + 537 + 73.80 + 61.50 + 126 + 193 + 837 + 75 + 1730 + 156 + 87 + 480
    # + 512 + 128 = 6074.30 EUR; 228 GBP
    assert summary.billed == (eur("6074.30"), Money(Decimal("228.00"), "GBP"))

    assert lines(summary, Happening.TRIAL_EXPIRED) == [
        (date(2026, 5, 1), "A-100003", "GoTo Webinar", None, None, None, None)
    ]
    assert lines(summary, Happening.CANCELLED) == [
        (date(2026, 5, 7), "A-100011", "GoTo Meeting", None, None, None, None)
    ]
    assert lines(summary, Happening.TERM_RENEWED) == [
        (date(2026, 5, 16), "A-100019", "GoTo Meeting", None, None, None, date(2027, 5, 16))
    ]
    assert [(i.date, i.account_number, i.overdue) for i in summary.of(Happening.OVERDUE)] == [
        (date(2026, 5, 6), "A-100005", 1),  # INV-2026-000065, due 2026-05-05
        (date(2026, 5, 23), "A-100009", 1),  # INV-2026-000070 of this move, due 2026-05-22
    ]
    assert summary.of(Happening.MARKED_FOR_DELETION) == ()

    # the emails: the trial-ending notice, the trial's end and one per renewal invoice
    emailed = [(i.date, i.account_number, i.email_kind) for i in summary.of(Happening.EMAILED)]
    assert emailed[:2] == [
        (date(2026, 4, 28), "A-100003", "trial_ending"),  # 3 days before the trial ends
        (date(2026, 4, 30), "A-100008", "renewal_invoice"),
    ]
    assert (date(2026, 5, 1), "A-100003", "trial_ended") in emailed
    assert sorted(e for e in emailed if e[2] == "renewal_invoice") == sorted(
        (row[0], row[1], "renewal_invoice") for row in r
    )
    assert len(emailed) == summary.emails == 19
    # … exactly the rows queued in the outbox, to the billing contacts
    queued = db.reader.rows(
        "SELECT e.id, a.account_number, e.kind, e.to_address, e.subject FROM emails e "
        "JOIN accounts a ON a.id = e.account_id WHERE e.id > :before ORDER BY e.id",
        {"before": emails_before},
    )
    items = summary.of(Happening.EMAILED)
    assert [(q[0], q[1], q[2], q[3]) for q in queued] == [
        (i.email_id, i.account_number, i.email_kind, i.email_to) for i in items
    ]
    assert queued[0][3:] == (
        "antonio.greco@studiogreco.example",
        "Your GoTo Webinar trial ends on 2026-05-01",
    )
    # and the database agrees with the summary
    assert db.reader.rows(
        "SELECT number, total_minor, currency, status FROM invoices "
        "WHERE number >= 'INV-2026-000067' ORDER BY number"
    ) == [(row[3], row[5].minor, row[5].currency, row[4]) for row in r]
    statuses = dict(
        db.reader.rows(
            "SELECT a.account_number || ' ' || p.name, s.status FROM subscriptions s "
            "JOIN accounts a ON a.id = s.account_id JOIN products p ON p.id = s.product_id "
            "WHERE a.account_number IN ('A-100003', 'A-100011')"
        )
    )
    assert statuses["A-100003 GoTo Webinar"] == "trial_expired"
    assert statuses["A-100011 GoTo Meeting"] == "cancelled"
    # each line names its account
    names = dict(db.reader.rows("SELECT id, account_number FROM accounts"))
    assert all(names[i.account_id] == i.account_number for i in summary.items)


def test_one_day_runs_only_that_day(trainer: AppContext) -> None:
    assert one_day_later(trainer) == date(2026, 4, 27)
    summary = move_clock(trainer, one_day_later(trainer))
    assert summary.clock == date(2026, 4, 27) and summary.is_empty
    summary = move_clock(trainer, one_day_later(trainer))  # the notice is due on the 28th
    assert [(i.kind, i.account_number, i.email_kind) for i in summary.items] == [
        (Happening.EMAILED, "A-100003", "trial_ending")
    ]
    assert simulated_today(trainer) == date(2026, 4, 28)


# --------------------------------------------------------------------------- to next event


def test_to_next_event_lands_exactly_on_it(trainer: AppContext) -> None:
    # the trial-ending notice of 2026-04-28 is not a stop: the renewals of the 30th are
    found = next_event(trainer)
    assert found is not None and found.date == date(2026, 4, 30)
    assert [(e.kind, e.account_number, e.product) for e in found.events] == [
        (EventKind.RENEWAL, "A-100008", "GoToAssist Remote Support v4"),
        (EventKind.RENEWAL, "A-100012", "GoToAssist Remote Support v5"),
    ]
    summary = move_clock(trainer, found.date)
    assert summary.clock == date(2026, 4, 30) == simulated_today(trainer)
    assert trainer.db.setting("clock.today") == "2026-04-30"
    # what lay on the way happened too; nothing after the 30th
    assert [(i.date, i.kind, i.account_number) for i in summary.items] == [
        (date(2026, 4, 28), Happening.EMAILED, "A-100003"),
        (date(2026, 4, 30), Happening.RENEWED, "A-100008"),
        (date(2026, 4, 30), Happening.INVOICED, "A-100008"),
        (date(2026, 4, 30), Happening.EMAILED, "A-100008"),
        (date(2026, 4, 30), Happening.RENEWED, "A-100012"),
        (date(2026, 4, 30), Happening.INVOICED, "A-100012"),
        (date(2026, 4, 30), Happening.EMAILED, "A-100012"),
    ]
    # and again: each stop is the next renewal, trial end, cancellation end or term end
    stops = []
    for _ in range(5):
        target = next_event_date(trainer)
        assert target is not None
        summary = move_clock(trainer, target)
        assert summary.clock == target == simulated_today(trainer)
        stops.append((target, sorted({i.kind.value for i in summary.items if i.date == target})))
    assert stops == [
        (date(2026, 5, 1), ["emailed", "trial_expired"]),  # A-100003's trial
        (date(2026, 5, 7), ["cancelled", "emailed", "invoiced", "renewed"]),  # overdue on the 6th
        (date(2026, 5, 8), ["emailed", "invoiced", "renewed"]),
        (date(2026, 5, 9), ["emailed", "invoiced", "renewed"]),
        (date(2026, 5, 10), ["emailed", "invoiced", "renewed"]),
    ]


def test_next_event_date_is_none_when_nothing_lies_ahead(ctx: AppContext) -> None:
    from billing_desktop.services.demo import mark_demo

    with ctx.db.transaction() as session:
        mark_demo(session, START)
    demo = dataclasses.replace(ctx, is_demo=True, clock=SimulatedClock(ctx.db))
    assert next_event(demo) is None and next_event_date(demo) is None
    assert upcoming(demo) == []


# --------------------------------------------------------------------------- refusals


def test_the_clock_never_moves_backwards_nor_stays(trainer: AppContext) -> None:
    db = trainer.db
    before = dump(db)
    for target in (START, date(2026, 4, 25), date(2025, 12, 31)):
        with pytest.raises(ValidationError) as refused:
            move_clock(trainer, target)
        assert refused.value.code == "clock_not_forward"
        assert refused.value.params == {"today": START, "date": target}
    assert dump(db) == before
    # after a move, the new today is the limit
    move_clock(trainer, date(2026, 4, 29))
    after = dump(db)
    with pytest.raises(ValidationError):
        move_clock(trainer, date(2026, 4, 29))
    with pytest.raises(ValidationError):
        move_clock(trainer, date(2026, 4, 28))
    assert dump(db) == after
    with pytest.raises(TypeError):
        move_clock(trainer, "2026-05-01")  # type: ignore[arg-type]


def test_a_real_database_has_no_simulated_time(tmp_path: Any, as_role: Any) -> None:
    from billing_desktop.config import target_from
    from billing_desktop.services.context import open_context
    from billing_desktop.store.database import open_database

    # a real database (no demo mark: the system's clock), with its local admin …
    db = open_database(target_from(str(tmp_path / "real.sqlite3")))
    try:
        real = open_context(db)
        assert not real.is_demo and not real.clock.simulated
        before = dump(db)
        with pytest.raises(NoSimulatedTime) as refused:
            move_clock(real, date(2099, 1, 1))
        assert refused.value.code == "no_simulated_time"
        assert "real database" in str(refused.value)
        assert dump(db) == before
        assert db.setting("clock.today") is None
    finally:
        db.dispose()

    # … and the demo data opened as a real database, by any role, even an admin's
    contexts = [as_role(role, is_demo=False) for role in ("admin", "trainer", "support")]
    before = dump(contexts[0].db)
    for ctx in contexts:
        with pytest.raises(NoSimulatedTime):
            move_clock(ctx, date(2026, 5, 26))
    assert dump(contexts[0].db) == before


@pytest.mark.parametrize("role", ["viewer", "support", "representative"])
def test_roles_without_move_clock_are_refused(as_role: Any, role: str) -> None:
    ctx = as_role(role)
    before = dump(ctx.db)
    with pytest.raises(PermissionDenied):
        move_clock(ctx, date(2026, 5, 26))
    assert dump(ctx.db) == before


def test_an_admin_may_move_a_demo_clock(as_role: Any) -> None:
    summary = move_clock(as_role("admin"), date(2026, 4, 30))
    assert summary.clock == date(2026, 4, 30)
    assert len(summary.of(Happening.RENEWED)) == 2


# --------------------------------------------------------------------------- progress, cancel


def test_progress_and_cancel_keep_what_was_done(
    trainer: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(renewal, "PER_EVENT_CHUNK", 1)
    monkeypatch.setattr(renewal, "BULK", False)  # one event per transaction

    class StopAfterThree:
        cancelled = False

        def __init__(self) -> None:
            self.calls: list[tuple[int, int]] = []

        def __call__(self, done: int, total: int) -> None:
            self.calls.append((done, total))
            self.cancelled = done >= 3

    progress = StopAfterThree()
    summary = move_clock(trainer, date(2026, 5, 26), progress=progress)
    assert progress.calls[0][0] == 0 and progress.calls[0][1] >= 23  # the engine's estimate
    assert progress.calls[-1][0] == 3
    assert summary.cancelled and summary.run.events == 3
    # notice (04-28), two renewals (04-30): the clock stops on the last day fully done
    assert summary.clock == date(2026, 4, 30) == simulated_today(trainer)
    assert [i.account_number for i in summary.of(Happening.RENEWED)] == ["A-100008", "A-100012"]
    # the next move goes on from there
    rest = move_clock(trainer, date(2026, 5, 26))
    assert not rest.cancelled and rest.run.events == 20
    assert len(rest.of(Happening.RENEWED)) == 15


# --------------------------------------------------------------------------- the panel's amounts


def test_upcoming_amounts_are_what_the_move_bills(trainer: AppContext) -> None:
    ahead = upcoming(trainer, limit=30)
    assert [(u.event.date, u.event.kind, u.event.account_number) for u in ahead[:5]] == [
        (date(2026, 4, 28), EventKind.TRIAL_ENDING_NOTICE, "A-100003"),
        (date(2026, 4, 30), EventKind.RENEWAL, "A-100008"),
        (date(2026, 4, 30), EventKind.RENEWAL, "A-100012"),
        (date(2026, 5, 1), EventKind.TRIAL_EXPIRY, "A-100003"),
        (date(2026, 5, 6), EventKind.INVOICE_OVERDUE, "A-100005"),
    ]
    assert all((u.amount is not None) == (u.event.kind is EventKind.RENEWAL) for u in ahead)
    expected = {
        u.event.subscription_id: u.amount
        for u in ahead
        if u.event.kind is EventKind.RENEWAL and u.event.date <= date(2026, 5, 26)
    }
    summary = move_clock(trainer, date(2026, 5, 26))
    assert {i.subscription_id: i.amount for i in summary.of(Happening.INVOICED)} == expected


# --------------------------------------------------------------------------- the two paths


def test_both_engine_paths_list_the_same_items(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The summary's items come from the outcomes both paths share: a year of the demo."""
    from billing_desktop.config import target_from
    from billing_desktop.services.context import open_context
    from billing_desktop.services.demo import load_curated
    from billing_desktop.store.database import open_database

    results = []
    for bulk in (False, True):
        monkeypatch.setattr(renewal, "BULK", bulk)
        db = open_database(target_from(str(tmp_path / f"demo-{bulk}.sqlite3")))
        try:
            load_curated(db, START)
            ctx = open_context(db)
            results.append(move_clock(ctx, date(2027, 4, 26)))
        finally:
            db.dispose()
    per_event, bulk_run = results
    assert len(per_event.of(Happening.RENEWED)) > 100
    assert per_event.of(Happening.MARKED_FOR_DELETION)
    assert bulk_run.items == per_event.items
    assert bulk_run.run == per_event.run
