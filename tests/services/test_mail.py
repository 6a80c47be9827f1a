"""The outbox and its SMTP delivery, tested against a real aiosmtpd server on 127.0.0.1.

What a user would notice: emails stay queued and visible without a server;
a configured server receives them intact (UTF-8 subjects and bodies); a
server that is down marks them failed with the reason, and they go out once
the retry time has come and the server is back; nothing is lost or sent twice.
"""

from __future__ import annotations

import dataclasses
import smtplib
from datetime import date, datetime, timedelta

import pytest
from helpers import SENDER, free_port, query_plan, smtp_settings

from billing_desktop.domain.money import Money
from billing_desktop.domain.periods import Period
from billing_desktop.services.clock import FixedClock
from billing_desktop.services.errors import PermissionDenied, ValidationError
from billing_desktop.services.mail import EmailKind, PlainRenderer, queue_email
from billing_desktop.services.smtp import (
    RETRY_MINUTES,
    SmtpSecurity,
    SmtpSettings,
    deliver_outbox,
    load_smtp_settings,
    outbox,
    retry_delay,
    retry_now,
    save_smtp_settings,
)
from billing_desktop.services.smtp_errors import last_error_text

NOW = datetime(2026, 4, 26, 9, 0)  # the conftest clock: 2026-04-26 09:00


# --------------------------------------------------------------------------- a real SMTP server


def configure(ctx, port: int) -> SmtpSettings:
    return save_smtp_settings(ctx, smtp_settings(port))


# --------------------------------------------------------------------------- data


@pytest.fixture
def account_id(ctx, make_account) -> int:
    """A German account whose billing contact has an accented name."""
    from billing_desktop.store.models import Account, Contact

    acc_id = make_account("Müller & Söhne GmbH", country="DE", language="de")
    with ctx.db.transaction() as session:
        account = session.get(Account, acc_id)
        session.add(
            Contact(
                account=account, first_name="Zoë", last_name="Größer",
                email="zoe.groesser@mueller.example", email_lower="zoe.groesser@mueller.example",
                search_name="groesser zoe", roles="billing_admin", is_billing_contact=True,
            )
        )
    return acc_id


def queue(ctx, account_id: int, kind=EmailKind.CANCELLATION_CONFIRMED, to=None, **params) -> int:
    from billing_desktop.store.models import Account

    values = {"product": "GoTo Meeting Größe Ü", "expiry_date": date(2026, 5, 31), **params}
    with ctx.db.transaction() as session:
        email = queue_email(
            session, ctx, session.get(Account, account_id), kind, values, to_address=to
        )
        session.flush()
        return email.id


def emails(ctx) -> dict[int, tuple]:
    rows = ctx.db.reader.rows(
        "SELECT id, status, attempts, sent_at, last_error FROM emails ORDER BY id"
    )
    return {r[0]: r[1:] for r in rows}


def retry_times(ctx) -> dict[int, str | None]:
    """``next_attempt_at`` of each email, as stored."""
    return dict(ctx.db.reader.rows("SELECT id, next_attempt_at FROM emails ORDER BY id"))


def at(ctx, moment: datetime):
    """The same context with the clock moved to ``moment``."""
    return dataclasses.replace(ctx, clock=FixedClock(moment))


# --------------------------------------------------------------------------- tests


def test_without_smtp_settings_emails_stay_queued_and_visible(ctx, account_id) -> None:
    first, second = queue(ctx, account_id), queue(ctx, account_id)

    summary = deliver_outbox(ctx)

    assert summary.configured is False
    assert (summary.sent, summary.failed, summary.waiting) == (0, 0, 2)
    assert emails(ctx) == {first: ("queued", 0, None, None), second: ("queued", 0, None, None)}
    listed = outbox(ctx, status="queued")
    assert [e.id for e in listed] == [second, first]  # newest first
    assert listed[0].company_name == "Müller & Söhne GmbH"
    assert listed[0].to_address == "zoe.groesser@mueller.example"


