"""Read functions for the account page's Subscriptions tab (SPEC §4; issue 4 item 4).

:func:`subscription_cards` describes one card per product of an account, in
the style of the Billing Center (articles 000, 001, 003, 004): plan tier,
licences assigned of bought, billing frequency, contract, the dates that
matter for the status, the 30-day renewal window of a fixed term, the data
deletion date of a cancelled product — and the actions of the card's options
menu (Edit subscription, Cancel subscription, Reactivate) or its *Subscribe
now* button, each marked available or not **with the reason**, decided by the
same rules the write services apply (cart/checkout, cancellation), so the
widget never offers what the service would refuse.

:func:`discover_offers` is :func:`~billing_desktop.services.renewal.discover_products`
(cancelled and never-bought products) with what can be bought: the plan tiers,
the lowest list price per licence and month in the account's currency, and
the trial length.

Choices where the specification is silent:

* **One card per product.** An account normally has one subscription per
  product; if there are several (a product cancelled and bought again), the
  live one wins, else the most recent.
* **Cancelled products** get a card too (``status == cancelled``, with
  ``ended_on`` and ``data_deletion_date``), but the tab shows them under
  *Discover other products* (SPEC §3: "cancelled products leave the active
  list"); ``SubscriptionCard.in_discover`` says so.
* **Action availability is for the operator acting for the customer**: the
  requester is the account's billing contact (what every write service assumes
  when no other contact is named), the operator's role is checked with
  :func:`~billing_desktop.services.auth.authorize`, and a support-only product
  counts as cancellable when the operator may run the assisted flow.
* **Next billing date** of a *cancellation pending* subscription: the start of
  the next period that is still billed before the effective end (a fixed term
  billed monthly), or ``None`` when nothing more is billed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import select

from billing_desktop.domain.money import Money
from billing_desktop.domain.periods import Frequency
from billing_desktop.domain.policies import (
    CancellationChannel,
    Contract,
    SubscriptionStatus,
    blocks_plan_change,
    cancellation_channel,
    data_deletion_date,
    renewal_notice_deadline,
    renewal_window_passed,
)
from billing_desktop.domain.text import QT_TRANSLATE_NOOP
from billing_desktop.services.auth import Action, authorize
from billing_desktop.services.base import get_account, reading, requesting_contact
from billing_desktop.services.cancellation import (
    Notice,
    _policy,
    _requester_decision,
    _require_billing_contact,
    _require_cancellable,
)
from billing_desktop.services.cart import check_requester, has_overdue_invoice
from billing_desktop.services.catalog import shipped_catalog
from billing_desktop.services.errors import DomainError
from billing_desktop.services.renewal import DiscoverItem, discover_products

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from billing_desktop.services.context import AppContext
    from billing_desktop.store.models import Account, Subscription

__all__ = [
    "CardAction",
    "CardActionCode",
    "DiscoverOffer",
    "SubscriptionCard",
    "discover_offers",
    "subscription_cards",
]


class CardActionCode(StrEnum):
    """What a product card offers (articles 000, 001, 003, 004)."""

    #: options menu → Edit subscription (the checkout wizard)
    EDIT = "edit"
    #: options menu → Cancel subscription (online or assisted cancellation wizard)
    CANCEL = "cancel"
    #: options menu → Reactivate (a pending cancellation, before it takes effect)
    REACTIVATE = "reactivate"
    #: the *Subscribe now* button of an ended trial (the checkout wizard)
    SUBSCRIBE = "subscribe"


@dataclass(frozen=True, slots=True)
class CardAction:
    """One action of a card: whether the rules allow it now, and if not, why."""

    code: CardActionCode
    available: bool
    #: why not (a translatable English template with its values); ``None`` when available
    reason: Notice | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionCard:
    """Everything one product card of the Subscriptions tab shows."""

    subscription_id: int
    #: the subscription's version, for the optimistic-locking check of an action
    version: int
    product_code: str
    product_name: str
    #: catalog family (``remote_support``, ``collaboration``…): the icon's colour
    family: str
    plan_code: str
    plan_name: str
    licences: int
    assigned: int
    frequency: Frequency
    contract: Contract
    term_months: int | None
    term_start: date | None
    term_end: date | None
    #: fixed term: last day to cancel without it renewing (term end − 30 days)
    renewal_notice_deadline: date | None
    #: fixed term still running whose 30-day notice window has passed: it renews
    renewal_window_passed: bool
    status: SubscriptionStatus
    auto_renew: bool
    #: how the product is cancelled: online by the customer or through support
    cancellation_channel: CancellationChannel
    #: the next date an invoice is issued for it; ``None`` when it is not billed again
    next_billing_date: date | None
    trial_end: date | None
    #: the first day without service of a pending cancellation (or of an active plan
    #: that does not renew); ``None`` otherwise
    expires_on: date | None
    #: cancelled (or expired trial): the day it ended
    ended_on: date | None
    #: cancelled: when its data is marked for deletion (ended + 90 days)
    data_deletion_date: date | None
    #: what the next billing date becomes if a pending cancellation is reactivated
    next_billing_after_reactivation: date | None
    #: names of the add-ons in use
    addons: tuple[str, ...]
    actions: tuple[CardAction, ...]

    def action(self, code: CardActionCode | str) -> CardAction:
        code = CardActionCode(code)
        return next(a for a in self.actions if a.code is code)

    @property
    def in_discover(self) -> bool:
        """Cancelled products are listed under *Discover other products*, not as cards."""
        return self.status is SubscriptionStatus.CANCELLED

    @property
    def cancellation_pending(self) -> bool:
        """A pending cancellation (a cancelled trial keeps the status ``trial``)."""
        return self.status is SubscriptionStatus.CANCELLATION_PENDING or (
            self.status is SubscriptionStatus.TRIAL and self.expires_on is not None
        )

    @property
    def free(self) -> int:
        return max(self.licences - self.assigned, 0)


@dataclass(frozen=True, slots=True)
class DiscoverOffer:
    """A product under *Discover other products* and what can be bought of it."""

    item: DiscoverItem
    #: plan tiers, lowest first
    plan_names: tuple[str, ...]
    #: the lowest monthly list price of one licence in the account's currency
    from_price: Money | None
    trial_days: int

    @property
    def product_code(self) -> str:
        return self.item.product_code

    @property
    def product_name(self) -> str:
        return self.item.product_name

    @property
    def cancelled(self) -> bool:
        return self.item.reason == "cancelled"

    @property
    def can_buy(self) -> bool:
        return self.item.can_buy

    @property
    def blocked_reason(self) -> Notice | None:
        item = self.item
        if item.can_buy or item.blocked_message is None:
            return None
        return Notice(item.blocked_code or "blocked", item.blocked_message, item.blocked_params)


# --------------------------------------------------------------------------- reads


def subscription_cards(ctx: AppContext, account_id: int | str) -> list[SubscriptionCard]:
    """One card per product of the account, in catalog order (read-only)."""
    with reading(ctx) as session:
        account = get_account(session, account_id)
        authorize(ctx, Action.VIEW, account)
        today = ctx.clock.today()
        overdue = has_overdue_invoice(session, account, today)
        chosen: dict[int, Subscription] = {}
        for sub in account.subscriptions:
            best = chosen.get(sub.product_id)
            if best is None or _rank(sub) > _rank(best):
                chosen[sub.product_id] = sub
        subs = sorted(chosen.values(), key=lambda s: (s.product.sort_order, s.product.id))
        return [_card(session, ctx, account, sub, today, overdue) for sub in subs]


def discover_offers(ctx: AppContext, account_id: int | str) -> list[DiscoverOffer]:
    """*Discover other products* with the plans, the lowest price and the trial length."""
    items = discover_products(ctx, account_id)
    if not items:
        return []
    with reading(ctx) as session:
        currency = get_account(session, account_id).currency
    catalog = shipped_catalog()
    offers = []
    for item in items:
        names: tuple[str, ...] = ()
        price: Money | None = None
        trial_days = 0
        if catalog.has_product(item.product_code):
            product = catalog.product(item.product_code)
            plans = sorted(product.plans, key=lambda p: p.rank)
            names = tuple(p.name for p in plans)
            trial_days = product.trial_days
            prices = []
            for plan in plans:
                try:
                    prices.append(plan.unit_price(currency, Frequency.MONTHLY))
                except LookupError:
                    continue
            price = min(prices) if prices else None
        offers.append(DiscoverOffer(item, names, price, trial_days))
    return offers


# --------------------------------------------------------------------------- internals


_STATUS_RANK = {
    SubscriptionStatus.ACTIVE: 4,
    SubscriptionStatus.CANCELLATION_PENDING: 4,
    SubscriptionStatus.TRIAL: 3,
    SubscriptionStatus.TRIAL_EXPIRED: 2,
    SubscriptionStatus.CANCELLED: 1,
}


def _rank(sub: Subscription) -> tuple[int, object, int]:
    """Which subscription a product's card shows: live first, then the most recent."""
    return (_STATUS_RANK.get(SubscriptionStatus(sub.status), 0), sub.created_at, sub.id)


