"""Checkout: preview the exact order, then place it in one transaction (SPEC §3).

Articles 001 (fewer licences), 003 (subscribe after a trial) and 004 (upgrade,
more licences, another billing frequency) end in the same review page and the
same **Place order** button:

* :func:`preview` returns what the review page shows — per item the billing
  period starting today, licences, unit price, the proration credit for the
  unused days of the current paid period and the charge for a full new
  period; then VAT (rate or reverse charge), total, account credit applied and
  amount due — and which inputs are still needed (payment method, VAT number)
  and why. Its figures come from
  :func:`~billing_desktop.services.invoicing.invoice_figures`, exactly as the
  invoice that :func:`place_order` issues, so both agree to the cent.
* :func:`place_order` writes, in one transaction, the new payment method and
  VAT number if given, the subscription changes (the billing period restarts
  today), the order, the invoice, the payment or the open balance, account
  credit, an empty cart, the confirmation email and the audit trail. Placing
  the same ``idempotency_key`` again (a double click, a retry after a lost
  answer) returns the first order's result and writes nothing. Given the
  preview's ``subscription_versions`` it refuses (:class:`ConflictError`,
  naming who and when) an order whose subscriptions another operator changed
  since the review page showed them, so the invoice always matches the
  preview the user accepted (a stored cart's version does not move when a
  subscription in it changes elsewhere: its items carry no version). Given the
  preview's ``account_terms`` it likewise refuses an order whose account data
  the prices depend on (country, VAT number, currency, type, account credit,
  payment terms) changed since; the account's ``version`` is not compared,
  since every order and payment moves it.

Customer-side and back-office requests: ``on_behalf_of_customer=True`` (the
default) applies the Billing Center's rules to the operator acting for the
customer — only the billing contact, no lower tier ("To move to a lower plan,
contact Customer Care"), corporate accounts refer to their representative.
``False`` is a back-office change: the operator's own powers apply (a
downgrade needs ``Action.DOWNGRADE``, i.e. an admin, support, trainer in a
demo database, or the account's representative) and is audited as
``subscription.downgraded``; a corporate account's order is then invoiced on
its payment terms with its PO number instead of being charged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from billing_desktop.domain.cards import validate_card, validate_iban
from billing_desktop.domain.money import Money, sum_money
from billing_desktop.domain.periods import Frequency, Period, next_period
from billing_desktop.domain.proration import proration_credit
from billing_desktop.domain.tax import VatTreatment, validate_vat_number, vat_treatment
from billing_desktop.domain.text import QT_TRANSLATE_NOOP, Notice
from billing_desktop.services import audit
from billing_desktop.services.auth import Action, authorize
from billing_desktop.services.base import billing_contact
from billing_desktop.services.billing_lines import period_bill
from billing_desktop.services.cart import (
    _TRIAL_STATUSES,
    AccountRow,
    CartChange,
    CartItemKind,
    OrderData,
    PaymentMethodRow,
    PendingChange,
    SubscriptionAddonRow,
    SubscriptionRow,
    Target,
    check_cart_version,
    check_order,
    clear_items,
    merge_changes,
    no_change,
    normalise,
    prune,
    reading,
    resolve,
    stored_changes,
    writing,
)
from billing_desktop.services.catalog import shipped_catalog
from billing_desktop.services.errors import (
    ConflictError,
    NotFound,
    PolicyViolation,
    ValidationError,
)
from billing_desktop.services.invoicing import (
    DraftLine,
    InvoiceFigures,
    account_vat,
    invoice_figures,
    invoice_rows,
    method_summary,
    take_invoice_number,
    vat_rates,
)
from billing_desktop.services.mail import EmailKind, email_row
from billing_desktop.store.bulk import Prepared
from billing_desktop.store.models import (
    Account,
    Credit,
    Email,
    Invoice,
    InvoiceLine,
    Order,
    Payment,
    PaymentMethod,
    Subscription,
    SubscriptionAddon,
)
from billing_desktop.store.totals import account_totals

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from billing_desktop.services.context import AppContext

__all__ = [
    "AccountTerms",
    "ExistingMethod",
    "ItemPreview",
    "NewBankAccount",
    "NewCard",
    "Notice",
    "OrderPreview",
    "OrderResult",
    "PaymentInput",
    "PlacedSubscription",
    "RequiredInput",
    "place_order",
    "preview",
]

#: Longest idempotency key the orders table stores.
MAX_KEY_LENGTH = 64


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class NewCard:
    """A card entered at checkout. Only brand, last four digits and expiry are stored."""

    number: str = field(repr=False)  # never printed, logged or stored
    exp_month: int
    exp_year: int
    holder_name: str = ""
    #: billing address of the card; empty fields take the account's address
    billing_line1: str = ""
    billing_postal_code: str = ""
    billing_city: str = ""
    billing_country: str = ""
    make_default: bool = True


@dataclass(frozen=True, slots=True)
class NewBankAccount:
    """A bank account (SEPA direct debit) entered at checkout; only the last four are stored."""

    iban: str = field(repr=False)
    holder_name: str = ""
    make_default: bool = True


@dataclass(frozen=True, slots=True)
class ExistingMethod:
    """A card or bank account already on file (its id)."""

    payment_method_id: int


#: What ``place_order(payment=...)`` accepts; a bare ``int`` is an existing method's id.
PaymentInput = NewCard | NewBankAccount | ExistingMethod | int | None


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class RequiredInput:
    """An input the order asks for: ``payment_method`` or ``vat_number``.

    ``reasons`` are codes among ``no_payment_method``, ``new_subscription``,
    ``costs_more`` (payment) and ``no_vat_number``. ``blocking``: the order
    cannot be placed without it (no usable payment method on file); otherwise
    the wizard shows the page pre-filled (the method on file, or an optional
    VAT number).
    """

    kind: str
    reasons: tuple[str, ...]
    blocking: bool
    notice: Notice


@dataclass(frozen=True, slots=True)
class ItemPreview:
    """One line group of the order: what happens to one subscription (or new product)."""

    subscription_id: int | None
    product_code: str
    product_name: str
    kinds: tuple[CartItemKind, ...]
    is_new_subscription: bool
    is_downgrade: bool
    plan_code: str
    plan_name: str
    previous_plan_code: str | None
    licences: int
    #: licences paid before the order (0 for a trial or a new subscription)
    previous_licences: int
    frequency: str
    previous_frequency: str | None
    added_addons: tuple[str, ...]
    #: the new billing period: today → today + one period (end = next billing date)
    period: Period
    #: plan price per licence for one period of the new frequency
    unit_price: Money
    #: the full new period, plan and add-ons (net of VAT)
    charge: Money
    #: what the current configuration costs per period (None: nothing paid)
    previous_charge: Money | None
    #: credit for the unused days of the current paid period (zero for trials)
    proration_credit: Money
    #: the unused part of the current period that is credited
    credit_period: Period | None
    unused_days: int
    period_days: int
    lines: tuple[DraftLine, ...]
    #: the version of the subscription as priced (``None``: a new subscription); see
    #: :attr:`OrderPreview.subscription_versions`
    subscription_version: int | None = None

    @property
    def next_billing_date(self) -> date:
        return self.period.end

    @property
    def net(self) -> Money:
        return self.charge - self.proration_credit

    @property
    def licences_increased(self) -> bool:
        return self.licences > self.previous_licences

    @property
    def costs_more(self) -> bool:
        """The new configuration costs more per month than the current one."""
        if self.previous_charge is None or self.previous_frequency is None:
            return True
        new_months = Frequency(self.frequency).months
        old_months = Frequency(self.previous_frequency).months
        return self.charge.minor * old_months > self.previous_charge.minor * new_months


@dataclass(frozen=True, slots=True)
class AccountTerms:
    """The account's own data an order's figures depend on, as a preview read them.

    ``preview`` and ``place_order`` read exactly these from the account to price
    and invoice an order: the billing ``country`` (VAT rate, reverse charge, the VAT
    number asked for) and ``vat_number`` (reverse charge), the ``currency`` of every
    price, the ``type`` (corporate: invoiced on terms instead of charged), the
    account credit applied (``credit_balance_minor``) and the corporate
    ``payment_terms_days`` (the due date the review states). Pass
    :attr:`OrderPreview.account_terms` to ``place_order(expected_account_terms=...)``.
    The account's ``version`` is not part of them: every order and payment moves it.
    """

    country: str
    vat_number: str | None
    currency: str
    type: str
    credit_balance_minor: int
    payment_terms_days: int | None

    @classmethod
    def of(cls, account: AccountRow) -> AccountTerms:
        return cls(
            account.country,
            account.vat_number,
            account.currency,
            account.type,
            account.credit_balance_minor,
            account.payment_terms_days,
        )


@dataclass(frozen=True, slots=True)
class OrderPreview:
    """The review page: items, VAT, total, credit, amount due, inputs still needed."""

    account_id: int
    account_number: str
    #: version of the stored cart previewed (pass to ``place_order``); None for unsaved items
    cart_version: int | None
    items: tuple[ItemPreview, ...]
    #: exactly what the invoice will hold
    figures: InvoiceFigures
    billing_period: Period
    required_inputs: tuple[RequiredInput, ...]
    warnings: tuple[Notice, ...]
    #: the card or bank account that will be charged, e.g. "Visa •••• 4242"
    payment_method_on_file: str | None
    #: its id: pass ``ExistingMethod(payment_method_id_on_file)`` to ``place_order`` to
    #: charge exactly the method shown, even if the default changed since
    payment_method_id_on_file: int | None
    #: corporate: invoiced on payment terms instead of charged
    invoiced_on_terms: bool
    #: the account data the figures were computed with: pass it to
    #: ``place_order(expected_account_terms=...)`` so that the order is refused
    #: (:class:`ConflictError`) if one of them changed since this preview
    account_terms: AccountTerms

    @property
    def currency(self) -> str:
        return self.figures.currency

    @property
    def lines(self) -> tuple[DraftLine, ...]:
        return self.figures.lines

    @property
    def subtotal(self) -> Money:
        return self.figures.subtotal

    @property
    def vat_rate(self) -> Decimal:
        return self.figures.vat_rate

    @property
    def reverse_charge(self) -> bool:
        return self.figures.reverse_charge

    @property
    def vat_number(self) -> str | None:
        return self.figures.vat_number

    @property
    def vat(self) -> Money:
        return self.figures.vat

    @property
    def total(self) -> Money:
        return self.figures.total

    @property
    def credit_applied(self) -> Money:
        return self.figures.credit_applied

    @property
    def amount_due(self) -> Money:
        return self.figures.amount_due

    @property
    def credit_created(self) -> Money:
        return self.figures.credit_created

    @property
    def proration_credit(self) -> Money:
        return sum_money((i.proration_credit for i in self.items), self.currency)

    @property
    def ready(self) -> bool:
        """Nothing blocking is missing: Place order may be pressed."""
        return not any(r.blocking for r in self.required_inputs)

    @property
    def subscription_versions(self) -> dict[int, int]:
        """The version of every existing subscription the order changes, as previewed:
        pass it to ``place_order(expected_subscription_versions=...)`` so that the order is
        refused (:class:`ConflictError`) if one of them changed since this preview."""
        return {
            i.subscription_id: i.subscription_version
            for i in self.items
            if i.subscription_id is not None and i.subscription_version is not None
        }


@dataclass(frozen=True, slots=True)
class PlacedSubscription:
    """What the result page shows per product."""

    subscription_id: int
    product_code: str
    product_name: str
    plan_code: str
    plan_name: str
    licences: int
    previous_licences: int
    frequency: str
    next_billing_date: date
    licences_increased: bool
    #: licences not assigned to anyone (offer to assign them)
    free_seats: int


@dataclass(frozen=True, slots=True)
class OrderResult:
    """The result page of **Place order** (the same object again for a repeated key)."""

    order_id: int
    order_number: str
    invoice_id: int
    invoice_number: str
    account_id: int
    account_number: str
    placed_at: datetime
    subscriptions: tuple[PlacedSubscription, ...]
    subtotal: Money
    vat_rate: Decimal
    reverse_charge: bool
    vat: Money
    total: Money
    credit_applied: Money
    #: due at checkout (total − credit applied)
    amount_due: Money
    #: charged now to ``payment_method``
    amount_paid: Money
    #: left open on the invoice (corporate: payable on terms)
    open_balance: Money
    #: a negative total becomes account credit
    credit_created: Money
    invoice_status: str
    invoice_due_date: date
    payment_method: str | None
    confirmation_email_to: str
    #: licences were added: the next step offers to assign them
    offer_licence_assignment: bool


# --------------------------------------------------------------------------- pricing


def _zero_vat(account: AccountRow) -> VatTreatment:
    """Lines are priced net; VAT is computed once, on the invoice."""
    return VatTreatment(account.country, Decimal(0), False, None)


#: ``next_period`` (a pure function of its arguments; its periods are immutable)
_next_period = lru_cache(maxsize=64)(next_period)


def _price(target: Target, account: AccountRow, today: date) -> ItemPreview:
    """Price one target: full new period from today, minus credit for unused days."""
    product = shipped_catalog().product(target.product.code)
    currency = account.currency
    frequency = Frequency(target.frequency)
    period = _next_period(today, frequency)
    plan = product.plan(target.plan.code)
    addons = [product.addon(a.code) for a in target.addons]
    bill = period_bill(
        product, plan, addons, target.licences, currency, frequency.value, _zero_vat(account)
    )
    sub = target.subscription
    sub_id = sub.id if sub is not None else None
    lines = [
        DraftLine(line.kind, line.description, line.quantity, line.unit_price, line.amount,
                  sub_id, period)
        for line in bill.lines
    ]  # fmt: skip
    credit = Money.zero(currency)
    credit_period: Period | None = None
    previous_charge: Money | None = None
    unused_days = period_days = 0
    if not target.subscribe and sub is not None and target.old_plan is not None:
        old_bill = period_bill(
            product,
            product.plan(target.old_plan.code),
            [product.addon(a.code) for a in target.paid_addons],
            target.old_licences,
            currency,
            target.old_frequency or frequency.value,
            _zero_vat(account),
        )
        previous_charge = old_bill.subtotal
        if sub.period_start and sub.period_end and sub.period_start <= today < sub.period_end:
            current = Period(sub.period_start, sub.period_end)
            # the credit of quote_change (the new period is the one above)
            credit = proration_credit(old_bill.subtotal, current, today)
            unused_days, period_days = (current.end - today).days, current.days
            if credit.is_positive:
                credit_period = Period(today, current.end)
                minus = -credit
                lines.append(
                    DraftLine(
                        "proration_credit",
                        f"Credit for unused days: {product.name} {target.old_plan.name}",
                        1,
                        minus,
                        minus,
                        sub_id,
                        credit_period,
                    )
                )
    return ItemPreview(
        subscription_id=sub_id,
        product_code=product.code,
        product_name=product.name,
        kinds=tuple(target.kinds),
        is_new_subscription=target.subscribe,
        is_downgrade=target.is_downgrade,
        plan_code=plan.code,
        plan_name=plan.name,
        previous_plan_code=target.old_plan.code if target.old_plan is not None else None,
        licences=target.licences,
        previous_licences=target.paid_licences_before,
        frequency=frequency.value,
        previous_frequency=None if target.subscribe else target.old_frequency,
        added_addons=tuple(a.code for a in target.added_addons),
        period=period,
        unit_price=bill.lines[0].unit_price,  # the plan's price for one period
        charge=bill.subtotal,
        previous_charge=previous_charge,
        proration_credit=credit,
        credit_period=credit_period,
        unused_days=unused_days,
        period_days=period_days,
        lines=tuple(lines),
        subscription_version=sub.version if sub is not None else None,
    )


def _vat(account: AccountRow, vat_number: str | None) -> VatTreatment:
    """The account's VAT treatment, or the one a VAT number entered now would give."""
    if vat_number is not None and vat_number.strip():
        return vat_treatment(account.country, vat_number, vat_rates())
    return account_vat(account)


