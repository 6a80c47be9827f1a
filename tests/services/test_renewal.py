"""The renewal engine (issue 3 item 8): what time does to subscriptions, invoices and emails.

Every amount is written out with its arithmetic. Accounts are either built
here with the ORM (exact dates and prices) or taken from the curated demo
data loaded for 2026-04-26 (``demo_ctx``).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import helpers
import pytest
from sqlalchemy import select

from billing_desktop.services import renewal
from billing_desktop.services.catalog import ensure_catalog
from billing_desktop.services.clock import FixedClock, set_simulated_date
from billing_desktop.services.context import AppContext
from billing_desktop.services.errors import PermissionDenied, ValidationError
from billing_desktop.services.renewal import EventKind, RenewalCancelled, advance
from billing_desktop.store.models import (
    Account,
    AuditEntry,
    Contact,
    Email,
    Invoice,
    InvoiceLine,
    InvoiceSeries,
    Payment,
    PaymentMethod,
    Plan,
    Product,
    Subscription,
    SubscriptionAddon,
)
from billing_desktop.store.search import fold
from billing_desktop.store.totals import refresh_account_totals

# --------------------------------------------------------------------------- helpers


def dump(db: Any, *, skip_run_entries: bool = False) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, for "nothing changed" comparisons."""
    where = {"audit_entries": "action <> 'renewal.run'"} if skip_run_entries else None
    return helpers.dump(db, where)


def on(ctx: AppContext, day: date) -> AppContext:
    """The context as seen on ``day`` (a real database runs up to its today)."""
    return dataclasses.replace(ctx, clock=FixedClock(day))


def run(ctx: AppContext, day: date, **kw: Any) -> renewal.RenewalSummary:
    return advance(on(ctx, day), day, **kw)


_numbers = iter(range(1, 10_000))


def make_account(
    db: Any,
    *,
    country: str = "IT",
    currency: str = "EUR",
    vat_number: str | None = None,
    autopay: bool = True,
    card: bool = True,
    kind: str = "standard",
    terms: int | None = None,
) -> int:
    """An account with a billing contact and (optionally) a default Visa card."""
    ensure_catalog(db)
    n = next(_numbers)
    with db.transaction() as s:
        account = Account(
            account_number=f"A-{700000 + n}",
            company_name=f"Renewal Test {n}",
            search_name=fold(f"Renewal Test {n}"),
            type=kind,
            status="active",
            country=country,
            language="it",
            currency=currency,
            vat_number=vat_number,
            autopay=autopay,
            payment_terms_days=terms,
            created_at=datetime(2025, 1, 1, 9, 0),
        )
        account.contacts.append(
            Contact(
                first_name="Giulia",
                last_name="Bianchi",
                email=f"giulia{n}@example.com",
                email_lower=f"giulia{n}@example.com",
                search_name="bianchi giulia",
                roles="billing_admin",
                is_billing_contact=True,
            )
        )
        if card:
            account.payment_methods.append(
                PaymentMethod(
                    kind="card",
                    brand="visa",
                    last4="4242",
                    exp_month=12,
                    exp_year=2030,
                    holder_name="Giulia Bianchi",
                    is_default=True,
                    created_at=datetime(2025, 1, 1, 9, 0),
                )
            )
        s.add(account)
        s.flush()
        return account.id


def make_subscription(
    db: Any,
    account_id: int,
    *,
    product: str = "gotoassist_rs_v5",
    plan: str = "standard",
    licences: int = 5,
    frequency: str = "monthly",
    anchor: date,
    period: tuple[date, date],
    status: str = "active",
    addons: tuple[str, ...] = (),
    **fields: Any,
) -> int:
    with db.transaction() as s:
        product_row = s.scalar(select(Product).where(Product.code == product))
        plan_row = s.scalar(
            select(Plan).where(Plan.product_id == product_row.id, Plan.code == plan)
        )
        sub = Subscription(
            account_id=account_id,
            product_id=product_row.id,
            plan_id=plan_row.id,
            licence_count=licences,
            frequency=frequency,
            anchor_date=anchor,
            period_start=period[0],
            period_end=period[1],
            status=status,
            auto_renew=status in ("active", "trial"),
            created_at=datetime(2025, 1, 1, 9, 0),
            **fields,
        )
        s.add(sub)
        s.flush()
        for code in addons:
            addon = next(a for a in product_row.addons if a.code == code)
            s.add(SubscriptionAddon(subscription_id=sub.id, addon_id=addon.id, added_on=anchor))
        s.flush()
        refresh_account_totals(s, s.get(Account, account_id))
        return sub.id


def invoices_of(db: Any, account_id: int) -> list[Invoice]:
    with db.sessions() as s:
        rows = s.scalars(
            select(Invoice).where(Invoice.account_id == account_id).order_by(Invoice.id)
        ).all()
        for invoice in rows:
            _ = invoice.lines
        return list(rows)


def emails_of(db: Any, account_id: int) -> list[Email]:
    with db.sessions() as s:
        return list(
            s.scalars(select(Email).where(Email.account_id == account_id).order_by(Email.id))
        )


def get(db: Any, model: Any, key: Any) -> Any:
    with db.sessions() as s:
        return s.get(model, key)


def account_id(db: Any, number: str) -> int:
    return int(db.reader.scalar("SELECT id FROM accounts WHERE account_number = :n", {"n": number}))


def sub_of(db: Any, number: str, product: str) -> Subscription:
    with db.sessions() as s:
        return s.scalar(
            select(Subscription)
            .join(Account, Account.id == Subscription.account_id)
            .join(Product, Product.id == Subscription.product_id)
            .where(Account.account_number == number, Product.code == product)
        )


def money(minor: int) -> str:
    return f"{minor / 100:.2f}"


# --------------------------------------------------------------------------- renewals