def _notice(err: DomainError) -> Notice:
    return Notice(err.code, err.message, dict(err.params))


def _termination_invoice(session: Session, sub: Subscription, effective: date) -> str | None:
    """The early-termination invoice (not void) that billed ``sub`` up to ``effective``.

    The same check as :func:`~billing_desktop.services.cancellation.reactivate`:
    such a subscription cannot be reactivated, and nothing more is billed for it.
    """
    from billing_desktop.store.models import Invoice, InvoiceLine

    return session.scalar(
        select(Invoice.number)
        .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
        .where(
            InvoiceLine.subscription_id == sub.id,
            InvoiceLine.kind == "termination",
            Invoice.kind == "termination",
            Invoice.status != "void",
            InvoiceLine.period_end == effective,
        )
        .limit(1)
    )


def _card(
    session: Session,
    ctx: AppContext,
    account: Account,
    sub: Subscription,
    today: date,
    overdue: bool,
) -> SubscriptionCard:
    status = SubscriptionStatus(sub.status)
    contract = Contract(sub.contract)
    is_trial = status is SubscriptionStatus.TRIAL
    pending = status is SubscriptionStatus.CANCELLATION_PENDING or (
        is_trial and sub.cancellation_effective is not None
    )
    effective = (sub.cancellation_effective or sub.period_end) if pending else None
    termination = (
        _termination_invoice(session, sub, effective)
        if pending and effective is not None and not is_trial
        else None
    )

    next_billing: date | None = None
    expires_on: date | None = None
    if status is SubscriptionStatus.ACTIVE:
        if sub.auto_renew:
            next_billing = sub.period_end
        else:
            expires_on = sub.period_end
    elif pending:
        expires_on = effective
        if (
            not is_trial
            and termination is None
            and sub.period_end is not None
            and effective is not None
            and sub.period_end < effective
        ):
            next_billing = sub.period_end

    fixed = contract is Contract.FIXED_TERM and sub.term_end is not None
    deadline = renewal_notice_deadline(sub.term_end) if fixed and sub.term_end else None
    window_passed = (
        fixed
        and sub.term_end is not None
        and status is SubscriptionStatus.ACTIVE
        and today < sub.term_end
        and renewal_window_passed(sub.term_end, today)
    )
    ended_statuses = (SubscriptionStatus.CANCELLED, SubscriptionStatus.TRIAL_EXPIRED)
    ended = sub.ended_on if status in ended_statuses else None
    if status is SubscriptionStatus.TRIAL_EXPIRED and ended is None:
        ended = sub.trial_end
    if status is SubscriptionStatus.CANCELLED and ended is None:
        ended = sub.cancellation_effective or sub.period_end
    addons = tuple(
        sa.addon.name
        for sa in sorted(sub.addons, key=lambda sa: sa.id)
        if sa.active and (sa.ends_on is None or sa.ends_on > today)
    )
    return SubscriptionCard(
        subscription_id=sub.id,
        version=sub.version,
        product_code=sub.product.code,
        product_name=sub.product.name,
        family=sub.product.family,
        plan_code=sub.plan.code,
        plan_name=sub.plan.name,
        licences=sub.licence_count,
        assigned=len(sub.assignments),
        frequency=Frequency(sub.frequency),
        contract=contract,
        term_months=sub.term_months,
        term_start=sub.term_start,
        term_end=sub.term_end,
        renewal_notice_deadline=deadline,
        renewal_window_passed=bool(window_passed),
        status=status,
        auto_renew=bool(sub.auto_renew),
        cancellation_channel=cancellation_channel(_policy(sub)),
        next_billing_date=next_billing,
        trial_end=sub.trial_end,
        expires_on=expires_on,
        ended_on=ended,
        data_deletion_date=(
            data_deletion_date(ended) if status is SubscriptionStatus.CANCELLED and ended else None
        ),
        next_billing_after_reactivation=(sub.trial_end if is_trial else sub.period_end)
        if pending
        else None,
        addons=addons,
        actions=(
            _edit(ctx, account, sub, status, overdue),
            _cancel(ctx, account, sub, overdue),
            _reactivate(ctx, account, sub, today, pending, effective, termination),
            _subscribe(ctx, account, sub, status, overdue),
        ),
    )


