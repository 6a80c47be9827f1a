"""Small helpers every use case shares: loading what it changes, checking versions.

Optimistic locking (SPEC §6, issue 8): a write given the ``expected_version``
the operator's screen read

* loads that row with ``SELECT … FOR UPDATE`` (PostgreSQL; SQLite's write
  transaction already holds the database's write lock), so a concurrent writer
  of the same row waits for this transaction and then sees its version;
* refuses with :class:`ConflictError` when the version moved on;
* moves the version on when the transaction writes anything, even if only
  the row's children changed (a contact's seat, a payment method, a recipient
  list): two sessions that read version v and both write → exactly one
  succeeds, the other gets the conflict and changes nothing.

:func:`writing` is the transaction of such a use case: it turns a lost race
(``StaleDataError``) into :class:`ConflictError` and, after the failed
transaction rolled back, names the operator and time of the latest change to
the account (its latest audit entry). :func:`reading` is the session of a
read-only use case; both turn a fault of the database into its user message.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from billing_desktop.domain.text import QT_TRANSLATE_NOOP
from billing_desktop.services.errors import ConflictError, NotFound, PolicyViolation

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from billing_desktop.services.context import AppContext
    from billing_desktop.store.database import Database
    from billing_desktop.store.models import Account, Contact, Subscription

#: ``session.info`` key: the id of the account the use case loaded first
ACCOUNT_KEY = "billing_desktop.account_id"
#: ``session.info`` key: rows whose version must move on with the transaction's writes
_GUARDED_KEY = "billing_desktop.guarded"
#: :func:`last_change` key for the operators' own changes (audited without an account)
OPERATOR_CHANGES = "operator.*"


def get_account(
    session: Session, account_id: int | str, *, expected_version: int | None = None
) -> Account:
    """The account by id or account number (``A-100234``).

    ``expected_version`` is the version the operator's screen showed; if the
    account changed since, :class:`ConflictError` is raised and nothing is
    written (see the module's docstring: the row is locked and its version
    moves on with the transaction's writes).
    """
    from billing_desktop.store.models import Account

    lock = expected_version is not None
    if isinstance(account_id, str):
        query = select(Account).where(Account.account_number == account_id)
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        account = session.scalar(query)
    else:
        account = session.get(
            Account, account_id, with_for_update=True if lock else None, populate_existing=lock
        )
    if account is None:
        raise NotFound(QT_TRANSLATE_NOOP("ServiceError", "Account"), account_id)
    session.info.setdefault(ACCOUNT_KEY, account.id)
    check_version(session, account, expected_version, account.account_number, account.id)
    return account


def get_subscription(
    session: Session, subscription_id: int, *, expected_version: int | None = None
) -> Subscription:
    from billing_desktop.store.models import Subscription

    lock = expected_version is not None
    sub = session.get(
        Subscription, subscription_id, with_for_update=True if lock else None,
        populate_existing=lock,
    )  # fmt: skip
    if sub is None:
        raise NotFound(QT_TRANSLATE_NOOP("ServiceError", "Subscription"), subscription_id)
    session.info.setdefault(ACCOUNT_KEY, sub.account_id)
    check_version(session, sub, expected_version, sub.product.name, sub.account_id)
    return sub


def lock(session: Session, entity: Any) -> None:
    """Lock ``entity``'s row until the transaction ends and read it again (PostgreSQL:
    ``SELECT … FOR UPDATE``; on SQLite the write transaction holds the lock already)."""
    if session.get_bind().dialect.name != "sqlite":
        session.refresh(entity, with_for_update=True)


def check_version(
    session: Session,
    entity: Any,
    expected_version: int | None,
    what: str,
    account_id: int | None,
) -> None:
    """Refuse with :class:`ConflictError` if ``entity`` is no longer at ``expected_version``
    (``None``: not checked); else its version moves on with the transaction's writes.

    ``entity`` should have been read locked (:func:`lock`, or ``with_for_update``)."""
    if expected_version is None:
        return
    if entity.version != expected_version:
        raise ConflictError(what, account=account_id)
    _install_version_mover()
    session.info.setdefault(_GUARDED_KEY, []).append(entity)


_MOVER_INSTALLED = False


def _install_version_mover() -> None:
    global _MOVER_INSTALLED
    if _MOVER_INSTALLED:
        return
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    event.listen(Session, "before_flush", _move_guarded_versions)
    _MOVER_INSTALLED = True


def _move_guarded_versions(session: Session, _flush: object, _instances: object) -> None:
    """On the transaction's first write, a checked row not otherwise changed still
    moves its version on (``UPDATE … SET version = v + 1 WHERE version = v``)."""
    guarded = session.info.pop(_GUARDED_KEY, None)
    for entity in guarded or ():
        if entity in session.deleted or entity not in session:
            continue
        if not session.is_modified(entity, include_collections=False):
            entity.version = entity.version + 1


# --------------------------------------------------------------------------- reading


@contextmanager
def reading(ctx: AppContext) -> Iterator[Session]:
    """A session for a read-only use case: a plain BEGIN (no write lock), rolled back
    and closed at the end (what was loaded stays readable, detached).

    A fault of the database raises its :class:`~billing_desktop.store.errors.DatabaseError`
    with the user's message, as :meth:`Database.transaction` and the reader's lists do:
    locked beyond the busy timeout, damaged, unreadable (a failing disk or share), a
    server that went away; a file that vanished is refused before anything is read
    (a new connection would create an empty database in its place). Afterwards the
    next use reconnects, as after a failed transaction.
    """
    from billing_desktop.store import errors

    db = ctx.db
    try:
        with errors.translated_errors(db.target.display_name(), is_sqlite=db.target.is_sqlite):
            db._check_file()
            with db.sessions() as session:
                yield session
    except errors.RECONNECT_AFTER:
        db._reconnect()
        raise


# --------------------------------------------------------------------------- conflicts


@contextmanager
def writing(ctx: AppContext, what: str, *, account: int | str | None = None) -> Iterator[Session]:
    """``ctx.db.transaction()`` for a use case that changes ``what``.

    A lost optimistic-locking race (``StaleDataError``) becomes
    :class:`ConflictError`; a conflict is completed, after the transaction
    rolled back, with the operator and time of the latest change to the
    account (``account``, or the one the use case loaded first).
    """
    from sqlalchemy.orm.exc import StaleDataError

    session: Session | None = None
    try:
        with ctx.db.transaction() as session:
            yield session
    except StaleDataError:
        raise named_conflict(ctx.db, ConflictError(what), account, session) from None
    except ConflictError as err:
        if err.params.get("changed_by"):
            raise
        raise named_conflict(ctx.db, err, account, session) from None


def named_conflict(
    db: Database,
    err: ConflictError,
    account: int | str | None = None,
    session: Session | None = None,
) -> ConflictError:
    """``err`` naming who changed the account last and when (``err`` itself if unknown)."""
    key = err.account if err.account is not None else account
    if key is None and session is not None:
        key = session.info.get(ACCOUNT_KEY)
    if key is None:
        return err
    try:
        change = last_change(db, key)
    except Exception:  # the explanation must never hide the conflict itself
        return err
    if change is None:
        return err
    name, at = change
    return ConflictError(err.what, name, at, account=key)


def last_change(db: Database, account: int | str) -> tuple[str, datetime] | None:
    """The operator's name and the time of the latest audited change to ``account``
    (its id or number; :data:`OPERATOR_CHANGES`: the operators' own records), read
    afresh (committed data only); ``None`` when nothing was audited yet."""
    head = (
        "SELECT o.name, e.at FROM audit_entries e "
        "LEFT JOIN operators o ON o.id = e.operator_id WHERE "
    )
    tail = " ORDER BY e.id DESC LIMIT 1"
    if account == OPERATOR_CHANGES:
        rows = db.reader.rows(head + "e.account_id IS NULL AND e.action LIKE 'operator.%'" + tail)
    elif isinstance(account, str):
        rows = db.reader.rows(
            head + "e.account_id = (SELECT id FROM accounts WHERE account_number = :key)" + tail,
            {"key": account},
        )
    else:
        rows = db.reader.rows(head + "e.account_id = :key" + tail, {"key": account})
    if not rows:
        return None
    name, at = rows[0]
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return (name or "", at)


def billing_contact(account: Account) -> Contact | None:
    return next((c for c in account.contacts if c.is_billing_contact), None)


def requesting_contact(account: Account, contact_id: int | None) -> Contact:
    """The contact on whose behalf the operator acts (SPEC §3: recorded with the change).

    ``None`` means the billing contact. A contact of another account is refused.
    """
    if contact_id is None:
        contact = billing_contact(account)
        if contact is None:
            raise PolicyViolation(
                "no_billing_contact",
                QT_TRANSLATE_NOOP("ServiceError", "Account {account} has no billing contact."),
                account=account.account_number,
            )
        return contact
    contact = next((c for c in account.contacts if c.id == contact_id), None)
    if contact is None:
        raise NotFound(QT_TRANSLATE_NOOP("ServiceError", "Contact"), contact_id)
    return contact
