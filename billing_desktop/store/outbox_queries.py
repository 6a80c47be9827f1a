"""Read queries of the Emails view: the outbox of every account, page by page (SPEC §4).

Plain SQL through :class:`~billing_desktop.store.database.Reader`, plain rows
back, like :mod:`billing_desktop.store.queries`. The list is read in pages
with keyset pagination on the primary key: newest first is ``ORDER BY id
DESC`` continuing with ``id < <last id seen>``. The id is the order in which
emails entered the outbox; it follows ``created_at`` (written from the clock
in the same transaction), and unlike ``created_at`` it needs no index of its
own: a page costs the same at 100 emails and at 100 000.

The body is not part of a page (it is most of an email's bytes): the preview
reads the one selected email with :func:`outbox_message`.

A status filter can be answered two ways, and the cheaper one depends on how
common the status is, which :func:`outbox_counts` tells (one pass over the
``(status, next_attempt_at)`` index):

- a common status (most emails are ``sent``): walk the table by id from the
  newest and skip the others — a page reads about ``limit × total ÷ matching``
  rows. ``(status || '')`` keeps the planner off the status index, which would
  make it collect and sort every matching row first;
- a rare status (a few ``failed`` among 100 000): take the page's ids from the
  status index alone (a covering scan sorting only integers), then read those
  rows by primary key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from billing_desktop.store.database import Reader

__all__ = [
    "STATUSES",
    "OutboxMessage",
    "OutboxRow",
    "due_count",
    "outbox_count",
    "outbox_counts",
    "outbox_message",
    "outbox_page",
    "outbox_page_sql",
]

#: The stored delivery statuses (``emails.status``).
STATUSES = ("queued", "sent", "failed")

#: A status filter matching less than this share of all emails reads its ids
#: from the status index (see the module docstring).
RARE_SHARE = 0.1


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One row of the Emails view (everything but the body)."""

    id: int
    account_id: int | None
    account_number: str | None
    company_name: str | None
    kind: str
    to_address: str
    cc_addresses: str
    subject: str
    language: str
    status: str
    created_at: datetime
    sent_at: datetime | None
    attempts: int
    #: the server's or the connection's complaint of the last failed attempt
    last_error: str | None
    #: when a failed email is tried again (None for queued and sent ones)
    next_attempt_at: datetime | None


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One email with its rendered text, for the preview."""

    row: OutboxRow
    body_text: str


_COLUMNS = (
    "e.id, e.account_id, a.account_number, a.company_name, e.kind, e.to_address, "
    "e.cc_addresses, e.subject, e.language, e.status, e.created_at, e.sent_at, e.attempts, "
    "e.last_error, e.next_attempt_at"
)
_FROM = "FROM emails e LEFT JOIN accounts a ON a.id = e.account_id"


def _when(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _row(r: tuple[Any, ...]) -> OutboxRow:
    status = str(r[9])
    return OutboxRow(
        id=int(r[0]),
        account_id=r[1],
        account_number=r[2],
        company_name=r[3],
        kind=str(r[4]),
        to_address=str(r[5] or ""),
        cc_addresses=str(r[6] or ""),
        subject=str(r[7] or ""),
        language=str(r[8] or ""),
        status=status,
        created_at=_when(r[10]),  # type: ignore[arg-type]
        sent_at=_when(r[11]),
        attempts=int(r[12] or 0),
        last_error=r[13],
        next_attempt_at=_when(r[14]) if status == "failed" else None,
    )


def _statuses(statuses: Iterable[str] | None) -> list[str] | None:
    """The statuses to show, None for all of them; unknown values are refused."""
    if statuses is None:
        return None
    wanted = sorted(set(statuses))
    unknown = [s for s in wanted if s not in STATUSES]
    if unknown:
        raise ValueError(f"unknown email status {unknown[0]!r}")
    return None if len(wanted) == len(STATUSES) else wanted


def _status_params(wanted: list[str]) -> tuple[str, dict[str, Any]]:
    names = [f"s{i}" for i in range(len(wanted))]
    return ", ".join(f":{n}" for n in names), dict(zip(names, wanted, strict=True))


def outbox_counts(reader: Reader) -> dict[str, int]:
    """How many emails have each status (every status present, 0 if none)."""
    counts = dict.fromkeys(STATUSES, 0)
    for status, count in reader.rows("SELECT status, COUNT(*) FROM emails GROUP BY status"):
        counts[str(status)] = int(count)
    return counts


def outbox_count(reader: Reader, statuses: Iterable[str] | None = None) -> int:
    """How many emails have one of ``statuses`` (all emails for None)."""
    wanted = _statuses(statuses)
    if wanted is None:
        return int(reader.scalar("SELECT COUNT(*) FROM emails") or 0)
    if not wanted:
        return 0
    placeholders, params = _status_params(wanted)
    sql = f"SELECT COUNT(*) FROM emails WHERE status IN ({placeholders})"
    return int(reader.scalar(sql, params) or 0)


def _is_rare(wanted: list[str], counts: Mapping[str, int] | None) -> bool:
    if counts is None:
        return False
    total = sum(counts.values())
    matching = sum(counts.get(s, 0) for s in wanted)
    return total > 0 and matching < total * RARE_SHARE


def outbox_page_sql(
    statuses: Iterable[str] | None = None,
    after_id: int | None = None,
    limit: int = 200,
    counts: Mapping[str, int] | None = None,
) -> tuple[str, dict[str, Any]]:
    """The SQL and parameters of one page, newest first, continuing below ``after_id``.

    ``counts`` (from :func:`outbox_counts`) chooses how a status filter is
    answered; without it the table is walked by id.
    """
    wanted = _statuses(statuses)
    params: dict[str, Any] = {"limit": int(limit)}
    if wanted is not None and not wanted:
        return f"SELECT {_COLUMNS} {_FROM} WHERE 1 = 0", params
    conditions: list[str] = []
    if after_id is not None:
        params["after_id"] = int(after_id)
    if wanted is None:
        if after_id is not None:
            conditions.append("e.id < :after_id")
    else:
        placeholders, status_params = _status_params(wanted)
        params.update(status_params)
        if _is_rare(wanted, counts):
            below = " AND id < :after_id" if after_id is not None else ""
            conditions.append(
                f"e.id IN (SELECT id FROM emails WHERE status IN ({placeholders}){below} "
                "ORDER BY id DESC LIMIT :limit)"
            )
        else:
            conditions.append(f"(e.status || '') IN ({placeholders})")
            if after_id is not None:
                conditions.append("e.id < :after_id")
    where = " WHERE " + " AND ".join(conditions) if conditions else ""
    return f"SELECT {_COLUMNS} {_FROM}{where} ORDER BY e.id DESC LIMIT :limit", params


def outbox_page(
    reader: Reader,
    statuses: Iterable[str] | None = None,
    after_id: int | None = None,
    limit: int = 200,
    counts: Mapping[str, int] | None = None,
) -> list[OutboxRow]:
    """One page of the outbox, newest first; pass the last row's id to continue."""
    sql, params = outbox_page_sql(statuses, after_id, limit, counts)
    return [_row(r) for r in reader.rows(sql, params)]


