"""Business policies: who may act, what blocks a change, and what cancelling costs.

Each decision function returns a :class:`Decision` (allowed or not, with a
stable code and a translatable English message); ``decision.require()`` turns
a refusal into :class:`~billing_desktop.domain.errors.PolicyViolation`.
Services call these; widgets only display their messages (DESIGN: business
rules are never duplicated in a wizard page).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from billing_desktop.domain.errors import PolicyViolation, ValidationError
from billing_desktop.domain.money import Money
from billing_desktop.domain.periods import (
    Frequency,
    Period,
    add_months,
    months_between,
    months_remaining,
)
from billing_desktop.domain.text import QT_TRANSLATE_NOOP

__all__ = [
    "CANCELLATION_REASONS",
    "DATA_RETENTION_DAYS",
    "DISPUTE_WINDOW_DAYS",
    "RENEWAL_NOTICE_DAYS",
    "CancellationChannel",
    "CancellationOutcome",
    "ContactRole",
    "Contract",
    "Decision",
    "OperatorRole",
    "ProductPolicy",
    "PurchaseChannel",
    "SubscriptionStatus",
    "blocks_plan_change",
    "cancellation_channel",
    "cancellation_outcome",
    "check_licence_count",
    "data_deletion_date",
    "dispute_deadline",
    "licence_count_bounds",
    "may_change_plan_online",
    "may_dispute",
    "may_request_cancellation",
    "operator_may_modify",
    "renewal_notice_deadline",
    "renewal_window_passed",
    "tier_change",
]

#: "A fixed-term agreement renews for another term unless cancelled at least 30 days
#: before its end."
RENEWAL_NOTICE_DAYS = 30
#: "An invoice can be disputed within 15 days of issue."
DISPUTE_WINDOW_DAYS = 15
#: "Data of a cancelled product is kept 90 days after the effective end date."
DATA_RETENTION_DAYS = 90


class ContactRole(StrEnum):
    """Roles of a customer's contact (SPEC §2)."""

    SUPER_ADMIN = "super_admin"
    BILLING_ADMIN = "billing_admin"
    PRODUCT_ADMIN = "product_admin"
    USER = "user"


class OperatorRole(StrEnum):
    """Roles of the person using the application (SPEC §6)."""

    ADMIN = "admin"
    SUPPORT = "support"
    REPRESENTATIVE = "representative"
    TRAINER = "trainer"
    VIEWER = "viewer"


class PurchaseChannel(StrEnum):
    """How a subscription was bought; it decides who may cancel (article 002)."""

    SELF_SERVICE = "self_service"
    REPRESENTATIVE = "representative"


class SubscriptionStatus(StrEnum):
    """Subscription status (SPEC §2)."""

    TRIAL = "trial"
    TRIAL_EXPIRED = "trial_expired"
    ACTIVE = "active"
    CANCELLATION_PENDING = "cancellation_pending"
    CANCELLED = "cancelled"


class Contract(StrEnum):
    """Contract type (SPEC §2): month-to-month or a fixed term of N months."""

    MONTH_TO_MONTH = "month_to_month"
    FIXED_TERM = "fixed_term"


class CancellationChannel(StrEnum):
    """Where a product can be cancelled: online by the customer, or only by support."""

    ONLINE = "online"
    SUPPORT = "support"


_DEFAULT_CANCEL_ROLES = frozenset({ContactRole.SUPER_ADMIN, ContactRole.BILLING_ADMIN})


@dataclass(frozen=True, slots=True)
class ProductPolicy:
    """A product's policy flags from the catalog (SPEC §2 "Product and Plan")."""

    code: str
    online_cancellation: bool = True
    online_downgrade: bool = False
    cancel_roles: frozenset[ContactRole] = _DEFAULT_CANCEL_ROLES
    requires_super_admin_to_cancel: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """Outcome of a policy check: ``allowed``, a stable ``code`` and an English ``message``.

    ``message`` is a template (``QT_TRANSLATE_NOOP("DomainError", ...)``) filled
    from ``params``; allowed decisions have an empty message.
    """

    allowed: bool
    code: str
    message: str = ""
    params: Mapping[str, object] = field(default_factory=dict, hash=False)

    @classmethod
    def allow(cls, code: str = "ok") -> Decision:
        return cls(True, code)

    @classmethod
    def refuse(cls, code: str, message: str, **params: object) -> Decision:
        return cls(False, code, message, dict(params))

    @property
    def text(self) -> str:
        """The English message with placeholders filled (for logs and tests)."""
        return self.message.format(**self.params)

    def require(self) -> None:
        """Raise :class:`PolicyViolation` when the decision refuses the action."""
        if not self.allowed:
            raise PolicyViolation(self.code, self.message, dict(self.params))


