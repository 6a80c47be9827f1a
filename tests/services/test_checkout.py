"""Cart and checkout (SPEC §3, articles 001, 003 and 004) on the curated demo accounts.

The clock stands on 2026-04-26 (the day the curated data is loaded for).
Amounts are written out in the comments: proration credit = amount of the
current period × unused days ÷ days in the period, rounded half-up; the new
configuration is charged for a full period starting today; VAT per line.
The seller is in Ireland (resources/vat_rates.json), so a valid VAT number of
another EU country (IT, ES, DE…) means reverse charge at 0 %.
"""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
import tempfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from helpers import count, dump, sub_id
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_desktop.domain.money import Money
from billing_desktop.domain.periods import Period
from billing_desktop.services.cart import (
    CartChange,
    CartItemKind,
    PrimaryAction,
    add_to_cart,
    clear_cart,
    get_cart,
    primary_action,
    remove_from_cart,
)
from billing_desktop.services.checkout import (
    ExistingMethod,
    NewCard,
    OrderPreview,
    place_order,
    preview,
)
from billing_desktop.services.errors import (
    ConflictError,
    PermissionDenied,
    PolicyViolation,
    ValidationError,
)

TODAY = date(2026, 4, 26)
TEST_CARD = "5555 5555 5555 4444"  # a Mastercard test number (Luhn-valid)


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


# --------------------------------------------------------------------------- helpers


def _contact_id(db, email: str) -> int:
    return db.reader.scalar("SELECT id FROM contacts WHERE email = :e", {"e": email})


def _subscription(db, sub_id: int) -> dict:
    row = db.reader.rows(
        "SELECT pl.code, s.licence_count, s.frequency, s.status, s.anchor_date, s.period_start,"
        " s.period_end, s.auto_renew, s.channel FROM subscriptions s"
        " JOIN plans pl ON pl.id = s.plan_id WHERE s.id = :id",
        {"id": sub_id},
    )[0]
    keys = ("plan", "licences", "frequency", "status", "anchor_date", "period_start",
            "period_end", "auto_renew", "channel")  # fmt: skip
    return dict(zip(keys, row, strict=True))


def _invoice(db, number: str) -> dict:
    row = db.reader.rows(
        "SELECT id, kind, subtotal_minor, vat_rate_bp, vat_minor, reverse_charge, vat_number,"
        " total_minor, credit_applied_minor, paid_minor, status, due_date, po_number, order_id"
        " FROM invoices WHERE number = :n",
        {"n": number},
    )[0]
    keys = ("id", "kind", "subtotal", "vat_rate_bp", "vat", "reverse_charge", "vat_number",
            "total", "credit_applied", "paid", "status", "due_date", "po_number",
            "order_id")  # fmt: skip
    return dict(zip(keys, row, strict=True))


def _invoice_lines(db, invoice_id: int) -> list[tuple]:
    return db.reader.rows(
        "SELECT kind, description, subscription_id, quantity, unit_price_minor, amount_minor,"
        " period_start, period_end FROM invoice_lines WHERE invoice_id = :i ORDER BY position",
        {"i": invoice_id},
    )


def _assert_invoice_is_the_preview(db, number: str, shown: OrderPreview) -> None:
    """The review page and the invoice agree to the cent, line by line."""
    invoice = _invoice(db, number)
    f = shown.figures
    assert invoice["subtotal"] == f.subtotal.minor
    assert invoice["vat"] == f.vat.minor
    assert invoice["total"] == f.total.minor
    assert invoice["credit_applied"] == f.credit_applied.minor
    assert invoice["vat_rate_bp"] == int(f.vat_rate * 100)
    assert bool(invoice["reverse_charge"]) == f.reverse_charge
    lines = _invoice_lines(db, invoice["id"])
    assert [(k, d, q, u, a) for k, d, _s, q, u, a, _ps, _pe in lines] == [
        (line.kind, line.description, line.quantity, line.unit_price.minor, line.amount.minor)
        for line in f.lines
    ]
    assert [(ps, pe) for *_rest, ps, pe in lines] == [
        (line.period.start.isoformat(), line.period.end.isoformat()) for line in f.lines
    ]


def _emails(db, account: str) -> list[tuple]:
    return db.reader.rows(
        "SELECT e.kind, e.to_address, e.subject, e.body_text, e.status FROM emails e"
        " JOIN accounts a ON a.id = e.account_id WHERE a.account_number = :a ORDER BY e.id",
        {"a": account},
    )


def _audit(db, account: str) -> list[tuple]:
    return db.reader.rows(
        "SELECT x.action, x.operator_id, x.requested_by_contact_id, x.before_json, x.after_json"
        " FROM audit_entries x JOIN accounts a ON a.id = x.account_id"
        " WHERE a.account_number = :a ORDER BY x.id",
        {"a": account},
    )


def _account(db, number: str) -> dict:
    row = db.reader.rows(
        "SELECT credit_balance_minor, outstanding_minor, vat_number, autopay FROM accounts"
        " WHERE account_number = :n",
        {"n": number},
    )[0]
    return dict(zip(("credit", "outstanding", "vat_number", "autopay"), row, strict=True))


# --------------------------------------------------------------------------- article 001


