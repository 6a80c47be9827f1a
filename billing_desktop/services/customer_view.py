"""The customer-side Billing Center of an account, as one of its contacts sees it (issue 7 item 4).

Presentation mode shows it next to the operator's view: the trainer works in
the back office while the audience sees what the customer's billing contact
would see in the self-service Billing Center, **with that contact's
permissions** — not the operator's. :func:`billing_center` reads it; nothing
is written.

What differs from the operator's Subscriptions tab
(:func:`~billing_desktop.services.subscriptions_view.subscription_cards`):

* **No back-office powers.** A support-only product (Resolve, Connect) says
  "contact support" instead of opening the assisted flow; a lower plan tier
  says "contact Customer Care" (``online_downgrade`` false); voiding invoices,
  recording payments and the assisted flows do not exist here.
* **The contact's own rules** (SPEC §3 "Who may act"): only the billing
  contact may change plans; anyone else is told to contact the billing admin
  (name, email). A corporate account is managed by its representative: every
  change says "Contact your representative" (SPEC §3 "Corporate accounts").
  An overdue invoice or an expired account blocks changes, as for anyone.

How the rules are reused, not rewritten: each card is built by the
Subscriptions tab's own card function with a *rules* context — the
operator's context with an operator role that no role limit refuses — so the
result holds only what the account's state decides (status, pending
cancellation, overdue invoice, contract, the billing contact's cancellation
role). The contact's limits are then applied on top with the checkout's
customer-side requester check (:func:`~billing_desktop.services.cart.check_requester`
with ``on_behalf_of_customer=True``) and the support-only / lower-tier rules
of the domain. The rules context only ever reaches read functions inside a
read-only session that is rolled back; the caller's own operator must be
allowed to view the account (:func:`~billing_desktop.services.auth.authorize`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from billing_desktop.domain.money import Money
from billing_desktop.domain.policies import (
    CancellationChannel,
    Decision,
    OperatorRole,
    SubscriptionStatus,
    blocks_plan_change,
    tier_change,
)
from billing_desktop.domain.text import QT_TRANSLATE_NOOP, Notice
from billing_desktop.services.auth import Action, authorize
from billing_desktop.services.base import get_account, reading, requesting_contact
from billing_desktop.services.cart import check_requester, has_overdue_invoice
from billing_desktop.services.context import AppContext, OperatorInfo
from billing_desktop.services.errors import DomainError
from billing_desktop.services.invoices import InvoiceRow, list_invoices
from billing_desktop.services.subscriptions_view import (
    CardAction,
    CardActionCode,
    DiscoverOffer,
    SubscriptionCard,
    _card,
    _rank,
    discover_offers,
)

if TYPE_CHECKING:
    from billing_desktop.store.models import Account, Contact, Subscription

__all__ = [
    "CustomerBillingCenter",
    "CustomerCard",
    "CustomerContact",
    "CustomerOffer",
    "billing_center",
]


@dataclass(frozen=True, slots=True)
class CustomerContact:
    """A contact of the account the Billing Center can be shown as."""

    id: int
    name: str
    email: str
    #: contact roles (``super_admin``, ``billing_admin``, ``product_admin``, ``user``)
    roles: tuple[str, ...]
    is_billing_contact: bool


@dataclass(frozen=True, slots=True)
class CustomerCard:
    """A product card as the contact sees it.

    ``card.actions`` are the contact's: available exactly when the Billing
    Center would let this contact do it, otherwise with the reason the
    customer is given.
    """

    card: SubscriptionCard
    #: "To move to a lower plan, contact Customer Care" when the product has a lower
    #: tier that cannot be chosen online and the contact may otherwise edit the plan
    lower_tier: Notice | None = None

    @property
    def listed_actions(self) -> tuple[CardAction, ...]:
        """What the card's options offer this contact, in menu order.

        The actions available to them, and those the Billing Center shows but
        answers with a message when chosen ("contact support", "contact your
        billing admin", "pay the overdue invoice first"). Actions that do not
        apply to the product's state (Reactivate on a running plan, Subscribe
        now on anything but an ended trial) are left out.
        """
        return tuple(
            a
            for a in self.card.actions
            if a.available or (a.reason is not None and a.reason.code in _TOLD_WHEN_CHOSEN)
        )


@dataclass(frozen=True, slots=True)
class CustomerOffer:
    """A product under *Discover other products*, and whether this contact can buy it."""

    offer: DiscoverOffer
    available: bool
    reason: Notice | None = None


@dataclass(frozen=True, slots=True)
class CustomerBillingCenter:
    """Everything the customer-side Billing Center shows for one contact."""

    account_id: int
    account_number: str
    company_name: str
    #: whom the view is shown as (the billing contact unless another was asked for)
    contact: CustomerContact
    #: every contact of the account, the billing contact first
    contacts: tuple[CustomerContact, ...]
    #: the message above the cards when this contact cannot make changes at all
    #: (representative, billing admin, overdue invoice, expired account); ``None`` otherwise
    notice: Notice | None
    #: the live products (cancelled ones are under ``discover``), in catalog order
    cards: tuple[CustomerCard, ...]
    discover: tuple[CustomerOffer, ...]
    open_invoices: tuple[InvoiceRow, ...]
    paid_invoices: tuple[InvoiceRow, ...]
    #: what the open invoices still ask for (the Billing Center's *Pay balance*)
    balance_due: Money


#: The role of the rules context: one that no operator-role limit refuses, so the
#: Subscriptions tab's card function reports only what the account's state decides.
_RULES_ROLE = OperatorRole.ADMIN.value

_SUPPORT_ONLY = QT_TRANSLATE_NOOP(
    "ServiceError", "{product} cannot be cancelled online. Please contact support to cancel."
)


def billing_center(
    ctx: AppContext, account_id: int | str, contact_id: int | None = None
) -> CustomerBillingCenter:
    """The Billing Center of ``account_id`` as ``contact_id`` sees it (default: billing contact).

    Read-only. Raises :class:`~billing_desktop.services.errors.NotFound` for an
    unknown account or a contact of another account, and
    :class:`~billing_desktop.services.errors.PolicyViolation` when no contact
    is named and the account has no billing contact.
    """
    rules = _rules_context(ctx)
    with reading(ctx) as session:
        account = get_account(session, account_id)
        authorize(ctx, Action.VIEW, account)
        contact = requesting_contact(account, contact_id)
        today = ctx.clock.today()
        overdue = has_overdue_invoice(session, account, today)
        requester = _requester_refusal(ctx, account, contact)
        chosen: dict[int, Subscription] = {}
        for sub in account.subscriptions:
            best = chosen.get(sub.product_id)
            if best is None or _rank(sub) > _rank(best):
                chosen[sub.product_id] = sub
        subs = sorted(chosen.values(), key=lambda s: (s.product.sort_order, s.product.id))
        cards = tuple(
            _customer_card(_card(session, rules, account, sub, today, overdue), sub, requester)
            for sub in subs
            if SubscriptionStatus(sub.status) is not SubscriptionStatus.CANCELLED
        )
        notice = requester or _notice_of(blocks_plan_change(overdue, account.status == "expired"))
        contacts = tuple(
            _contact(c)
            for c in sorted(account.contacts, key=lambda c: (not c.is_billing_contact, c.id))
        )
        number, company, currency, internal_id = (
            account.account_number,
            account.company_name,
            account.currency,
            account.id,
        )
        shown = _contact(contact)
    offers = tuple(
        CustomerOffer(
            offer,
            available=offer.can_buy and requester is None,
            reason=requester if requester is not None else offer.blocked_reason,
        )
        for offer in discover_offers(ctx, internal_id)
    )
    open_invoices = list_invoices(ctx, internal_id, "open")
    paid_invoices = list_invoices(ctx, internal_id, "paid")
    balance = Money.zero(currency)
    for invoice in open_invoices:
        if invoice.due.currency == currency:
            balance = balance + invoice.due
    return CustomerBillingCenter(
        account_id=internal_id,
        account_number=number,
        company_name=company,
        contact=shown,
        contacts=contacts,
        notice=notice,
        cards=cards,
        discover=offers,
        open_invoices=open_invoices,
        paid_invoices=paid_invoices,
        balance_due=balance,
    )


# --------------------------------------------------------------------------- internals


def _rules_context(ctx: AppContext) -> AppContext:
    """``ctx`` with an operator whose role limits nothing: for reading the state rules only."""
    return dataclasses.replace(
        ctx,
        operator=OperatorInfo(id=0, email="", name="", role=_RULES_ROLE),
    )


def _notice_of(decision: Decision) -> Notice | None:
    if decision.allowed:
        return None
    return Notice(decision.code, decision.message, dict(decision.params))


def _error_notice(err: DomainError) -> Notice:
    return Notice(err.code, err.message, dict(err.params))


def _requester_refusal(ctx: AppContext, account: Account, contact: Contact) -> Notice | None:
    """Why this contact cannot change anything in the Billing Center, or ``None``.

    The checkout's customer-side rule: a corporate account says to contact the
    representative, anyone but the billing contact to contact the billing admin.
    """
    try:
        check_requester(ctx, account, contact.id, on_behalf_of_customer=True)
    except DomainError as err:
        return _error_notice(err)
    return None


def _customer_card(
    card: SubscriptionCard, sub: Subscription, requester: Notice | None
) -> CustomerCard:
    """``card`` (built with the rules context) with the contact's actions."""
    actions = tuple(_customer_action(card, action, requester) for action in card.actions)
    customer = dataclasses.replace(card, actions=actions)
    return CustomerCard(customer, _lower_tier(customer, sub))