# -- cancellation (articles 000, 002) -------------------------------------------------------


def cancellation_channel(policy: ProductPolicy) -> CancellationChannel:
    """Online cancellation where the product allows it, otherwise support only.

    SPEC §3: "Support-only cancellation (e.g. Resolve, Connect): the online
    action tells the customer to contact support".
    """
    return CancellationChannel.ONLINE if policy.online_cancellation else CancellationChannel.SUPPORT


def may_request_cancellation(
    policy: ProductPolicy,
    roles: frozenset[ContactRole],
    channel: PurchaseChannel,
    authorised_billing_admin: bool,
) -> Decision:
    """Whether a contact with ``roles`` may request cancellation (article 002, step 2).

    "Connect needs a super admin; bought through a representative needs a
    product admin or an authorised billing admin; all others a super admin or
    billing admin" (the last set is the product's ``cancel_roles``). The rules
    are applied in that order, literally: for a product bought through a
    representative a super admin who is not also a product admin is refused.
    """
    roles = frozenset(ContactRole(r) for r in roles)
    if policy.requires_super_admin_to_cancel:
        if ContactRole.SUPER_ADMIN in roles:
            return Decision.allow()
        return Decision.refuse(
            "cancel_requires_super_admin",
            QT_TRANSLATE_NOOP(
                "DomainError", "Only a super admin can request cancellation of this product."
            ),
        )
    if PurchaseChannel(channel) is PurchaseChannel.REPRESENTATIVE:
        if ContactRole.PRODUCT_ADMIN in roles or (
            authorised_billing_admin and ContactRole.BILLING_ADMIN in roles
        ):
            return Decision.allow()
        return Decision.refuse(
            "cancel_requires_product_admin",
            QT_TRANSLATE_NOOP(
                "DomainError",
                "This product was bought through a representative: only a product admin or an authorised billing admin can request its cancellation.",  # noqa: E501
            ),
        )
    if roles & policy.cancel_roles:
        return Decision.allow()
    return Decision.refuse(
        "cancel_requires_admin",
        QT_TRANSLATE_NOOP(
            "DomainError", "Only a super admin or a billing admin can request cancellation."
        ),
    )


CANCELLATION_REASONS: tuple[tuple[str, str], ...] = (
    ("too_expensive", QT_TRANSLATE_NOOP("CancellationReason", "It is too expensive")),
    ("missing_features", QT_TRANSLATE_NOOP("CancellationReason", "It lacks features we need")),
    ("switching_provider", QT_TRANSLATE_NOOP("CancellationReason", "We are switching provider")),
    ("no_longer_needed", QT_TRANSLATE_NOOP("CancellationReason", "We no longer need it")),
    ("temporary_project", QT_TRANSLATE_NOOP("CancellationReason", "It was a temporary project")),
    ("technical_issues", QT_TRANSLATE_NOOP("CancellationReason", "Technical problems")),
    ("other", QT_TRANSLATE_NOOP("CancellationReason", "Other (please describe)")),
)  # fmt: skip
"""Reportable cancellation reasons (SPEC §3: "a short list plus free text")."""


@dataclass(frozen=True, slots=True)
class CancellationOutcome:
    """What cancelling still costs (article 002, step 4: "show what will still be billed").

    * ``effective_end`` — the plan stays active until this date (exclusive:
      the first day without service).
    * ``months_billed`` — billing months charged from the cancellation on,
      counting the current period in full.
    * ``amount_still_billed`` — what those months cost, including the current
      period (invoiced at its start and not refunded).
    * ``additional_charge`` — the part not yet invoiced, i.e. the
      early-termination amount the renewal engine bills (``amount_still_billed``
      minus the current period's amount).
    * ``refund`` — always zero: "no refunds".
    * ``renewed`` — ``True`` when a fixed term was cancelled less than 30 days
      before its end, so it renewed for another term first (SPEC §3: "the flow
      warns when that window has passed"); ``effective_end`` and the amounts
      then include the renewed term.
    """

    effective_end: date
    amount_still_billed: Money
    months_billed: int
    refund: Money
    additional_charge: Money
    renewed: bool = False

    @property
    def data_deletion_date(self) -> date:
        """When the product's data is marked for deletion (``effective_end`` + 90 days)."""
        return data_deletion_date(self.effective_end)


