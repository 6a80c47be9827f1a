"""Issuing invoices: one computation for previews and for invoices, gap-free numbers.

Checkout, renewals and early-termination billing all build a list of
:class:`DraftLine` and call :func:`invoice_figures` (pure: what the preview
shows) and then :func:`issue_invoice` (writes exactly those figures), so a
preview and the invoice it becomes are identical to the cent.

Rules (SPEC §2, §3): VAT per line rounded half-up, totals are sums of rounded
lines; account credit pays what it can; a negative total becomes account
credit; autopay charges the default card or bank account at once; corporate
accounts are invoiced on their payment terms with their PO number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

from billing_desktop.domain.money import Money, sum_money
from billing_desktop.domain.periods import Period
from billing_desktop.domain.tax import VatRates, VatTreatment, invoice_vat, vat_treatment

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from billing_desktop.store.models import Account, Invoice, PaymentMethod


#: an invoice autopay could not collect is due this many days after issue
SELF_SERVICE_GRACE_DAYS = 14
#: payment terms of a corporate account that has none recorded ("net 30")
CORPORATE_TERMS_DAYS = 30


@dataclass(frozen=True, slots=True)
class DraftLine:
    """One invoice line before it is written; a credit has a negative amount."""

    kind: str  # charge | proration_credit | addon | termination | manual
    description: str
    quantity: int
    unit_price: Money
    amount: Money
    subscription_id: int | None = None
    period: Period | None = None


@dataclass(frozen=True, slots=True)
class InvoiceFigures:
    """Everything a preview shows and an invoice stores."""

    lines: tuple[DraftLine, ...]
    subtotal: Money
    vat_rate: Decimal
    reverse_charge: bool
    vat_number: str | None
    vat: Money
    total: Money
    #: account credit used to pay this invoice (never more than its total)
    credit_applied: Money
    #: what remains to pay now
    amount_due: Money
    #: a negative total is not refunded: it becomes account credit
    credit_created: Money

    @property
    def currency(self) -> str:
        return self.total.currency


@lru_cache(maxsize=1)
def vat_rates() -> VatRates:
    """The shipped VAT rates (read once per process)."""
    return VatRates.load()


def account_vat(account: Account) -> VatTreatment:
    """The VAT treatment of an account: its country's rate or reverse charge."""
    return vat_treatment(account.country, account.vat_number, vat_rates())


def invoice_figures(
    lines: Sequence[DraftLine], vat: VatTreatment, available_credit: Money
) -> InvoiceFigures:
    """Subtotal, VAT, total, credit used and amount due of ``lines``."""
    currency = available_credit.currency
    amounts = [line.amount for line in lines]
    subtotal = sum_money(amounts, currency)
    vat_money = invoice_vat(amounts, vat.rate, currency)
    total = subtotal + vat_money
    zero = Money.zero(currency)
    if total.is_positive:
        credit_applied = min(max(available_credit, zero), total)
        credit_created = zero
    else:
        credit_applied = zero
        credit_created = -total
    due = total - credit_applied if total.is_positive else zero
    return InvoiceFigures(
        lines=tuple(lines),
        subtotal=subtotal,
        vat_rate=vat.rate,
        reverse_charge=vat.reverse_charge,
        vat_number=vat.vat_number,
        vat=vat_money,
        total=total,
        credit_applied=credit_applied,
        amount_due=due,
        credit_created=credit_created,
    )


def figures_for_account(account: Account, lines: Sequence[DraftLine]) -> InvoiceFigures:
    """:func:`invoice_figures` with the account's VAT treatment and credit balance."""
    credit = Money.from_minor(account.credit_balance_minor, account.currency)
    return invoice_figures(lines, account_vat(account), credit)


def next_invoice_number(session: Session, issue_date: date) -> str:
    """The next number of the year's series, e.g. ``INV-2026-000042``.

    Taken in the transaction that issues the invoice, with the counter row
    locked, so numbers are gap-free: a rolled-back invoice gives its number back.
    """
    from billing_desktop.store.models import InvoiceSeries

    prefix = f"INV-{issue_date.year}"
    series = session.get(InvoiceSeries, prefix, with_for_update=True)
    if series is None:
        series = InvoiceSeries(prefix=prefix, next_number=1)
        session.add(series)
    number = series.next_number
    series.next_number = number + 1
    session.flush()
    return f"{prefix}-{number:06d}"


def payable_method(account: Account) -> PaymentMethod | None:
    """The method autopay charges: the default card or bank account, if autopay is on."""
    if account.type == "corporate" or not account.autopay:
        return None
    methods = [m for m in account.payment_methods if m.kind in ("card", "bank_account")]
    default = next((m for m in methods if m.is_default), None)
    return default or (methods[0] if methods else None)


