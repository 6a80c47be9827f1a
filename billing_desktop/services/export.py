"""Account data export: "back up your data" (article 002's cancellation precondition).

:func:`export_account` writes one zip with a CSV file per table of the account
and ``account.json`` holding everything in one document:

- UTF-8 (no byte-order mark), CSV with a header row, ``\\r\\n`` line ends;
- amounts as exact decimal strings, never floats: in CSV an amount column
  (``186.40``) next to a ``currency`` column; in JSON an object
  ``{"amount": "186.40", "currency": "EUR"}``;
- dates and times in ISO 8601; booleans ``true``/``false``; empty = null.

Files: contacts, subscriptions, invoices, invoice_lines, payments, credits,
payment_methods (safe summary only: brand, last four, expiry), emails,
licence_assignments (``.csv`` each) and account.json. The export is audited
(``account.exported``); the zip is written next to its target under a
temporary name and moved into place only once the audit entry is committed.

:func:`export_accounts_csv` writes the accounts list as the Accounts view
shows it — the same filter and sort, answered by the same keyset-paginated SQL
— one page at a time straight to the file (never a list of all rows in
memory), with the same conventions (codes, not translated words: ``corporate``,
``overdue``; the balance as a decimal string next to its currency). It reports
progress after each page and stops between pages when cancelled; a cancelled
or failed export leaves no file behind (nor replaces an existing one). Audited
as ``accounts.exported`` with the filter and the number of rows.
"""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from billing_desktop import __version__ as _app_version
from billing_desktop.domain.money import Money
from billing_desktop.domain.text import QT_TRANSLATE_NOOP
from billing_desktop.services import audit
from billing_desktop.services.auth import Action, authorize
from billing_desktop.services.base import get_account
from billing_desktop.services.context import AppContext
from billing_desktop.services.errors import ServiceError
from billing_desktop.services.invoices import recipients_for
from billing_desktop.services.smtp_errors import last_error_text
from billing_desktop.store.queries import AccountFilter, AccountRow, AccountSort

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from billing_desktop.store.models import Account

__all__ = [
    "ACCOUNT_LIST_COLUMNS",
    "EXPORT_FORMAT",
    "EXPORT_TABLES",
    "AccountsExport",
    "ExportCancelled",
    "ExportFailed",
    "export_account",
    "export_accounts_csv",
    "export_file_name",
]

#: identifies the JSON document's layout
EXPORT_FORMAT = "billing-desktop/account-export"
EXPORT_FORMAT_VERSION = 1

#: The CSV files of an export, in the order they are written, and their columns.
EXPORT_TABLES: dict[str, tuple[str, ...]] = {
    "contacts": (
        "id", "first_name", "last_name", "email", "language", "roles",
        "is_billing_contact", "cancel_authorised",
    ),
    "subscriptions": (
        "id", "product_code", "product_name", "plan_code", "plan_name", "licence_count",
        "frequency", "contract", "term_months", "term_start", "term_end", "anchor_date",
        "period_start", "next_billing_date", "auto_renew", "status", "channel", "trial_end",
        "cancel_requested_at", "cancellation_effective", "cancel_reason", "cancel_reason_text",
        "ended_on", "addons", "created_at",
    ),
    "invoices": (
        "id", "number", "kind", "issue_date", "due_date", "period_start", "period_end",
        "currency", "subtotal", "vat_rate_percent", "vat", "reverse_charge", "vat_number",
        "total", "credit_applied", "paid", "due", "status", "language", "po_number",
        "disputed_at", "dispute_note",
    ),
    "invoice_lines": (
        "invoice_id", "invoice_number", "position", "kind", "description", "subscription_id",
        "period_start", "period_end", "quantity", "currency", "unit_price", "total",
    ),
    "payments": (
        "id", "invoice_id", "invoice_number", "received_at", "currency", "amount",
        "method_summary", "reference",
    ),
    "credits": ("id", "invoice_id", "invoice_number", "created_at", "currency", "amount", "reason"),
    "payment_methods": (
        "id", "kind", "brand", "last4", "exp_month", "exp_year", "holder_name", "iban_country",
        "billing_line1", "billing_postal_code", "billing_city", "billing_country", "is_default",
    ),
    "emails": (
        "id", "kind", "to_address", "cc_addresses", "subject", "body_text", "language", "status",
        "created_at", "sent_at", "attempts", "last_error",
    ),
    "licence_assignments": (
        "subscription_id", "product_code", "contact_id", "contact_name", "contact_email",
        "assigned_at",
    ),
}  # fmt: skip