def test_monthly_v5_renews_at_period_end_with_invoice_and_autopay(ctx: AppContext) -> None:
    db = ctx.db
    acc = make_account(db)  # Italy, no VAT number: 22 % Italian VAT
    sid = make_subscription(
        db,
        acc,
        licences=5,
        anchor=date(2026, 3, 15),
        period=(date(2026, 4, 15), date(2026, 5, 15)),
        addons=("mobile_device_support",),
    )
    before = dump(db)
    nothing = run(ctx, date(2026, 5, 14))
    assert nothing.renewed == 0 and invoices_of(db, acc) == []
    assert dump(db, skip_run_entries=True)["invoices"] == before["invoices"]

    summary = run(ctx, date(2026, 5, 15))
    assert summary.renewed == 1 and summary.invoices == ("INV-2026-000001",)
    [invoice] = invoices_of(db, acc)
    assert (invoice.kind, invoice.issue_date, invoice.status) == (
        "renewal",
        date(2026, 5, 15),
        "paid",
    )
    assert (invoice.period_start, invoice.period_end) == (date(2026, 5, 15), date(2026, 6, 15))
    lines = [
        (ln.kind, ln.description, ln.quantity, ln.unit_price_minor, ln.amount_minor)
        for ln in invoice.lines
    ]
    assert lines == [
        ("charge", "GoToAssist Remote Support v5 Standard", 5, 3900, 19500),  # 5 × 39.00
        ("addon", "Mobile device support", 5, 900, 4500),  # 5 × 9.00
    ]
    assert all(ln.subscription_id == sid for ln in invoice.lines)
    # subtotal 195.00 + 45.00 = 240.00; VAT 22 % per line 42.90 + 9.90 = 52.80; total 292.80
    assert (
        invoice.subtotal_minor,
        invoice.vat_rate_bp,
        invoice.vat_minor,
        invoice.total_minor,
    ) == (
        24000,
        2200,
        5280,
        29280,
    )
    with db.sessions() as s:
        [payment] = s.scalars(select(Payment).where(Payment.invoice_id == invoice.id)).all()
        assert (payment.amount_minor, payment.method_summary) == (29280, "Visa •••• 4242")
        assert payment.received_at.date() == date(2026, 5, 15)
        sub = s.get(Subscription, sid)
        assert (sub.period_start, sub.period_end) == (date(2026, 5, 15), date(2026, 6, 15))
        assert s.get(Account, acc).outstanding_minor == 0
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "subscription.renewed"))
        assert entry.at.date() == date(2026, 5, 15) and entry.operator_id == ctx.operator.id
        assert json.loads(entry.after_json)["invoice"] == "INV-2026-000001"
    [email] = emails_of(db, acc)
    assert email.kind == "renewal_invoice"
    assert "INV-2026-000001" in email.subject
    assert "292.80 EUR" in email.body_text and "Visa •••• 4242" in email.body_text
    assert "2026-05-15 – 2026-06-14" in email.body_text  # the period, last day inclusive


def test_account_credit_pays_part_of_the_renewal(demo_ctx: AppContext) -> None:
    """A-100012 (GBP) has 45.00 of credit left; its next renewal uses it, the card pays the rest."""
    db = demo_ctx.db
    acc = account_id(db, "A-100012")
    advance(demo_ctx, date(2026, 4, 30))
    invoice = invoices_of(db, acc)[-1]
    # 5 × 34.00 (v5 Standard) + 5 × 4.00 (Camera share) = 190.00; VAT 20 % = 38.00; total 228.00
    assert (invoice.issue_date, invoice.currency) == (date(2026, 4, 30), "GBP")
    assert (invoice.subtotal_minor, invoice.vat_minor, invoice.total_minor) == (19000, 3800, 22800)
    assert (invoice.credit_applied_minor, invoice.paid_minor, invoice.status) == (
        4500,
        18300,
        "paid",
    )
    assert get(db, Account, acc).credit_balance_minor == 0  # 45.00 − 45.00


def test_cardless_account_gets_an_open_invoice_that_falls_overdue(ctx: AppContext) -> None:
    db = ctx.db
    acc = make_account(db, card=False, autopay=False)  # pays by bank transfer
    make_subscription(
        db,
        acc,
        plan="basic",
        licences=2,
        anchor=date(2026, 4, 10),
        period=(date(2026, 4, 10), date(2026, 5, 10)),
    )
    summary = run(ctx, date(2026, 5, 10))
    assert (summary.invoices_paid, summary.invoices_open, summary.invoices_overdue) == (0, 1, 0)
    [invoice] = invoices_of(db, acc)
    # 2 × 25.00 = 50.00; VAT 22 % = 11.00; total 61.00, due 14 days after issue
    assert (invoice.total_minor, invoice.status, invoice.due_date) == (
        6100,
        "open",
        date(2026, 5, 24),
    )
    account = get(db, Account, acc)
    assert (account.outstanding_minor, account.oldest_due_date) == (6100, date(2026, 5, 24))
    [email] = emails_of(db, acc)
    assert "Please pay 61.00 EUR by 2026-05-24" in email.body_text
    # on its due date it is not overdue yet: buying is still possible
    assert all(item.can_buy for item in renewal.discover_products(on(ctx, date(2026, 5, 24)), acc))

    later = run(ctx, date(2026, 5, 25))
    assert later.invoices_overdue == 1 and later.events == 1
    blocked = renewal.discover_products(on(ctx, date(2026, 5, 25)), acc)
    assert {item.blocked_code for item in blocked} == {"overdue_invoice"}


def test_corporate_renewal_is_invoiced_on_net_terms(demo_ctx: AppContext) -> None:
    """A-100016 (BE, corporate, net 30): its monthly Webinar renewal is invoiced, not charged."""
    db = demo_ctx.db
    acc = account_id(db, "A-100016")
    sub = sub_of(db, "A-100016", "goto_webinar")
    day = sub.period_end
    advance(demo_ctx, day)
    invoice = invoices_of(db, acc)[-1]
    # 3 × 179.00 (Webinar Pro) = 537.00; BE VAT number: reverse charge 0 %; due in 30 days
    assert (invoice.issue_date, invoice.total_minor, invoice.vat_minor) == (day, 53700, 0)
    assert invoice.reverse_charge and invoice.status == "open"
    assert invoice.due_date == day + timedelta(days=30)
    overdue = advance(demo_ctx, day + timedelta(days=31))
    assert overdue.invoices_overdue >= 1


def test_annual_subscription_renews_once_a_year(ctx: AppContext) -> None:
    db = ctx.db
    acc = make_account(db)
    make_subscription(
        db,
        acc,
        plan="basic",
        licences=2,
        frequency="annual",
        anchor=date(2025, 6, 10),
        period=(date(2025, 6, 10), date(2026, 6, 10)),
    )
    day = date(2026, 4, 26)
    while day < date(2027, 6, 9):  # a run every month end, as a trainer would
        day = min(day + timedelta(days=31), date(2027, 6, 9))
        run(ctx, day)
    [invoice] = invoices_of(db, acc)
    # 2 × 270.00 (annual Basic) = 540.00; VAT 22 % = 118.80; total 658.80
    assert (invoice.issue_date, invoice.period_end) == (date(2026, 6, 10), date(2027, 6, 10))
    assert (invoice.subtotal_minor, invoice.vat_minor, invoice.total_minor) == (54000, 11880, 65880)
    run(ctx, date(2027, 6, 10))
    assert [i.issue_date for i in invoices_of(db, acc)] == [date(2026, 6, 10), date(2027, 6, 10)]


@pytest.mark.parametrize("year, february_end", [(2026, 28), (2028, 29)])
def test_month_end_anchor_keeps_its_day(ctx: AppContext, year: int, february_end: int) -> None:
    """Jan 31 + 1 month = Feb 28/29, and the period after returns to Mar 31 (SPEC §3)."""
    db = ctx.db
    acc = make_account(db)
    make_subscription(
        db,
        acc,
        plan="basic",
        licences=1,
        anchor=date(year, 1, 31),
        period=(date(year, 1, 31), date(year, 2, february_end)),
    )
    run(ctx, date(year, 4, 30))
    periods = [(i.issue_date, i.period_start, i.period_end) for i in invoices_of(db, acc)]
    feb, mar, apr = date(year, 2, february_end), date(year, 3, 31), date(year, 4, 30)
    assert periods == [(feb, feb, mar), (mar, mar, apr), (apr, apr, date(year, 5, 31))]