def test_queued_emails_are_delivered_intact(ctx, account_id, smtp_server) -> None:
    configure(ctx, smtp_server.port)
    cancelled = queue(ctx, account_id)
    paid = queue(
        ctx, account_id, EmailKind.PAYMENT_RECEIVED,
        amount=Money("1234.56", "EUR"), invoice_numbers=["INV-2026-000041", "INV-2026-000042"],
    )
    stored = {
        r[0]: r[1:]
        for r in ctx.db.reader.rows("SELECT id, to_address, subject, body_text FROM emails")
    }

    summary = deliver_outbox(ctx)

    assert (summary.configured, summary.sent, summary.failed, summary.waiting) == (True, 2, 0, 0)
    assert summary.error is None
    received = smtp_server.handler.messages
    assert len(received) == 2
    for envelope in smtp_server.handler.envelopes:
        assert envelope.mail_from == SENDER
        assert envelope.rcpt_tos == ["zoe.groesser@mueller.example"]
    for message, email_id in zip(received, (cancelled, paid), strict=True):
        to, subject, body = stored[email_id]
        assert message["To"] == to
        assert message["From"] == SENDER
        assert message["Subject"] == subject
        assert message["X-Billing-Desktop-Email-Id"] == str(email_id)
        assert message.get_content_charset() == "utf-8"
        assert message.get_content().replace("\r\n", "\n") == body  # SMTP lines end in CRLF
    # UTF-8 survives the trip: umlauts in the subject and in the body
    assert received[0]["Subject"] == "Your GoTo Meeting Größe Ü subscription has been cancelled"
    assert "Hello Zoë Größer," in received[0].get_content()
    assert "Müller & Söhne GmbH" in received[0].get_content()
    # plain renderer: money with its currency, lists joined
    assert received[1]["Subject"] == "Payment received: 1,234.56 EUR"
    assert "for INV-2026-000041, INV-2026-000042. Thank you." in received[1].get_content()
    # every email is recorded as sent at the clock's time, after one attempt
    assert emails(ctx) == {
        cancelled: ("sent", 1, "2026-04-26 09:00:00.000000", None),
        paid: ("sent", 1, "2026-04-26 09:00:00.000000", None),
    }
    # a second run sends nothing again
    assert deliver_outbox(ctx).sent == 0
    assert len(smtp_server.handler.envelopes) == 2


def test_server_down_marks_failed_then_retries_later(ctx, account_id, smtp_server) -> None:
    configure(ctx, smtp_server.port)
    smtp_server.stop()  # nothing listens on the port any more
    email_id = queue(ctx, account_id)

    summary = deliver_outbox(ctx)

    assert (summary.sent, summary.failed, summary.waiting) == (0, 1, 1)
    assert summary.error is not None and f"127.0.0.1:{smtp_server.port}" in summary.error
    status, attempts, sent_at, last_error = emails(ctx)[email_id]
    assert (status, attempts, sent_at) == ("failed", 1, None)
    # the reason alone; the retry time has its own column: 09:00 + 1 minute
    where = f"127.0.0.1:{smtp_server.port}"
    assert last_error_text(last_error).startswith(f"Nothing answers at {where}.")
    assert retry_times(ctx) == {email_id: "2026-04-26 09:01:00.000000"}
    [row] = outbox(ctx, status="failed")
    assert last_error_text(row.last_error).startswith("Nothing answers at 127.0.0.1:")
    assert row.last_attempt_at == NOW
    assert row.next_attempt_at == NOW + timedelta(minutes=1)  # first retry after 1 minute

    # the server is back, but the retry time has not come: nothing is attempted
    smtp_server.start()
    early = deliver_outbox(at(ctx, NOW + timedelta(seconds=30)))
    assert (early.sent, early.failed, early.waiting) == (0, 0, 1)
    assert emails(ctx)[email_id][:2] == ("failed", 1)
    assert smtp_server.handler.envelopes == []

    # one minute later it goes out, exactly once
    later = NOW + timedelta(minutes=1)
    summary = deliver_outbox(at(ctx, later))
    assert (summary.sent, summary.failed, summary.waiting) == (1, 0, 0)
    assert emails(ctx)[email_id] == ("sent", 2, "2026-04-26 09:01:00.000000", None)
    assert retry_times(ctx) == {email_id: None}  # cleared once sent
    [sent] = outbox(ctx, status="sent")
    assert (sent.last_error, sent.last_attempt_at, sent.next_attempt_at) == (None, None, None)
    assert len(smtp_server.handler.envelopes) == 1


