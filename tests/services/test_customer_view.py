"""The customer-side Billing Center (issue 7 item 4) on the curated demo accounts (2026-04-26).

What the billing contact (or another contact) sees and may do: their own
permissions, never the operator's. An action the view offers is one the
customer-side write services accept; a refused one carries the message the
customer gets.
"""

from __future__ import annotations

import pytest
from helpers import dump
from sqlalchemy import select

from billing_desktop.domain.policies import SubscriptionStatus
from billing_desktop.services import cancellation as cx
from billing_desktop.services.customer_view import CustomerCard, billing_center
from billing_desktop.services.errors import NotFound, PermissionDenied, PolicyViolation
from billing_desktop.services.subscriptions_view import CardActionCode, subscription_cards
from billing_desktop.store.models import Contact

EDIT, CANCEL = CardActionCode.EDIT, CardActionCode.CANCEL
REACTIVATE, SUBSCRIBE = CardActionCode.REACTIVATE, CardActionCode.SUBSCRIBE


def cards(view) -> dict[str, CustomerCard]:
    return {c.card.product_code: c for c in view.cards}


def offered(card: CustomerCard) -> set[CardActionCode]:
    return {a.code for a in card.card.actions if a.available}


def reason(card: CustomerCard, code: CardActionCode) -> str:
    action = card.card.action(code)
    assert not action.available and action.reason is not None
    return action.reason.code


def contact_id(ctx, email: str) -> int:
    with ctx.db.sessions() as s:
        return s.scalar(select(Contact.id).where(Contact.email == email))


def test_billing_contact_by_default_with_the_account_and_its_contacts(demo_ctx) -> None:
    view = billing_center(demo_ctx, "A-100001")
    assert (view.account_number, view.company_name) == ("A-100001", "Rossi Impianti S.r.l.")
    assert view.contact.name == "Marco Rossi"
    assert view.contact.is_billing_contact
    assert view.contact.roles == ("super_admin", "billing_admin")
    assert [c.name for c in view.contacts] == ["Marco Rossi", "Giulia Bianchi", "Luca Ferrara"]
    assert view.notice is None
    card = cards(view)["gotoassist_rs_v4"]
    assert card.card.status is SubscriptionStatus.ACTIVE
    assert offered(card) == {EDIT, CANCEL}
    # Premium has Standard below it: not online (article 004)
    assert card.lower_tier is not None
    assert card.lower_tier.code == "downgrade_requires_customer_care"
    assert [a.code for a in card.listed_actions] == [EDIT, CANCEL]
    assert view.balance_due.minor == 0 and not view.open_invoices
    assert len(view.paid_invoices) == 2


@pytest.mark.parametrize("number", ["A-100005", "A-100006", "A-100017"])
def test_support_only_products_say_contact_support(demo_ctx, number) -> None:
    """The operator (admin) may run the assisted flow; the customer is told to call support."""
    operator = {c.product_code: c for c in subscription_cards(demo_ctx, number)}
    view = billing_center(demo_ctx, number)
    (product,) = [c for c in operator if c in ("logmein_resolve", "goto_connect")]
    assert operator[product].action(CANCEL).available  # back-office power
    card = cards(view)[product]
    assert reason(card, CANCEL) == "cancel_contact_support"
    assert card.card.action(CANCEL).reason.text == (
        f"{card.card.product_name} cannot be cancelled online. Please contact support to cancel."
    )
    assert CANCEL in [a.code for a in card.listed_actions]  # shown, answered with the message


def test_a_lower_tier_is_never_offered_online(demo_ctx) -> None:
    """A-100008: the top v4 tier cannot be lowered online (article 004)."""
    card = cards(billing_center(demo_ctx, "A-100008"))["gotoassist_rs_v4"]
    assert EDIT in offered(card)
    assert card.lower_tier is not None
    assert card.lower_tier.text == "To move to a lower plan, contact Customer Care"


def test_the_lowest_tier_has_no_lower_plan_note(demo_ctx) -> None:
    """A-100014: GoToAssist v5 Basic is the lowest tier."""
    card = cards(billing_center(demo_ctx, "A-100014"))["gotoassist_rs_v5"]
    assert card.card.plan_code == "basic"
    assert card.lower_tier is None


def test_a_plain_user_is_sent_to_the_billing_admin(demo_ctx) -> None:
    """A-100004: Paolo Conti is a user; Elena Marchetti is the billing admin."""
    billing = billing_center(demo_ctx, "A-100004")
    assert billing.contact.name == "Elena Marchetti"
    paolo = next(c for c in billing.contacts if c.name == "Paolo Conti")
    view = billing_center(demo_ctx, "A-100004", paolo.id)
    assert view.contact == paolo and not paolo.is_billing_contact
    assert view.notice is not None and view.notice.code == "not_billing_contact"
    assert "Elena Marchetti" in view.notice.text
    for card in view.cards:
        assert offered(card) == set()
        assert reason(card, EDIT) == reason(card, CANCEL) == "not_billing_contact"
        assert card.lower_tier is None
    assert all(not o.available for o in view.discover)


