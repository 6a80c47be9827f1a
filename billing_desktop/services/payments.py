"""Payment methods, autopay and "Pay balance" (SPEC §3 "Payment methods and invoices").

Card numbers are validated (Luhn, brand, expiry not before today's month) and
**never stored**: only brand, last four digits, expiry, holder and billing
address reach the database, the audit trail, the logs or an error. A bank
account keeps its IBAN country and last four characters.

Decisions where the spec is silent:

- the first card or bank account of an account becomes its default method;
- a method's billing address defaults to the account's billing address;
- removing a method is refused when it is the only card or bank account of a
  self-service account with autopay on and a paid subscription still live
  (active or cancellation pending): the next renewal could not be collected;
  removing the default promotes the oldest remaining method;
- an expired card cannot become the default nor be charged;
- autopay can be turned on only for a self-service account with a card or
  bank account on file (corporate accounts pay by invoice);
- :func:`record_payment` ("Pay balance") pays the open invoices oldest first;
  without an amount it pays the whole balance; an amount above the balance is
  recorded as received and the surplus becomes account credit (a payment row
  not linked to an invoice plus a ``Credit`` row), so that
  Σ invoices − Σ payments = outstanding balance − account credit still holds;
  without ``method_id`` the default card or bank account on file is charged,
  and when there is none the payment is recorded as a bank transfer;
- the "payment received" email gets values only: ``amount``,
  ``invoice_numbers`` (the invoices paid, a list, empty when everything went to
  account credit) and ``to_credit`` (the surplus that became account credit,
  zero when none), so the template words them in the account's language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import select

from billing_desktop.domain.cards import CardSummary, validate_card, validate_iban
from billing_desktop.domain.money import Money
from billing_desktop.domain.text import QT_TRANSLATE_NOOP
from billing_desktop.services import audit
from billing_desktop.services.auth import Action, authorize
from billing_desktop.services.base import get_account, reading, requesting_contact, writing
from billing_desktop.services.context import AppContext
from billing_desktop.services.errors import (
    NotFound,
    PermissionDenied,
    PolicyViolation,
    ValidationError,
)
from billing_desktop.services.invoicing import (
    CORPORATE_TERMS_DAYS,
    apply_payment,
    method_summary,
)
from billing_desktop.services.mail import EmailKind, queue_email

#: what a lost optimistic-locking race changed
_METHODS_WHAT = QT_TRANSLATE_NOOP("ServiceError", "The payment methods")
_ACCOUNT_WHAT = QT_TRANSLATE_NOOP("ServiceError", "The account")

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from billing_desktop.store.models import Account, PaymentMethod

__all__ = [
    "AppliedPayment",
    "AutopayState",
    "PaymentMethodInfo",
    "PaymentResult",
    "PaymentSettings",
    "add_bank_account",
    "add_card",
    "list_payment_methods",
    "payment_settings",
    "record_payment",
    "remove_method",
    "set_autopay",
    "set_default_method",
]

_CHARGEABLE = ("card", "bank_account")
_PAID_LIVE = ("active", "cancellation_pending")
_COUNTRY = re.compile(r"[A-Z]{2}")


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class PaymentMethodInfo:
    """A payment method as the Overview tab shows it (never a full number)."""

    id: int
    kind: str  # card | bank_account | invoice
    brand: str | None
    last4: str | None
    exp_month: int | None
    exp_year: int | None
    holder_name: str
    iban_country: str | None
    billing_line1: str
    billing_postal_code: str
    billing_city: str
    billing_country: str
    is_default: bool
    #: e.g. "Visa •••• 4242", "Bank account •••• 3000"
    summary: str
    #: a card whose expiry month is before today's month
    expired: bool


@dataclass(frozen=True, slots=True)
class PaymentSettings:
    """How an account pays: what the Payment methods and Invoices tabs show around the lists."""

    account_id: int
    account_number: str
    type: str  # standard | corporate
    autopay: bool
    #: net days of a corporate account's invoices (the default when none is recorded);
    #: None for a self-service account
    payment_terms_days: int | None
    #: amount due on open invoices ("Pay balance" pays it) and account credit
    outstanding: Money
    credit_balance: Money
    #: what "Pay balance" charges: the default card or bank account ("Visa •••• 4242"),
    #: None when the payment is recorded as a bank transfer
    pay_with: str | None
    #: that default card has expired: "Pay balance" would be refused until it is replaced
    pay_with_expired: bool
    #: the operator may change payment methods, autopay and record payments here (SPEC §6)
    may_change: bool
    #: the account's version, for ``expected_version`` of the writes
    version: int


@dataclass(frozen=True, slots=True)
class AutopayState:
    account_id: int
    autopay: bool
    #: False when autopay already had the requested value (nothing written)
    changed: bool


@dataclass(frozen=True, slots=True)
class AppliedPayment:
    """The part of a payment that went to one invoice."""

    invoice_id: int
    invoice_number: str
    amount: Money
    #: the invoice is fully paid after this payment
    settled: bool


@dataclass(frozen=True, slots=True)
class PaymentResult:
    """What "Pay balance" did."""

    account_id: int
    account_number: str
    amount: Money
    applied: tuple[AppliedPayment, ...]
    #: the part of the amount above the balance, now account credit
    credit_created: Money
    #: outstanding balance and account credit after the payment
    outstanding: Money
    credit_balance: Money
    method_summary: str
    email_id: int


# --------------------------------------------------------------------------- helpers


def _is_expired(method: PaymentMethod, today: date) -> bool:
    if method.kind != "card" or method.exp_year is None or method.exp_month is None:
        return False
    return (method.exp_year, method.exp_month) < (today.year, today.month)


def _info(method: PaymentMethod, today: date) -> PaymentMethodInfo:
    return PaymentMethodInfo(
        id=method.id,
        kind=method.kind,
        brand=method.brand,
        last4=method.last4,
        exp_month=method.exp_month,
        exp_year=method.exp_year,
        holder_name=method.holder_name,
        iban_country=method.iban_country,
        billing_line1=method.billing_line1,
        billing_postal_code=method.billing_postal_code,
        billing_city=method.billing_city,
        billing_country=method.billing_country,
        is_default=method.is_default,
        summary=method_summary(method),
        expired=_is_expired(method, today),
    )


def _method_audit(method: PaymentMethod) -> dict[str, object]:
    """The safe fields of a method for the audit trail (no number exists to leak)."""
    return audit.snapshot(
        method,
        "id",
        "kind",
        "brand",
        "last4",
        "exp_month",
        "exp_year",
        "holder_name",
        "iban_country",
        "is_default",
    )


def _requester(account: Account, requested_by: int | None) -> int | None:
    if requested_by is None:
        return None
    return requesting_contact(account, requested_by).id


def _holder(holder_name: str) -> str:
    name = (holder_name or "").strip()
    if not name:
        raise ValidationError(
            "holder_name_required",
            QT_TRANSLATE_NOOP("ServiceError", "Enter the name of the account holder."),
        )
    if len(name) > 200:
        raise ValidationError(
            "holder_name_too_long",
            QT_TRANSLATE_NOOP("ServiceError", "The holder name is longer than {max} characters."),
            max=200,
        )
    return name


def _get_method(account: Account, method_id: int) -> PaymentMethod:
    method = next((m for m in account.payment_methods if m.id == method_id), None)
    if method is None:
        raise NotFound(QT_TRANSLATE_NOOP("ServiceError", "Payment method"), method_id)
    return method


def _refuse_expired(method: PaymentMethod, today: date) -> None:
    if _is_expired(method, today):
        raise PolicyViolation(
            "card_expired",
            QT_TRANSLATE_NOOP(
                "ServiceError", "The card {method} expired in {month:02d}/{year}; add a new card."
            ),
            method=method_summary(method),
            month=method.exp_month,
            year=method.exp_year,
        )


def _add_method(
    session: Session,
    ctx: AppContext,
    account: Account,
    method: PaymentMethod,
    make_default: bool,
    requester: int | None,
) -> PaymentMethodInfo:
    has_default = any(m.is_default for m in account.payment_methods)
    method.is_default = bool(make_default) or not has_default
    if method.is_default:
        for other in account.payment_methods:
            other.is_default = False
    account.payment_methods.append(method)
    session.flush()
    audit.record(
        session,
        ctx,
        "payment_method.added",
        account.id,
        None,
        _method_audit(method),
        requested_by_contact_id=requester,
    )
    return _info(method, ctx.clock.today())


# --------------------------------------------------------------------------- methods


def list_payment_methods(ctx: AppContext, account_id: int | str) -> tuple[PaymentMethodInfo, ...]:
    """The account's payment methods, default first."""
    with reading(ctx) as session:
        account = get_account(session, account_id)
        authorize(ctx, Action.VIEW, account)
        today = ctx.clock.today()
        methods = sorted(account.payment_methods, key=lambda m: (not m.is_default, m.id))
        return tuple(_info(m, today) for m in methods)