def test_backoff_grows_with_each_failed_attempt(ctx, account_id) -> None:
    port = free_port()  # nothing listens here
    configure(ctx, port)
    email_id = queue(ctx, account_id)
    moment = NOW
    waits = []
    for _ in range(7):
        assert deliver_outbox(at(ctx, moment)).failed == 1
        [row] = outbox(ctx)
        waits.append(int((row.next_attempt_at - moment).total_seconds() // 60))
        assert row.last_attempt_at == moment
        assert retry_times(ctx)[email_id] == f"{row.next_attempt_at:%Y-%m-%d %H:%M:%S}.000000"
        # one second early: not attempted
        assert deliver_outbox(at(ctx, row.next_attempt_at - timedelta(seconds=1))).failed == 0
        moment = row.next_attempt_at
    assert waits == [1, 5, 15, 60, 240, 720, 720]
    assert emails(ctx)[email_id][:2] == ("failed", 7)
    assert [retry_delay(n).total_seconds() // 60 for n in range(1, 8)] == [
        *RETRY_MINUTES, RETRY_MINUTES[-1]
    ]


def test_due_emails_are_picked_by_status_and_retry_time(ctx, account_id) -> None:
    """Only queued emails and failed ones whose ``next_attempt_at`` has come are sent,
    oldest first, up to the limit; sent ones and later retries are left alone."""
    from billing_desktop.store.models import Email

    ids = [queue(ctx, account_id) for _ in range(5)]
    states = [
        ("queued", None),
        ("failed", NOW - timedelta(minutes=1)),  # due a minute ago
        ("failed", NOW),  # due now
        ("failed", NOW + timedelta(seconds=1)),  # not yet
        ("sent", None),
    ]
    with ctx.db.transaction() as session:
        for email_id, (status, next_at) in zip(ids, states, strict=True):
            email = session.get(Email, email_id)
            email.status, email.next_attempt_at = status, next_at
            email.attempts = 0 if status == "queued" else 1
    sent: list[str] = []

    class Recording:
        def __init__(self, host, port, timeout) -> None:
            pass

        def ehlo(self) -> None:
            pass

        def starttls(self, context) -> None:
            pass

        def send_message(self, msg, from_addr, to_addrs) -> dict:
            sent.append(msg["X-Billing-Desktop-Email-Id"])
            return {}

        def quit(self) -> None:
            pass

    configure(ctx, free_port())
    assert deliver_outbox(ctx, limit=2, smtp_factory=Recording).sent == 2
    assert sent == [str(ids[0]), str(ids[1])]  # oldest first, only two
    assert deliver_outbox(ctx, smtp_factory=Recording).sent == 1
    assert sent[2:] == [str(ids[2])]  # the one due "now"; ids[3] waits one more second
    assert deliver_outbox(at(ctx, NOW + timedelta(seconds=1)), smtp_factory=Recording).sent == 1
    assert sent[3:] == [str(ids[3])]
    assert {e.id: e.status for e in outbox(ctx)} == dict.fromkeys(ids, "sent")


def test_the_due_query_uses_the_status_and_retry_time_index(ctx) -> None:
    """The engine's plan of the delivery query: the emails table is searched through
    ``ix_emails_status_next_attempt_at``, never scanned."""
    from billing_desktop.services.smtp import _due_query

    sql = str(
        _due_query(NOW, 100).compile(
            dialect=ctx.db.engine.dialect, compile_kwargs={"literal_binds": True}
        )
    )
    plan = query_plan(ctx.db, sql)
    if not ctx.db.target.is_sqlite:
        assert any("ix_emails_status_next_attempt_at" in step for step in plan), plan
        assert not any("Seq Scan" in step for step in plan), plan
        return
    assert any(
        "USING INDEX ix_emails_status_next_attempt_at (status=? AND next_attempt_at<?)" in step
        for step in plan
    ), plan
    assert not any(step.startswith("SCAN emails") for step in plan), plan


def test_server_dying_mid_batch_keeps_earlier_sends(ctx, account_id, smtp_server) -> None:
    """Email 1 goes out; the connection drops during email 2; reconnecting fails for 3."""
    configure(ctx, smtp_server.port)
    ids = [queue(ctx, account_id) for _ in range(3)]
    seen_status_of_first: list[str] = []
    connects = []

    class DyingSMTP(smtplib.SMTP):
        def send_message(self, msg, *args, **kwargs):
            if msg["X-Billing-Desktop-Email-Id"] == str(ids[1]):
                # email 1's outcome is already committed while email 2 is handed over
                seen_status_of_first.append(
                    ctx.db.reader.scalar(f"SELECT status FROM emails WHERE id = {ids[0]}")
                )
                self.close()  # the server dies
                raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
            return super().send_message(msg, *args, **kwargs)

    def factory(host, port, timeout):
        connects.append(port)
        if len(connects) > 1:
            raise ConnectionRefusedError(111, "Connection refused")
        return DyingSMTP(host, port, timeout=timeout)

    summary = deliver_outbox(ctx, smtp_factory=factory)

    assert (summary.sent, summary.failed, summary.waiting) == (1, 2, 2)
    assert seen_status_of_first == ["sent"]
    state = emails(ctx)
    assert state[ids[0]][:2] == ("sent", 1)
    assert state[ids[1]][:2] == ("failed", 1)
    assert "closed the connection" in last_error_text(state[ids[1]][3])
    assert state[ids[2]][:2] == ("failed", 1)
    assert last_error_text(state[ids[2]][3]).startswith("Nothing answers at 127.0.0.1:")

    # later, with a healthy server, the two failed ones go out; nothing twice
    summary = deliver_outbox(at(ctx, NOW + timedelta(minutes=1)))
    assert (summary.sent, summary.failed, summary.waiting) == (2, 0, 0)
    delivered = [m["X-Billing-Desktop-Email-Id"] for m in smtp_server.handler.messages]
    assert sorted(delivered) == sorted(str(i) for i in ids)


def test_a_refused_recipient_fails_alone(ctx, account_id, smtp_server) -> None:
    configure(ctx, smtp_server.port)
    good = queue(ctx, account_id)
    bad = queue(ctx, account_id, to="refuse@mueller.example")
    also_good = queue(ctx, account_id)

    summary = deliver_outbox(ctx)

    assert (summary.sent, summary.failed, summary.error) == (2, 1, None)
    state = emails(ctx)
    assert state[good][0] == state[also_good][0] == "sent"
    assert state[bad][:2] == ("failed", 1)
    assert last_error_text(state[bad][3]) == (
        "The server refused the recipient refuse@mueller.example (550 5.1.1 No such user here)."
    )


def test_retry_now_makes_failed_emails_due_at_once(ctx, account_id, smtp_server) -> None:
    configure(ctx, smtp_server.port)
    smtp_server.stop()
    email_id = queue(ctx, account_id)
    deliver_outbox(ctx)
    smtp_server.start()

    assert retry_times(ctx)[email_id] == "2026-04-26 09:01:00.000000"
    assert retry_now(ctx) == 1
    assert emails(ctx)[email_id][:2] == ("queued", 1)  # attempts kept
    # and the last error
    assert last_error_text(emails(ctx)[email_id][3]).startswith("Nothing answers at")
    assert retry_times(ctx)[email_id] is None  # due at once
    summary = deliver_outbox(ctx)  # same minute: no waiting for the back-off

    assert summary.sent == 1
    assert emails(ctx)[email_id][:2] == ("sent", 2)
    actions = ctx.db.reader.rows("SELECT action FROM audit_entries ORDER BY id")
    assert ("emails_retried",) in actions


def test_email_without_address_fails_with_a_reason(ctx, make_account, smtp_server) -> None:
    configure(ctx, smtp_server.port)
    lonely = make_account("No Contacts S.r.l.")  # no billing contact: no address
    email_id = queue(ctx, lonely)

    assert deliver_outbox(ctx).failed == 1
    status, attempts, _sent, error = emails(ctx)[email_id]
    assert (status, attempts) == ("failed", 1)
    assert last_error_text(error) == "The email has no recipient address."


# --------------------------------------------------------------------------- settings


def test_settings_are_stored_and_read_back(ctx) -> None:
    assert load_smtp_settings(ctx).configured is False
    saved = save_smtp_settings(
        ctx,
        SmtpSettings(
            host=" smtp.example.com ", port=465, security=SmtpSecurity.SSL,
            username="billing", password="s3cret", from_address=" billing@example.com ",
        ),
    )
    assert saved.host == "smtp.example.com"
    assert load_smtp_settings(ctx) == saved
    assert dict(ctx.db.reader.rows("SELECT key, value FROM app_settings WHERE key LIKE 'smtp.%'"))[
        "smtp.password"
    ] == "s3cret"  # stored as is (documented)
    [(after,)] = ctx.db.reader.rows(
        "SELECT after_json FROM audit_entries WHERE action = 'smtp_settings_changed'"
    )
    assert "s3cret" not in after and "smtp.example.com" in after


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"port": 0}, "smtp_port_invalid"),
        ({"port": 70000}, "smtp_port_invalid"),
        ({"from_address": "billing"}, "smtp_from_invalid"),
        ({"host": "smtp example.com"}, "smtp_host_invalid"),
        ({"password": "x"}, "smtp_user_missing"),
        ({"security": "tls13"}, "smtp_security_invalid"),
    ],
)
def test_bad_settings_are_refused_and_nothing_stored(ctx, changes, code) -> None:
    base = SmtpSettings(host="smtp.example.com", port=587, from_address="a@example.com")
    with pytest.raises(ValidationError) as err:
        save_smtp_settings(ctx, dataclasses.replace(base, **changes))
    assert err.value.code == code
    assert ctx.db.reader.rows("SELECT * FROM app_settings WHERE key LIKE 'smtp.%'") == []