def test_a_corporate_account_says_contact_the_representative(demo_ctx) -> None:
    view = billing_center(demo_ctx, "A-100015")
    assert view.notice is not None
    assert view.notice.text == (
        "Contact your representative Chiara Lombardi to make product or licensing changes"
    )
    assert all(offered(c) == set() for c in view.cards)
    assert all(not o.available for o in view.discover)


def test_an_overdue_invoice_blocks_changes_and_is_due(demo_ctx) -> None:
    view = billing_center(demo_ctx, "A-100009")
    assert view.notice is not None and view.notice.code == "overdue_invoice"
    card = cards(view)["goto_meeting"]
    assert reason(card, EDIT) == reason(card, CANCEL) == "overdue_invoice"
    (invoice,) = view.open_invoices
    assert invoice.overdue
    assert view.balance_due == invoice.due and view.balance_due.minor == 18640


def test_pending_cancellation_offers_reactivate_only(demo_ctx) -> None:
    card = cards(billing_center(demo_ctx, "A-100011"))["goto_meeting"]
    assert card.card.status is SubscriptionStatus.CANCELLATION_PENDING
    assert offered(card) == {REACTIVATE}
    assert [a.code for a in card.listed_actions] == [REACTIVATE]


def test_an_ended_trial_offers_subscribe_now(demo_ctx) -> None:
    card = cards(billing_center(demo_ctx, "A-100003"))["gotoassist_rs_v5"]
    assert offered(card) == {SUBSCRIBE}


def test_cancelled_products_are_under_discover(demo_ctx) -> None:
    view = billing_center(demo_ctx, "A-100018")
    assert "goto_meeting" not in cards(view)
    meeting = next(o for o in view.discover if o.offer.product_code == "goto_meeting")
    assert meeting.offer.cancelled and meeting.available


def test_what_the_view_offers_the_write_service_accepts(demo_ctx) -> None:
    """Cancel as offered to Marco Rossi goes through; the view then shows the new state."""
    card = cards(billing_center(demo_ctx, "A-100001"))["gotoassist_rs_v4"]
    assert CANCEL in offered(card)
    cx.cancel_online(demo_ctx, card.card.subscription_id, reason="too_expensive")
    after = cards(billing_center(demo_ctx, "A-100001"))["gotoassist_rs_v4"]
    assert after.card.status is SubscriptionStatus.CANCELLATION_PENDING
    assert offered(after) == {REACTIVATE}


def test_another_contacts_refusal_matches_the_write_service(demo_ctx) -> None:
    giulia = contact_id(demo_ctx, "giulia.bianchi@rossi-impianti.example")
    card = cards(billing_center(demo_ctx, "A-100001", giulia))["gotoassist_rs_v4"]
    assert reason(card, CANCEL) == "not_billing_contact"
    with pytest.raises(PolicyViolation) as refused:
        cx.cancel_online(
            demo_ctx, card.card.subscription_id, reason="too_expensive", requested_by=giulia
        )
    assert refused.value.code == "not_billing_contact"


def test_the_operators_role_does_not_decide_what_the_customer_may_do(demo_ctx, as_role) -> None:
    """A read-only viewer still sees what the billing contact may do."""
    viewer = as_role("viewer")
    assert not subscription_cards(viewer, "A-100001")[0].action(EDIT).available
    card = cards(billing_center(viewer, "A-100001"))["gotoassist_rs_v4"]
    assert offered(card) == {EDIT, CANCEL}


def test_reading_writes_nothing(demo_ctx) -> None:
    before = dump(demo_ctx.db)
    for n in range(1, 20):
        billing_center(demo_ctx, f"A-1000{n:02d}")
    assert dump(demo_ctx.db) == before


def test_unknown_account_or_foreign_contact(demo_ctx) -> None:
    with pytest.raises(NotFound):
        billing_center(demo_ctx, "A-999999")
    foreign = contact_id(demo_ctx, "giulia.bianchi@rossi-impianti.example")
    with pytest.raises(NotFound):
        billing_center(demo_ctx, "A-100002", foreign)


def test_permission_is_checked_for_the_operator(demo_ctx, monkeypatch) -> None:
    from billing_desktop.services import customer_view

    def refuse(*_args, **_kwargs):
        raise PermissionDenied("nope", "No.", {})

    monkeypatch.setattr(customer_view, "authorize", refuse)
    with pytest.raises(PermissionDenied):
        billing_center(demo_ctx, "A-100001")