def payment_settings(ctx: AppContext, account_id: int | str) -> PaymentSettings:
    """Autopay, payment terms, balances and whether the operator may change them."""
    with reading(ctx) as session:
        account = get_account(session, account_id)
        authorize(ctx, Action.VIEW, account)
        try:
            authorize(ctx, Action.MANAGE_PAYMENT_METHODS, account)
        except PermissionDenied:
            may_change = False
        else:
            may_change = True
        corporate = account.type == "corporate"
        charged = _default_chargeable(account)
        return PaymentSettings(
            account_id=account.id,
            account_number=account.account_number,
            type=account.type,
            autopay=bool(account.autopay) and not corporate,
            payment_terms_days=(account.payment_terms_days or CORPORATE_TERMS_DAYS)
            if corporate
            else None,
            outstanding=Money.from_minor(account.outstanding_minor, account.currency),
            credit_balance=Money.from_minor(account.credit_balance_minor, account.currency),
            pay_with=method_summary(charged) if charged is not None else None,
            pay_with_expired=charged is not None and _is_expired(charged, ctx.clock.today()),
            may_change=may_change,
            version=account.version,
        )


def add_card(
    ctx: AppContext,
    account_id: int | str,
    *,
    number: str,
    exp_month: int,
    exp_year: int,
    holder_name: str,
    billing_line1: str = "",
    billing_postal_code: str = "",
    billing_city: str = "",
    billing_country: str = "",
    make_default: bool = False,
    requested_by: int | None = None,
    expected_version: int | None = None,
) -> PaymentMethodInfo:
    """Validate a card and keep only brand, last four, expiry, holder and billing address.

    Raises :class:`ValidationError` (``card_invalid_number``, ``card_expired``,
    ``card_unknown_brand``, ``card_invalid_expiry``, ``holder_name_required``…)
    with nothing stored. Billing address fields left empty are taken from the
    account's billing address.
    """
    from billing_desktop.store.models import PaymentMethod

    with writing(ctx, _METHODS_WHAT) as session:
        account = get_account(session, account_id, expected_version=expected_version)
        authorize(ctx, Action.MANAGE_PAYMENT_METHODS, account)
        requester = _requester(account, requested_by)
        summary: CardSummary = validate_card(number, exp_month, exp_year, ctx.clock.today())
        del number  # from here on only the summary exists
        name = _holder(holder_name)
        address = _billing_address(
            account, billing_line1, billing_postal_code, billing_city, billing_country
        )
        method = PaymentMethod(
            kind="card",
            brand=summary.brand.value,
            last4=summary.last4,
            exp_month=summary.exp_month,
            exp_year=summary.exp_year,
            holder_name=name,
            iban_country=None,
            created_at=ctx.clock.now(),
            **address,
        )
        return _add_method(session, ctx, account, method, make_default, requester)


