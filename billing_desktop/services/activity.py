"""The audit trail of one account, for the Activity tab (SPEC §2 "Audit entry", issue 4).

Read-only: entries newest first (by time, then id), a page at a time, so an
account with thousands of entries opens as fast as one with three. Each page
continues after the last entry shown (``before_id``): a keyset cursor on the
``(account_id, at)`` index, so page *n* costs the same as page 1.

The stored before/after JSON is parsed here and reduced to the fields that
changed (:class:`FieldChange`); contact ids are resolved to names and the
subscription an entry is about to its product name, so the UI only formats.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from billing_desktop.domain.text import QT_TRANSLATE_NOOP
from billing_desktop.services.auth import Action, authorize
from billing_desktop.services.errors import NotFound

if TYPE_CHECKING:
    from billing_desktop.services.context import AppContext

__all__ = [
    "PAGE_SIZE",
    "ActivityEntry",
    "FieldChange",
    "Requester",
    "account_activity",
    "account_requesters",
    "changed_fields",
]

#: Entries per page unless the caller asks for another size.
PAGE_SIZE = 200
#: The most one call returns, whatever ``limit`` says.
MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field of an audit entry whose value differs between before and after.

    Values are as stored (JSON: text, numbers, booleans, lists, None); dates and
    decimals are ISO text. Contact ids (fields named ``…contact_id(s)``) come
    as contact names. For lists, ``added``/``removed`` say what changed.
    """

    field: str
    before: Any
    after: Any
    #: the field did not exist before (a creation) / does not exist after (a removal)
    is_new: bool = False
    is_gone: bool = False
    added: tuple[Any, ...] = ()
    removed: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class ActivityEntry:
    """One line of the Activity tab."""

    id: int
    at: datetime
    action: str
    operator_name: str | None
    operator_email: str | None
    requested_by_contact_id: int | None
    requested_by_name: str | None
    requested_by_email: str | None
    #: the product of the subscription the entry is about, if any
    product_name: str | None
    #: the account's currency, for fields holding minor units (``…_minor``)
    currency: str
    #: fields whose value changed, in the order they were recorded
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True, slots=True)
class Requester:
    """A contact an operator can record as having asked for a change."""

    contact_id: int
    name: str
    email: str
    is_billing_contact: bool


_MISSING = object()


def _parse(text: str | None) -> dict[str, Any] | None:
    if text is None or text == "":
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return {"value": text}  # never seen; show it rather than fail the whole page
    return value if isinstance(value, dict) else {"value": value}


def _is_contact_field(name: str) -> bool:
    return name.endswith(("contact_id", "contact_ids"))


def _as_list(value: Any) -> list[Any] | None:
    return value if isinstance(value, list) else None


def _require_account(ctx: AppContext, account_id: int) -> str:
    """The account's currency; :class:`NotFound` when there is no such account."""
    rows = ctx.db.reader.rows(
        "SELECT currency FROM accounts WHERE id = :id", {"id": int(account_id)}
    )
    if not rows:
        raise NotFound(QT_TRANSLATE_NOOP("ServiceError", "Account"), account_id)
    return str(rows[0][0])


def changed_fields(
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    contact_names: Mapping[int, str] | None = None,
) -> tuple[FieldChange, ...]:
    """The fields whose value differs between ``before`` and ``after``.

    Fields only in one of them count as changed (``is_new``/``is_gone``).
    Contact ids are replaced by ``contact_names`` (``#id`` when unknown).
    """
    names = contact_names or {}
    old = dict(before or {})
    new = dict(after or {})
    keys = list(old)
    keys.extend(k for k in new if k not in old)

    def resolve(field: str, value: Any) -> Any:
        if not _is_contact_field(field):
            return value
        if isinstance(value, list):
            return [resolve(field, v) for v in value]
        if isinstance(value, int) and not isinstance(value, bool):
            return names.get(value, f"#{value}")
        return value

    out = []
    for key in keys:
        b = old.get(key, _MISSING)
        a = new.get(key, _MISSING)
        if b == a:
            continue
        added: tuple[Any, ...] = ()
        removed: tuple[Any, ...] = ()
        b_list, a_list = _as_list(b), _as_list(a)
        if b_list is not None or a_list is not None:
            b_items, a_items = b_list or [], a_list or []
            added = tuple(resolve(key, v) for v in a_items if v not in b_items)
            removed = tuple(resolve(key, v) for v in b_items if v not in a_items)
        out.append(
            FieldChange(
                field=key,
                before=None if b is _MISSING else resolve(key, b),
                after=None if a is _MISSING else resolve(key, a),
                is_new=b is _MISSING,
                is_gone=a is _MISSING,
                added=added,
                removed=removed,
            )
        )
    return tuple(out)