def _usable_methods(account: AccountRow, today: date) -> list[PaymentMethodRow]:
    """Cards not expired and bank accounts, the default first."""
    methods = [
        m
        for m in account.payment_methods
        if m.kind == "bank_account"
        or (
            m.kind == "card"
            and m.exp_year is not None
            and m.exp_month is not None
            and (m.exp_year, m.exp_month) >= (today.year, today.month)
        )
    ]
    return sorted(methods, key=lambda m: (not m.is_default, m.id))


def _requirements(
    account: AccountRow, items: Sequence[ItemPreview], today: date, vat_number: str | None
) -> tuple[RequiredInput, ...]:
    """SPEC §3: payment details and/or VAT number "when needed: a new subscription, or a
    new plan that costs more, or no payment method on file"."""
    if account.type == "corporate":
        return ()  # invoiced on payment terms
    on_file = _usable_methods(account, today)
    reasons: list[str] = []
    if not on_file:
        reasons.append("no_payment_method")
    if any(i.is_new_subscription for i in items):
        reasons.append("new_subscription")
    if any(not i.is_new_subscription and i.costs_more for i in items):
        reasons.append("costs_more")
    if not reasons:
        return ()
    messages = {
        "no_payment_method": QT_TRANSLATE_NOOP(
            "ServiceError",
            "Enter a card or bank account: there is no valid payment method on file.",
        ),
        "new_subscription": QT_TRANSLATE_NOOP(
            "ServiceError", "Confirm the payment method for the new subscription."
        ),
        "costs_more": QT_TRANSLATE_NOOP(
            "ServiceError", "Confirm the payment method: the new plan costs more."
        ),
    }
    out = [
        RequiredInput(
            "payment_method",
            tuple(reasons),
            blocking=not on_file,
            notice=Notice(reasons[0], messages[reasons[0]]),
        )
    ]
    rates = vat_rates()
    no_number = not (account.vat_number or "").strip() and not (vat_number or "").strip()
    if no_number and rates.is_eu(account.country):
        out.append(
            RequiredInput(
                "vat_number",
                ("no_vat_number",),
                blocking=False,
                notice=Notice(
                    "no_vat_number",
                    QT_TRANSLATE_NOOP(
                        "ServiceError",
                        "Add the VAT number if the company has one; without it, VAT of {rate} % ({country}) is charged.",  # noqa: E501
                    ),
                    {"rate": rates.rate_for(account.country), "country": account.country},
                ),
            )
        )
    return tuple(out)