def cancellation_outcome(
    *,
    contract: Contract,
    frequency: Frequency,
    current_period: Period,
    period_amount: Money,
    on: date,
    term_end: date | None = None,
    term_start: date | None = None,
    term_months: int | None = None,
) -> CancellationOutcome:
    """What is still billed when a subscription is cancelled on ``on`` (article 002).

    * Month-to-month: the plan stays active to the end of the current period;
      "a monthly plan cancelled mid-month is billed for the whole month and
      stays active to month end" — for an annual plan likewise the paid year
      runs out; nothing more is billed.
    * Fixed term: "a fixed-term agreement cancelled early is billed for its
      remaining months and stays active to its original end date". Billed
      months = the current period plus every month after it until
      ``term_end`` (monthly billing: ``period_amount × months``); an annually
      billed term charges the months after the current year at
      ``period_amount × months ÷ 12``.
    * Renewal: "a fixed-term agreement renews for another term unless
      cancelled at least 30 days before its end". When ``on`` is after
      :func:`renewal_notice_deadline` of ``term_end`` the agreement renews for
      another ``term_months`` (repeatedly, while the deadline of the renewed
      term has passed too); the plan then stays active to the end of the
      renewed term and the renewed term's months are billed as well
      (``renewed=True``). Cancelling exactly 30 days before the end is in time.
    * "No refunds."

    Parameters of a fixed term (``term_end`` is required; the others have defaults):

    * ``term_start`` — start of the current term (``Subscription.term_start``).
      When given, the months are counted on monthly periods anchored at it
      (:func:`~billing_desktop.domain.periods.months_remaining`) and a renewed
      term ends at ``term_start + k × term_months`` months. When omitted, the
      months after the current period are counted back from ``term_end``,
      which is exact when billing periods are anchored at the term start (the
      current period then ends on a month boundary of the term); a renewed
      term then ends at ``term_end + k × term_months`` months (for terms
      anchored on the 29th–31st this end may fall a few days earlier).
    * ``term_months`` — length of one term in months, i.e. of a renewal
      (``Subscription.term_months``). Default: the months from ``term_start``
      to ``term_end`` when ``term_start`` is given, otherwise 12 (an annual
      agreement). Only used when the renewal window has passed.

    ``on`` must lie in ``current_period`` (``ValidationError("date_outside_period")``);
    a fixed term without ``term_end`` raises ``ValidationError("term_end_missing")``.
    """
    contract = Contract(contract)
    frequency = Frequency(frequency)
    if not current_period.contains(on):
        raise ValidationError(
            "date_outside_period",
            QT_TRANSLATE_NOOP(
                "DomainError", "{on} is not in the current billing period ({start} – {end})."
            ),
            on=on,
            start=current_period.start,
            end=current_period.end,
        )
    zero = Money.zero(period_amount.currency)
    if contract is Contract.MONTH_TO_MONTH:
        return CancellationOutcome(
            effective_end=current_period.end,
            amount_still_billed=period_amount,
            months_billed=frequency.months,
            refund=zero,
            additional_charge=zero,
        )
    if term_end is None:
        raise ValidationError(
            "term_end_missing",
            QT_TRANSLATE_NOOP("DomainError", "A fixed-term agreement needs an end date."),
        )
    # Renewed terms are anchored at the term start when known (Jan 31 terms stay on the 31st).
    if term_start is None:
        anchor, offset = term_end, 0
    else:
        Period(term_start, term_end)  # validates: ValidationError("period_empty")
        anchor, offset = term_start, months_between(term_start, term_end)
    if term_months is None:
        term_months = 12 if term_start is None else offset
    if isinstance(term_months, bool) or not isinstance(term_months, int):
        raise TypeError(f"term_months must be int, not {type(term_months).__name__}")
    if term_months < 1:
        raise ValidationError(
            "term_too_short",
            QT_TRANSLATE_NOOP("DomainError", "A fixed term must last at least one month."),
            months=term_months,
        )
    end, renewals = term_end, 0
    while renewal_window_passed(end, on):
        renewals += 1
        end = add_months(anchor, offset + renewals * term_months)
    if term_start is None:
        later_months = _months_counted_back(end, current_period.end)
    else:
        later_months = months_remaining(end, current_period.end, term_start=term_start)
    additional = period_amount.scaled(later_months, frequency.months)
    return CancellationOutcome(
        effective_end=max(end, current_period.end),
        amount_still_billed=period_amount + additional,
        months_billed=frequency.months + later_months,
        refund=zero,
        additional_charge=additional,
        renewed=renewals > 0,
    )


