"""One authorisation function for every service call (SPEC §6): deny by default.

Each service names its :class:`Action` and calls :func:`authorize` inside its
transaction, before it changes anything. Account-level rules (a representative
only on the corporate accounts assigned to them, a trainer only in a demo
database) come from :func:`billing_desktop.domain.policies.operator_may_modify`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from billing_desktop.domain.policies import OperatorRole, operator_may_modify
from billing_desktop.domain.text import QT_TRANSLATE_NOOP
from billing_desktop.services.errors import PermissionDenied

if TYPE_CHECKING:
    from billing_desktop.services.context import AppContext
    from billing_desktop.store.models import Account


class Action(StrEnum):
    """Everything an operator can ask the services to do."""

    VIEW = "view"
    EXPORT_ACCOUNT = "export_account"
    EDIT_ACCOUNT = "edit_account"
    CHECKOUT = "checkout"
    DOWNGRADE = "downgrade"
    CANCEL = "cancel"
    ASSISTED_CANCEL = "assisted_cancel"
    REACTIVATE = "reactivate"
    MANAGE_LICENCES = "manage_licences"
    MANAGE_PAYMENT_METHODS = "manage_payment_methods"
    RECORD_PAYMENT = "record_payment"
    DISPUTE_INVOICE = "dispute_invoice"
    VOID_INVOICE = "void_invoice"
    SEND_EMAILS = "send_emails"
    RUN_RENEWALS = "run_renewals"
    MOVE_CLOCK = "move_clock"
    #: reset a demo database, save, restore and delete its snapshots (services.sandbox)
    MANAGE_DEMO = "manage_demo"
    MANAGE_OPERATORS = "manage_operators"


#: Read-only actions every active role may perform.
READ_ACTIONS = frozenset({Action.VIEW, Action.EXPORT_ACCOUNT})
#: Actions that change one account; the account rules of SPEC §6 apply.
ACCOUNT_ACTIONS = frozenset(
    {
        Action.EDIT_ACCOUNT,
        Action.CHECKOUT,
        Action.DOWNGRADE,
        Action.CANCEL,
        Action.ASSISTED_CANCEL,
        Action.REACTIVATE,
        Action.MANAGE_LICENCES,
        Action.MANAGE_PAYMENT_METHODS,
        Action.RECORD_PAYMENT,
        Action.DISPUTE_INVOICE,
        Action.VOID_INVOICE,
    }
)
#: Support-only powers behind the self-service flows (SPEC §3): not for
#: representatives, who work on their own portfolio through the normal flows.
SUPPORT_ONLY = frozenset({Action.ASSISTED_CANCEL, Action.VOID_INVOICE})

_GLOBAL_ACTIONS: dict[Action, frozenset[OperatorRole]] = {
    Action.SEND_EMAILS: frozenset({OperatorRole.ADMIN, OperatorRole.SUPPORT, OperatorRole.TRAINER}),
    Action.RUN_RENEWALS: frozenset({OperatorRole.ADMIN, OperatorRole.SUPPORT}),
    Action.MOVE_CLOCK: frozenset({OperatorRole.ADMIN, OperatorRole.TRAINER}),
    Action.MANAGE_DEMO: frozenset({OperatorRole.ADMIN, OperatorRole.TRAINER}),
    Action.MANAGE_OPERATORS: frozenset({OperatorRole.ADMIN}),
}


def _refuse(code: str, message: str, **params: object) -> PermissionDenied:
    return PermissionDenied(code, message, params)


def authorize(ctx: AppContext, action: Action, account: Account | None = None) -> None:
    """Raise :class:`PermissionDenied` unless the operator may perform ``action``.

    ``account`` is required for account actions. Anything not explicitly
    allowed here is refused.
    """
    role = OperatorRole(ctx.operator.role)
    if action in READ_ACTIONS:
        return
    if action in ACCOUNT_ACTIONS:
        if account is None:
            raise ValueError(f"{action} needs the account it changes")
        if action in SUPPORT_ONLY and role not in (
            OperatorRole.ADMIN,
            OperatorRole.SUPPORT,
            OperatorRole.TRAINER,
        ):
            raise _refuse(
                "support_only",
                QT_TRANSLATE_NOOP("ServiceError", "Only support staff can do this."),
            )
        decision = operator_may_modify(
            role,
            account_is_corporate=account.type == "corporate",
            is_assigned_representative=account.representative_id == ctx.operator.id,
            database_is_demo=ctx.is_demo,
        )
        if not decision.allowed:
            raise PermissionDenied(decision.code, decision.message, decision.params)
        return
    allowed = _GLOBAL_ACTIONS.get(action, frozenset())
    if role not in allowed:
        raise _refuse(
            "role_not_allowed",
            QT_TRANSLATE_NOOP("ServiceError", "Your role ({role}) does not allow this action."),
            role=role.value,
        )
    if role is OperatorRole.TRAINER and not ctx.is_demo:
        # SPEC §6: a trainer changes demo databases only — sending a real
        # database's emails or changing its SMTP settings included.
        decision = operator_may_modify(
            role, account_is_corporate=False, is_assigned_representative=False,
            database_is_demo=False,
        )  # fmt: skip
        raise PermissionDenied(decision.code, decision.message, decision.params)
    if action is Action.MOVE_CLOCK and not ctx.is_demo:
        raise _refuse(
            "clock_demo_only",
            QT_TRANSLATE_NOOP(
                "ServiceError", "The clock can be moved only in a demo database."
            ),
        )
    if action is Action.MANAGE_DEMO and not ctx.is_demo:
        raise _refuse(
            "sandbox_demo_only",
            QT_TRANSLATE_NOOP(
                "ServiceError",
                "Only a demo database can be reset or returned to a snapshot; "
                "this database was left unchanged.",
            ),
        )
