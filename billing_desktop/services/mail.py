"""The outbox: every email a customer would receive, rendered in the account's language.

Services call :func:`queue_email` inside their transaction with a kind and the
values the message needs; the text comes from a :class:`Renderer`. The
application injects a renderer that translates with Qt's translator for the
account's language (``billing_desktop.documents``); without one, the plain
English renderer here is used, so the service layer never needs Qt.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from billing_desktop.services.context import AppContext
    from billing_desktop.store.models import Account, Email


class EmailKind(StrEnum):
    ORDER_PLACED = "order_placed"
    CANCELLATION_CONFIRMED = "cancellation_confirmed"
    REACTIVATED = "reactivated"
    TRIAL_ENDING = "trial_ending"
    TRIAL_ENDED = "trial_ended"
    RENEWAL_INVOICE = "renewal_invoice"
    PAYMENT_RECEIVED = "payment_received"


class Renderer(Protocol):
    """Turns an email kind and its values into (subject, body) in a language."""

    def email(self, kind: EmailKind, language: str, params: Mapping[str, Any]) -> tuple[str, str]:
        ...


_PLAIN: dict[EmailKind, tuple[str, str]] = {
    EmailKind.ORDER_PLACED: (
        "Your order {order_number} is confirmed",
        "Hello {contact_name},\n\nthank you for your order {order_number}.\n\n{summary}\n\n"
        "Invoice {invoice_number}: {total} (amount due now: {amount_due}).\n"
        "Your next billing date is {next_billing_date}.\n",
    ),
    EmailKind.CANCELLATION_CONFIRMED: (
        "Your {product} subscription has been cancelled",
        "Hello {contact_name},\n\nwe have cancelled the automatic renewal of your {product} "
        "subscription. It stays active until {expiry_date}.\n"
        "You can reactivate it at any time before then.\n",
    ),
    EmailKind.REACTIVATED: (
        "Your {product} subscription has been reactivated",
        "Hello {contact_name},\n\nyour {product} subscription will renew automatically again. "
        "Your next billing date is {next_billing_date}.\n",
    ),
    EmailKind.TRIAL_ENDING: (
        "Your {product} trial ends on {trial_end}",
        "Hello {contact_name},\n\nyour free {product} trial ends on {trial_end}. "
        "Subscribe before then to keep using it.\n",
    ),
    EmailKind.TRIAL_ENDED: (
        "Your {product} trial has ended",
        "Hello {contact_name},\n\nyour free {product} trial ended on {trial_end}. "
        "Nothing was charged. You can subscribe at any time.\n",
    ),
    EmailKind.RENEWAL_INVOICE: (
        "Invoice {invoice_number} for your {product} subscription",
        "Hello {contact_name},\n\nyour {product} subscription has renewed for "
        "{period_start} – {period_end}.\nInvoice {invoice_number}: {total}. {payment_note}\n",
    ),
    EmailKind.PAYMENT_RECEIVED: (
        "Payment received: {amount}",
        "Hello {contact_name},\n\nwe have received your payment of {amount} for "
        "{invoice_numbers}. Thank you.\n",
    ),
}


class PlainRenderer:
    """English text with the values filled in (used when no translator is injected)."""

    def email(self, kind: EmailKind, language: str, params: Mapping[str, Any]) -> tuple[str, str]:
        subject, body = _PLAIN[EmailKind(kind)]
        values = {k: str(v) for k, v in params.items()}
        return subject.format(**values), body.format(**values)


def queue_email(
    session: Session,
    ctx: AppContext,
    account: Account,
    kind: EmailKind,
    params: Mapping[str, Any],
    *,
    to_address: str | None = None,
) -> Email:
    """Render and store one email for ``account``'s billing contact (or ``to_address``).

    The email is written in the caller's transaction, so it exists exactly when
    the change it confirms exists. Delivery happens later (outbox).
    """
    from billing_desktop.store.models import Email

    billing = next((c for c in account.contacts if c.is_billing_contact), None)
    address = to_address or (billing.email if billing else "")
    language = account.language  # SPEC §2: customer documents in the account's language
    values = {"contact_name": billing.full_name if billing else "", **params}
    renderer: Renderer = getattr(ctx, "renderer", None) or PlainRenderer()
    subject, body = renderer.email(kind, language, values)
    email = Email(
        account_id=account.id,
        kind=EmailKind(kind).value,
        to_address=address,
        cc_addresses="",
        subject=subject,
        body_text=body,
        language=language,
        status="queued",
        created_at=ctx.clock.now(),
        attempts=0,
    )
    session.add(email)
    return email
