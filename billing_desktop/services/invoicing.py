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
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, insert, update

from billing_desktop.domain.money import Money
from billing_desktop.domain.periods import Period
from billing_desktop.domain.tax import VatRates, VatTreatment, vat_treatment
from billing_desktop.services.billing_lines import lines_vat, sum_amounts, zero
from billing_desktop.store.bulk import Prepared
from billing_desktop.store.models import InvoiceSeries

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import Session

    from billing_desktop.store.models import Account, Invoice, PaymentMethod


#: an invoice autopay could not collect is due this many days after issue
SELF_SERVICE_GRACE_DAYS = 14
#: payment terms of a corporate account that has none recorded ("net 30")
CORPORATE_TERMS_DAYS = 30

_SERIES = InvoiceSeries.__table__
_TAKE_NUMBER = Prepared(
    update(_SERIES)
    .where(_SERIES.c.prefix == bindparam("b_prefix"))
    .values(next_number=_SERIES.c.next_number + 1)
    .returning(_SERIES.c.next_number)
)
_NEW_SERIES = Prepared(insert(_SERIES))


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
    return _vat_treatment(account.country, account.vat_number)


@lru_cache(maxsize=1024)
def _vat_treatment(country: str, vat_number: str | None) -> VatTreatment:
    """``vat_treatment`` with the shipped rates (a pure function of its arguments, so the
    answer is kept; an invalid number raises every time)."""
    return vat_treatment(country, vat_number, vat_rates())


def invoice_figures(
    lines: Sequence[DraftLine], vat: VatTreatment, available_credit: Money
) -> InvoiceFigures:
    """Subtotal, VAT, total, credit used and amount due of ``lines``."""
    currency = available_credit.currency
    amounts = [line.amount for line in lines]
    subtotal = sum_amounts(amounts, currency)
    vat_money = lines_vat(amounts, vat.rate, currency)
    total = subtotal + vat_money if vat_money.amount else subtotal
    nothing = zero(currency)
    if total.is_positive:
        credit_applied = min(max(available_credit, nothing), total)
        credit_created = nothing
        due = total - credit_applied if credit_applied.amount else total
    else:
        credit_applied = nothing
        credit_created = -total
        due = nothing
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


def series_prefix(issue_date: date) -> str:
    """The invoice series of a year: ``INV-2026``."""
    return f"INV-{issue_date.year}"


def take_invoice_number(conn: Connection, issue_date: date) -> str:
    """The next number of the year's series, e.g. ``INV-2026-000042`` (Core).

    Taken in the transaction that issues the invoice, with the counter row
    locked by the update, so numbers are gap-free: a rolled-back invoice gives
    its number back.
    """
    prefix = series_prefix(issue_date)
    following = _TAKE_NUMBER.scalar(conn, {"b_prefix": prefix})
    if following is None and conn.dialect.name == "postgresql":
        # the year's first invoice, perhaps in two transactions at once: the one
        # that inserts second waits for the first and takes the number after it
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        first = pg_insert(_SERIES).values(prefix=prefix, next_number=2)
        following = conn.execute(
            first.on_conflict_do_update(
                index_elements=[_SERIES.c.prefix],
                set_={"next_number": _SERIES.c.next_number + 1},
            ).returning(_SERIES.c.next_number)
        ).scalar_one()
    elif following is None:  # the year's first invoice (SQLite: under the write lock)
        _NEW_SERIES.run(conn, {"prefix": prefix, "next_number": 2})
        following = 2
    return f"{prefix}-{following - 1:06d}"


def next_invoice_number(session: Session, issue_date: date) -> str:
    """:func:`take_invoice_number` in ``session``'s transaction (pending changes flushed)."""
    session.flush()
    return take_invoice_number(session.connection(), issue_date)


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


@dataclass(frozen=True, slots=True)
class InvoiceRows:
    """What issuing one invoice writes: the rows without their ids (and without the
    invoice's id in the others), as the ORM and the Core writers both insert them."""

    #: the invoice row as it ends (status, paid), without ``version``
    invoice: dict[str, Any]
    lines: tuple[dict[str, Any], ...]
    #: the account credit used (negative) or created (positive) by the invoice
    credit: dict[str, Any] | None
    #: the payment collecting the amount due at once
    payment: dict[str, Any] | None

    @property
    def credit_change(self) -> int:
        """What the invoice adds to the account's credit balance (minor units)."""
        return self.credit["amount_minor"] if self.credit is not None else 0

    @property
    def due_minor(self) -> int:
        """What is left to pay on the invoice."""
        row = self.invoice
        return row["total_minor"] - row["credit_applied_minor"] - row["paid_minor"]