@pytest.mark.parametrize("role", ["viewer", "representative"])
def test_roles_without_the_right_cannot_send_or_configure(as_role, demo_ctx, role) -> None:
    before = demo_ctx.db.reader.rows("SELECT * FROM emails ORDER BY id")
    settings_before = demo_ctx.db.reader.rows("SELECT * FROM app_settings ORDER BY key")
    other = as_role(role)
    with pytest.raises(PermissionDenied):
        deliver_outbox(other)
    with pytest.raises(PermissionDenied):
        save_smtp_settings(other, SmtpSettings(host="h.example", from_address="a@example.com"))
    with pytest.raises(PermissionDenied):
        retry_now(other)
    assert demo_ctx.db.reader.rows("SELECT * FROM emails ORDER BY id") == before
    assert demo_ctx.db.reader.rows("SELECT * FROM app_settings ORDER BY key") == settings_before
    assert outbox(other) is not None  # reading the outbox is allowed to everyone


@pytest.mark.parametrize("role", ["admin", "support", "trainer"])
def test_roles_that_may_send(as_role, role) -> None:
    summary = deliver_outbox(as_role(role))
    assert summary.configured is False


# --------------------------------------------------------------------------- rendering


def test_outbox_filters_by_status_and_account(ctx, account_id, make_account) -> None:
    other = make_account("Other S.p.A.")
    mine = queue(ctx, account_id)
    theirs = queue(ctx, other, to="x@other.example")
    assert [e.id for e in outbox(ctx, account_id=account_id)] == [mine]
    assert [e.id for e in outbox(ctx, account_id=other)] == [theirs]
    assert outbox(ctx, status=["sent", "failed"]) == []
    assert len(outbox(ctx, status=["queued"])) == 2


