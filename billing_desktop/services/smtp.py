"""Delivering the outbox over SMTP, with retries, and listing it for the Emails view.

SPEC §2/§6: every email the customer would receive is stored first (see
:mod:`billing_desktop.services.mail`) and sent when an SMTP server is
configured. Without one, emails stay ``queued`` and visible; an unreachable
server marks them ``failed`` with the error and they are retried later. An
email is never deleted or lost by delivery.

Settings live in ``app_settings`` under ``smtp.*`` keys (:data:`SETTING_KEYS`).
The password is stored **as is** (plain text in the database, like the
database URL of a team install); protect the database file, or leave the
password empty and use a relay that trusts the machine. A later version may
move it to the operating system's keyring.

Retries: a failed email waits :func:`retry_delay` after its last attempt
(1, 5, 15, 60 minutes, 4 hours, then every 12 hours), counted from its
``attempts``. The failed attempt stores when the next one is due in
``emails.next_attempt_at`` (cleared once the email is sent or made due again
by :func:`retry_now`) and the reason, alone, in ``last_error``: a
:class:`~billing_desktop.services.smtp_errors.SmtpFailure` in its stored form
(key and values, shown in the operator's language by
:func:`~billing_desktop.services.smtp_errors.last_error_text`). A delivery
run selects ``status = 'queued' OR (status = 'failed' AND next_attempt_at <=
now)``, which the index on ``(status, next_attempt_at)`` answers without
reading the sent emails.

Transactions: each email's new status is written in its own small transaction
right after the server accepted or refused it, so a crash or a server dying
mid-batch leaves every earlier send recorded (at most the one email being
handed over at that instant can be sent twice, never lost). No transaction is
open while talking to the server. A fault of the database while reading the
due emails is the same translated :class:`~billing_desktop.store.errors.DatabaseError`
as anywhere else, raised before anything is sent.
"""

from __future__ import annotations

import contextlib
import logging
import re
import smtplib
import ssl
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, getaddresses, make_msgid
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from billing_desktop.domain.errors import ValidationError
from billing_desktop.domain.text import QT_TRANSLATE_NOOP
from billing_desktop.services import audit
from billing_desktop.services.auth import Action, authorize
from billing_desktop.services.smtp_errors import (
    SmtpFailure,
    failure,
    smtp_failure,
    stored_error,
)
from billing_desktop.store import errors

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy import Select

    from billing_desktop.services.context import AppContext
    from billing_desktop.store.models import Email

log = logging.getLogger("billing_desktop.smtp")

__all__ = [
    "DeliverySummary",
    "OutboxEmail",
    "SmtpSecurity",
    "SmtpSettings",
    "deliver_outbox",
    "load_smtp_settings",
    "outbox",
    "retry_at",
    "retry_delay",
    "retry_now",
    "save_smtp_settings",
]


