"""The audit trail: every service write appends who, when, which account, what, before/after.

Entries are only ever inserted (SPEC §2, append-only); values are stored as
JSON so the Activity tab can show exactly what changed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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


def _dump(values: Mapping[str, Any] | None) -> str | None:
    if values is None:
        return None
    return json.dumps(dict(values), default=_plain, sort_keys=True, ensure_ascii=False)


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
        AuditEntry(
            at=ctx.clock.now(),
            operator_id=ctx.operator.id,
            account_id=account_id,
            requested_by_contact_id=requested_by_contact_id,
            action=action,
            before_json=_dump(before),
            after_json=_dump(after),
        )
    )


def snapshot(entity: Any, *fields: str) -> dict[str, Any]:
    """The named attributes of ``entity``, for before/after values."""
    return {name: getattr(entity, name) for name in fields}
