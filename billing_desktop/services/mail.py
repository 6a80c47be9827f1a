"""The outbox: every email a customer would receive, rendered in the account's language.

Services call :func:`queue_email` inside their transaction with a kind and the
values the message needs; the text comes from a :class:`Renderer`. The
application injects a renderer that translates with Qt's translator for the
account's language (``billing_desktop.documents.QtRenderer``); without one, the
plain English renderer here is used, so the service layer never needs Qt.
Delivery over SMTP is :mod:`billing_desktop.services.smtp`.

Templates (SPEC §2, DESIGN habit 7): each subject and body is one English
source text marked with ``QT_TRANSLATE_NOOP("Email", …)`` so lupdate extracts
it as a whole sentence with ``{named}`` placeholders. Pass *values*, not
prose: ``Money``, ``date``, ``Period``, numbers, names and numbers of things.
The renderer formats them for the account's locale; an English sentence
passed as a value would stay English in an Italian email.

Values per kind (besides ``contact_name``, ``account_number`` and
``company_name``, which :func:`queue_email` adds):

==========================  ==============================================================
kind                        values
==========================  ==============================================================
``order_placed``            order_number, invoice_number, total, amount_due (Money),
                            next_billing_date (date), summary (text or a list of lines)
``cancellation_confirmed``  product, expiry_date
``reactivated``             product, next_billing_date
``trial_ending``            product, trial_end
``trial_ended``             product, trial_end
``renewal_invoice``         product, period (Period; or period_start + the exclusive
                            period_end as stored), invoice_number, total, and either
                            charged_to ("Visa •••• 4242": paid by autopay) or due_date
                            (left open); amount_due optional
``payment_received``        amount, invoice_numbers (a list; empty: all to credit), to_credit
==========================  ==============================================================

A missing value renders as an empty string (logged), never as an error: an
email must not make the change it confirms fail.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum, StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from billing_desktop.domain.money import Money
from billing_desktop.domain.periods import Period
from billing_desktop.domain.text import QT_TRANSLATE_NOOP

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from billing_desktop.services.context import AppContext
    from billing_desktop.store.models import Account, Email

log = logging.getLogger("billing_desktop.mail")

#: Translation context of every email text (``QCoreApplication.translate("Email", …)``).
EMAIL_CONTEXT = "Email"


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


# --------------------------------------------------------------------------- templates

_SUBJECTS: dict[EmailKind, str] = {
    EmailKind.ORDER_PLACED: QT_TRANSLATE_NOOP("Email", "Your order {order_number} is confirmed"),
    EmailKind.CANCELLATION_CONFIRMED: QT_TRANSLATE_NOOP(
        "Email", "Your {product} subscription has been cancelled"
    ),
    EmailKind.REACTIVATED: QT_TRANSLATE_NOOP(
        "Email", "Your {product} subscription has been reactivated"
    ),
    EmailKind.TRIAL_ENDING: QT_TRANSLATE_NOOP("Email", "Your {product} trial ends on {trial_end}"),
    EmailKind.TRIAL_ENDED: QT_TRANSLATE_NOOP("Email", "Your {product} trial has ended"),
    EmailKind.RENEWAL_INVOICE: QT_TRANSLATE_NOOP(
        "Email", "Invoice {invoice_number} for your {product} subscription"
    ),
    EmailKind.PAYMENT_RECEIVED: QT_TRANSLATE_NOOP("Email", "Payment received: {amount}"),
}

#: Bodies; a kind may have variants chosen by :func:`template_for` from its values.
_BODIES: dict[tuple[EmailKind, str], str] = {
    (EmailKind.ORDER_PLACED, ""): QT_TRANSLATE_NOOP(
        "Email",
        "Hello {contact_name},\n\n"
        "thank you for your order {order_number}.\n\n"
        "{summary}\n\n"
        "Invoice {invoice_number}: {total} (amount due now: {amount_due}).\n"
        "Your next billing date is {next_billing_date}.\n",
    ),
    (EmailKind.CANCELLATION_CONFIRMED, ""): QT_TRANSLATE_NOOP(
        "Email",
        "Hello {contact_name},\n\n"
        "we have cancelled the automatic renewal of your {product} subscription. "
        "It stays active until {expiry_date}.\n"
        "You can reactivate it at any time before then.\n",
    ),
    (EmailKind.REACTIVATED, ""): QT_TRANSLATE_NOOP(
        "Email",
        "Hello {contact_name},\n\n"
        "your {product} subscription will renew automatically again. "
        "Your next billing date is {next_billing_date}.\n",
    ),
    (EmailKind.TRIAL_ENDING, ""): QT_TRANSLATE_NOOP(
        "Email",
        "Hello {contact_name},\n\n"
        "your free {product} trial ends on {trial_end}. "
        "Subscribe before then to keep using it.\n",
    ),
    (EmailKind.TRIAL_ENDED, ""): QT_TRANSLATE_NOOP(
        "Email",
        "Hello {contact_name},\n\n"
        "your free {product} trial ended on {trial_end}. "
        "Nothing was charged. You can subscribe at any time.\n",
    ),
    (EmailKind.RENEWAL_INVOICE, "charged"): QT_TRANSLATE_NOOP(
        "Email",
        "Hello {contact_name},\n\n"
        "your {product} subscription has renewed for the period {period}.\n"
        "Invoice {invoice_number}: {total}. The amount has been charged to {charged_to}.\n",
    ),
    (EmailKind.RENEWAL_INVOICE, "open"): QT_TRANSLATE_NOOP(
        "Email",
        "Hello {contact_name},\n\n"
        "your {product} subscription has renewed for the period {period}.\n"
        "Invoice {invoice_number}: {total}. Please pay {amount_due} by {due_date}.\n",
    ),
    (EmailKind.RENEWAL_INVOICE, ""): QT_TRANSLATE_NOOP(
        "Email",
        "Hello {contact_name},\n\n"
        "your {product} subscription has renewed for the period {period}.\n"
        "Invoice {invoice_number}: {total}. It has been paid from your account credit; "
        "nothing is due.\n",
    ),
    (EmailKind.PAYMENT_RECEIVED, ""): QT_TRANSLATE_NOOP(
        "Email",
        "Hello {contact_name},\n\n"
        "we have received your payment of {amount} for {invoice_numbers}. Thank you.\n",
    ),
    (EmailKind.PAYMENT_RECEIVED, "credit"): QT_TRANSLATE_NOOP(
        "Email",
        "Hello {contact_name},\n\n"
        "we have received your payment of {amount}. It has been added to your account "
        "credit and will pay your next invoices. Thank you.\n",
    ),
    (EmailKind.PAYMENT_RECEIVED, "mixed"): QT_TRANSLATE_NOOP(
        "Email",
        "Hello {contact_name},\n\n"
        "we have received your payment of {amount} for {invoice_numbers}; {to_credit} of it "
        "has been added to your account credit. Thank you.\n",
    ),
}

#: Appended to every body.
SIGNATURE = QT_TRANSLATE_NOOP(
    "Email", "\nKind regards,\nYour billing team\n\nAccount {account_number} · {company_name}\n"
)


def template_for(kind: EmailKind | str, params: Mapping[str, Any]) -> tuple[str, str]:
    """The English (subject, body) source texts for ``kind`` with these values.

    The body includes the signature; both are untranslated and unformatted.
    """
    kind = EmailKind(kind)
    variant = ""
    if kind is EmailKind.RENEWAL_INVOICE:
        if params.get("charged_to"):
            variant = "charged"
        elif params.get("due_date"):
            variant = "open"
        # otherwise nothing was charged and nothing is due: account credit paid it
    elif kind is EmailKind.PAYMENT_RECEIVED:
        to_credit = params.get("to_credit")
        has_credit = to_credit is not None and getattr(to_credit, "is_positive", False)
        if not params.get("invoice_numbers"):
            variant = "credit"
        elif has_credit:
            variant = "mixed"
    return _SUBJECTS[kind], _BODIES[(kind, variant)]


def template_values(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` with derived values added (``period`` from ``period_start``/``period_end``)."""
    values = dict(params)
    if "period" not in values:
        start, end = values.get("period_start"), values.get("period_end")
        if isinstance(start, date) and isinstance(end, date) and end > start:
            values["period"] = Period(start, end)
    if "amount_due" not in values and "total" in values:
        values["amount_due"] = values["total"]
    return values