def _warnings(
    account: AccountRow,
    targets: Sequence[Target],
    items: Sequence[ItemPreview],
    figures: InvoiceFigures,
    today: date,
) -> tuple[Notice, ...]:
    out: list[Notice] = []
    for target, item in zip(targets, items, strict=True):
        sub = target.subscription
        if sub is not None and sub.status == "trial" and sub.trial_end and sub.trial_end > today:
            out.append(
                Notice(
                    "trial_ends_now",
                    QT_TRANSLATE_NOOP(
                        "ServiceError",
                        "The free trial of {product} ends today instead of {trial_end}: the paid subscription starts now.",  # noqa: E501
                    ),
                    {"product": item.product_name, "trial_end": sub.trial_end},
                )
            )
        if sub is not None and not target.subscribe and sub.contract == "fixed_term":
            out.append(
                Notice(
                    "fixed_term_unchanged",
                    QT_TRANSLATE_NOOP(
                        "ServiceError",
                        "{product} stays on its fixed-term agreement until {term_end}.",
                    ),
                    {"product": item.product_name, "term_end": sub.term_end},
                )
            )
        if item.licences_increased:
            out.append(
                Notice(
                    "assign_licences",
                    QT_TRANSLATE_NOOP(
                        "ServiceError",
                        "After the order, assign the new {product} licences to users.",
                    ),
                    {"product": item.product_name},
                )
            )
    if figures.credit_created.is_positive:
        out.append(
            Notice(
                "credit_to_account",
                QT_TRANSLATE_NOOP(
                    "ServiceError",
                    "{amount} becomes account credit and is used by later invoices.",
                ),
                {"amount": figures.credit_created},
            )
        )
    if account.type == "corporate":
        out.append(
            Notice(
                "invoiced_on_terms",
                QT_TRANSLATE_NOOP(
                    "ServiceError", "The order is invoiced, payable within {days} days."
                ),
                {"days": account.payment_terms_days or 0},
            )
        )
        if account.po_number and account.po_expiry and account.po_expiry < today:
            out.append(
                Notice(
                    "po_expired",
                    QT_TRANSLATE_NOOP(
                        "ServiceError", "The purchase order {po} expired on {expiry}."
                    ),
                    {"po": account.po_number, "expiry": account.po_expiry},
                )
            )
    return tuple(out)


