"""Invoice history, detail, disputes, voiding, recipients and gap-free numbering."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import date, datetime
from decimal import Decimal

import pytest

from billing_desktop.domain.money import Money
from billing_desktop.services.accounts import AccountFilter, list_accounts
from billing_desktop.services.clock import FixedClock
from billing_desktop.services.errors import (
    NotFound,
    PermissionDenied,
    PolicyViolation,
    ValidationError,
)
from billing_desktop.services.invoices import (
    dispute_invoice,
    invoice_detail,
    invoice_recipients,
    list_invoices,
    set_invoice_recipients,
    void_invoice,
)
from billing_desktop.services.invoicing import DraftLine, figures_for_account, issue_invoice
from billing_desktop.services.payments import record_payment

TABLES = (
    "invoices", "payments", "credits", "accounts", "app_settings", "invoice_recipients",
    "audit_entries",
)  # fmt: skip
OVERDUE = "INV-2026-000036"  # A-100009, 186.40, issued 2026-03-09, due 2026-04-08
RECENT = "INV-2026-000064"  # A-100002, 480.00, issued 2026-04-19, paid by autopay


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def _dump(db, tables=TABLES):
    return {t: db.reader.rows(f"SELECT * FROM {t} ORDER BY 1") for t in tables}


def _on(ctx, day: date):
    return dataclasses.replace(ctx, clock=FixedClock(day))


def _status(ctx, number: str) -> str:
    (row,) = list_accounts(ctx, AccountFilter(text=number))
    return row.status


# --------------------------------------------------------------------------- lists and detail


def test_open_and_paid_tabs(demo_ctx) -> None:
    (row,) = list_invoices(demo_ctx, "A-100009", "open")
    assert row.number == OVERDUE
    assert (row.issue_date, row.due_date) == (date(2026, 3, 9), date(2026, 4, 8))
    assert row.description == "Audio conferencing: toll-free minutes"
    assert (row.total, row.paid, row.due) == (eur("186.40"), eur("0.00"), eur("186.40"))
    assert (row.status, row.overdue, row.disputed) == ("open", True, False)
    paid = list_invoices(demo_ctx, "A-100009", "paid")
    assert len(paid) == 7
    assert all(r.status == "paid" and r.due == eur("0.00") for r in paid)
    # newest first: the renewal of 2026-04-08 for 2026-04-08 – 2026-05-08, 6 × 16.00 = 96.00
    assert (paid[0].issue_date, paid[0].period_start, paid[0].period_end) == (
        date(2026, 4, 8), date(2026, 4, 8), date(2026, 5, 8),
    )  # fmt: skip
    assert paid[0].total == eur("96.00")
    assert len(list_invoices(demo_ctx, "A-100009", "all")) == 8
    assert list_invoices(demo_ctx, "A-100009", "void") == ()
    with pytest.raises(ValidationError):
        list_invoices(demo_ctx, "A-100009", "overdue")


def test_invoice_detail_lines_and_figures(demo_ctx) -> None:
    detail = invoice_detail(demo_ctx, RECENT)
    assert detail.account_number == "A-100002"
    assert [
        (line.description, line.period_start, line.period_end, line.quantity, line.unit_price,
         line.total)
        for line in detail.lines
    ] == [
        # 10 licences × 39.00 = 390.00; 10 × 9.00 = 90.00
        ("GoToAssist Remote Support v5 Standard", date(2026, 4, 19), date(2026, 5, 19), 10,
         eur("39.00"), eur("390.00")),
        ("Mobile device support", date(2026, 4, 19), date(2026, 5, 19), 10,
         eur("9.00"), eur("90.00")),
    ]  # fmt: skip
    # 390.00 + 90.00 = 480.00; reverse charge (IT VAT number, seller in Ireland) → VAT 0.00
    assert (detail.subtotal, detail.vat, detail.total) == (
        eur("480.00"), eur("0.00"), eur("480.00"),
    )  # fmt: skip
    assert detail.reverse_charge is True
    assert detail.vat_rate == Decimal("0.00")
    assert (detail.paid, detail.due, detail.status) == (eur("480.00"), eur("0.00"), "paid")
    assert [(p.amount, p.method_summary) for p in detail.payments] == [
        (eur("480.00"), "Mastercard •••• 5454")
    ]
    # issued 2026-04-19: disputable through 2026-05-04
    assert detail.dispute_deadline == date(2026, 5, 4)
    assert detail.may_dispute is True
    assert invoice_detail(demo_ctx, detail.id).number == RECENT
    with pytest.raises(NotFound):
        invoice_detail(demo_ctx, "INV-1999-000001")


# --------------------------------------------------------------------------- disputes


def test_dispute_on_day_15_is_noted_not_credited(demo_ctx) -> None:
    db = demo_ctx.db
    before = db.reader.rows(
        "SELECT total_minor, paid_minor, credit_applied_minor, status FROM invoices "
        "WHERE number = :n",
        {"n": RECENT},
    )
    credits_before = db.reader.rows("SELECT * FROM credits")
    day15 = _on(demo_ctx, date(2026, 5, 4))  # 2026-04-19 + 15 days
    detail = dispute_invoice(day15, RECENT, "  Two licences were never used.  ")
    assert detail.disputed_at == datetime(2026, 5, 4, 9, 0)
    assert detail.dispute_note == "Two licences were never used."
    # noted, not credited: amounts, status and credits unchanged
    assert (
        db.reader.rows(
            "SELECT total_minor, paid_minor, credit_applied_minor, status FROM invoices "
            "WHERE number = :n",
            {"n": RECENT},
        )
        == before
    )
    assert db.reader.rows("SELECT * FROM credits") == credits_before
    assert list_invoices(demo_ctx, "A-100002", "paid")[0].disputed is True
    ((after_json,),) = db.reader.rows(
        "SELECT after_json FROM audit_entries WHERE action = 'invoice.disputed'"
    )
    assert json.loads(after_json)["dispute_note"] == "Two licences were never used."


def test_dispute_on_day_16_is_refused(demo_ctx) -> None:
    day16 = _on(demo_ctx, date(2026, 5, 5))
    snapshot = _dump(demo_ctx.db)
    with pytest.raises(PolicyViolation) as err:
        dispute_invoice(day16, RECENT, "Too late")
    assert err.value.code == "dispute_window_closed"
    assert err.value.params["deadline"] == date(2026, 5, 4)
    assert _dump(demo_ctx.db) == snapshot
    assert invoice_detail(day16, RECENT).may_dispute is False
    with pytest.raises(PolicyViolation):  # issued 48 days ago
        dispute_invoice(demo_ctx, OVERDUE, "Wrong minutes")


def test_second_dispute_is_appended_and_keeps_the_first_date(demo_ctx) -> None:
    dispute_invoice(demo_ctx, RECENT, "Two licences were never used.")
    later = _on(demo_ctx, date(2026, 4, 30))
    detail = dispute_invoice(later, RECENT, "Customer sent the usage report.")
    assert detail.disputed_at == datetime(2026, 4, 26, 9, 0)
    assert detail.dispute_note == (
        "Two licences were never used.\n\n2026-04-30: Customer sent the usage report."
    )


def test_dispute_needs_a_note_and_a_non_void_invoice(demo_ctx, as_role) -> None:
    snapshot = _dump(demo_ctx.db)
    with pytest.raises(ValidationError):
        dispute_invoice(demo_ctx, RECENT, "   ")
    assert _dump(demo_ctx.db) == snapshot
    void_invoice(as_role("support"), "INV-2026-000065", "Issued twice")  # A-100005, open
    with pytest.raises(PolicyViolation) as err:
        dispute_invoice(demo_ctx, "INV-2026-000065", "Please check")
    assert err.value.code == "invoice_void"


# --------------------------------------------------------------------------- void


def test_support_voids_an_open_unpaid_invoice_and_its_number_stays_used(demo_ctx, as_role) -> None:
    db = demo_ctx.db
    assert _status(demo_ctx, "A-100009") == "overdue"
    detail = void_invoice(as_role("support"), OVERDUE, " Minutes billed to the wrong account ")
    assert (detail.status, detail.number, detail.due) == ("void", OVERDUE, eur("0.00"))
    # when and why are on the invoice itself (the clock: 2026-04-26 09:00)
    assert detail.voided_at == datetime(2026, 4, 26, 9, 0)
    assert detail.void_reason == "Minutes billed to the wrong account"
    assert db.reader.rows(
        "SELECT status, voided_at, void_reason FROM invoices WHERE number = :n", {"n": OVERDUE}
    ) == [("void", "2026-04-26 09:00:00.000000", "Minutes billed to the wrong account")]
    again = invoice_detail(demo_ctx, OVERDUE)
    assert (again.voided_at, again.void_reason) == (detail.voided_at, detail.void_reason)
    assert _status(demo_ctx, "A-100009") == "active"
    assert db.reader.rows(
        "SELECT outstanding_minor, oldest_due_date FROM accounts WHERE account_number = 'A-100009'"
    ) == [(0, None)]
    assert list_invoices(demo_ctx, "A-100009", "open") == ()
    [voided] = list_invoices(demo_ctx, "A-100009", "void")
    assert (voided.number, voided.voided_at, voided.void_reason) == (
        OVERDUE, datetime(2026, 4, 26, 9, 0), "Minutes billed to the wrong account",
    )  # fmt: skip
    # invoices that were never voided carry neither
    assert {(r.voided_at, r.void_reason) for r in list_invoices(demo_ctx, "A-100009", "paid")} == {
        (None, None)
    }
    ((after,),) = db.reader.rows(
        "SELECT after_json FROM audit_entries WHERE action = 'invoice.voided'"
    )
    assert json.loads(after)["reason"] == "Minutes billed to the wrong account"
    # the next invoice takes the next number; the voided one is never reused
    assert db.reader.scalar("SELECT next_number FROM invoice_series WHERE prefix='INV-2026'") == 67
    number = _issue(db, "A-100009", "10.00", datetime(2026, 4, 26, 10, 0))
    assert number == "INV-2026-000067"


def test_void_rules(demo_ctx, as_role) -> None:
    db = demo_ctx.db
    support = as_role("support")
    snapshot = _dump(db)
    with pytest.raises(PolicyViolation) as err:
        void_invoice(support, RECENT, "Customer asked")  # paid
    assert err.value.code == "invoice_not_open"
    with pytest.raises(ValidationError):
        void_invoice(support, OVERDUE, " ")  # a reason is required
    for role in ("representative", "viewer"):
        with pytest.raises(PermissionDenied):
            void_invoice(as_role(role), OVERDUE, "Customer asked")
    assert _dump(db) == snapshot
    # partly paid: 50.00 of 186.40 → still open but not voidable
    record_payment(demo_ctx, "A-100009", amount=eur("50.00"))
    snapshot = _dump(db)
    with pytest.raises(PolicyViolation) as err:
        void_invoice(support, OVERDUE, "Customer asked")
    assert err.value.code == "invoice_has_payments"
    assert _dump(db) == snapshot


def test_void_gives_back_the_account_credit_the_invoice_used(ctx, make_account) -> None:
    """Credit 30.00; an invoice of 100.00 uses it (70.00 due); voiding restores 30.00."""
    from billing_desktop.store.models import Account

    account_id = make_account(country="US", currency="USD", credit_balance_minor=3000)
    with ctx.db.transaction() as session:
        account = session.get(Account, account_id)
        usd = Money("100.00", "USD")
        figures = figures_for_account(account, [DraftLine("manual", "Setup", 1, usd, usd)])
        number = issue_invoice(
            session, account, figures, kind="manual", issued_at=ctx.clock.now(), charge=False
        ).number
    assert ctx.db.reader.rows(
        "SELECT credit_balance_minor, outstanding_minor FROM accounts WHERE id = :a",
        {"a": account_id},
    ) == [(0, 7000)]
    void_invoice(ctx, number, "Wrong customer")
    assert ctx.db.reader.rows(
        "SELECT credit_balance_minor, outstanding_minor FROM accounts WHERE id = :a",
        {"a": account_id},
    ) == [(3000, 0)]
    assert ctx.db.reader.rows(
        "SELECT amount_minor FROM credits WHERE account_id = :a ORDER BY id", {"a": account_id}
    ) == [(-3000,), (3000,)]


# --------------------------------------------------------------------------- numbering


def _issue(db, account_number: str, amount: str, when: datetime, fail: bool = False) -> str:
    from sqlalchemy import select

    from billing_desktop.store.models import Account

    with db.transaction() as session:
        account = session.scalar(select(Account).where(Account.account_number == account_number))
        money = Money(amount, account.currency)
        figures = figures_for_account(account, [DraftLine("manual", "Service", 1, money, money)])
        invoice = issue_invoice(
            session, account, figures, kind="manual", issued_at=when, charge=False
        )
        if fail:
            raise RuntimeError("crash after the number was taken")
        return invoice.number


def test_numbers_stay_gap_free_when_a_transaction_rolls_back(ctx, make_account) -> None:
    make_account(account_number="A-900100")
    db = ctx.db
    when = datetime(2026, 4, 26, 9, 0)
    first = _issue(db, "A-900100", "10.00", when)
    second = _issue(db, "A-900100", "20.00", when)
    with pytest.raises(RuntimeError):
        _issue(db, "A-900100", "30.00", when, fail=True)  # takes a number, then rolls back
    third = _issue(db, "A-900100", "40.00", when)
    fourth = _issue(db, "A-900100", "50.00", datetime(2026, 12, 31, 23, 0))
    next_year = _issue(db, "A-900100", "60.00", datetime(2027, 1, 1, 9, 0))
    assert [first, second, third, fourth] == [
        "INV-2026-000001", "INV-2026-000002", "INV-2026-000003", "INV-2026-000004",
    ]  # fmt: skip
    assert next_year == "INV-2027-000001"
    numbers = [r[0] for r in db.reader.rows("SELECT number FROM invoices ORDER BY number")]
    assert len(numbers) == len(set(numbers)) == 5
    per_year: dict[str, list[int]] = {}
    for number in numbers:
        year, seq = re.fullmatch(r"INV-(\d{4})-(\d{6})", number).groups()
        per_year.setdefault(year, []).append(int(seq))
    assert per_year == {"2026": [1, 2, 3, 4], "2027": [1]}
    # the rolled-back 30.00 left nothing behind: 10 + 20 + 40 + 50 + 60 = 180.00 net,
    # + 22 % Italian VAT (no VAT number) = 219.60
    assert db.reader.rows("SELECT SUM(subtotal_minor), SUM(total_minor) FROM invoices") == [
        (18000, 21960)
    ]


# --------------------------------------------------------------------------- recipients


def test_invoice_recipients_up_to_five_besides_the_billing_contact(demo_ctx) -> None:
    db = demo_ctx.db
    result = set_invoice_recipients(
        demo_ctx,
        "A-100009",
        [
            "contabilidad@martinezasesores.example",
            " Pablo.Sanchez@martinezasesores.example ",
            "pablo.sanchez@martinezasesores.example",  # duplicate, dropped
            "elena.martinez@martinezasesores.example",  # the billing contact, dropped
            "",
        ],
    )
    assert result.billing_contact_email == "elena.martinez@martinezasesores.example"
    assert result.recipients == (
        "contabilidad@martinezasesores.example",
        "Pablo.Sanchez@martinezasesores.example",
    )
    account_id = db.reader.scalar("SELECT id FROM accounts WHERE account_number='A-100009'")
    # one row each in the invoice_recipients table, in the order given; nothing in app_settings
    assert recipient_rows(db, account_id) == [
        (1, "contabilidad@martinezasesores.example"),
        (2, "Pablo.Sanchez@martinezasesores.example"),
    ]
    assert db.setting(f"account.{account_id}.invoice_recipients") is None
    assert invoice_recipients(demo_ctx, "A-100009").recipients == result.recipients
    # keeping an address while re-casing and reordering does not trip the unique key
    assert set_invoice_recipients(
        demo_ctx, "A-100009",
        ["pablo.sanchez@martinezasesores.example", "contabilidad@martinezasesores.example"],
    ).recipients == (
        "pablo.sanchez@martinezasesores.example", "contabilidad@martinezasesores.example",
    )  # fmt: skip
    assert recipient_rows(db, account_id) == [
        (1, "pablo.sanchez@martinezasesores.example"),
        (2, "contabilidad@martinezasesores.example"),
    ]
    snapshot = _dump(db)
    with pytest.raises(ValidationError) as err:
        set_invoice_recipients(demo_ctx, "A-100009", [f"r{n}@example.com" for n in range(6)])
    assert err.value.code == "too_many_recipients"
    with pytest.raises(ValidationError) as err:
        set_invoice_recipients(demo_ctx, "A-100009", ["ok@example.com", "not-an-email"])
    assert err.value.code == "recipient_email_invalid"
    assert _dump(db) == snapshot
    assert len(set_invoice_recipients(
        demo_ctx, "A-100009", [f"r{n}@example.com" for n in range(5)]
    ).recipients) == 5  # fmt: skip
    assert [n for n, _email in recipient_rows(db, account_id)] == [1, 2, 3, 4, 5]
    assert set_invoice_recipients(demo_ctx, "A-100009", []).recipients == ()
    assert recipient_rows(db, account_id) == []
    entries = db.reader.rows(
        "SELECT before_json, after_json FROM audit_entries "
        "WHERE action = 'account.invoice_recipients_changed' ORDER BY id"
    )
    assert len(entries) == 4  # set, reordered, five, cleared
    assert json.loads(entries[-1][1]) == {"invoice_recipients": []}


def test_invoice_recipients_of_accounts_are_separate(demo_ctx) -> None:
    """The same address may receive invoices of two accounts (unique per account only)."""
    shared = "shared.accounting@example.com"
    set_invoice_recipients(demo_ctx, "A-100009", [shared])
    set_invoice_recipients(demo_ctx, "A-100002", [shared, "it@example.com"])
    assert invoice_recipients(demo_ctx, "A-100009").recipients == (shared,)
    assert invoice_recipients(demo_ctx, "A-100002").recipients == (shared, "it@example.com")
    set_invoice_recipients(demo_ctx, "A-100002", [])
    assert invoice_recipients(demo_ctx, "A-100009").recipients == (shared,)


def recipient_rows(db, account_id: int) -> list[tuple[int, str]]:
    return db.reader.rows(
        "SELECT position, email FROM invoice_recipients WHERE account_id = :a ORDER BY position",
        {"a": account_id},
    )


# --------------------------------------------------------------------------- permissions


def test_viewer_is_refused_for_every_write(demo_ctx, as_role) -> None:
    viewer = as_role("viewer")
    snapshot = _dump(demo_ctx.db)
    for call in (
        lambda: dispute_invoice(viewer, RECENT, "Wrong"),
        lambda: void_invoice(viewer, OVERDUE, "Wrong"),
        lambda: set_invoice_recipients(viewer, "A-100009", ["a@example.com"]),
    ):
        with pytest.raises(PermissionDenied):
            call()
    assert _dump(demo_ctx.db) == snapshot
    assert len(list_invoices(viewer, "A-100009", "all")) == 8  # reading is allowed