class _Missing(dict[str, str]):
    """Format mapping that renders a missing placeholder as an empty string."""

    def __missing__(self, key: str) -> str:
        log.warning("email template value %r missing; rendered empty", key)
        return ""


def fill(template: str, values: Mapping[str, str]) -> str:
    """``template`` with ``{named}`` placeholders replaced; never raises for bad values.

    A malformed translation (unbalanced braces, a positional ``{0}``) falls back
    to the text with its placeholders left in place rather than failing.
    """
    try:  # what ``string.Formatter().vformat`` does, in C
        return template.format_map(values if isinstance(values, _Missing) else _Missing(values))
    except (ValueError, IndexError, KeyError, AttributeError):
        log.warning("cannot fill email template %r", template)
        return template


def plain_value(value: Any) -> str:
    """Locale-neutral text for a value (the fallback renderer's formatting)."""
    if isinstance(value, Money):
        return f"{value.amount:,} {value.currency}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Period):
        return f"{value.start.isoformat()} – {value.last_day.isoformat()}"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, list | tuple):
        return ", ".join(plain_value(v) for v in value) if value else ""
    if value is None:
        return ""
    return str(value)


def _summary_text(value: Any, convert: Any) -> str:
    """An order summary: a list of lines becomes one line each."""
    if isinstance(value, list | tuple):
        return "\n".join(convert(v) for v in value)
    return convert(value)


