"""Operators and representatives, managed by an administrator (issue 8 item 2; SPEC §6).

The administrator's screen (``ui/dialogs/operators_dialog.py``) lists the
operators, creates them with an initial password, changes their role,
disables and enables them, resets a password (which also lifts a sign-in
lock), and assigns the corporate accounts to representatives.

Every function starts with ``authorize(ctx, Action.MANAGE_OPERATORS)`` —
administrators only — and every change also checks, inside its transaction,
that the acting operator is *still* an active administrator in the database:
on a shared database another administrator may have demoted or disabled them
since they signed in. Each change is one transaction, audited (no password or
hash is ever written to the audit trail), guarded by the ``version`` the
screen showed (:class:`ConflictError` when someone else changed the operator
or account meanwhile, naming who and when from the audit trail) and
refused with a clear message when it would leave the database without an
active administrator or disable the operator making the change.

Choices where issue 8 was silent: demoting or disabling a representative
keeps their account assignments (they apply again if the role comes back;
the accounts tab shows them), and an administrator may demote themselves as
long as another active administrator remains.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from billing_desktop.domain.errors import PolicyViolation, ValidationError
from billing_desktop.domain.policies import OperatorRole
from billing_desktop.domain.text import QT_TRANSLATE_NOOP
from billing_desktop.services.auth import Action, authorize
from billing_desktop.services.errors import ConflictError, NotFound, PermissionDenied

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from billing_desktop.services.context import AppContext
    from billing_desktop.store.models import Account, Operator

__all__ = [
    "ROLES",
    "CorporateAccountRow",
    "OperatorRow",
    "assign_representative",
    "change_role",
    "create_operator",
    "disable_operator",
    "enable_operator",
    "list_corporate_accounts",
    "list_operators",
    "list_representatives",
    "reset_password",
    "set_active",
    "unassign_representative",
]

#: The roles an operator can have, most powerful first (SPEC §6).
ROLES = tuple(role.value for role in OperatorRole)

#: At most this many corporate accounts per list (the search narrows it down).
CORPORATE_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class OperatorRow:
    """One operator as the administrator's table shows it."""

    id: int
    email: str
    name: str
    role: str
    active: bool
    #: has a password, so can sign in to a shared database
    can_sign_in: bool
    last_signed_in_at: datetime | None
    #: sign-in refused until then after repeated failures (None: not locked)
    locked_until: datetime | None
    #: corporate accounts assigned to this operator as representative
    assigned_accounts: int
    version: int


@dataclass(frozen=True, slots=True)
class CorporateAccountRow:
    """A corporate account and its representative, for the assignment tab."""

    id: int
    account_number: str
    company_name: str
    representative_id: int | None
    representative_name: str | None
    representative_email: str | None
    version: int


# --------------------------------------------------------------------------- helpers


def _reading(ctx: AppContext) -> AbstractContextManager[Session]:
    """:func:`billing_desktop.services.base.reading`, imported when used (this module is
    imported without SQLAlchemy: the operators dialog reads its ``ROLES``)."""
    from billing_desktop.services.base import reading

    return reading(ctx)


def _operator_word() -> str:
    return QT_TRANSLATE_NOOP("ServiceError", "Operator")


def _acting_admin(session: Session, ctx: AppContext) -> None:
    """Refuse unless the acting operator is, in the database now, an active administrator."""
    from billing_desktop.store.models import Operator

    actor = session.get(Operator, ctx.operator.id)
    if actor is None or not actor.active or actor.role != OperatorRole.ADMIN:
        raise PermissionDenied(
            "no_longer_admin",
            QT_TRANSLATE_NOOP(
                "ServiceError",
                "You are no longer an active administrator of this database; "
                "sign in again to continue.",
            ),
        )


def _get_operator(session: Session, operator_id: int, expected_version: int | None) -> Operator:
    from billing_desktop.store.models import Operator

    op = session.get(Operator, operator_id)
    if op is None:
        raise NotFound(_operator_word(), operator_id)
    if expected_version is not None and op.version != expected_version:
        raise ConflictError(op.email)
    return op


