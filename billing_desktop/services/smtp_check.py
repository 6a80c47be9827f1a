"""Sending one test email with SMTP settings that may not be saved yet (Settings dialog).

The Settings dialog's "Send test email" calls :func:`send_test_email` in a
worker thread with the values on screen, so an operator can check a server
before saving it. It talks to the server exactly as a delivery run does
(:func:`billing_desktop.services.smtp._connect`: same security, login and
timeout), stores nothing and touches no email of the outbox.

A failure raises :class:`SmtpFailure`, a translatable error whose message
says what went wrong in the user's language; what the server itself answered
("535 5.7.8 Authentication failed") is passed on as it came, as a value.
"""

from __future__ import annotations

import dataclasses
import logging
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid
from typing import TYPE_CHECKING

from billing_desktop.domain.errors import ValidationError
from billing_desktop.domain.text import QT_TRANSLATE_NOOP
from billing_desktop.services.auth import Action, authorize
from billing_desktop.services.errors import ServiceError
from billing_desktop.services.smtp import (
    _ADDRESS,
    SmtpFactory,
    SmtpSettings,
    _close,
    _connect,
    _reply,
    _reply_parts,
    _ServerError,
    timed_out,
    validate_smtp_settings,
)

if TYPE_CHECKING:
    from billing_desktop.services.context import AppContext

__all__ = ["TEST_TIMEOUT_SECONDS", "SmtpFailure", "send_test_email", "smtp_failure"]

log = logging.getLogger("billing_desktop.smtp")

#: A test waits at most this long for the server, whatever the settings say.
TEST_TIMEOUT_SECONDS = 15


class SmtpFailure(ServiceError):
    """The mail server could not be used or refused the message; nothing was stored."""


def _failure(code: str, message: str, **params: object) -> SmtpFailure:
    return SmtpFailure(code, message, params)


def _detail(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text).strip().rstrip(".")


def smtp_failure(exc: BaseException, settings: SmtpSettings) -> SmtpFailure:
    """The translatable explanation of an SMTP or network error (what ``_describe``
    says in English for the outbox's ``last_error``)."""
    server = f"{settings.host}:{settings.port}"
    if timed_out(exc):  # smtplib words it as "closed the connection"
        return _failure(
            "smtp_timeout",
            QT_TRANSLATE_NOOP(
                "ServiceError", "The server {server} did not answer within {seconds} seconds."
            ),
            server=server,
            seconds=settings.timeout,
        )
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return _failure(
            "smtp_login_refused",
            QT_TRANSLATE_NOOP(
                "ServiceError", "The server {server} refused the user name or password ({reply})."
            ),
            server=server,
            reply=_reply(exc),
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        address, (code, message) = next(iter(exc.recipients.items()))
        return _failure(
            "smtp_recipient_refused",
            QT_TRANSLATE_NOOP(
                "ServiceError", "The server refused the recipient {address} ({reply})."
            ),
            address=address,
            reply=_reply_parts(code, message),
        )
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return _failure(
            "smtp_sender_refused",
            QT_TRANSLATE_NOOP(
                "ServiceError", "The server refused the sender address {address} ({reply})."
            ),
            address=str(exc.sender),
            reply=_reply(exc),
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return _failure(
            "smtp_not_supported",
            QT_TRANSLATE_NOOP(
                "ServiceError",
                "The server {server} does not support the chosen connection security or login "
                "({detail}).",
            ),
            server=server,
            detail=_detail(exc),
        )
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return _failure(
            "smtp_disconnected",
            QT_TRANSLATE_NOOP(
                "ServiceError", "The server {server} closed the connection ({detail})."
            ),
            server=server,
            detail=_detail(exc),
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        return _failure(
            "smtp_refused",
            QT_TRANSLATE_NOOP("ServiceError", "The server {server} answered {reply}."),
            server=server,
            reply=_reply(exc),
        )
    if isinstance(exc, ssl.SSLError):
        return _failure(
            "smtp_tls_failed",
            QT_TRANSLATE_NOOP(
                "ServiceError", "The secure connection to {server} failed ({detail})."
            ),
            server=server,
            detail=str(exc.reason or exc),
        )
    if isinstance(exc, socket.gaierror):
        return _failure(
            "smtp_unknown_host",
            QT_TRANSLATE_NOOP("ServiceError", "The server name {host} cannot be found ({detail})."),
            host=settings.host,
            detail=_detail(exc),
        )
    if isinstance(exc, ConnectionRefusedError):
        return _failure(
            "smtp_connection_refused",
            QT_TRANSLATE_NOOP(
                "ServiceError",
                "Nothing answers at {server}. Check that the mail server is running and that "
                "the server name and port are right.",
            ),
            server=server,
        )
    if isinstance(exc, OSError):
        return _failure(
            "smtp_unreachable",
            QT_TRANSLATE_NOOP("ServiceError", "Cannot connect to {server} ({detail})."),
            server=server,
            detail=_detail(exc),
        )
    return _failure(
        "smtp_failed",
        QT_TRANSLATE_NOOP("ServiceError", "Sending failed ({detail})."),
        detail=_detail(exc),
    )


def _check(settings: SmtpSettings, to_address: str) -> SmtpSettings:
    clean = validate_smtp_settings(settings)
    if not clean.host:
        raise ValidationError(
            "smtp_host_missing",
            QT_TRANSLATE_NOOP("ServiceError", "Enter the name of the mail server first."),
        )
    address = to_address.strip()
    if not _ADDRESS.match(address):
        raise ValidationError(
            "smtp_test_address_invalid",
            QT_TRANSLATE_NOOP(
                "ServiceError", "{address} is not a valid email address for the test email."
            ),
            address=address,
        )
    return dataclasses.replace(clean, timeout=min(clean.timeout, TEST_TIMEOUT_SECONDS))


def send_test_email(
    ctx: AppContext,
    settings: SmtpSettings,
    to_address: str,
    *,
    subject: str,
    body: str,
    smtp_factory: SmtpFactory | None = None,
) -> None:
    """Send one message with ``settings`` (saved or not) to ``to_address``; wait for the answer.

    ``subject`` and ``body`` come translated from the caller. Allowed to the
    roles that send emails. Raises :class:`ValidationError` for unusable
    settings or address and :class:`SmtpFailure` when the server cannot be
    reached or refuses; nothing is stored either way. Waits at most
    :data:`TEST_TIMEOUT_SECONDS` for each answer of the server.
    """
    authorize(ctx, Action.SEND_EMAILS)
    clean = _check(settings, to_address)
    address = to_address.strip()
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["From"] = clean.from_address
    msg["To"] = address
    msg["Subject"] = subject
    msg["Date"] = format_datetime(ctx.clock.now().astimezone())
    msg["Message-ID"] = make_msgid("smtp-test", domain=clean.from_address.rpartition("@")[2])
    msg["X-Billing-Desktop-Test"] = "yes"
    msg.set_content(body, charset="utf-8", cte="quoted-printable")
    try:
        server = _connect(clean, smtp_factory)
    except _ServerError as err:
        cause = err.__cause__ or err
        log.info("test email: server unusable: %s", err)
        raise smtp_failure(cause, clean) from cause
    try:
        server.send_message(msg, from_addr=clean.from_address, to_addrs=[address])
    except (OSError, smtplib.SMTPException) as exc:
        log.info("test email refused: %s", exc)
        raise smtp_failure(exc, clean) from exc
    finally:
        _close(server)
    log.info("test email sent to %s through %s:%d", address, clean.host, clean.port)
