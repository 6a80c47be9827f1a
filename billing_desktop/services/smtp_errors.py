"""Why an email could not be sent, in words the user's language can say.

One classifier, :func:`smtp_failure`, turns an SMTP or network error into a
:class:`SmtpFailure`: a stable ``code``, an English template marked for
lupdate in the "ServiceError" context and its ``params`` (what the server
itself answered, "535 5.7.8 Authentication failed", is passed on as it came,
as a value). The Settings dialog's test email raises it
(:mod:`billing_desktop.services.smtp_check`); a delivery run
(:mod:`billing_desktop.services.smtp`) stores it in ``emails.last_error``.

Stored form (:func:`stored_error`): a small JSON object
``{"key": code, "params": {...}, "text": English sentence}``, so the outbox
shows the reason in whatever language the operator uses when reading it,
not the one of the moment it failed. ``text`` is the fallback for a key this
version does not know (written by a newer one). A row written by an older
version holds a plain English sentence: it is shown as it is.

:func:`last_error_text` is the one way to show a stored ``last_error``: the
UI passes Qt's translator (``QCoreApplication.translate``), the account
export none (English). No Qt and no smtplib are imported here: the Emails
view imports this module at start-up.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from billing_desktop.domain.text import QT_TRANSLATE_NOOP
from billing_desktop.services.errors import ServiceError

if TYPE_CHECKING:
    from billing_desktop.services.smtp import SmtpSettings

__all__ = [
    "MESSAGES",
    "SmtpFailure",
    "last_error_text",
    "smtp_failure",
    "stored_error",
    "stored_failure",
    "timed_out",
]

# the translation context of every message below
CONTEXT = "ServiceError"

MESSAGES: dict[str, str] = {
    "smtp_timeout": QT_TRANSLATE_NOOP(
        "ServiceError", "The server {server} did not answer within {seconds} seconds."
    ),
    "smtp_login_refused": QT_TRANSLATE_NOOP(
        "ServiceError", "The server {server} refused the user name or password ({reply})."
    ),
    "smtp_recipient_refused": QT_TRANSLATE_NOOP(
        "ServiceError", "The server refused the recipient {address} ({reply})."
    ),
    "smtp_sender_refused": QT_TRANSLATE_NOOP(
        "ServiceError", "The server refused the sender address {address} ({reply})."
    ),
    "smtp_not_supported": QT_TRANSLATE_NOOP(
        "ServiceError",
        "The server {server} does not support the chosen connection security or login ({detail}).",
    ),
    "smtp_disconnected": QT_TRANSLATE_NOOP(
        "ServiceError", "The server {server} closed the connection ({detail})."
    ),
    "smtp_refused": QT_TRANSLATE_NOOP("ServiceError", "The server {server} answered {reply}."),
    "smtp_tls_failed": QT_TRANSLATE_NOOP(
        "ServiceError", "The secure connection to {server} failed ({detail})."
    ),
    "smtp_unknown_host": QT_TRANSLATE_NOOP(
        "ServiceError", "The server name {host} cannot be found ({detail})."
    ),
    "smtp_connection_refused": QT_TRANSLATE_NOOP(
        "ServiceError",
        "Nothing answers at {server}. Check that the mail server is running and that "
        "the server name and port are right.",
    ),
    "smtp_unreachable": QT_TRANSLATE_NOOP("ServiceError", "Cannot connect to {server} ({detail})."),
    "smtp_failed": QT_TRANSLATE_NOOP("ServiceError", "Sending failed ({detail})."),
    "smtp_no_recipient": QT_TRANSLATE_NOOP("ServiceError", "The email has no recipient address."),
}


class SmtpFailure(ServiceError):
    """The mail server could not be used or refused the message."""


def failure(code: str, **params: object) -> SmtpFailure:
    """The :class:`SmtpFailure` of ``code`` (a key of :data:`MESSAGES`)."""
    return SmtpFailure(code, MESSAGES[code], params)


# --------------------------------------------------------------------------- classifying


def timed_out(exc: BaseException) -> bool:
    """Whether ``exc`` means the server did not answer within the timeout.

    smtplib reports a timeout while waiting for a reply as
    ``SMTPServerDisconnected("Connection unexpectedly closed: timed out")``
    raised while handling the ``TimeoutError``: a slow server, not one that
    hung up.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, TimeoutError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def reply_text(code: int, message: bytes | str) -> str:
    """A server's reply as it came: "550 5.1.1 No such user here"."""
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return f"{code} {text}".strip()


