"""Signing in to a shared database (issue 8 item 2; SPEC §6, §7 "Teams").

On a shared (PostgreSQL) database every operator signs in with their email
and password; the embedded SQLite default keeps its automatic local operator
(:func:`billing_desktop.services.context.local_operator`) and never asks.

Passwords
    Hashed with Argon2id by argon2-cffi's :class:`~argon2.PasswordHasher` with
    its default profile (RFC 9106 "low memory": t=3, m=64 MiB, p=4), which
    exceeds OWASP's minimum for Argon2id (m=19 MiB, t=2, p=1). The hash string
    carries its parameters, so when the profile changes (a newer argon2-cffi,
    stronger settings) :meth:`~argon2.PasswordHasher.check_needs_rehash` sees
    it and the next successful sign-in stores a new hash. Passwords are
    NFKC-normalised before hashing, so the same password typed on another
    keyboard layout or input method matches. :func:`validate_password` is the
    policy every new password meets (at least :data:`MIN_PASSWORD_LENGTH`
    characters, not the email address or the name, not a trivial sequence).

Failures, delay and lockout
    Every refused attempt — unknown email, wrong password, disabled or locked
    operator — waits :data:`FAILURE_DELAY_SECONDS` before answering (``sleep``
    is injectable; the sign-in dialog runs the check in a worker thread, so the
    window does not freeze). An unknown email is checked against a dummy hash,
    so it costs the same time as a wrong password, and gets the same message:
    the answer never says which of the two was wrong. A disabled operator is
    told so only after giving the right password.

    :data:`LOCKOUT_THRESHOLD` consecutive wrong passwords lock the operator
    for :data:`LOCKOUT_FIRST` (1 minute); each further wrong password after a
    lock doubles it, up to :data:`LOCKOUT_MAX` (15 minutes): 1, 2, 4, 8, 15,
    15… minutes. While locked, attempts are refused with the remaining time
    without checking the password (and do not extend the lock). A successful
    sign-in or an administrator's password reset clears the count.

    The bookkeeping (counts, lock, last sign-in, a rehash) is written with
    plain UPDATE statements that leave the operator's ``version`` alone, so a
    sign-in never makes an administrator's open edit of that operator
    conflict.

Audit
    Every attempt appends an audit entry with no account: ``sign_in`` with the
    operator, or ``sign_in_failed`` with the operator when known and the email
    as typed and the reason (``unknown_email``, ``no_password``,
    ``wrong_password``, ``locked``, ``disabled``) — never the password.

First administrator
    A brand-new shared database has no operator who can sign in:
    :func:`needs_first_admin` says so, and :func:`create_first_admin` creates
    the first administrator (once: a second, concurrent attempt is refused).
"""

from __future__ import annotations

import json
import math
import time
import unicodedata
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from billing_desktop.domain.errors import ValidationError
from billing_desktop.domain.text import QT_TRANSLATE_NOOP
from billing_desktop.services.context import OperatorInfo
from billing_desktop.services.errors import ServiceError

if TYPE_CHECKING:
    from argon2 import PasswordHasher
    from sqlalchemy.orm import Session

    from billing_desktop.store.database import Database

__all__ = [
    "FAILURE_DELAY_SECONDS",
    "FIRST_ADMIN_KEY",
    "LOCKOUT_FIRST",
    "LOCKOUT_MAX",
    "LOCKOUT_THRESHOLD",
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "OWASP_MIN_MEMORY_KIB",
    "OWASP_MIN_TIME_COST",
    "FirstAdminExists",
    "OperatorDisabled",
    "OperatorLocked",
    "SignInRefused",
    "WrongCredentials",
    "create_first_admin",
    "hash_password",
    "lockout_duration",
    "needs_first_admin",
    "password_hasher",
    "sign_in",
    "validate_password",
    "verify_password",
]

#: Seconds every refused attempt waits before it answers.
FAILURE_DELAY_SECONDS = 1.0
#: Consecutive wrong passwords that lock the operator.
LOCKOUT_THRESHOLD = 5
#: The first lock; each further wrong password doubles it …
LOCKOUT_FIRST = timedelta(minutes=1)
#: … up to this.
LOCKOUT_MAX = timedelta(minutes=15)

MIN_PASSWORD_LENGTH = 12
#: Long passphrases are welcome; this only keeps a pasted file out.
MAX_PASSWORD_LENGTH = 256

#: OWASP Password Storage Cheat Sheet, Argon2id minimum: 19 MiB, 2 iterations.
OWASP_MIN_MEMORY_KIB = 19 * 1024
OWASP_MIN_TIME_COST = 2