def _allowed(code: CardActionCode, *checks: Callable[[], object]) -> CardAction:
    """Run the checks (callables raising :class:`DomainError`) in order; the first refusal wins."""
    for check in checks:
        try:
            check()
        except DomainError as err:
            return CardAction(code, False, _notice(err))
    return CardAction(code, True)


def _refused(code: CardActionCode, reason_code: str, message: str, **params: object) -> CardAction:
    return CardAction(code, False, Notice(reason_code, message, params))


def _account_open(account: Account) -> None:
    from billing_desktop.services.errors import PolicyViolation

    if account.status == "closed":
        raise PolicyViolation(
            "account_closed",
            QT_TRANSLATE_NOOP("ServiceError", "Account {account} is closed."),
            account=account.account_number,
        )


def _edit(
    ctx: AppContext,
    account: Account,
    sub: Subscription,
    status: SubscriptionStatus,
    overdue: bool,
) -> CardAction:
    """Edit subscription → checkout (articles 001, 004): the rules of :mod:`cart`."""
    code = CardActionCode.EDIT
    product = sub.product.name
    if status is SubscriptionStatus.CANCELLATION_PENDING:
        return _refused(
            code,
            "cancellation_pending",
            QT_TRANSLATE_NOOP(
                "ServiceError",
                "{product} is being cancelled. Reactivate it before changing the plan.",
            ),
            product=product,
        )
    if status is SubscriptionStatus.TRIAL_EXPIRED:
        return _refused(
            code,
            "trial_ended_subscribe",
            QT_TRANSLATE_NOOP(
                "ServiceError",
                "The free trial of {product} has ended. Subscribe now to buy a plan.",
            ),
            product=product,
        )
    if status is SubscriptionStatus.CANCELLED:
        return _refused(
            code,
            "subscription_ended",
            QT_TRANSLATE_NOOP(
                "ServiceError", "{product} has ended. Subscribe to it again to use it."
            ),
            product=product,
        )
    return _allowed(
        code,
        lambda: authorize(ctx, Action.CHECKOUT, account),
        lambda: check_requester(ctx, account, None, on_behalf_of_customer=False),
        lambda: _account_open(account),
        lambda: blocks_plan_change(
            overdue, account.status == "expired" and status is SubscriptionStatus.ACTIVE
        ).require(),
    )