# --------------------------------------------------------------------------- trials


def test_trial_expires_without_charge(ctx: AppContext) -> None:
    """Like A-100003's Webinar trial: it ends with no billing information and costs nothing."""
    db = ctx.db
    acc = make_account(db, card=False, autopay=False)
    sid = make_subscription(
        db,
        acc,
        product="goto_webinar",
        plan="standard",
        licences=1,
        status="trial",
        anchor=date(2026, 4, 17),
        period=(date(2026, 4, 17), date(2026, 5, 1)),
        trial_end=date(2026, 5, 1),
    )
    run(ctx, date(2026, 4, 27))
    assert emails_of(db, acc) == []
    notice = run(ctx, date(2026, 4, 28))  # three days before the end
    assert notice.trial_notices == 1
    [email] = emails_of(db, acc)
    assert email.kind == "trial_ending" and "2026-05-01" in email.subject
    assert run(ctx, date(2026, 4, 30)).events == 0  # the notice goes out once
    assert get(db, Account, acc).active_subscriptions == 1

    ended = run(ctx, date(2026, 5, 1))
    assert (ended.trials_expired, ended.renewed, ended.invoices) == (1, 0, ())
    sub = get(db, Subscription, sid)
    assert (sub.status, sub.ended_on, sub.auto_renew) == ("trial_expired", date(2026, 5, 1), False)
    assert invoices_of(db, acc) == []
    assert [e.kind for e in emails_of(db, acc)] == ["trial_ending", "trial_ended"]
    assert "Nothing was charged" in emails_of(db, acc)[-1].body_text
    assert get(db, Account, acc).active_subscriptions == 0
    # the product card shows "Subscribe now": it is not under Discover other products
    codes = [i.product_code for i in renewal.discover_products(on(ctx, date(2026, 5, 1)), acc)]
    assert "goto_webinar" not in codes and "goto_meeting" in codes


def test_cancelled_trial_gets_no_ending_notice(ctx: AppContext) -> None:
    db = ctx.db
    acc = make_account(db)
    sid = make_subscription(
        db,
        acc,
        status="trial",
        anchor=date(2026, 4, 20),
        period=(date(2026, 4, 20), date(2026, 5, 4)),
        trial_end=date(2026, 5, 4),
        cancel_requested_at=datetime(2026, 4, 25, 10, 0),
        cancellation_effective=date(2026, 5, 4),
    )
    summary = run(ctx, date(2026, 5, 4))
    assert (summary.trial_notices, summary.trials_expired) == (0, 1)
    assert get(db, Subscription, sid).status == "trial_expired"
    assert [e.kind for e in emails_of(db, acc)] == ["trial_ended"]


# --------------------------------------------------------------------------- cancellations


def test_pending_cancellation_of_a100011_ends_and_is_discoverable(demo_ctx: AppContext) -> None:
    db = demo_ctx.db
    acc = account_id(db, "A-100011")
    meeting = sub_of(db, "A-100011", "goto_meeting")
    # anchored 2025-12-07 (today − 140 days): the current month ends on 2026-05-07
    assert (meeting.status, meeting.cancellation_effective) == (
        "cancellation_pending",
        date(2026, 5, 7),
    )
    assert get(db, Account, acc).active_subscriptions == 2
    listed = [i.product_code for i in renewal.discover_products(demo_ctx, acc)]
    assert "goto_meeting" not in listed
    invoices_before = len(invoices_of(db, acc))

    advance(demo_ctx, date(2026, 5, 6))
    assert sub_of(db, "A-100011", "goto_meeting").status == "cancellation_pending"

    summary = advance(demo_ctx, date(2026, 5, 7))
    assert summary.cancellations_ended == 1
    meeting = sub_of(db, "A-100011", "goto_meeting")
    assert (meeting.status, meeting.ended_on) == ("cancelled", date(2026, 5, 7))
    assert get(db, Account, acc).active_subscriptions == 1
    assert len(invoices_of(db, acc)) == invoices_before  # nothing billed for it
    items = {
        i.product_code: i for i in renewal.discover_products(on(demo_ctx, date(2026, 5, 7)), acc)
    }
    assert items["goto_meeting"].reason == "cancelled"
    assert items["goto_meeting"].can_buy
    assert items["goto_meeting"].ended_on == date(2026, 5, 7)
    assert items["goto_meeting"].data_deletion_date == date(2026, 8, 5)  # + 90 days
    assert items["goto_webinar"].reason == "never_bought"
    assert "gotoassist_rs_v5" not in items  # still active


def test_data_retention_is_marked_once(demo_ctx: AppContext) -> None:
    """A-100018's GoTo Meeting ended 2026-03-08; its data is marked for deletion 90 days later."""
    db = demo_ctx.db
    meeting = sub_of(db, "A-100018", "goto_meeting")
    assert meeting.status == "cancelled"
    deletion = meeting.ended_on + timedelta(days=90)
    assert deletion == date(2026, 6, 6)
    advance(demo_ctx, date(2026, 6, 5))
    sql = "SELECT count(*) FROM audit_entries WHERE action = 'data.marked_for_deletion'"
    assert db.reader.scalar(sql) == 0
    summary = advance(demo_ctx, date(2026, 6, 6))
    assert summary.marked_for_deletion == 1
    advance(demo_ctx, date(2026, 7, 31))
    assert db.reader.scalar(sql) == 1
    [(after,)] = db.reader.rows(
        "SELECT after_json FROM audit_entries WHERE action = 'data.marked_for_deletion'"
    )
    assert json.loads(after) == {
        "data_deletion_date": "2026-06-06",
        "ended_on": "2026-03-08",
        "product": "goto_meeting",
        "subscription_id": meeting.id,
    }
    assert sub_of(db, "A-100018", "goto_meeting").status == "cancelled"  # nothing deleted


def test_month_to_month_with_auto_renew_off_runs_out(ctx: AppContext) -> None:
    db = ctx.db
    acc = make_account(db)
    sid = make_subscription(
        db,
        acc,
        anchor=date(2026, 4, 5),
        period=(date(2026, 4, 5), date(2026, 5, 5)),
    )
    with db.transaction() as s:
        s.get(Subscription, sid).auto_renew = False
    summary = run(ctx, date(2026, 5, 5))
    assert (summary.renewed, summary.cancellations_ended) == (0, 1)
    sub = get(db, Subscription, sid)
    assert (sub.status, sub.ended_on) == ("cancelled", date(2026, 5, 5))


# --------------------------------------------------------------------------- fixed terms


