"""What a customer document shows, as plain data: the invoice PDF's content.

:func:`invoice_document` reads one invoice with its lines, its account and the
seller's details and returns an :class:`InvoiceDocument` (frozen dataclasses,
``Money`` amounts, dates). ``billing_desktop.documents.render_invoice_pdf``
turns it into a PDF in the account's language; nothing here knows Qt.

The seller block comes from ``app_settings`` (``seller.*`` keys, see
:data:`SELLER_KEYS`); a database without them shows the illustrative demo
seller in Ireland, the seller country of ``resources/vat_rates.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from billing_desktop.domain.money import Money
from billing_desktop.domain.periods import Period
from billing_desktop.domain.text import QT_TRANSLATE_NOOP
from billing_desktop.services.auth import Action, authorize
from billing_desktop.services.errors import NotFound

if TYPE_CHECKING:
    from billing_desktop.services.context import AppContext

__all__ = [
    "DEMO_SELLER",
    "SELLER_KEYS",
    "InvoiceDocument",
    "InvoiceLineView",
    "Party",
    "invoice_document",
    "seller_party",
]


@dataclass(frozen=True, slots=True)
class Party:
    """A seller or customer block: name, postal address, VAT number."""

    name: str
    address_lines: tuple[str, ...]
    #: ISO 3166 code ("IT"); the renderer writes the country's name
    country: str
    vat_number: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class InvoiceLineView:
    kind: str  # charge | proration_credit | addon | termination | manual
    description: str
    period: Period | None
    quantity: int
    unit_price: Money
    #: signed: a proration credit is negative
    amount: Money


@dataclass(frozen=True, slots=True)
class InvoiceDocument:
    """Everything printed on an invoice (SPEC §2 "Invoice", §3 "Payment methods and invoices")."""

    invoice_id: int
    number: str
    kind: str  # order | renewal | termination | manual
    status: str  # open | paid | void
    language: str
    currency: str
    issue_date: date
    due_date: date
    service_period: Period | None
    seller: Party
    customer: Party
    account_number: str
    account_type: str  # standard | corporate
    #: purchase order number (corporate accounts)
    po_number: str | None
    payment_terms_days: int | None
    contact_name: str | None
    lines: tuple[InvoiceLineView, ...]
    subtotal: Money
    #: percent, e.g. Decimal("22") for 22 %
    vat_rate: Decimal
    vat: Money
    reverse_charge: bool
    total: Money
    credit_applied: Money
    amount_paid: Money
    amount_due: Money
    disputed_at: datetime | None = None
    dispute_note: str | None = None


#: app_settings keys of the seller block
SELLER_KEYS = {
    "name": "seller.name",
    "address": "seller.address",  # lines separated by "\n"
    "country": "seller.country",
    "vat_number": "seller.vat_number",
    "email": "seller.email",
}

#: The illustrative seller of demo and unconfigured databases (not a real company).
DEMO_SELLER = Party(
    name="Billing Desk Software Ltd.",
    address_lines=("1 Example Quay", "Dublin D01 X000"),
    country="IE",
    vat_number="IE0000000X",
    email="billing@billing-desk.example",
)


def seller_party(ctx: AppContext) -> Party:
    """The seller block: the ``seller.*`` settings, or :data:`DEMO_SELLER`."""
    raw = {field: ctx.db.setting(key) for field, key in SELLER_KEYS.items()}
    if not raw["name"]:
        return DEMO_SELLER
    lines = tuple(line.strip() for line in (raw["address"] or "").splitlines() if line.strip())
    return Party(
        name=raw["name"],
        address_lines=lines,
        country=(raw["country"] or "").upper(),
        vat_number=raw["vat_number"] or None,
        email=raw["email"] or None,
    )


def _period(start: date | None, end: date | None) -> Period | None:
    if start is None or end is None or end <= start:
        return None
    return Period(start, end)


def invoice_document(ctx: AppContext, invoice_id: int | str) -> InvoiceDocument:
    """The content of invoice ``invoice_id`` (its id, or its number ``INV-2026-000042``).

    Read-only; raises :class:`NotFound` for an unknown invoice.
    """
    from sqlalchemy import select

    from billing_desktop.store.models import Account, Invoice

    authorize(ctx, Action.VIEW)
    seller = seller_party(ctx)
    with ctx.db.sessions.begin() as session:  # a plain read: no write lock
        if isinstance(invoice_id, str):
            invoice = session.scalar(select(Invoice).where(Invoice.number == invoice_id))
        else:
            invoice = session.get(Invoice, invoice_id)
        if invoice is None:
            raise NotFound(QT_TRANSLATE_NOOP("ServiceError", "Invoice"), invoice_id)
        account = session.get(Account, invoice.account_id)
        assert account is not None  # the foreign key guarantees it
        billing = next((c for c in account.contacts if c.is_billing_contact), None)
        currency = invoice.currency

        def money(minor: int) -> Money:
            return Money.from_minor(minor, currency)

        address = [account.address_line1, account.address_line2]
        city = " ".join(p for p in (account.postal_code, account.city) if p)
        if account.region and account.region != account.city:
            city = f"{city} ({account.region})" if city else account.region
        address.append(city)
        customer = Party(
            name=account.company_name,
            address_lines=tuple(line for line in address if line),
            country=account.country,
            vat_number=invoice.vat_number or account.vat_number,
            email=billing.email if billing else None,
        )
        lines = tuple(
            InvoiceLineView(
                kind=line.kind,
                description=line.description,
                period=_period(line.period_start, line.period_end),
                quantity=line.quantity,
                unit_price=money(line.unit_price_minor),
                amount=money(line.amount_minor),
            )
            for line in invoice.lines
        )
        return InvoiceDocument(
            invoice_id=invoice.id,
            number=invoice.number,
            kind=invoice.kind,
            status=invoice.status,
            language=invoice.language or account.language,
            currency=currency,
            issue_date=invoice.issue_date,
            due_date=invoice.due_date,
            service_period=_period(invoice.period_start, invoice.period_end),
            seller=seller,
            customer=customer,
            account_number=account.account_number,
            account_type=account.type,
            po_number=invoice.po_number,
            payment_terms_days=account.payment_terms_days if account.type == "corporate" else None,
            contact_name=billing.full_name if billing else None,
            lines=lines,
            subtotal=money(invoice.subtotal_minor),
            vat_rate=Decimal(invoice.vat_rate_bp) / 100,
            vat=money(invoice.vat_minor),
            reverse_charge=invoice.reverse_charge,
            total=money(invoice.total_minor),
            credit_applied=money(invoice.credit_applied_minor),
            amount_paid=money(invoice.paid_minor),
            amount_due=money(invoice.due_minor),
            disputed_at=invoice.disputed_at,
            dispute_note=invoice.dispute_note,
        )