def test_article_001_fewer_licences_mid_period(demo_ctx, db) -> None:
    """A-100002: v5 Standard, 10 → 7 licences on day 8 of the period 2026-04-19 → 05-19."""
    sub = sub_id(db, "A-100002", "gotoassist_rs_v5")
    assert primary_action(demo_ctx, "A-100002") is PrimaryAction.CHECKOUT
    cart = add_to_cart(demo_ctx, "A-100002", CartChange.change_licences(sub, 7))
    assert cart.primary_action is PrimaryAction.ADD_TO_CART
    assert [(line.previous_licences, line.licences) for line in cart.lines] == [(10, 7)]

    shown = preview(demo_ctx, "A-100002")
    (item,) = shown.items
    # the billing period restarts today: 2026-04-26 → 2026-05-26
    assert item.period == Period(date(2026, 4, 26), date(2026, 5, 26))
    assert item.next_billing_date == date(2026, 5, 26)
    assert (item.licences, item.unit_price) == (7, eur("39.00"))
    # current period: 10 × 39.00 + 10 × 9.00 (mobile device support) = 480.00 for 30 days
    assert item.previous_charge == eur("480.00")
    # 23 unused days (04-26 → 05-19): 480.00 × 23 ÷ 30 = 368.00
    assert (item.unused_days, item.period_days) == (23, 30)
    assert item.proration_credit == eur("368.00")
    assert item.credit_period == Period(date(2026, 4, 26), date(2026, 5, 19))
    # new full month: 7 × 39.00 + 7 × 9.00 = 273.00 + 63.00 = 336.00
    assert item.charge == eur("336.00")
    assert item.net == eur("-32.00")
    # IT05482200010 is a valid Italian VAT number, the seller is Irish: reverse charge
    assert (shown.vat_rate, shown.reverse_charge, shown.vat) == (Decimal(0), True, eur("0.00"))
    # 336.00 − 368.00 = −32.00: nothing due, 32.00 becomes account credit
    assert (shown.total, shown.amount_due, shown.credit_created) == (
        eur("-32.00"), eur("0.00"), eur("32.00"),
    )  # fmt: skip
    assert shown.required_inputs == ()  # fewer licences, card on file: nothing to ask
    assert shown.payment_method_on_file == "Mastercard •••• 5454"
    assert "credit_to_account" in [w.code for w in shown.warnings]

    result = place_order(
        demo_ctx, "A-100002", idempotency_key="order-001", expected_cart_version=shown.cart_version
    )
    assert result.order_number == "ORD-2026-000001"
    (placed,) = result.subscriptions
    assert (placed.licences, placed.previous_licences, placed.next_billing_date) == (
        7, 10, date(2026, 5, 26),
    )  # fmt: skip
    assert not placed.licences_increased and not result.offer_licence_assignment
    assert placed.free_seats == 1  # 7 licences, 6 assigned
    assert (result.total, result.amount_due, result.amount_paid) == (
        eur("-32.00"), eur("0.00"), eur("0.00"),
    )  # fmt: skip
    assert result.credit_created == eur("32.00")
    assert result.invoice_status == "paid"
    assert result.confirmation_email_to == "francesca.ferretti@ferretti-informatica.example"

    _assert_invoice_is_the_preview(db, result.invoice_number, shown)
    assert _invoice(db, result.invoice_number)["kind"] == "order"
    assert _subscription(db, sub) == {
        "plan": "standard", "licences": 7, "frequency": "monthly", "status": "active",
        "anchor_date": "2026-04-26", "period_start": "2026-04-26", "period_end": "2026-05-26",
        "auto_renew": 1, "channel": "self_service",
    }  # fmt: skip
    assert _account(db, "A-100002")["credit"] == 3200
    assert get_cart(demo_ctx, "A-100002").is_empty
    assert primary_action(demo_ctx, "A-100002") is PrimaryAction.CHECKOUT
    ((kind, to, subject, body, status),) = _emails(db, "A-100002")
    assert (kind, to, status) == (
        "order_placed", "francesca.ferretti@ferretti-informatica.example", "queued",
    )  # fmt: skip
    assert "ORD-2026-000001" in subject and result.invoice_number in body
    actions = [row[0] for row in _audit(db, "A-100002")]
    assert actions == ["cart.updated", "subscription.changed", "order.placed"]
    billing = _contact_id(db, "francesca.ferretti@ferretti-informatica.example")
    assert {row[2] for row in _audit(db, "A-100002")} == {billing}
    assert {row[1] for row in _audit(db, "A-100002")} == {demo_ctx.operator.id}


def test_checkout_without_the_cart_places_the_items_in_one_call(demo_ctx, db) -> None:
    """Checkout straight from the plan page: the change is placed as previewed, one call;
    the cart is never written."""
    sub = sub_id(db, "A-100002", "gotoassist_rs_v5")
    change = [CartChange.change_licences(sub, 7)]
    shown = preview(demo_ctx, "A-100002", items=change)
    carts_before = (count(db, "carts"), count(db, "cart_items"))

    result = place_order(demo_ctx, "A-100002", idempotency_key="direct-1", items=change)

    _assert_invoice_is_the_preview(db, result.invoice_number, shown)
    assert _subscription(db, sub)["licences"] == 7
    assert (count(db, "carts"), count(db, "cart_items")) == carts_before
    # the same token again: the first result, nothing written
    before = dump(db)
    again = place_order(demo_ctx, "A-100002", idempotency_key="direct-1", items=change)
    assert again.order_number == result.order_number
    assert dump(db) == before
    # nothing to place is refused like an empty cart
    with pytest.raises(ValidationError):
        place_order(
            demo_ctx, "A-100002", idempotency_key="direct-2",
            items=[CartChange.change_licences(sub, 7)],
        )  # fmt: skip