def _targets(data: OrderData, changes: Sequence[PendingChange]) -> list[Target]:
    targets = [t for t in resolve(data, changes) if t.changes_anything]
    if not targets:
        raise ValidationError(
            "cart_empty",
            QT_TRANSLATE_NOOP("ServiceError", "The cart is empty: there is nothing to order."),
        )
    return targets


def _billing_period(items: Sequence[ItemPreview]) -> Period:
    return Period(min(i.period.start for i in items), max(i.period.end for i in items))


def _build_preview(
    ctx: AppContext,
    account: AccountRow,
    targets: Sequence[Target],
    vat: VatTreatment,
    vat_number: str | None,
    cart_version: int | None,
) -> OrderPreview:
    today = ctx.clock.today()
    items = [_price(t, account, today) for t in targets]
    lines = [line for item in items for line in item.lines]
    credit = Money.from_minor(account.credit_balance_minor, account.currency)
    figures = invoice_figures(lines, vat, credit)
    on_file = _usable_methods(account, today) if account.type != "corporate" else []
    return OrderPreview(
        account_id=account.id,
        account_number=account.account_number,
        cart_version=cart_version,
        items=tuple(items),
        figures=figures,
        billing_period=_billing_period(items),
        required_inputs=_requirements(account, items, today, vat_number),
        warnings=_warnings(account, targets, items, figures, today),
        payment_method_on_file=method_summary(on_file[0]) if on_file else None,
        payment_method_id_on_file=on_file[0].id if on_file else None,
        invoiced_on_terms=account.type == "corporate",
        account_terms=AccountTerms.of(account),
    )


# --------------------------------------------------------------------------- preview


def preview(
    ctx: AppContext,
    account_id: int | str,
    *,
    requested_by: int | None = None,
    items: Sequence[CartChange] | None = None,
    vat_number: str | None = None,
    on_behalf_of_customer: bool = True,
    merge_with_cart: bool = False,
) -> OrderPreview:
    """The exact order for the stored cart (``items=None``) or for unsaved ``items``.

    ``items`` previews a change being edited (the wizard's live summary);
    with ``merge_with_cart`` they are merged over the stored cart as
    :func:`~billing_desktop.services.cart.add_to_cart` would. ``vat_number``
    previews a VAT number typed on the payment page (validated; reverse charge
    where it applies). Every checkout rule is checked: a refusal raises the
    same error :func:`place_order` would. Nothing is written.
    """
    with reading(ctx) as session:
        data = OrderData(session.connection(), account_id, ctx.clock.today())
        account = data.account
        authorize(ctx, Action.CHECKOUT, account)  # type: ignore[arg-type]
        cart = data.load().cart
        changes = stored_changes(cart) if items is None or merge_with_cart else []
        if items is not None:
            new = [normalise(data, c) for c in items]
            changes = prune(data, merge_changes(changes, new))
            if not changes:
                raise no_change()
        targets = _targets(data, changes)
        check_order(
            ctx,
            data,
            targets,
            requested_by=requested_by,
            on_behalf_of_customer=on_behalf_of_customer,
        )
        vat = _vat(account, vat_number)
        version = cart.version if cart is not None and (items is None or merge_with_cart) else None
        return _build_preview(ctx, account, targets, vat, vat_number, version)


# --------------------------------------------------------------------------- placing
#
# ``place_order`` reads the account with :class:`OrderData` (five selects),
# checks and prices the order with the same functions as :func:`preview`, and
# writes every row with Core statements built and compiled once
# (:class:`~billing_desktop.store.bulk.Prepared`: on SQLite run straight on the
# driver, elsewhere through ``Connection.execute``), one statement per table
# (lines and audit entries as one ``executemany``): no unit of work, no ORM
# objects. The rows are those the ORM wrote before, column for column
# (``tests/services/test_order_rows.py``), including the ``version`` columns: a
# row's version moves by one per flush that changed it (the account's up to
# four times per order, see :class:`_FlushedVersion`).

_ORDERS, _INVOICES, _LINES = Order.__table__, Invoice.__table__, InvoiceLine.__table__
_SUBS, _SUB_ADDONS = Subscription.__table__, SubscriptionAddon.__table__
_METHODS, _ACCOUNTS = PaymentMethod.__table__, Account.__table__
_ORDER_INSERT = Prepared(insert(_ORDERS))
_ORDER_SUMMARY = Prepared(
    update(_ORDERS).where(_ORDERS.c.id == bindparam("b_id")).values(summary=bindparam("summary"))
)
_INVOICE_INSERT = Prepared(insert(_INVOICES))
_LINE_INSERT = Prepared(insert(_LINES))
_CREDIT_INSERT = Prepared(insert(Credit.__table__))
_PAYMENT_INSERT = Prepared(insert(Payment.__table__))
_EMAIL_INSERT = Prepared(insert(Email.__table__))
_METHOD_INSERT = Prepared(insert(_METHODS))
_NOT_DEFAULT = Prepared(
    update(_METHODS)
    .where(_METHODS.c.id == bindparam("b_id"), _METHODS.c.version == bindparam("b_version"))
    .values(is_default=False, version=bindparam("version"))
)
_SUB_INSERT = Prepared(insert(_SUBS))
#: the SET clause comes from the values given (always the same columns)
_SUB_UPDATE = Prepared(
    update(_SUBS).where(_SUBS.c.id == bindparam("b_id"), _SUBS.c.version == bindparam("b_version"))
)
#: moves the version of a subscription the order checked but did not otherwise update
_SUB_BUMP = Prepared(
    update(_SUBS)
    .where(_SUBS.c.id == bindparam("b_id"), _SUBS.c.version == bindparam("b_version"))
    .values(version=bindparam("version"))
)
_ADDON_INSERT = Prepared(insert(_SUB_ADDONS))
_ADDON_RESTART = Prepared(
    update(_SUB_ADDONS)
    .where(_SUB_ADDONS.c.id == bindparam("b_id"))
    .values(active=True, added_on=bindparam("added_on"), ends_on=None)
)
_ACCOUNT_UPDATE = Prepared(
    update(_ACCOUNTS).where(
        _ACCOUNTS.c.id == bindparam("b_id"), _ACCOUNTS.c.version == bindparam("b_version")
    )
)
#: checks (and locks) an account row the order does not otherwise change at its version
_ACCOUNT_GUARD = Prepared(
    update(_ACCOUNTS)
    .where(_ACCOUNTS.c.id == bindparam("b_id"), _ACCOUNTS.c.version == bindparam("b_version"))
    .values(version=_ACCOUNTS.c.version)
)