def _when(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _contact_ids(values: Iterable[Mapping[str, Any] | None]) -> set[int]:
    found: set[int] = set()
    for mapping in values:
        for key, value in (mapping or {}).items():
            if not _is_contact_field(key):
                continue
            items = value if isinstance(value, list) else [value]
            found.update(v for v in items if isinstance(v, int) and not isinstance(v, bool))
    return found


def _in_list(prefix: str, ids: Iterable[int]) -> tuple[str, dict[str, Any]]:
    """``:p0, :p1, …`` and its parameters (ids are ints; never formatted into SQL)."""
    params = {f"{prefix}{i}": value for i, value in enumerate(ids)}
    return ", ".join(f":{name}" for name in params), params


def _names(ctx: AppContext, contact_ids: set[int]) -> dict[int, str]:
    if not contact_ids:
        return {}
    marks, params = _in_list("c", sorted(contact_ids))
    rows = ctx.db.reader.rows(
        f"SELECT id, first_name, last_name, email FROM contacts WHERE id IN ({marks})", params
    )
    return {r[0]: f"{r[1]} {r[2]}".strip() or r[3] for r in rows}


def _product_names(
    ctx: AppContext, subscription_ids: set[int], product_codes: set[str]
) -> tuple[dict[int, str], dict[str, str]]:
    by_sub: dict[int, str] = {}
    by_code: dict[str, str] = {}
    if subscription_ids:
        marks, params = _in_list("s", sorted(subscription_ids))
        rows = ctx.db.reader.rows(
            "SELECT s.id, p.name FROM subscriptions s JOIN products p ON p.id = s.product_id "
            f"WHERE s.id IN ({marks})",
            params,
        )
        by_sub = {r[0]: r[1] for r in rows}
    if product_codes:
        marks, params = _in_list("p", sorted(product_codes))
        rows = ctx.db.reader.rows(
            f"SELECT code, name FROM products WHERE code IN ({marks})", params
        )
        by_code = {r[0]: r[1] for r in rows}
    return by_sub, by_code


def _subject(values: Iterable[Mapping[str, Any] | None]) -> tuple[int | None, str | None]:
    """The subscription id and product code an entry is about, if it names them."""
    sub_id: int | None = None
    code: str | None = None
    for mapping in values:
        if not mapping:
            continue
        sid = mapping.get("subscription_id")
        if sub_id is None and isinstance(sid, int) and not isinstance(sid, bool):
            sub_id = sid
        product = mapping.get("product")
        if code is None and isinstance(product, str):
            code = product
    return sub_id, code


_SELECT = (
    "SELECT e.id, e.at, e.action, o.name, o.email, e.requested_by_contact_id, "
    "c.first_name, c.last_name, c.email, e.before_json, e.after_json "
    "FROM audit_entries e "
    "LEFT JOIN operators o ON o.id = e.operator_id "
    "LEFT JOIN contacts c ON c.id = e.requested_by_contact_id "
    "WHERE e.account_id = :account_id"
)
#: Keyset continuation: strictly older than the entry the last page ended with.
#: The cursor's time is read from the table itself, so its stored value is
#: compared with like, never re-encoded; the row value is a range on the index.
_AFTER_CURSOR = " AND (e.at, e.id) < (SELECT at, id FROM audit_entries WHERE id = :before_id)"
_ORDER = " ORDER BY e.at DESC, e.id DESC LIMIT :limit"


def account_activity(
    ctx: AppContext,
    account_id: int,
    *,
    before_id: int | None = None,
    limit: int = PAGE_SIZE,
) -> list[ActivityEntry]:
    """Up to ``limit`` audit entries of the account, newest first.

    ``before_id``: the id of the last entry of the previous page; the page then
    continues with the entries older than that one. Entries of the same moment
    come in reverse id order (the later write first).
    """
    authorize(ctx, Action.VIEW)
    reader = ctx.db.reader
    currency = _require_account(ctx, account_id)
    params: dict[str, Any] = {
        "account_id": int(account_id),
        "limit": max(1, min(int(limit), MAX_PAGE)),
    }
    sql = _SELECT
    if before_id is not None:
        sql += _AFTER_CURSOR
        params["before_id"] = int(before_id)
    rows = reader.rows(sql + _ORDER, params)

    parsed = [(_parse(r[9]), _parse(r[10])) for r in rows]
    names = _names(ctx, _contact_ids(v for pair in parsed for v in pair))
    subjects = [_subject(pair) for pair in parsed]
    by_sub, by_code = _product_names(
        ctx,
        {sid for sid, _code in subjects if sid is not None},
        {code for _sid, code in subjects if code is not None},
    )
    entries = []
    for r, (before, after), (sid, code) in zip(rows, parsed, subjects, strict=True):
        product = by_sub.get(sid) if sid is not None else None
        if product is None and code is not None:
            product = by_code.get(code, code)
        requester = f"{r[6] or ''} {r[7] or ''}".strip() or r[8] if r[5] is not None else None
        entries.append(
            ActivityEntry(
                id=r[0],
                at=_when(r[1]),
                action=r[2],
                operator_name=r[3],
                operator_email=r[4],
                requested_by_contact_id=r[5],
                requested_by_name=requester,
                requested_by_email=r[8],
                product_name=product,
                currency=currency,
                changes=changed_fields(before, after, names),
            )
        )
    return entries


def account_requesters(ctx: AppContext, account_id: int) -> tuple[Requester, ...]:
    """The account's contacts, billing contact first, then by name.

    The "requested by" of a change (SPEC §3: an operator acting for the
    customer records which contact asked), as the audit trail stores it.
    """
    authorize(ctx, Action.VIEW)
    _require_account(ctx, account_id)
    rows = ctx.db.reader.rows(
        "SELECT id, first_name, last_name, email, is_billing_contact FROM contacts "
        "WHERE account_id = :account_id",
        {"account_id": int(account_id)},
    )
    found = [
        Requester(
            contact_id=r[0],
            name=f"{r[1]} {r[2]}".strip() or r[3],
            email=r[3],
            is_billing_contact=bool(r[4]),
        )
        for r in rows
    ]
    found.sort(key=lambda c: (not c.is_billing_contact, c.name.casefold(), c.contact_id))
    return tuple(found)
