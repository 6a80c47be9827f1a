"""The operator's own identity: the name and email shown in the status bar and the audit.

An embedded database's local operator is created from the OS login
(``<login>@localhost``, see :func:`billing_desktop.services.context.local_operator`).
Operators may give themselves a real name and email here (Settings dialog).
Because the email is how the local operator is found at the next start, the
change also remembers the operator's id under ``operator.local.<login>`` in
``app_settings``, which ``local_operator`` reads first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from billing_desktop.domain.errors import ValidationError
from billing_desktop.domain.text import QT_TRANSLATE_NOOP
from billing_desktop.services.errors import NotFound

if TYPE_CHECKING:
    from billing_desktop.services.context import AppContext, OperatorInfo

__all__ = [
    "LOCAL_OPERATOR_KEY",
    "OperatorIdentity",
    "operator_identity",
    "update_operator_identity",
]

#: ``app_settings`` key (with the OS login appended) holding the local operator's id.
LOCAL_OPERATOR_KEY = "operator.local."

MAX_NAME = 200
MAX_EMAIL = 254
#: one "@" with something on both sides; a bare host ("root@localhost", the
#: automatic identity) is allowed, as it is a real address on the machine
_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;.][^@\s<>,;]*$")


@dataclass(frozen=True, slots=True)
class OperatorIdentity:
    """What the Settings dialog shows and edits; ``version`` guards against lost updates."""

    id: int
    name: str
    email: str
    role: str
    version: int


def operator_identity(ctx: AppContext) -> OperatorIdentity:
    """The signed-in operator's name and email as stored now."""
    rows = ctx.db.reader.rows(
        "SELECT id, name, email, role, version FROM operators WHERE id = :id",
        {"id": ctx.operator.id},
    )
    if not rows:
        raise NotFound(QT_TRANSLATE_NOOP("ServiceError", "Operator"), ctx.operator.email)
    r = rows[0]
    return OperatorIdentity(int(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4]))


def _field_error(field: str, code: str, message: str, **params: object) -> ValidationError:
    return ValidationError(code, message, {"field": field, **params})


def validate_identity(name: str, email: str) -> tuple[str, str]:
    """Trimmed ``(name, email)``; :class:`ValidationError` with ``params["field"]``."""
    clean_name = " ".join(name.split())
    clean_email = email.strip()
    if not clean_name:
        raise _field_error(
            "name",
            "operator_name_missing",
            QT_TRANSLATE_NOOP("ServiceError", "Enter your name."),
        )
    if len(clean_name) > MAX_NAME:
        raise _field_error(
            "name",
            "operator_name_too_long",
            QT_TRANSLATE_NOOP("ServiceError", "The name may have at most {max} characters."),
            max=MAX_NAME,
        )
    if len(clean_email) > MAX_EMAIL or not _ADDRESS.match(clean_email):
        raise _field_error(
            "email",
            "operator_email_invalid",
            QT_TRANSLATE_NOOP("ServiceError", "{email} is not a valid email address."),
            email=clean_email,
        )
    return clean_name, clean_email


def update_operator_identity(
    ctx: AppContext, name: str, email: str, *, expected_version: int | None = None
) -> OperatorInfo:
    """Change the signed-in operator's own name and email; returns the new :class:`OperatorInfo`.

    Every operator may change their own identity (nobody else's); the role is
    never changed here. Raises :class:`ValidationError` (``params["field"]``
    is ``name`` or ``email``) for a bad value or an email another operator
    uses, and :class:`ConflictError` if the operator changed since
    ``expected_version`` was read. Audited with the values before and after.
    """
    from sqlalchemy import func, select

    from billing_desktop.services import audit
    from billing_desktop.services.base import OPERATOR_CHANGES, check_version, lock, writing
    from billing_desktop.services.context import OperatorInfo, local_login
    from billing_desktop.store.models import AppSetting, Operator

    clean_name, clean_email = validate_identity(name, email)
    what = QT_TRANSLATE_NOOP("ServiceError", "Your operator identity")
    with writing(ctx, what, account=OPERATOR_CHANGES) as session:
        op = session.get(Operator, ctx.operator.id)
        if op is None or not op.active:
            raise NotFound(QT_TRANSLATE_NOOP("ServiceError", "Operator"), ctx.operator.email)
        if expected_version is not None:
            lock(session, op)
            check_version(session, op, expected_version, what, None)
        taken = session.scalar(
            select(Operator.id).where(
                func.lower(Operator.email) == clean_email.lower(), Operator.id != op.id
            )
        )
        if taken is not None:
            raise _field_error(
                "email",
                "operator_email_taken",
                QT_TRANSLATE_NOOP(
                    "ServiceError", "Another operator already uses the email {email}."
                ),
                email=clean_email,
            )
        before = {"name": op.name, "email": op.email}
        after = {"name": clean_name, "email": clean_email}
        if before != after:
            login = local_login()
            key = LOCAL_OPERATOR_KEY + login
            remembered = session.get(AppSetting, key)
            if op.email.lower() == f"{login}@localhost".lower() or (
                remembered is not None and remembered.value == str(op.id)
            ):
                # the local operator: found by id from now on, whatever its email
                session.merge(AppSetting(key=key, value=str(op.id)))
            op.name, op.email = clean_name, clean_email
            session.flush()
            audit.record(session, ctx, "operator.identity_changed", None, before, after)
        return OperatorInfo(id=op.id, email=op.email, name=op.name, role=op.role)