def test_fixed_term_renews_for_another_term(demo_ctx: AppContext) -> None:
    """A-100019: the 12-month GoTo Meeting agreement was not cancelled 30 days before its end."""
    db = demo_ctx.db
    acc = account_id(db, "A-100019")
    sub = sub_of(db, "A-100019", "goto_meeting")
    assert (sub.term_start, sub.term_end, sub.period_end) == (
        date(2025, 5, 16),
        date(2026, 5, 16),
        date(2026, 5, 16),
    )
    summary = advance(demo_ctx, date(2026, 5, 16))
    assert summary.terms_renewed == 1
    sub = sub_of(db, "A-100019", "goto_meeting")
    assert (sub.term_start, sub.term_end, sub.status) == (
        date(2026, 5, 16),
        date(2027, 5, 16),
        "active",
    )
    invoice = invoices_of(db, acc)[-1]
    # 10 × 173.00 (annual Business) = 1,730.00; Spanish VAT number: reverse charge, 0 % VAT
    assert (invoice.issue_date, invoice.period_end) == (date(2026, 5, 16), date(2027, 5, 16))
    assert (invoice.total_minor, invoice.vat_minor, invoice.status) == (173000, 0, "paid")


def _fixed_term_pending(db: Any, *, terminated: bool) -> tuple[int, int]:
    """A 6-month Resolve agreement billed monthly, cancelled online to end with its term."""
    acc = make_account(db)
    sid = make_subscription(
        db,
        acc,
        product="logmein_resolve",
        plan="standard",
        licences=2,
        anchor=date(2026, 1, 10),
        period=(date(2026, 4, 10), date(2026, 5, 10)),
        status="cancellation_pending",
        contract="fixed_term",
        term_months=6,
        term_start=date(2026, 1, 10),
        term_end=date(2026, 7, 10),
        cancel_requested_at=datetime(2026, 4, 20, 10, 0),
        cancellation_effective=date(2026, 7, 10),
    )
    if terminated:  # assisted cancellation: the remaining months billed at once
        with db.transaction() as s:
            invoice = Invoice(
                number="INV-2026-000001",
                account_id=acc,
                kind="termination",
                issue_date=date(2026, 4, 20),
                due_date=date(2026, 4, 20),
                currency="EUR",
                subtotal_minor=16800,
                total_minor=16800,
                paid_minor=16800,
                status="paid",
                language="it",
            )
            invoice.lines.append(
                InvoiceLine(
                    position=1,
                    kind="termination",
                    description="Remaining months",
                    subscription_id=sid,
                    period_start=date(2026, 5, 10),
                    period_end=date(2026, 7, 10),
                    quantity=2,
                    unit_price_minor=8400,
                    amount_minor=16800,
                )
            )
            s.add(invoice)
            s.add(InvoiceSeries(prefix="INV-2026", next_number=2))
    return acc, sid


def test_fixed_term_cancelled_online_is_billed_to_its_end(ctx: AppContext) -> None:
    db = ctx.db
    acc, sid = _fixed_term_pending(db, terminated=False)
    summary = run(ctx, date(2026, 7, 31))
    # still billed monthly until the term ends: 2 × 42.00 = 84.00 + 22 % VAT 18.48 = 102.48
    assert [(i.period_start, i.period_end, i.total_minor) for i in invoices_of(db, acc)] == [
        (date(2026, 5, 10), date(2026, 6, 10), 10248),
        (date(2026, 6, 10), date(2026, 7, 10), 10248),
    ]
    assert (summary.terms_renewed, summary.cancellations_ended) == (0, 1)
    sub = get(db, Subscription, sid)
    assert (sub.status, sub.ended_on, sub.term_end) == (
        "cancelled",
        date(2026, 7, 10),
        date(2026, 7, 10),
    )


def test_fixed_term_billed_on_a_termination_invoice_is_not_billed_again(ctx: AppContext) -> None:
    db = ctx.db
    acc, sid = _fixed_term_pending(db, terminated=True)
    run(ctx, date(2026, 7, 31))
    assert [i.kind for i in invoices_of(db, acc)] == ["termination"]
    sub = get(db, Subscription, sid)
    assert (sub.status, sub.ended_on) == ("cancelled", date(2026, 7, 10))
    actions = db.reader.rows("SELECT action FROM audit_entries WHERE account_id = :a", {"a": acc})
    assert [a for (a,) in actions].count("subscription.period_advanced") == 2  # May, June


def test_late_cancellation_renews_the_term_first(ctx: AppContext) -> None:
    """Cancelled 20 days before the end: another term follows, billed, then the agreement ends."""
    db = ctx.db
    acc = make_account(db)
    sid = make_subscription(
        db,
        acc,
        product="goto_meeting",
        plan="professional",
        licences=1,
        anchor=date(2025, 5, 16),
        period=(date(2026, 4, 16), date(2026, 5, 16)),
        status="cancellation_pending",
        contract="fixed_term",
        term_months=3,
        term_start=date(2026, 2, 16),
        term_end=date(2026, 5, 16),
        cancel_requested_at=datetime(2026, 4, 26, 10, 0),
        cancellation_effective=date(2026, 8, 16),
    )
    summary = run(ctx, date(2026, 8, 31))
    assert (summary.terms_renewed, summary.renewed, summary.cancellations_ended) == (1, 3, 1)
    sub = get(db, Subscription, sid)
    assert (sub.term_start, sub.term_end) == (date(2026, 5, 16), date(2026, 8, 16))
    assert (sub.status, sub.ended_on) == ("cancelled", date(2026, 8, 16))
    # 1 × 12.00 + 22 % VAT 2.64 = 14.64 for May, June and July
    assert [i.total_minor for i in invoices_of(db, acc)] == [1464, 1464, 1464]


# --------------------------------------------------------------------------- the whole run


def test_running_twice_changes_nothing_more(demo_ctx: AppContext) -> None:
    db = demo_ctx.db
    first = advance(demo_ctx, date(2026, 7, 31))
    assert first.renewed > 20 and first.trials_expired == 1 and first.cancellations_ended == 1
    snapshot = dump(db)
    again = advance(demo_ctx, date(2026, 7, 31))
    assert again.events == 0 and again.invoices == ()
    assert dump(db) == snapshot
    earlier = advance(demo_ctx, date(2026, 6, 1))  # going back does nothing either
    assert earlier.events == 0 and dump(db) == snapshot
    assert db.setting("clock.today") == "2026-07-31"
    assert db.setting(renewal.PROCESSED_KEY) == "2026-07-31"