class SmtpSecurity(StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    SSL = "ssl"


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """How to reach the mail server. An empty ``host`` means "not configured"."""

    host: str = ""
    port: int = 587
    security: SmtpSecurity = SmtpSecurity.STARTTLS
    username: str = ""
    password: str = ""
    from_address: str = ""
    #: seconds to wait for the server before giving up on this run
    timeout: int = 30

    @property
    def configured(self) -> bool:
        return bool(self.host.strip()) and bool(self.from_address.strip())


#: app_settings key of each field
SETTING_KEYS = {
    "host": "smtp.host",
    "port": "smtp.port",
    "security": "smtp.security",
    "username": "smtp.username",
    "password": "smtp.password",
    "from_address": "smtp.from_address",
    "timeout": "smtp.timeout",
}

#: minutes to wait after the n-th failed attempt (the last one repeats)
RETRY_MINUTES = (1, 5, 15, 60, 240, 720)


@dataclass(frozen=True, slots=True)
class DeliverySummary:
    """What one delivery run did."""

    #: False: no server configured, nothing was attempted (emails stay queued)
    configured: bool
    sent: int = 0
    failed: int = 0
    #: emails still waiting after the run (queued, or failed and to be retried)
    waiting: int = 0
    #: a server-level problem (unreachable, login refused), if any: translatable
    failure: SmtpFailure | None = None

    @property
    def error(self) -> str | None:
        """:attr:`failure` as an English sentence (logs, tests), None if there was none."""
        return None if self.failure is None else str(self.failure)


@dataclass(frozen=True, slots=True)
class OutboxEmail:
    """One row of the Emails view."""

    id: int
    account_id: int | None
    account_number: str | None
    company_name: str | None
    kind: str
    to_address: str
    cc_addresses: str
    subject: str
    body_text: str
    language: str
    status: str
    created_at: datetime
    sent_at: datetime | None
    attempts: int
    #: why the last attempt failed, as stored: show it with ``smtp_errors.last_error_text``
    last_error: str | None
    #: when the last failed attempt was made (None for queued and sent ones)
    last_attempt_at: datetime | None
    #: when a failed email is tried again (None for queued and sent ones)
    next_attempt_at: datetime | None


# --------------------------------------------------------------------------- settings


def _invalid(code: str, message: str, **params: object) -> ValidationError:
    return ValidationError(code, message, params)


_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def _int_setting(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def load_smtp_settings(ctx: AppContext) -> SmtpSettings:
    """The stored settings (defaults for whatever is missing); read-only."""
    db = ctx.db
    raw = {field: db.setting(key) for field, key in SETTING_KEYS.items()}
    try:
        security = SmtpSecurity(raw["security"] or SmtpSecurity.STARTTLS)
    except ValueError:
        security = SmtpSecurity.STARTTLS
    return SmtpSettings(
        host=raw["host"] or "",
        port=_int_setting(raw["port"], 587),
        security=security,
        username=raw["username"] or "",
        password=raw["password"] or "",
        from_address=raw["from_address"] or "",
        timeout=_int_setting(raw["timeout"], 30),
    )


def validate_smtp_settings(settings: SmtpSettings) -> SmtpSettings:
    """Trimmed ``settings``; :class:`ValidationError` naming the first bad field.

    An empty host is valid: it switches delivery off (emails stay queued).
    """
    host = settings.host.strip()
    from_address = settings.from_address.strip()
    try:
        security = SmtpSecurity(settings.security)
    except ValueError:
        raise _invalid(
            "smtp_security_invalid",
            QT_TRANSLATE_NOOP(
                "ServiceError", "The connection security must be none, STARTTLS or SSL/TLS."
            ),
        ) from None
    if host:
        if any(ch.isspace() for ch in host) or len(host) > 253:
            raise _invalid(
                "smtp_host_invalid",
                QT_TRANSLATE_NOOP("ServiceError", "{host} is not a valid server name."),
                host=host,
            )
        if isinstance(settings.port, bool) or not isinstance(settings.port, int) or not (
            1 <= settings.port <= 65535
        ):
            raise _invalid(
                "smtp_port_invalid",
                QT_TRANSLATE_NOOP("ServiceError", "The port must be a number from 1 to 65535."),
            )
        if not _ADDRESS.match(from_address):
            raise _invalid(
                "smtp_from_invalid",
                QT_TRANSLATE_NOOP(
                    "ServiceError", "The sender address {address} is not a valid email address."
                ),
                address=from_address,
            )
        if settings.password and not settings.username.strip():
            raise _invalid(
                "smtp_user_missing",
                QT_TRANSLATE_NOOP("ServiceError", "A password needs a user name."),
            )
    if not 1 <= settings.timeout <= 600:
        raise _invalid(
            "smtp_timeout_invalid",
            QT_TRANSLATE_NOOP("ServiceError", "The timeout must be from 1 to 600 seconds."),
        )
    return SmtpSettings(
        host=host,
        port=settings.port,
        security=security,
        username=settings.username.strip(),
        password=settings.password,
        from_address=from_address,
        timeout=settings.timeout,
    )


def save_smtp_settings(ctx: AppContext, settings: SmtpSettings) -> SmtpSettings:
    """Validate and store the SMTP settings in one transaction; audited (password masked).

    Allowed to the roles that may send emails (``Action.SEND_EMAILS``).
    """
    from billing_desktop.store.models import AppSetting

    with ctx.db.transaction() as session:
        authorize(ctx, Action.SEND_EMAILS)
        clean = validate_smtp_settings(settings)
        before = load_smtp_settings(ctx)
        values = {
            "host": clean.host,
            "port": str(clean.port),
            "security": clean.security.value,
            "username": clean.username,
            "password": clean.password,
            "from_address": clean.from_address,
            "timeout": str(clean.timeout),
        }
        for field, value in values.items():
            session.merge(AppSetting(key=SETTING_KEYS[field], value=value))
        audit.record(
            session, ctx, "smtp_settings_changed", None, _audit_view(before), _audit_view(clean)
        )
    return clean


def _audit_view(settings: SmtpSettings) -> dict[str, Any]:
    return {
        "host": settings.host,
        "port": settings.port,
        "security": settings.security.value,
        "username": settings.username,
        "password": "••••" if settings.password else "",
        "from_address": settings.from_address,
    }


# --------------------------------------------------------------------------- retry timing


def retry_delay(attempts: int) -> timedelta:
    """How long a failed email waits after its ``attempts``-th attempt."""
    index = min(max(attempts, 1), len(RETRY_MINUTES)) - 1
    return timedelta(minutes=RETRY_MINUTES[index])


def retry_at(attempts: int, failed_at: datetime) -> datetime:
    """``next_attempt_at`` of an email whose ``attempts``-th attempt failed at ``failed_at``."""
    return failed_at + retry_delay(attempts)


def _last_attempt_at(status: str, attempts: int, next_at: datetime | None) -> datetime | None:
    """When a failed email was last tried: its retry time minus the back-off it waits."""
    if status != "failed" or next_at is None:
        return None
    return next_at - retry_delay(attempts)


# --------------------------------------------------------------------------- delivery

#: one delivery run at a time in this process (the timer and a "Send now" click)
_RUN_LOCK = threading.Lock()

SmtpFactory = Callable[..., smtplib.SMTP]


class _ServerError(Exception):
    """The server cannot be used at all in this run (unreachable, login refused)."""

    def __init__(self, reason: SmtpFailure) -> None:
        super().__init__(str(reason))
        #: why, for the outbox and the test email
        self.failure = reason


def _connect(settings: SmtpSettings, factory: SmtpFactory | None) -> smtplib.SMTP:
    """An open, authenticated connection; :class:`_ServerError` when that is impossible."""
    context = ssl.create_default_context()
    try:
        if factory is None:
            if settings.security is SmtpSecurity.SSL:
                server: smtplib.SMTP = smtplib.SMTP_SSL(
                    settings.host, settings.port, timeout=settings.timeout, context=context
                )
            else:
                server = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        else:
            server = factory(settings.host, settings.port, timeout=settings.timeout)
    except (OSError, smtplib.SMTPException) as exc:
        raise _ServerError(smtp_failure(exc, settings)) from exc
    try:
        server.ehlo()
        if settings.security is SmtpSecurity.STARTTLS:
            server.starttls(context=context)
            server.ehlo()
        if settings.username:
            server.login(settings.username, settings.password)
    except (OSError, smtplib.SMTPException) as exc:
        _close(server)
        raise _ServerError(smtp_failure(exc, settings)) from exc
    return server


def _close(server: smtplib.SMTP | None) -> None:
    if server is None:
        return
    try:
        server.quit()
    except (OSError, smtplib.SMTPException):
        server.close()


@dataclass(frozen=True, slots=True)
class _Outgoing:
    id: int
    to_address: str
    cc_addresses: str
    subject: str
    body_text: str
    language: str
    attempts: int
    status: str


def _message(item: _Outgoing, settings: SmtpSettings, now: datetime) -> EmailMessage:
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["From"] = settings.from_address
    msg["To"] = item.to_address
    if item.cc_addresses.strip():
        msg["Cc"] = item.cc_addresses
    msg["Subject"] = item.subject
    msg["Date"] = format_datetime(now.astimezone())
    domain = settings.from_address.rpartition("@")[2] or None
    msg["Message-ID"] = make_msgid(f"outbox-{item.id}", domain=domain)
    if item.language:
        msg["Content-Language"] = item.language.replace("_", "-")
    msg["X-Billing-Desktop-Email-Id"] = str(item.id)
    # quoted-printable: survives any server, 8BITMIME or not
    msg.set_content(item.body_text, charset="utf-8", cte="quoted-printable")
    return msg


def _recipients(item: _Outgoing) -> list[str]:
    pairs = getaddresses([item.to_address, item.cc_addresses])
    return [addr for _name, addr in pairs if addr]


def _due_query(now: datetime, limit: int) -> Select[Any]:
    """Queued emails and failed ones whose retry time has come, oldest first.

    Both branches are ranges of the ``ix_emails_status_next_attempt_at`` index.
    """
    from sqlalchemy import and_, or_, select

    from billing_desktop.store.models import Email

    return (
        select(Email)
        .where(
            or_(
                Email.status == "queued",
                and_(Email.status == "failed", Email.next_attempt_at <= now),
            )
        )
        .order_by(Email.created_at, Email.id)
        .limit(limit)
    )


def _due_emails(ctx: AppContext, now: datetime, limit: int) -> list[_Outgoing]:
    """The due emails (see :func:`_due_query`), read without a write lock.

    A fault of the database (locked, damaged, read-only, the file gone) raises
    its translated :class:`~billing_desktop.store.errors.DatabaseError`, as a
    transaction would, before any email is handed to the server.
    """
    db = ctx.db
    target = db.target
    try:
        with errors.translated_errors(target.display_name(), is_sqlite=target.is_sqlite):
            _check_file(target.path)
            with db.sessions.begin() as session:  # a plain read: no write lock
                return [
                    _Outgoing(
                        id=email.id,
                        to_address=email.to_address,
                        cc_addresses=email.cc_addresses or "",
                        subject=email.subject,
                        body_text=email.body_text,
                        language=email.language,
                        attempts=email.attempts,
                        status=email.status,
                    )
                    for email in session.scalars(_due_query(now, limit))
                ]
    except errors.RECONNECT_AFTER:
        # as after a failed transaction: the next use opens new connections
        db.engine.dispose()
        db.reader.close()
        raise


def _check_file(path: Path | None) -> None:
    """Refuse to read a SQLite file that is gone (moved, deleted, its drive unplugged).

    An open connection would go on reading the moved file, and the sends that
    follow could not be recorded (the write transaction refuses the missing
    file) so they would go out again; a new connection would create an empty
    file in its place.
    """
    if path is not None and not path.exists():
        raise errors.MissingDatabase(str(path), "No such file or directory")


def _record(ctx: AppContext, item: _Outgoing, now: datetime, error: SmtpFailure | None) -> bool:
    """Write one email's outcome in its own transaction; False if it changed meanwhile."""
    from billing_desktop.store.models import Email

    with ctx.db.transaction() as session:
        email: Email | None = session.get(Email, item.id)
        if email is None or email.status != item.status or email.attempts != item.attempts:
            return False  # deleted with its account, or handled by another run
        email.attempts = item.attempts + 1
        if error is None:
            email.status = "sent"
            email.sent_at = now
            email.next_attempt_at = None
            email.last_error = None
        else:
            email.status = "failed"
            email.next_attempt_at = retry_at(email.attempts, now)
            email.last_error = stored_error(error)
    return True


def _count_waiting(ctx: AppContext) -> int:
    return int(
        ctx.db.reader.scalar("SELECT COUNT(*) FROM emails WHERE status IN ('queued', 'failed')")
        or 0
    )


def deliver_outbox(
    ctx: AppContext,
    *,
    limit: int = 100,
    smtp_factory: SmtpFactory | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> DeliverySummary:
    """Send up to ``limit`` due emails over the configured SMTP server.

    Due: ``queued`` emails, and ``failed`` ones whose :func:`retry_delay` has
    passed. Each sent email becomes ``sent`` with ``sent_at``; each refused
    one ``failed`` with ``attempts`` + 1 and ``last_error``. When the server
    cannot be reached (or refuses the login) every due email of the batch is
    marked failed with that reason, to be retried later. Without settings,
    nothing changes and ``configured`` is False.

    ``smtp_factory(host, port, timeout=…)`` opens the connection (default:
    ``smtplib.SMTP``, or ``smtplib.SMTP_SSL`` when the security is SSL/TLS).
    ``should_stop`` is polled between emails (a cancel button).
    """
    authorize(ctx, Action.SEND_EMAILS)
    settings = load_smtp_settings(ctx)
    if not settings.configured:
        return DeliverySummary(configured=False, waiting=_count_waiting(ctx))
    with _RUN_LOCK:
        return _deliver(ctx, settings, limit, smtp_factory, should_stop)


def _deliver(
    ctx: AppContext,
    settings: SmtpSettings,
    limit: int,
    factory: SmtpFactory | None,
    should_stop: Callable[[], bool] | None,
) -> DeliverySummary:
    now = ctx.clock.now()
    batch = _due_emails(ctx, now, max(0, limit))
    sent = failed = 0
    server_error: SmtpFailure | None = None
    server: smtplib.SMTP | None = None
    try:
        for item in batch:
            if should_stop is not None and should_stop():
                break
            if server_error is None and server is None:
                try:
                    server = _connect(settings, factory)
                except _ServerError as exc:
                    server_error = exc.failure
                    log.warning("SMTP server unusable: %s", server_error)
            if server_error is not None or server is None:
                error: SmtpFailure | None = server_error
            else:
                error, server = _send_one(server, item, settings, now)
            if _record(ctx, item, now, error):
                if error is None:
                    sent += 1
                else:
                    failed += 1
    finally:
        _close(server)
    if sent or failed:
        log.info("outbox: %d sent, %d failed", sent, failed)
    return DeliverySummary(
        configured=True,
        sent=sent,
        failed=failed,
        waiting=_count_waiting(ctx),
        failure=server_error,
    )


def _send_one(
    server: smtplib.SMTP, item: _Outgoing, settings: SmtpSettings, now: datetime
) -> tuple[SmtpFailure | None, smtplib.SMTP | None]:
    """Hand one email to the server: (error or None, the connection to go on with).

    A connection lost while sending is dropped (None) so the next email reconnects.
    """
    recipients = _recipients(item)
    if not recipients:
        return failure("smtp_no_recipient"), server
    try:
        refused = server.send_message(
            _message(item, settings, now), from_addr=settings.from_address, to_addrs=recipients
        )
    except smtplib.SMTPServerDisconnected as exc:
        server.close()
        return smtp_failure(exc, settings), None
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
        _reset(server)
        return smtp_failure(exc, settings), server
    except (OSError, smtplib.SMTPException) as exc:
        server.close()
        return smtp_failure(exc, settings), None
    if refused:
        # Accepted for some recipients only: it went out; note who did not get it.
        log.warning("email %d refused for %s", item.id, ", ".join(refused))
    return None, server


def _reset(server: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError, smtplib.SMTPException):
        server.rset()


# --------------------------------------------------------------------------- the Emails view


def _when(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def outbox(
    ctx: AppContext,
    status: str | Sequence[str] | None = None,
    account_id: int | None = None,
    limit: int = 500,
) -> list[OutboxEmail]:
    """Emails newest first, optionally of one status (or several) and one account."""
    authorize(ctx, Action.VIEW)
    where: list[str] = []
    params: dict[str, Any] = {"limit": int(limit)}
    if status is not None:
        statuses = [status] if isinstance(status, str) else list(status)
        names = [f"s{i}" for i in range(len(statuses))]
        where.append(f"e.status IN ({', '.join(':' + n for n in names)})")
        params.update(zip(names, statuses, strict=True))
    if account_id is not None:
        where.append("e.account_id = :account_id")
        params["account_id"] = account_id
    sql = (
        "SELECT e.id, e.account_id, a.account_number, a.company_name, e.kind, e.to_address, "
        "e.cc_addresses, e.subject, e.body_text, e.language, e.status, e.created_at, "
        "e.sent_at, e.attempts, e.last_error, e.next_attempt_at "
        "FROM emails e LEFT JOIN accounts a ON a.id = e.account_id"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY e.created_at DESC, e.id DESC LIMIT :limit"
    )
    rows = []
    for r in ctx.db.reader.rows(sql, params):
        status_value, attempts = r[10], int(r[13] or 0)
        next_at = _when(r[15]) if status_value == "failed" else None
        rows.append(
            OutboxEmail(
                id=r[0],
                account_id=r[1],
                account_number=r[2],
                company_name=r[3],
                kind=r[4],
                to_address=r[5],
                cc_addresses=r[6] or "",
                subject=r[7],
                body_text=r[8],
                language=r[9],
                status=status_value,
                created_at=_when(r[11]),  # type: ignore[arg-type]
                sent_at=_when(r[12]),
                attempts=attempts,
                last_error=r[14],
                last_attempt_at=_last_attempt_at(status_value, attempts, next_at),
                next_attempt_at=next_at,
            )
        )
    return rows


def retry_now(ctx: AppContext, email_ids: Sequence[int] | None = None) -> int:
    """Make failed emails due at once (all of them, or ``email_ids``); returns how many.

    They go back to ``queued`` with no ``next_attempt_at`` (attempts and the
    last error are kept), so the next delivery run sends them without waiting
    for their retry time.
    """
    from sqlalchemy import select

    from billing_desktop.store.models import Email

    with ctx.db.transaction() as session:
        authorize(ctx, Action.SEND_EMAILS)
        query = select(Email).where(Email.status == "failed")
        if email_ids is not None:
            query = query.where(Email.id.in_(list(email_ids)))
        emails = list(session.scalars(query))
        for email in emails:
            email.status = "queued"
            email.next_attempt_at = None
        if emails:
            audit.record(
                session, ctx, "emails_retried", None, None, {"email_ids": [e.id for e in emails]}
            )
        return len(emails)