def test_article_001_without_a_vat_number_charges_italian_vat(demo_ctx, db) -> None:
    """The same change for a customer without a VAT number: 22 % Italian VAT per line."""
    from billing_desktop.store.models import Account

    with db.transaction() as session:
        session.query(Account).filter_by(account_number="A-100002").one().vat_number = None
    sub = sub_id(db, "A-100002", "gotoassist_rs_v5")
    add_to_cart(demo_ctx, "A-100002", CartChange.change_licences(sub, 7))
    shown = preview(demo_ctx, "A-100002")
    # VAT per line: 273.00 × 22 % = 60.06; 63.00 × 22 % = 13.86; −368.00 × 22 % = −80.96
    # sum −7.04; total −32.00 − 7.04 = −39.04 → 39.04 account credit
    assert (shown.vat_rate, shown.reverse_charge) == (Decimal(22), False)
    assert shown.vat == eur("-7.04")
    assert shown.total == eur("-39.04")
    assert shown.credit_created == eur("39.04")
    result = place_order(demo_ctx, "A-100002", idempotency_key="order-001-vat")
    _assert_invoice_is_the_preview(db, result.invoice_number, shown)
    assert _account(db, "A-100002")["credit"] == 3904


def test_licences_below_the_assigned_count_are_refused(demo_ctx, db) -> None:
    """10 → 5 with 6 licences assigned: refused, naming 6; nothing is written."""
    sub = sub_id(db, "A-100002", "gotoassist_rs_v5")
    before = dump(db)
    with pytest.raises(PolicyViolation) as refused:
        add_to_cart(demo_ctx, "A-100002", CartChange.change_licences(sub, 5))
    assert refused.value.code == "licences_below_assigned"
    assert refused.value.params["assigned"] == 6
    assert "6 licences are assigned" in str(refused.value)
    with pytest.raises(PolicyViolation, match="6 licences are assigned"):
        preview(demo_ctx, "A-100002", items=[CartChange.change_licences(sub, 5)])
    assert dump(db) == before

    # the bounds: not below 1, not above the plan maximum (v5 Standard: 100)
    with pytest.raises(PolicyViolation) as too_many:
        add_to_cart(demo_ctx, "A-100002", CartChange.change_licences(sub, 101))
    assert too_many.value.code == "licences_above_maximum"
    assert too_many.value.params["maximum"] == 100
    with pytest.raises(PolicyViolation) as none:
        add_to_cart(demo_ctx, "A-100002", CartChange.change_licences(sub, 0))
    assert none.value.code == "licences_below_one"
    assert dump(db) == before


# --------------------------------------------------------------------------- article 003


def test_article_003_subscribe_after_the_trial_expired(demo_ctx, db, db_path: Path) -> None:
    """A-100003: v5 trial expired 2026-04-23 without billing information; subscribe."""
    sub = sub_id(db, "A-100003", "gotoassist_rs_v5")
    add_to_cart(demo_ctx, "A-100003", CartChange.subscribe(subscription_id=sub))
    shown = preview(demo_ctx, "A-100003")
    (item,) = shown.items
    assert item.is_new_subscription and item.kinds == (CartItemKind.SUBSCRIBE,)
    # no paid period: no proration credit
    assert item.proration_credit == eur("0.00") and item.credit_period is None
    # 2 × 39.00 = 78.00 for 2026-04-26 → 2026-05-26
    assert (item.licences, item.charge) == (2, eur("78.00"))
    assert item.period == Period(date(2026, 4, 26), date(2026, 5, 26))
    # no VAT number: Italian VAT 22 %: 78.00 × 22 % = 17.16; total 95.16
    assert (shown.vat_rate, shown.vat, shown.total) == (Decimal(22), eur("17.16"), eur("95.16"))
    assert shown.amount_due == eur("95.16")
    # a card is asked for (blocking: nothing on file), and the VAT number (optional)
    payment, vat = shown.required_inputs
    assert (payment.kind, payment.blocking) == ("payment_method", True)
    assert payment.reasons == ("no_payment_method", "new_subscription")
    assert (vat.kind, vat.blocking) == ("vat_number", False)
    assert "22 %" in vat.notice.text
    assert not shown.ready

    before = dump(db)
    with pytest.raises(PolicyViolation) as refused:
        place_order(demo_ctx, "A-100003", idempotency_key="order-003")
    assert refused.value.code == "payment_method_required"
    with pytest.raises(ValidationError) as bad_card:
        place_order(
            demo_ctx, "A-100003", idempotency_key="order-003",
            payment=NewCard("5555 5555 5555 4445", 12, 2030),
        )  # fmt: skip
    assert bad_card.value.code == "card_invalid_number"
    with pytest.raises(ValidationError) as expired:
        place_order(
            demo_ctx, "A-100003", idempotency_key="order-003",
            payment=NewCard(TEST_CARD, 3, 2026),
        )  # fmt: skip
    assert expired.value.code == "card_expired"
    assert dump(db) == before

    card = NewCard(TEST_CARD, 12, 2030, holder_name="Antonio Greco")
    assert TEST_CARD not in repr(card)
    result = place_order(demo_ctx, "A-100003", idempotency_key="order-003", payment=card)
    assert (result.amount_due, result.amount_paid) == (eur("95.16"), eur("95.16"))
    assert result.payment_method == "Mastercard •••• 4444"
    assert result.invoice_status == "paid"
    (placed,) = result.subscriptions
    assert (placed.licences, placed.previous_licences, placed.free_seats) == (2, 0, 2)
    assert result.offer_licence_assignment  # 2 seats bought, none assigned yet
    _assert_invoice_is_the_preview(db, result.invoice_number, shown)
    assert _subscription(db, sub) == {
        "plan": "standard", "licences": 2, "frequency": "monthly", "status": "active",
        "anchor_date": "2026-04-26", "period_start": "2026-04-26", "period_end": "2026-05-26",
        "auto_renew": 1, "channel": "self_service",
    }  # fmt: skip
    methods = db.reader.rows(
        "SELECT kind, brand, last4, exp_month, exp_year, holder_name, is_default"
        " FROM payment_methods m JOIN accounts a ON a.id = m.account_id"
        " WHERE a.account_number = 'A-100003'"
    )
    assert methods == [("card", "mastercard", "4444", 12, 2030, "Antonio Greco", 1)]
    assert _account(db, "A-100003")["autopay"] == 1  # renewals are paid from the new card
    payments = db.reader.rows(
        "SELECT p.amount_minor, p.method_summary FROM payments p"
        " JOIN invoices i ON i.id = p.invoice_id WHERE i.number = :n",
        {"n": result.invoice_number},
    )
    assert payments == [(9516, "Mastercard •••• 4444")]

    # the full number is nowhere in the database files
    db.dispose()
    for path in db_path.parent.glob(db_path.name + "*"):
        content = path.read_bytes()
        for needle in ("5555555555554444", TEST_CARD, "5555-5555-5555-4444"):
            assert needle.encode() not in content, path
            assert needle.encode("utf-16-le") not in content, path


