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
* a change back to the current value removes the pending change;
* an add-on that was cancelled (``subscription_addons.ends_on`` set; usable
  until then) is no longer part of the subscription's configuration: it may
  be added again, which clears its end.

Every rule of the checkout (who may, lower tier, licence bounds, overdue
invoice, corporate accounts) is checked here when an item is added and again
by :func:`billing_desktop.services.checkout.place_order`, so the cart never
holds an order that the rules refuse when it is added.

The button rule (SPEC §3): :func:`primary_action` reads **Checkout** while the
cart is empty and **Add to cart** once it holds items.

Cart and checkout read an account through :class:`OrderData` (a few Core
selects into plain records named like the ORM models' attributes) and write
with Core statements, so one order is one short transaction without a unit of
work (see :mod:`billing_desktop.services.checkout`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Exists,
    Select,
    Table,
    bindparam,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm.exc import StaleDataError

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
from billing_desktop.services.base import billing_contact, reading, requesting_contact, writing
from billing_desktop.services.billing_lines import unit_price
from billing_desktop.services.catalog import shipped_catalog
from billing_desktop.services.errors import (
    ConflictError,
    NotFound,
    PolicyViolation,
    ValidationError,
)
from billing_desktop.store.bulk import Prepared
from billing_desktop.store.models import (
    Account,
    Addon,
    Cart,
    CartItem,
    Contact,
    Invoice,
    LicenceAssignment,
    Operator,
    Order,
    PaymentMethod,
    Plan,
    Product,
    Subscription,
    SubscriptionAddon,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from billing_desktop.services.context import AppContext

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
    def of(cls, item: CartItemRow) -> PendingChange:
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


# --------------------------------------------------------------------------- what is read
#
# Cart and checkout read one account with a few Core selects into the plain
# records below (the attributes the rules use, named as on the ORM models), so
# the rules run alike on them and on ORM objects and no unit of work is needed.
# Catalog rows (products, plans, add-ons) are read when first needed.


@dataclass(slots=True, eq=False)
class PlanRow:
    id: int
    product_id: int
    code: str
    name: str
    rank: int
    max_licences: int


@dataclass(slots=True, eq=False)
class AddonRow:
    id: int
    product_id: int
    code: str
    name: str
    per_licence: bool


@dataclass(slots=True, eq=False)
class ProductRow:
    id: int
    code: str
    name: str
    online_downgrade: bool
    data: OrderData = field(repr=False)

    @property
    def plans(self) -> list[PlanRow]:
        """Its plans, lowest tier first."""
        return self.data.plans_of(self.id)

    @property
    def addons(self) -> list[AddonRow]:
        return self.data.addons_of(self.id)


@dataclass(slots=True, eq=False)
class SubscriptionAddonRow:
    id: int
    addon_id: int
    active: bool
    added_on: date | None
    #: set: the add-on was cancelled and ends on this date (see cancellation)
    ends_on: date | None
    addon: AddonRow


@dataclass(slots=True, eq=False)
class SubscriptionRow:
    id: int
    account_id: int
    product_id: int
    plan_id: int
    licence_count: int
    frequency: str
    contract: str
    term_end: date | None
    anchor_date: date | None
    period_start: date | None
    period_end: date | None
    auto_renew: bool
    status: str
    channel: str
    trial_end: date | None
    ended_on: date | None
    version: int
    #: licences assigned to contacts
    assigned: int
    product: ProductRow
    plan: PlanRow
    #: in the order of ``Subscription.addons`` (by add-on)
    addons: list[SubscriptionAddonRow] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class ContactRow:
    id: int
    first_name: str
    last_name: str
    email: str
    roles: str
    is_billing_contact: bool

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(r for r in self.roles.split(",") if r)


@dataclass(slots=True, eq=False)
class PaymentMethodRow:
    id: int
    kind: str
    brand: str | None
    last4: str | None
    exp_month: int | None
    exp_year: int | None
    is_default: bool
    version: int


@dataclass(frozen=True, slots=True)
class _Named:
    name: str


@dataclass(slots=True, eq=False)
class AccountRow:
    id: int
    account_number: str
    company_name: str
    type: str
    status: str
    country: str
    language: str
    currency: str
    address_line1: str
    postal_code: str
    city: str
    vat_number: str | None
    credit_balance_minor: int
    outstanding_minor: int
    oldest_due_date: date | None
    active_subscriptions: int
    autopay: bool
    payment_terms_days: int | None
    po_number: str | None
    po_expiry: date | None
    representative_id: int | None
    version: int
    representative: _Named | None
    #: by id, as ``Account.contacts`` and ``Account.payment_methods``
    contacts: list[ContactRow] = field(default_factory=list)
    payment_methods: list[PaymentMethodRow] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class CartItemRow:
    id: int
    position: int
    kind: str
    subscription_id: int | None
    product_id: int
    plan_id: int | None
    licence_count: int | None
    frequency: str | None
    addon_id: int | None


@dataclass(slots=True, eq=False)
class CartRow:
    id: int
    version: int
    #: by position
    items: list[CartItemRow] = field(default_factory=list)


def _t(model: Any) -> Table:
    return model.__table__


_ACCOUNTS, _OPERATORS, _CONTACTS, _METHODS = (
    _t(Account), _t(Operator), _t(Contact), _t(PaymentMethod)
)  # fmt: skip
_SUBS, _PRODUCTS, _PLANS, _ADDONS = _t(Subscription), _t(Product), _t(Plan), _t(Addon)
_SUB_ADDONS, _ASSIGNMENTS = _t(SubscriptionAddon), _t(LicenceAssignment)
_CARTS, _ITEMS = _t(Cart), _t(CartItem)

_ACCOUNT_COLUMNS = (
    _ACCOUNTS.c.id, _ACCOUNTS.c.account_number, _ACCOUNTS.c.company_name, _ACCOUNTS.c.type,
    _ACCOUNTS.c.status, _ACCOUNTS.c.country, _ACCOUNTS.c.language, _ACCOUNTS.c.currency,
    _ACCOUNTS.c.address_line1, _ACCOUNTS.c.postal_code, _ACCOUNTS.c.city,
    _ACCOUNTS.c.vat_number, _ACCOUNTS.c.credit_balance_minor, _ACCOUNTS.c.outstanding_minor,
    _ACCOUNTS.c.oldest_due_date, _ACCOUNTS.c.active_subscriptions, _ACCOUNTS.c.autopay,
    _ACCOUNTS.c.payment_terms_days, _ACCOUNTS.c.po_number, _ACCOUNTS.c.po_expiry,
    _ACCOUNTS.c.representative_id, _ACCOUNTS.c.version, _OPERATORS.c.name,
)  # fmt: skip
_ORDERS = _t(Order)
_REPLAYED, _LAST_ORDER = _ORDERS.alias("replayed"), _ORDERS.alias("last_order")


def _overdue(invoice: Any, account_id: Any) -> Exists:
    """An open invoice with something still due after its due date ``:today`` (SPEC §3);
    ``invoice`` is the ``Invoice`` entity or the columns of its table."""
    return exists().where(
        invoice.account_id == account_id,
        invoice.status == "open",
        invoice.due_date < bindparam("today"),
        invoice.total_minor - invoice.credit_applied_minor - invoice.paid_minor > 0,
    )


#: (ORM attributes: a session executing it flushes pending changes first)
_OVERDUE = select(_overdue(Invoice, bindparam("account_id")))


def _account_select(by_number: bool, order: bool) -> Select[Any]:
    """The account with its representative's name and whether it has an overdue invoice;
    for an order also the order already placed with ``:order_key`` (its account and result)
    and the last order number from ``:order_from`` up to ``:order_to``."""
    columns: list[Any] = [*_ACCOUNT_COLUMNS, _overdue(_t(Invoice).c, _ACCOUNTS.c.id)]
    source = _ACCOUNTS.outerjoin(_OPERATORS, _OPERATORS.c.id == _ACCOUNTS.c.representative_id)
    if order:
        columns += [
            _REPLAYED.c.account_id,
            _REPLAYED.c.summary,
            # a range, not LIKE: SQLite prepares a LIKE on a parameter anew at every run
            select(func.max(_LAST_ORDER.c.number))
            .where(
                _LAST_ORDER.c.number >= bindparam("order_from"),
                _LAST_ORDER.c.number < bindparam("order_to"),
            )
            .scalar_subquery(),
        ]
        source = source.outerjoin(_REPLAYED, _REPLAYED.c.idempotency_key == bindparam("order_key"))
    key = _ACCOUNTS.c.account_number if by_number else _ACCOUNTS.c.id
    return select(*columns).select_from(source).where(key == bindparam("key"))


_ACCOUNT_SELECTS = {
    (by_number, order): Prepared(_account_select(by_number, order))
    for by_number in (False, True)
    for order in (False, True)
}
_ACCOUNT_CONTACTS = Prepared(
    select(
        _CONTACTS.c.id, _CONTACTS.c.first_name, _CONTACTS.c.last_name, _CONTACTS.c.email,
        _CONTACTS.c.roles, _CONTACTS.c.is_billing_contact,
    )
    .where(_CONTACTS.c.account_id == bindparam("account_id"))
    .order_by(_CONTACTS.c.id)
)  # fmt: skip
_ACCOUNT_METHODS = Prepared(
    select(
        _METHODS.c.id, _METHODS.c.kind, _METHODS.c.brand, _METHODS.c.last4,
        _METHODS.c.exp_month, _METHODS.c.exp_year, _METHODS.c.is_default, _METHODS.c.version,
    )
    .where(_METHODS.c.account_id == bindparam("account_id"))
    .order_by(_METHODS.c.id)
)  # fmt: skip
#: every subscription of the account with its product, plan, assigned licences and
#: add-ons (one row per add-on)
_ACCOUNT_SUBSCRIPTIONS = Prepared(
    select(
        _SUBS.c.id, _SUBS.c.account_id, _SUBS.c.product_id, _SUBS.c.plan_id,
        _SUBS.c.licence_count, _SUBS.c.frequency, _SUBS.c.contract, _SUBS.c.term_end,
        _SUBS.c.anchor_date, _SUBS.c.period_start, _SUBS.c.period_end, _SUBS.c.auto_renew,
        _SUBS.c.status, _SUBS.c.channel, _SUBS.c.trial_end, _SUBS.c.ended_on, _SUBS.c.version,
        select(func.count())
        .where(_ASSIGNMENTS.c.subscription_id == _SUBS.c.id)
        .correlate(_SUBS)
        .scalar_subquery(),
        _PRODUCTS.c.code, _PRODUCTS.c.name, _PRODUCTS.c.online_downgrade,
        _PLANS.c.code, _PLANS.c.name, _PLANS.c.rank, _PLANS.c.max_licences,
        _SUB_ADDONS.c.id, _SUB_ADDONS.c.addon_id, _SUB_ADDONS.c.active,
        _SUB_ADDONS.c.added_on, _SUB_ADDONS.c.ends_on,
        _ADDONS.c.product_id, _ADDONS.c.code, _ADDONS.c.name, _ADDONS.c.per_licence,
    )
    .select_from(
        _SUBS.join(_PRODUCTS, _PRODUCTS.c.id == _SUBS.c.product_id)
        .join(_PLANS, _PLANS.c.id == _SUBS.c.plan_id)
        .outerjoin(_SUB_ADDONS, _SUB_ADDONS.c.subscription_id == _SUBS.c.id)
        .outerjoin(_ADDONS, _ADDONS.c.id == _SUB_ADDONS.c.addon_id)
    )
    .where(_SUBS.c.account_id == bindparam("account_id"))
    .order_by(_SUBS.c.id, _SUB_ADDONS.c.addon_id)
)  # fmt: skip
_ACCOUNT_CART = Prepared(
    select(
        _CARTS.c.id, _CARTS.c.version, _ITEMS.c.id, _ITEMS.c.position, _ITEMS.c.kind,
        _ITEMS.c.subscription_id, _ITEMS.c.product_id, _ITEMS.c.plan_id,
        _ITEMS.c.licence_count, _ITEMS.c.frequency, _ITEMS.c.addon_id,
    )
    .select_from(_CARTS.outerjoin(_ITEMS, _ITEMS.c.cart_id == _CARTS.c.id))
    .where(_CARTS.c.account_id == bindparam("account_id"))
    .order_by(_ITEMS.c.position)
)  # fmt: skip
_PRODUCT_COLUMNS = (
    _PRODUCTS.c.id, _PRODUCTS.c.code, _PRODUCTS.c.name, _PRODUCTS.c.online_downgrade
)
_PRODUCT_BY_ID = Prepared(select(*_PRODUCT_COLUMNS).where(_PRODUCTS.c.id == bindparam("key")))
_PRODUCT_BY_CODE = Prepared(
    select(*_PRODUCT_COLUMNS).where(_PRODUCTS.c.code == bindparam("key"))
)
_PLAN_COLUMNS = (
    _PLANS.c.id, _PLANS.c.product_id, _PLANS.c.code, _PLANS.c.name, _PLANS.c.rank,
    _PLANS.c.max_licences,
)  # fmt: skip
_PLAN_BY_ID = Prepared(select(*_PLAN_COLUMNS).where(_PLANS.c.id == bindparam("key")))
_PLANS_OF_PRODUCT = Prepared(
    select(*_PLAN_COLUMNS)
    .where(_PLANS.c.product_id == bindparam("key"))
    .order_by(_PLANS.c.rank, _PLANS.c.id)
)
_ADDON_COLUMNS = (
    _ADDONS.c.id, _ADDONS.c.product_id, _ADDONS.c.code, _ADDONS.c.name, _ADDONS.c.per_licence
)
_ADDON_BY_ID = Prepared(select(*_ADDON_COLUMNS).where(_ADDONS.c.id == bindparam("key")))
_ADDONS_OF_PRODUCT = Prepared(
    select(*_ADDON_COLUMNS).where(_ADDONS.c.product_id == bindparam("key")).order_by(_ADDONS.c.id)
)
class OrderData:
    """One account as cart and checkout read it: the account row first (to authorise),
    then with :meth:`load` its contacts, payment methods, subscriptions and cart.

    ``conn`` is the connection of the use case's transaction; ``today`` the date whose
    overdue invoices block changes. ``order_key`` (placing an order) also reads the
    order already placed with that key and the greatest order number in the range
    ``order_numbers`` (from, up to).
    """

    def __init__(
        self,
        conn: Connection,
        account_id: int | str,
        today: date,
        *,
        order_key: str | None = None,
        order_numbers: tuple[str, str] = ("", ""),
    ) -> None:
        self.conn = conn
        by_number, order = isinstance(account_id, str), order_key is not None
        params = {"key": account_id, "today": today}
        if order:
            params.update(
                order_key=order_key, order_from=order_numbers[0], order_to=order_numbers[1]
            )
        row = _ACCOUNT_SELECTS[by_number, order].first(conn, params)
        if row is None:
            raise NotFound(QT_TRANSLATE_NOOP("ServiceError", "Account"), account_id)
        values = list(row)
        #: for an order: the order already placed with its key (account id, stored result),
        #: and the last order number of the range
        self.replayed: tuple[int, str] | None = None
        self.last_order_number: str | None = None
        if order:
            replayed_account, summary, self.last_order_number = values[-3:]
            if replayed_account is not None:
                self.replayed = (replayed_account, summary)
            del values[-3:]
        *values, representative, overdue = values
        self.account = AccountRow(
            *values, representative=_Named(representative) if representative is not None else None
        )
        self.subscriptions: dict[int, SubscriptionRow] = {}
        self.cart: CartRow | None = None
        self._products: dict[int, ProductRow] = {}
        self._plans: dict[int, PlanRow] = {}
        self._addons: dict[int, AddonRow] = {}
        self._plans_of: dict[int, list[PlanRow]] = {}
        self._addons_of: dict[int, list[AddonRow]] = {}
        self._overdue: dict[date, bool] = {today: bool(overdue)}

    def load(self) -> OrderData:
        """Read the account's contacts, payment methods, subscriptions and cart."""
        conn, key = self.conn, {"account_id": self.account.id}
        account = self.account
        account.contacts = [ContactRow(*row) for row in _ACCOUNT_CONTACTS.rows(conn, key)]
        account.payment_methods = [
            PaymentMethodRow(*row) for row in _ACCOUNT_METHODS.rows(conn, key)
        ]
        subs = self.subscriptions
        products, plans, addons = self._products, self._plans, self._addons
        for row in _ACCOUNT_SUBSCRIPTIONS.rows(conn, key):
            sub = subs.get(row[0])
            if sub is None:
                product = products.get(row[2])
                if product is None:
                    product = products[row[2]] = ProductRow(row[2], *row[18:21], self)
                plan = plans.get(row[3])
                if plan is None:
                    plan = plans[row[3]] = PlanRow(row[3], row[2], *row[21:25])
                sub = subs[row[0]] = SubscriptionRow(*row[:18], product, plan)
            if row[25] is not None:
                addon = addons.get(row[26])
                if addon is None:
                    addon = addons[row[26]] = AddonRow(row[26], *row[30:34])
                sub.addons.append(SubscriptionAddonRow(*row[25:30], addon))
        cart = None
        for cart_id, version, *item in _ACCOUNT_CART.rows(conn, key):
            if cart is None:
                cart = CartRow(cart_id, version)
            if item[0] is not None:
                cart.items.append(CartItemRow(*item))
        self.cart = cart
        return self

    # -- look-ups --------------------------------------------------------------------------

    def subscription(self, subscription_id: int) -> SubscriptionRow:
        """A subscription of the account (:class:`NotFound` for another account's)."""
        sub = self.subscriptions.get(subscription_id)
        if sub is None:
            raise NotFound(QT_TRANSLATE_NOOP("ServiceError", "Subscription"), subscription_id)
        return sub

    def _product(self, row: Any) -> ProductRow | None:
        if row is None:
            return None
        found = self._products.get(row[0])
        if found is None:
            found = self._products[row[0]] = ProductRow(*row, self)
        return found

    def product(self, product_id: int) -> ProductRow | None:
        found = self._products.get(product_id)
        if found is None:
            found = self._product(_PRODUCT_BY_ID.first(self.conn, {"key": product_id}))
        return found

    def product_by_code(self, code: str) -> ProductRow | None:
        found = next((p for p in self._products.values() if p.code == code), None)
        if found is None:
            found = self._product(_PRODUCT_BY_CODE.first(self.conn, {"key": code}))
        return found

    def _cached(self, cache: dict[int, Any], make: Callable[..., Any], row: Any) -> Any:
        """The record of ``row`` (id first) from ``cache``, made and kept the first time."""
        found = cache.get(row[0])
        if found is None:
            found = cache[row[0]] = make(*row)
        return found

    def _by_id(
        self, cache: dict[int, Any], make: Callable[..., Any], query: Prepared, key: int
    ) -> Any | None:
        """The record with id ``key``: from ``cache``, else read with ``query`` (None if none)."""
        found = cache.get(key)
        if found is None:
            row = query.first(self.conn, {"key": key})
            found = self._cached(cache, make, row) if row is not None else None
        return found

    def _of_product(
        self,
        lists: dict[int, list[Any]],
        cache: dict[int, Any],
        make: Callable[..., Any],
        query: Prepared,
        product_id: int,
    ) -> list[Any]:
        """The records of a product read with ``query`` once, each one kept in ``cache``."""
        found = lists.get(product_id)
        if found is None:
            rows = query.rows(self.conn, {"key": product_id})
            found = lists[product_id] = [self._cached(cache, make, row) for row in rows]
        return found

    def plan(self, plan_id: int) -> PlanRow | None:
        return self._by_id(self._plans, PlanRow, _PLAN_BY_ID, plan_id)

    def plans_of(self, product_id: int) -> list[PlanRow]:
        return self._of_product(self._plans_of, self._plans, PlanRow, _PLANS_OF_PRODUCT, product_id)

    def addon(self, addon_id: int) -> AddonRow | None:
        return self._by_id(self._addons, AddonRow, _ADDON_BY_ID, addon_id)

    def addons_of(self, product_id: int) -> list[AddonRow]:
        return self._of_product(
            self._addons_of, self._addons, AddonRow, _ADDONS_OF_PRODUCT, product_id
        )

    def overdue(self, today: date) -> bool:
        """:func:`has_overdue_invoice` of the account (read once)."""
        found = self._overdue.get(today)
        if found is None:
            found = self._overdue[today] = has_overdue_invoice(self.conn, self.account, today)
        return found


# --------------------------------------------------------------------------- resolution


@dataclass(slots=True)
class Target:
    """The configuration one subscription (or new product) will have after the order.

    Internal to the services (holds the records of :class:`OrderData`); checkout prices it.
    """

    subscription: SubscriptionRow | None
    product: ProductRow
    #: a subscription starts (trial, expired trial, new or bought again): no proration
    subscribe: bool
    plan: PlanRow
    licences: int
    frequency: str
    old_plan: PlanRow | None
    old_licences: int
    old_frequency: str | None
    #: the add-ons billed until now and going on (not cancelled)
    old_addons: list[AddonRow]
    #: added by the order: new ones, or cancelled ones again
    added_addons: list[AddonRow]
    kinds: list[CartItemKind]
    item_ids: list[int]
    #: cancelled add-ons added again that are paid for the current period: credited for
    #: its unused days like the running ones (the new period bills them again); one not
    #: added again simply runs out at its ``ends_on``, neither credited nor billed
    resumed_addons: list[AddonRow] = field(default_factory=list)

    @property
    def addons(self) -> list[AddonRow]:
        """The add-ons of the new configuration."""
        return [*self.old_addons, *self.added_addons]

    @property
    def paid_addons(self) -> list[AddonRow]:
        """The add-ons of the current period's charge that the order credits."""
        return [*self.old_addons, *self.resumed_addons]

    @property
    def assigned(self) -> int:
        return self.subscription.assigned if self.subscription is not None else 0

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


def _plan_of(product: ProductRow, code: str) -> PlanRow:
    plan = next((p for p in product.plans if p.code == code), None)
    if plan is None:
        raise _invalid(
            "plan_unknown",
            QT_TRANSLATE_NOOP("ServiceError", "{product} has no plan {plan}."),
            product=product.name,
            plan=code,
        )
    return plan


def _addon_of(product: ProductRow, code: str) -> AddonRow:
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


def _product_by_code(data: OrderData, code: str | None) -> ProductRow:
    product = data.product_by_code(code or "")
    if product is None:
        raise NotFound(QT_TRANSLATE_NOOP("ServiceError", "Product"), code or "")
    return product


def _running(sa: SubscriptionAddonRow) -> bool:
    """An add-on that goes on: active and not cancelled (a cancelled one has ``ends_on``:
    still usable until then, but no longer billed and no longer part of a new period)."""
    return sa.active and sa.ends_on is None


def _active_addon_ids(sub: SubscriptionRow) -> set[int]:
    return {a.addon_id for a in sub.addons if _running(a)}


def normalise(data: OrderData, change: CartChange) -> PendingChange:
    """Check one requested change and express it by ids, folded as the module doc says."""
    try:
        kind = CartItemKind(change.kind)
    except ValueError:
        raise _invalid(
            "cart_kind_invalid",
            QT_TRANSLATE_NOOP("ServiceError", "{kind} is not a kind of cart item."),
            kind=str(change.kind),
        ) from None
    sub: SubscriptionRow | None = None
    if change.subscription_id is not None:
        sub = data.subscription(change.subscription_id)
        product = sub.product
        if change.product is not None and change.product != product.code:
            raise _invalid(
                "product_mismatch",
                QT_TRANSLATE_NOOP("ServiceError", "The subscription is not a {product} plan."),
                product=change.product,
            )
    else:
        product = _product_by_code(data, change.product)
        live = [
            s for s in data.subscriptions.values()
            if s.product_id == product.id and s.status in _LIVE_STATUSES
        ]  # fmt: skip
        if live:
            return normalise(data, replace(change, subscription_id=live[0].id))
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


def resolve(data: OrderData, changes: Sequence[PendingChange]) -> list[Target]:
    """Merge ``changes`` per group into the configuration each subscription will have."""
    groups: dict[tuple[str, int], list[PendingChange]] = {}
    for change in changes:
        groups.setdefault(change.group, []).append(change)
    targets: list[Target] = []
    for (what, key), items in groups.items():
        sub = data.subscription(key) if what == "subscription" else None
        product = sub.product if sub is not None else data.product(key)
        if product is None:
            raise NotFound(QT_TRANSLATE_NOOP("ServiceError", "Product"), key)
        subscribe = sub is None or sub.status in _TRIAL_STATUSES or any(
            c.kind is CartItemKind.SUBSCRIBE for c in items
        )
        if sub is not None:
            plan, licences, frequency = sub.plan, sub.licence_count, sub.frequency
            old_addons = [a.addon for a in sub.addons if _running(a)]
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
                target.plan = data.plan(change.plan_id) or target.plan
            if change.licences is not None:
                target.licences = change.licences
            if change.frequency is not None:
                target.frequency = change.frequency
            if change.addon_id is not None:
                addon = data.addon(change.addon_id)
                owned = {a.id for a in target.addons}
                if addon is not None and addon.id not in owned:
                    target.added_addons.append(addon)
                    if sub is not None and any(
                        sa.addon_id == addon.id and sa.active and sa.ends_on is not None
                        and (sub.period_start is None or sa.ends_on > sub.period_start)
                        for sa in sub.addons
                    ):  # fmt: skip
                        target.resumed_addons.append(addon)
        targets.append(target)
    return targets


def _is_noop(data: OrderData, change: PendingChange) -> bool:
    """A change to the value the subscription already has (it would change nothing)."""
    if change.kind not in _CHANGE_KINDS or change.subscription_id is None:
        return False
    sub = data.subscriptions.get(change.subscription_id)
    if sub is None:
        return False
    return (
        (change.kind is CartItemKind.CHANGE_TIER and change.plan_id == sub.plan_id)
        or (change.kind is CartItemKind.CHANGE_LICENCES and change.licences == sub.licence_count)
        or (change.kind is CartItemKind.CHANGE_FREQUENCY and change.frequency == sub.frequency)
    )


def prune(data: OrderData, changes: Sequence[PendingChange]) -> list[PendingChange]:
    """``changes`` without those that set a subscription to the value it already has."""
    return [c for c in changes if not _is_noop(data, c)]


def no_change() -> ValidationError:
    return _invalid(
        "no_change",
        QT_TRANSLATE_NOOP("ServiceError", "This does not change the subscription."),
    )


# --------------------------------------------------------------------------- rules


def _representative_name(account: Account | AccountRow) -> str:
    rep = account.representative
    return rep.name if rep is not None else "Corporate Account Services"


def has_overdue_invoice(executor: Any, account: Account | AccountRow, today: date) -> bool:
    """An open invoice with something still due after its due date (SPEC §3).

    ``executor``: a session or a connection.
    """
    return bool(executor.execute(_OVERDUE, {"account_id": account.id, "today": today}).scalar())


def check_requester(
    ctx: AppContext,
    account: Account | AccountRow,
    requested_by: int | None,
    *,
    on_behalf_of_customer: bool,
) -> Contact | ContactRow:
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
    contact = requesting_contact(account, requested_by)  # type: ignore[arg-type]
    billing = billing_contact(account)  # type: ignore[arg-type]
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
    data: OrderData,
    targets: Sequence[Target],
    *,
    requested_by: int | None,
    on_behalf_of_customer: bool,
    today: date | None = None,
) -> ContactRow:
    """Every checkout rule for ``targets``; returns the requesting contact.

    Raises the domain's :class:`PolicyViolation` (or :class:`PermissionDenied`
    for a back-office downgrade the operator may not perform); nothing is
    written by this function.
    """
    account = data.account
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
        data.overdue(ctx.clock.today() if today is None else today),
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
                authorize(ctx, Action.DOWNGRADE, account)  # type: ignore[arg-type]
        check_licence_count(target.licences, target.assigned, target.plan.max_licences).require()
        try:
            item = catalog.product(target.product.code)
            unit_price(item.plan(target.plan.code), account.currency, target.frequency)
            for addon in target.addons:
                unit_price(item.addon(addon.code), account.currency, target.frequency)
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
    return contact  # type: ignore[return-value]


# --------------------------------------------------------------------------- storage


def check_cart_version(cart: CartRow | None, expected: int | None) -> None:
    if expected is None:
        return
    if cart is None or cart.version != expected:
        raise ConflictError(QT_TRANSLATE_NOOP("ServiceError", "The cart"))


def stored_changes(cart: CartRow | None) -> list[PendingChange]:
    return [PendingChange.of(item) for item in cart.items] if cart is not None else []


def _view(data: OrderData) -> CartView:
    items: list[CartItemView] = []
    cart = data.cart
    for item in cart.items if cart is not None else []:
        product = data.product(item.product_id)
        plan = data.plan(item.plan_id) if item.plan_id is not None else None
        addon = data.addon(item.addon_id) if item.addon_id is not None else None
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
    targets = resolve(data, stored_changes(cart))
    return CartView(
        account_id=data.account.id,
        account_number=data.account.account_number,
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


def _checked(changed: int, expected: int = 1) -> None:
    """An optimistic-locking update: every row must still have been at its version."""
    if changed != expected:
        raise StaleDataError(f"{expected - changed} rows changed meanwhile")


_CART_INSERT = Prepared(insert(_CARTS))
_CART_TOUCH = Prepared(
    update(_CARTS)
    .where(_CARTS.c.id == bindparam("b_id"), _CARTS.c.version == bindparam("b_version"))
    .values(updated_at=bindparam("updated_at"), version=bindparam("version"))
)
_ITEM_INSERT = Prepared(insert(_ITEMS))
_ITEM_UPDATE = Prepared(update(_ITEMS).where(_ITEMS.c.id == bindparam("b_id")))
_ITEM_DELETE = Prepared(delete(_ITEMS).where(_ITEMS.c.id == bindparam("b_id")))
_ITEMS_CLEAR = Prepared(delete(_ITEMS).where(_ITEMS.c.cart_id == bindparam("b_cart_id")))
_ITEM_FIELDS = (
    "position", "kind", "subscription_id", "product_id", "plan_id", "licence_count",
    "frequency", "addon_id",
)  # fmt: skip


def _touch(conn: Connection, cart: CartRow, now: datetime) -> None:
    """A new ``updated_at`` and the next version (even at the same instant)."""
    _checked(_CART_TOUCH.run(conn, {
        "b_id": cart.id, "b_version": cart.version, "updated_at": now,
        "version": cart.version + 1,
    }))  # fmt: skip
    cart.version += 1


def _store(conn: Connection, ctx: AppContext, data: OrderData,
           changes: Sequence[PendingChange]) -> CartRow:
    """Make the stored items of the account's cart equal ``changes`` (rows updated in place,
    new ones inserted, then the others deleted); ``data.cart`` is the cart afterwards."""
    now = ctx.clock.now()
    cart = data.cart
    if cart is None:
        values = {"account_id": data.account.id, "updated_at": now, "version": 1}
        cart = CartRow(_CART_INSERT.insert(conn, values), 1)
    else:
        _touch(conn, cart, now)
    by_id = {item.id: item for item in cart.items}
    keep: list[CartItemRow] = []
    for position, change in enumerate(changes, start=1):
        values = dict(zip(_ITEM_FIELDS, (
            position, change.kind.value, change.subscription_id, change.product_id,
            change.plan_id, change.licences, change.frequency, change.addon_id,
        ), strict=True))  # fmt: skip
        item = by_id.get(change.item_id) if change.item_id is not None else None
        if item is None:
            new = {"cart_id": cart.id, **values, "created_at": now}
            keep.append(CartItemRow(_ITEM_INSERT.insert(conn, new),
                                    **values))  # fmt: skip
            continue
        if any(getattr(item, name) != value for name, value in values.items()):
            _ITEM_UPDATE.run(conn, {"b_id": item.id, **values})
        keep.append(CartItemRow(item.id, **values))
    kept = {item.id for item in keep}
    gone = [{"b_id": item.id} for item in cart.items if item.id not in kept]
    if gone:
        _ITEM_DELETE.many(conn, gone)
    cart.items = keep
    data.cart = cart
    return cart


def clear_items(conn: Connection, ctx: AppContext, cart: CartRow | None,
                now: datetime | None = None) -> None:
    """Empty ``cart`` (after an order was placed): its items go, its version moves on."""
    if cart is None:
        return
    _ITEMS_CLEAR.run(conn, {"b_cart_id": cart.id})
    _touch(conn, cart, ctx.clock.now() if now is None else now)
    cart.items = []


# --------------------------------------------------------------------------- use cases


def _contact_id(account: AccountRow, requested_by: int | None) -> int | None:
    """The id of the named requesting contact (checked to belong to ``account``)."""
    if requested_by is None:
        return None
    return requesting_contact(account, requested_by).id  # type: ignore[arg-type]


def get_cart(ctx: AppContext, account_id: int | str) -> CartView:
    """The account's cart: stored items and the line per subscription they make."""
    with reading(ctx) as session:
        data = OrderData(session.connection(), account_id, ctx.clock.today())
        authorize(ctx, Action.VIEW, data.account)  # type: ignore[arg-type]
        return _view(data.load())


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
    with writing(ctx, QT_TRANSLATE_NOOP("ServiceError", "The cart"), account=account_id) as session:
        conn = session.connection()
        data = OrderData(conn, account_id, ctx.clock.today())
        authorize(ctx, Action.CHECKOUT, data.account)  # type: ignore[arg-type]
        data.load()
        check_cart_version(data.cart, expected_cart_version)
        before = stored_changes(data.cart)
        new = [normalise(data, change) for change in requested]
        merged = prune(data, merge_changes(before, new))
        if merged == before and [c.item_id for c in merged] == [c.item_id for c in before]:
            raise no_change()
        targets = [t for t in resolve(data, merged) if t.changes_anything]
        contact = check_order(
            ctx,
            data,
            targets,
            requested_by=requested_by,
            on_behalf_of_customer=on_behalf_of_customer,
        )
        _store(conn, ctx, data, merged)
        audit.write(conn, [audit.entry(
            ctx, "cart.updated", data.account.id, {"items": _describe(before)},
            {"items": _describe(merged)}, requested_by_contact_id=contact.id,
        )])  # fmt: skip
        return _view(data)


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
    with writing(ctx, QT_TRANSLATE_NOOP("ServiceError", "The cart"), account=account_id) as session:
        conn = session.connection()
        data = OrderData(conn, account_id, ctx.clock.today())
        authorize(ctx, Action.CHECKOUT, data.account)  # type: ignore[arg-type]
        data.load()
        check_cart_version(data.cart, expected_cart_version)
        before = stored_changes(data.cart)
        missing = ids - {c.item_id for c in before}
        if missing:
            raise NotFound(QT_TRANSLATE_NOOP("ServiceError", "Cart item"), min(missing))
        after = [c for c in before if c.item_id not in ids]
        _store(conn, ctx, data, after)
        audit.write(conn, [audit.entry(
            ctx, "cart.updated", data.account.id, {"items": _describe(before)},
            {"items": _describe(after)},
            requested_by_contact_id=_contact_id(data.account, requested_by),
        )])  # fmt: skip
        return _view(data)


def clear_cart(
    ctx: AppContext,
    account_id: int | str,
    *,
    requested_by: int | None = None,
    expected_cart_version: int | None = None,
) -> CartView:
    """Remove every item from the cart."""
    with writing(ctx, QT_TRANSLATE_NOOP("ServiceError", "The cart"), account=account_id) as session:
        conn = session.connection()
        data = OrderData(conn, account_id, ctx.clock.today())
        authorize(ctx, Action.CHECKOUT, data.account)  # type: ignore[arg-type]
        data.load()
        check_cart_version(data.cart, expected_cart_version)
        before = stored_changes(data.cart)
        if data.cart is not None and before:
            clear_items(conn, ctx, data.cart)
            audit.write(conn, [audit.entry(
                ctx, "cart.cleared", data.account.id, {"items": _describe(before)},
                {"items": []}, requested_by_contact_id=_contact_id(data.account, requested_by),
            )])  # fmt: skip
        return _view(data)