def _check_key(key: object) -> str:
    if not isinstance(key, str) or not key.strip() or len(key.strip()) > MAX_KEY_LENGTH:
        raise ValidationError(
            "idempotency_key_invalid",
            QT_TRANSLATE_NOOP(
                "ServiceError", "The order token must be 1 to {max} characters long."
            ),
            max=MAX_KEY_LENGTH,
        )
    return key.strip()


def _order_prefix(today: date) -> str:
    return f"ORD-{today.year}-"


def _order_numbers(today: date) -> tuple[str, str]:
    """The range holding the year's order numbers (``ORD-2026-`` up to ``ORD-2026.``)."""
    prefix = _order_prefix(today)
    return prefix, f"{prefix[:-1]}."


#: PostgreSQL advisory lock serialising order numbering (``pg_advisory_xact_lock`` key)
ORDER_NUMBER_LOCK = 0x0B111_0D3


def _next_order_number(data: OrderData, today: date) -> str:
    """``ORD-2026-000123``: the next number of the year (read under the write lock).

    SQLite's write transaction holds the database's lock from its start. On
    PostgreSQL (read committed) concurrent orders would read the same last
    number: a transaction-scoped advisory lock serialises the numbering until
    commit, and the last number is read again under it.
    """
    prefix = _order_prefix(today)
    last = data.last_order_number
    conn = data.conn
    if conn.dialect.name == "postgresql":
        from sqlalchemy import text

        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ORDER_NUMBER_LOCK})
        last = conn.execute(
            text("SELECT max(number) FROM orders WHERE number >= :lo AND number < :hi"),
            dict(zip(("lo", "hi"), _order_numbers(today), strict=True)),
        ).scalar()
    number = int(last[len(prefix):]) + 1 if last else 1
    return f"{prefix}{number:06d}"


def _existing_method(account: AccountRow, method_id: int, today: date) -> PaymentMethodRow:
    method = next((m for m in account.payment_methods if m.id == method_id), None)
    if method is None:
        raise NotFound(QT_TRANSLATE_NOOP("ServiceError", "Payment method"), method_id)
    if method not in _usable_methods(account, today):
        raise PolicyViolation(
            "payment_method_unusable",
            QT_TRANSLATE_NOOP(
                "ServiceError", "{method} cannot be charged: choose another payment method."
            ),
            method=method_summary(method),  # type: ignore[arg-type]
        )
    return method


def _new_method(
    account: AccountRow, payment: NewCard | NewBankAccount, today: date, now: datetime
) -> dict[str, Any]:
    """Validate the entered card or IBAN; the row that keeps only its summary."""
    method: dict[str, Any] = {
        "account_id": account.id,
        "kind": "card",
        "brand": None,
        "last4": None,
        "exp_month": None,
        "exp_year": None,
        "holder_name": payment.holder_name.strip(),
        "iban_country": None,
        "billing_line1": account.address_line1,
        "billing_postal_code": account.postal_code,
        "billing_city": account.city,
        "billing_country": account.country,
        "is_default": payment.make_default,
        "created_at": now,
        "version": 1,
    }
    if isinstance(payment, NewCard):
        card = validate_card(payment.number, payment.exp_month, payment.exp_year, today)
        method.update(
            brand=card.brand.value,
            last4=card.last4,
            exp_month=card.exp_month,
            exp_year=card.exp_year,
            billing_line1=payment.billing_line1.strip() or method["billing_line1"],
            billing_postal_code=(
                payment.billing_postal_code.strip() or method["billing_postal_code"]
            ),
            billing_city=payment.billing_city.strip() or method["billing_city"],
            billing_country=payment.billing_country.strip().upper() or method["billing_country"],
        )
    else:
        bank = validate_iban(payment.iban)
        method.update(kind="bank_account", last4=bank.last4, iban_country=bank.country)
    return method


def _clean_vat_number(account: AccountRow, vat_number: str) -> str:
    try:
        return validate_vat_number(account.country, vat_number)
    except ValidationError as exc:
        if exc.code != "vat_unsupported_country":
            raise
        return vat_number.strip()


def check_subscription_versions(data: OrderData, expected: Mapping[int, int]) -> None:
    """Refuse with :class:`ConflictError` if a subscription is no longer at the version the
    operator's preview showed (``expected``: subscription id → version).

    The versions were read with the account's subscriptions (no extra select); the
    order's own update of each row is guarded by the same version, so a change
    committed after this read is a lost race, reported as a conflict too.
    """
    for subscription_id, version in expected.items():
        sub = data.subscription(subscription_id)
        if sub.version != version:
            raise ConflictError(sub.product.name, account=data.account.id)


def check_account_terms(data: OrderData, expected: AccountTerms) -> None:
    """Refuse with :class:`ConflictError` (the account's number, as every conflict on an
    account says, naming its last audited change) if the account's pricing data are no
    longer those the operator's preview showed (``expected``).

    Only :class:`AccountTerms` are compared, not the account's version: another
    order, a payment that leaves the credit as it was, a new address… do not refuse.
    The order's write of the account row is guarded by the version read here
    (:meth:`_FlushedVersion.write`), so a change committed after this read is a
    conflict too.
    """
    if AccountTerms.of(data.account) != expected:
        raise ConflictError(data.account.account_number, account=data.account.id)


def _state(sub: SubscriptionRow | None) -> dict[str, Any] | None:
    """Before/after values of a subscription for the audit trail."""
    if sub is None:
        return None
    return {
        "subscription_id": sub.id,
        "product": sub.product.code,
        "plan": sub.plan.code,
        "licences": sub.licence_count,
        "frequency": sub.frequency,
        "status": sub.status,
        "channel": sub.channel,
        "anchor_date": sub.anchor_date,
        "period_start": sub.period_start,
        "period_end": sub.period_end,
        "auto_renew": sub.auto_renew,
        "addons": sorted(a.addon.code for a in sub.addons if a.active),
    }


def _checked(changed: int, expected: int = 1) -> None:
    """An optimistic-locking update: the row must still have been at its version."""
    if changed != expected:
        raise StaleDataError(f"{expected - changed} rows changed meanwhile")


