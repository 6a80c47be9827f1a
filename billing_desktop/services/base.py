"""Small helpers every use case shares: loading what it changes, checking versions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from billing_desktop.domain.text import QT_TRANSLATE_NOOP
from billing_desktop.services.errors import ConflictError, NotFound, PolicyViolation

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from billing_desktop.store.models import Account, Contact, Subscription


def get_account(
    session: Session, account_id: int | str, *, expected_version: int | None = None
) -> Account:
    """The account by id or account number (``A-100234``).

    ``expected_version`` is the version the operator's screen showed; if the
    account changed since, :class:`ConflictError` is raised and nothing is written.
    """
    from billing_desktop.store.models import Account

    if isinstance(account_id, str):
        account = session.scalar(select(Account).where(Account.account_number == account_id))
    else:
        account = session.get(Account, account_id)
    if account is None:
        raise NotFound(QT_TRANSLATE_NOOP("ServiceError", "Account"), account_id)
    if expected_version is not None and account.version != expected_version:
        raise ConflictError(account.account_number)
    return account


def get_subscription(
    session: Session, subscription_id: int, *, expected_version: int | None = None
) -> Subscription:
    from billing_desktop.store.models import Subscription

    sub = session.get(Subscription, subscription_id)
    if sub is None:
        raise NotFound(QT_TRANSLATE_NOOP("ServiceError", "Subscription"), subscription_id)
    if expected_version is not None and sub.version != expected_version:
        raise ConflictError(sub.product.name)
    return sub


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
