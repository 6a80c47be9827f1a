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
  answer) returns the first order's result and writes nothing.

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
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from billing_desktop.domain.cards import validate_card, validate_iban
from billing_desktop.domain.money import Money, sum_money
from billing_desktop.domain.periods import Frequency, Period, next_period
from billing_desktop.domain.proration import quote_change
from billing_desktop.domain.tax import VatTreatment, validate_vat_number, vat_treatment
from billing_desktop.domain.text import QT_TRANSLATE_NOOP, Notice
from billing_desktop.services import audit
from billing_desktop.services.auth import Action, authorize
from billing_desktop.services.base import billing_contact, get_account
from billing_desktop.services.billing_lines import period_bill
from billing_desktop.services.cart import (
    CartChange,
    CartItemKind,
    PendingChange,
    Target,
    cart_of,
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
from billing_desktop.services.errors import NotFound, PolicyViolation, ValidationError
from billing_desktop.services.invoicing import (
    DraftLine,
    InvoiceFigures,
    account_vat,
    apply_payment,
    invoice_figures,
    issue_invoice,
    method_summary,
    vat_rates,
)
from billing_desktop.services.mail import EmailKind, queue_email
from billing_desktop.store.totals import refresh_account_totals

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from billing_desktop.services.context import AppContext
    from billing_desktop.store.models import Account, PaymentMethod, Subscription

__all__ = [
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
    #: corporate: invoiced on payment terms instead of charged
    invoiced_on_terms: bool

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


def _zero_vat(account: Account) -> VatTreatment:
    """Lines are priced net; VAT is computed once, on the invoice."""
    return VatTreatment(account.country, Decimal(0), False, None)


def _price(target: Target, account: Account, today: date) -> ItemPreview:
    """Price one target: full new period from today, minus credit for unused days."""
    product = shipped_catalog().product(target.product.code)
    currency = account.currency
    frequency = Frequency(target.frequency)
    period = next_period(today, frequency)
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
            [product.addon(a.code) for a in target.old_addons],
            target.old_licences,
            currency,
            target.old_frequency or frequency.value,
            _zero_vat(account),
        )
        previous_charge = old_bill.subtotal
        if sub.period_start and sub.period_end and sub.period_start <= today < sub.period_end:
            current = Period(sub.period_start, sub.period_end)
            quote = quote_change(old_bill.subtotal, current, bill.subtotal, frequency, today)
            credit = quote.credit
            unused_days, period_days = (current.end - today).days, current.days
            if credit.is_positive:
                credit_period = Period(today, current.end)
                lines.append(
                    DraftLine(
                        "proration_credit",
                        f"Credit for unused days: {product.name} {target.old_plan.name}",
                        1,
                        -credit,
                        -credit,
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
        unit_price=plan.unit_price(currency, frequency),
        charge=bill.subtotal,
        previous_charge=previous_charge,
        proration_credit=credit,
        credit_period=credit_period,
        unused_days=unused_days,
        period_days=period_days,
        lines=tuple(lines),
    )


def _vat(account: Account, vat_number: str | None) -> VatTreatment:
    """The account's VAT treatment, or the one a VAT number entered now would give."""
    if vat_number is not None and vat_number.strip():
        return vat_treatment(account.country, vat_number, vat_rates())
    return account_vat(account)


def _usable_methods(account: Account, today: date) -> list[PaymentMethod]:
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
    account: Account, items: Sequence[ItemPreview], today: date, vat_number: str | None
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
    account: Account,
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


def _targets(session: Session, account: Account, changes: Sequence[PendingChange]) -> list[Target]:
    targets = [t for t in resolve(session, account, changes) if t.changes_anything]
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
    account: Account,
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
        invoiced_on_terms=account.type == "corporate",
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
        account = get_account(session, account_id)
        authorize(ctx, Action.CHECKOUT, account)
        cart = cart_of(session, account)
        changes = stored_changes(cart) if items is None or merge_with_cart else []
        if items is not None:
            new = [normalise(session, account, c) for c in items]
            changes = prune(session, merge_changes(changes, new))
            if not changes:
                raise no_change()
        targets = _targets(session, account, changes)
        check_order(
            ctx,
            session,
            account,
            targets,
            requested_by=requested_by,
            on_behalf_of_customer=on_behalf_of_customer,
        )
        vat = _vat(account, vat_number)
        version = cart.version if cart is not None and (items is None or merge_with_cart) else None
        return _build_preview(ctx, account, targets, vat, vat_number, version)


# --------------------------------------------------------------------------- placing


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


def _next_order_number(session: Session, today: date) -> str:
    """``ORD-2026-000123``: the next number of the year (the write lock is held)."""
    from billing_desktop.store.models import Order

    prefix = f"ORD-{today.year}-"
    last = session.scalar(select(func.max(Order.number)).where(Order.number.like(f"{prefix}%")))
    number = int(last[len(prefix):]) + 1 if last else 1
    return f"{prefix}{number:06d}"


def _existing_method(account: Account, method_id: int, today: date) -> PaymentMethod:
    method = next((m for m in account.payment_methods if m.id == method_id), None)
    if method is None:
        raise NotFound(QT_TRANSLATE_NOOP("ServiceError", "Payment method"), method_id)
    if method not in _usable_methods(account, today):
        raise PolicyViolation(
            "payment_method_unusable",
            QT_TRANSLATE_NOOP(
                "ServiceError", "{method} cannot be charged: choose another payment method."
            ),
            method=method_summary(method),
        )
    return method


def _new_method(
    ctx: AppContext, account: Account, payment: NewCard | NewBankAccount, today: date
) -> PaymentMethod:
    """Validate the entered card or IBAN and build the row that keeps only its summary."""
    from billing_desktop.store.models import PaymentMethod

    method = PaymentMethod(
        holder_name=payment.holder_name.strip(),
        billing_line1=account.address_line1,
        billing_postal_code=account.postal_code,
        billing_city=account.city,
        billing_country=account.country,
        is_default=payment.make_default,
        created_at=ctx.clock.now(),
    )
    if isinstance(payment, NewCard):
        card = validate_card(payment.number, payment.exp_month, payment.exp_year, today)
        method.kind = "card"
        method.brand = card.brand.value
        method.last4 = card.last4
        method.exp_month = card.exp_month
        method.exp_year = card.exp_year
        method.billing_line1 = payment.billing_line1.strip() or method.billing_line1
        method.billing_postal_code = (
            payment.billing_postal_code.strip() or method.billing_postal_code
        )
        method.billing_city = payment.billing_city.strip() or method.billing_city
        method.billing_country = payment.billing_country.strip().upper() or method.billing_country
    else:
        bank = validate_iban(payment.iban)
        method.kind = "bank_account"
        method.last4 = bank.last4
        method.iban_country = bank.country
    return method


def _clean_vat_number(account: Account, vat_number: str) -> str:
    try:
        return validate_vat_number(account.country, vat_number)
    except ValidationError as exc:
        if exc.code != "vat_unsupported_country":
            raise
        return vat_number.strip()


def _state(sub: Subscription | None) -> dict[str, Any] | None:
    """Before/after values of a subscription for the audit trail."""
    if sub is None:
        return None
    return {
        "subscription_id": sub.id,
        "product": sub.product.code if sub.product is not None else None,
        "plan": sub.plan.code if sub.plan is not None else None,
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


def _apply(
    session: Session, ctx: AppContext, account: Account, target: Target, operator_placed: bool
) -> Subscription:
    """Write ``target`` to its subscription: the billing period restarts today (SPEC §3)."""
    from billing_desktop.store.models import Subscription, SubscriptionAddon

    today = ctx.clock.today()
    period = next_period(today, Frequency(target.frequency))
    channel = "representative" if account.type == "corporate" and operator_placed else (
        "self_service"
    )
    sub = target.subscription
    if sub is None:
        sub = Subscription(
            account_id=account.id,
            product=target.product,
            contract="month_to_month",
            channel=channel,
            created_at=ctx.clock.now(),
        )
        session.add(sub)
    elif sub.status in ("trial", "trial_expired"):
        sub.channel = channel
    sub.plan = target.plan
    sub.licence_count = target.licences
    sub.frequency = target.frequency
    sub.anchor_date = today
    sub.period_start = period.start
    sub.period_end = period.end
    sub.auto_renew = True
    sub.status = "active"
    sub.ended_on = None
    for addon in target.added_addons:
        row = next((a for a in sub.addons if a.addon_id == addon.id), None)
        if row is None:
            sub.addons.append(SubscriptionAddon(addon=addon, active=True, added_on=today))
        else:
            row.active, row.added_on = True, today
    session.flush()
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
) -> OrderResult:
    """Place the account's cart as one order and one invoice, all in one transaction.

    ``idempotency_key`` is the wizard's order token: placing it again returns
    the first result and writes nothing. ``expected_cart_version`` is the
    version the review page showed (:class:`ConflictError` if the cart changed
    since). ``payment``: a :class:`NewCard`, :class:`NewBankAccount`,
    :class:`ExistingMethod` (or its id) or ``None`` for the default method on
    file. ``vat_number`` is validated and stored on the account.
    """
    key = _check_key(idempotency_key)
    try:
        with writing(ctx, QT_TRANSLATE_NOOP("ServiceError", "The order")) as session:
            return _place(
                ctx,
                session,
                account_id,
                key,
                requested_by=requested_by,
                expected_cart_version=expected_cart_version,
                payment=payment,
                vat_number=vat_number,
                on_behalf_of_customer=on_behalf_of_customer,
            )
    except IntegrityError:
        # Another submission with the same token committed first (a server
        # database lets both run): answer with its result.
        with reading(ctx) as session:
            replay = _replay(session, account_id, key)
        if replay is None:
            raise
        return replay


def _replay(session: Session, account_id: int | str, key: str) -> OrderResult | None:
    from billing_desktop.store.models import Order

    order = session.scalar(select(Order).where(Order.idempotency_key == key))
    if order is None:
        return None
    account = get_account(session, account_id)
    if order.account_id != account.id or not order.summary:
        raise ValidationError(
            "idempotency_key_reused",
            QT_TRANSLATE_NOOP(
                "ServiceError", "This order token was already used for another order."
            ),
        )
    return _decode_result(order.summary)


def _place(
    ctx: AppContext,
    session: Session,
    account_id: int | str,
    key: str,
    *,
    requested_by: int | None,
    expected_cart_version: int | None,
    payment: PaymentInput,
    vat_number: str | None,
    on_behalf_of_customer: bool,
) -> OrderResult:
    from billing_desktop.store.models import Order

    account = get_account(session, account_id)
    authorize(ctx, Action.CHECKOUT, account)
    replay = _replay(session, account_id, key)
    if replay is not None:
        return replay
    today, now = ctx.clock.today(), ctx.clock.now()
    cart = cart_of(session, account)
    check_cart_version(cart, expected_cart_version)
    targets = _targets(session, account, stored_changes(cart))
    contact = check_order(
        ctx,
        session,
        account,
        targets,
        requested_by=requested_by,
        on_behalf_of_customer=on_behalf_of_customer,
    )

    # -- inputs (validated before anything is written)
    clean_vat = _clean_vat_number(account, vat_number) if (vat_number or "").strip() else None
    corporate = account.type == "corporate"
    had_usable = bool(_usable_methods(account, today))
    new_method: PaymentMethod | None = None
    method: PaymentMethod | None = None
    if isinstance(payment, NewCard | NewBankAccount):
        new_method = _new_method(ctx, account, payment, today)
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

    # -- payment method and VAT number
    if new_method is not None:
        if new_method.is_default:
            for other in account.payment_methods:
                other.is_default = False
        elif not had_usable:
            new_method.is_default = True
        account.payment_methods.append(new_method)
        session.flush()
        method = new_method
        audit.record(
            session, ctx, "payment_method.added", account.id, None,
            {"kind": new_method.kind, "brand": new_method.brand, "last4": new_method.last4,
             "exp_month": new_method.exp_month, "exp_year": new_method.exp_year,
             "is_default": new_method.is_default},
            requested_by_contact_id=contact.id,
        )  # fmt: skip
        if not had_usable and not account.autopay:
            # the first payment method: renewals are paid from it from now on
            account.autopay = True
            audit.record(
                session, ctx, "account.autopay", account.id, {"autopay": False},
                {"autopay": True}, requested_by_contact_id=contact.id,
            )  # fmt: skip
    if clean_vat is not None and clean_vat != account.vat_number:
        audit.record(
            session, ctx, "account.vat_number", account.id, {"vat_number": account.vat_number},
            {"vat_number": clean_vat}, requested_by_contact_id=contact.id,
        )  # fmt: skip
        account.vat_number = clean_vat

    # -- subscriptions: the billing period restarts today
    lines: list[DraftLine] = []
    placed: list[tuple[Target, ItemPreview, Subscription]] = []
    for target, item in zip(targets, items, strict=True):
        before = _state(target.subscription)
        was_new = target.subscription is None
        sub = _apply(session, ctx, account, target, operator_placed=not on_behalf_of_customer)
        lines.extend(
            replace(line, subscription_id=sub.id) if was_new else line for line in item.lines
        )
        placed.append((target, item, sub))
        if target.subscribe:
            action = "subscription.subscribed"
        elif target.is_downgrade:
            action = "subscription.downgraded"
        else:
            action = "subscription.changed"
        audit.record(
            session, ctx, action, account.id, before, _state(sub),
            requested_by_contact_id=contact.id,
        )  # fmt: skip

    # -- order and invoice (the preview's figures, now with the account's VAT number)
    figures = invoice_figures(
        lines,
        account_vat(account),
        Money.from_minor(account.credit_balance_minor, account.currency),
    )
    order = Order(
        account_id=account.id,
        number=_next_order_number(session, today),
        idempotency_key=key,
        placed_at=now,
        operator_id=ctx.operator.id,
        requested_by_contact_id=contact.id,
        currency=account.currency,
        total_minor=figures.total.minor,
        summary="",
    )
    session.add(order)
    session.flush()
    invoice = issue_invoice(
        session,
        account,
        figures,
        kind="order",
        issued_at=now,
        period=_billing_period(items),
        order_id=order.id,
        charge=False,
    )
    paid = Money.zero(account.currency)
    if not corporate and invoice.due_minor > 0 and method is not None:
        paid = apply_payment(
            session, account, invoice, figures.amount_due, now, method, reference=order.number
        )
        session.flush()
        refresh_account_totals(session, account)

    # -- cart, email, audit, result
    clear_items(session, ctx, cart)
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
            free_seats=max(sub.licence_count - len(sub.assignments), 0),
        )
        for _target, item, sub in placed
    )
    billing = billing_contact(account)
    email = queue_email(
        session,
        ctx,
        account,
        EmailKind.ORDER_PLACED,
        {
            "order_number": order.number,
            "invoice_number": invoice.number,
            "total": figures.total,
            "amount_due": figures.amount_due,
            "next_billing_date": min(s.next_billing_date for s in subscriptions),
            "summary": "\n".join(
                f"{s.product_name} {s.plan_name} × {s.licences}" for s in subscriptions
            ),
        },
        to_address=billing.email if billing is not None else contact.email,
    )
    result = OrderResult(
        order_id=order.id,
        order_number=order.number,
        invoice_id=invoice.id,
        invoice_number=invoice.number,
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
        open_balance=Money.from_minor(max(invoice.due_minor, 0), account.currency),
        credit_created=figures.credit_created,
        invoice_status=invoice.status,
        invoice_due_date=invoice.due_date,
        payment_method=method_summary(method) if method is not None and paid.is_positive else None,
        confirmation_email_to=email.to_address,
        offer_licence_assignment=any(
            s.licences_increased and s.free_seats > 0 for s in subscriptions
        ),
    )
    order.summary = _encode_result(result)
    audit.record(
        session,
        ctx,
        "order.placed",
        account.id,
        None,
        {
            "order": order.number,
            "invoice": invoice.number,
            "total": str(figures.total),
            "amount_due": str(figures.amount_due),
            "amount_paid": str(paid),
            "credit_applied": str(figures.credit_applied),
            "credit_created": str(figures.credit_created),
            "on_behalf_of_customer": on_behalf_of_customer,
            "subscriptions": [s.subscription_id for s in subscriptions],
        },
        requested_by_contact_id=contact.id,
    )
    session.flush()
    return result


# --------------------------------------------------------------------------- result storage
#
# The result of an order is kept (as JSON) in ``orders.summary`` so that a
# repeated submission answers with exactly the first result, whatever changed
# on the account since.


def _encode(value: Any) -> Any:
    if isinstance(value, Money):
        return {"$money": [value.minor, value.currency]}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    return value


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


def _encode_result(result: OrderResult) -> str:
    return json.dumps(_encode(result), sort_keys=True, ensure_ascii=False)


def _decode_result(text: str) -> OrderResult:
    data = _decode(json.loads(text))
    data["subscriptions"] = tuple(PlacedSubscription(**s) for s in data["subscriptions"])
    return OrderResult(**data)