#: ``app_settings`` key written with the first administrator: a second
#: concurrent :func:`create_first_admin` fails on its primary key.
FIRST_ADMIN_KEY = "operators.first_admin"

_FIELD = "password"


# --------------------------------------------------------------------------- errors


class SignInRefused(ServiceError):
    """Base of the refusals of :func:`sign_in`; nothing but the failure count changed."""


class WrongCredentials(SignInRefused):
    """Unknown email or wrong password: one message for both, never saying which."""

    def __init__(self) -> None:
        super().__init__(
            "sign_in_wrong_credentials",
            QT_TRANSLATE_NOOP("ServiceError", "The email address or the password is not correct."),
        )


class OperatorDisabled(SignInRefused):
    """The password was right but an administrator disabled the operator."""

    def __init__(self) -> None:
        super().__init__(
            "sign_in_disabled",
            QT_TRANSLATE_NOOP(
                "ServiceError",
                "This operator has been disabled. Ask an administrator to enable it again.",
            ),
        )


class OperatorLocked(SignInRefused):
    """Too many wrong passwords: sign-in is refused until ``params["until"]``."""

    def __init__(self, until: datetime, now: datetime) -> None:
        minutes = max(1, math.ceil((until - now).total_seconds() / 60))
        super().__init__(
            "sign_in_locked",
            QT_TRANSLATE_NOOP(
                "ServiceError", "Too many failed sign-ins. Try again in {minutes} min."
            ),
            minutes=minutes,
            until=until,
        )


class FirstAdminExists(ServiceError):
    """:func:`create_first_admin` on a database where an operator can already sign in."""

    def __init__(self) -> None:
        super().__init__(
            "first_admin_exists",
            QT_TRANSLATE_NOOP(
                "ServiceError",
                "This database already has an administrator. Sign in with your email "
                "address and password, or ask an administrator to create your operator.",
            ),
        )


# --------------------------------------------------------------------------- passwords


@cache
def password_hasher() -> PasswordHasher:
    """The one Argon2id hasher (argon2-cffi's default profile, above OWASP's minimum)."""
    from argon2 import PasswordHasher, Type

    hasher = PasswordHasher()
    assert hasher.type is Type.ID
    assert hasher.memory_cost >= OWASP_MIN_MEMORY_KIB
    assert hasher.time_cost >= OWASP_MIN_TIME_COST
    return hasher