class _FlushedVersion:
    """The account's version as the ORM left it: one step per flush in which one of its
    columns had changed (the order writes the row once, with that version)."""

    FIELDS = (
        "autopay", "vat_number", "credit_balance_minor", "outstanding_minor",
        "oldest_due_date", "active_subscriptions",
    )  # fmt: skip

    def __init__(self, account: AccountRow) -> None:
        self.account = account
        self.loaded = account.version
        self.version = account.version
        self.flushed = self._values()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self.account, name) for name in self.FIELDS)

    def flush(self) -> None:
        values = self._values()
        if values != self.flushed:
            self.version += 1
            self.flushed = values

    def write(self, conn: Connection, *, guard: bool = False) -> None:
        """Write the changed columns, guarded by the version read; with ``guard`` an
        unchanged row is still checked (and locked) at that version, nothing written."""
        if self.version == self.loaded:
            if guard:
                _checked(_ACCOUNT_GUARD.run(conn, {
                    "b_id": self.account.id, "b_version": self.loaded,
                }))  # fmt: skip
            return
        values = dict(zip(self.FIELDS, self.flushed, strict=True))
        _checked(_ACCOUNT_UPDATE.run(conn, {
            "b_id": self.account.id, "b_version": self.loaded, **values, "version": self.version,
        }))  # fmt: skip
        self.account.version = self.version


def _apply(
    conn: Connection,
    data: OrderData,
    target: Target,
    period: Period,
    now: datetime,
    operator_placed: bool,
) -> SubscriptionRow:
    """Write ``target`` to its subscription: the billing period ``period`` restarts today
    (SPEC §3). A row is updated only if a column changes (its version with it), as the ORM
    did.
    """
    account = data.account
    today = period.start
    channel = "representative" if account.type == "corporate" and operator_placed else (
        "self_service"
    )
    sub = target.subscription
    values: dict[str, Any] = {
        "plan_id": target.plan.id,
        "licence_count": target.licences,
        "frequency": target.frequency,
        "anchor_date": today,
        "period_start": period.start,
        "period_end": period.end,
        "auto_renew": True,
        "status": "active",
        "ended_on": None,
        "channel": channel if sub is None or sub.status in _TRIAL_STATUSES else sub.channel,
    }
    if sub is None:
        row = {
            "account_id": account.id, "product_id": target.product.id,
            "contract": "month_to_month", "created_at": now, "version": 1, **values,
        }  # fmt: skip
        sub_id = _SUB_INSERT.insert(conn, row)
        sub = SubscriptionRow(
            sub_id, account.id, target.product.id, target.plan.id, target.licences,
            target.frequency, "month_to_month", None, today, period.start, period.end, True,
            "active", values["channel"], None, None, 1, 0, target.product, target.plan,
        )  # fmt: skip
        data.subscriptions[sub_id] = sub
    elif any(getattr(sub, name) != value for name, value in values.items()):
        _checked(_SUB_UPDATE.run(conn, {
            "b_id": sub.id, "b_version": sub.version, **values, "version": sub.version + 1,
        }))  # fmt: skip
        for name, value in values.items():
            setattr(sub, name, value)
        sub.plan = target.plan
        sub.version += 1
    for addon in target.added_addons:
        row = next((a for a in sub.addons if a.addon_id == addon.id), None)
        if row is None:
            new = {"subscription_id": sub.id, "addon_id": addon.id, "active": True,
                   "added_on": today, "ends_on": None}  # fmt: skip
            sa_id = _ADDON_INSERT.insert(conn, new)
            sub.addons.append(SubscriptionAddonRow(sa_id, addon.id, True, today, None, addon))
        else:  # again, or after a cancellation: it goes on (no end date any more)
            _ADDON_RESTART.run(conn, {"b_id": row.id, "added_on": today})
            row.active, row.added_on, row.ends_on = True, today, None
    return sub


def place_order(
    ctx: AppContext,
    account_id: int | str,
    *,
    idempotency_key: str,
    requested_by: int | None = None,
    expected_cart_version: int | None = None,
    payment: PaymentInput = None,
    vat_number: str | None = None,
    on_behalf_of_customer: bool = True,
    items: Sequence[CartChange] | None = None,
    expected_subscription_versions: Mapping[int, int] | None = None,
    expected_account_terms: AccountTerms | None = None,
) -> OrderResult:
    """Place the account's cart as one order and one invoice, all in one transaction.

    ``idempotency_key`` is the wizard's order token: placing it again returns
    the first result and writes nothing. ``expected_cart_version`` is the
    version the review page showed (:class:`ConflictError` if the cart changed
    since). ``items`` places these changes instead of the cart (the wizard's
    Checkout straight from the plan page, as :func:`preview` showed them with
    ``items``): the stored cart is neither read nor emptied. ``payment``: a
    :class:`NewCard`, :class:`NewBankAccount`, :class:`ExistingMethod` (or its
    id) or ``None`` for the default method on file. ``vat_number`` is validated
    and stored on the account.

    ``expected_subscription_versions`` (subscription id → version) is
    :attr:`OrderPreview.subscription_versions` of the review page the user
    accepted, for either way of placing: if another operator changed one of
    these subscriptions since (licences, tier, frequency, cancellation…), the
    order is refused with :class:`ConflictError` naming who changed the account
    and when, and nothing is written — the invoice is never priced on data the
    user did not see. ``expected_account_terms`` is
    :attr:`OrderPreview.account_terms` of that review page: if the account's
    country, VAT number, currency, type, credit or payment terms changed since,
    the order is refused the same way (``ConflictError`` naming the account's
    number and its last audited change); other changes to the account (an
    address, another order, a payment that leaves the credit alone) are no
    conflict. Either left ``None`` (the default) is not checked. A repeated
    ``idempotency_key`` still answers the first result (whose own writes moved
    the versions and the credit on).
    """
    key = _check_key(idempotency_key)
    try:
        with writing(
            ctx, QT_TRANSLATE_NOOP("ServiceError", "The order"), account=account_id
        ) as session:
            return _place(
                ctx,
                session.connection(),
                account_id,
                key,
                requested_by=requested_by,
                expected_cart_version=expected_cart_version,
                payment=payment,
                vat_number=vat_number,
                on_behalf_of_customer=on_behalf_of_customer,
                order_items=items,
                expected_versions=expected_subscription_versions,
                expected_terms=expected_account_terms,
            )
    except IntegrityError:
        # Another submission with the same token committed first (a server
        # database lets both run): answer with its result.
        with reading(ctx) as session:
            replay = _replay(
                OrderData(session.connection(), account_id, ctx.clock.today(), order_key=key)
            )
        if replay is None:
            raise
        return replay


