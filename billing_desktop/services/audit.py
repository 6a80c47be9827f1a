"""The audit trail: every service write appends who, when, which account, what, before/after.

Entries are only ever inserted (SPEC §2, append-only); values are stored as
JSON so the Activity tab can show exactly what changed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import Session

    from billing_desktop.services.context import AppContext


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"cannot record {type(value).__name__} in the audit trail")


#: ``json.dumps(values, default=_plain, sort_keys=True, ensure_ascii=False)``, one encoder
_ENCODER = json.JSONEncoder(default=_plain, sort_keys=True, ensure_ascii=False)


def _dump(values: Mapping[str, Any] | None) -> str | None:
    if values is None:
        return None
    return _ENCODER.encode(dict(values))


def entry(
    ctx: AppContext,
    action: str,
    account_id: int | None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    requested_by_contact_id: int | None = None,
    *,
    at: datetime | None = None,
) -> dict[str, Any]:
    """The column values of one audit entry (``at``: now on ``ctx``'s clock)."""
    return {
        "at": ctx.clock.now() if at is None else at,
        "operator_id": ctx.operator.id,
        "account_id": account_id,
        "requested_by_contact_id": requested_by_contact_id,
        "action": action,
        "before_json": _dump(before),
        "after_json": _dump(after),
    }


def record(
    session: Session,
    ctx: AppContext,
    action: str,
    account_id: int | None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    requested_by_contact_id: int | None = None,
) -> None:
    """Append one audit entry in the caller's transaction."""
    from billing_desktop.store.models import AuditEntry

    session.add(
        AuditEntry(**entry(ctx, action, account_id, before, after, requested_by_contact_id))
    )


def write(conn: Connection, entries: Sequence[Mapping[str, Any]]) -> None:
    """Insert :func:`entry` values in the caller's transaction (Core, one round trip)."""
    global _INSERT
    if _INSERT is None:
        from sqlalchemy import insert

        from billing_desktop.store.bulk import Prepared
        from billing_desktop.store.models import AuditEntry

        _INSERT = Prepared(insert(AuditEntry.__table__))
    _INSERT.many(conn, entries)


_INSERT: Any = None


def snapshot(entity: Any, *fields: str) -> dict[str, Any]:
    """The named attributes of ``entity``, for before/after values."""
    return {name: getattr(entity, name) for name in fields}