def _keep_an_admin(session: Session, target: Operator) -> None:
    """Refuse when ``target`` is the last active administrator.

    The other administrators' rows are locked (``FOR UPDATE`` on PostgreSQL;
    SQLite's write transaction is exclusive already), so two administrators
    disabling each other at the same moment cannot both succeed.
    """
    from sqlalchemy import select

    from billing_desktop.store.models import Operator

    if target.role != OperatorRole.ADMIN or not target.active:
        return
    others = session.scalars(
        select(Operator.id)
        .where(
            Operator.role == OperatorRole.ADMIN.value,
            Operator.active.is_(True),
            Operator.id != target.id,
        )
        .with_for_update()
    ).all()
    if not others:
        raise PolicyViolation(
            "last_admin",
            QT_TRANSLATE_NOOP(
                "ServiceError",
                "{name} is the last active administrator. Make another operator an "
                "administrator first.",
            ),
            name=target.name,
        )


def _valid_role(role: str) -> str:
    if role not in ROLES:
        raise ValidationError(
            "operator_role_unknown",
            QT_TRANSLATE_NOOP("ServiceError", "{role} is not an operator role."),
            {"field": "role", "role": role},
        )
    return role


def _email_taken(
    session: Session, email: str, except_id: int | None = None
) -> ValidationError | None:
    from sqlalchemy import func, select

    from billing_desktop.store.models import Operator

    query = select(Operator.id).where(func.lower(Operator.email) == email.lower())
    if except_id is not None:
        query = query.where(Operator.id != except_id)
    if session.scalar(query) is None:
        return None
    return ValidationError(
        "operator_email_taken",
        QT_TRANSLATE_NOOP("ServiceError", "Another operator already uses the email {email}."),
        {"field": "email", "email": email},
    )


def _row(session: Session, op: Operator) -> OperatorRow:
    from sqlalchemy import func, select

    from billing_desktop.store.models import Account

    assigned = session.scalar(
        select(func.count()).select_from(Account).where(Account.representative_id == op.id)
    )
    return OperatorRow(
        id=op.id,
        email=op.email,
        name=op.name,
        role=op.role,
        active=bool(op.active),
        can_sign_in=op.password_hash is not None,
        last_signed_in_at=op.last_signed_in_at,
        locked_until=op.locked_until,
        assigned_accounts=int(assigned or 0),
        version=op.version,
    )


def _change(ctx: AppContext, change: _OperatorChange) -> OperatorRow:
    """Run ``change(session, operator)`` in one transaction as an administrator.

    ``change`` returns the audit ``(action, before, after)`` or None when
    nothing changed. A concurrent change of the operator (StaleDataError at
    flush) becomes :class:`ConflictError`.
    """
    from sqlalchemy.orm.exc import StaleDataError

    from billing_desktop.services import audit

    email = str(change.operator_id)
    try:
        with ctx.db.transaction() as session:
            _acting_admin(session, ctx)
            op = change.load(session)
            email = op.email
            recorded = change(session, op)
            if recorded is not None:
                session.flush()
                action, before, after = recorded
                audit.record(session, ctx, action, None, before, after)
            return _row(session, op)
    except StaleDataError:
        raise _named_conflict(ctx, ConflictError(email), change.operator_id) from None
    except ConflictError as err:
        raise _named_conflict(ctx, err, change.operator_id) from None


def _named_conflict(ctx: AppContext, err: ConflictError, operator_id: int) -> ConflictError:
    """``err`` naming who changed the operator last, and when (from the audit trail).

    Read after the failed transaction rolled back: the latest operator entry
    about this operator (``operator`` in its values, or the operator's own
    identity change); ``err`` itself when none is found.
    """
    import json

    what = str(err.params.get("what", ""))
    try:
        rows = ctx.db.reader.rows(
            "SELECT o.name, e.at, e.action, e.operator_id, e.after_json FROM audit_entries e "
            "LEFT JOIN operators o ON o.id = e.operator_id "
            "WHERE e.account_id IS NULL AND e.action LIKE 'operator.%' "
            "ORDER BY e.id DESC LIMIT 500"
        )
    except Exception:  # the explanation must never hide the conflict itself
        return err
    for name, at, action, actor, after_json in rows:
        try:
            after = json.loads(after_json or "{}")
        except ValueError:
            continue
        about = after.get("operator") if isinstance(after, dict) else None
        if about == what or (action == "operator.identity_changed" and actor == operator_id):
            when = datetime.fromisoformat(at) if isinstance(at, str) else at
            return ConflictError(what, name or "", when)
    return err