def outbox_message(reader: Reader, email_id: int) -> OutboxMessage | None:
    """The email ``email_id`` with its body; None when it no longer exists."""
    rows = reader.rows(
        f"SELECT {_COLUMNS}, e.body_text {_FROM} WHERE e.id = :id", {"id": int(email_id)}
    )
    if not rows:
        return None
    return OutboxMessage(row=_row(rows[0][:-1]), body_text=str(rows[0][-1] or ""))


def due_count(reader: Reader, now: datetime) -> int:
    """Emails a delivery run would send now: queued, or failed with their retry time come.

    The same condition as ``services.smtp``'s due query; two ranges of the
    ``(status, next_attempt_at)`` index.
    """
    sql = (
        "SELECT (SELECT COUNT(*) FROM emails WHERE status = 'queued') + "
        "(SELECT COUNT(*) FROM emails WHERE status = 'failed' AND next_attempt_at <= :now)"
    )
    return int(reader.scalar(sql, {"now": _stored_moment(reader, now)}) or 0)


def _stored_moment(reader: Reader, moment: datetime) -> datetime | str:
    """``moment`` as SQLite holds SQLAlchemy's ``DateTime`` (text with microseconds), so
    a retry time equal to ``moment`` compares as equal; other engines take the datetime."""
    database = getattr(reader, "_database", None)
    if database is not None and database.target.is_sqlite:
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f")
    return moment