def test_article_003_cart_path_one_order_one_invoice(demo_ctx, db) -> None:
    """Add to cart → a second item → both checked out as ONE order and ONE invoice."""
    v5 = sub_id(db, "A-100003", "gotoassist_rs_v5")
    webinar = sub_id(db, "A-100003", "goto_webinar")
    assert primary_action(demo_ctx, "A-100003") is PrimaryAction.CHECKOUT
    add_to_cart(demo_ctx, "A-100003", CartChange.subscribe(subscription_id=v5, licences=3))
    # the cart holds an item: the button now reads "Add to cart"
    assert primary_action(demo_ctx, "A-100003") is PrimaryAction.ADD_TO_CART
    # editing the same subscription merges into its item (one line per product)
    add_to_cart(demo_ctx, "A-100003", CartChange.change_licences(v5, 2))
    cart = add_to_cart(demo_ctx, "A-100003", CartChange.subscribe(product="goto_webinar"))
    assert [(line.product_code, line.licences, line.plan_code) for line in cart.lines] == [
        ("gotoassist_rs_v5", 2, "standard"),
        ("goto_webinar", 1, "standard"),  # the running trial (the product code finds it)
    ]
    assert [i.kind for i in cart.items] == [CartItemKind.SUBSCRIBE, CartItemKind.SUBSCRIBE]
    assert cart.lines[1].subscription_id == webinar

    shown = preview(demo_ctx, "A-100003")
    # 2 × 39.00 = 78.00 and 1 × 89.00 = 89.00: subtotal 167.00
    # VAT 22 % per line: 17.16 + 19.58 = 36.74; total 203.74
    assert shown.subtotal == eur("167.00")
    assert shown.vat == eur("36.74")
    assert shown.total == eur("203.74")
    assert "trial_ends_now" in [w.code for w in shown.warnings]  # the webinar trial ran to 05-01

    orders, invoices = count(db, "orders"), count(db, "invoices")
    result = place_order(
        demo_ctx, "A-100003", idempotency_key="order-003-cart",
        payment=NewCard(TEST_CARD, 12, 2030), expected_cart_version=shown.cart_version,
    )  # fmt: skip
    assert (count(db, "orders"), count(db, "invoices")) == (orders + 1, invoices + 1)
    assert [s.subscription_id for s in result.subscriptions] == [v5, webinar]
    assert result.total == eur("203.74")
    _assert_invoice_is_the_preview(db, result.invoice_number, shown)
    assert {_subscription(db, s)["status"] for s in (v5, webinar)} == {"active"}
    assert len(_emails(db, "A-100003")) == 1
    assert get_cart(demo_ctx, "A-100003").is_empty


def test_vat_number_entered_at_checkout_is_validated_and_stored(demo_ctx, db) -> None:
    """A-100003 enters its VAT number on the payment page: validated, reverse charge."""
    sub = sub_id(db, "A-100003", "gotoassist_rs_v5")
    add_to_cart(demo_ctx, "A-100003", CartChange.subscribe(subscription_id=sub))
    with pytest.raises(ValidationError) as invalid:
        preview(demo_ctx, "A-100003", vat_number="IT07664550213")
    assert invalid.value.code == "vat_invalid_checksum"
    shown = preview(demo_ctx, "A-100003", vat_number="IT 07664550212")
    # a valid Italian VAT number, the seller is Irish: 0 %, total 78.00
    assert (shown.reverse_charge, shown.vat, shown.total) == (True, eur("0.00"), eur("78.00"))
    assert [r.kind for r in shown.required_inputs] == ["payment_method"]
    result = place_order(
        demo_ctx, "A-100003", idempotency_key="order-vat", vat_number="IT 07664550212",
        payment=NewCard(TEST_CARD, 12, 2030),
    )  # fmt: skip
    _assert_invoice_is_the_preview(db, result.invoice_number, shown)
    assert _account(db, "A-100003")["vat_number"] == "IT07664550212"
    assert _invoice(db, result.invoice_number)["vat_number"] == "IT07664550212"


# --------------------------------------------------------------------------- article 004