def _months_counted_back(end: date, boundary: date) -> int:
    """Smallest ``j >= 0`` with ``end − j months <= boundary``: the months from a
    month boundary of a term to its ``end`` (0 once ``boundary >= end``)."""
    if boundary >= end:
        return 0
    j = max(months_between(boundary, end) - 1, 0)
    while add_months(end, -j) > boundary:
        j += 1
    return j


# -- checkout (articles 001, 003, 004) ------------------------------------------------------


def may_change_plan_online(
    is_billing_contact: bool, billing_admin_name: str, billing_admin_email: str
) -> Decision:
    """SPEC §3: "Only the billing contact may change plans online. Anyone else sees
    'Contact your billing admin (name, email) to make product or licensing changes'"."""
    if is_billing_contact:
        return Decision.allow()
    return Decision.refuse(
        "not_billing_contact",
        QT_TRANSLATE_NOOP(
            "DomainError",
            "Contact your billing admin ({name}, {email}) to make product or licensing changes",
        ),
        name=billing_admin_name,
        email=billing_admin_email,
    )


#: Operator roles that make account changes (SPEC §6); the account/database limits of
#: ``representative`` and ``trainer`` are checked by :func:`operator_may_modify`.
_MODIFYING_ROLES = frozenset(
    {OperatorRole.ADMIN, OperatorRole.SUPPORT, OperatorRole.REPRESENTATIVE, OperatorRole.TRAINER}
)


def tier_change(
    current_rank: int, new_rank: int, online_downgrade: bool, actor: OperatorRole | None
) -> Decision:
    """Whether the plan tier may move from ``current_rank`` to ``new_rank`` (higher = better).

    SPEC §3: "a lower tier cannot be chosen online — the flow says to contact
    Customer Care; support staff may perform it". ``actor`` is the operator
    performing the change, ``None`` for a customer-side (self-service)
    request. Every operator role that may modify accounts may downgrade:
    ``ADMIN``, ``SUPPORT``, ``REPRESENTATIVE`` and ``TRAINER`` (SPEC §6: full
    changes). This rule does not check *which* account or database: whether
    this operator may change this account at all (a representative only on
    the corporate accounts assigned to them, a trainer only in a demo
    database) is :func:`operator_may_modify`'s decision, which services check
    as well. ``VIEWER`` (read-only) and the customer-side request are refused
    with the Customer Care message. Products with ``online_downgrade`` allow
    it to anyone. Choosing the current tier is refused as "tier_unchanged".
    """
    if new_rank > current_rank:
        return Decision.allow("tier_upgrade")
    if new_rank == current_rank:
        return Decision.refuse(
            "tier_unchanged",
            QT_TRANSLATE_NOOP("DomainError", "This is already the current plan."),
        )
    if online_downgrade or (actor is not None and OperatorRole(actor) in _MODIFYING_ROLES):
        return Decision.allow("tier_downgrade")
    return Decision.refuse(
        "downgrade_requires_customer_care",
        QT_TRANSLATE_NOOP("DomainError", "To move to a lower plan, contact Customer Care"),
    )


def licence_count_bounds(assigned: int, maximum: int | None) -> tuple[int, int | None]:
    """Allowed licence counts ``(lowest, highest)``: not below 1 nor below the assigned
    seats, not above the catalog maximum (``None`` = no maximum). SPEC §3."""
    return max(1, assigned), maximum