def _normalised(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    """The Argon2id hash to store for ``password`` (salted: never the same twice)."""
    return password_hasher().hash(_normalised(password))


def verify_password(stored_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash`` (False for a damaged hash too)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return password_hasher().verify(stored_hash, _normalised(password))
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    """What an unknown email is checked against, so it costs as much as a real check."""
    return password_hasher().hash("no operator has this password")


def _password_error(code: str, message: str, **params: object) -> ValidationError:
    return ValidationError(code, message, {"field": _FIELD, **params})


#: Passwords long enough but guessed first by anyone (folded, without spaces).
_COMMON = frozenset(
    {
        "password1234", "passwordpassword", "password12345", "password123456",
        "qwertyuiop12", "qwertyuiop123", "qwertyuiopasdf", "iloveyou1234",
        "letmein12345", "welcome12345", "administrator", "administrator1",
        "billingdesktop", "changeme1234", "trustno1trustno1",
    }
)  # fmt: skip
_ROWS = ("0123456789", "abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm", "azertyuiop")


def validate_password(password: str, *, email: str = "", name: str = "") -> None:
    """Raise :class:`ValidationError` (``params["field"] == "password"``) unless
    ``password`` may be used by the operator with this ``email`` and ``name``."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise _password_error(
            "password_too_short",
            QT_TRANSLATE_NOOP("ServiceError", "The password must have at least {min} characters."),
            min=MIN_PASSWORD_LENGTH,
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise _password_error(
            "password_too_long",
            QT_TRANSLATE_NOOP("ServiceError", "The password may have at most {max} characters."),
            max=MAX_PASSWORD_LENGTH,
        )
    folded = "".join(_normalised(password).casefold().split())
    address = "".join(email.casefold().split())
    local_part = address.partition("@")[0]
    if address and folded in (address, local_part):
        raise _password_error(
            "password_is_email",
            QT_TRANSLATE_NOOP("ServiceError", "The password must not be the email address."),
        )
    if name and folded == "".join(name.casefold().split()):
        raise _password_error(
            "password_is_name",
            QT_TRANSLATE_NOOP("ServiceError", "The password must not be the operator's name."),
        )
    # a run along the keyboard or the alphabet, wrapping round ("567890123456")
    sequence = any(folded in row * 3 or folded in (row * 3)[::-1] for row in _ROWS)
    if len(set(folded)) < 4 or sequence or folded in _COMMON:
        raise _password_error(
            "password_too_simple",
            QT_TRANSLATE_NOOP(
                "ServiceError",
                "This password is too easy to guess. A few unrelated words make a good password.",
            ),
        )


# --------------------------------------------------------------------------- lockout


def lockout_duration(failures: int) -> timedelta | None:
    """How long ``failures`` consecutive wrong passwords lock sign-in (None: not at all)."""
    if failures < LOCKOUT_THRESHOLD:
        return None
    doublings = min(failures - LOCKOUT_THRESHOLD, 16)
    return min(LOCKOUT_FIRST * 2**doublings, LOCKOUT_MAX)


# --------------------------------------------------------------------------- signing in


def _audit(
    session: Session, action: str, at: datetime, operator_id: int | None, after: Mapping[str, Any]
) -> None:
    from billing_desktop.store.models import AuditEntry

    plain = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in after.items()}
    session.add(
        AuditEntry(
            at=at,
            operator_id=operator_id,
            account_id=None,
            requested_by_contact_id=None,
            action=action,
            before_json=None,
            after_json=json.dumps(plain, sort_keys=True, ensure_ascii=False),
        )
    )


def _refused(
    db: Database,
    now: datetime,
    *,
    operator_id: int | None,
    email: str,
    reason: str,
    count: bool = False,
) -> None:
    """Record one refused attempt (and, with ``count``, one more wrong password)."""
    from sqlalchemy import select, update

    from billing_desktop.store.models import Operator

    t = Operator.__table__
    after: dict[str, Any] = {"email": email[:254], "reason": reason}
    with db.transaction() as session:
        if count and operator_id is not None:
            current = session.execute(
                select(t.c.failed_sign_ins).where(t.c.id == operator_id).with_for_update()
            ).scalar_one()
            failures = int(current) + 1
            values: dict[str, Any] = {"failed_sign_ins": failures, "last_failed_sign_in_at": now}
            after["failed_sign_ins"] = failures
            lock = lockout_duration(failures)
            if lock is not None:
                values["locked_until"] = now + lock
                after["locked_until"] = now + lock
            session.execute(update(t).where(t.c.id == operator_id).values(**values))
        _audit(session, "sign_in_failed", now, operator_id, after)


def sign_in(
    db: Database,
    email: str,
    password: str,
    *,
    now: datetime,
    sleep: Callable[[float], object] = time.sleep,
) -> OperatorInfo:
    """The operator with this email and password, signed in at ``now``.

    Raises :class:`WrongCredentials` (unknown email or wrong password),
    :class:`OperatorDisabled` or :class:`OperatorLocked`, each after
    ``sleep(FAILURE_DELAY_SECONDS)`` and with the attempt audited. On success
    the failure count is cleared, the sign-in time stored, the hash replaced
    if its parameters are outdated, and ``sign_in`` audited. ``now`` is the
    machine's local time (naive, as every time the database stores).
    """
    from sqlalchemy import func, select

    from billing_desktop.store.models import Operator

    t = Operator.__table__
    typed = email.strip()
    with db.engine.connect() as conn:
        found = conn.execute(
            select(t.c.id, t.c.email, t.c.name, t.c.role, t.c.active, t.c.password_hash,
                   t.c.locked_until)
            .where(func.lower(t.c.email) == typed.lower())
            .order_by(t.c.id)
            .limit(1)
        ).first()  # fmt: skip

    if found is None or not found.password_hash:
        verify_password(_dummy_hash(), password)  # the same work as a real check
        reason = "unknown_email" if found is None else "no_password"
        _refused(db, now, operator_id=found.id if found else None, email=typed, reason=reason)
        sleep(FAILURE_DELAY_SECONDS)
        raise WrongCredentials()
    if found.locked_until is not None and found.locked_until > now:
        _refused(db, now, operator_id=found.id, email=typed, reason="locked")
        sleep(FAILURE_DELAY_SECONDS)
        raise OperatorLocked(found.locked_until, now)
    if not verify_password(found.password_hash, password):
        _refused(db, now, operator_id=found.id, email=typed, reason="wrong_password", count=True)
        sleep(FAILURE_DELAY_SECONDS)
        raise WrongCredentials()
    if not found.active:
        _refused(db, now, operator_id=found.id, email=typed, reason="disabled")
        sleep(FAILURE_DELAY_SECONDS)
        raise OperatorDisabled()

    # Hash again (outside the transaction: it takes a moment) if the stored
    # hash was made with other parameters than the hasher's.
    new_hash = (
        hash_password(password)
        if password_hasher().check_needs_rehash(found.password_hash)
        else None
    )
    return _signed_in(db, found.id, found.password_hash, new_hash, now)


def _signed_in(
    db: Database, operator_id: int, checked_hash: str, new_hash: str | None, now: datetime
) -> OperatorInfo:
    from sqlalchemy import select, update

    from billing_desktop.store.models import Operator

    t = Operator.__table__
    with db.transaction() as session:
        row = session.execute(
            select(t.c.id, t.c.email, t.c.name, t.c.role, t.c.active, t.c.password_hash)
            .where(t.c.id == operator_id)
            .with_for_update()
        ).one()
        if row.password_hash != checked_hash or not row.active:
            # An administrator reset the password or disabled the operator
            # while the password was being checked: the check no longer holds.
            changed = True
        else:
            changed = False
            values: dict[str, Any] = {
                "failed_sign_ins": 0,
                "locked_until": None,
                "last_signed_in_at": now,
            }
            after: dict[str, Any] = {"email": row.email}
            if new_hash is not None:
                values["password_hash"] = new_hash
                after["password_rehashed"] = True
            session.execute(update(t).where(t.c.id == operator_id).values(**values))
            _audit(session, "sign_in", now, operator_id, after)
    if changed:
        reason = "disabled" if not row.active else "password_changed"
        _refused(db, now, operator_id=operator_id, email=row.email, reason=reason)
        raise OperatorDisabled() if not row.active else WrongCredentials()
    return OperatorInfo(id=row.id, email=row.email, name=row.name, role=row.role)


# --------------------------------------------------------------------------- first administrator


def needs_first_admin(db: Database) -> bool:
    """True while no operator of the database has a password (a brand-new shared database)."""
    return (
        db.reader.scalar("SELECT id FROM operators WHERE password_hash IS NOT NULL LIMIT 1") is None
    )


def create_first_admin(
    db: Database, email: str, name: str, password: str, *, now: datetime
) -> OperatorInfo:
    """Create the first administrator of a brand-new shared database and sign them in.

    Raises :class:`ValidationError` (``params["field"]``: ``email``, ``name``
    or ``password``) for a bad value, and :class:`FirstAdminExists` when an
    operator can already sign in (also when another machine created the first
    administrator at the same moment). Audited: ``operator.created`` and
    ``sign_in``.
    """
    from sqlalchemy import func, select
    from sqlalchemy.exc import IntegrityError

    from billing_desktop.services.operators import validate_identity
    from billing_desktop.store.models import AppSetting, Operator

    clean_name, clean_email = validate_identity(name, email)
    validate_password(password, email=clean_email, name=clean_name)
    if not needs_first_admin(db):
        raise FirstAdminExists()
    new_hash = hash_password(password)
    try:
        with db.transaction() as session:
            if (
                session.scalar(
                    select(Operator.id).where(Operator.password_hash.is_not(None)).limit(1)
                )
                is not None
            ):
                raise FirstAdminExists()
            # the lock that makes a concurrent first administrator fail
            session.add(AppSetting(key=FIRST_ADMIN_KEY, value=clean_email))
            session.flush()
            if (
                session.scalar(
                    select(Operator.id).where(func.lower(Operator.email) == clean_email.lower())
                )
                is not None
            ):
                raise ValidationError(
                    "operator_email_taken",
                    QT_TRANSLATE_NOOP(
                        "ServiceError", "Another operator already uses the email {email}."
                    ),
                    {"field": "email", "email": clean_email},
                )
            op = Operator(
                email=clean_email,
                name=clean_name,
                role="admin",
                password_hash=new_hash,
                active=True,
                created_at=now,
                failed_sign_ins=0,
                last_signed_in_at=now,
            )
            session.add(op)
            session.flush()
            _audit(session, "operator.created", now, op.id,
                   {"operator": clean_email, "name": clean_name, "role": "admin",
                    "first_admin": True})  # fmt: skip
            _audit(session, "sign_in", now, op.id, {"email": clean_email})
            return OperatorInfo(id=op.id, email=op.email, name=op.name, role=op.role)
    except IntegrityError:
        raise FirstAdminExists() from None