def test_plain_renderer_fills_values_and_picks_the_renewal_variant() -> None:
    params = {
        "contact_name": "Ana", "account_number": "A-1", "company_name": "Co",
        "product": "GoTo Meeting", "invoice_number": "INV-2026-000001",
        "total": Money("73.80", "EUR"), "period": Period(date(2026, 4, 10), date(2026, 5, 10)),
    }
    _s, charged = PlainRenderer().email(
        EmailKind.RENEWAL_INVOICE, "en", {**params, "charged_to": "Visa •••• 4242"}
    )
    assert "for the period 2026-04-10 – 2026-05-09." in charged  # last day of service
    assert "Invoice INV-2026-000001: 73.80 EUR. The amount has been charged to Visa" in charged
    _s, open_ = PlainRenderer().email(
        EmailKind.RENEWAL_INVOICE, "en", {**params, "due_date": date(2026, 5, 10)}
    )
    assert "Please pay 73.80 EUR by 2026-05-10." in open_
    assert open_.rstrip().endswith("Account A-1 · Co")


def test_a_missing_value_renders_empty_instead_of_failing() -> None:
    subject, body = PlainRenderer().email(EmailKind.TRIAL_ENDED, "en", {"product": "Resolve"})
    assert subject == "Your Resolve trial has ended"
    assert "trial ended on . Nothing was charged." in body