def test_article_004_upgrade_more_licences_annual(demo_ctx, db) -> None:
    """A-100007: v4 Standard 3 monthly → Premium 5 annual, period 04-17 → 05-17."""
    sub = sub_id(db, "A-100007", "gotoassist_rs_v4")
    cart = add_to_cart(
        demo_ctx, "A-100007",
        CartChange.edit(sub, plan="premium", licences=5, frequency="annual"),
    )  # fmt: skip
    assert [i.kind for i in cart.items] == [
        CartItemKind.CHANGE_TIER, CartItemKind.CHANGE_LICENCES, CartItemKind.CHANGE_FREQUENCY,
    ]  # fmt: skip
    assert len(cart.lines) == 1  # one line group for the product
    shown = preview(demo_ctx, "A-100007")
    (item,) = shown.items
    # current: 3 × 29.00 = 87.00 per month; 21 of 30 days unused: 87.00 × 21 ÷ 30 = 60.90
    assert item.previous_charge == eur("87.00")
    assert item.proration_credit == eur("60.90")
    # new: 5 × 486.00 (Premium, per year) = 2430.00 for 2026-04-26 → 2027-04-26
    assert (item.unit_price, item.charge) == (eur("486.00"), eur("2430.00"))
    assert item.period == Period(date(2026, 4, 26), date(2027, 4, 26))
    # ESB46812731: reverse charge; due 2430.00 − 60.90 = 2369.10
    assert shown.reverse_charge and shown.total == eur("2369.10")
    assert shown.amount_due == eur("2369.10")
    (payment,) = shown.required_inputs  # a costlier plan: confirm the card on file
    assert (payment.reasons, payment.blocking) == (("costs_more",), False)
    assert "assign_licences" in [w.code for w in shown.warnings]

    method = db.reader.scalar(
        "SELECT m.id FROM payment_methods m JOIN accounts a ON a.id = m.account_id"
        " WHERE a.account_number = 'A-100007'"
    )
    result = place_order(
        demo_ctx, "A-100007", idempotency_key="order-004", payment=ExistingMethod(method)
    )
    (placed,) = result.subscriptions
    assert (placed.plan_code, placed.licences, placed.frequency) == ("premium", 5, "annual")
    assert placed.next_billing_date == date(2027, 4, 26)
    assert placed.licences_increased and placed.free_seats == 2  # 3 of 5 assigned
    assert result.offer_licence_assignment
    assert (result.amount_paid, result.payment_method) == (eur("2369.10"), "Visa •••• 0366")
    _assert_invoice_is_the_preview(db, result.invoice_number, shown)
    assert _subscription(db, sub)["period_end"] == "2027-04-26"


def test_article_004_downgrade_customer_care_or_support(demo_ctx, as_role, db) -> None:
    """A-100008 Enterprise → Premium: refused online, performed by a support operator."""
    sub = sub_id(db, "A-100008", "gotoassist_rs_v4")
    support = as_role("support")
    viewer = as_role("viewer")
    before = dump(db)
    with pytest.raises(PolicyViolation) as refused:
        add_to_cart(demo_ctx, "A-100008", CartChange.change_tier(sub, "premium"))
    assert refused.value.code == "downgrade_requires_customer_care"
    assert str(refused.value) == "To move to a lower plan, contact Customer Care"
    # the customer-side rule holds whoever operates the application
    with pytest.raises(PolicyViolation, match="contact Customer Care"):
        preview(support, "A-100008", items=[CartChange.change_tier(sub, "premium")])
    with pytest.raises(PermissionDenied):
        add_to_cart(
            viewer, "A-100008", CartChange.change_tier(sub, "premium"),
            on_behalf_of_customer=False,
        )  # fmt: skip
    assert dump(db) == before

    add_to_cart(
        support, "A-100008", CartChange.change_tier(sub, "premium"), on_behalf_of_customer=False
    )
    # the cart holds a downgrade: a customer-side checkout of it is still refused
    with pytest.raises(PolicyViolation, match="contact Customer Care"):
        place_order(demo_ctx, "A-100008", idempotency_key="order-004-down")
    shown = preview(support, "A-100008", on_behalf_of_customer=False)
    (item,) = shown.items
    assert item.is_downgrade
    # current: 12 × 69.00 + 12 × 8.00 = 924.00 for 2026-03-30 → 04-30 (31 days)
    # 4 unused days: 924.00 × 4 ÷ 31 = 119.2258… → 119.23
    assert item.proration_credit == eur("119.23")
    # new: 12 × 45.00 + 12 × 8.00 = 636.00; due 636.00 − 119.23 = 516.77 (reverse charge)
    assert item.charge == eur("636.00")
    assert shown.total == eur("516.77")
    result = place_order(
        support, "A-100008", idempotency_key="order-004-down", on_behalf_of_customer=False
    )
    assert result.subscriptions[0].plan_code == "premium"
    _assert_invoice_is_the_preview(db, result.invoice_number, shown)
    trail = [(a, op) for a, op, *_ in _audit(db, "A-100008")]
    assert ("subscription.downgraded", support.operator.id) in trail


def test_overdue_invoice_blocks_changes(demo_ctx, db) -> None:
    """A-100009: an invoice fell due on 2026-04-08 and is unpaid."""
    sub = sub_id(db, "A-100009", "goto_meeting")
    before = dump(db)
    with pytest.raises(PolicyViolation) as refused:
        add_to_cart(demo_ctx, "A-100009", CartChange.change_licences(sub, 8))
    assert refused.value.code == "overdue_invoice"
    assert "overdue invoice must be paid" in str(refused.value)
    with pytest.raises(PolicyViolation, match="overdue"):
        preview(demo_ctx, "A-100009", items=[CartChange.change_licences(sub, 8)])
    assert dump(db) == before