def _reply(exc: Any) -> str:
    return reply_text(exc.smtp_code, exc.smtp_error)


def _detail(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text).strip().rstrip(".")


def smtp_failure(exc: BaseException, settings: SmtpSettings) -> SmtpFailure:
    """The translatable explanation of an SMTP or network error met with ``settings``."""
    import smtplib
    import socket
    import ssl

    server = f"{settings.host}:{settings.port}"
    if timed_out(exc):  # smtplib words it as "closed the connection"
        return failure("smtp_timeout", server=server, seconds=settings.timeout)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return failure("smtp_login_refused", server=server, reply=_reply(exc))
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        # every recipient was refused (else the email went out): name them all
        refused = exc.recipients.items()
        replies = dict.fromkeys(reply_text(code, message) for _addr, (code, message) in refused)
        return failure(
            "smtp_recipient_refused",
            address=", ".join(str(addr) for addr, _reply in refused),
            reply="; ".join(replies),
        )
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return failure("smtp_sender_refused", address=str(exc.sender), reply=_reply(exc))
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return failure("smtp_not_supported", server=server, detail=_detail(exc))
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return failure("smtp_disconnected", server=server, detail=_detail(exc))
    if isinstance(exc, smtplib.SMTPResponseException):
        return failure("smtp_refused", server=server, reply=_reply(exc))
    if isinstance(exc, ssl.SSLError):
        return failure("smtp_tls_failed", server=server, detail=str(exc.reason or exc))
    if isinstance(exc, socket.gaierror):
        return failure("smtp_unknown_host", host=settings.host, detail=_detail(exc))
    if isinstance(exc, ConnectionRefusedError):
        return failure("smtp_connection_refused", server=server)
    if isinstance(exc, OSError):
        return failure("smtp_unreachable", server=server, detail=_detail(exc))
    return failure("smtp_failed", detail=_detail(exc))


# --------------------------------------------------------------------------- stored form


def _plain(value: object) -> object:
    return value if isinstance(value, str | int) and not isinstance(value, bool) else str(value)


def stored_error(err: SmtpFailure) -> str:
    """``err`` as ``emails.last_error`` holds it (see the module docstring)."""
    params = {key: _plain(value) for key, value in err.params.items()}
    return json.dumps(
        {"key": err.code, "params": params, "text": str(err)},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def stored_failure(stored: str | None) -> SmtpFailure | None:
    """The :class:`SmtpFailure` a stored ``last_error`` holds; None for nothing or for
    an older version's plain sentence (or anything else that is not the stored form)."""
    if not stored or not stored.startswith("{"):
        return None
    try:
        data = json.loads(stored)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    key, params = data.get("key"), data.get("params")
    if not isinstance(key, str) or not isinstance(params, dict):
        return None
    message = MESSAGES.get(key)
    if message is None:  # a reason a newer version knows: its English words
        text = data.get("text")
        return SmtpFailure(key, str(text) if text else key, {})
    return SmtpFailure(key, message, params)


def last_error_text(stored: str | None, translate: Callable[[str, str], str] | None = None) -> str:
    """The sentence to show for a stored ``last_error`` ("" for none).

    ``translate(context, source)`` gives a source sentence in the user's
    language (the UI passes ``QCoreApplication.translate``); without it the
    sentence is English (exports, logs). An older version's plain text is
    returned as it is.
    """
    err = stored_failure(stored)
    if err is None:
        return stored or ""
    if err.code not in MESSAGES:  # a newer version's reason, in its English words
        return err.message
    template = err.message if translate is None else translate(CONTEXT, err.message)
    try:
        return template.format(**err.params)
    except (KeyError, IndexError, ValueError, AttributeError):
        try:  # a broken translation: the English sentence rather than nothing
            return err.message.format(**err.params)
        except (KeyError, IndexError, ValueError, AttributeError):
            return err.message