def check_licence_count(n: int, assigned: int, maximum: int | None) -> Decision:
    """SPEC §3: "Licences cannot go below the number assigned to contacts (say so, and
    offer to unassign), nor below 1, nor above the catalog maximum"."""
    for name, value in (("n", n), ("assigned", assigned)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be int, not {type(value).__name__}")
    if n < 1:
        return Decision.refuse(
            "licences_below_one",
            QT_TRANSLATE_NOOP("DomainError", "At least one licence is required."),
            count=n,
        )
    if n < assigned:
        return Decision.refuse(
            "licences_below_assigned",
            QT_TRANSLATE_NOOP(
                "DomainError",
                "{assigned} licences are assigned to users. Unassign licences before reducing the count below {assigned}.",  # noqa: E501
            ),
            count=n,
            assigned=assigned,
        )
    if maximum is not None and n > maximum:
        return Decision.refuse(
            "licences_above_maximum",
            QT_TRANSLATE_NOOP("DomainError", "This plan allows at most {maximum} licences."),
            count=n,
            maximum=maximum,
        )
    return Decision.allow()


def blocks_plan_change(has_overdue_invoice: bool, account_expired: bool) -> Decision:
    """Whether a plan change may go ahead (``allowed``) or is blocked.

    SPEC §3: "An overdue (open, past-due) invoice blocks plan changes until
    paid; an expired account must subscribe again first." Expiry is reported
    first, since paying would not unblock it.
    """
    if account_expired:
        return Decision.refuse(
            "account_expired",
            QT_TRANSLATE_NOOP(
                "DomainError",
                "The subscription has expired. Subscribe again before making changes.",
            ),
        )
    if has_overdue_invoice:
        return Decision.refuse(
            "overdue_invoice",
            QT_TRANSLATE_NOOP(
                "DomainError", "An overdue invoice must be paid before the plan can be changed."
            ),
        )
    return Decision.allow()


# -- dates ----------------------------------------------------------------------------------


def renewal_notice_deadline(term_end: date) -> date:
    """Last day to cancel a fixed term without renewing: ``term_end − 30 days``.

    SPEC §3: "A fixed-term agreement renews for another term unless cancelled
    at least 30 days before its end".
    """
    return term_end - timedelta(days=RENEWAL_NOTICE_DAYS)


def renewal_window_passed(term_end: date, today: date) -> bool:
    """``True`` once ``today`` is after :func:`renewal_notice_deadline` ("the flow warns
    when that window has passed"); cancelling exactly 30 days before is still in time."""
    return today > renewal_notice_deadline(term_end)


def dispute_deadline(issue_date: date) -> date:
    """Last day to dispute an invoice: issue date + 15 days (SPEC §3)."""
    return issue_date + timedelta(days=DISPUTE_WINDOW_DAYS)


def may_dispute(issue_date: date, today: date) -> Decision:
    """SPEC §3: "An invoice can be disputed within 15 days of issue" (deadline inclusive)."""
    deadline = dispute_deadline(issue_date)
    if today <= deadline:
        return Decision.allow()
    return Decision.refuse(
        "dispute_window_closed",
        QT_TRANSLATE_NOOP(
            "DomainError",
            "Invoices can be disputed within 15 days of issue; the last day was {deadline}.",
        ),
        deadline=deadline,
    )


def data_deletion_date(effective_end: date) -> date:
    """SPEC §3: "Data of a cancelled product is kept 90 days after the effective end
    date, then marked for deletion" — returns ``effective_end + 90 days``."""
    return effective_end + timedelta(days=DATA_RETENTION_DAYS)


# -- operators (SPEC §6) --------------------------------------------------------------------


def operator_may_modify(
    role: OperatorRole,
    account_is_corporate: bool,
    is_assigned_representative: bool,
    database_is_demo: bool,
) -> Decision:
    """Whether an operator may change an account (SPEC §6 "Operators, roles and safety").

    ``admin`` and ``support``: everything; ``representative``: full changes on
    the corporate accounts assigned to them, read-only elsewhere; ``trainer``:
    full changes, demo databases only; ``viewer``: read-only.
    """
    role = OperatorRole(role)
    if role in (OperatorRole.ADMIN, OperatorRole.SUPPORT):
        return Decision.allow()
    if role is OperatorRole.REPRESENTATIVE:
        if account_is_corporate and is_assigned_representative:
            return Decision.allow()
        return Decision.refuse(
            "not_assigned_representative",
            QT_TRANSLATE_NOOP(
                "DomainError",
                "Representatives can change only the corporate accounts assigned to them.",
            ),
        )
    if role is OperatorRole.TRAINER:
        if database_is_demo:
            return Decision.allow()
        return Decision.refuse(
            "trainer_demo_only",
            QT_TRANSLATE_NOOP("DomainError", "Trainers can make changes only in a demo database."),
        )
    return Decision.refuse(
        "read_only_role",
        QT_TRANSLATE_NOOP("DomainError", "Your role is read-only."),
    )
