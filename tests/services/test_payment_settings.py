"""payment_settings: what the Payment methods and Invoices tabs show around their lists."""

from __future__ import annotations

from decimal import Decimal

from billing_desktop.domain.money import Money
from billing_desktop.services.payments import payment_settings, record_payment, set_autopay


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def test_self_service_account_with_an_overdue_invoice(demo_ctx) -> None:
    db = demo_ctx.db
    settings = payment_settings(demo_ctx, "A-100009")
    assert settings.account_number == "A-100009"
    assert (settings.type, settings.autopay, settings.payment_terms_days) == (
        "standard", False, None,
    )  # fmt: skip
    # the overdue audio-conferencing invoice: 186.40 due, no account credit
    assert (settings.outstanding, settings.credit_balance) == (eur("186.40"), eur("0.00"))
    assert settings.may_change is True
    # "Pay balance" charges the default card on file
    assert (settings.pay_with, settings.pay_with_expired) == ("Visa •••• 7719", False)
    assert settings.version == db.reader.scalar(
        "SELECT version FROM accounts WHERE account_number = 'A-100009'"
    )
    record_payment(demo_ctx, "A-100009")
    after = payment_settings(demo_ctx, settings.account_id)
    assert after.outstanding == eur("0.00")
    assert after.version > settings.version


def test_corporate_account_pays_by_invoice_on_its_terms(demo_ctx) -> None:
    settings = payment_settings(demo_ctx, "A-100015")
    assert (settings.type, settings.autopay, settings.payment_terms_days) == (
        "corporate", False, 30,
    )  # fmt: skip
    # no card or bank account: a payment is recorded as a bank transfer
    assert settings.pay_with is None


def test_autopay_is_read_back(demo_ctx) -> None:
    assert payment_settings(demo_ctx, "A-100002").autopay is True
    set_autopay(demo_ctx, "A-100002", False)
    assert payment_settings(demo_ctx, "A-100002").autopay is False


def test_viewer_sees_the_settings_but_may_not_change_them(as_role) -> None:
    viewer = payment_settings(as_role("viewer"), "A-100009")
    assert viewer.may_change is False
    assert viewer.outstanding == eur("186.40")
    # a representative changes only their own corporate accounts
    assert payment_settings(as_role("representative"), "A-100009").may_change is False


def test_pay_with_names_an_expired_default_card(demo_ctx) -> None:
    import dataclasses
    from datetime import date

    from billing_desktop.services.clock import FixedClock

    # A-100009's Visa expires 12/2027
    later = dataclasses.replace(demo_ctx, clock=FixedClock(date(2028, 1, 3)))
    settings = payment_settings(later, "A-100009")
    assert (settings.pay_with, settings.pay_with_expired) == ("Visa •••• 7719", True)