class ExportFailed(ServiceError):
    """The export file could not be written (folder missing, disk full, no permission…)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            "export_failed",
            QT_TRANSLATE_NOOP(
                "ServiceError", "The export could not be written to {path}: {reason}"
            ),
            path=str(path),
            reason=reason,
        )


@dataclass(frozen=True, slots=True)
class _Table:
    name: str
    rows: list[dict[str, Any]]


# --------------------------------------------------------------------------- values


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Money):
        return str(value.amount)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, Money):
        return {"amount": str(value.amount), "currency": value.currency}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return value


def export_file_name(account_number: str, day: date) -> str:
    """``A-100009-export-2026-04-26.zip``"""
    return f"{account_number}-export-{day.isoformat()}.zip"


# --------------------------------------------------------------------------- gathering


def _gather(session: Session, account: Account) -> dict[str, list[dict[str, Any]]]:
    from billing_desktop.store.models import (
        Credit,
        Email,
        Invoice,
        LicenceAssignment,
        Payment,
        Subscription,
    )

    def m(minor: int, currency: str) -> Money:
        return Money.from_minor(minor, currency)

    contacts = [
        {
            "id": c.id,
            "first_name": c.first_name,
            "last_name": c.last_name,
            "email": c.email,
            "language": c.language,
            "roles": ";".join(sorted(c.role_set)),
            "is_billing_contact": bool(c.is_billing_contact),
            "cancel_authorised": bool(c.cancel_authorised),
        }
        for c in account.contacts
    ]
    subscriptions = [
        {
            "id": s.id,
            "product_code": s.product.code,
            "product_name": s.product.name,
            "plan_code": s.plan.code,
            "plan_name": s.plan.name,
            "licence_count": s.licence_count,
            "frequency": s.frequency,
            "contract": s.contract,
            "term_months": s.term_months,
            "term_start": s.term_start,
            "term_end": s.term_end,
            "anchor_date": s.anchor_date,
            "period_start": s.period_start,
            "next_billing_date": s.period_end,
            "auto_renew": bool(s.auto_renew),
            "status": s.status,
            "channel": s.channel,
            "trial_end": s.trial_end,
            "cancel_requested_at": s.cancel_requested_at,
            "cancellation_effective": s.cancellation_effective,
            "cancel_reason": s.cancel_reason,
            "cancel_reason_text": s.cancel_reason_text,
            "ended_on": s.ended_on,
            "addons": ";".join(sorted(a.addon.code for a in s.addons if a.active)),
            "created_at": s.created_at,
        }
        for s in account.subscriptions
    ]
    invoice_objs = list(
        session.scalars(
            select(Invoice)
            .where(Invoice.account_id == account.id)
            .order_by(Invoice.issue_date, Invoice.id)
        )
    )
    numbers = {i.id: i.number for i in invoice_objs}
    invoices = []
    lines = []
    for inv in invoice_objs:
        cur = inv.currency
        invoices.append(
            {
                "id": inv.id,
                "number": inv.number,
                "kind": inv.kind,
                "issue_date": inv.issue_date,
                "due_date": inv.due_date,
                "period_start": inv.period_start,
                "period_end": inv.period_end,
                "currency": cur,
                "subtotal": m(inv.subtotal_minor, cur),
                "vat_rate_percent": (Decimal(inv.vat_rate_bp) / 100).quantize(Decimal("0.01")),
                "vat": m(inv.vat_minor, cur),
                "reverse_charge": bool(inv.reverse_charge),
                "vat_number": inv.vat_number,
                "total": m(inv.total_minor, cur),
                "credit_applied": m(inv.credit_applied_minor, cur),
                "paid": m(inv.paid_minor, cur),
                "due": m(inv.due_minor if inv.status == "open" else 0, cur),
                "status": inv.status,
                "language": inv.language,
                "po_number": inv.po_number,
                "disputed_at": inv.disputed_at,
                "dispute_note": inv.dispute_note,
            }
        )
        for line in inv.lines:
            lines.append(
                {
                    "invoice_id": inv.id,
                    "invoice_number": inv.number,
                    "position": line.position,
                    "kind": line.kind,
                    "description": line.description,
                    "subscription_id": line.subscription_id,
                    "period_start": line.period_start,
                    "period_end": line.period_end,
                    "quantity": line.quantity,
                    "currency": cur,
                    "unit_price": m(line.unit_price_minor, cur),
                    "total": m(line.amount_minor, cur),
                }
            )
    payments = [
        {
            "id": p.id,
            "invoice_id": p.invoice_id,
            "invoice_number": numbers.get(p.invoice_id) if p.invoice_id else None,
            "received_at": p.received_at,
            "currency": p.currency,
            "amount": m(p.amount_minor, p.currency),
            "method_summary": p.method_summary,
            "reference": p.reference,
        }
        for p in session.scalars(
            select(Payment)
            .where(Payment.account_id == account.id)
            .order_by(Payment.received_at, Payment.id)
        )
    ]
    credits = [
        {
            "id": c.id,
            "invoice_id": c.invoice_id,
            "invoice_number": numbers.get(c.invoice_id) if c.invoice_id else None,
            "created_at": c.created_at,
            "currency": c.currency,
            "amount": m(c.amount_minor, c.currency),
            "reason": c.reason,
        }
        for c in session.scalars(
            select(Credit)
            .where(Credit.account_id == account.id)
            .order_by(Credit.created_at, Credit.id)
        )
    ]
    methods = [
        {
            "id": pm.id,
            "kind": pm.kind,
            "brand": pm.brand,
            "last4": pm.last4,
            "exp_month": pm.exp_month,
            "exp_year": pm.exp_year,
            "holder_name": pm.holder_name,
            "iban_country": pm.iban_country,
            "billing_line1": pm.billing_line1,
            "billing_postal_code": pm.billing_postal_code,
            "billing_city": pm.billing_city,
            "billing_country": pm.billing_country,
            "is_default": bool(pm.is_default),
        }
        for pm in account.payment_methods
    ]
    emails = [
        {
            "id": e.id,
            "kind": e.kind,
            "to_address": e.to_address,
            "cc_addresses": e.cc_addresses,
            "subject": e.subject,
            "body_text": e.body_text,
            "language": e.language,
            "status": e.status,
            "created_at": e.created_at,
            "sent_at": e.sent_at,
            "attempts": e.attempts,
            # the reason as an English sentence, not its stored form
            "last_error": last_error_text(e.last_error) or None,
        }
        for e in session.scalars(
            select(Email).where(Email.account_id == account.id).order_by(Email.id)
        )
    ]
    assignments = [
        {
            "subscription_id": a.subscription_id,
            "product_code": a.subscription.product.code,
            "contact_id": a.contact_id,
            "contact_name": a.contact.full_name,
            "contact_email": a.contact.email,
            "assigned_at": a.assigned_at,
        }
        for a in session.scalars(
            select(LicenceAssignment)
            .join(Subscription, Subscription.id == LicenceAssignment.subscription_id)
            .where(Subscription.account_id == account.id)
            .order_by(LicenceAssignment.subscription_id, LicenceAssignment.id)
        )
    ]
    return {
        "contacts": contacts,
        "subscriptions": subscriptions,
        "invoices": invoices,
        "invoice_lines": lines,
        "payments": payments,
        "credits": credits,
        "payment_methods": methods,
        "emails": emails,
        "licence_assignments": assignments,
    }


def _account_record(session: Session, account: Account) -> dict[str, Any]:
    cur = account.currency
    return {
        "id": account.id,
        "account_id": account.account_number,
        "company_name": account.company_name,
        "type": account.type,
        "status": account.status,
        "country": account.country,
        "language": account.language,
        "currency": cur,
        "billing_address": {
            "line1": account.address_line1,
            "line2": account.address_line2,
            "postal_code": account.postal_code,
            "city": account.city,
            "region": account.region,
            "country": account.country,
        },
        "vat_number": account.vat_number,
        "credit_balance": Money.from_minor(account.credit_balance_minor, cur),
        "outstanding_balance": Money.from_minor(account.outstanding_minor, cur),
        "oldest_due_date": account.oldest_due_date,
        "autopay": bool(account.autopay),
        "payment_terms_days": account.payment_terms_days,
        "po_number": account.po_number,
        "po_expiry": account.po_expiry,
        "representative": account.representative.name if account.representative else None,
        "invoice_recipients": list(recipients_for(session, account.id)),
        "created_at": account.created_at,
    }


def _csv_bytes(columns: Sequence[str], rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_value(row[c]) for c in columns])
    return buffer.getvalue().encode("utf-8")


def _write_zip(
    target: Path, tables: dict[str, list[dict[str, Any]]], document: dict[str, Any]
) -> None:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, columns in EXPORT_TABLES.items():
            archive.writestr(f"{name}.csv", _csv_bytes(columns, tables[name]))
        text = json.dumps(_json_value(document), ensure_ascii=False, indent=2, sort_keys=False)
        archive.writestr("account.json", text.encode("utf-8"))


def _target_path(path: str | os.PathLike[str], account_number: str, day: date) -> Path:
    target = Path(path).expanduser()
    if target.is_dir():
        target = target / export_file_name(account_number, day)
    if not target.parent.is_dir():
        raise ExportFailed(target, "the folder does not exist.")
    return target


# --------------------------------------------------------------------------- the service


def export_account(
    ctx: AppContext,
    account_id: int | str,
    path: str | os.PathLike[str],
    *,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Write the account's data as a zip of CSV files plus ``account.json``; return its path.

    ``path`` is the zip file to write, or a folder (the file is then named
    :func:`export_file_name`). An existing file is replaced. Any role may
    export (``Action.EXPORT_ACCOUNT`` is a read action); the export is audited.
    """
    partial: Path | None = None
    try:
        with ctx.db.transaction() as session:
            account = get_account(session, account_id)
            authorize(ctx, Action.EXPORT_ACCOUNT, account)
            now = ctx.clock.now()
            target = _target_path(path, account.account_number, now.date())
            if progress:
                progress("reading")
            tables = _gather(session, account)
            document = _document(ctx, session, account, tables, now)
            partial = target.with_name(f".{target.name}.part")
            if progress:
                progress("writing")
            try:
                _write_zip(partial, tables, document)
            except OSError as exc:
                raise ExportFailed(target, exc.strerror or str(exc)) from exc
            audit.record(
                session,
                ctx,
                "account.exported",
                account.id,
                None,
                {
                    "file": str(target),
                    "counts": {name: len(rows) for name, rows in tables.items()},
                },
            )
        # committed: move the finished file into place
        try:
            os.replace(partial, target)
        except OSError as exc:
            raise ExportFailed(target, exc.strerror or str(exc)) from exc
    except BaseException:
        if partial is not None:
            partial.unlink(missing_ok=True)
        raise
    return target


