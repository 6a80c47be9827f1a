"""Cancellation at service level: articles 000 (online) and 002 (support-assisted).

The curated demo accounts are loaded for 2026-04-26 (``demo_ctx``). Amounts are
written out in the comments; "net" amounts are before VAT.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from helpers import dump
from sqlalchemy import delete, func, select

from billing_desktop.domain.money import Money
from billing_desktop.domain.periods import Period
from billing_desktop.services import cancellation as cx
from billing_desktop.services.clock import FixedClock
from billing_desktop.services.errors import (
    ConflictError,
    NotFound,
    PermissionDenied,
    PolicyViolation,
    ValidationError,
)
from billing_desktop.services.invoicing import apply_payment
from billing_desktop.store.models import (
    Account,
    AuditEntry,
    Contact,
    Email,
    Invoice,
    LicenceAssignment,
    Plan,
    Product,
    Subscription,
    SubscriptionAddon,
)
from billing_desktop.store.totals import refresh_account_totals

TODAY = date(2026, 4, 26)


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


# --------------------------------------------------------------------------- helpers


@dataclasses.dataclass(frozen=True)
class Acct:
    id: int
    number: str
    subs: dict[str, int]  # product code -> subscription id
    contacts: dict[str, int]  # first name -> contact id


def acct(ctx, number: str) -> Acct:
    with ctx.db.transaction() as s:
        a = s.scalar(select(Account).where(Account.account_number == number))
        return Acct(
            a.id,
            a.account_number,
            {sub.product.code: sub.id for sub in a.subscriptions},
            {c.first_name: c.id for c in a.contacts},
        )


def sub_row(ctx, sub_id: int) -> dict:
    with ctx.db.transaction() as s:
        sub = s.get(Subscription, sub_id)
        return {
            name: getattr(sub, name)
            for name in (
                "status", "auto_renew", "cancel_requested_at", "cancellation_effective",
                "cancel_reason", "cancel_reason_text", "version", "period_end",
            )
        }  # fmt: skip


def emails(ctx, account_id: int) -> list[tuple[str, str, str, str]]:
    with ctx.db.transaction() as s:
        rows = s.scalars(select(Email).where(Email.account_id == account_id).order_by(Email.id))
        return [(e.kind, e.to_address, e.status, e.body_text) for e in rows]


def audits(ctx, account_id: int, action: str) -> list[AuditEntry]:
    with ctx.db.transaction() as s:
        rows = list(
            s.scalars(
                select(AuditEntry)
                .where(AuditEntry.account_id == account_id, AuditEntry.action == action)
                .order_by(AuditEntry.id)
            )
        )
        s.expunge_all()
        return rows


def invoice_count(ctx, account_id: int) -> int:
    with ctx.db.transaction() as s:
        return s.scalar(select(func.count()).where(Invoice.account_id == account_id))


def settle_open_invoices(ctx, account_id: int) -> Money:
    """The way out of "outstanding balance": record a payment for every open invoice."""
    paid = Money.zero("EUR")
    with ctx.db.transaction() as s:
        account = s.get(Account, account_id)
        for inv in s.scalars(
            select(Invoice).where(Invoice.account_id == account_id, Invoice.status == "open")
        ):
            due = Money.from_minor(inv.due_minor, inv.currency)
            paid = paid + apply_payment(
                s, account, inv, due, datetime(2026, 4, 26, 9, 5), account.payment_methods[0]
            )
        s.flush()
        refresh_account_totals(s, account)
    return paid


def unassign_all(ctx, sub_id: int) -> int:
    """The way out of "licences assigned": unassign every seat of the subscription."""
    with ctx.db.transaction() as s:
        return s.execute(
            delete(LicenceAssignment).where(LicenceAssignment.subscription_id == sub_id)
        ).rowcount


def verify_a100005(ctx, **overrides: str) -> cx.VerificationResult:
    answers = {
        "account_number": "A-100005",
        "billing_admin_email": "Sanne.deVries@vanderberg-techniek.example",
        "last4": "5100",
        "billing_address": "Maliebaan  48",
        "postal_code": "3581cr",
    }
    answers.update(overrides)
    return cx.verify_caller(ctx, "A-100005", **answers)


# --------------------------------------------------------------------------- article 000


def test_cancel_online_annual_v4_then_reactivate(demo_ctx) -> None:
    """A-100001: GoToAssist v4 Premium, 3 licences, annual, anchored 2024-10-13."""
    a = acct(demo_ctx, "A-100001")
    sub_id = a.subs["gotoassist_rs_v4"]
    invoices_before = invoice_count(demo_ctx, a.id)

    preview = cx.cancellation_preview(demo_ctx, sub_id)
    result = cx.cancel_online(demo_ctx, sub_id, reason="too_expensive")

    # the current year 2025-10-13 – 2026-10-13 runs out; nothing more is billed
    assert result.status == "cancellation_pending"
    assert result.expiry_date == date(2026, 10, 13)
    assert result.warning is None and not result.renewed
    assert result.data_deletion_date == date(2027, 1, 11)  # 2026-10-13 + 90 days
    # still billed = the current year: 3 × 486.00 + camera share 3 × 43.00 = 1 587.00 (no refund)
    assert result.amount_still_billed == eur("1587.00")
    assert result.preview.additional_charge == eur("0.00")
    assert result.preview == preview  # the confirmation window showed exactly this
    assert invoice_count(demo_ctx, a.id) == invoices_before

    row = sub_row(demo_ctx, sub_id)
    assert row["status"] == "cancellation_pending"
    assert row["auto_renew"] is False
    assert row["cancel_requested_at"] == datetime(2026, 4, 26, 9, 0)
    assert row["cancellation_effective"] == date(2026, 10, 13) == row["period_end"]
    assert row["cancel_reason"] == "too_expensive"

    [(kind, to, status, body)] = emails(demo_ctx, a.id)
    assert (kind, to, status) == (
        "cancellation_confirmed",
        "marco.rossi@rossi-impianti.example",
        "queued",
    )
    assert "2026-10-13" in body
    [entry] = audits(demo_ctx, a.id, "cancel_subscription")
    assert entry.requested_by_contact_id == a.contacts["Marco"]
    assert json.loads(entry.before_json)["status"] == "active"
    after = json.loads(entry.after_json)
    assert after["status"] == "cancellation_pending"
    assert after["cancellation_effective"] == "2026-10-13"
    assert after["cancel_reason"] == "too_expensive"

    # Reactivate before the expiry: active again, auto-renew on, cancellation cleared.
    back = cx.reactivate(demo_ctx, sub_id, expected_version=result.version)
    assert (back.status, back.auto_renew, back.next_billing_date) == (
        "active",
        True,
        date(2026, 10, 13),
    )
    row = sub_row(demo_ctx, sub_id)
    assert (row["status"], row["auto_renew"]) == ("active", True)
    assert row["cancel_requested_at"] is None and row["cancellation_effective"] is None
    assert row["cancel_reason"] is None
    assert [e[0] for e in emails(demo_ctx, a.id)] == ["cancellation_confirmed", "reactivated"]
    assert len(audits(demo_ctx, a.id, "reactivate_subscription")) == 1


def test_reactivate_after_the_effective_end_is_refused(demo_ctx, db) -> None:
    a = acct(demo_ctx, "A-100001")
    sub_id = a.subs["gotoassist_rs_v4"]
    cx.cancel_online(demo_ctx, sub_id, reason="other", reason_text="Moving to an in-house tool")
    row = sub_row(demo_ctx, sub_id)
    assert row["cancellation_effective"] == date(2026, 10, 13)
    assert row["cancel_reason_text"] == "Moving to an in-house tool"

    # The day before the end it could still be reactivated; on the end date it cannot.
    late = dataclasses.replace(demo_ctx, clock=FixedClock(date(2026, 10, 13)))
    before = dump(db)
    with pytest.raises(PolicyViolation) as err:
        cx.reactivate(late, sub_id)
    assert err.value.code == "reactivation_too_late"
    assert "2026-10-13" in str(err.value)
    assert dump(db) == before

    eve = dataclasses.replace(demo_ctx, clock=FixedClock(date(2026, 10, 12)))
    assert cx.reactivate(eve, sub_id).status == "active"


@pytest.mark.parametrize(
    ("reason", "text", "code"),
    [
        ("", "", "cancel_reason_required"),
        ("  ", "", "cancel_reason_required"),
        ("bored", "", "cancel_reason_unknown"),
        ("other", "   ", "cancel_reason_text_required"),
    ],
)
def test_a_reason_is_required(demo_ctx, db, reason, text, code) -> None:
    sub_id = acct(demo_ctx, "A-100001").subs["gotoassist_rs_v4"]
    before = dump(db)
    with pytest.raises(ValidationError) as err:
        cx.cancel_online(demo_ctx, sub_id, reason=reason, reason_text=text)
    assert err.value.code == code
    assert dump(db) == before


def test_only_the_billing_contact_cancels_online(demo_ctx, db) -> None:
    a = acct(demo_ctx, "A-100001")
    before = dump(db)
    with pytest.raises(PolicyViolation) as err:
        cx.cancel_online(
            demo_ctx, a.subs["gotoassist_rs_v4"], reason="too_expensive",
            requested_by=a.contacts["Giulia"],
        )  # fmt: skip
    assert err.value.code == "not_billing_contact"
    assert "Marco Rossi" in str(err.value)
    assert "marco.rossi@rossi-impianti.example" in str(err.value)
    assert dump(db) == before


@pytest.mark.parametrize(("number", "product"), [("A-100005", "logmein_resolve"),
                                                 ("A-100006", "goto_connect")])  # fmt: skip
def test_support_only_products_refuse_online_cancellation(demo_ctx, db, number, product):
    a = acct(demo_ctx, number)
    before = dump(db)
    with pytest.raises(PolicyViolation) as err:
        cx.cancel_online(demo_ctx, a.subs[product], reason="too_expensive")
    assert err.value.code == "cancel_contact_support"
    assert "contact support to cancel" in str(err.value).lower()
    assert dump(db) == before
    assert cx.cancellation_preview(demo_ctx, a.subs[product]).channel == "support"


def test_renewal_window_passed_warns_and_moves_the_end(demo_ctx) -> None:
    """A-100019: fixed 12-month GoTo Meeting 2025-05-16 → 2026-05-16, annual billing.

    The notice deadline was 2026-04-16 (end − 30 days); cancelled on 2026-04-26 the
    agreement renews once more, to 2027-05-16, and that year is billed too:
    10 licences × 173.00 = 1 730.00 for the current year + 1 730.00 for the renewed one.
    """
    a = acct(demo_ctx, "A-100019")
    result = cx.cancel_online(demo_ctx, a.subs["goto_meeting"], reason="switching_provider")
    assert result.status == "cancellation_pending"
    assert result.expiry_date == date(2027, 5, 16)
    assert result.renewed
    assert result.warning is not None and result.warning.code == "renewal_window_passed"
    assert "2026-05-16" in result.warning.text and "2027-05-16" in result.warning.text
    assert result.preview.months_billed == 24
    assert result.amount_still_billed == eur("3460.00")  # 2 × 1 730.00
    assert result.preview.renewal_notice_deadline == date(2026, 4, 16)
    assert sub_row(demo_ctx, a.subs["goto_meeting"])["cancellation_effective"] == date(2027, 5, 16)


def test_cancelling_a_trial_ends_it_at_trial_end_without_charge(demo_ctx) -> None:
    """A-100003: the GoTo Webinar trial runs 2026-04-17 → 2026-05-01."""
    a = acct(demo_ctx, "A-100003")
    sub_id = a.subs["goto_webinar"]
    invoices = invoice_count(demo_ctx, a.id)
    result = cx.cancel_online(demo_ctx, sub_id, reason="missing_features")
    assert result.status == "trial"  # the trial just ends on its own date
    assert result.expiry_date == date(2026, 5, 1)
    assert result.amount_still_billed == eur("0.00")
    row = sub_row(demo_ctx, sub_id)
    assert (row["status"], row["auto_renew"], row["cancellation_effective"]) == (
        "trial",
        False,
        date(2026, 5, 1),
    )
    assert invoice_count(demo_ctx, a.id) == invoices
    assert cx.reactivate(demo_ctx, sub_id).status == "trial"
    assert sub_row(demo_ctx, sub_id)["cancellation_effective"] is None


def test_nothing_to_cancel(demo_ctx, db) -> None:
    expired = acct(demo_ctx, "A-100003").subs["gotoassist_rs_v5"]
    pending = acct(demo_ctx, "A-100011").subs["goto_meeting"]
    before = dump(db)
    with pytest.raises(PolicyViolation) as err:
        cx.cancel_online(demo_ctx, expired, reason="too_expensive")
    assert err.value.code == "not_cancellable"
    with pytest.raises(PolicyViolation) as err:
        cx.cancel_online(demo_ctx, pending, reason="too_expensive")
    assert err.value.code == "already_cancellation_pending"
    with pytest.raises(PolicyViolation) as err:
        cx.reactivate(demo_ctx, acct(demo_ctx, "A-100001").subs["gotoassist_rs_v4"])
    assert err.value.code == "not_cancellation_pending"
    assert dump(db) == before


def test_overdue_invoice_blocks_online_cancellation(demo_ctx, db) -> None:
    a = acct(demo_ctx, "A-100009")
    before = dump(db)
    with pytest.raises(PolicyViolation) as err:
        cx.cancel_online(demo_ctx, a.subs["goto_meeting"], reason="too_expensive")
    assert err.value.code == "overdue_invoice"
    assert dump(db) == before


def test_stale_version_and_roles(demo_ctx, as_role, db) -> None:
    sub_id = acct(demo_ctx, "A-100001").subs["gotoassist_rs_v4"]
    version = sub_row(demo_ctx, sub_id)["version"]
    viewer, rep, support = as_role("viewer"), as_role("representative"), as_role("support")
    trainer_real_db = as_role("trainer", is_demo=False)
    before = dump(db)
    with pytest.raises(ConflictError):
        cx.cancel_online(demo_ctx, sub_id, reason="too_expensive", expected_version=version - 1)
    with pytest.raises(PermissionDenied):
        cx.cancel_online(viewer, sub_id, reason="too_expensive")
    with pytest.raises(PermissionDenied):  # a representative only on their corporate accounts
        cx.cancel_online(rep, sub_id, reason="too_expensive")
    with pytest.raises(PermissionDenied):  # a trainer only in a demo database
        cx.cancel_online(trainer_real_db, sub_id, reason="too_expensive")
    assert dump(db) == before
    assert cx.cancel_online(support, sub_id, reason="too_expensive").version > version


# --------------------------------------------------------------------------- article 002


def test_verify_caller_reports_each_item_and_audits_only_flags(demo_ctx) -> None:
    a = acct(demo_ctx, "A-100005")
    ok = verify_a100005(demo_ctx)
    assert ok.verified and ok.token is not None and ok.mismatches == ()

    wrong = verify_a100005(demo_ctx, last4="5101", postal_code="3581 CS")
    assert not wrong.verified and wrong.token is None
    assert wrong.mismatches == ("last4", "postal_code")
    assert {i.code: i.matched for i in wrong.items} == {
        "account_id": True, "billing_admin_email": True, "last4": False,
        "billing_address": True, "postal_code": False,
    }  # fmt: skip

    entries = audits(demo_ctx, a.id, "verify_caller")
    assert len(entries) == 2
    last = json.loads(entries[-1].after_json)
    assert last == {
        "account_id": True, "billing_admin_email": True, "last4": False,
        "billing_address": True, "postal_code": False, "verified": False,
    }  # fmt: skip
    assert "5101" not in entries[-1].after_json and "3581" not in entries[-1].after_json


def test_assisted_checklist_of_a100005_with_ways_out(demo_ctx) -> None:
    a = acct(demo_ctx, "A-100005")
    checklist = cx.assisted_checklist(
        demo_ctx, a.id, requester_contact_id=a.contacts["Sanne"],
        subscription_ids=[a.subs["logmein_resolve"]],
    )  # fmt: skip
    states = {i.code: (i.state.value, i.remedy) for i in checklist.items}
    assert states == {
        "caller_verified": ("failed", "verify_caller"),
        "requester_role": ("passed", None),
        "no_outstanding_balance": ("failed", "record_payment"),
        "contract_terms": ("passed", None),
        "licences_unassigned": ("failed", "unassign_licences"),
        "data_backed_up": ("failed", "export_account"),
    }
    assert not checklist.ready
    # the open invoice of the current month: 8 × 58.00 + patch management 8 × 6.00 = 512.00
    assert checklist.item("no_outstanding_balance").params["amount"] == eur("512.00")
    assert checklist.item("licences_unassigned").params["count"] == 5
    [terms] = checklist.terms
    assert (terms.contract, terms.term_months, terms.term_start, terms.term_end) == (
        "fixed_term",
        24,
        date(2025, 2, 21),
        date(2027, 2, 21),
    )
    assert terms.renewal_notice_deadline == date(2027, 1, 22)
    assert not terms.renewal_window_passed


def test_assisted_cancel_a100005_refused_until_every_precondition_holds(demo_ctx, db) -> None:
    """Article 002 with LogMeIn Resolve Premium, 8 licences, 24-month term billed monthly."""
    a = acct(demo_ctx, "A-100005")
    sub_id = a.subs["logmein_resolve"]
    sanne, jeroen = a.contacts["Sanne"], a.contacts["Jeroen"]

    def attempt(verification, requester, backup):
        return cx.assisted_cancel(
            demo_ctx, a.id, verification=verification, requester_contact_id=requester,
            subscription_ids=[sub_id], reason="no_longer_needed", backup_confirmed=backup,
        )  # fmt: skip

    def refused(verification, requester, backup) -> tuple[str, ...]:
        before = dump(db)
        with pytest.raises(PolicyViolation) as err:
            attempt(verification, requester, backup)
        assert err.value.code == "assisted_cancel_preconditions"
        assert dump(db) == before, "a refused cancellation must change nothing"
        for label in err.value.params["conditions"].split("; "):
            assert label in str(err.value)
        return err.value.params["failed"]

    # 1. a wrong last four digits: not verified, so refused (and everything else too)
    wrong = verify_a100005(demo_ctx, last4="5101")
    assert refused(wrong, sanne, False) == (
        "caller_verified",
        "no_outstanding_balance",
        "licences_unassigned",
        "data_backed_up",
    )
    good = verify_a100005(demo_ctx)
    assert refused(good, sanne, False) == (
        "no_outstanding_balance",
        "licences_unassigned",
        "data_backed_up",
    )
    # 2. record the payment of the open invoice (512.00) → the balance is settled
    assert settle_open_invoices(demo_ctx, a.id) == eur("512.00")
    assert refused(good, sanne, False) == ("licences_unassigned", "data_backed_up")
    # 3. unassign the 5 licences
    assert unassign_all(demo_ctx, sub_id) == 5
    assert refused(good, sanne, False) == ("data_backed_up",)
    # 4. the data is backed up, but the requester is a plain user
    assert refused(good, jeroen, True) == ("requester_role",)
    # a token of another account is no verification
    other = cx.verify_caller(
        demo_ctx, "A-100001", account_number="A-100001",
        billing_admin_email="marco.rossi@rossi-impianti.example", last4="4242",
        billing_address="Via Giuseppe Verdi 18", postal_code="20121",
    )  # fmt: skip
    assert other.verified
    assert refused(other.token, sanne, True) == ("caller_verified",)

    preview = cx.assisted_preview(demo_ctx, a.id, subscription_ids=[sub_id])
    result = attempt(good, sanne, True)

    # Current period 2026-04-21 – 2026-05-21 was invoiced (and now paid); the months
    # 2026-05-21 → 2027-02-21 (9 months) are billed on the early-termination invoice:
    #   plan      9 × (8 × 58.00 = 464.00) = 4 176.00
    #   add-on    9 × (8 ×  6.00 =  48.00) =   432.00
    #   subtotal                            4 608.00, VAT 0 (NL VAT number: reverse charge)
    [item] = result.items
    assert item.status == "cancellation_pending"
    assert item.effective_end == date(2027, 2, 21)  # the original end date of the term
    assert item.months_billed == 10  # the current month + 9
    assert item.amount_still_billed == eur("5120.00")  # 10 × 512.00
    assert item.additional_charge == eur("4608.00")
    assert item.refund == eur("0.00")
    assert not item.renewed
    assert result.termination is not None
    assert result.termination.total == eur("4608.00")
    assert result.termination.reverse_charge
    assert result.termination == preview.termination  # the preview, to the cent
    assert not result.termination_paid  # autopay is off: the invoice stays open

    with demo_ctx.db.transaction() as s:
        inv = s.scalar(select(Invoice).where(Invoice.number == result.termination_invoice_number))
        assert (inv.kind, inv.status, inv.total_minor, inv.vat_minor) == (
            "termination",
            "open",
            460800,
            0,
        )
        assert (inv.period_start, inv.period_end) == (date(2026, 5, 21), date(2027, 2, 21))
        lines = [
            (ln.kind, ln.quantity, ln.unit_price_minor, ln.amount_minor, ln.subscription_id)
            for ln in inv.lines
        ]
        assert lines == [
            ("termination", 9, 46400, 417600, sub_id),
            ("termination", 9, 4800, 43200, sub_id),
        ]
        account = s.get(Account, a.id)
        assert account.outstanding_minor == 460800
        sub = s.get(Subscription, sub_id)
        assert (sub.status, sub.auto_renew, sub.cancellation_effective) == (
            "cancellation_pending",
            False,
            date(2027, 2, 21),
        )
        assert sub.cancel_reason == "no_longer_needed"
    [(kind, to, _status, _body)] = emails(demo_ctx, a.id)
    assert (kind, to) == ("cancellation_confirmed", "sanne.devries@vanderberg-techniek.example")
    [entry] = audits(demo_ctx, a.id, "assisted_cancel")
    assert entry.requested_by_contact_id == sanne
    after = json.loads(entry.after_json)
    assert after["termination_invoice"] == result.termination_invoice_number
    assert after["verification_token"] == good.token

    # the remaining months are billed: reactivating would bill them twice
    with pytest.raises(PolicyViolation) as err:
        cx.reactivate(demo_ctx, sub_id)
    assert err.value.code == "termination_billed"


def test_monthly_plan_cancelled_mid_month_is_billed_the_whole_month(demo_ctx) -> None:
    """A-100017: LogMeIn Resolve Standard, 3 licences, month-to-month, period 04-10 – 05-10."""
    a = acct(demo_ctx, "A-100017")
    sub_id = a.subs["logmein_resolve"]
    unassign_all(demo_ctx, sub_id)
    verification = cx.verify_caller(
        demo_ctx, a.id, account_number="A-100017",
        billing_admin_email="STEFAN.GRUBER@gruber-elektrotechnik.example", last4="2817",
        billing_address="annenstraße 34", postal_code=" 8020 ",
    )  # fmt: skip
    assert verification.verified
    invoices = invoice_count(demo_ctx, a.id)
    result = cx.assisted_cancel(
        demo_ctx, a.id, verification=verification, requester_contact_id=a.contacts["Stefan"],
        subscription_ids=[sub_id], reason="temporary_project", backup_confirmed=True,
    )  # fmt: skip
    [item] = result.items
    # the whole month (3 × 42.00 = 126.00) was invoiced on 2026-04-10; nothing new, no refund
    assert item.amount_still_billed == eur("126.00")
    assert item.additional_charge == eur("0.00")
    assert item.effective_end == date(2026, 5, 10)  # active to the end of the month
    assert result.termination is None and result.termination_invoice_number is None
    assert invoice_count(demo_ctx, a.id) == invoices
    assert sub_row(demo_ctx, sub_id)["status"] == "cancellation_pending"
    # no termination invoice: the customer may still change their mind
    assert cx.reactivate(demo_ctx, sub_id).status == "active"


def test_fifteen_month_agreement_with_three_months_left(demo_ctx) -> None:
    """Article 002's example: a 15-month agreement cancelled with three months to go.

    LogMeIn Resolve Standard, 2 licences at 42.00 = 84.00 a month, term
    2025-04-26 → 2026-07-26 billed monthly; on 2026-04-26 the last three months
    (04-26 – 05-26, 05-26 – 06-26, 06-26 – 07-26) remain: all three are billed
    (3 × 84.00 = 252.00). The first of them was invoiced at its start today, so the
    early-termination invoice bills the other two: 2 × 84.00 = 168.00 (AT VAT number:
    reverse charge, no VAT). The plan stays active to the original end, 2026-07-26.
    """
    a = acct(demo_ctx, "A-100017")
    with demo_ctx.db.transaction() as s:
        product = s.scalar(select(Product).where(Product.code == "logmein_resolve"))
        plan = s.scalar(select(Plan).where(Plan.product_id == product.id, Plan.code == "standard"))
        sub = Subscription(
            account_id=a.id, product_id=product.id, plan_id=plan.id, licence_count=2,
            frequency="monthly", contract="fixed_term", term_months=15,
            term_start=date(2025, 4, 26), term_end=date(2026, 7, 26),
            anchor_date=date(2025, 4, 26), period_start=date(2026, 4, 26),
            period_end=date(2026, 5, 26), auto_renew=True, status="active",
            channel="self_service", created_at=datetime(2025, 4, 26, 10, 0),
        )  # fmt: skip
        s.add(sub)
        s.flush()
        sub_id = sub.id
    unassign_all(demo_ctx, a.subs["logmein_resolve"])
    verification = cx.verify_caller(
        demo_ctx, a.id, account_number="A-100017",
        billing_admin_email="stefan.gruber@gruber-elektrotechnik.example", last4="2817",
        billing_address="Annenstraße 34", postal_code="8020",
    )  # fmt: skip
    preview = cx.cancellation_preview(demo_ctx, sub_id)
    assert preview.months_billed == 3
    assert preview.amount_still_billed == eur("252.00")

    result = cx.assisted_cancel(
        demo_ctx, a.id, verification=verification, requester_contact_id=a.contacts["Stefan"],
        subscription_ids=[sub_id], reason="switching_provider", backup_confirmed=True,
    )  # fmt: skip
    [item] = result.items
    assert item.months_billed == 3
    assert item.amount_still_billed == eur("252.00")  # 3 × 84.00
    assert item.additional_charge == eur("168.00")  # 2 × 84.00, not invoiced yet
    assert item.effective_end == date(2026, 7, 26)
    assert result.termination is not None and result.termination.total == eur("168.00")
    assert result.termination_paid  # autopay with the Visa card on file
    with demo_ctx.db.transaction() as s:
        inv = s.scalar(select(Invoice).where(Invoice.number == result.termination_invoice_number))
        [line] = inv.lines
        assert (line.kind, line.quantity, line.unit_price_minor, line.amount_minor) == (
            "termination",
            2,
            8400,
            16800,
        )
        assert (line.period_start, line.period_end) == (date(2026, 5, 26), date(2026, 7, 26))
        assert inv.status == "paid" and inv.paid_minor == 16800
        assert s.get(Subscription, sub_id).status == "cancellation_pending"


def test_annually_billed_term_bills_the_monthly_equivalent(demo_ctx) -> None:
    """Annual billing: monthly equivalent = annual ÷ 12; the line is annual × months ÷ 12.

    GoTo Meeting Business added to A-100001 (EUR), 1 licence at 173.00 a year,
    24-month term 2025-01-10 → 2027-01-10, current year 2026-01-10 – 2027-01-10:
    nothing after the current year, nothing more billed.
    With a 30-month term (→ 2027-07-10) the 6 months after it cost
    173.00 × 6 ÷ 12 = 86.50 (unit 173.00 ÷ 12 = 14.416… → 14.42).
    """
    a = acct(demo_ctx, "A-100001")
    ids = []
    with demo_ctx.db.transaction() as s:
        product = s.scalar(select(Product).where(Product.code == "goto_meeting"))
        plan = s.scalar(select(Plan).where(Plan.product_id == product.id, Plan.code == "business"))
        for months, end in ((24, date(2027, 1, 10)), (30, date(2027, 7, 10))):
            sub = Subscription(
                account_id=a.id, product_id=product.id, plan_id=plan.id, licence_count=1,
                frequency="annual", contract="fixed_term", term_months=months,
                term_start=date(2025, 1, 10), term_end=end, anchor_date=date(2025, 1, 10),
                period_start=date(2026, 1, 10), period_end=date(2027, 1, 10),
                auto_renew=True, status="active", channel="self_service",
                created_at=datetime(2025, 1, 10, 10, 0),
            )  # fmt: skip
            s.add(sub)
            s.flush()
            ids.append(sub.id)
    exact, longer = (cx.cancellation_preview(demo_ctx, i) for i in ids)
    assert (exact.effective_end, exact.additional_charge, exact.termination) == (
        date(2027, 1, 10),
        eur("0.00"),
        None,
    )
    assert longer.effective_end == date(2027, 7, 10)
    assert longer.months_billed == 18  # the current year + 6 months
    assert longer.additional_charge == eur("86.50")
    [line] = longer.termination_lines
    assert (line.quantity, line.unit_price, line.amount) == (6, eur("14.42"), eur("86.50"))
    assert line.period == Period(date(2027, 1, 10), date(2027, 7, 10))
    assert longer.amount_still_billed == eur("259.50")  # 173.00 + 86.50


def test_connect_needs_a_super_admin(demo_ctx, db) -> None:
    """A-100006: GoTo Connect; billing admin Fleur is refused, super admin Willem may."""
    a = acct(demo_ctx, "A-100006")
    sub_id = a.subs["goto_connect"]
    unassign_all(demo_ctx, sub_id)
    verification = cx.verify_caller(
        demo_ctx, a.id, account_number="A-100006",
        billing_admin_email="fleur.jansen@bakkerjansen.example", last4="4417",
        billing_address="Waalhaven Oostzijde 85", postal_code="3087BM",
    )  # fmt: skip
    assert verification.verified

    def cancel(requester: int):
        return cx.assisted_cancel(
            demo_ctx, a.id, verification=verification, requester_contact_id=requester,
            subscription_ids=[sub_id], reason="switching_provider", backup_confirmed=True,
        )  # fmt: skip

    fleur = cx.assisted_checklist(
        demo_ctx, a.id, requester_contact_id=a.contacts["Fleur"], subscription_ids=[sub_id],
        verification=verification, backup_confirmed=True,
    ).item("requester_role")  # fmt: skip
    assert not fleur.passed
    assert fleur.params["code"] == "cancel_requires_super_admin"
    assert "super admin" in fleur.text
    before = dump(db)
    with pytest.raises(PolicyViolation) as err:
        cancel(a.contacts["Fleur"])
    assert err.value.params["failed"] == ("requester_role",)
    assert dump(db) == before

    result = cancel(a.contacts["Willem"])
    [item] = result.items
    # month-to-month, billed monthly: 25 × 33.00 + call recording 12.00 = 837.00 this month
    assert item.amount_still_billed == eur("837.00")
    assert item.effective_end == date(2026, 5, 16)
    assert result.requested_by_contact_id == a.contacts["Willem"]


def test_representative_channel_needs_product_admin(demo_ctx) -> None:
    """A-100015: bought through the representative; only product admin Lorenzo may ask."""
    a = acct(demo_ctx, "A-100015")
    with demo_ctx.db.transaction() as s:
        contacts = {
            c.id: (c.role_set, c.cancel_authorised)
            for c in s.scalars(select(Contact).where(Contact.account_id == a.id))
        }
    product_admins = [cid for cid, (roles, _auth) in contacts.items() if "product_admin" in roles]
    billing_admins = [
        cid for cid, (roles, auth) in contacts.items() if "billing_admin" in roles and not auth
    ]
    sub_id = next(iter(a.subs.values()))
    for requester, passed in ((product_admins[0], True), (billing_admins[0], False)):
        item = cx.assisted_checklist(
            demo_ctx, a.id, requester_contact_id=requester, subscription_ids=[sub_id]
        ).item("requester_role")
        assert item.passed is passed


def test_cancelling_an_addon_alone(demo_ctx, db) -> None:
    """A-100001: only the camera-share add-on of the annual v4 plan is cancelled.

    The year already paid (3 × 43.00 = 129.00) covers it: it stays active until
    2026-10-13 (``ends_on``, the first day without it) and does not renew; the plan
    itself stays active.
    """
    a = acct(demo_ctx, "A-100001")
    sub_id = a.subs["gotoassist_rs_v4"]
    with demo_ctx.db.transaction() as s:
        [addon_id] = s.scalars(
            select(SubscriptionAddon.id).where(SubscriptionAddon.subscription_id == sub_id)
        )
    verification = cx.verify_caller(
        demo_ctx, a.id, account_number="A-100001",
        billing_admin_email="marco.rossi@rossi-impianti.example", last4="4242",
        billing_address="Via Giuseppe Verdi 18", postal_code="20121",
    )  # fmt: skip
    # licences stay assigned: only an add-on goes
    result = cx.assisted_cancel(
        demo_ctx, a.id, verification=verification, requester_contact_id=a.contacts["Marco"],
        subscription_ids=[], addon_ids=[addon_id], reason="too_expensive", backup_confirmed=True,
    )  # fmt: skip
    [item] = result.items
    assert item.subscription_addon_id == addon_id
    assert item.amount_still_billed == eur("129.00")
    assert item.effective_end == date(2026, 10, 13)
    assert result.termination is None
    with demo_ctx.db.transaction() as s:
        addon = s.get(SubscriptionAddon, addon_id)
        assert (addon.active, addon.ends_on) == (True, date(2026, 10, 13))
        sub = s.get(Subscription, sub_id)
        assert (sub.status, sub.auto_renew) == ("active", True)
    assert [e[0] for e in emails(demo_ctx, a.id)] == ["cancellation_confirmed"]
    [entry] = audits(demo_ctx, a.id, "cancel_addon")
    assert json.loads(entry.before_json)["ends_on"] is None
    after = json.loads(entry.after_json)
    assert (after["effective_end"], after["ends_on"], after["active"]) == (
        "2026-10-13", "2026-10-13", True,
    )  # fmt: skip
    # cancelled once: a second request is refused and changes nothing
    before = dump(db)
    with pytest.raises(PolicyViolation) as err:
        cx.assisted_cancel(
            demo_ctx, a.id, verification=verification, requester_contact_id=a.contacts["Marco"],
            subscription_ids=[], addon_ids=[addon_id], reason="too_expensive",
            backup_confirmed=True,
        )  # fmt: skip
    assert err.value.code == "addon_already_cancelled"
    assert dump(db) == before
    # the plan's own cancellation still counts the add-on in the year already paid:
    # 3 × 486.00 plan (1 458.00) + 129.00 add-on = 1 587.00; nothing after 2026-10-13
    preview = cx.cancellation_preview(demo_ctx, sub_id)
    assert preview.effective_end == date(2026, 10, 13)
    assert (preview.period_amount, preview.additional_charge) == (eur("1587.00"), eur("0.00"))


def test_addon_of_a_fixed_term_is_billed_once_for_its_remaining_months(demo_ctx) -> None:
    """A-100005: the patch-management add-on of the 24-month Resolve term (8 licences,
    billed monthly, term end 2027-02-21) is cancelled first, the plan later.

    Add-on: 8 × 6.00 = 48.00 a month; the 9 months after the current period
    (2026-05-21 → 2027-02-21) are billed at once: 9 × 48.00 = 432.00. It stays active
    until 2027-02-21. The plan's cancellation then bills only the plan's 9 months,
    9 × 464.00 = 4 176.00 — not the add-on again — while the current period still
    shows both (464.00 + 48.00 = 512.00).
    """
    a = acct(demo_ctx, "A-100005")
    sub_id = a.subs["logmein_resolve"]
    with demo_ctx.db.transaction() as s:
        [addon_id] = s.scalars(
            select(SubscriptionAddon.id).where(SubscriptionAddon.subscription_id == sub_id)
        )
    settle_open_invoices(demo_ctx, a.id)
    good = verify_a100005(demo_ctx)
    first = cx.assisted_cancel(
        demo_ctx, a.id, verification=good, requester_contact_id=a.contacts["Sanne"],
        subscription_ids=[], addon_ids=[addon_id], reason="no_longer_needed",
        backup_confirmed=True,
    )  # fmt: skip
    [item] = first.items
    assert (item.effective_end, item.months_billed) == (date(2027, 2, 21), 10)
    assert item.additional_charge == eur("432.00")
    assert first.termination is not None and first.termination.total == eur("432.00")
    with demo_ctx.db.transaction() as s:
        addon = s.get(SubscriptionAddon, addon_id)
        assert (addon.active, addon.ends_on) == (True, date(2027, 2, 21))
        assert s.get(Subscription, sub_id).status == "active"

    assert settle_open_invoices(demo_ctx, a.id) == eur("432.00")
    unassign_all(demo_ctx, sub_id)
    second = cx.assisted_cancel(
        demo_ctx, a.id, verification=good, requester_contact_id=a.contacts["Sanne"],
        subscription_ids=[sub_id], reason="no_longer_needed", backup_confirmed=True,
    )  # fmt: skip
    [item] = second.items
    assert item.period_amount == eur("512.00")
    assert item.additional_charge == eur("4176.00")
    assert item.amount_still_billed == eur("4688.00")  # 512.00 + 4 176.00
    with demo_ctx.db.transaction() as s:
        inv = s.scalar(select(Invoice).where(Invoice.number == second.termination_invoice_number))
        assert [(ln.quantity, ln.unit_price_minor, ln.amount_minor) for ln in inv.lines] == [
            (9, 46400, 417600)
        ]


def test_assisted_cancel_is_for_support_staff_only(demo_ctx, as_role, db) -> None:
    a = acct(demo_ctx, "A-100017")
    sub_id = a.subs["logmein_resolve"]
    unassign_all(demo_ctx, sub_id)
    verification = cx.verify_caller(
        demo_ctx, a.id, account_number="A-100017",
        billing_admin_email="stefan.gruber@gruber-elektrotechnik.example", last4="2817",
        billing_address="Annenstraße 34", postal_code="8020",
    )  # fmt: skip
    others = [as_role("viewer"), as_role("representative")]
    support = as_role("support")
    before = dump(db)
    for other in others:
        with pytest.raises(PermissionDenied):
            cx.assisted_cancel(
                other, a.id, verification=verification, requester_contact_id=a.contacts["Stefan"],
                subscription_ids=[sub_id], reason="too_expensive", backup_confirmed=True,
            )  # fmt: skip
        with pytest.raises(PermissionDenied):
            cx.verify_caller(
                other, a.id, account_number="A-100017", billing_admin_email="x@example.com",
                last4="2817", billing_address="", postal_code="",
            )  # fmt: skip
    with pytest.raises(PermissionDenied) as err:
        cx.assisted_cancel(
            as_role("representative"), a.id, verification=verification,
            requester_contact_id=a.contacts["Stefan"], subscription_ids=[sub_id],
            reason="too_expensive", backup_confirmed=True,
        )  # fmt: skip
    assert err.value.code == "support_only"
    assert dump(db) == before
    # a verification made by another operator is not valid for support either
    before = dump(db)
    with pytest.raises(PolicyViolation) as err:
        cx.assisted_cancel(
            support, a.id, verification=verification, requester_contact_id=a.contacts["Stefan"],
            subscription_ids=[sub_id], reason="too_expensive", backup_confirmed=True,
        )  # fmt: skip
    assert err.value.params["failed"] == ("caller_verified",)
    assert dump(db) == before


def test_assisted_selection_errors(demo_ctx, db) -> None:
    a = acct(demo_ctx, "A-100017")
    other = acct(demo_ctx, "A-100001")
    before = dump(db)
    with pytest.raises(ValidationError) as err:
        cx.assisted_preview(demo_ctx, a.id, subscription_ids=[])
    assert err.value.code == "nothing_selected"
    with pytest.raises(NotFound):
        cx.assisted_preview(demo_ctx, a.id, subscription_ids=[other.subs["gotoassist_rs_v4"]])
    with pytest.raises(ValidationError):
        cx.assisted_cancel(
            demo_ctx, a.id, verification=None, requester_contact_id=a.contacts["Stefan"],
            subscription_ids=[a.subs["logmein_resolve"]], reason="", backup_confirmed=True,
        )  # fmt: skip
    assert dump(db) == before


def test_preview_writes_nothing_and_matches_the_domain(demo_ctx, db) -> None:
    sub_id = acct(demo_ctx, "A-100005").subs["logmein_resolve"]
    before = dump(db)
    preview = cx.cancellation_preview(demo_ctx, sub_id)
    assert dump(db) == before
    assert preview.data_deletion_date == date(2027, 5, 22)  # 2027-02-21 + 90 days
    assert preview.period_amount == eur("512.00")
    assert preview.termination is not None
    assert preview.termination.vat == eur("0.00")
    assert sum((ln.amount.amount for ln in preview.termination_lines), Decimal(0)) == Decimal(
        "4608.00"
    )
    # a later date in the same period: the same months remain
    later = cx.cancellation_preview(demo_ctx, sub_id, on=date(2026, 5, 20))
    assert later.additional_charge == preview.additional_charge
    with pytest.raises(ValidationError):
        cx.cancellation_preview(demo_ctx, sub_id, on=date(2026, 5, 21))  # next period


# --------------------------------------------------------------------------- assisted wizard reads


def test_three_failed_verifications_in_a_row_are_audited(demo_ctx, as_role) -> None:
    """Every attempt is audited; the third failure in a row (and each later one) is
    audited once more as ``verify_caller_failed`` with the fields that did not match."""
    a = acct(demo_ctx, "A-100005")
    first = verify_a100005(demo_ctx, last4="5101")
    second = verify_a100005(demo_ctx, billing_admin_email="someone@example.com")
    assert (first.failed_attempts, second.failed_attempts) == (1, 2)
    assert not second.attempts_exhausted
    assert audits(demo_ctx, a.id, "verify_caller_failed") == []
    # another operator's failures are theirs: they do not count for this one
    other = as_role("support")
    assert verify_a100005(other, last4="0000").failed_attempts == 1

    third = verify_a100005(demo_ctx, postal_code="1000 AA", billing_address="Elders 1")
    assert third.failed_attempts == cx.VERIFY_ATTEMPTS == 3
    assert third.attempts_exhausted and not third.verified and third.token is None
    [entry] = audits(demo_ctx, a.id, "verify_caller_failed")
    assert entry.operator_id == demo_ctx.operator.id
    assert json.loads(entry.after_json) == {
        "failed_attempts": 3,
        "mismatches": ["billing_address", "postal_code"],
    }
    assert "Elders" not in entry.after_json and "1000" not in entry.after_json
    assert len(audits(demo_ctx, a.id, "verify_caller")) == 4  # each attempt, as before

    fourth = verify_a100005(demo_ctx, last4="1234")
    assert fourth.failed_attempts == 4
    assert len(audits(demo_ctx, a.id, "verify_caller_failed")) == 2

    # a success ends the run: the next failure is the first again
    ok = verify_a100005(demo_ctx)
    assert ok.verified and ok.failed_attempts == 0 and not ok.attempts_exhausted
    assert verify_a100005(demo_ctx, last4="1234").failed_attempts == 1
    assert len(audits(demo_ctx, a.id, "verify_caller_failed")) == 2


def test_failed_verifications_older_than_the_window_do_not_count(demo_ctx) -> None:
    verify_a100005(demo_ctx, last4="1111")
    verify_a100005(demo_ctx, last4="2222")
    later = FixedClock(demo_ctx.clock.now() + cx.VERIFICATION_VALID_FOR + timedelta(minutes=1))
    moved = dataclasses.replace(demo_ctx, clock=later)
    assert verify_a100005(moved, last4="3333").failed_attempts == 1


def test_assisted_options_lists_products_addons_contacts_and_rules(demo_ctx, db) -> None:
    before = dump(db)
    resolve = cx.assisted_options(demo_ctx, "A-100005")
    assert dump(db) == before
    assert (resolve.account_number, resolve.allowed, resolve.refusal) == ("A-100005", True, None)
    assert (resolve.billing_contact_name, resolve.billing_contact_email) == (
        "Sanne de Vries",
        "sanne.devries@vanderberg-techniek.example",
    )
    assert [(c.name, c.roles) for c in resolve.contacts][:3] == [
        ("Sanne de Vries", ("billing_admin",)),
        ("Pieter van der Berg", ("super_admin",)),
        ("Jeroen Smit", ("user",)),
    ]
    [sub] = resolve.subscriptions
    assert (sub.product_code, sub.channel, sub.contract, sub.cancellable, sub.reason) == (
        "logmein_resolve", "support", "fixed_term", True, None,
    )  # fmt: skip
    assert (sub.licences, sub.assigned) == (8, 5)
    assert sub.who_may_request.code == "cancel_requires_admin"
    [addon] = sub.addons
    assert (addon.code, addon.cancellable, addon.ends_on) == ("patch_management", True, None)

    connect = cx.assisted_options(demo_ctx, "A-100006").subscriptions[0]
    assert connect.who_may_request.code == "cancel_requires_super_admin"
    assert "super admin" in connect.who_may_request.text

    corporate = cx.assisted_options(demo_ctx, "A-100015").subscriptions[0]
    assert corporate.who_may_request.code == "cancel_requires_product_admin"

    # a pending cancellation cannot be cancelled again (nor can its add-ons), with the reason
    pending = {s.product_code: s for s in cx.assisted_options(demo_ctx, "A-100011").subscriptions}
    meeting = pending["goto_meeting"]
    assert not meeting.cancellable
    assert meeting.reason is not None and meeting.reason.code == "already_cancellation_pending"
    assert pending["gotoassist_rs_v5"].cancellable
    assert pending["gotoassist_rs_v5"].channel == "online"


def test_assisted_options_say_why_a_non_support_operator_may_not(demo_ctx, as_role) -> None:
    for role in ("viewer", "representative"):
        options = cx.assisted_options(as_role(role), "A-100001")
        assert not options.allowed
        assert options.refusal is not None and options.refusal.code == "support_only"
        assert options.subscriptions  # still listed, read-only
    assert cx.assisted_options(as_role("support"), "A-100001").allowed