def test_only_the_billing_contact_may_change_plans(demo_ctx, db) -> None:
    """A-100004: Paolo Conti is a plain user; the billing admin is Elena Marchetti."""
    sub = sub_id(db, "A-100004", "gotoassist_rs_v5")
    paolo = _contact_id(db, "paolo.conti@contilogistica.example")
    before = dump(db)
    with pytest.raises(PolicyViolation) as refused:
        add_to_cart(
            demo_ctx, "A-100004", CartChange.change_licences(sub, 6), requested_by=paolo
        )
    assert refused.value.code == "not_billing_contact"
    assert str(refused.value) == (
        "Contact your billing admin (Elena Marchetti, elena.marchetti@contilogistica.example)"
        " to make product or licensing changes"
    )
    # a super admin who is not the billing contact is refused online as well
    roberto = _contact_id(db, "roberto.conti@contilogistica.example")
    with pytest.raises(PolicyViolation, match="Elena Marchetti"):
        preview(
            demo_ctx, "A-100004", items=[CartChange.change_licences(sub, 6)], requested_by=roberto
        )
    assert dump(db) == before
    # the billing contact may; the stored cart is then refused for Paolo at placement
    add_to_cart(demo_ctx, "A-100004", CartChange.change_licences(sub, 6))
    with pytest.raises(PolicyViolation, match="Elena Marchetti"):
        place_order(demo_ctx, "A-100004", idempotency_key="order-conti", requested_by=paolo)
    result = place_order(demo_ctx, "A-100004", idempotency_key="order-conti")
    elena = _contact_id(db, "elena.marchetti@contilogistica.example")
    assert db.reader.scalar(
        "SELECT requested_by_contact_id FROM orders WHERE number = :n", {"n": result.order_number}
    ) == elena


def test_corporate_accounts_go_through_their_representative(demo_ctx, as_role, db) -> None:
    """A-100015 (representative Chiara Lombardi): invoiced at net 30 under its PO."""
    sub = sub_id(db, "A-100015", "goto_meeting")
    chiara = as_role("representative", "chiara.lombardi@billing-desk.example")
    other_rep = as_role("representative", "annelies.verhoeven@billing-desk.example")
    change = CartChange.change_licences(sub, 160)
    before = dump(db)
    with pytest.raises(PolicyViolation) as refused:
        add_to_cart(demo_ctx, "A-100015", change)
    assert refused.value.code == "corporate_contact_representative"
    assert str(refused.value) == (
        "Contact your representative Chiara Lombardi to make product or licensing changes"
    )
    with pytest.raises(PermissionDenied):  # not her portfolio
        add_to_cart(other_rep, "A-100015", change, on_behalf_of_customer=False)
    assert dump(db) == before

    add_to_cart(chiara, "A-100015", change, on_behalf_of_customer=False)
    shown = preview(chiara, "A-100015", on_behalf_of_customer=False)
    assert shown.invoiced_on_terms and shown.required_inputs == ()
    (item,) = shown.items
    # current year 2025-12-12 → 2026-12-12 (365 days): 150 × 259.00 + 205.00 (room
    # connector, per account) = 39055.00; 230 days unused: 39055.00 × 230 ÷ 365 = 24610.00
    assert item.proration_credit == eur("24610.00")
    # new year: 160 × 259.00 + 205.00 = 41645.00; net 17035.00 (IT VAT number: reverse charge)
    assert item.charge == eur("41645.00")
    assert shown.total == eur("17035.00")
    result = place_order(
        chiara, "A-100015", idempotency_key="order-corp", on_behalf_of_customer=False
    )
    invoice = _invoice(db, result.invoice_number)
    assert (invoice["status"], invoice["paid"], invoice["po_number"]) == (
        "open", 0, "PO-4500018342",
    )  # fmt: skip
    assert invoice["due_date"] == (TODAY + timedelta(days=30)).isoformat()
    assert (result.amount_paid, result.open_balance) == (eur("0.00"), eur("17035.00"))
    assert result.payment_method is None
    assert _account(db, "A-100015")["outstanding"] == 1703500
    assert _subscription(db, sub)["channel"] == "representative"
    _assert_invoice_is_the_preview(db, result.invoice_number, shown)


# --------------------------------------------------------------------------- other cases


def test_reverse_charge_for_a_german_customer(demo_ctx, db) -> None:
    """A-100010 (DE397824469): GoTo Meeting Business annual, 15 → 20 licences."""
    sub = sub_id(db, "A-100010", "goto_meeting")
    shown = preview(demo_ctx, "A-100010", items=[CartChange.change_licences(sub, 20)])
    assert shown.cart_version is None  # an unsaved change (the wizard's live summary)
    (item,) = shown.items
    # year 2026-01-26 → 2027-01-26 (365 days), 275 unused:
    # 15 × 173.00 = 2595.00 × 275 ÷ 365 = 1955.1369… → 1955.14
    assert item.proration_credit == eur("1955.14")
    # 20 × 173.00 = 3460.00; net 1504.86 at 0 %
    assert item.charge == eur("3460.00")
    assert (shown.vat_rate, shown.reverse_charge, shown.vat_number) == (
        Decimal(0), True, "DE397824469",
    )  # fmt: skip
    assert (shown.vat, shown.total) == (eur("0.00"), eur("1504.86"))
    add_to_cart(demo_ctx, "A-100010", CartChange.change_licences(sub, 20))
    result = place_order(demo_ctx, "A-100010", idempotency_key="order-de")
    assert result.reverse_charge and result.vat == eur("0.00")
    _assert_invoice_is_the_preview(db, result.invoice_number, shown)
    assert _invoice(db, result.invoice_number)["vat_number"] == "DE397824469"