def _document(
    ctx: AppContext,
    session: Session,
    account: Account,
    tables: dict[str, list[dict[str, Any]]],
    now: datetime,
) -> dict[str, Any]:
    """Everything in one JSON document; invoices carry their lines."""
    invoices_by_id = {inv["id"]: dict(inv, lines=[]) for inv in tables["invoices"]}
    for line in tables["invoice_lines"]:
        invoices_by_id[line["invoice_id"]]["lines"].append(line)
    return {
        "format": EXPORT_FORMAT,
        "format_version": EXPORT_FORMAT_VERSION,
        "application_version": _app_version,
        "exported_at": now,
        "exported_by": ctx.operator.email,
        "account": _account_record(session, account),
        "contacts": tables["contacts"],
        "subscriptions": tables["subscriptions"],
        "licence_assignments": tables["licence_assignments"],
        "payment_methods": tables["payment_methods"],
        "invoices": list(invoices_by_id.values()),
        "payments": tables["payments"],
        "credits": tables["credits"],
        "emails": tables["emails"],
    }


# --------------------------------------------------------------------------- the accounts list

#: Columns of :func:`export_accounts_csv`, in order (the Accounts view's columns).
ACCOUNT_LIST_COLUMNS = (
    "account_id", "company_name", "type", "country", "representative",
    "active_subscriptions", "balance", "currency", "status",
)  # fmt: skip

