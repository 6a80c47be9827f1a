"""The Settings dialog's test email, against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import smtplib
import socket
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from helpers import SENDER, free_port, smtp_settings

from billing_desktop.services.errors import PermissionDenied, ValidationError
from billing_desktop.services.smtp import SmtpSecurity, SmtpSettings, load_smtp_settings
from billing_desktop.services.smtp_check import SmtpFailure, send_test_email, smtp_failure


def send(ctx, smtp: SmtpSettings, to: str = "ops@billing-desk.example") -> None:
    send_test_email(ctx, smtp, to, subject="Prova — test", body="Ciao, è un test.\n")


def test_the_test_email_arrives_and_nothing_is_stored(ctx, smtp_server) -> None:
    port, handler = smtp_server.port, smtp_server.handler
    before = load_smtp_settings(ctx)
    send(ctx, smtp_settings(port))
    assert len(handler.envelopes) == 1
    envelope = handler.envelopes[0]
    assert envelope.mail_from == SENDER
    assert envelope.rcpt_tos == ["ops@billing-desk.example"]
    msg = message_from_bytes(envelope.content, policy=default_policy)
    assert msg["Subject"] == "Prova — test"
    assert msg["X-Billing-Desktop-Test"] == "yes"
    assert msg.get_content().replace("\r\n", "\n") == "Ciao, è un test.\n"
    assert load_smtp_settings(ctx) == before  # the settings on screen were not saved
    assert ctx.db.reader.scalar("SELECT COUNT(*) FROM emails") == 0


def test_a_refused_recipient_says_what_the_server_answered(ctx, smtp_server) -> None:
    port = smtp_server.port
    with pytest.raises(SmtpFailure) as err:
        send(ctx, smtp_settings(port), to="refuse@billing-desk.example")
    assert err.value.code == "smtp_recipient_refused"
    assert str(err.value) == (
        "The server refused the recipient refuse@billing-desk.example "
        "(550 5.1.1 No such user here)."
    )


def test_nothing_listening_is_explained(ctx) -> None:
    port = free_port()
    with pytest.raises(SmtpFailure) as err:
        send(ctx, smtp_settings(port))
    assert err.value.code == "smtp_connection_refused"
    assert err.value.params == {"server": f"127.0.0.1:{port}"}


def test_starttls_on_a_server_without_it(ctx, smtp_server) -> None:
    port, handler = smtp_server.port, smtp_server.handler
    with pytest.raises(SmtpFailure) as err:
        send(ctx, smtp_settings(port, security=SmtpSecurity.STARTTLS))
    assert err.value.code == "smtp_not_supported"
    assert handler.envelopes == []


@pytest.mark.parametrize(
    ("changes", "to", "code"),
    [
        ({"host": ""}, "ops@billing-desk.example", "smtp_host_missing"),
        ({"from_address": "nobody"}, "ops@billing-desk.example", "smtp_from_invalid"),
        ({}, "not an address", "smtp_test_address_invalid"),
    ],
)
def test_unusable_input_is_refused_before_connecting(ctx, changes, to, code) -> None:
    with pytest.raises(ValidationError) as err:
        send(ctx, smtp_settings(25, **changes), to=to)
    assert err.value.code == code


def test_a_viewer_cannot_send_a_test(as_role) -> None:
    with pytest.raises(PermissionDenied):
        send(as_role("viewer"), smtp_settings(25))


def test_every_kind_of_failure_has_a_translatable_message() -> None:
    smtp = smtp_settings(2525, host="mail.example.test")
    cases = [
        (smtplib.SMTPAuthenticationError(535, b"5.7.8 Authentication failed"),
         "smtp_login_refused",
         "The server mail.example.test:2525 refused the user name or password "
         "(535 5.7.8 Authentication failed)."),
        (smtplib.SMTPSenderRefused(553, b"not yours", SENDER), "smtp_sender_refused",
         f"The server refused the sender address {SENDER} (553 not yours)."),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), "smtp_disconnected",
         "The server mail.example.test:2525 closed the connection "
         "(Connection unexpectedly closed)."),
        (smtplib.SMTPResponseException(421, b"busy"), "smtp_refused",
         "The server mail.example.test:2525 answered 421 busy."),
        (TimeoutError(), "smtp_timeout",
         "The server mail.example.test:2525 did not answer within 5 seconds."),
        (socket.gaierror(-2, "Name or service not known"), "smtp_unknown_host",
         "The server name mail.example.test cannot be found (Name or service not known)."),
        (OSError(113, "No route to host"), "smtp_unreachable",
         "Cannot connect to mail.example.test:2525 (No route to host)."),
    ]
    for exc, code, text in cases:
        failure = smtp_failure(exc, smtp)
        assert (failure.code, str(failure)) == (code, text)