def test_account_credit_is_applied(demo_ctx, db) -> None:
    """A-100012 (GBP, 45.00 credit): v5 Standard 5 → 6 licences, period 03-31 → 04-30."""
    sub = sub_id(db, "A-100012", "gotoassist_rs_v5")
    add_to_cart(demo_ctx, "A-100012", CartChange.change_licences(sub, 6))
    shown = preview(demo_ctx, "A-100012")
    gbp = lambda amount: Money(amount, "GBP")  # noqa: E731
    # current: 5 × 34.00 + 5 × 4.00 (camera share) = 190.00; 4 of 30 days unused:
    # 190.00 × 4 ÷ 30 = 25.333… → 25.33
    assert shown.items[0].proration_credit == gbp("25.33")
    # new: 6 × 34.00 + 6 × 4.00 = 204.00 + 24.00 = 228.00; subtotal 228.00 − 25.33 = 202.67
    assert shown.subtotal == gbp("202.67")
    # UK VAT 20 % per line: 40.80 + 4.80 − 5.07 (25.33 × 20 % = 5.066) = 40.53
    assert shown.vat == gbp("40.53")
    assert shown.total == gbp("243.20")
    # the 45.00 of account credit pays part: 243.20 − 45.00 = 198.20 due
    assert (shown.credit_applied, shown.amount_due) == (gbp("45.00"), gbp("198.20"))
    result = place_order(demo_ctx, "A-100012", idempotency_key="order-gbp")
    assert (result.credit_applied, result.amount_paid) == (gbp("45.00"), gbp("198.20"))
    _assert_invoice_is_the_preview(db, result.invoice_number, shown)
    assert _account(db, "A-100012")["credit"] == 0
    used = db.reader.rows(
        "SELECT c.amount_minor FROM credits c JOIN invoices i ON i.id = c.invoice_id"
        " WHERE i.number = :n",
        {"n": result.invoice_number},
    )
    assert used == [(-4500,)]


def test_same_idempotency_key_places_one_order(demo_ctx, db) -> None:
    """A double click or a retry with the same order token: one order, one invoice, one email."""
    sub = sub_id(db, "A-100007", "gotoassist_rs_v4")
    add_to_cart(demo_ctx, "A-100007", CartChange.change_licences(sub, 4))
    counts = {t: count(db, t) for t in ("orders", "invoices", "emails", "payments")}
    first = place_order(demo_ctx, "A-100007", idempotency_key="token-42")
    again = place_order(demo_ctx, "A-100007", idempotency_key="token-42")
    assert again == first
    assert {t: count(db, t) for t in counts} == {t: n + 1 for t, n in counts.items()}
    snapshot = dump(db)
    assert place_order(demo_ctx, "A-100007", idempotency_key="token-42") == first
    assert dump(db) == snapshot
    # the token of another account's order is refused
    other = sub_id(db, "A-100002", "gotoassist_rs_v5")
    add_to_cart(demo_ctx, "A-100002", CartChange.change_licences(other, 8))
    with pytest.raises(ValidationError) as reused:
        place_order(demo_ctx, "A-100002", idempotency_key="token-42")
    assert reused.value.code == "idempotency_key_reused"
    # a second order of the account gets the next number
    add_to_cart(demo_ctx, "A-100007", CartChange.change_licences(sub, 5))
    second = place_order(demo_ctx, "A-100007", idempotency_key="token-43")
    assert (first.order_number, second.order_number) == ("ORD-2026-000001", "ORD-2026-000002")


def test_cart_merges_replaces_and_removes(demo_ctx, db) -> None:
    sub = sub_id(db, "A-100007", "gotoassist_rs_v4")
    first = add_to_cart(demo_ctx, "A-100007", CartChange.change_licences(sub, 4))
    second = add_to_cart(demo_ctx, "A-100007", CartChange.change_licences(sub, 6))
    assert [(i.kind, i.licences) for i in second.items] == [(CartItemKind.CHANGE_LICENCES, 6)]
    assert second.items[0].id == first.items[0].id  # replaced in place
    assert second.version > first.version
    with_addon = add_to_cart(demo_ctx, "A-100007", CartChange.add_addon(sub, "camera_share"))
    assert with_addon.lines[0].added_addons == ("camera_share",)
    # an add-on is in the cart once; a change back to the current value removes the change
    with pytest.raises(ValidationError) as twice:
        add_to_cart(demo_ctx, "A-100007", CartChange.add_addon(sub, "camera_share"))
    assert twice.value.code == "no_change"
    back = add_to_cart(demo_ctx, "A-100007", CartChange.change_licences(sub, 3))
    assert [i.kind for i in back.items] == [CartItemKind.ADD_ADDON]
    # 3 × 29.00 + 3 × 4.00 (camera share) for a month; credit 87.00 × 21 ÷ 30 = 60.90
    shown = preview(demo_ctx, "A-100007")
    assert shown.items[0].charge == eur("99.00")
    assert shown.total == eur("38.10")
    # a stale version is a conflict; nothing changes
    with pytest.raises(ConflictError):
        add_to_cart(
            demo_ctx, "A-100007", CartChange.change_licences(sub, 5),
            expected_cart_version=first.version,
        )  # fmt: skip
    with pytest.raises(ConflictError):
        place_order(
            demo_ctx, "A-100007", idempotency_key="stale", expected_cart_version=first.version
        )
    with pytest.raises(ValidationError) as same:
        add_to_cart(demo_ctx, "A-100007", CartChange.change_licences(sub, 3))
    assert same.value.code == "no_change"
    removed = remove_from_cart(demo_ctx, "A-100007", back.items[0].id)
    assert removed.is_empty
    with pytest.raises(ValidationError) as empty:
        place_order(demo_ctx, "A-100007", idempotency_key="empty")
    assert empty.value.code == "cart_empty"
    add_to_cart(demo_ctx, "A-100007", CartChange.change_licences(sub, 4))
    assert clear_cart(demo_ctx, "A-100007").is_empty


def test_changes_refused_for_pending_cancellation_and_active_subscribe(demo_ctx, db) -> None:
    pending = sub_id(db, "A-100011", "goto_meeting")
    with pytest.raises(PolicyViolation) as refused:
        add_to_cart(demo_ctx, "A-100011", CartChange.change_licences(pending, 5))
    assert refused.value.code == "cancellation_pending"
    with pytest.raises(PolicyViolation) as already:
        add_to_cart(demo_ctx, "A-100011", CartChange.subscribe(product="gotoassist_rs_v5"))
    assert already.value.code == "already_subscribed"