def _customer_action(
    card: SubscriptionCard, action: CardAction, requester: Notice | None
) -> CardAction:
    code = action.code
    if (
        code is CardActionCode.CANCEL
        and action.available
        and card.cancellation_channel is CancellationChannel.SUPPORT
    ):
        # the rules context may run the assisted flow; a customer is told to call support
        return CardAction(
            code,
            False,
            Notice("cancel_contact_support", _SUPPORT_ONLY, {"product": card.product_name}),
        )
    if requester is None:
        return action
    # Who asks comes first — unless the product's own state refuses the action to
    # everyone (an ended trial cannot be edited, a running plan not reactivated):
    # "ask your billing admin" would send the customer to someone who cannot either.
    if action.available or (
        action.reason is not None and action.reason.code in _REQUESTER_OR_ACCOUNT_CODES
    ):
        return CardAction(code, False, requester)
    return action


#: refusal codes that depend on who asks or on the whole account, not on the product
_REQUESTER_OR_ACCOUNT_CODES = frozenset(
    {
        "not_billing_contact",
        "no_billing_contact",
        "corporate_contact_representative",
        "cancel_requires_super_admin",
        "cancel_requires_product_admin",
        "cancel_requires_admin",
        "overdue_invoice",
        "account_expired",
    }
)
#: refusals the Billing Center answers with a message when the action is chosen
_TOLD_WHEN_CHOSEN = _REQUESTER_OR_ACCOUNT_CODES | {"cancel_contact_support"}


def _lower_tier(card: SubscriptionCard, sub: Subscription) -> Notice | None:
    """The domain's tier rule for a customer-side request, shown when it matters."""
    if not card.action(CardActionCode.EDIT).available:
        return None
    current = sub.plan.rank
    lower = [plan.rank for plan in sub.product.plans if plan.rank < current]
    if not lower:
        return None
    return _notice_of(
        tier_change(current, max(lower), bool(sub.product.online_downgrade), actor=None)
    )


def _contact(contact: Contact) -> CustomerContact:
    return CustomerContact(
        id=contact.id,
        name=contact.full_name,
        email=contact.email,
        roles=tuple(r for r in contact.roles.split(",") if r),
        is_billing_contact=bool(contact.is_billing_contact),
    )