def test_invoice_numbers_are_gap_free_and_follow_dates(demo_ctx: AppContext) -> None:
    db = demo_ctx.db
    summary = advance(demo_ctx, date(2027, 1, 20))
    assert len(summary.invoices) > 100
    for year in (2026, 2027):
        rows = db.reader.rows(
            "SELECT number, issue_date FROM invoices WHERE number LIKE :p ORDER BY number",
            {"p": f"INV-{year}-%"},
        )
        numbers = [int(n.rsplit("-", 1)[1]) for n, _ in rows]
        assert numbers == list(range(1, len(numbers) + 1))
        series = db.reader.scalar(
            "SELECT next_number FROM invoice_series WHERE prefix = :p", {"p": f"INV-{year}"}
        )
        assert series == len(numbers) + 1
        issued = [d for _, d in rows]
        assert issued == sorted(issued)  # numbers follow issue dates, across accounts
    accounts = db.reader.rows(
        "SELECT DISTINCT account_id FROM invoices WHERE number IN ({})".format(
            ",".join(f"'{n}'" for n in summary.invoices[:12])
        )
    )
    assert len(accounts) > 3  # the first dozen renewals interleave several accounts


@pytest.mark.parametrize("bulk", [True, False], ids=["bulk", "per-event"])
def test_a_crash_mid_run_keeps_whole_events_and_a_rerun_continues(
    demo_ctx: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bulk: bool
) -> None:
    from billing_desktop.config import target_from
    from billing_desktop.services.context import local_operator
    from billing_desktop.services.demo import load_curated
    from billing_desktop.store.database import open_database

    if bulk and not demo_ctx.db.target.is_sqlite:
        pytest.skip("the bulk path runs on SQLite only; PostgreSQL renews event by event")
    monkeypatch.setattr(renewal, "BULK", bulk)
    # the reference: the same data, run without incident
    other = open_database(target_from(str(tmp_path / "reference.sqlite3")))
    try:
        load_curated(other, date(2026, 4, 26))
        reference = dataclasses.replace(demo_ctx, db=other, operator=local_operator(other))
        advance(reference, date(2026, 6, 30))
        expected = dump(other, skip_run_entries=True)
        expected.pop("operators")  # the local operator's creation time differs
    finally:
        other.dispose()

    monkeypatch.setattr(renewal, "CHUNK_EVENTS", 3)
    # the bulk path issues its invoices in _BulkChunk._invoice, the other in issue_invoice
    owner, name = (renewal._BulkChunk, "_invoice") if bulk else (renewal, "issue_invoice")
    real_issue = getattr(owner, name)
    calls = {"n": 0}

    def crashing_issue(*args: Any, **kw: Any) -> Any:
        calls["n"] += 1
        invoice = real_issue(*args, **kw)
        if calls["n"] == 8:
            raise RuntimeError("power cut")  # after the invoice was written, before commit
        return invoice

    monkeypatch.setattr(owner, name, crashing_issue)
    db = demo_ctx.db
    curated = db.reader.scalar("SELECT count(*) FROM invoices")
    with pytest.raises(RuntimeError):
        advance(demo_ctx, date(2026, 6, 30))
    written = db.reader.scalar("SELECT count(*) FROM invoices") - curated
    assert 0 < written < 8  # the chunks before the crash are kept, the crashed one is not
    renewed = db.reader.scalar(
        "SELECT count(*) FROM audit_entries WHERE action = 'subscription.renewed'"
    )
    assert renewed == written  # each event whole: invoice and period change together
    assert db.setting(renewal.PROCESSED_KEY) < "2026-06-30"

    monkeypatch.setattr(owner, name, real_issue)
    advance(demo_ctx, date(2026, 6, 30))
    resumed = dump(db, skip_run_entries=True)
    resumed.pop("operators")
    if db.target.is_sqlite:
        assert resumed == expected
    else:
        # PostgreSQL's sequences do not roll back: the crashed chunk's row ids stay
        # unused, so the rows are compared without their ids (invoice numbers, which
        # come from the gap-free series, are compared)
        assert _without_ids(db, resumed) == _without_ids(db, expected)


def _without_ids(db: Any, tables: dict[str, list[tuple[Any, ...]]]) -> dict[str, list]:
    """Each table's rows without their id and foreign-key id columns, sorted."""
    from sqlalchemy import inspect

    inspector = inspect(db.engine)
    out = {}
    for table, rows in tables.items():
        names = [column["name"] for column in inspector.get_columns(table)]
        keep = [i for i, name in enumerate(names) if name != "id" and not name.endswith("_id")]
        out[table] = sorted((tuple(row[i] for i in keep) for row in rows), key=repr)
    return out


def test_one_bad_subscription_does_not_stop_the_run(ctx: AppContext) -> None:
    db = ctx.db
    good = make_account(db)
    bad = make_account(db, country="CH", currency="CHF")  # the catalog has no CHF prices
    for acc in (good, bad):
        make_subscription(
            db,
            acc,
            plan="basic",
            licences=1,
            anchor=date(2026, 4, 1),
            period=(date(2026, 4, 1), date(2026, 5, 1)),
        )
    summary = run(ctx, date(2026, 5, 1))
    assert summary.renewed == 1 and len(invoices_of(db, good)) == 1
    [failure] = summary.failures
    assert failure.kind is EventKind.RENEWAL and failure.date == date(2026, 5, 1)
    assert failure.account_number == get(db, Account, bad).account_number
    assert "CHF" in failure.message
    assert invoices_of(db, bad) == []
    # retried by the next run, which again changes nothing
    snapshot = dump(db)
    assert len(run(ctx, date(2026, 5, 1)).failures) == 1
    assert dump(db) == snapshot