def _cancel(ctx: AppContext, account: Account, sub: Subscription, overdue: bool) -> CardAction:
    """Cancel subscription: online (article 000) or assisted by support (article 002)."""
    code = CardActionCode.CANCEL
    policy = _policy(sub)
    cancellable = _allowed(code, lambda: _require_cancellable(sub))
    if not cancellable.available:
        return cancellable
    if cancellation_channel(policy) is CancellationChannel.SUPPORT:
        # The customer is told to contact support; support staff run the assisted flow.
        assisted = _allowed(code, lambda: authorize(ctx, Action.ASSISTED_CANCEL, account))
        if assisted.available:
            return assisted
        return _refused(
            code,
            "cancel_contact_support",
            QT_TRANSLATE_NOOP(
                "ServiceError",
                "{product} cannot be cancelled online. Please contact support to cancel.",
            ),
            product=sub.product.name,
        )

    def requester_may_cancel() -> None:
        requester = requesting_contact(account, None)
        _require_billing_contact(account, requester)
        _requester_decision(policy, requester, sub).require()

    return _allowed(
        code,
        lambda: authorize(ctx, Action.CANCEL, account),
        requester_may_cancel,
        lambda: blocks_plan_change(overdue, account.status == "expired").require(),
    )


def _reactivate(
    ctx: AppContext,
    account: Account,
    sub: Subscription,
    today: date,
    pending: bool,
    effective: date | None,
    termination: str | None,
) -> CardAction:
    """Reactivate: the checks of :func:`~billing_desktop.services.cancellation.reactivate`."""
    code = CardActionCode.REACTIVATE
    product = sub.product.name
    if not pending:
        return _refused(
            code,
            "not_cancellation_pending",
            QT_TRANSLATE_NOOP("ServiceError", "{product} has no pending cancellation to reverse."),
            product=product,
        )
    if effective is not None and today >= effective:
        return _refused(
            code,
            "reactivation_too_late",
            QT_TRANSLATE_NOOP(
                "ServiceError",
                "{product} expired on {effective_end} and can no longer be reactivated. "
                "Subscribe again instead.",
            ),
            product=product,
            effective_end=effective,
        )
    if termination is not None:
        return _refused(
            code,
            "termination_billed",
            QT_TRANSLATE_NOOP(
                "ServiceError",
                "The remaining months of {product} were billed on early-termination "
                "invoice {invoice}; it can be reactivated only after support voids that "
                "invoice.",
            ),
            product=product,
            invoice=termination,
        )
    return _allowed(
        code,
        lambda: authorize(ctx, Action.REACTIVATE, account),
        lambda: _require_billing_contact(account, requesting_contact(account, None)),
    )


def _subscribe(
    ctx: AppContext,
    account: Account,
    sub: Subscription,
    status: SubscriptionStatus,
    overdue: bool,
) -> CardAction:
    """Subscribe now: only an ended trial shows it (articles 001, 003, 004)."""
    code = CardActionCode.SUBSCRIBE
    if status is not SubscriptionStatus.TRIAL_EXPIRED:
        return _refused(
            code,
            "not_an_ended_trial",
            QT_TRANSLATE_NOOP(
                "ServiceError",
                "Subscribe now is offered when a free trial has ended; {product} is not an "
                "ended trial.",
            ),
            product=sub.product.name,
        )
    return _allowed(
        code,
        lambda: authorize(ctx, Action.CHECKOUT, account),
        lambda: check_requester(ctx, account, None, on_behalf_of_customer=False),
        lambda: _account_open(account),
        lambda: blocks_plan_change(overdue, False).require(),
    )
