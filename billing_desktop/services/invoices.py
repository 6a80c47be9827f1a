"""Invoice history, disputes, voiding and invoice recipients (SPEC §2 "Invoice", §3).

- :func:`list_invoices` feeds the **Open invoices** / **Paid invoices** tabs,
  :func:`invoice_detail` the lines (service description, billing period,
  quantity, unit price, total) and the figures (subtotal, VAT, total, paid, due).
- :func:`dispute_invoice`: "An invoice can be disputed within 15 days of issue;
  disputes are noted on the invoice, not credited automatically." The last day
  is issue date + 15 days (inclusive, ``domain.policies.may_dispute``). A second
  dispute within the window is *appended* to the note (dated), the first
  dispute's date is kept; a void invoice cannot be disputed.
- :func:`void_invoice` (support only): only an open invoice with no payment;
  the status becomes ``void`` and its number stays used (numbers are never
  reused, so the series stays gap-free). Account credit that the invoice had
  used is given back to the account. Subscription changes of the order behind
  the invoice are *not* undone. The time (``voided_at``) and the reason
  (``void_reason``) are kept on the invoice and in the audit trail.
- :func:`set_invoice_recipients`: up to five addresses besides the billing
  contact, one ``invoice_recipients`` row each (``position`` keeps the order
  they were given in); read them with :func:`recipients_for` inside a
  transaction.

Invoice numbers are taken by ``invoicing.next_invoice_number`` in the
transaction that issues the invoice (gap-free per yearly series).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select

from billing_desktop.domain.money import Money
from billing_desktop.domain.policies import dispute_deadline, may_dispute
from billing_desktop.domain.text import QT_TRANSLATE_NOOP
from billing_desktop.services import audit
from billing_desktop.services.auth import Action, authorize
from billing_desktop.services.base import (
    billing_contact,
    check_version,
    get_account,
    reading,
    requesting_contact,
    writing,
)
from billing_desktop.services.context import AppContext
from billing_desktop.services.errors import (
    NotFound,
    PolicyViolation,
    ValidationError,
)

#: what a lost optimistic-locking race changed
_INVOICE = QT_TRANSLATE_NOOP("ServiceError", "The invoice")
_RECIPIENTS = QT_TRANSLATE_NOOP("ServiceError", "The invoice recipients")

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from billing_desktop.store.models import Account, Invoice

__all__ = [
    "MAX_INVOICE_RECIPIENTS",
    "InvoiceDetail",
    "InvoiceLineRow",
    "InvoicePaymentRow",
    "InvoiceRecipients",
    "InvoiceRow",
    "dispute_invoice",
    "invoice_detail",
    "invoice_recipients",
    "list_invoices",
    "recipients_for",
    "set_invoice_recipients",
    "void_invoice",
]

#: SPEC §3: "Up to five invoice recipient emails besides the billing contact."
MAX_INVOICE_RECIPIENTS = 5
MAX_NOTE_LENGTH = 2000
_STATUS_FILTERS = ("open", "paid", "void", "all")
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class InvoiceRow:
    """One row of the Open invoices / Paid invoices tabs."""

    id: int
    number: str
    kind: str
    issue_date: date
    due_date: date
    period_start: date | None
    period_end: date | None
    #: the first line's service description ("… and N more" is for the UI)
    description: str
    line_count: int
    total: Money
    credit_applied: Money
    paid: Money
    due: Money
    status: str  # open | paid | void
    disputed: bool
    #: open and past its due date
    overdue: bool
    #: when support voided it (None unless ``status`` is ``void``)
    voided_at: datetime | None = None
    void_reason: str | None = None


@dataclass(frozen=True, slots=True)
class InvoiceLineRow:
    position: int
    kind: str
    description: str
    period_start: date | None
    period_end: date | None
    quantity: int
    unit_price: Money
    total: Money


@dataclass(frozen=True, slots=True)
class InvoicePaymentRow:
    received_at: datetime
    amount: Money
    method_summary: str
    reference: str


@dataclass(frozen=True, slots=True)
class InvoiceDetail:
    """Everything an invoice shows (the PDF renders the same figures)."""

    id: int
    number: str
    account_id: int
    account_number: str
    company_name: str
    kind: str
    issue_date: date
    due_date: date
    period_start: date | None
    period_end: date | None
    currency: str
    language: str
    lines: tuple[InvoiceLineRow, ...]
    subtotal: Money
    #: VAT rate in percent (22.00 = 22 %)
    vat_rate: Decimal
    reverse_charge: bool
    vat_number: str | None
    vat: Money
    total: Money
    credit_applied: Money
    paid: Money
    due: Money
    status: str
    po_number: str | None
    disputed_at: datetime | None
    dispute_note: str | None
    #: last day a dispute is accepted (issue date + 15 days)
    dispute_deadline: date
    may_dispute: bool
    overdue: bool
    payments: tuple[InvoicePaymentRow, ...]
    version: int
    #: when support voided it and why (None unless ``status`` is ``void``)
    voided_at: datetime | None = None
    void_reason: str | None = None


@dataclass(frozen=True, slots=True)
class InvoiceRecipients:
    account_id: int
    #: the billing contact always receives invoices
    billing_contact_email: str | None
    #: up to five more addresses
    recipients: tuple[str, ...]


# --------------------------------------------------------------------------- helpers


def _money(minor: int, currency: str) -> Money:
    return Money.from_minor(minor, currency)


def _get_invoice(
    session: Session, invoice_id: int | str, *, expected_version: int | None = None
) -> Invoice:
    """The invoice by id or by number (``INV-2026-000042``)."""
    from billing_desktop.store.models import Invoice

    lock = expected_version is not None  # the row stays locked until the change commits
    if isinstance(invoice_id, str):
        query = select(Invoice).where(Invoice.number == invoice_id.strip())
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        invoice = session.scalar(query)
    else:
        invoice = session.get(
            Invoice, invoice_id, with_for_update=True if lock else None, populate_existing=lock
        )
    if invoice is None:
        raise NotFound(QT_TRANSLATE_NOOP("ServiceError", "Invoice"), invoice_id)
    check_version(session, invoice, expected_version, invoice.number, invoice.account_id)
    return invoice


def _requester(account: Account, requested_by: int | None) -> int | None:
    if requested_by is None:
        return None
    return requesting_contact(account, requested_by).id


def _is_overdue(invoice: Invoice, today: date) -> bool:
    return invoice.status == "open" and invoice.due_date < today


def _detail(session: Session, invoice: Invoice, account: Account, today: date) -> InvoiceDetail:
    from billing_desktop.store.models import Payment

    cur = invoice.currency
    payments = session.scalars(
        select(Payment)
        .where(Payment.invoice_id == invoice.id)
        .order_by(Payment.received_at, Payment.id)
    )
    return InvoiceDetail(
        id=invoice.id,
        number=invoice.number,
        account_id=account.id,
        account_number=account.account_number,
        company_name=account.company_name,
        kind=invoice.kind,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        currency=cur,
        language=invoice.language,
        lines=tuple(
            InvoiceLineRow(
                position=line.position,
                kind=line.kind,
                description=line.description,
                period_start=line.period_start,
                period_end=line.period_end,
                quantity=line.quantity,
                unit_price=_money(line.unit_price_minor, cur),
                total=_money(line.amount_minor, cur),
            )
            for line in invoice.lines
        ),
        subtotal=_money(invoice.subtotal_minor, cur),
        vat_rate=(Decimal(invoice.vat_rate_bp) / 100).quantize(Decimal("0.01")),
        reverse_charge=invoice.reverse_charge,
        vat_number=invoice.vat_number,
        vat=_money(invoice.vat_minor, cur),
        total=_money(invoice.total_minor, cur),
        credit_applied=_money(invoice.credit_applied_minor, cur),
        paid=_money(invoice.paid_minor, cur),
        due=_money(invoice.due_minor if invoice.status == "open" else 0, cur),
        status=invoice.status,
        po_number=invoice.po_number,
        disputed_at=invoice.disputed_at,
        dispute_note=invoice.dispute_note,
        dispute_deadline=dispute_deadline(invoice.issue_date),
        may_dispute=invoice.status != "void" and may_dispute(invoice.issue_date, today).allowed,
        overdue=_is_overdue(invoice, today),
        payments=tuple(
            InvoicePaymentRow(
                received_at=p.received_at,
                amount=_money(p.amount_minor, p.currency),
                method_summary=p.method_summary,
                reference=p.reference,
            )
            for p in payments
        ),
        version=invoice.version,
        voided_at=invoice.voided_at,
        void_reason=invoice.void_reason,
    )


def _text(value: str, code: str, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError(
            f"{code}_required",
            QT_TRANSLATE_NOOP("ServiceError", "Enter the {what}."),
            what=what,
        )
    if len(text) > MAX_NOTE_LENGTH:
        raise ValidationError(
            f"{code}_too_long",
            QT_TRANSLATE_NOOP("ServiceError", "The {what} is longer than {max} characters."),
            what=what,
            max=MAX_NOTE_LENGTH,
        )
    return text


# --------------------------------------------------------------------------- reads


def list_invoices(
    ctx: AppContext, account_id: int | str, status: str = "open"
) -> tuple[InvoiceRow, ...]:
    """The account's invoices with ``status`` ``open``, ``paid``, ``void`` or ``all``,
    newest first."""
    from billing_desktop.store.models import Invoice, InvoiceLine

    if status not in _STATUS_FILTERS:
        raise ValidationError(
            "invoice_status_unknown",
            QT_TRANSLATE_NOOP("ServiceError", "{status} is not an invoice status."),
            status=status,
        )
    with reading(ctx) as session:
        account = get_account(session, account_id)
        authorize(ctx, Action.VIEW, account)
        today = ctx.clock.today()
        query = select(Invoice).where(Invoice.account_id == account.id)
        if status != "all":
            query = query.where(Invoice.status == status)
        invoices = list(
            session.scalars(query.order_by(Invoice.issue_date.desc(), Invoice.id.desc()))
        )
        first: dict[int, tuple[str, int]] = {}
        if invoices:
            rows = session.execute(
                select(InvoiceLine.invoice_id, InvoiceLine.position, InvoiceLine.description)
                .where(InvoiceLine.invoice_id.in_([i.id for i in invoices]))
                .order_by(InvoiceLine.invoice_id, InvoiceLine.position)
            )
            for inv_id, _position, description in rows:
                desc, count = first.get(inv_id, (description, 0))
                first[inv_id] = (desc, count + 1)
        result = []
        for inv in invoices:
            cur = inv.currency
            description, count = first.get(inv.id, ("", 0))
            result.append(
                InvoiceRow(
                    id=inv.id,
                    number=inv.number,
                    kind=inv.kind,
                    issue_date=inv.issue_date,
                    due_date=inv.due_date,
                    period_start=inv.period_start,
                    period_end=inv.period_end,
                    description=description,
                    line_count=count,
                    total=_money(inv.total_minor, cur),
                    credit_applied=_money(inv.credit_applied_minor, cur),
                    paid=_money(inv.paid_minor, cur),
                    due=_money(inv.due_minor if inv.status == "open" else 0, cur),
                    status=inv.status,
                    disputed=inv.disputed_at is not None,
                    overdue=_is_overdue(inv, today),
                    voided_at=inv.voided_at,
                    void_reason=inv.void_reason,
                )
            )
        return tuple(result)


def invoice_detail(ctx: AppContext, invoice_id: int | str) -> InvoiceDetail:
    """Lines and figures of one invoice (by id or number)."""
    with reading(ctx) as session:
        invoice = _get_invoice(session, invoice_id)
        account = get_account(session, invoice.account_id)
        authorize(ctx, Action.VIEW, account)
        return _detail(session, invoice, account, ctx.clock.today())


# --------------------------------------------------------------------------- writes


def dispute_invoice(
    ctx: AppContext,
    invoice_id: int | str,
    note: str,
    *,
    requested_by: int | None = None,
    expected_version: int | None = None,
) -> InvoiceDetail:
    """Note a dispute on the invoice (within 15 days of issue; nothing is credited).

    A later dispute within the window is appended to the note with its date.
    ``expected_version`` is the invoice's.
    """
    with writing(ctx, _INVOICE) as session:
        invoice = _get_invoice(session, invoice_id, expected_version=expected_version)
        account = get_account(session, invoice.account_id)
        authorize(ctx, Action.DISPUTE_INVOICE, account)
        requester = _requester(account, requested_by)
        text = _text(note, "dispute_note", QT_TRANSLATE_NOOP("ServiceError", "dispute note"))
        if invoice.status == "void":
            raise PolicyViolation(
                "invoice_void",
                QT_TRANSLATE_NOOP(
                    "ServiceError", "Invoice {invoice} is void and cannot be disputed."
                ),
                invoice=invoice.number,
            )
        now = ctx.clock.now()
        may_dispute(invoice.issue_date, now.date()).require()
        before = {"disputed_at": invoice.disputed_at, "dispute_note": invoice.dispute_note}
        if invoice.disputed_at is None:
            invoice.disputed_at = now
            invoice.dispute_note = text
        else:
            invoice.dispute_note = (
                f"{invoice.dispute_note or ''}\n\n{now.date().isoformat()}: {text}"
            )
        session.flush()
        audit.record(
            session,
            ctx,
            "invoice.disputed",
            account.id,
            {"invoice": invoice.number, **before},
            {
                "invoice": invoice.number,
                "disputed_at": invoice.disputed_at,
                "dispute_note": invoice.dispute_note,
            },
            requested_by_contact_id=requester,
        )
        return _detail(session, invoice, account, now.date())


def void_invoice(
    ctx: AppContext,
    invoice_id: int | str,
    reason: str,
    *,
    requested_by: int | None = None,
    expected_version: int | None = None,
) -> InvoiceDetail:
    """Void an open invoice that has no payment (support only). Its number stays used."""
    from billing_desktop.store.models import Credit, Payment
    from billing_desktop.store.totals import refresh_account_totals

    with writing(ctx, _INVOICE) as session:
        invoice = _get_invoice(session, invoice_id, expected_version=expected_version)
        account = get_account(session, invoice.account_id)
        authorize(ctx, Action.VOID_INVOICE, account)
        requester = _requester(account, requested_by)
        text = _text(reason, "void_reason", QT_TRANSLATE_NOOP("ServiceError", "reason"))
        if invoice.status != "open":
            raise PolicyViolation(
                "invoice_not_open",
                QT_TRANSLATE_NOOP(
                    "ServiceError", "Only open invoices can be voided; {invoice} is {status}."
                ),
                invoice=invoice.number,
                status=invoice.status,
            )
        payments = session.scalar(
            select(func.count()).select_from(Payment).where(Payment.invoice_id == invoice.id)
        )
        if invoice.paid_minor or payments:
            raise PolicyViolation(
                "invoice_has_payments",
                QT_TRANSLATE_NOOP(
                    "ServiceError",
                    "Invoice {invoice} has payments recorded against it and cannot be voided.",
                ),
                invoice=invoice.number,
            )
        now = ctx.clock.now()
        before = {
            "invoice": invoice.number,
            "status": invoice.status,
            "due": str(_money(invoice.due_minor, invoice.currency).amount),
            "credit_applied": str(_money(invoice.credit_applied_minor, invoice.currency).amount),
        }
        invoice.status = "void"
        invoice.voided_at = now
        invoice.void_reason = text
        if invoice.credit_applied_minor:
            account.credit_balance_minor += invoice.credit_applied_minor
            session.add(
                Credit(
                    account_id=account.id,
                    invoice_id=invoice.id,
                    currency=invoice.currency,
                    amount_minor=invoice.credit_applied_minor,
                    reason=f"Restored from voided {invoice.number}",
                    created_at=now,
                )
            )
        session.flush()
        refresh_account_totals(session, account)
        audit.record(
            session,
            ctx,
            "invoice.voided",
            account.id,
            before,
            {
                "invoice": invoice.number,
                "status": "void",
                "voided_at": now,
                "reason": text,
            },
            requested_by_contact_id=requester,
        )
        return _detail(session, invoice, account, now.date())


# --------------------------------------------------------------------------- recipients


def recipients_for(session: Session, account_id: int) -> tuple[str, ...]:
    """The extra invoice recipients of an account in their order, inside the caller's
    transaction."""
    from billing_desktop.store.models import InvoiceRecipient

    return tuple(
        session.scalars(
            select(InvoiceRecipient.email)
            .where(InvoiceRecipient.account_id == int(account_id))
            .order_by(InvoiceRecipient.position, InvoiceRecipient.id)
        )
    )


def _normalise_recipients(emails: Iterable[str], billing_email: str | None) -> list[str]:
    if isinstance(emails, str):
        emails = re.split(r"[,;\s]+", emails)
    billing = (billing_email or "").lower()
    seen: dict[str, str] = {}
    for raw in emails:
        if not isinstance(raw, str):
            raise TypeError("recipient emails must be str")
        email = raw.strip()
        if not email:
            continue
        if len(email) > 254 or not _EMAIL.fullmatch(email):
            raise ValidationError(
                "recipient_email_invalid",
                QT_TRANSLATE_NOOP("ServiceError", "{email} is not a valid email address."),
                email=email,
            )
        if email.lower() == billing:
            continue  # the billing contact receives invoices anyway
        seen.setdefault(email.lower(), email)
    result = list(seen.values())
    if len(result) > MAX_INVOICE_RECIPIENTS:
        raise ValidationError(
            "too_many_recipients",
            QT_TRANSLATE_NOOP(
                "ServiceError",
                "Invoices can go to at most {max} addresses besides the billing contact; "
                "{count} were given.",
            ),
            max=MAX_INVOICE_RECIPIENTS,
            count=len(result),
        )
    return result


def invoice_recipients(ctx: AppContext, account_id: int | str) -> InvoiceRecipients:
    with reading(ctx) as session:
        account = get_account(session, account_id)
        authorize(ctx, Action.VIEW, account)
        billing = billing_contact(account)
        return InvoiceRecipients(
            account.id, billing.email if billing else None, recipients_for(session, account.id)
        )


def set_invoice_recipients(
    ctx: AppContext,
    account_id: int | str,
    emails: Iterable[str],
    *,
    requested_by: int | None = None,
    expected_version: int | None = None,
) -> InvoiceRecipients:
    """Replace the account's extra invoice recipients (≤ 5, valid addresses).

    Blank entries and duplicates (case-insensitive) are dropped, as is the
    billing contact's own address. An empty list removes them all.
    """
    from billing_desktop.store.models import InvoiceRecipient

    with writing(ctx, _RECIPIENTS) as session:
        account = get_account(session, account_id, expected_version=expected_version)
        authorize(ctx, Action.EDIT_ACCOUNT, account)
        requester = _requester(account, requested_by)
        billing = billing_contact(account)
        billing_email = billing.email if billing else None
        wanted = _normalise_recipients(emails, billing_email)
        before = list(recipients_for(session, account.id))
        if wanted != before:
            # Delete first, in SQL: the unit of work would insert before deleting, and
            # an address kept (or only re-cased or moved) would hit the unique key.
            session.execute(
                delete(InvoiceRecipient)
                .where(InvoiceRecipient.account_id == account.id)
                .execution_options(synchronize_session=False)
            )
            session.add_all(
                InvoiceRecipient(account_id=account.id, position=position, email=email)
                for position, email in enumerate(wanted, start=1)
            )
            session.flush()
            audit.record(
                session,
                ctx,
                "account.invoice_recipients_changed",
                account.id,
                {"invoice_recipients": before},
                {"invoice_recipients": wanted},
                requested_by_contact_id=requester,
            )
        return InvoiceRecipients(account.id, billing_email, tuple(wanted))