class _OperatorChange:
    """The operator to change, loaded and version-checked; subclasses change it."""

    def __init__(self, operator_id: int, expected_version: int | None) -> None:
        self.operator_id = operator_id
        self.expected_version = expected_version

    def load(self, session: Session) -> Operator:
        return _get_operator(session, self.operator_id, self.expected_version)

    def __call__(self, session: Session, op: Operator) -> tuple[str, dict, dict] | None:
        raise NotImplementedError


# --------------------------------------------------------------------------- operators


def list_operators(ctx: AppContext) -> list[OperatorRow]:
    """Every operator, by name, with their role, state and assigned accounts."""
    authorize(ctx, Action.MANAGE_OPERATORS)
    from sqlalchemy import func, select

    from billing_desktop.store.models import Account, Operator

    assigned = (
        select(Account.representative_id, func.count().label("n"))
        .where(Account.representative_id.is_not(None))
        .group_by(Account.representative_id)
        .subquery()
    )
    query = (
        select(
            Operator.id, Operator.email, Operator.name, Operator.role, Operator.active,
            Operator.password_hash.is_not(None).label("can_sign_in"),
            Operator.last_signed_in_at, Operator.locked_until,
            func.coalesce(assigned.c.n, 0), Operator.version,
        )
        .outerjoin(assigned, assigned.c.representative_id == Operator.id)
        .order_by(func.lower(Operator.name), Operator.id)
    )  # fmt: skip
    with _reading(ctx) as conn:
        rows = conn.execute(query).all()
    return [
        OperatorRow(
            id=int(r[0]),
            email=r[1],
            name=r[2],
            role=r[3],
            active=bool(r[4]),
            can_sign_in=bool(r[5]),
            last_signed_in_at=r[6],
            locked_until=r[7],
            assigned_accounts=int(r[8]),
            version=int(r[9]),
        )
        for r in rows
    ]


def list_representatives(ctx: AppContext) -> list[OperatorRow]:
    """The active representatives: who corporate accounts can be assigned to."""
    return [
        op for op in list_operators(ctx) if op.role == OperatorRole.REPRESENTATIVE and op.active
    ]


def create_operator(
    ctx: AppContext, email: str, name: str, role: str, password: str
) -> OperatorRow:
    """A new active operator with an initial password (to tell them in person).

    :class:`ValidationError` with ``params["field"]`` (``email``, ``name``,
    ``role``, ``password``) for a bad value or an email already in use.
    """
    authorize(ctx, Action.MANAGE_OPERATORS)
    from billing_desktop.services import audit
    from billing_desktop.services.operators import validate_identity
    from billing_desktop.services.signin import hash_password, validate_password
    from billing_desktop.store.models import Operator

    clean_name, clean_email = validate_identity(name, email)
    role = _valid_role(role)
    validate_password(password, email=clean_email, name=clean_name)
    new_hash = hash_password(password)  # before the transaction: it takes a moment
    with ctx.db.transaction() as session:
        _acting_admin(session, ctx)
        taken = _email_taken(session, clean_email)
        if taken is not None:
            raise taken
        op = Operator(
            email=clean_email, name=clean_name, role=role, password_hash=new_hash,
            active=True, created_at=ctx.clock.now(), failed_sign_ins=0,
        )  # fmt: skip
        session.add(op)
        session.flush()
        audit.record(
            session, ctx, "operator.created", None, None,
            {"operator": clean_email, "name": clean_name, "role": role},
        )  # fmt: skip
        return _row(session, op)


class _RoleChange(_OperatorChange):
    def __init__(self, operator_id: int, role: str, expected_version: int | None) -> None:
        super().__init__(operator_id, expected_version)
        self.role = role

    def __call__(self, session: Session, op: Operator) -> tuple[str, dict, dict] | None:
        if op.role == self.role:
            return None
        if self.role != OperatorRole.ADMIN:
            _keep_an_admin(session, op)
        before = {"operator": op.email, "role": op.role}
        op.role = self.role
        return "operator.role_changed", before, {"operator": op.email, "role": self.role}