def test_buying_a_cancelled_product_again_creates_a_new_subscription(demo_ctx, db) -> None:
    """A-100018: GoTo Meeting ended in March; bought again from Discover other products."""
    old = sub_id(db, "A-100018", "goto_meeting")
    add_to_cart(
        demo_ctx, "A-100018",
        CartChange.subscribe(product="goto_meeting", plan="business", licences=2),
    )  # fmt: skip
    shown = preview(demo_ctx, "A-100018")
    # 2 × 16.00 = 32.00, reverse charge (valid IT VAT number)
    assert shown.items[0].is_new_subscription and shown.total == eur("32.00")
    result = place_order(demo_ctx, "A-100018", idempotency_key="again")
    (placed,) = result.subscriptions
    assert placed.subscription_id != old
    assert _subscription(db, placed.subscription_id)["status"] == "active"
    assert _subscription(db, old)["status"] == "cancelled"
    lines = _invoice_lines(db, _invoice(db, result.invoice_number)["id"])
    assert {line[2] for line in lines} == {placed.subscription_id}


# --------------------------------------------------------------------------- preview == invoice


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A curated demo database loaded for 2026-04-26, copied for every example."""
    from billing_desktop.config import target_from
    from billing_desktop.services.demo import load_curated
    from billing_desktop.store.database import open_database

    path = tmp_path_factory.mktemp("template") / "curated.sqlite3"
    database = open_database(target_from(str(path)))
    load_curated(database, TODAY)
    database.dispose()
    with sqlite3.connect(path) as con:  # fold the WAL into the file before copying it
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


#: (account, product, days the current period still runs after 2026-04-26)
CASES = [
    ("A-100002", "gotoassist_rs_v5", 23),
    ("A-100007", "gotoassist_rs_v4", 21),
    ("A-100010", "goto_meeting", 275),
    ("A-100012", "gotoassist_rs_v5", 4),
    ("A-100013", "gotoassist_rs_v4", 344),
]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_preview_equals_the_placed_invoice(template_db: Path, data: st.DataObject) -> None:
    from billing_desktop.config import target_from
    from billing_desktop.services.clock import FixedClock
    from billing_desktop.services.context import AppContext, local_operator
    from billing_desktop.store.database import open_database

    account, product, days_left = data.draw(st.sampled_from(CASES))
    offset = data.draw(st.integers(0, days_left - 1), label="days after 2026-04-26")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "case.sqlite3"
        shutil.copyfile(template_db, path)
        database = open_database(target_from(str(path)))
        try:
            ctx = AppContext(
                db=database,
                clock=FixedClock(TODAY + timedelta(days=offset)),
                operator=local_operator(database),
                is_demo=True,
            )
            sub = sub_id(database, account, product)
            rank, assigned, maximum = database.reader.rows(
                "SELECT pl.rank, (SELECT COUNT(*) FROM licence_assignments"
                " WHERE subscription_id = s.id), pl.max_licences"
                " FROM subscriptions s JOIN plans pl ON pl.id = s.plan_id WHERE s.id = :id",
                {"id": sub},
            )[0]
            plans = [
                code
                for code, r in database.reader.rows(
                    "SELECT pl.code, pl.rank FROM plans pl JOIN products p ON p.id = pl.product_id"
                    " WHERE p.code = :p ORDER BY pl.rank",
                    {"p": product},
                )
                if r >= rank
            ]
            plan = data.draw(st.sampled_from(plans), label="plan")
            licences = data.draw(st.integers(max(assigned, 1), min(maximum, 60)), label="licences")
            frequency = data.draw(st.sampled_from(["monthly", "annual"]), label="frequency")
            changes = CartChange.edit(sub, plan=plan, licences=licences, frequency=frequency)
            try:
                live = preview(ctx, account, items=changes)
                add_to_cart(ctx, account, changes)
            except ValidationError as exc:
                assert exc.code == "no_change"
                return
            shown = preview(ctx, account)
            assert dataclasses.replace(shown, cart_version=None) == live
            result = place_order(ctx, account, idempotency_key=f"hyp-{offset}")
            _assert_invoice_is_the_preview(database, result.invoice_number, shown)
            assert result.total == shown.total and result.amount_due == shown.amount_due
            # the credit is the unused share of the current period, never more than it
            (item,) = shown.items
            assert item.previous_charge is not None
            assert Money.zero(item.charge.currency) <= item.proration_credit
            assert item.proration_credit <= item.previous_charge
            expected = item.previous_charge.scaled(item.unused_days, item.period_days)
            assert item.proration_credit == expected
            assert result.subscriptions[0].next_billing_date == item.period.end
            assert item.period.start == ctx.clock.today()
        finally:
            database.dispose()


def test_a_failure_at_the_last_step_writes_nothing(demo_ctx, db, monkeypatch) -> None:
    """One transaction: a crash while queueing the email leaves no card, order or invoice."""
    import billing_desktop.services.checkout as checkout

    sub = sub_id(db, "A-100003", "gotoassist_rs_v5")
    add_to_cart(demo_ctx, "A-100003", CartChange.subscribe(subscription_id=sub))
    before = dump(db)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(checkout, "email_row", broken)
    with pytest.raises(RuntimeError):
        place_order(
            demo_ctx, "A-100003", idempotency_key="crash", payment=NewCard(TEST_CARD, 12, 2030)
        )
    assert dump(db) == before  # the invoice number is not used up either
    monkeypatch.undo()
    result = place_order(
        demo_ctx, "A-100003", idempotency_key="crash", payment=NewCard(TEST_CARD, 12, 2030)
    )
    assert result.order_number == "ORD-2026-000001"