def test_progress_and_cancelling_between_events(
    demo_ctx: AppContext, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setattr(renewal, "CHUNK_EVENTS", 4)
    seen: list[tuple[int, int]] = []

    class Stopper:
        cancelled = False

        def update(self, stage: str, done: int, total: int) -> None:
            seen.append((done, total))
            if done >= 8:
                self.cancelled = True

    with pytest.raises(RenewalCancelled) as caught:
        advance(demo_ctx, date(2026, 6, 30), progress=Stopper())
    partial = caught.value.summary
    assert partial.events == 8 and seen[0][0] == 0 and seen[-1][0] == 8
    db = demo_ctx.db
    done_through = db.setting(renewal.PROCESSED_KEY)
    assert db.setting("clock.today") == done_through < "2026-06-30"  # the clock stops with it

    calls: list[tuple[int, int]] = []
    rest = advance(demo_ctx, date(2026, 6, 30), progress=lambda d, t: calls.append((d, t)))
    assert calls[-1][0] == calls[-1][1] == rest.events
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    # the same number of events as one uninterrupted run on a twin database
    import dataclasses

    from billing_desktop.config import target_from
    from billing_desktop.services.demo import load_curated
    from billing_desktop.store.database import open_database

    twin = open_database(target_from(str(tmp_path / "twin.sqlite3")))
    try:
        from billing_desktop.services.context import local_operator

        load_curated(twin, demo_ctx.clock.today())
        twin_ctx = dataclasses.replace(demo_ctx, db=twin, operator=local_operator(twin))
        whole = advance(twin_ctx, date(2026, 6, 30))
    finally:
        twin.dispose()
    assert whole.events > 8
    assert partial.events + rest.events == whole.events


# --------------------------------------------------------------------------- who, when


def test_permissions_and_dates(as_role: Any) -> None:
    refused = [
        as_role("viewer"),
        as_role("support"),  # support runs renewals on real databases, not a demo's clock
        as_role("trainer", is_demo=False),
        as_role("viewer", is_demo=False),
    ]
    db = refused[0].db
    snapshot = dump(db)
    for ctx in refused:
        with pytest.raises(PermissionDenied):
            advance(ctx, date(2026, 4, 30))
    real = as_role("support", is_demo=False)
    with pytest.raises(ValidationError) as future:
        advance(real, date(2026, 4, 27))  # a real database runs up to today only
    assert future.value.code == "renewal_date_in_future"
    assert dump(db) == snapshot
    assert advance(real, date(2026, 4, 26)).renewed == 0
    assert advance(as_role("trainer"), date(2026, 4, 30)).renewed == 2  # A-100008, A-100012


def test_moving_the_clock_runs_the_engine(as_role: Any) -> None:
    trainer = as_role("trainer")
    summary = set_simulated_date(trainer, date(2026, 5, 1))
    assert summary.trials_expired == 1 and summary.clock == date(2026, 5, 1)
    assert trainer.db.setting("clock.today") == "2026-05-01"
    with pytest.raises(ValidationError) as back:
        set_simulated_date(trainer, date(2026, 4, 30))
    assert back.value.code == "clock_backwards"
    with pytest.raises(PermissionDenied):
        set_simulated_date(as_role("admin", is_demo=False), date(2026, 5, 2))


def test_upcoming_events_and_next_event_date(demo_ctx: AppContext) -> None:
    upcoming = renewal.upcoming_events(demo_ctx, limit=5)
    assert [(e.date, e.kind, e.account_number, e.product) for e in upcoming] == [
        (date(2026, 4, 28), EventKind.TRIAL_ENDING_NOTICE, "A-100003", "GoTo Webinar"),
        (date(2026, 4, 30), EventKind.RENEWAL, "A-100008", "GoToAssist Remote Support v4"),
        (date(2026, 4, 30), EventKind.RENEWAL, "A-100012", "GoToAssist Remote Support v5"),
        (date(2026, 5, 1), EventKind.TRIAL_EXPIRY, "A-100003", "GoTo Webinar"),
        (date(2026, 5, 6), EventKind.INVOICE_OVERDUE, "A-100005", None),
    ]
    assert upcoming[-1].invoice_number is not None
    assert renewal.next_event_date(demo_ctx) == date(2026, 4, 28)
    advance(demo_ctx, date(2026, 4, 28))
    assert renewal.next_event_date(demo_ctx, after=date(2026, 4, 28)) == date(2026, 4, 30)
    assert renewal.upcoming_events(demo_ctx, limit=1)[0].date == date(2026, 4, 30)


def test_next_event_date_sees_a_notice_before_an_earlier_trials_end(ctx: AppContext) -> None:
    db = ctx.db
    acc = make_account(db)
    for start, end in (
        (date(2026, 4, 20), date(2026, 5, 10)),
        (date(2026, 4, 22), date(2026, 5, 12)),
    ):
        make_subscription(db, acc, status="trial", anchor=start, period=(start, end), trial_end=end)
    today = on(ctx, date(2026, 5, 8))
    run(ctx, date(2026, 5, 8))  # the first trial's notice (due 05-07, first run 05-08) is sent
    # next: the second trial's notice on 2026-05-09, before the first trial ends on 2026-05-10
    assert renewal.next_event_date(today) == date(2026, 5, 9)
    kinds = [(e.date, e.kind) for e in renewal.upcoming_events(today, limit=3)]
    assert kinds == [
        (date(2026, 5, 9), EventKind.TRIAL_ENDING_NOTICE),
        (date(2026, 5, 10), EventKind.TRIAL_EXPIRY),
        (date(2026, 5, 12), EventKind.TRIAL_EXPIRY),
    ]


# --------------------------------------------------------------------------- the two paths


def _edge_cases(db: Any) -> None:
    """Situations the generated accounts rarely hold, added to a twin database."""
    # a currency the catalog does not sell: the event fails on both paths
    chf = make_account(db, country="CH", currency="CHF")
    make_subscription(
        db, chf, plan="basic", licences=1, anchor=date(2026, 4, 1),
        period=(date(2026, 4, 1), date(2026, 5, 1)),
    )  # fmt: skip
    # credit pays part, the rest stays open (two version steps of the account), then overdue
    credit = make_account(db, card=False, autopay=False)
    with db.transaction() as s:
        s.get(Account, credit).credit_balance_minor = 3000
    make_subscription(
        db, credit, plan="basic", licences=2, anchor=date(2026, 1, 31),
        period=(date(2026, 3, 31), date(2026, 4, 30)),
    )  # fmt: skip
    # a fixed term cancelled in the middle of a period: the last period is shortened
    short = make_account(db)
    make_subscription(
        db, short, product="logmein_resolve", plan="standard", licences=2,
        anchor=date(2026, 1, 10), period=(date(2026, 4, 10), date(2026, 5, 10)),
        status="cancellation_pending", contract="fixed_term", term_months=6,
        term_start=date(2026, 1, 10), term_end=date(2026, 7, 10),
        cancel_requested_at=datetime(2026, 4, 20, 10, 0),
        cancellation_effective=date(2026, 6, 25),
    )  # fmt: skip
    # the remaining months already billed on an early-termination invoice
    ended = make_account(db)
    sid = make_subscription(
        db, ended, product="logmein_resolve", plan="standard", licences=2,
        anchor=date(2026, 1, 10), period=(date(2026, 4, 10), date(2026, 5, 10)),
        status="cancellation_pending", contract="fixed_term", term_months=6,
        term_start=date(2026, 1, 10), term_end=date(2026, 7, 10),
        cancel_requested_at=datetime(2026, 4, 20, 10, 0),
        cancellation_effective=date(2026, 7, 10),
    )  # fmt: skip
    with db.transaction() as s:
        invoice = Invoice(
            number="TERM-000001", account_id=ended, kind="termination",
            issue_date=date(2026, 4, 20), due_date=date(2026, 4, 20), currency="EUR",
            subtotal_minor=16800, total_minor=16800, paid_minor=16800, status="paid",
            language="it",
        )  # fmt: skip
        invoice.lines.append(
            InvoiceLine(
                position=1, kind="termination", description="Remaining months",
                subscription_id=sid, period_start=date(2026, 5, 10),
                period_end=date(2026, 7, 10), quantity=2, unit_price_minor=8400,
                amount_minor=16800,
            )
        )  # fmt: skip
        s.add(invoice)
    # cancelled add-ons: one ends at the next renewal, one a period later; and one of
    # a subscription whose remaining months were billed on the termination invoice
    addons = make_account(db)
    sid_addons = make_subscription(
        db, addons, plan="standard", licences=3, anchor=date(2026, 1, 28),
        period=(date(2026, 3, 28), date(2026, 4, 28)),
        addons=("mobile_device_support", "camera_share"),
    )  # fmt: skip
    _end_addons(db, sid_addons, {"mobile_device_support": date(2026, 4, 28),
                                 "camera_share": date(2026, 5, 28)})  # fmt: skip
    with db.transaction() as s:
        addon = s.scalar(select(Product).where(Product.code == "logmein_resolve")).addons[0]
        s.add(SubscriptionAddon(subscription_id=sid, addon_id=addon.id,
                                added_on=date(2026, 1, 10), ends_on=date(2026, 5, 10)))  # fmt: skip
    # month to month with auto-renew off runs out; a cancelled trial gets no notice
    out = make_account(db)
    runs_out = make_subscription(
        db, out, plan="basic", licences=1, anchor=date(2026, 4, 5),
        period=(date(2026, 4, 5), date(2026, 5, 5)),
    )  # fmt: skip
    with db.transaction() as s:
        s.get(Subscription, runs_out).auto_renew = False
    make_subscription(
        db, out, product="goto_meeting", plan="professional", licences=1, status="trial",
        anchor=date(2026, 4, 20), period=(date(2026, 4, 20), date(2026, 5, 4)),
        trial_end=date(2026, 5, 4), cancel_requested_at=datetime(2026, 4, 21, 9, 0),
    )  # fmt: skip


def test_bulk_path_writes_exactly_the_per_event_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both paths on twin databases (curated + generated accounts + edge cases), 13 months:
    the same summary and the same rows in every table, ids and versions included."""
    import shutil

    from billing_desktop.config import target_from
    from billing_desktop.services.context import local_operator
    from billing_desktop.services.demo import build_demo_database
    from billing_desktop.store.database import open_database

    today = date(2026, 4, 26)
    first = tmp_path / "per-event.sqlite3"
    build_demo_database(target_from(str(first)), accounts=40, seed=3, today=today)
    db = open_database(target_from(str(first)))
    local_operator(db)
    _edge_cases(db)
    db.dispose()
    second = tmp_path / "bulk.sqlite3"
    shutil.copy(first, second)

    results = []
    for path, bulk, chunk in ((first, False, 200), (second, True, 37)):
        monkeypatch.setattr(renewal, "BULK", bulk)
        monkeypatch.setattr(renewal, "CHUNK_EVENTS", chunk)  # follow-ups cross chunks
        db = open_database(target_from(str(path)))
        try:
            ctx = AppContext(db=db, clock=FixedClock(today), operator=local_operator(db),
                             is_demo=True)  # fmt: skip
            summary = advance(ctx, date(2027, 5, 31))
            results.append((summary, dump(db)))
        finally:
            db.dispose()
    (old_summary, old_rows), (new_summary, new_rows) = results
    assert old_summary.renewed > 500 and old_summary.invoices_overdue > 0
    assert old_summary.terms_renewed and old_summary.trials_expired
    assert old_summary.cancellations_ended and old_summary.marked_for_deletion
    assert len(old_summary.failures) == 1  # the CHF subscription (retried by the next run)
    assert new_summary == old_summary
    for table in old_rows:
        assert new_rows[table] == old_rows[table], table


def test_bulk_path_reloads_what_others_changed_between_its_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bulk path keeps its records between chunks only while nothing else writes.

    After the first transaction (A-100008 renewed on 04-30), its licences change
    through the same connection pool and its account credit through another
    connection, without touching the version columns: the 05-30 renewal must
    bill 15 licences and use the credit, as the per-event path does.
    """
    import shutil
    import sqlite3

    from billing_desktop.config import target_from
    from billing_desktop.services.context import local_operator
    from billing_desktop.services.demo import load_curated
    from billing_desktop.store.database import open_database

    today = date(2026, 4, 26)
    first = tmp_path / "per-event.sqlite3"
    db = open_database(target_from(str(first)))
    load_curated(db, today)
    local_operator(db)
    db.dispose()
    second = tmp_path / "bulk.sqlite3"
    shutil.copy(first, second)
    monkeypatch.setattr(renewal, "CHUNK_EVENTS", 5)

    results = []
    for path, bulk in ((first, False), (second, True)):
        monkeypatch.setattr(renewal, "BULK", bulk)
        db = open_database(target_from(str(path)))
        try:
            acc = account_id(db, "A-100008")
            forgotten: list[int] = []
            real_forget = renewal._Engine.forget_records
            monkeypatch.setattr(
                renewal._Engine, "forget_records",
                lambda self, log=forgotten, real=real_forget: (log.append(1), real(self)),
            )  # fmt: skip

            def meddle(
                done: int, total: int, db: Any = db, acc: int = acc, path: Path = path
            ) -> None:
                if done == 0 or meddle.done:  # type: ignore[attr-defined]
                    return
                meddle.done = True  # type: ignore[attr-defined]
                with db.engine.begin() as conn:  # the engine's pool: maybe its connection
                    conn.exec_driver_sql(
                        "UPDATE subscriptions SET licence_count = 15 WHERE account_id = ?", (acc,)
                    )
                other = sqlite3.connect(path)  # another connection
                with other:
                    other.execute(
                        "UPDATE accounts SET credit_balance_minor = 10000 WHERE id = ?", (acc,)
                    )
                other.close()

            meddle.done = False  # type: ignore[attr-defined]
            ctx = AppContext(db=db, clock=FixedClock(today), operator=local_operator(db),
                             is_demo=True)  # fmt: skip
            summary = advance(ctx, date(2026, 6, 30), progress=meddle)
            may = [i for i in invoices_of(db, acc) if i.issue_date == date(2026, 5, 30)]
            results.append((summary, dump(db), may, len(forgotten)))
        finally:
            db.dispose()
    (old_summary, old_rows, [old_may], _), (new_summary, new_rows, [new_may], forgot) = results
    assert old_may.lines[0].quantity == 15 and old_may.credit_applied_minor == 10000
    assert (new_may.lines[0].quantity, new_may.credit_applied_minor) == (15, 10000)
    assert new_summary == old_summary
    for table in old_rows:
        assert new_rows[table] == old_rows[table], table
    assert forgot == 2  # at the start, and once after the change


def _curated_twins(tmp_path: Path) -> tuple[Path, Path]:
    import shutil

    from billing_desktop.config import target_from
    from billing_desktop.services.context import local_operator
    from billing_desktop.services.demo import load_curated
    from billing_desktop.store.database import open_database

    first = tmp_path / "first.sqlite3"
    db = open_database(target_from(str(first)))
    load_curated(db, date(2026, 4, 26))
    local_operator(db)
    db.dispose()
    second = tmp_path / "second.sqlite3"
    shutil.copy(first, second)
    return first, second


def _run_on(path: Path, until: date, **context: Any) -> tuple[Any, dict[str, Any]]:
    from billing_desktop.config import target_from
    from billing_desktop.services.context import local_operator
    from billing_desktop.store.database import open_database

    db = open_database(target_from(str(path)))
    try:
        ctx = AppContext(db=db, clock=FixedClock(date(2026, 4, 26)),
                         operator=local_operator(db), is_demo=True, **context)  # fmt: skip
        return advance(ctx, until), dump(db)
    finally:
        db.dispose()


def test_bulk_path_renders_with_the_injected_renderer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A renderer given to the context writes the emails on both paths; one that fails
    falls back to the plain English text, as ``queue_email`` does."""

    class Renderer:
        def email(self, kind: Any, language: str, params: Any) -> tuple[str, str]:
            if kind == "trial_ended":
                raise RuntimeError("no translation")
            return f"[{language}] {kind} {params.get('invoice_number', '')}", repr(
                sorted((k, str(v)) for k, v in params.items())
            )

    first, second = _curated_twins(tmp_path)
    monkeypatch.setattr(renewal, "BULK", False)
    old = _run_on(first, date(2026, 6, 30), renderer=Renderer())
    monkeypatch.setattr(renewal, "BULK", True)
    new = _run_on(second, date(2026, 6, 30), renderer=Renderer())
    assert new == old
    subjects = [row[5] for row in new[1]["emails"]]
    assert any(s.startswith("[it] renewal_invoice INV-2026-") for s in subjects)
    assert "Your GoTo Webinar trial has ended" in subjects  # the plain fallback


def test_bulk_chunk_that_cannot_be_written_is_replayed_event_by_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writing a chunk's rows fails (a conflict): the chunk is rolled back and replayed on
    the per-event path with savepoints; the run ends as an undisturbed one."""
    from sqlalchemy.exc import IntegrityError

    first, second = _curated_twins(tmp_path)
    monkeypatch.setattr(renewal, "CHUNK_EVENTS", 6)
    expected = _run_on(first, date(2026, 7, 31))
    real_write = renewal._BulkChunk.write
    calls = {"n": 0}

    def failing_write(self: Any) -> None:
        calls["n"] += 1
        real_write(self)  # the rows are in; the failure comes before the commit
        if calls["n"] == 2:
            raise IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))

    monkeypatch.setattr(renewal._BulkChunk, "write", failing_write)
    replayed = []
    real_chunk = renewal._Engine._chunk
    monkeypatch.setattr(
        renewal._Engine, "_chunk",
        lambda self, session, careful: replayed.append(careful) or real_chunk(
            self, session, careful=careful
        ),
    )  # fmt: skip
    assert _run_on(second, date(2026, 7, 31)) == expected
    assert replayed == [True]  # once, with savepoints