#: Accounts read (and written) per query.
ACCOUNT_LIST_PAGE = 1000


class ExportCancelled(Exception):
    """The user cancelled the export; no file was written."""


@dataclass(frozen=True, slots=True)
class AccountsExport:
    """A finished accounts-list export."""

    path: Path
    rows: int


def _account_list_row(row: AccountRow) -> list[str]:
    return [
        row.account_number,
        row.company_name,
        row.type,
        row.country,
        row.representative or "",
        str(row.active_subscriptions),
        str(Money.from_minor(row.outstanding_minor, row.currency).amount),
        row.currency,
        row.status,
    ]


def export_accounts_csv(
    ctx: AppContext,
    path: str | os.PathLike[str],
    flt: AccountFilter,
    sort: AccountSort = AccountSort.COMPANY,
    descending: bool = False,
    *,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    page_size: int = ACCOUNT_LIST_PAGE,
) -> AccountsExport:
    """Write the accounts matching ``flt``, sorted like the list, to the CSV file ``path``.

    ``progress(done, total)`` is called before the first page and after each
    one; ``cancelled()`` is polled before each page and raises
    :class:`ExportCancelled` when it says so. The file is written next to
    ``path`` under a temporary name and moved into place at the end, so a
    cancelled or failed export leaves no partial file (and an existing file
    is only replaced by a complete one). Any role may export the list.
    """
    from billing_desktop.services.accounts import count_accounts, list_accounts

    authorize(ctx, Action.VIEW)
    target = Path(path).expanduser()
    if not target.parent.is_dir():
        raise ExportFailed(target, "the folder does not exist.")
    partial = target.with_name(f".{target.name}.part")
    total = count_accounts(ctx, flt)
    done = 0
    try:
        if progress:
            progress(0, total)
        try:
            with partial.open("w", encoding="utf-8", newline="") as stream:
                writer = csv.writer(stream, lineterminator="\r\n")
                writer.writerow(ACCOUNT_LIST_COLUMNS)
                after: tuple[Any, int] | None = None
                while True:
                    if cancelled is not None and cancelled():
                        raise ExportCancelled()
                    page = list_accounts(ctx, flt, sort, descending, after=after, limit=page_size)
                    writer.writerows(_account_list_row(row) for row in page)
                    done += len(page)
                    if progress:
                        progress(done, max(total, done))
                    if len(page) < page_size:
                        break
                    after = (page[-1].sort_key, page[-1].id)
        except OSError as exc:
            raise ExportFailed(target, exc.strerror or str(exc)) from exc
        if cancelled is not None and cancelled():
            raise ExportCancelled()
        with ctx.db.transaction() as session:
            audit.record(
                session,
                ctx,
                "accounts.exported",
                None,
                None,
                {
                    "file": str(target),
                    "rows": done,
                    "filter": {
                        "text": flt.text,
                        "type": flt.type,
                        "country": flt.country,
                        "representative_id": flt.representative_id,
                        "overdue_only": flt.overdue_only,
                    },
                    "sort": sort.value,
                    "descending": descending,
                },
            )
        try:
            os.replace(partial, target)
        except OSError as exc:
            raise ExportFailed(target, exc.strerror or str(exc)) from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return AccountsExport(target, done)
