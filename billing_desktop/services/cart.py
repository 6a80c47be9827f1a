"""The cart: one per account, checked out as one order and one invoice (SPEC §3 "Checkout").

A cart holds *pending changes*: subscribe (after a trial, an expired trial,
or to a product never bought or bought again), change the tier, change the
licence count, change the billing frequency, add an add-on. Changes are
merged per subscription so the order shows one line group per product:

* a change of the same kind for the same subscription replaces the earlier
  one (two licence counts → the last wins); an add-on already in the cart is
  not added twice;
* a trial, an expired trial or a product not owned cannot be *changed*, only
  *subscribed* to: its changes are folded into one ``subscribe`` item whose
  unset fields (plan, licences, frequency) keep their current or default
  values;
* a change back to the current value removes the pending change.

Every rule of the checkout (who may, lower tier, licence bounds, overdue
invoice, corporate accounts) is checked here when an item is added and again
by :func:`billing_desktop.services.checkout.place_order`, so the cart never
holds an order that the rules refuse when it is added.

The button rule (SPEC §3): :func:`primary_action` reads **Checkout** while the
cart is empty and **Add to cart** once it holds items.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm.attributes import flag_modified

from billing_desktop.domain.periods import Frequency
from billing_desktop.domain.policies import (
    OperatorRole,
    blocks_plan_change,
    check_licence_count,
    may_change_plan_online,
    tier_change,
)
from billing_desktop.domain.text import QT_TRANSLATE_NOOP
from billing_desktop.services import audit
from billing_desktop.services.auth import Action, authorize
from billing_desktop.services.base import billing_contact, get_account, requesting_contact
from billing_desktop.services.catalog import shipped_catalog
from billing_desktop.services.errors import (
    ConflictError,
    NotFound,
    PolicyViolation,
    ValidationError,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from billing_desktop.services.context import AppContext
    from billing_desktop.store.models import (
        Account,
        Addon,
        Cart,
        CartItem,
        Contact,
        Plan,
        Product,
        Subscription,
    )

__all__ = [
    "CartChange",
    "CartItemKind",
    "CartItemView",
    "CartLine",
    "CartView",
    "PrimaryAction",
    "add_to_cart",
    "clear_cart",
    "get_cart",
    "primary_action",
    "remove_from_cart",
]

#: Subscription statuses that are "bought" and can be changed through checkout.
_TRIAL_STATUSES = ("trial", "trial_expired")
_LIVE_STATUSES = ("trial", "trial_expired", "active", "cancellation_pending")


class CartItemKind(StrEnum):
    """The kinds of cart item (SPEC §2 "Cart")."""

    SUBSCRIBE = "subscribe"
    CHANGE_TIER = "change_tier"
    CHANGE_LICENCES = "change_licences"
    CHANGE_FREQUENCY = "change_frequency"
    ADD_ADDON = "add_addon"


_CHANGE_KINDS = (
    CartItemKind.CHANGE_TIER,
    CartItemKind.CHANGE_LICENCES,
    CartItemKind.CHANGE_FREQUENCY,
)


class PrimaryAction(StrEnum):
    """The label of the primary button of the edit/subscribe page (SPEC §3)."""

    CHECKOUT = "checkout"
    ADD_TO_CART = "add_to_cart"


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class CartChange:
    """One change the customer asks for, as the wizard describes it (codes, not ids).

    Build it with the class methods. ``subscription_id`` names an existing
    subscription (active, trial or expired trial); ``product`` (a catalog code)
    names a product the account does not own yet (or owns only as a trial or a
    cancelled subscription).
    """

    kind: CartItemKind
    subscription_id: int | None = None
    product: str | None = None
    plan: str | None = None
    licences: int | None = None
    frequency: str | None = None
    addon: str | None = None

    @classmethod
    def subscribe(
        cls,
        *,
        subscription_id: int | None = None,
        product: str | None = None,
        plan: str | None = None,
        licences: int | None = None,
        frequency: str | None = None,
    ) -> CartChange:
        """Subscribe after a trial (``subscription_id``) or to a product (``product``).

        Unset fields keep the trial's values (a new product: its entry tier,
        1 licence, monthly).
        """
        return cls(
            CartItemKind.SUBSCRIBE,
            subscription_id=subscription_id,
            product=product,
            plan=plan,
            licences=licences,
            frequency=None if frequency is None else str(frequency),
        )

    @classmethod
    def change_tier(cls, subscription_id: int, plan: str) -> CartChange:
        return cls(CartItemKind.CHANGE_TIER, subscription_id=subscription_id, plan=plan)

    @classmethod
    def change_licences(cls, subscription_id: int, licences: int) -> CartChange:
        return cls(CartItemKind.CHANGE_LICENCES, subscription_id=subscription_id, licences=licences)

    @classmethod
    def change_frequency(cls, subscription_id: int, frequency: str) -> CartChange:
        return cls(
            CartItemKind.CHANGE_FREQUENCY,
            subscription_id=subscription_id,
            frequency=str(frequency),
        )

    @classmethod
    def add_addon(
        cls, subscription_id: int | None = None, addon: str = "", *, product: str | None = None
    ) -> CartChange:
        return cls(
            CartItemKind.ADD_ADDON, subscription_id=subscription_id, product=product, addon=addon
        )

    @staticmethod
    def edit(
        subscription_id: int,
        *,
        plan: str | None = None,
        licences: int | None = None,
        frequency: str | None = None,
    ) -> tuple[CartChange, ...]:
        """The changes of an "Edit subscription" page: one per field that is given."""
        changes: list[CartChange] = []
        if plan is not None:
            changes.append(CartChange.change_tier(subscription_id, plan))
        if licences is not None:
            changes.append(CartChange.change_licences(subscription_id, licences))
        if frequency is not None:
            changes.append(CartChange.change_frequency(subscription_id, frequency))
        return tuple(changes)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class CartItemView:
    """One stored cart item (``None`` fields of a subscribe item keep their current value)."""

    id: int
    position: int
    kind: CartItemKind
    subscription_id: int | None
    product_code: str
    plan_code: str | None
    licences: int | None
    frequency: str | None
    addon_code: str | None


@dataclass(frozen=True, slots=True)
class CartLine:
    """What the cart will do to one subscription (or new product): its merged items."""

    subscription_id: int | None
    product_code: str
    product_name: str
    kinds: tuple[CartItemKind, ...]
    is_new_subscription: bool
    plan_code: str
    plan_name: str
    licences: int
    frequency: str
    previous_plan_code: str | None
    previous_licences: int | None
    previous_frequency: str | None
    added_addons: tuple[str, ...]
    #: ids of the stored items making up this line (to remove the line)
    item_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class CartView:
    account_id: int
    account_number: str
    #: pass back as ``expected_cart_version``; ``None`` while the account has no cart
    version: int | None
    items: tuple[CartItemView, ...]
    lines: tuple[CartLine, ...]

    @property
    def is_empty(self) -> bool:
        return not self.items

    @property
    def primary_action(self) -> PrimaryAction:
        return PrimaryAction.CHECKOUT if self.is_empty else PrimaryAction.ADD_TO_CART


# --------------------------------------------------------------------------- pending changes


@dataclass(frozen=True, slots=True)
class PendingChange:
    """A cart item by database ids; ``None`` fields are unspecified (keep current value)."""

    kind: CartItemKind
    subscription_id: int | None
    product_id: int
    plan_id: int | None = None
    licences: int | None = None
    frequency: str | None = None
    addon_id: int | None = None
    #: the stored row this change is (None: not stored yet)
    item_id: int | None = field(default=None, compare=False)

    @property
    def group(self) -> tuple[str, int]:
        """One group per subscription, or per product for a product not owned yet."""
        if self.subscription_id is not None:
            return ("subscription", self.subscription_id)
        return ("product", self.product_id)

    @classmethod
    def of(cls, item: CartItem) -> PendingChange:
        return cls(
            kind=CartItemKind(item.kind),
            subscription_id=item.subscription_id,
            product_id=item.product_id,
            plan_id=item.plan_id,
            licences=item.licence_count,
            frequency=item.frequency,
            addon_id=item.addon_id,
            item_id=item.id,
        )


def merge_changes(
    existing: Sequence[PendingChange], new: Sequence[PendingChange]
) -> list[PendingChange]:
    """``existing`` with ``new`` merged in, one pending change per subscription and kind.

    A subscribe item takes the fields the new one sets; a change replaces the
    change of the same kind; an add-on already present is kept once. Positions
    (the order of the list) are those of the first appearance.
    """
    out = list(existing)
    for change in new:
        same_group = [i for i, c in enumerate(out) if c.group == change.group]
        if change.kind is CartItemKind.ADD_ADDON:
            if not any(
                out[i].kind is CartItemKind.ADD_ADDON and out[i].addon_id == change.addon_id
                for i in same_group
            ):
                out.append(change)
            continue
        index = next((i for i in same_group if out[i].kind is change.kind), None)
        if index is None:
            out.append(change)
        elif change.kind is CartItemKind.SUBSCRIBE:
            old = out[index]
            out[index] = replace(
                old,
                plan_id=change.plan_id if change.plan_id is not None else old.plan_id,
                licences=change.licences if change.licences is not None else old.licences,
                frequency=change.frequency if change.frequency is not None else old.frequency,
            )
        else:
            out[index] = replace(change, item_id=out[index].item_id)
    return out


# --------------------------------------------------------------------------- resolution


@dataclass(slots=True)
class Target:
    """The configuration one subscription (or new product) will have after the order.

    Internal to the services (holds ORM objects); checkout prices it.
    """

    subscription: Subscription | None
    product: Product
    #: a subscription starts (trial, expired trial, new or bought again): no proration
    subscribe: bool
    plan: Plan
    licences: int
    frequency: str
    old_plan: Plan | None
    old_licences: int
    old_frequency: str | None
    old_addons: list[Addon]
    added_addons: list[Addon]
    kinds: list[CartItemKind]
    item_ids: list[int]

    @property
    def addons(self) -> list[Addon]:
        return [*self.old_addons, *self.added_addons]

    @property
    def assigned(self) -> int:
        return len(self.subscription.assignments) if self.subscription is not None else 0

    @property
    def plan_changed(self) -> bool:
        return self.old_plan is None or self.plan.id != self.old_plan.id

    @property
    def is_downgrade(self) -> bool:
        return (
            not self.subscribe
            and self.old_plan is not None
            and self.plan.rank < self.old_plan.rank
        )

    @property
    def changes_anything(self) -> bool:
        return (
            self.subscribe
            or self.plan_changed
            or self.licences != self.old_licences
            or self.frequency != self.old_frequency
            or bool(self.added_addons)
        )

    @property
    def paid_licences_before(self) -> int:
        """Licences paid before the order (a trial's seats were never paid)."""
        return 0 if self.subscribe else self.old_licences

    def line(self) -> CartLine:
        old = None if self.subscribe and self.subscription is None else self
        return CartLine(
            subscription_id=self.subscription.id if self.subscription is not None else None,
            product_code=self.product.code,
            product_name=self.product.name,
            kinds=tuple(self.kinds),
            is_new_subscription=self.subscribe,
            plan_code=self.plan.code,
            plan_name=self.plan.name,
            licences=self.licences,
            frequency=self.frequency,
            previous_plan_code=old.old_plan.code if old and old.old_plan else None,
            previous_licences=old.old_licences if old else None,
            previous_frequency=old.old_frequency if old else None,
            added_addons=tuple(a.code for a in self.added_addons),
            item_ids=tuple(self.item_ids),
        )


def _invalid(code: str, message: str, **params: object) -> ValidationError:
    return ValidationError(code, message, params)


def _frequency(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return Frequency(str(value)).value
    except ValueError:
        raise _invalid(
            "frequency_invalid",
            QT_TRANSLATE_NOOP("ServiceError", "{frequency} is not a billing frequency."),
            frequency=value,
        ) from None


def _plan_of(product: Product, code: str) -> Plan:
    plan = next((p for p in product.plans if p.code == code), None)
    if plan is None:
        raise _invalid(
            "plan_unknown",
            QT_TRANSLATE_NOOP("ServiceError", "{product} has no plan {plan}."),
            product=product.name,
            plan=code,
        )
    return plan


def _addon_of(product: Product, code: str) -> Addon:
    addon = next((a for a in product.addons if a.code == code), None)
    if addon is None:
        raise _invalid(
            "addon_unknown",
            QT_TRANSLATE_NOOP("ServiceError", "{product} has no add-on {addon}."),
            product=product.name,
            addon=code,
        )
    return addon


def _licences(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(
            "licences_invalid",
            QT_TRANSLATE_NOOP("ServiceError", "The number of licences must be a whole number."),
            licences=str(value),
        )
    return value


def _product_by_code(session: Session, code: str | None) -> Product:
    from billing_desktop.store.models import Product

    product = session.scalar(select(Product).where(Product.code == (code or "")))
    if product is None:
        raise NotFound(QT_TRANSLATE_NOOP("ServiceError", "Product"), code or "")
    return product


def _subscription_of(session: Session, account: Account, subscription_id: int) -> Subscription:
    from billing_desktop.store.models import Subscription

    sub = session.get(Subscription, subscription_id)
    if sub is None or sub.account_id != account.id:
        raise NotFound(QT_TRANSLATE_NOOP("ServiceError", "Subscription"), subscription_id)
    return sub


def _active_addon_ids(sub: Subscription) -> set[int]:
    return {a.addon_id for a in sub.addons if a.active}


def normalise(session: Session, account: Account, change: CartChange) -> PendingChange:
    """Check one requested change and express it by ids, folded as the module doc says."""
    try:
        kind = CartItemKind(change.kind)
    except ValueError:
        raise _invalid(
            "cart_kind_invalid",
            QT_TRANSLATE_NOOP("ServiceError", "{kind} is not a kind of cart item."),
            kind=str(change.kind),
        ) from None
    sub: Subscription | None = None
    if change.subscription_id is not None:
        sub = _subscription_of(session, account, change.subscription_id)
        product = sub.product
        if change.product is not None and change.product != product.code:
            raise _invalid(
                "product_mismatch",
                QT_TRANSLATE_NOOP("ServiceError", "The subscription is not a {product} plan."),
                product=change.product,
            )
    else:
        product = _product_by_code(session, change.product)
        live = [s for s in account.subscriptions if s.product_id == product.id]
        live = [s for s in live if s.status in _LIVE_STATUSES]
        if live:
            return normalise(session, account, replace(change, subscription_id=live[0].id))
    if sub is not None and sub.status == "cancelled":
        if kind is CartItemKind.SUBSCRIBE:
            sub = None  # bought again from "Discover other products": a new subscription
        else:
            raise PolicyViolation(
                "subscription_ended",
                QT_TRANSLATE_NOOP(
                    "ServiceError",
                    "{product} has ended. Subscribe to it again to use it.",
                ),
                product=product.name,
            )
    if sub is not None and sub.status == "cancellation_pending":
        raise PolicyViolation(
            "cancellation_pending",
            QT_TRANSLATE_NOOP(
                "ServiceError",
                "{product} is being cancelled. Reactivate it before changing the plan.",
            ),
            product=product.name,
        )
    if sub is not None and sub.status == "active" and kind is CartItemKind.SUBSCRIBE:
        raise PolicyViolation(
            "already_subscribed",
            QT_TRANSLATE_NOOP(
                "ServiceError",
                "{product} is already subscribed. Edit the subscription to change it.",
            ),
            product=product.name,
        )
    subscribing = sub is None or sub.status in _TRIAL_STATUSES
    if subscribing and kind in _CHANGE_KINDS:
        kind = CartItemKind.SUBSCRIBE
    pending = PendingChange(
        kind=kind, subscription_id=sub.id if sub else None, product_id=product.id
    )
    original = CartItemKind(change.kind)
    if kind is CartItemKind.ADD_ADDON:
        addon = _addon_of(product, change.addon or "")
        if sub is not None and addon.id in _active_addon_ids(sub):
            raise _invalid(
                "addon_already_active",
                QT_TRANSLATE_NOOP("ServiceError", "{product} already includes {addon}."),
                product=product.name,
                addon=addon.name,
            )
        return replace(pending, addon_id=addon.id)
    wants_plan = original in (CartItemKind.SUBSCRIBE, CartItemKind.CHANGE_TIER)
    wants_licences = original in (CartItemKind.SUBSCRIBE, CartItemKind.CHANGE_LICENCES)
    wants_frequency = original in (CartItemKind.SUBSCRIBE, CartItemKind.CHANGE_FREQUENCY)
    plan_id = None
    if wants_plan and change.plan is not None:
        plan_id = _plan_of(product, change.plan).id
    licences = _licences(change.licences) if wants_licences else None
    frequency = _frequency(change.frequency) if wants_frequency else None
    required = {
        CartItemKind.CHANGE_TIER: plan_id,
        CartItemKind.CHANGE_LICENCES: licences,
        CartItemKind.CHANGE_FREQUENCY: frequency,
    }
    if original in required and required[original] is None:
        raise _invalid(
            "cart_change_incomplete",
            QT_TRANSLATE_NOOP("ServiceError", "Choose the new value for {product}."),
            product=product.name,
        )
    return replace(pending, plan_id=plan_id, licences=licences, frequency=frequency)


def resolve(session: Session, account: Account, changes: Sequence[PendingChange]) -> list[Target]:
    """Merge ``changes`` per group into the configuration each subscription will have."""
    from billing_desktop.store.models import Addon, Plan, Product, Subscription

    groups: dict[tuple[str, int], list[PendingChange]] = {}
    for change in changes:
        groups.setdefault(change.group, []).append(change)
    targets: list[Target] = []
    for (what, key), items in groups.items():
        sub = session.get(Subscription, key) if what == "subscription" else None
        if what == "subscription" and (sub is None or sub.account_id != account.id):
            raise NotFound(QT_TRANSLATE_NOOP("ServiceError", "Subscription"), key)
        product = sub.product if sub is not None else session.get(Product, key)
        if product is None:
            raise NotFound(QT_TRANSLATE_NOOP("ServiceError", "Product"), key)
        subscribe = sub is None or sub.status in _TRIAL_STATUSES or any(
            c.kind is CartItemKind.SUBSCRIBE for c in items
        )
        if sub is not None:
            plan, licences, frequency = sub.plan, sub.licence_count, sub.frequency
            old_addons = [a.addon for a in sub.addons if a.active]
        else:
            plan = min(product.plans, key=lambda p: p.rank)
            licences, frequency, old_addons = 1, Frequency.MONTHLY.value, []
        target = Target(
            subscription=sub,
            product=product,
            subscribe=subscribe,
            plan=plan,
            licences=licences,
            frequency=frequency,
            old_plan=sub.plan if sub is not None else None,
            old_licences=sub.licence_count if sub is not None else 0,
            old_frequency=sub.frequency if sub is not None else None,
            old_addons=old_addons,
            added_addons=[],
            kinds=[],
            item_ids=[],
        )
        for change in items:
            if change.kind not in target.kinds:
                target.kinds.append(change.kind)
            if change.item_id is not None:
                target.item_ids.append(change.item_id)
            if change.plan_id is not None:
                target.plan = session.get(Plan, change.plan_id) or target.plan
            if change.licences is not None:
                target.licences = change.licences
            if change.frequency is not None:
                target.frequency = change.frequency
            if change.addon_id is not None:
                addon = session.get(Addon, change.addon_id)
                owned = {a.id for a in target.addons}
                if addon is not None and addon.id not in owned:
                    target.added_addons.append(addon)
        targets.append(target)
    return targets


def _is_noop(session: Session, change: PendingChange) -> bool:
    """A change to the value the subscription already has (it would change nothing)."""
    from billing_desktop.store.models import Subscription

    if change.kind not in _CHANGE_KINDS or change.subscription_id is None:
        return False
    sub = session.get(Subscription, change.subscription_id)
    if sub is None:
        return False
    return (
        (change.kind is CartItemKind.CHANGE_TIER and change.plan_id == sub.plan_id)
        or (change.kind is CartItemKind.CHANGE_LICENCES and change.licences == sub.licence_count)
        or (change.kind is CartItemKind.CHANGE_FREQUENCY and change.frequency == sub.frequency)
    )


def prune(session: Session, changes: Sequence[PendingChange]) -> list[PendingChange]:
    """``changes`` without those that set a subscription to the value it already has."""
    return [c for c in changes if not _is_noop(session, c)]


def no_change() -> ValidationError:
    return _invalid(
        "no_change",
        QT_TRANSLATE_NOOP("ServiceError", "This does not change the subscription."),
    )


# --------------------------------------------------------------------------- rules


def _representative_name(account: Account) -> str:
    rep = account.representative
    return rep.name if rep is not None else "Corporate Account Services"


def has_overdue_invoice(session: Session, account: Account, today: date) -> bool:
    """An open invoice with something still due after its due date (SPEC §3)."""
    from billing_desktop.store.models import Invoice

    due = Invoice.total_minor - Invoice.credit_applied_minor - Invoice.paid_minor
    count = session.scalar(
        select(func.count())
        .select_from(Invoice)
        .where(
            Invoice.account_id == account.id,
            Invoice.status == "open",
            Invoice.due_date < today,
            due > 0,
        )
    )
    return bool(count)


def check_requester(
    ctx: AppContext,
    account: Account,
    requested_by: int | None,
    *,
    on_behalf_of_customer: bool,
) -> Contact:
    """Who asks for the change, and whether they may (SPEC §3 "Who may act").

    A customer-side request (``on_behalf_of_customer``, the Billing Center's
    rules) must come from the billing contact and is refused on a corporate
    account ("Contact your representative"). A back-office change by an
    operator records a contact of the account who holds the billing admin or
    super admin role (the billing contact by default).
    """
    if account.type == "corporate" and on_behalf_of_customer:
        raise PolicyViolation(
            "corporate_contact_representative",
            QT_TRANSLATE_NOOP(
                "ServiceError",
                "Contact your representative {name} to make product or licensing changes",
            ),
            name=_representative_name(account),
        )
    contact = requesting_contact(account, requested_by)
    billing = billing_contact(account)
    allowed = contact.is_billing_contact or (
        not on_behalf_of_customer and contact.role_set & {"billing_admin", "super_admin"}
    )
    may_change_plan_online(
        bool(allowed),
        billing.full_name if billing else "",
        billing.email if billing else "",
    ).require()
    return contact


def check_order(
    ctx: AppContext,
    session: Session,
    account: Account,
    targets: Sequence[Target],
    *,
    requested_by: int | None,
    on_behalf_of_customer: bool,
) -> Contact:
    """Every checkout rule for ``targets``; returns the requesting contact.

    Raises the domain's :class:`PolicyViolation` (or :class:`PermissionDenied`
    for a back-office downgrade the operator may not perform); nothing is
    written by this function.
    """
    contact = check_requester(
        ctx, account, requested_by, on_behalf_of_customer=on_behalf_of_customer
    )
    if account.status == "closed":
        raise PolicyViolation(
            "account_closed",
            QT_TRANSLATE_NOOP("ServiceError", "Account {account} is closed."),
            account=account.account_number,
        )
    changes_existing = any(not t.subscribe for t in targets)
    blocks_plan_change(
        has_overdue_invoice(session, account, ctx.clock.today()),
        account.status == "expired" and changes_existing,
    ).require()
    actor = None if on_behalf_of_customer else OperatorRole(ctx.operator.role)
    catalog = shipped_catalog()
    for target in targets:
        if not target.subscribe and target.old_plan is not None and target.plan_changed:
            tier_change(
                target.old_plan.rank,
                target.plan.rank,
                target.product.online_downgrade,
                actor,
            ).require()
            if target.is_downgrade and not target.product.online_downgrade:
                authorize(ctx, Action.DOWNGRADE, account)
        check_licence_count(target.licences, target.assigned, target.plan.max_licences).require()
        try:
            item = catalog.product(target.product.code)
            item.plan(target.plan.code).unit_price(account.currency, target.frequency)
            for addon in target.addons:
                item.addon(addon.code).unit_price(account.currency, target.frequency)
        except KeyError:
            raise PolicyViolation(
                "not_sold_in_currency",
                QT_TRANSLATE_NOOP(
                    "ServiceError", "{product} {plan} cannot be bought in {currency}."
                ),
                product=target.product.name,
                plan=target.plan.name,
                currency=account.currency,
            ) from None
    return contact


# --------------------------------------------------------------------------- storage


@contextmanager
def reading(ctx: AppContext) -> Iterator[Session]:
    """A session for a read-only use case (no write lock; rolled back at the end)."""
    with ctx.db.sessions() as session:
        try:
            yield session
        finally:
            session.rollback()


@contextmanager
def writing(ctx: AppContext, what: str) -> Iterator[Session]:
    """``ctx.db.transaction()``, turning a lost optimistic-locking race into
    :class:`ConflictError` (another operator changed ``what`` meanwhile)."""
    from sqlalchemy.orm.exc import StaleDataError

    try:
        with ctx.db.transaction() as session:
            yield session
    except StaleDataError:
        raise ConflictError(what) from None


def cart_of(session: Session, account: Account) -> Cart | None:
    from billing_desktop.store.models import Cart

    return session.scalar(select(Cart).where(Cart.account_id == account.id))


def check_cart_version(cart: Cart | None, expected: int | None) -> None:
    if expected is None:
        return
    if cart is None or cart.version != expected:
        raise ConflictError(QT_TRANSLATE_NOOP("ServiceError", "The cart"))


def stored_changes(cart: Cart | None) -> list[PendingChange]:
    return [PendingChange.of(item) for item in cart.items] if cart is not None else []


def _view(session: Session, account: Account, cart: Cart | None) -> CartView:
    from billing_desktop.store.models import Addon, Plan, Product

    items: list[CartItemView] = []
    for item in cart.items if cart is not None else []:
        product = session.get(Product, item.product_id)
        plan = session.get(Plan, item.plan_id) if item.plan_id is not None else None
        addon = session.get(Addon, item.addon_id) if item.addon_id is not None else None
        items.append(
            CartItemView(
                id=item.id,
                position=item.position,
                kind=CartItemKind(item.kind),
                subscription_id=item.subscription_id,
                product_code=product.code if product is not None else "",
                plan_code=plan.code if plan is not None else None,
                licences=item.licence_count,
                frequency=item.frequency,
                addon_code=addon.code if addon is not None else None,
            )
        )
    targets = resolve(session, account, stored_changes(cart))
    return CartView(
        account_id=account.id,
        account_number=account.account_number,
        version=cart.version if cart is not None else None,
        items=tuple(items),
        lines=tuple(t.line() for t in targets),
    )


def _describe(changes: Sequence[PendingChange]) -> list[dict[str, object]]:
    return [
        {
            "kind": c.kind.value,
            "subscription_id": c.subscription_id,
            "product_id": c.product_id,
            "plan_id": c.plan_id,
            "licences": c.licences,
            "frequency": c.frequency,
            "addon_id": c.addon_id,
        }
        for c in changes
    ]


def _store(session: Session, ctx: AppContext, account: Account, cart: Cart | None,
           changes: Sequence[PendingChange]) -> Cart:
    """Make the stored items of ``cart`` equal ``changes`` (updating rows in place)."""
    from billing_desktop.store.models import Cart, CartItem

    now = ctx.clock.now()
    if cart is None:
        cart = Cart(account_id=account.id, updated_at=now)
        session.add(cart)
    else:
        cart.updated_at = now
        flag_modified(cart, "updated_at")  # bump the version even at the same instant
    by_id = {item.id: item for item in cart.items}
    keep: list[CartItem] = []
    for position, change in enumerate(changes, start=1):
        item = by_id.get(change.item_id) if change.item_id is not None else None
        if item is None:
            item = CartItem(kind=change.kind.value, product_id=change.product_id, created_at=now)
        item.position = position
        item.kind = change.kind.value
        item.subscription_id = change.subscription_id
        item.product_id = change.product_id
        item.plan_id = change.plan_id
        item.licence_count = change.licences
        item.frequency = change.frequency
        item.addon_id = change.addon_id
        keep.append(item)
    cart.items[:] = keep  # delete-orphan removes the rest
    session.flush()
    return cart


def clear_items(session: Session, ctx: AppContext, cart: Cart | None) -> None:
    """Empty ``cart`` (after an order was placed)."""
    if cart is None:
        return
    cart.items.clear()
    cart.updated_at = ctx.clock.now()
    flag_modified(cart, "updated_at")
    session.flush()


# --------------------------------------------------------------------------- use cases


def _contact_id(account: Account, requested_by: int | None) -> int | None:
    """The id of the named requesting contact (checked to belong to ``account``)."""
    return requesting_contact(account, requested_by).id if requested_by is not None else None


def get_cart(ctx: AppContext, account_id: int | str) -> CartView:
    """The account's cart: stored items and the line per subscription they make."""
    with reading(ctx) as session:
        account = get_account(session, account_id)
        authorize(ctx, Action.VIEW, account)
        return _view(session, account, cart_of(session, account))


def primary_action(ctx: AppContext, account_id: int | str) -> PrimaryAction:
    """SPEC §3: **Checkout** when the cart is empty, **Add to cart** when it holds items."""
    return get_cart(ctx, account_id).primary_action


def add_to_cart(
    ctx: AppContext,
    account_id: int | str,
    changes: CartChange | Sequence[CartChange],
    *,
    requested_by: int | None = None,
    on_behalf_of_customer: bool = True,
    expected_cart_version: int | None = None,
) -> CartView:
    """Add (or replace) pending changes; the whole cart must still pass every rule.

    ``on_behalf_of_customer`` (default) applies the self-service rules of the
    Billing Center; ``False`` is a back-office change by the operator (e.g. a
    support downgrade), see :func:`check_order`.
    """
    requested = [changes] if isinstance(changes, CartChange) else list(changes)
    with writing(ctx, QT_TRANSLATE_NOOP("ServiceError", "The cart")) as session:
        account = get_account(session, account_id)
        authorize(ctx, Action.CHECKOUT, account)
        cart = cart_of(session, account)
        check_cart_version(cart, expected_cart_version)
        before = stored_changes(cart)
        new = [normalise(session, account, change) for change in requested]
        merged = prune(session, merge_changes(before, new))
        if merged == before and [c.item_id for c in merged] == [c.item_id for c in before]:
            raise no_change()
        targets = [t for t in resolve(session, account, merged) if t.changes_anything]
        contact = check_order(
            ctx,
            session,
            account,
            targets,
            requested_by=requested_by,
            on_behalf_of_customer=on_behalf_of_customer,
        )
        cart = _store(session, ctx, account, cart, merged)
        audit.record(
            session,
            ctx,
            "cart.updated",
            account.id,
            {"items": _describe(before)},
            {"items": _describe(merged)},
            requested_by_contact_id=contact.id,
        )
        return _view(session, account, cart)


def remove_from_cart(
    ctx: AppContext,
    account_id: int | str,
    item_ids: int | Sequence[int],
    *,
    requested_by: int | None = None,
    expected_cart_version: int | None = None,
) -> CartView:
    """Remove items (e.g. a :class:`CartLine`'s ``item_ids``) from the cart."""
    ids = {item_ids} if isinstance(item_ids, int) else set(item_ids)
    with writing(ctx, QT_TRANSLATE_NOOP("ServiceError", "The cart")) as session:
        account = get_account(session, account_id)
        authorize(ctx, Action.CHECKOUT, account)
        cart = cart_of(session, account)
        check_cart_version(cart, expected_cart_version)
        before = stored_changes(cart)
        missing = ids - {c.item_id for c in before}
        if missing:
            raise NotFound(QT_TRANSLATE_NOOP("ServiceError", "Cart item"), min(missing))
        after = [c for c in before if c.item_id not in ids]
        cart = _store(session, ctx, account, cart, after)
        audit.record(
            session,
            ctx,
            "cart.updated",
            account.id,
            {"items": _describe(before)},
            {"items": _describe(after)},
            requested_by_contact_id=_contact_id(account, requested_by),
        )
        return _view(session, account, cart)


def clear_cart(
    ctx: AppContext,
    account_id: int | str,
    *,
    requested_by: int | None = None,
    expected_cart_version: int | None = None,
) -> CartView:
    """Remove every item from the cart."""
    with writing(ctx, QT_TRANSLATE_NOOP("ServiceError", "The cart")) as session:
        account = get_account(session, account_id)
        authorize(ctx, Action.CHECKOUT, account)
        cart = cart_of(session, account)
        check_cart_version(cart, expected_cart_version)
        before = stored_changes(cart)
        if cart is not None and before:
            clear_items(session, ctx, cart)
            audit.record(
                session,
                ctx,
                "cart.cleared",
                account.id,
                {"items": _describe(before)},
                {"items": []},
                requested_by_contact_id=_contact_id(account, requested_by),
            )
        return _view(session, account, cart)