# --------------------------------------------------------------------------- cancelled add-ons
#
# A cancelled add-on stays usable until ``ends_on`` (its first day without it).
# The engine does not bill it for a period starting on or after that day, sets it
# inactive then, and says so in the renewal's audit entry.
#
# The subscription: GoToAssist Remote Support v5 Standard, 5 licences, monthly,
# anchored on the 10th, current period 2026-04-10 → 05-10, Italian account without
# a VAT number (22 %), a Visa card and autopay. Mobile device support (9.00 per
# licence) was cancelled to end on 05-10, Camera share (5.00 per licence) on 06-10.


def _end_addons(db: Any, sub: int, ends: dict[str, date]) -> None:
    with db.transaction() as s:
        for row in s.get(Subscription, sub).addons:
            if row.addon.code in ends:
                row.ends_on = ends[row.addon.code]


def _addons(db: Any, sub: int) -> list[tuple]:
    return db.reader.rows(
        "SELECT a.code, sa.active, sa.ends_on FROM subscription_addons sa"
        " JOIN addons a ON a.id = sa.addon_id WHERE sa.subscription_id = :s ORDER BY a.code",
        {"s": sub},
    )


def _renewal(db: Any, account: int, start: str) -> tuple[list[tuple], int, dict]:
    """Lines and total of the renewal invoice of the period starting ``start``, and the
    after-values of its audit entry."""
    invoice_id, number, total = db.reader.rows(
        "SELECT id, number, total_minor FROM invoices"
        " WHERE account_id = :a AND kind = 'renewal' AND period_start = :p",
        {"a": account, "p": start},
    )[0]
    lines = db.reader.rows(
        "SELECT kind, description, quantity, unit_price_minor, amount_minor"
        " FROM invoice_lines WHERE invoice_id = :i ORDER BY position",
        {"i": invoice_id},
    )
    (after,) = db.reader.rows(
        "SELECT after_json FROM audit_entries WHERE action = 'subscription.renewed'"
        " AND after_json LIKE :n",
        {"n": f'%"{number}"%'},
    )[0]
    return lines, total, json.loads(after)