def _billing_address(
    account: Account, line1: str, postal_code: str, city: str, country: str
) -> dict[str, str]:
    line1, postal_code, city = (v.strip() for v in (line1 or "", postal_code or "", city or ""))
    country = (country or "").strip().upper()
    if not (line1 or postal_code or city or country):
        line1, postal_code, city, country = (
            account.address_line1,
            account.postal_code,
            account.city,
            account.country,
        )
    if country and not _COUNTRY.fullmatch(country):
        raise ValidationError(
            "country_invalid",
            QT_TRANSLATE_NOOP(
                "ServiceError", "{country} is not a two-letter country code (e.g. IT, NL)."
            ),
            country=country,
        )
    for value, limit in ((line1, 200), (postal_code, 20), (city, 100)):
        if len(value) > limit:
            raise ValidationError(
                "address_too_long",
                QT_TRANSLATE_NOOP(
                    "ServiceError", "An address field is longer than {max} characters."
                ),
                max=limit,
            )
    return {
        "billing_line1": line1,
        "billing_postal_code": postal_code,
        "billing_city": city,
        "billing_country": country,
    }


def add_bank_account(
    ctx: AppContext,
    account_id: int | str,
    *,
    iban: str,
    holder_name: str,
    make_default: bool = False,
    requested_by: int | None = None,
    expected_version: int | None = None,
) -> PaymentMethodInfo:
    """Validate an IBAN and keep only its country and last four characters (SEPA debit)."""
    from billing_desktop.store.models import PaymentMethod

    with writing(ctx, _METHODS_WHAT) as session:
        account = get_account(session, account_id, expected_version=expected_version)
        authorize(ctx, Action.MANAGE_PAYMENT_METHODS, account)
        requester = _requester(account, requested_by)
        summary = validate_iban(iban)
        del iban
        name = _holder(holder_name)
        method = PaymentMethod(
            kind="bank_account",
            brand=None,
            last4=summary.last4,
            exp_month=None,
            exp_year=None,
            holder_name=name,
            iban_country=summary.country,
            created_at=ctx.clock.now(),
            **_billing_address(account, "", "", "", ""),
        )
        return _add_method(session, ctx, account, method, make_default, requester)