def invoice_rows(
    account: Account,
    figures: InvoiceFigures,
    *,
    number: str,
    kind: str,
    issued_at: datetime,
    period: Period | None = None,
    order_id: int | None = None,
    method: PaymentMethod | None = None,
    reference: str | None = None,
) -> InvoiceRows:
    """The rows of invoice ``number`` for ``figures`` (SPEC §2, §3).

    Due after the corporate payment terms (net 30 by default) or the
    self-service grace days; the PO number on corporate invoices; account
    credit used or created; paid when nothing is due, or by ``method``
    (the amount due collected at once, ``reference`` on the payment: the
    invoice number unless given), otherwise open. ``account`` is the ORM
    account or a record with the same attributes.
    """
    issue_date = issued_at.date()
    corporate = account.type == "corporate"
    if corporate:
        terms = account.payment_terms_days or CORPORATE_TERMS_DAYS
    else:
        terms = SELF_SERVICE_GRACE_DAYS
    currency = account.currency
    due = figures.amount_due.minor
    credit: dict[str, Any] | None = None
    if figures.credit_applied.is_positive:
        credit = {"amount_minor": -figures.credit_applied.minor, "reason": f"Applied to {number}"}
    if figures.credit_created.is_positive:
        credit = {"amount_minor": figures.credit_created.minor, "reason": f"Credit from {number}"}
    if credit is not None:
        credit = {"account_id": account.id, "currency": currency, **credit,
                  "created_at": issued_at}  # fmt: skip
    payment: dict[str, Any] | None = None
    if due != 0 and method is not None:
        payment = {
            "account_id": account.id,
            "payment_method_id": method.id,
            "currency": currency,
            "amount_minor": due,
            "received_at": issued_at,
            "method_summary": method_summary(method),
            "reference": number if reference is None else reference,
        }
    invoice = {
        "number": number,
        "account_id": account.id,
        "order_id": order_id,
        "kind": kind,
        "issue_date": issue_date,
        "due_date": issue_date + timedelta(days=terms),
        "period_start": period.start if period else None,
        "period_end": period.end if period else None,
        "currency": currency,
        "subtotal_minor": figures.subtotal.minor,
        "vat_rate_bp": int((figures.vat_rate * 100).to_integral_value()),
        "vat_minor": figures.vat.minor,
        "reverse_charge": figures.reverse_charge,
        "vat_number": figures.vat_number,
        "credit_applied_minor": figures.credit_applied.minor,
        "total_minor": figures.total.minor,
        "paid_minor": due if payment is not None else 0,
        "status": "paid" if due == 0 or payment is not None else "open",
        "language": account.language,
        "po_number": account.po_number if corporate else None,
    }
    lines = tuple(
        {
            "position": position,
            "kind": line.kind,
            "description": line.description,
            "subscription_id": line.subscription_id,
            "period_start": line.period.start if line.period else None,
            "period_end": line.period.end if line.period else None,
            "quantity": line.quantity,
            "unit_price_minor": line.unit_price.minor,
            "amount_minor": line.amount.minor,
        }
        for position, line in enumerate(figures.lines, start=1)
    )
    return InvoiceRows(invoice, lines, credit, payment)


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
    open until a payment is recorded. The rows are :func:`invoice_rows`'.
    """
    from billing_desktop.store.models import Credit, Invoice, InvoiceLine, Payment
    from billing_desktop.store.totals import refresh_account_totals

    rows = invoice_rows(
        account,
        figures,
        number=next_invoice_number(session, issued_at.date()),
        kind=kind,
        issued_at=issued_at,
        period=period,
        order_id=order_id,
        method=payable_method(account) if charge else None,
    )
    # written open, then completed: the credit, the payment, the final status
    invoice = Invoice(**{**rows.invoice, "status": "open", "paid_minor": 0})
    for line in rows.lines:
        invoice.lines.append(InvoiceLine(**line))
    session.add(invoice)
    session.flush()
    if rows.credit is not None:
        account.credit_balance_minor += rows.credit_change
        session.add(Credit(invoice_id=invoice.id, **rows.credit))
    if rows.payment is not None:
        session.add(Payment(invoice_id=invoice.id, **rows.payment))
    invoice.status, invoice.paid_minor = rows.invoice["status"], rows.invoice["paid_minor"]
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
