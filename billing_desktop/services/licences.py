"""Users & licences: which contacts hold the seats of an account's subscriptions.

SPEC §2 "Licence assignment" and §3 (article 003: "assign seats" after a
purchase; article 001: licences cannot go below the number assigned, "offer to
unassign"; article 002: "licences unassigned from contacts (offer to do it)").

Rules enforced here, each one transaction:

- seats can be assigned only on a *live* subscription (trial, active,
  cancellation pending); a cancelled or expired one is refused;
- never more contacts than licences bought (the message says how many are free);
- only contacts of the subscription's own account;
- assigning a contact who already holds a seat, or unassigning one who does
  not, is a no-op reported in the result (``unchanged``), not an error;
- unassigning is allowed on any subscription, live or not (clean-up of a
  cancelled product is always welcome).

Every change is audited with the assigned contact ids before and after.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from billing_desktop.domain.text import QT_TRANSLATE_NOOP
from billing_desktop.services import audit
from billing_desktop.services.auth import Action, authorize
from billing_desktop.services.base import (
    check_version,
    get_account,
    get_subscription,
    lock,
    reading,
    requesting_contact,
    writing,
)
from billing_desktop.services.context import AppContext
from billing_desktop.services.errors import NotFound, PolicyViolation, ValidationError

#: what a lost optimistic-locking race changed
_LICENCES = QT_TRANSLATE_NOOP("ServiceError", "The licence assignments")

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from billing_desktop.store.models import Account, Contact, Subscription

__all__ = [
    "LIVE_STATUSES",
    "AccountLicences",
    "ContactSeats",
    "LicenceChange",
    "SeatHolder",
    "SubscriptionSeats",
    "assign_licences",
    "licence_overview",
    "unassign_all",
    "unassign_licences",
]

#: Subscriptions whose seats can be assigned (a trial counts as live).
LIVE_STATUSES = frozenset({"trial", "active", "cancellation_pending"})


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class SeatHolder:
    """A contact holding one seat of a subscription."""

    contact_id: int
    name: str
    email: str
    assigned_at: datetime


@dataclass(frozen=True, slots=True)
class SubscriptionSeats:
    """Licences bought, assigned and free of one live subscription."""

    subscription_id: int
    product_code: str
    product_name: str
    plan_name: str
    status: str
    licences: int
    assigned: int
    free: int
    holders: tuple[SeatHolder, ...]
    #: the subscription's version, for ``expected_version`` of assign/unassign
    version: int


@dataclass(frozen=True, slots=True)
class ContactSeats:
    """A contact of the account and the live subscriptions it holds a seat of."""

    contact_id: int
    name: str
    email: str
    roles: tuple[str, ...]
    subscription_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class AccountLicences:
    """The Users & licences tab of one account."""

    account_id: int
    account_number: str
    subscriptions: tuple[SubscriptionSeats, ...]
    contacts: tuple[ContactSeats, ...]


@dataclass(frozen=True, slots=True)
class LicenceChange:
    """Outcome of an assign/unassign call on one subscription."""

    subscription_id: int
    product_name: str
    licences: int
    #: contact ids holding a seat after the call, in assignment order
    assigned_contact_ids: tuple[int, ...]
    #: contacts whose seat was added (assign) or removed (unassign) by this call
    changed: tuple[int, ...]
    #: contacts asked for that were already in the wanted state (no-op)
    unchanged: tuple[int, ...]
    #: the subscription's version after the call (for the next ``expected_version``)
    version: int

    @property
    def assigned(self) -> int:
        return len(self.assigned_contact_ids)

    @property
    def free(self) -> int:
        return self.licences - self.assigned


# --------------------------------------------------------------------------- helpers


def _assigned_ids(sub: Subscription) -> list[int]:
    return [a.contact_id for a in sorted(sub.assignments, key=lambda a: (a.assigned_at, a.id))]


def _unique_ids(contact_ids: Iterable[int]) -> list[int]:
    seen: dict[int, None] = {}
    for cid in contact_ids:
        if isinstance(cid, bool) or not isinstance(cid, int):
            raise ValidationError(
                "contact_id_invalid",
                QT_TRANSLATE_NOOP("ServiceError", "{value} is not a contact id."),
                value=repr(cid),
            )
        seen.setdefault(cid, None)
    return list(seen)


def _account_contacts(session: Session, account: Account, contact_ids: Sequence[int]) -> None:
    """Refuse ids that are unknown or belong to another account."""
    from billing_desktop.store.models import Contact

    own = {c.id for c in account.contacts}
    for cid in contact_ids:
        if cid in own:
            continue
        contact = session.get(Contact, cid)
        if contact is None:
            raise NotFound(QT_TRANSLATE_NOOP("ServiceError", "Contact"), cid)
        raise PolicyViolation(
            "contact_of_other_account",
            QT_TRANSLATE_NOOP(
                "ServiceError",
                "{contact} is a contact of another account and cannot hold a licence of "
                "account {account}.",
            ),
            contact=contact.full_name or contact.email,
            account=account.account_number,
        )


def _requester(account: Account, requested_by: int | None) -> int | None:
    """The contact recorded as having asked (must be one of the account's)."""
    if requested_by is None:
        return None
    return requesting_contact(account, requested_by).id


def _load_for_change(
    session: Session,
    ctx: AppContext,
    subscription_id: int,
    requested_by: int | None,
    expected_version: int | None,
) -> tuple[Subscription, Account, int | None]:
    sub = get_subscription(session, subscription_id)
    account = sub.account
    authorize(ctx, Action.MANAGE_LICENCES, account)
    if expected_version is not None:
        lock(session, sub)
        check_version(session, sub, expected_version, sub.product.name, account.id)
    requester = _requester(account, requested_by)
    return sub, account, requester


def _audit_change(
    session: Session,
    ctx: AppContext,
    action: str,
    sub: Subscription,
    before: list[int],
    after: list[int],
    requester: int | None,
) -> None:
    audit.record(
        session,
        ctx,
        action,
        sub.account_id,
        {"subscription_id": sub.id, "product": sub.product.code, "assigned_contact_ids": before},
        {"subscription_id": sub.id, "product": sub.product.code, "assigned_contact_ids": after},
        requested_by_contact_id=requester,
    )


def _result(sub: Subscription, changed: list[int], unchanged: list[int]) -> LicenceChange:
    return LicenceChange(
        subscription_id=sub.id,
        product_name=sub.product.name,
        licences=sub.licence_count,
        assigned_contact_ids=tuple(_assigned_ids(sub)),
        changed=tuple(changed),
        unchanged=tuple(unchanged),
        version=sub.version,
    )


def _remove(session: Session, sub: Subscription, contact_ids: Iterable[int]) -> list[int]:
    wanted = set(contact_ids)
    removed = []
    for assignment in list(sub.assignments):
        if assignment.contact_id in wanted:
            removed.append(assignment.contact_id)
            sub.assignments.remove(assignment)
            session.delete(assignment)
    session.flush()
    return removed


# --------------------------------------------------------------------------- reads


def licence_overview(ctx: AppContext, account_id: int | str) -> AccountLicences:
    """Per live subscription: licences bought, assigned, free and who holds them."""
    with reading(ctx) as session:
        account = get_account(session, account_id)
        authorize(ctx, Action.VIEW, account)
        contacts: dict[int, Contact] = {c.id: c for c in account.contacts}
        held: dict[int, list[int]] = {cid: [] for cid in contacts}
        subs = []
        for sub in account.subscriptions:
            if sub.status not in LIVE_STATUSES:
                continue
            ordered = sorted(sub.assignments, key=lambda a: (a.assigned_at, a.id))
            holders = tuple(
                SeatHolder(
                    contact_id=a.contact_id,
                    name=a.contact.full_name,
                    email=a.contact.email,
                    assigned_at=a.assigned_at,
                )
                for a in ordered
            )
            for a in ordered:
                held.setdefault(a.contact_id, []).append(sub.id)
            subs.append(
                SubscriptionSeats(
                    subscription_id=sub.id,
                    product_code=sub.product.code,
                    product_name=sub.product.name,
                    plan_name=sub.plan.name,
                    status=sub.status,
                    licences=sub.licence_count,
                    assigned=len(holders),
                    free=max(sub.licence_count - len(holders), 0),
                    holders=holders,
                    version=sub.version,
                )
            )
        return AccountLicences(
            account_id=account.id,
            account_number=account.account_number,
            subscriptions=tuple(subs),
            contacts=tuple(
                ContactSeats(
                    contact_id=c.id,
                    name=c.full_name,
                    email=c.email,
                    roles=tuple(sorted(c.role_set)),
                    subscription_ids=tuple(held.get(c.id, ())),
                )
                for c in contacts.values()
            ),
        )


# --------------------------------------------------------------------------- writes


def assign_licences(
    ctx: AppContext,
    subscription_id: int,
    contact_ids: Iterable[int],
    *,
    requested_by: int | None = None,
    expected_version: int | None = None,
) -> LicenceChange:
    """Give each contact one seat of the subscription (bulk, all or nothing).

    Contacts already holding a seat are reported in ``unchanged``. Refused:
    a subscription that is not live, a contact of another account, and more
    new seats than are free. ``expected_version`` is the subscription's.
    """
    from billing_desktop.store.models import LicenceAssignment

    with writing(ctx, _LICENCES) as session:
        sub, account, requester = _load_for_change(
            session, ctx, subscription_id, requested_by, expected_version
        )
        ids = _unique_ids(contact_ids)
        if sub.status not in LIVE_STATUSES:
            raise PolicyViolation(
                "subscription_not_live",
                QT_TRANSLATE_NOOP(
                    "ServiceError",
                    "Licences of {product} cannot be assigned: the subscription is {status}.",
                ),
                product=sub.product.name,
                status=sub.status,
            )
        _account_contacts(session, account, ids)
        before = _assigned_ids(sub)
        new = [cid for cid in ids if cid not in before]
        already = [cid for cid in ids if cid in before]
        free = sub.licence_count - len(before)
        if len(new) > free:
            raise PolicyViolation(
                "licences_exhausted",
                QT_TRANSLATE_NOOP(
                    "ServiceError",
                    "Only {free} of the {licences} licences of {product} are free; "
                    "{requested} contacts were to be assigned. Buy more licences or "
                    "unassign some first.",
                ),
                free=max(free, 0),
                licences=sub.licence_count,
                product=sub.product.name,
                requested=len(new),
            )
        if new:
            now = ctx.clock.now()
            for cid in new:
                assignment = LicenceAssignment(
                    subscription_id=sub.id, contact_id=cid, assigned_at=now
                )
                sub.assignments.append(assignment)
            session.flush()
            _audit_change(
                session, ctx, "licences.assigned", sub, before, _assigned_ids(sub), requester
            )
        return _result(sub, new, already)


def unassign_licences(
    ctx: AppContext,
    subscription_id: int,
    contact_ids: Iterable[int],
    *,
    requested_by: int | None = None,
    expected_version: int | None = None,
) -> LicenceChange:
    """Take the seat of each contact back (bulk); contacts without a seat are no-ops."""
    with writing(ctx, _LICENCES) as session:
        sub, account, requester = _load_for_change(
            session, ctx, subscription_id, requested_by, expected_version
        )
        ids = _unique_ids(contact_ids)
        _account_contacts(session, account, ids)
        before = _assigned_ids(sub)
        removed = _remove(session, sub, ids)
        not_held = [cid for cid in ids if cid not in removed]
        if removed:
            _audit_change(
                session, ctx, "licences.unassigned", sub, before, _assigned_ids(sub), requester
            )
        order = {cid: i for i, cid in enumerate(ids)}
        return _result(sub, sorted(removed, key=order.__getitem__), not_held)


def unassign_all(
    ctx: AppContext,
    account_id: int | str,
    subscription_ids: Iterable[int] | None = None,
    *,
    requested_by: int | None = None,
    expected_version: int | None = None,
    expected_versions: Mapping[int, int] | None = None,
) -> tuple[LicenceChange, ...]:
    """Unassign every seat of the account's subscriptions (or of those listed).

    The "offer to do it" of the assisted cancellation's precondition (article
    002). One transaction; one audit entry per subscription that changed.
    ``expected_version`` is the account's. ``expected_versions`` (subscription
    id → version) are the versions of the subscriptions the operator's screen
    showed: if one of those unassigned changed since (say a seat was assigned
    to someone the screen did not list), :class:`ConflictError` names who
    changed the account and when, and nothing is unassigned; else their
    versions move on with the seats taken back.
    """
    with writing(ctx, _LICENCES) as session:
        account = get_account(session, account_id, expected_version=expected_version)
        authorize(ctx, Action.MANAGE_LICENCES, account)
        requester = _requester(account, requested_by)
        own = {s.id: s for s in account.subscriptions}
        if subscription_ids is None:
            chosen = list(own.values())
        else:
            chosen = []
            for sid in _unique_ids(subscription_ids):
                if sid not in own:
                    raise NotFound(QT_TRANSLATE_NOOP("ServiceError", "Subscription"), sid)
                chosen.append(own[sid])
        expected = dict(expected_versions or {})
        for sid in expected:
            if sid not in own:
                raise NotFound(QT_TRANSLATE_NOOP("ServiceError", "Subscription"), sid)
        for sub in chosen:  # every version checked before anything is written
            if sub.id in expected:
                lock(session, sub)
                check_version(session, sub, expected[sub.id], sub.product.name, account.id)
        results = []
        for sub in chosen:
            before = _assigned_ids(sub)
            removed = _remove(session, sub, before)
            if removed:
                _audit_change(session, ctx, "licences.unassigned", sub, before, [], requester)
            results.append(_result(sub, removed, []))
        return tuple(results)