def set_default_method(
    ctx: AppContext,
    account_id: int | str,
    method_id: int,
    *,
    requested_by: int | None = None,
    expected_version: int | None = None,
) -> PaymentMethodInfo:
    """Make ``method_id`` the account's one default method (an expired card is refused)."""
    with writing(ctx, _METHODS_WHAT) as session:
        account = get_account(session, account_id, expected_version=expected_version)
        authorize(ctx, Action.MANAGE_PAYMENT_METHODS, account)
        requester = _requester(account, requested_by)
        method = _get_method(account, method_id)
        today = ctx.clock.today()
        if method.is_default:
            return _info(method, today)
        _refuse_expired(method, today)
        previous = next((m for m in account.payment_methods if m.is_default), None)
        for other in account.payment_methods:
            if other is not method and other.is_default:
                other.is_default = False
        session.flush()  # the old default first, so only one is ever marked
        method.is_default = True
        session.flush()
        audit.record(
            session,
            ctx,
            "payment_method.default_changed",
            account.id,
            {"default_method_id": previous.id if previous else None},
            {"default_method_id": method.id, "summary": method_summary(method)},
            requested_by_contact_id=requester,
        )
        return _info(method, today)


def remove_method(
    ctx: AppContext,
    account_id: int | str,
    method_id: int,
    *,
    requested_by: int | None = None,
    expected_version: int | None = None,
) -> tuple[PaymentMethodInfo, ...]:
    """Remove a payment method; returns the methods left (default first).

    Refused for the only card or bank account of a self-service account with
    autopay on and a paid subscription still live. Removing the default makes
    the oldest remaining method (a card or bank account first) the default.
    """
    with writing(ctx, _METHODS_WHAT) as session:
        account = get_account(session, account_id, expected_version=expected_version)
        authorize(ctx, Action.MANAGE_PAYMENT_METHODS, account)
        requester = _requester(account, requested_by)
        method = _get_method(account, method_id)
        chargeable = [m for m in account.payment_methods if m.kind in _CHARGEABLE]
        paid_live = any(s.status in _PAID_LIVE for s in account.subscriptions)
        if (
            account.type == "standard"
            and account.autopay
            and paid_live
            and method.kind in _CHARGEABLE
            and len(chargeable) == 1
        ):
            raise PolicyViolation(
                "last_autopay_method",
                QT_TRANSLATE_NOOP(
                    "ServiceError",
                    "{method} is the only payment method of account {account}, which pays "
                    "its subscriptions automatically. Add another payment method or turn "
                    "autopay off first.",
                ),
                method=method_summary(method),
                account=account.account_number,
            )
        before = _method_audit(method)
        was_default = method.is_default
        account.payment_methods.remove(method)
        session.delete(method)
        session.flush()
        if was_default and account.payment_methods:
            remaining = sorted(
                account.payment_methods, key=lambda m: (m.kind not in _CHARGEABLE, m.id)
            )
            remaining[0].is_default = True
            session.flush()
        audit.record(
            session,
            ctx,
            "payment_method.removed",
            account.id,
            before,
            None,
            requested_by_contact_id=requester,
        )
        today = ctx.clock.today()
        methods = sorted(account.payment_methods, key=lambda m: (not m.is_default, m.id))
        return tuple(_info(m, today) for m in methods)