def change_role(
    ctx: AppContext, operator_id: int, role: str, *, expected_version: int | None = None
) -> OperatorRow:
    """Give the operator another role; the last active administrator keeps theirs."""
    authorize(ctx, Action.MANAGE_OPERATORS)
    return _change(ctx, _RoleChange(operator_id, _valid_role(role), expected_version))


class _ActiveChange(_OperatorChange):
    def __init__(
        self, ctx: AppContext, operator_id: int, active: bool, expected_version: int | None
    ) -> None:
        super().__init__(operator_id, expected_version)
        self.ctx = ctx
        self.active = active

    def __call__(self, session: Session, op: Operator) -> tuple[str, dict, dict] | None:
        if bool(op.active) == self.active:
            return None
        if not self.active:
            if op.id == self.ctx.operator.id:
                raise PolicyViolation(
                    "disable_self",
                    QT_TRANSLATE_NOOP(
                        "ServiceError",
                        "You cannot disable yourself; another administrator can.",
                    ),
                )
            _keep_an_admin(session, op)
        else:
            # enabled again: the failures before it was disabled no longer count
            op.failed_sign_ins = 0
            op.locked_until = None
        op.active = self.active
        action = "operator.enabled" if self.active else "operator.disabled"
        return action, {"operator": op.email, "active": not self.active}, {
            "operator": op.email, "active": self.active,
        }  # fmt: skip


def set_active(
    ctx: AppContext, operator_id: int, active: bool, *, expected_version: int | None = None
) -> OperatorRow:
    """Disable (cannot sign in; work and audit trail kept) or enable an operator."""
    authorize(ctx, Action.MANAGE_OPERATORS)
    return _change(ctx, _ActiveChange(ctx, operator_id, active, expected_version))


def disable_operator(
    ctx: AppContext, operator_id: int, *, expected_version: int | None = None
) -> OperatorRow:
    return set_active(ctx, operator_id, False, expected_version=expected_version)


def enable_operator(
    ctx: AppContext, operator_id: int, *, expected_version: int | None = None
) -> OperatorRow:
    return set_active(ctx, operator_id, True, expected_version=expected_version)


class _PasswordReset(_OperatorChange):
    def __init__(self, operator_id: int, new_hash: str, expected_version: int | None) -> None:
        super().__init__(operator_id, expected_version)
        self.new_hash = new_hash

    def __call__(self, session: Session, op: Operator) -> tuple[str, dict, dict]:
        op.password_hash = self.new_hash
        op.failed_sign_ins = 0
        op.locked_until = None
        return "operator.password_reset", {"operator": op.email}, {"operator": op.email}


def reset_password(
    ctx: AppContext, operator_id: int, password: str, *, expected_version: int | None = None
) -> OperatorRow:
    """Give the operator a new password (and lift a sign-in lock)."""
    authorize(ctx, Action.MANAGE_OPERATORS)
    from billing_desktop.services.signin import hash_password, validate_password
    from billing_desktop.store.models import Operator

    with _reading(ctx) as conn:
        from sqlalchemy import select

        found = conn.execute(
            select(Operator.email, Operator.name).where(Operator.id == operator_id)
        ).first()
    if found is None:
        raise NotFound(_operator_word(), operator_id)
    validate_password(password, email=found.email, name=found.name)
    new_hash = hash_password(password)
    return _change(ctx, _PasswordReset(operator_id, new_hash, expected_version))


# --------------------------------------------------------------------------- representatives