def _replay(data: OrderData) -> OrderResult | None:
    """The stored result of the order already placed with the key, if any."""
    if data.replayed is None:
        return None
    order_account, summary = data.replayed
    if order_account != data.account.id or not summary:
        raise ValidationError(
            "idempotency_key_reused",
            QT_TRANSLATE_NOOP(
                "ServiceError", "This order token was already used for another order."
            ),
        )
    return _decode_result(summary)


def _place(
    ctx: AppContext,
    conn: Connection,
    account_id: int | str,
    key: str,
    *,
    requested_by: int | None,
    expected_cart_version: int | None,
    payment: PaymentInput,
    vat_number: str | None,
    on_behalf_of_customer: bool,
    order_items: Sequence[CartChange] | None = None,
    expected_versions: Mapping[int, int] | None = None,
    expected_terms: AccountTerms | None = None,
) -> OrderResult:
    today, now = ctx.clock.today(), ctx.clock.now()
    data = OrderData(conn, account_id, today, order_key=key, order_numbers=_order_numbers(today))
    account = data.account
    authorize(ctx, Action.CHECKOUT, account)  # type: ignore[arg-type]
    replay = _replay(data)
    if replay is not None:
        return replay
    data.load()
    cart = data.cart
    if order_items is None:
        check_cart_version(cart, expected_cart_version)
    if expected_versions:
        check_subscription_versions(data, expected_versions)
    if expected_terms is not None:
        check_account_terms(data, expected_terms)
    if order_items is None:
        changes = stored_changes(cart)
    else:
        changes = prune(data, merge_changes([], [normalise(data, c) for c in order_items]))
        if not changes:
            raise no_change()
    targets = _targets(data, changes)
    contact = check_order(
        ctx,
        data,
        targets,
        requested_by=requested_by,
        on_behalf_of_customer=on_behalf_of_customer,
        today=today,
    )

    # -- inputs (validated before anything is written)
    clean_vat = _clean_vat_number(account, vat_number) if (vat_number or "").strip() else None
    corporate = account.type == "corporate"
    had_usable = bool(_usable_methods(account, today))
    new_method: dict[str, Any] | None = None
    method: PaymentMethodRow | None = None
    if isinstance(payment, NewCard | NewBankAccount):
        new_method = _new_method(account, payment, today, now)
    elif isinstance(payment, ExistingMethod | int) and not isinstance(payment, bool):
        method_id = payment.payment_method_id if isinstance(payment, ExistingMethod) else payment
        method = _existing_method(account, method_id, today)
    elif payment is not None:
        raise TypeError(f"unsupported payment input {type(payment).__name__}")
    if corporate and (new_method is not None or method is not None):
        raise PolicyViolation(
            "corporate_invoiced",
            QT_TRANSLATE_NOOP(
                "ServiceError",
                "Corporate accounts pay by invoice on their payment terms, not by card.",
            ),
        )
    if not corporate and new_method is None and method is None:
        usable = _usable_methods(account, today)
        if not usable:
            raise PolicyViolation(
                "payment_method_required",
                QT_TRANSLATE_NOOP(
                    "ServiceError",
                    "Enter a card or bank account: there is no valid payment method on file.",
                ),
            )
        method = usable[0]

    # -- prices of the current configuration (before anything changes)
    items = [_price(t, account, today) for t in targets]
    entries: list[dict[str, Any]] = []  # the audit trail, written last

    def record(action: str, before: dict[str, Any] | None, after: dict[str, Any]) -> None:
        entries.append(audit.entry(ctx, action, account.id, before, after, contact.id, at=now))

    version = _FlushedVersion(account)

    # -- payment method and VAT number
    if new_method is not None:
        if new_method["is_default"]:
            for other in account.payment_methods:
                if other.is_default:  # one row at a time: a checked version each
                    _checked(_NOT_DEFAULT.run(conn, {
                        "b_id": other.id, "b_version": other.version,
                        "version": other.version + 1,
                    }))  # fmt: skip
                    other.is_default, other.version = False, other.version + 1
        elif not had_usable:
            new_method["is_default"] = True
        method = PaymentMethodRow(
            _METHOD_INSERT.insert(conn, new_method),
            *(new_method[name] for name in (
                "kind", "brand", "last4", "exp_month", "exp_year", "is_default", "version")),
        )  # fmt: skip
        account.payment_methods.append(method)
        record("payment_method.added", None, {
            "kind": method.kind, "brand": method.brand, "last4": method.last4,
            "exp_month": method.exp_month, "exp_year": method.exp_year,
            "is_default": method.is_default,
        })  # fmt: skip
        if not had_usable and not account.autopay:
            # the first payment method: renewals are paid from it from now on
            account.autopay = True
            record("account.autopay", {"autopay": False}, {"autopay": True})
    if clean_vat is not None and clean_vat != account.vat_number:
        record("account.vat_number", {"vat_number": account.vat_number}, {"vat_number": clean_vat})
        account.vat_number = clean_vat
    version.flush()

    # -- subscriptions: the billing period restarts today
    lines: list[DraftLine] = []
    placed: list[tuple[ItemPreview, SubscriptionRow]] = []
    for target, item in zip(targets, items, strict=True):
        before = _state(target.subscription)
        was_new = target.subscription is None
        loaded = target.subscription.version if target.subscription is not None else None
        sub = _apply(conn, data, target, item.period, now, not on_behalf_of_customer)
        if expected_versions and sub.id in expected_versions and sub.version == loaded:
            # checked but no column changed (an add-on the same day): the version still
            # moves on, guarded, so that a change committed meanwhile is a conflict
            _checked(_SUB_BUMP.run(conn, {
                "b_id": sub.id, "b_version": sub.version, "version": sub.version + 1,
            }))  # fmt: skip
            sub.version += 1
        lines.extend(
            replace(line, subscription_id=sub.id) if was_new else line for line in item.lines
        )
        placed.append((item, sub))
        if target.subscribe:
            action = "subscription.subscribed"
        elif target.is_downgrade:
            action = "subscription.downgraded"
        else:
            action = "subscription.changed"
        record(action, before, _state(sub))  # type: ignore[arg-type]

    # -- order and invoice (the preview's figures, now with the account's VAT number)
    currency = account.currency
    figures = invoice_figures(
        lines, account_vat(account), Money.from_minor(account.credit_balance_minor, currency)  # type: ignore[arg-type]
    )
    number = _next_order_number(data, today)
    order_id = _ORDER_INSERT.insert(conn, {
        "account_id": account.id, "number": number, "idempotency_key": key, "placed_at": now,
        "operator_id": ctx.operator.id, "requested_by_contact_id": contact.id,
        "currency": currency, "total_minor": figures.total.minor, "summary": "",
    })  # fmt: skip
    charged = not corporate and figures.amount_due.is_positive and method is not None
    rows = invoice_rows(
        account,  # type: ignore[arg-type]
        figures,
        number=take_invoice_number(conn, now.date()),
        kind="order",
        issued_at=now,
        period=_billing_period(items),
        order_id=order_id,
        method=method if charged else None,  # type: ignore[arg-type]
        reference=number,
    )
    invoice = rows.invoice
    # written open by the ORM, then updated once paid: version 2
    invoice_id = _INVOICE_INSERT.insert(
        conn, {**invoice, "version": 2 if invoice["status"] == "paid" else 1}
    )
    _LINE_INSERT.many(conn, [{"invoice_id": invoice_id, **line} for line in rows.lines])
    if rows.credit is not None:
        _CREDIT_INSERT.run(conn, {"invoice_id": invoice_id, **rows.credit})
        account.credit_balance_minor += rows.credit_change
    version.flush()
    if rows.payment is not None:
        _PAYMENT_INSERT.run(conn, {"invoice_id": invoice_id, **rows.payment})
    due, oldest, live = account_totals(conn, account.id)
    if rows.payment is not None:
        # the totals were refreshed (and flushed) while the invoice was still open
        opened = invoice["due_date"]
        account.outstanding_minor = due + rows.invoice["paid_minor"]
        account.oldest_due_date = opened if oldest is None else min(oldest, opened)
        account.active_subscriptions = live
        version.flush()
    account.outstanding_minor, account.oldest_due_date, account.active_subscriptions = (
        due, oldest, live
    )  # fmt: skip
    version.flush()
    # checked against the review: the row is written (or touched) at the version read,
    # so that a change committed meanwhile is a conflict too
    version.write(conn, guard=expected_terms is not None)
    paid = Money.from_minor(invoice["paid_minor"], currency)

    # -- cart, email, audit, result
    if order_items is None:
        clear_items(conn, ctx, cart, now)
    subscriptions = tuple(
        PlacedSubscription(
            subscription_id=sub.id,
            product_code=item.product_code,
            product_name=item.product_name,
            plan_code=item.plan_code,
            plan_name=item.plan_name,
            licences=item.licences,
            previous_licences=item.previous_licences,
            frequency=item.frequency,
            next_billing_date=item.next_billing_date,
            licences_increased=item.licences_increased,
            free_seats=max(sub.licence_count - sub.assigned, 0),
        )
        for item, sub in placed
    )
    billing = billing_contact(account)  # type: ignore[arg-type]
    email = email_row(
        ctx,
        account,  # type: ignore[arg-type]
        EmailKind.ORDER_PLACED,
        {
            "order_number": number,
            "invoice_number": invoice["number"],
            "total": figures.total,
            "amount_due": figures.amount_due,
            "next_billing_date": min(s.next_billing_date for s in subscriptions),
            "summary": "\n".join(
                f"{s.product_name} {s.plan_name} × {s.licences}" for s in subscriptions
            ),
        },
        to_address=billing.email if billing is not None else contact.email,
        created_at=now,
    )
    _EMAIL_INSERT.run(conn, email)
    result = OrderResult(
        order_id=order_id,
        order_number=number,
        invoice_id=invoice_id,
        invoice_number=invoice["number"],
        account_id=account.id,
        account_number=account.account_number,
        placed_at=now,
        subscriptions=subscriptions,
        subtotal=figures.subtotal,
        vat_rate=figures.vat_rate,
        reverse_charge=figures.reverse_charge,
        vat=figures.vat,
        total=figures.total,
        credit_applied=figures.credit_applied,
        amount_due=figures.amount_due,
        amount_paid=paid,
        open_balance=Money.from_minor(max(rows.due_minor, 0), currency),
        credit_created=figures.credit_created,
        invoice_status=invoice["status"],
        invoice_due_date=invoice["due_date"],
        payment_method=method_summary(method) if method is not None and paid.is_positive else None,  # type: ignore[arg-type]
        confirmation_email_to=email["to_address"],
        offer_licence_assignment=any(
            s.licences_increased and s.free_seats > 0 for s in subscriptions
        ),
    )
    _ORDER_SUMMARY.run(conn, {"b_id": order_id, "summary": _encode_result(result)})
    record("order.placed", None, {
        "order": number,
        "invoice": invoice["number"],
        "total": str(figures.total),
        "amount_due": str(figures.amount_due),
        "amount_paid": str(paid),
        "credit_applied": str(figures.credit_applied),
        "credit_created": str(figures.credit_created),
        "on_behalf_of_customer": on_behalf_of_customer,
        "subscriptions": [s.subscription_id for s in subscriptions],
    })  # fmt: skip
    audit.write(conn, entries)
    return result