def method_summary(method: PaymentMethod | None) -> str:
    """How a payment method appears on a payment: "Visa •••• 4242"."""
    if method is None:
        return "bank transfer"
    if method.kind == "card":
        return f"{(method.brand or 'card').title()} •••• {method.last4}"
    if method.kind == "bank_account":
        return f"Bank account •••• {method.last4}"
    return "bank transfer"


def issue_invoice(
    session: Session,
    account: Account,
    figures: InvoiceFigures,
    *,
    kind: str,
    issued_at: datetime,
    period: Period | None = None,
    order_id: int | None = None,
    charge: bool = True,
) -> Invoice:
    """Write ``figures`` as an invoice of ``account``; apply credit and autopay.

    With ``charge`` (and autopay on a self-service account with a card or bank
    account) the amount due is collected at once; otherwise the invoice stays
    open until a payment is recorded.
    """
    from billing_desktop.store.models import Credit, Invoice, InvoiceLine, Payment
    from billing_desktop.store.totals import refresh_account_totals

    issue_date = issued_at.date()
    if account.type == "corporate":
        terms = account.payment_terms_days or CORPORATE_TERMS_DAYS
    else:
        terms = SELF_SERVICE_GRACE_DAYS
    invoice = Invoice(
        number=next_invoice_number(session, issue_date),
        account_id=account.id,
        order_id=order_id,
        kind=kind,
        issue_date=issue_date,
        due_date=issue_date + timedelta(days=terms),
        period_start=period.start if period else None,
        period_end=period.end if period else None,
        currency=account.currency,
        subtotal_minor=figures.subtotal.minor,
        vat_rate_bp=int((figures.vat_rate * 100).to_integral_value()),
        vat_minor=figures.vat.minor,
        reverse_charge=figures.reverse_charge,
        vat_number=figures.vat_number,
        credit_applied_minor=figures.credit_applied.minor,
        total_minor=figures.total.minor,
        paid_minor=0,
        status="open",
        language=account.language,
        po_number=account.po_number if account.type == "corporate" else None,
    )
    for position, line in enumerate(figures.lines, start=1):
        invoice.lines.append(
            InvoiceLine(
                position=position,
                kind=line.kind,
                description=line.description,
                subscription_id=line.subscription_id,
                period_start=line.period.start if line.period else None,
                period_end=line.period.end if line.period else None,
                quantity=line.quantity,
                unit_price_minor=line.unit_price.minor,
                amount_minor=line.amount.minor,
            )
        )
    session.add(invoice)
    session.flush()
    if figures.credit_applied.is_positive:
        account.credit_balance_minor -= figures.credit_applied.minor
        session.add(
            Credit(
                account_id=account.id,
                invoice_id=invoice.id,
                currency=account.currency,
                amount_minor=-figures.credit_applied.minor,
                reason=f"Applied to {invoice.number}",
                created_at=issued_at,
            )
        )
    if figures.credit_created.is_positive:
        account.credit_balance_minor += figures.credit_created.minor
        session.add(
            Credit(
                account_id=account.id,
                invoice_id=invoice.id,
                currency=account.currency,
                amount_minor=figures.credit_created.minor,
                reason=f"Credit from {invoice.number}",
                created_at=issued_at,
            )
        )
    if figures.amount_due.is_zero:
        invoice.status = "paid"
    else:
        method = payable_method(account) if charge else None
        if method is not None:
            session.add(
                Payment(
                    account_id=account.id,
                    invoice_id=invoice.id,
                    payment_method_id=method.id,
                    currency=account.currency,
                    amount_minor=figures.amount_due.minor,
                    received_at=issued_at,
                    method_summary=method_summary(method),
                    reference=invoice.number,
                )
            )
            invoice.paid_minor = figures.amount_due.minor
            invoice.status = "paid"
    session.flush()
    refresh_account_totals(session, account)
    return invoice


def apply_payment(
    session: Session,
    account: Account,
    invoice: Invoice,
    amount: Money,
    received_at: datetime,
    method: PaymentMethod | None,
    reference: str = "",
) -> Money:
    """Pay ``invoice`` with up to ``amount``; return what was used. Marks it paid when due is 0."""
    from billing_desktop.store.models import Payment

    due = Money.from_minor(invoice.due_minor, invoice.currency)
    used = min(amount, due)
    if not used.is_positive:
        return Money.zero(invoice.currency)
    session.add(
        Payment(
            account_id=account.id,
            invoice_id=invoice.id,
            payment_method_id=method.id if method else None,
            currency=invoice.currency,
            amount_minor=used.minor,
            received_at=received_at,
            method_summary=method_summary(method),
            reference=reference or invoice.number,
        )
    )
    invoice.paid_minor += used.minor
    if invoice.due_minor == 0:
        invoice.status = "paid"
    return used