def list_corporate_accounts(
    ctx: AppContext, search: str = "", *, limit: int = CORPORATE_LIMIT
) -> list[CorporateAccountRow]:
    """Corporate accounts by company name with their representative.

    ``search`` keeps the accounts whose company name or account ID starts
    with it (case and accents ignored); at most ``limit`` rows.
    """
    authorize(ctx, Action.MANAGE_OPERATORS)
    from sqlalchemy import or_, select

    from billing_desktop.store.models import Account, Operator
    from billing_desktop.store.search import fold, prefix_upper_bound

    query = (
        select(
            Account.id, Account.account_number, Account.company_name, Account.representative_id,
            Operator.name, Operator.email, Account.version,
        )
        .outerjoin(Operator, Operator.id == Account.representative_id)
        .where(Account.type == "corporate")
        .order_by(Account.search_name, Account.id)
        .limit(max(1, int(limit)))
    )  # fmt: skip
    term = search.strip()
    if term:
        folded = fold(term)
        number = term.upper()
        query = query.where(
            or_(
                (Account.search_name >= folded)
                & (Account.search_name < prefix_upper_bound(folded)),
                (Account.account_number >= number)
                & (Account.account_number < prefix_upper_bound(number)),
            )
        )
    with _reading(ctx) as conn:
        rows = conn.execute(query).all()
    return [
        CorporateAccountRow(
            id=int(r[0]),
            account_number=r[1],
            company_name=r[2],
            representative_id=None if r[3] is None else int(r[3]),
            representative_name=r[4],
            representative_email=r[5],
            version=int(r[6]),
        )
        for r in rows
    ]


def _account_row(account: Account) -> CorporateAccountRow:
    rep = account.representative
    return CorporateAccountRow(
        id=account.id,
        account_number=account.account_number,
        company_name=account.company_name,
        representative_id=account.representative_id,
        representative_name=rep.name if rep is not None else None,
        representative_email=rep.email if rep is not None else None,
        version=account.version,
    )


def assign_representative(
    ctx: AppContext,
    account_id: int | str,
    representative_id: int | None,
    *,
    expected_version: int | None = None,
) -> CorporateAccountRow:
    """Make ``representative_id`` (None: nobody) the representative of a corporate account.

    Only corporate accounts have representatives, and only active operators
    with the role representative can be assigned. Audited on the account
    (``account.representative_changed``).
    """
    authorize(ctx, Action.MANAGE_OPERATORS)
    from sqlalchemy.orm.exc import StaleDataError

    from billing_desktop.services import audit
    from billing_desktop.services.base import get_account, writing
    from billing_desktop.store.models import Operator

    # a conflict names who changed the account last, and when (services.base.writing)
    with writing(ctx, str(account_id), account=account_id) as session:
        _acting_admin(session, ctx)
        account = get_account(session, account_id, expected_version=expected_version)
        number = account.account_number
        if account.type != "corporate":
            raise PolicyViolation(
                "not_corporate",
                QT_TRANSLATE_NOOP(
                    "ServiceError",
                    "Only corporate accounts have a representative; {account} is a "
                    "standard account.",
                ),
                account=account.account_number,
            )
        rep = None
        if representative_id is not None:
            rep = session.get(Operator, representative_id)
            if rep is None:
                raise NotFound(_operator_word(), representative_id)
            if rep.role != OperatorRole.REPRESENTATIVE:
                raise PolicyViolation(
                    "not_a_representative",
                    QT_TRANSLATE_NOOP(
                        "ServiceError",
                        "{name} is not a representative. Only operators with the "
                        "role Representative can be assigned corporate accounts.",
                    ),
                    name=rep.name,
                )
            if not rep.active:
                raise PolicyViolation(
                    "representative_disabled",
                    QT_TRANSLATE_NOOP(
                        "ServiceError",
                        "{name} is disabled and cannot be assigned accounts.",
                    ),
                    name=rep.name,
                )
        if account.representative_id != representative_id:
            old = account.representative
            before = {"representative": old.name if old is not None else None}
            account.representative = rep
            try:
                session.flush()
            except StaleDataError:
                raise ConflictError(number, account=account.id) from None
            audit.record(
                session, ctx, "account.representative_changed", account.id, before,
                {"representative": rep.name if rep is not None else None},
            )  # fmt: skip
        return _account_row(account)


def unassign_representative(
    ctx: AppContext, account_id: int | str, *, expected_version: int | None = None
) -> CorporateAccountRow:
    """The corporate account no longer has a representative."""
    return assign_representative(ctx, account_id, None, expected_version=expected_version)