def set_autopay(
    ctx: AppContext,
    account_id: int | str,
    on: bool,
    *,
    requested_by: int | None = None,
    expected_version: int | None = None,
) -> AutopayState:
    """Turn autopay on or off. Corporate accounts pay by invoice and cannot turn it on;
    turning it on needs a card or bank account on file."""
    if not isinstance(on, bool):
        raise TypeError("on must be a bool")
    with writing(ctx, _ACCOUNT_WHAT) as session:
        account = get_account(session, account_id, expected_version=expected_version)
        authorize(ctx, Action.MANAGE_PAYMENT_METHODS, account)
        requester = _requester(account, requested_by)
        if on and account.type == "corporate":
            raise PolicyViolation(
                "corporate_pays_by_invoice",
                QT_TRANSLATE_NOOP(
                    "ServiceError",
                    "Corporate account {account} pays by invoice on its payment terms; "
                    "autopay cannot be turned on.",
                ),
                account=account.account_number,
            )
        if on and not any(m.kind in _CHARGEABLE for m in account.payment_methods):
            raise PolicyViolation(
                "autopay_needs_method",
                QT_TRANSLATE_NOOP(
                    "ServiceError",
                    "Add a card or bank account to account {account} before turning autopay on.",
                ),
                account=account.account_number,
            )
        if account.autopay == on:
            return AutopayState(account.id, on, changed=False)
        account.autopay = on
        session.flush()
        audit.record(
            session,
            ctx,
            "account.autopay_changed",
            account.id,
            {"autopay": not on},
            {"autopay": on},
            requested_by_contact_id=requester,
        )
        return AutopayState(account.id, on, changed=True)


# --------------------------------------------------------------------------- paying


def _payment_method_for(
    account: Account, method_id: int | None, today: date
) -> PaymentMethod | None:
    if method_id is not None:
        method = _get_method(account, method_id)
    else:
        method = _default_chargeable(account)
        if method is None:
            return None  # recorded as a bank transfer
    _refuse_expired(method, today)
    return method


def _default_chargeable(account: Account) -> PaymentMethod | None:
    """The method "Pay balance" charges without a ``method_id``: the default card or bank
    account (None: the payment is recorded as a bank transfer)."""
    return next(
        (m for m in account.payment_methods if m.kind in _CHARGEABLE and m.is_default), None
    )


