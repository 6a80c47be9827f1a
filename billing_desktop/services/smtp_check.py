"""Sending one test email with SMTP settings that may not be saved yet (Settings dialog).

The Settings dialog's "Send test email" calls :func:`send_test_email` in a
worker thread with the values on screen, so an operator can check a server
before saving it. It talks to the server exactly as a delivery run does
(:func:`billing_desktop.services.smtp._connect`: same security, login and
timeout), stores nothing and touches no email of the outbox.

A failure raises :class:`SmtpFailure`, a translatable error whose message
says what went wrong in the user's language; what the server itself answered
("535 5.7.8 Authentication failed") is passed on as it came, as a value. The
classifier, :func:`smtp_failure`, is the one a delivery run uses for the
outbox's ``last_error`` (:mod:`billing_desktop.services.smtp_errors`).
"""

from __future__ import annotations

import dataclasses
import logging
import smtplib
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid
from typing import TYPE_CHECKING

from billing_desktop.domain.errors import ValidationError
from billing_desktop.domain.text import QT_TRANSLATE_NOOP
from billing_desktop.services.auth import Action, authorize
from billing_desktop.services.smtp import (
    _ADDRESS,
    SmtpFactory,
    SmtpSettings,
    _close,
    _connect,
    _ServerError,
    validate_smtp_settings,
)
from billing_desktop.services.smtp_errors import SmtpFailure, smtp_failure

if TYPE_CHECKING:
    from billing_desktop.services.context import AppContext

__all__ = ["TEST_TIMEOUT_SECONDS", "SmtpFailure", "send_test_email", "smtp_failure"]

log = logging.getLogger("billing_desktop.smtp")

#: A test waits at most this long for the server, whatever the settings say.
TEST_TIMEOUT_SECONDS = 15


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
        log.info("test email: server unusable: %s", err.failure)
        raise err.failure from cause
    try:
        server.send_message(msg, from_addr=clean.from_address, to_addrs=[address])
    except (OSError, smtplib.SMTPException) as exc:
        log.info("test email refused: %s", exc)
        raise smtp_failure(exc, clean) from exc
    finally:
        _close(server)
    log.info("test email sent to %s through %s:%d", address, clean.host, clean.port)