def tidy(text: str) -> str:
    """No trailing spaces on a line (left by an empty optional value)."""
    return "\n".join(line.rstrip() for line in text.split("\n"))


class PlainRenderer:
    """English text with the values filled in (used when no translator is injected)."""

    def email(self, kind: EmailKind, language: str, params: Mapping[str, Any]) -> tuple[str, str]:
        subject, body = template_for(kind, params)
        values = {k: plain_value(v) for k, v in template_values(params).items()}
        if "summary" in params:
            values["summary"] = _summary_text(params["summary"], plain_value)
        return fill(subject, values).strip(), tidy(fill(body + SIGNATURE, values))


def email_row(
    ctx: AppContext,
    account: Account,
    kind: EmailKind,
    params: Mapping[str, Any],
    *,
    to_address: str | None = None,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """The outbox row of one email for ``account``'s billing contact (or ``to_address``).

    ``account`` is the ORM account or any object with its ``id``, ``account_number``,
    ``company_name``, ``language`` and ``contacts``. A renderer that fails falls back
    to the plain English text (logged): the customer's change is never refused
    because of an email.
    """
    billing = next((c for c in account.contacts if c.is_billing_contact), None)
    address = to_address or (billing.email if billing else "")
    language = account.language  # SPEC §2: customer documents in the account's language
    values = {
        "contact_name": billing.full_name if billing else "",
        "account_number": account.account_number,
        "company_name": account.company_name,
        **params,
    }
    renderer: Renderer = getattr(ctx, "renderer", None) or PlainRenderer()
    try:
        subject, body = renderer.email(kind, language, values)
    except Exception:
        log.exception("rendering a %s email in %r failed; using plain English", kind, language)
        subject, body = PlainRenderer().email(kind, language, values)
    return {
        "account_id": account.id,
        "kind": EmailKind(kind).value,
        "to_address": address,
        "cc_addresses": "",
        "subject": subject[:300],
        "body_text": body,
        "language": language,
        "status": "queued",
        "created_at": ctx.clock.now() if created_at is None else created_at,
        "attempts": 0,
    }


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
    the change it confirms exists. Delivery happens later (outbox). See
    :func:`email_row`.
    """
    from billing_desktop.store.models import Email

    email = Email(**email_row(ctx, account, kind, params, to_address=to_address))
    session.add(email)
    return email