def record_payment(
    ctx: AppContext,
    account_id: int | str,
    *,
    amount: Money | None = None,
    method_id: int | None = None,
    reference: str = "",
    requested_by: int | None = None,
    expected_version: int | None = None,
) -> PaymentResult:
    """ "Pay balance": pay the open invoices oldest first; a surplus becomes account credit.

    ``amount`` defaults to the whole balance (refused with ``nothing_due`` when
    nothing is due); zero, negative or another currency is a ValidationError.
    Queues the "payment received" email and refreshes the account's totals.
    """
    from billing_desktop.store.models import Credit, Invoice, Payment
    from billing_desktop.store.totals import refresh_account_totals

    with writing(ctx, _ACCOUNT_WHAT) as session:
        account = get_account(session, account_id, expected_version=expected_version)
        authorize(ctx, Action.RECORD_PAYMENT, account)
        reference = (reference or "").strip()
        if len(reference) > 100:
            raise ValidationError(
                "reference_too_long",
                QT_TRANSLATE_NOOP(
                    "ServiceError", "The payment reference is longer than {max} characters."
                ),
                max=100,
            )
        requester = _requester(account, requested_by)
        currency = account.currency
        open_invoices = list(
            session.scalars(
                select(Invoice)
                .where(Invoice.account_id == account.id, Invoice.status == "open")
                .order_by(Invoice.issue_date, Invoice.id)
            )
        )
        balance = Money.from_minor(sum(i.due_minor for i in open_invoices), currency)
        if amount is None:
            if not balance.is_positive:
                raise PolicyViolation(
                    "nothing_due",
                    QT_TRANSLATE_NOOP("ServiceError", "Account {account} has nothing to pay."),
                    account=account.account_number,
                )
            amount = balance
        if not isinstance(amount, Money):
            raise TypeError("amount must be Money")
        if amount.currency != currency:
            raise ValidationError(
                "payment_currency_mismatch",
                QT_TRANSLATE_NOOP(
                    "ServiceError",
                    "Account {account} is billed in {currency}; a payment in {other} cannot "
                    "be recorded.",
                ),
                account=account.account_number,
                currency=currency,
                other=amount.currency,
            )
        if not amount.is_positive:
            raise ValidationError(
                "payment_not_positive",
                QT_TRANSLATE_NOOP("ServiceError", "A payment must be more than zero."),
                amount=amount.amount,
            )
        now = ctx.clock.now()
        method = _payment_method_for(account, method_id, now.date())
        before = {
            "outstanding": str(balance.amount),
            "credit_balance": str(Money.from_minor(account.credit_balance_minor, currency).amount),
            "currency": currency,
        }
        remaining = amount
        applied: list[AppliedPayment] = []
        for invoice in open_invoices:
            if not remaining.is_positive:
                break
            used = apply_payment(session, account, invoice, remaining, now, method, reference)
            if used.is_positive:
                remaining = remaining - used
                applied.append(
                    AppliedPayment(invoice.id, invoice.number, used, invoice.status == "paid")
                )
        if remaining.is_positive:
            session.add(
                Payment(
                    account_id=account.id,
                    invoice_id=None,
                    payment_method_id=method.id if method else None,
                    currency=currency,
                    amount_minor=remaining.minor,
                    received_at=now,
                    method_summary=method_summary(method),
                    reference=reference or "Account credit",
                )
            )
            account.credit_balance_minor += remaining.minor
            session.add(
                Credit(
                    account_id=account.id,
                    invoice_id=None,
                    currency=currency,
                    amount_minor=remaining.minor,
                    reason=f"Overpayment{' ' + reference if reference else ''}",
                    created_at=now,
                )
            )
        session.flush()
        refresh_account_totals(session, account)
        credit_created = remaining if remaining.is_positive else Money.zero(currency)
        outstanding = Money.from_minor(account.outstanding_minor, currency)
        credit_balance = Money.from_minor(account.credit_balance_minor, currency)
        summary = method_summary(method)
        audit.record(
            session,
            ctx,
            "payment.recorded",
            account.id,
            before,
            {
                "outstanding": str(outstanding.amount),
                "credit_balance": str(credit_balance.amount),
                "currency": currency,
                "amount": str(amount.amount),
                "applied": {a.invoice_number: str(a.amount.amount) for a in applied},
                "credit_created": str(credit_created.amount),
                "method": summary,
                "reference": reference,
            },
            requested_by_contact_id=requester,
        )
        # Values, not prose: the renderer words them in the account's language
        # (no invoice paid → the whole amount went to account credit).
        email = queue_email(
            session,
            ctx,
            account,
            EmailKind.PAYMENT_RECEIVED,
            {
                "amount": amount,
                "invoice_numbers": [a.invoice_number for a in applied],
                "to_credit": credit_created,
            },
        )
        session.flush()
        return PaymentResult(
            account_id=account.id,
            account_number=account.account_number,
            amount=amount,
            applied=tuple(applied),
            credit_created=credit_created,
            outstanding=outstanding,
            credit_balance=credit_balance,
            method_summary=summary,
            email_id=email.id,
        )