# --------------------------------------------------------------------------- result storage
#
# The result of an order is kept (as JSON) in ``orders.summary`` so that a
# repeated submission answers with exactly the first result, whatever changed
# on the account since.


def _encode(value: Any) -> Any:
    kind = type(value)
    encoder = _ENCODERS.get(kind)
    if encoder is not None:
        return encoder(value)
    names = _FIELDS.get(kind)
    if names is None and is_dataclass(value) and not isinstance(value, type):
        names = _FIELDS[kind] = tuple(f.name for f in fields(value))
    if names is not None:
        return {name: _encode(getattr(value, name)) for name in names}
    if isinstance(value, Money):
        return {"$money": [value.minor, value.currency]}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    return value


#: how values of these exact types are stored (the others: see ``_encode``)
_ENCODERS: dict[type, Any] = {
    str: lambda v: v, int: lambda v: v, bool: lambda v: v, type(None): lambda v: v,
    Money: lambda v: {"$money": [v.minor, v.currency]},
    datetime: lambda v: {"$datetime": v.isoformat()},
    date: lambda v: {"$date": v.isoformat()},
    Decimal: lambda v: {"$decimal": str(v)},
    tuple: lambda v: [_encode(x) for x in v],
    list: lambda v: [_encode(x) for x in v],
}  # fmt: skip
#: the field names of the dataclasses stored
_FIELDS: dict[type, tuple[str, ...]] = {}


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "$money" in value:
            minor, currency = value["$money"]
            return Money.from_minor(int(minor), currency)
        if "$datetime" in value:
            return datetime.fromisoformat(value["$datetime"])
        if "$date" in value:
            return date.fromisoformat(value["$date"])
        if "$decimal" in value:
            return Decimal(value["$decimal"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return tuple(_decode(v) for v in value)
    return value


#: ``json.dumps(..., sort_keys=True, ensure_ascii=False)``, one encoder
_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False)


def _encode_result(result: OrderResult) -> str:
    return _JSON.encode(_encode(result))


def _decode_result(text: str) -> OrderResult:
    data = _decode(json.loads(text))
    data["subscriptions"] = tuple(PlacedSubscription(**s) for s in data["subscriptions"])
    return OrderResult(**data)