def test_a_failing_renderer_falls_back_to_plain_english(ctx, account_id) -> None:
    class Broken:
        def email(self, kind, language, params):
            raise RuntimeError("no translator")

    broken_ctx = dataclasses.replace(ctx, renderer=Broken())
    email_id = queue(broken_ctx, account_id)
    [(subject, language)] = ctx.db.reader.rows(
        "SELECT subject, language FROM emails WHERE id = :id", {"id": email_id}
    )
    assert subject == "Your GoTo Meeting Größe Ü subscription has been cancelled"
    assert language == "de"


def test_payment_email_words_credit_only_and_mixed_payments() -> None:
    from billing_desktop.domain.money import Money
    from billing_desktop.services.mail import EmailKind, PlainRenderer

    renderer = PlainRenderer()
    euro = Money("120.00", "EUR")
    _, credit_only = renderer.email(
        EmailKind.PAYMENT_RECEIVED, "en",
        {"contact_name": "Ada", "amount": euro, "invoice_numbers": [], "to_credit": euro},
    )
    assert "It has been added to your account credit" in credit_only
    assert " for ." not in credit_only
    _, mixed = renderer.email(
        EmailKind.PAYMENT_RECEIVED, "en",
        {
            "contact_name": "Ada", "amount": euro, "invoice_numbers": ["INV-2026-000007"],
            "to_credit": Money("20.00", "EUR"),
        },
    )
    assert "INV-2026-000007" in mixed and "of it has been added to your account credit" in mixed
    _, plain = renderer.email(
        EmailKind.PAYMENT_RECEIVED, "en",
        {"contact_name": "Ada", "amount": euro, "invoice_numbers": ["INV-2026-000007"],
         "to_credit": Money("0.00", "EUR")},
    )
    assert "account credit" not in plain


def test_renewal_paid_from_credit_says_so() -> None:
    from datetime import date

    from billing_desktop.domain.money import Money
    from billing_desktop.services.mail import EmailKind, PlainRenderer

    _, body = PlainRenderer().email(
        EmailKind.RENEWAL_INVOICE, "en",
        {
            "contact_name": "Ada", "product": "GoTo Meeting", "invoice_number": "INV-2026-000085",
            "total": Money("236.00", "USD"), "period_start": date(2026, 5, 27),
            "period_end": date(2026, 6, 27),
        },
    )
    assert "INV-2026-000085" in body
    assert "paid from your account credit; nothing is due" in body