@pytest.mark.parametrize("bulk", [True, False], ids=["bulk", "per-event"])
def test_cancelled_addons_end_at_their_renewal(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch, bulk: bool
) -> None:
    monkeypatch.setattr(renewal, "BULK", bulk)
    db = ctx.db
    account = make_account(db)
    sub = make_subscription(
        db, account, plan="standard", licences=5, anchor=date(2026, 1, 10),
        period=(date(2026, 4, 10), date(2026, 5, 10)),
        addons=("mobile_device_support", "camera_share"),
    )  # fmt: skip
    _end_addons(db, sub, {"mobile_device_support": date(2026, 5, 10),
                          "camera_share": date(2026, 6, 10)})  # fmt: skip

    run(ctx, date(2026, 5, 10))
    lines, total, after = _renewal(db, account, "2026-05-10")
    # Mobile device support ends on 05-10: not billed. 5 × 39.00 = 195.00 and
    # 5 × 5.00 = 25.00; VAT 22 %: 42.90 + 5.50 = 48.40; total 268.40
    assert lines == [
        ("charge", "GoToAssist Remote Support v5 Standard", 5, 3900, 19500),
        ("addon", "Camera share", 5, 500, 2500),
    ]
    assert total == 26840
    assert after["addons_ended"] == ["mobile_device_support"]
    assert _addons(db, sub) == [
        ("camera_share", 1, "2026-06-10"), ("mobile_device_support", 0, "2026-05-10"),
    ]  # fmt: skip

    run(ctx, date(2026, 7, 10))
    # 06-10: Camera share ends; 195.00 + 42.90 VAT = 237.90
    lines, total, after = _renewal(db, account, "2026-06-10")
    assert lines == [("charge", "GoToAssist Remote Support v5 Standard", 5, 3900, 19500)]
    assert total == 23790
    assert after["addons_ended"] == ["camera_share"]
    assert _addons(db, sub) == [
        ("camera_share", 0, "2026-06-10"), ("mobile_device_support", 0, "2026-05-10"),
    ]  # fmt: skip
    # 07-10: nothing ends any more
    lines, total, after = _renewal(db, account, "2026-07-10")
    assert total == 23790 and "addons_ended" not in after
