"""Cancellation use cases (articles 000 and 002; SPEC §3 "Cancellation").

* :func:`cancel_online` — the billing contact cancels a product whose policy
  allows online cancellation: auto-renew off, status *cancellation pending*,
  the plan stays active to the end of the current term; an email confirms the
  expiry date. Support-only products (Resolve, Connect) are refused with the
  "contact support to cancel" message.
* :func:`reactivate` — reverses a pending cancellation until its effective end.
* Support-assisted cancellation (article 002): :func:`verify_caller`, then
  :func:`assisted_checklist` (each precondition with its state and the way
  out), :func:`assisted_preview` (what will still be billed) and
  :func:`assisted_cancel`, which refuses until every precondition holds.
* :func:`cancellation_preview` — what a cancellation would do, without writing
  (the wizard's confirmation window).

What is still billed comes from the domain's
:func:`~billing_desktop.domain.policies.cancellation_outcome`:

* month-to-month: the current period (monthly or annual) was invoiced at its
  start and runs out; nothing new is billed ("a monthly plan cancelled
  mid-month is billed for the whole month and stays active to month end");
* fixed term: the plan stays active to the original term end; the months after
  the current period are "billed for its remaining months". One component
  (plan, each active add-on) costs ``period amount × months ÷ months per
  period`` — for monthly billing ``monthly amount × months``; for annual
  billing the *monthly equivalent* is ``annual amount ÷ 12`` and the line
  amount is ``annual amount × months ÷ 12`` rounded half-up once;
* when a fixed term is cancelled less than 30 days before its end it renews
  once more first: the effective end moves to the end of the renewed term,
  the renewed months are billed too, and the result carries a warning;
* no refunds.

Choices where the specification is silent (documented for the wizards and the
renewal engine):

* **Online cancellation bills nothing at once.** The subscription keeps its
  periods until ``cancellation_effective``; periods that start before that date
  (a fixed term billed monthly, or a renewed term) are invoiced by the renewal
  engine as they fall due. **Assisted cancellation** bills the months after the
  current period at once on one early-termination invoice (kind
  ``termination``, line kind ``termination``, each line's period =
  ``[current period end, effective end)`` and its ``subscription_id``); the
  renewal engine must not invoice those periods again.
* A subscription whose remaining months were billed on an early-termination
  invoice (not void) cannot be reactivated: the invoice would be billed twice.
* **Trials**: cancelling a trial records the reason and turns auto-renew off,
  but the status stays ``trial`` and ``cancellation_effective`` is the trial
  end: the trial simply ends then, as every trial does, without any charge
  (article 000). Reactivating it clears the cancellation and keeps the trial.
* **Add-ons** (assisted flow): a cancelled add-on stays usable until its paid
  period ends: ``subscription_addons.ends_on`` is set to the effective end
  (exclusive, like ``cancellation_effective``: the first day without it) and
  ``active`` stays True until then. ``ends_on`` set means "cancelled": it
  cannot be cancelled again, and a later cancellation of the whole
  subscription counts it in the current period only, never in the months
  after (those were billed with the add-on's own cancellation, or it ends
  first). The renewal engine must not bill an add-on for a period starting on
  or after its ``ends_on`` (and may then set ``active = False``). An add-on of
  a fixed term is billed for its remaining months like the plan. Selecting an
  add-on of a subscription that is cancelled as a whole adds nothing (it ends
  with the subscription).
* Online cancellation follows the rules of any online plan change: only the
  billing contact, no overdue invoice, not an expired account — and the
  product's own cancel rules (a product bought through a representative needs
  an authorised billing admin).
* Caller verification: the account number, an email of a billing admin of the
  account, the last four digits of a card or bank account on file and that
  method's billing address line and postal code; e-mail and account number
  compare case-insensitively, address and postal code ignoring case and
  whitespace. Only the match flags are audited. A successful verification
  returns a token (its audit entry id) valid for
  :data:`VERIFICATION_VALID_FOR`, for the same operator and account.
* Repeated failures: the failed attempts of one operator on one account since
  their last successful verification (within :data:`VERIFICATION_VALID_FOR`)
  are counted; the :data:`VERIFY_ATTEMPTS`-th failure and every later one is
  audited once more as ``verify_caller_failed`` (the count and the fields
  that did not match), so repeated guessing stands out in the Activity tab.
  Verification is not blocked by the service: the wizard stops offering it.
* :func:`assisted_options` is the read the assisted wizard opens with: whether
  the operator may run the flow (and if not, why), the contacts who could be
  the requester, and each product and add-on with whether it can be cancelled
  (and if not, why) and the rule of who may ask for it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import object_session

from billing_desktop.domain.money import Money, sum_money
from billing_desktop.domain.periods import Frequency, Period
from billing_desktop.domain.policies import (
    CANCELLATION_REASONS,
    CancellationChannel,
    ContactRole,
    Contract,
    Decision,
    ProductPolicy,
    PurchaseChannel,
    SubscriptionStatus,
    blocks_plan_change,
    cancellation_channel,
    cancellation_outcome,
    data_deletion_date,
    may_change_plan_online,
    may_request_cancellation,
    renewal_notice_deadline,
    renewal_window_passed,
)
from billing_desktop.domain.text import QT_TRANSLATE_NOOP, Notice
from billing_desktop.services import audit
from billing_desktop.services.auth import Action, authorize
from billing_desktop.services.base import (
    billing_contact,
    check_version,
    get_account,
    get_subscription,
    lock,
    reading,
    requesting_contact,
    writing,
)
from billing_desktop.services.billing_lines import PeriodLine, period_bill
from billing_desktop.services.catalog import shipped_catalog
from billing_desktop.services.errors import (
    NotFound,
    PolicyViolation,
    ValidationError,
)
from billing_desktop.services.invoicing import (
    DraftLine,
    InvoiceFigures,
    account_vat,
    figures_for_account,
    issue_invoice,
)
from billing_desktop.services.mail import EmailKind, queue_email
from billing_desktop.store.totals import refresh_account_totals

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from billing_desktop.services.context import AppContext
    from billing_desktop.store.models import Account, Contact, Subscription, SubscriptionAddon

__all__ = [
    "REASON_CODES",
    "VERIFICATION_VALID_FOR",
    "VERIFY_ATTEMPTS",
    "AddonOption",
    "AssistedCancellationResult",
    "AssistedChecklist",
    "AssistedOptions",
    "AssistedPreview",
    "CancellationPreview",
    "CancellationResult",
    "CheckState",
    "ChecklistItem",
    "ContractTerms",
    "Notice",
    "ReactivationResult",
    "RequesterOption",
    "SubscriptionOption",
    "VerificationItem",
    "VerificationResult",
    "assisted_cancel",
    "assisted_checklist",
    "assisted_options",
    "assisted_preview",
    "cancel_online",
    "cancellation_preview",
    "check_reason",
    "reactivate",
    "verify_caller",
]

#: The reportable reason codes (SPEC §3: "a short list plus free text").
REASON_CODES: tuple[str, ...] = tuple(code for code, _label in CANCELLATION_REASONS)
#: Longest free-text reason stored.
REASON_TEXT_MAX = 2000
#: How long a successful caller verification may be used for an assisted cancellation.
VERIFICATION_VALID_FOR = timedelta(hours=2)
#: After this many failed verifications in a row the failures are audited as such.
VERIFY_ATTEMPTS = 3

#: Audit actions written here.
AUDIT_CANCEL = "cancel_subscription"
AUDIT_ASSISTED_CANCEL = "assisted_cancel"
AUDIT_CANCEL_ADDON = "cancel_addon"
AUDIT_REACTIVATE = "reactivate_subscription"
AUDIT_VERIFY = "verify_caller"
AUDIT_VERIFY_FAILED = "verify_caller_failed"

_CANCEL_FIELDS = (
    "status",
    "auto_renew",
    "cancel_requested_at",
    "cancellation_effective",
    "cancel_reason",
    "cancel_reason_text",
)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class CancellationPreview:
    """What cancelling one subscription (or one of its add-ons) on ``on`` does.

    Amounts are net (before VAT). ``amount_still_billed`` counts the current
    period (already invoiced, not refunded) plus ``additional_charge``, the
    months after it; ``termination`` shows the early-termination invoice the
    assisted flow issues for ``additional_charge`` (VAT, credit, total), or
    ``None`` when nothing more is billed.
    """

    account_id: int
    account_number: str
    subscription_id: int
    #: set when the item is an add-on of the subscription, not the subscription
    subscription_addon_id: int | None
    product_code: str
    product_name: str
    #: "GoToAssist Remote Support v4 Premium" or the add-on's name
    name: str
    #: ``online`` (the customer may cancel) or ``support`` (assisted only)
    channel: CancellationChannel
    status: str
    contract: Contract
    frequency: Frequency
    on: date
    current_period: Period
    term_start: date | None
    term_end: date | None
    #: last day to cancel a fixed term without it renewing (term end − 30 days)
    renewal_notice_deadline: date | None
    is_trial: bool
    #: the plan stays active until this date (exclusive: the first day without service)
    effective_end: date
    months_billed: int
    period_amount: Money
    amount_still_billed: Money
    additional_charge: Money
    refund: Money
    #: the fixed term renews once more because the 30-day notice window has passed
    renewed: bool
    warning: Notice | None
    data_deletion_date: date
    termination_lines: tuple[DraftLine, ...]
    termination: InvoiceFigures | None

    @property
    def expiry_date(self) -> date:
        return self.effective_end


@dataclass(frozen=True, slots=True)
class CancellationResult:
    """What :func:`cancel_online` did: the confirmation message's facts."""

    subscription_id: int
    account_id: int
    product_name: str
    status: str
    #: when the plan expires (``cancellation_effective``)
    expiry_date: date
    cancel_requested_at: datetime
    reason: str
    requested_by_contact_id: int
    preview: CancellationPreview
    email_id: int
    #: the subscription's new version (for the next optimistic-locking check)
    version: int

    @property
    def warning(self) -> Notice | None:
        return self.preview.warning

    @property
    def renewed(self) -> bool:
        return self.preview.renewed

    @property
    def data_deletion_date(self) -> date:
        return self.preview.data_deletion_date

    @property
    def amount_still_billed(self) -> Money:
        return self.preview.amount_still_billed


@dataclass(frozen=True, slots=True)
class ReactivationResult:
    subscription_id: int
    account_id: int
    product_name: str
    status: str
    auto_renew: bool
    next_billing_date: date | None
    email_id: int
    version: int


@dataclass(frozen=True, slots=True)
class VerificationItem:
    """One fact the caller gave: matched or not (what they said is never kept)."""

    code: str  # account_id | billing_admin_email | last4 | billing_address | postal_code
    label: str
    matched: bool


@dataclass(frozen=True, slots=True)
class VerificationResult:
    account_id: int
    items: tuple[VerificationItem, ...]
    verified: bool
    #: pass to :func:`assisted_checklist` / :func:`assisted_cancel`; ``None`` unless verified
    token: int | None
    checked_at: datetime
    #: failed attempts in a row by this operator on this account, this one included
    #: (0 when verified)
    failed_attempts: int = 0

    @property
    def mismatches(self) -> tuple[str, ...]:
        return tuple(item.code for item in self.items if not item.matched)

    @property
    def attempts_exhausted(self) -> bool:
        """:data:`VERIFY_ATTEMPTS` failures in a row: audited; stop verifying this caller."""
        return self.failed_attempts >= VERIFY_ATTEMPTS


class CheckState(StrEnum):
    PASSED = "passed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    """One precondition of an assisted cancellation, its state and the way out."""

    code: str
    label: str
    state: CheckState
    detail: str
    params: Mapping[str, object] = field(default_factory=dict, hash=False)
    #: the action that resolves a failed item: verify_caller, choose_requester,
    #: record_payment, unassign_licences, export_account
    remedy: str | None = None
    remedy_label: str | None = None

    @property
    def passed(self) -> bool:
        return self.state is CheckState.PASSED

    @property
    def text(self) -> str:
        return self.detail.format(**self.params)


@dataclass(frozen=True, slots=True)
class ContractTerms:
    """The contract type and cancellation terms of one selected subscription."""

    subscription_id: int
    product_name: str
    contract: Contract
    frequency: Frequency
    term_start: date | None
    term_end: date | None
    term_months: int | None
    current_period_end: date | None
    renewal_notice_deadline: date | None
    renewal_window_passed: bool


@dataclass(frozen=True, slots=True)
class AssistedChecklist:
    account_id: int
    account_number: str
    items: tuple[ChecklistItem, ...]
    terms: tuple[ContractTerms, ...]

    @property
    def ready(self) -> bool:
        """Every precondition holds: :func:`assisted_cancel` may go ahead."""
        return all(item.passed for item in self.items)

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(item.code for item in self.items if not item.passed)

    def item(self, code: str) -> ChecklistItem:
        return next(item for item in self.items if item.code == code)


@dataclass(frozen=True, slots=True)
class AssistedPreview:
    """What an assisted cancellation of a selection will still bill."""

    account_id: int
    items: tuple[CancellationPreview, ...]
    amount_still_billed: Money
    additional_charge: Money
    #: the early-termination invoice (net, VAT, credit, due) or ``None``
    termination: InvoiceFigures | None
    warnings: tuple[Notice, ...]


@dataclass(frozen=True, slots=True)
class AssistedCancellationResult:
    account_id: int
    account_number: str
    items: tuple[CancellationPreview, ...]
    requested_by_contact_id: int
    termination_invoice_id: int | None
    termination_invoice_number: str | None
    termination: InvoiceFigures | None
    #: the early-termination invoice was collected at once (autopay)
    termination_paid: bool
    email_ids: tuple[int, ...]
    warnings: tuple[Notice, ...]
    account_version: int


@dataclass(frozen=True, slots=True)
class RequesterOption:
    """A contact who could be the one asking for the cancellation (article 002, step 2)."""

    contact_id: int
    name: str
    email: str
    roles: tuple[str, ...]
    is_billing_contact: bool
    #: a billing admin authorised to cancel products bought through a representative
    cancel_authorised: bool


@dataclass(frozen=True, slots=True)
class AddonOption:
    """An add-on of a subscription: may it be cancelled on its own, and if not, why."""

    subscription_addon_id: int
    code: str
    name: str
    #: set when the add-on is already cancelled: the first day without it
    ends_on: date | None
    cancellable: bool
    reason: Notice | None


@dataclass(frozen=True, slots=True)
class SubscriptionOption:
    """A product of the account as the assisted wizard's "What to cancel" page lists it."""

    subscription_id: int
    product_code: str
    product_name: str
    plan_name: str
    status: str
    #: ``online`` (the customer may cancel it) or ``support`` (assisted only)
    channel: CancellationChannel
    contract: Contract
    licences: int
    assigned: int
    cancellable: bool
    #: why it cannot be cancelled (``None`` when it can)
    reason: Notice | None
    #: the rule of who may ask for its cancellation (article 002: "Connect needs a
    #: super admin", …), worded as the refusal a contact without the role gets
    who_may_request: Notice
    addons: tuple[AddonOption, ...]


@dataclass(frozen=True, slots=True)
class AssistedOptions:
    """What the assisted cancellation wizard opens with (read-only)."""

    account_id: int
    account_number: str
    company_name: str
    currency: str
    #: the operator may run the assisted flow on this account (support staff)
    allowed: bool
    #: why not (``None`` when allowed)
    refusal: Notice | None
    billing_contact_name: str | None
    billing_contact_email: str | None
    contacts: tuple[RequesterOption, ...]
    subscriptions: tuple[SubscriptionOption, ...]
    #: the account's version (``expected_version`` of :func:`assisted_cancel`)
    version: int

    def subscription(self, subscription_id: int) -> SubscriptionOption:
        return next(s for s in self.subscriptions if s.subscription_id == subscription_id)


# --------------------------------------------------------------------------- online


def cancel_online(
    ctx: AppContext,
    subscription_id: int,
    *,
    reason: str,
    reason_text: str = "",
    requested_by: int | None = None,
    expected_version: int | None = None,
) -> CancellationResult:
    """The billing contact cancels a subscription online (article 000).

    Refused for products that are cancelled only through support, for anyone
    but the billing contact, without a reason, with an overdue invoice or an
    expired account, and when nothing is left to cancel. ``expected_version``
    is the subscription's version shown on screen.
    """
    with writing(ctx, QT_TRANSLATE_NOOP("ServiceError", "The subscription")) as session:
        sub = get_subscription(session, subscription_id)
        account = sub.account
        authorize(ctx, Action.CANCEL, account)
        _check_version(sub, expected_version)
        policy = _policy(sub)
        if cancellation_channel(policy) is CancellationChannel.SUPPORT:
            raise PolicyViolation(
                "cancel_contact_support",
                QT_TRANSLATE_NOOP(
                    "ServiceError",
                    "{product} cannot be cancelled online. Please contact support to cancel.",
                ),
                product=sub.product.name,
            )
        requester = requesting_contact(account, requested_by)
        _require_billing_contact(account, requester)
        _requester_decision(policy, requester, sub).require()
        _require_cancellable(sub)
        today = ctx.clock.today()
        blocks_plan_change(
            _has_overdue_invoice(session, account, today), account.status == "expired"
        ).require()
        code, text = check_reason(reason, reason_text)
        preview = _preview(account, sub, today)
        before = audit.snapshot(sub, *_CANCEL_FIELDS)
        now = ctx.clock.now()
        _mark_cancelled(sub, preview, now, code, text)
        session.flush()
        refresh_account_totals(session, account)
        audit.record(
            session,
            ctx,
            AUDIT_CANCEL,
            account.id,
            before,
            {**audit.snapshot(sub, *_CANCEL_FIELDS), **_outcome_facts(preview)},
            requester.id,
        )
        email = queue_email(
            session,
            ctx,
            account,
            EmailKind.CANCELLATION_CONFIRMED,
            {"product": sub.product.name, "expiry_date": preview.effective_end},
        )
        session.flush()
        return CancellationResult(
            subscription_id=sub.id,
            account_id=account.id,
            product_name=sub.product.name,
            status=sub.status,
            expiry_date=preview.effective_end,
            cancel_requested_at=now,
            reason=code,
            requested_by_contact_id=requester.id,
            preview=preview,
            email_id=email.id,
            version=sub.version,
        )


def reactivate(
    ctx: AppContext,
    subscription_id: int,
    *,
    requested_by: int | None = None,
    expected_version: int | None = None,
) -> ReactivationResult:
    """Reverse a pending cancellation before it takes effect (article 000: "Reactivate").

    Allowed while the subscription is cancellation pending and today is before
    its effective end; auto-renew goes back on, the status back to active (a
    cancelled trial stays a trial) and the cancellation fields are cleared.
    """
    from billing_desktop.store.models import Invoice, InvoiceLine

    with writing(ctx, QT_TRANSLATE_NOOP("ServiceError", "The subscription")) as session:
        sub = get_subscription(session, subscription_id)
        account = sub.account
        authorize(ctx, Action.REACTIVATE, account)
        _check_version(sub, expected_version)
        is_trial = sub.status == SubscriptionStatus.TRIAL
        pending = sub.status == SubscriptionStatus.CANCELLATION_PENDING or (
            is_trial and sub.cancellation_effective is not None
        )
        if not pending:
            raise PolicyViolation(
                "not_cancellation_pending",
                QT_TRANSLATE_NOOP(
                    "ServiceError", "{product} has no pending cancellation to reverse."
                ),
                product=sub.product.name,
            )
        today = ctx.clock.today()
        effective = sub.cancellation_effective or sub.period_end
        if effective is not None and today >= effective:
            raise PolicyViolation(
                "reactivation_too_late",
                QT_TRANSLATE_NOOP(
                    "ServiceError",
                    "{product} expired on {effective_end} and can no longer be reactivated. "
                    "Subscribe again instead.",
                ),
                product=sub.product.name,
                effective_end=effective,
            )
        requester = requesting_contact(account, requested_by)
        _require_billing_contact(account, requester)
        billed = session.scalar(
            select(Invoice.number)
            .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
            .where(
                InvoiceLine.subscription_id == sub.id,
                InvoiceLine.kind == "termination",
                Invoice.kind == "termination",
                Invoice.status != "void",
                InvoiceLine.period_end == effective,
            )
            .limit(1)
        )
        if billed is not None:
            raise PolicyViolation(
                "termination_billed",
                QT_TRANSLATE_NOOP(
                    "ServiceError",
                    "The remaining months of {product} were billed on early-termination "
                    "invoice {invoice}; it can be reactivated only after support voids that "
                    "invoice.",
                ),
                product=sub.product.name,
                invoice=billed,
            )
        before = audit.snapshot(sub, *_CANCEL_FIELDS)
        sub.status = SubscriptionStatus.TRIAL.value if is_trial else SubscriptionStatus.ACTIVE.value
        sub.auto_renew = True
        sub.cancel_requested_at = None
        sub.cancellation_effective = None
        sub.cancel_reason = None
        sub.cancel_reason_text = None
        session.flush()
        refresh_account_totals(session, account)
        audit.record(
            session,
            ctx,
            AUDIT_REACTIVATE,
            account.id,
            before,
            audit.snapshot(sub, *_CANCEL_FIELDS),
            requester.id,
        )
        next_billing = sub.trial_end if is_trial else sub.period_end
        email = queue_email(
            session,
            ctx,
            account,
            EmailKind.REACTIVATED,
            {"product": sub.product.name, "next_billing_date": next_billing},
        )
        session.flush()
        return ReactivationResult(
            subscription_id=sub.id,
            account_id=account.id,
            product_name=sub.product.name,
            status=sub.status,
            auto_renew=sub.auto_renew,
            next_billing_date=next_billing,
            email_id=email.id,
            version=sub.version,
        )


def cancellation_preview(
    ctx: AppContext, subscription_id: int, on: date | None = None
) -> CancellationPreview:
    """What cancelling the subscription on ``on`` (default today) would do; writes nothing.

    ``on`` must lie in the current billing period.
    """
    with reading(ctx) as session:
        sub = get_subscription(session, subscription_id)
        authorize(ctx, Action.VIEW, sub.account)
        return _preview(sub.account, sub, on or ctx.clock.today())


# --------------------------------------------------------------------------- assisted


def verify_caller(
    ctx: AppContext,
    account_id: int | str,
    *,
    account_number: str,
    billing_admin_email: str,
    last4: str,
    billing_address: str,
    postal_code: str,
) -> VerificationResult:
    """Check what a caller says against the account (article 002, step 1).

    Every item is reported as matched or not; the caller is verified only when
    all match. The attempt is audited with the match flags only.
    """
    with ctx.db.transaction() as session:
        account = get_account(session, account_id)
        authorize(ctx, Action.ASSISTED_CANCEL, account)
        admin_emails = {
            _fold(c.email)
            for c in account.contacts
            if c.is_billing_contact or ContactRole.BILLING_ADMIN in c.role_set
        }
        methods = [
            m for m in account.payment_methods if m.kind in ("card", "bank_account") and m.last4
        ]
        given_last4 = "".join(last4.split())
        method = next((m for m in methods if m.last4 == given_last4), None)
        last4_ok = method is not None and len(given_last4) == 4
        if method is None:
            method = next((m for m in methods if m.is_default), methods[0] if methods else None)
        flags = {
            "account_id": _squash(account_number) != ""
            and _squash(account_number) == _squash(account.account_number),
            "billing_admin_email": _fold(billing_admin_email) in admin_emails
            and _fold(billing_admin_email) != "",
            "last4": last4_ok,
            "billing_address": method is not None
            and _squash(method.billing_line1) != ""
            and _squash(billing_address) == _squash(method.billing_line1),
            "postal_code": method is not None
            and _squash(method.billing_postal_code) != ""
            and _squash(postal_code) == _squash(method.billing_postal_code),
        }
        verified = all(flags.values())
        failures = 0 if verified else 1 + _failures_in_a_row(session, ctx, account)
        audit.record(session, ctx, AUDIT_VERIFY, account.id, None, {**flags, "verified": verified})
        if failures >= VERIFY_ATTEMPTS:
            audit.record(
                session,
                ctx,
                AUDIT_VERIFY_FAILED,
                account.id,
                None,
                {
                    "failed_attempts": failures,
                    "mismatches": [code for code, ok in flags.items() if not ok],
                },
            )
        session.flush()
        token = None
        if verified:
            from billing_desktop.store.models import AuditEntry

            token = session.scalar(
                select(func.max(AuditEntry.id)).where(
                    AuditEntry.account_id == account.id,
                    AuditEntry.action == AUDIT_VERIFY,
                    AuditEntry.operator_id == ctx.operator.id,
                )
            )
        return VerificationResult(
            account_id=account.id,
            items=tuple(
                VerificationItem(code, _VERIFY_LABELS[code], matched)
                for code, matched in flags.items()
            ),
            verified=verified,
            token=token,
            checked_at=ctx.clock.now(),
            failed_attempts=failures,
        )


def assisted_options(ctx: AppContext, account_id: int | str) -> AssistedOptions:
    """What the assisted cancellation wizard shows before anything is checked; read-only.

    Says whether the operator may run the assisted flow on the account (and if
    not, the refusal :func:`assisted_cancel` would give), lists the contacts
    (requester candidates) and every subscription with its add-ons, each with
    whether it can be cancelled now — by the same checks :func:`assisted_cancel`
    applies — and the rule of who may ask.
    """
    from billing_desktop.services.errors import DomainError

    with reading(ctx) as session:
        account = get_account(session, account_id)
        authorize(ctx, Action.VIEW, account)
        refusal: Notice | None = None
        try:
            authorize(ctx, Action.ASSISTED_CANCEL, account)
        except DomainError as err:
            refusal = Notice(err.code, err.message, dict(err.params))

        def reason_of(check: Callable[[], None]) -> Notice | None:
            try:
                check()
            except DomainError as err:
                return Notice(err.code, err.message, dict(err.params))
            return None

        subscriptions = []
        for sub in sorted(
            account.subscriptions, key=lambda s: (s.product.sort_order, s.product.id, s.id)
        ):
            sub_reason = reason_of(lambda sub=sub: _require_cancellable(sub))
            addons = []
            for sa in sorted(sub.addons, key=lambda sa: sa.id):
                addon_reason = sub_reason or reason_of(lambda sa=sa: _check_addon(sa))
                addons.append(
                    AddonOption(
                        subscription_addon_id=sa.id,
                        code=sa.addon.code,
                        name=sa.addon.name,
                        ends_on=sa.ends_on,
                        cancellable=addon_reason is None,
                        reason=addon_reason,
                    )
                )
            policy = _policy(sub)
            rule = may_request_cancellation(
                policy, frozenset(), PurchaseChannel(sub.channel), False
            )
            subscriptions.append(
                SubscriptionOption(
                    subscription_id=sub.id,
                    product_code=sub.product.code,
                    product_name=sub.product.name,
                    plan_name=sub.plan.name,
                    status=sub.status,
                    channel=cancellation_channel(policy),
                    contract=Contract(sub.contract),
                    licences=sub.licence_count,
                    assigned=len(sub.assignments),
                    cancellable=sub_reason is None,
                    reason=sub_reason,
                    who_may_request=Notice(rule.code, rule.message, dict(rule.params)),
                    addons=tuple(addons),
                )
            )
        billing = billing_contact(account)
        return AssistedOptions(
            account_id=account.id,
            account_number=account.account_number,
            company_name=account.company_name,
            currency=account.currency,
            allowed=refusal is None,
            refusal=refusal,
            billing_contact_name=billing.full_name if billing else None,
            billing_contact_email=billing.email if billing else None,
            contacts=tuple(
                RequesterOption(
                    contact_id=c.id,
                    name=c.full_name,
                    email=c.email,
                    roles=tuple(sorted(r for r in c.role_set if r in _ROLE_VALUES)),
                    is_billing_contact=bool(c.is_billing_contact),
                    cancel_authorised=bool(c.cancel_authorised),
                )
                for c in sorted(account.contacts, key=lambda c: c.id)
            ),
            subscriptions=tuple(subscriptions),
            version=account.version,
        )


def assisted_checklist(
    ctx: AppContext,
    account_id: int | str,
    *,
    requester_contact_id: int | None,
    subscription_ids: Sequence[int],
    addon_ids: Sequence[int] = (),
    verification: VerificationResult | int | None = None,
    backup_confirmed: bool = False,
) -> AssistedChecklist:
    """The preconditions of an assisted cancellation, each with its state (article 002).

    Read-only. ``verification`` is the result (or token) of :func:`verify_caller`;
    ``addon_ids`` are ``subscription_addons`` ids.
    """
    with reading(ctx) as session:
        account = get_account(session, account_id)
        authorize(ctx, Action.VIEW, account)
        subs, addons = _selection(account, subscription_ids, addon_ids)
        return _checklist(
            session,
            ctx,
            account,
            verification,
            requester_contact_id,
            subs,
            addons,
            backup_confirmed,
        )


def assisted_preview(
    ctx: AppContext,
    account_id: int | str,
    *,
    subscription_ids: Sequence[int],
    addon_ids: Sequence[int] = (),
    on: date | None = None,
) -> AssistedPreview:
    """What an assisted cancellation of the selection will still bill; writes nothing."""
    with reading(ctx) as session:
        account = get_account(session, account_id)
        authorize(ctx, Action.VIEW, account)
        subs, addons = _selection(account, subscription_ids, addon_ids)
        return _assisted_plan(account, subs, addons, on or ctx.clock.today())


def assisted_cancel(
    ctx: AppContext,
    account_id: int | str,
    *,
    verification: VerificationResult | int | None,
    requester_contact_id: int | None,
    subscription_ids: Sequence[int],
    addon_ids: Sequence[int] = (),
    reason: str,
    reason_text: str = "",
    backup_confirmed: bool,
    expected_version: int | None = None,
) -> AssistedCancellationResult:
    """Support cancels products/add-ons for a verified caller (article 002, steps 1–5).

    Refused (``PolicyViolation("assisted_cancel_preconditions")``, params
    ``failed`` = the codes and ``conditions`` = their labels) until every
    item of :func:`assisted_checklist` holds. Then the months after the
    current period of a fixed term are billed on one early-termination invoice
    (collected at once with autopay), and each item becomes cancellation
    pending / inactive as in :func:`cancel_online`. ``expected_version`` is
    the account's version shown on screen.
    """
    with writing(ctx, QT_TRANSLATE_NOOP("ServiceError", "The account")) as session:
        account = get_account(session, account_id)
        authorize(ctx, Action.ASSISTED_CANCEL, account)
        if expected_version is not None:
            lock(session, account)
            check_version(session, account, expected_version, account.account_number, account.id)
        code, text = check_reason(reason, reason_text)
        subs, addons = _selection(account, subscription_ids, addon_ids)
        checklist = _checklist(
            session,
            ctx,
            account,
            verification,
            requester_contact_id,
            subs,
            addons,
            backup_confirmed,
        )
        if not checklist.ready:
            failed = [item for item in checklist.items if not item.passed]
            raise PolicyViolation(
                "assisted_cancel_preconditions",
                QT_TRANSLATE_NOOP(
                    "ServiceError",
                    "The cancellation cannot go ahead until these conditions are met: "
                    "{conditions}.",
                ),
                conditions="; ".join(item.label for item in failed),
                failed=tuple(item.code for item in failed),
            )
        assert requester_contact_id is not None  # checked by the requester item
        requester = requesting_contact(account, requester_contact_id)
        today, now = ctx.clock.today(), ctx.clock.now()
        plan = _assisted_plan(account, subs, addons, today)
        invoice = None
        if plan.termination is not None:
            lines = plan.termination.lines
            invoice = issue_invoice(
                session,
                account,
                plan.termination,
                kind="termination",
                issued_at=now,
                period=Period(
                    min(line.period.start for line in lines if line.period),
                    max(line.period.end for line in lines if line.period),
                ),
                charge=True,
            )
        token = _token(verification)
        facts = {
            "verification_token": token,
            "termination_invoice": invoice.number if invoice is not None else None,
        }
        emails = []
        items = iter(plan.items)
        done: list[CancellationPreview] = []
        for sub in subs:
            preview = next(items)
            before = audit.snapshot(sub, *_CANCEL_FIELDS)
            _mark_cancelled(sub, preview, now, code, text)
            session.flush()
            done.append(dataclasses.replace(preview, status=sub.status))
            audit.record(
                session,
                ctx,
                AUDIT_ASSISTED_CANCEL,
                account.id,
                before,
                {**audit.snapshot(sub, *_CANCEL_FIELDS), **_outcome_facts(preview), **facts},
                requester.id,
            )
            emails.append(
                queue_email(
                    session,
                    ctx,
                    account,
                    EmailKind.CANCELLATION_CONFIRMED,
                    {"product": sub.product.name, "expiry_date": preview.effective_end},
                )
            )
        for sa in addons:
            preview = next(items)
            before_addon = {
                "subscription_addon_id": sa.id,
                "addon": sa.addon.code,
                "active": sa.active,
                "ends_on": sa.ends_on,
            }
            # Still usable (and active) until the paid period ends.
            sa.ends_on = preview.effective_end
            done.append(preview)
            audit.record(
                session,
                ctx,
                AUDIT_CANCEL_ADDON,
                account.id,
                before_addon,
                {
                    "subscription_addon_id": sa.id,
                    "addon": sa.addon.code,
                    "active": sa.active,
                    "ends_on": sa.ends_on,
                    "cancel_reason": code,
                    "cancel_reason_text": text or None,
                    **_outcome_facts(preview),
                    **facts,
                },
                requester.id,
            )
            emails.append(
                queue_email(
                    session,
                    ctx,
                    account,
                    EmailKind.CANCELLATION_CONFIRMED,
                    {
                        "product": f"{sa.addon.name} ({sa.subscription.product.name})",
                        "expiry_date": preview.effective_end,
                    },
                )
            )
        session.flush()
        refresh_account_totals(session, account)
        session.flush()
        return AssistedCancellationResult(
            account_id=account.id,
            account_number=account.account_number,
            items=tuple(done),
            requested_by_contact_id=requester.id,
            termination_invoice_id=invoice.id if invoice is not None else None,
            termination_invoice_number=invoice.number if invoice is not None else None,
            termination=plan.termination,
            termination_paid=invoice is not None and invoice.status == "paid",
            email_ids=tuple(e.id for e in emails),
            warnings=plan.warnings,
            account_version=account.version,
        )


# --------------------------------------------------------------------------- internals


def _check_version(sub: Subscription, expected_version: int | None) -> None:
    if expected_version is not None:
        session = object_session(sub)
        assert session is not None
        lock(session, sub)
        check_version(session, sub, expected_version, sub.product.name, sub.account_id)


def _policy(sub: Subscription) -> ProductPolicy:
    product = sub.product
    return ProductPolicy(
        code=product.code,
        online_cancellation=bool(product.online_cancellation),
        online_downgrade=bool(product.online_downgrade),
        cancel_roles=frozenset(ContactRole(r) for r in product.cancel_roles.split(",") if r),
        requires_super_admin_to_cancel=bool(product.cancel_requires_super_admin),
    )


_ROLE_VALUES = frozenset(role.value for role in ContactRole)


def _roles(contact: Contact) -> frozenset[ContactRole]:
    return frozenset(ContactRole(r) for r in contact.role_set if r in _ROLE_VALUES)


def _requester_decision(policy: ProductPolicy, contact: Contact, sub: Subscription) -> Decision:
    return may_request_cancellation(
        policy, _roles(contact), PurchaseChannel(sub.channel), bool(contact.cancel_authorised)
    )


def _require_billing_contact(account: Account, contact: Contact) -> None:
    billing = billing_contact(account)
    may_change_plan_online(
        contact.is_billing_contact,
        billing.full_name if billing else "",
        billing.email if billing else "",
    ).require()


def _require_cancellable(sub: Subscription) -> None:
    """Only a live subscription without a pending cancellation can be cancelled."""
    status = sub.status
    if status == SubscriptionStatus.CANCELLATION_PENDING or (
        status == SubscriptionStatus.TRIAL and sub.cancellation_effective is not None
    ):
        raise PolicyViolation(
            "already_cancellation_pending",
            QT_TRANSLATE_NOOP(
                "ServiceError", "{product} is already cancelled; it ends on {effective_end}."
            ),
            product=sub.product.name,
            effective_end=sub.cancellation_effective,
        )
    if status not in (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIAL):
        raise PolicyViolation(
            "not_cancellable",
            QT_TRANSLATE_NOOP(
                "ServiceError", "{product} cannot be cancelled: it is no longer active."
            ),
            product=sub.product.name,
            status=status,
        )


def _has_overdue_invoice(session: Session, account: Account, today: date) -> bool:
    from billing_desktop.store.models import Invoice

    due = Invoice.total_minor - Invoice.credit_applied_minor - Invoice.paid_minor
    found = session.scalar(
        select(Invoice.id)
        .where(
            Invoice.account_id == account.id,
            Invoice.status == "open",
            Invoice.due_date < today,
            due > 0,
        )
        .limit(1)
    )
    return found is not None


def _outstanding(session: Session, account: Account) -> Money:
    from billing_desktop.store.models import Invoice

    due = session.scalar(
        select(
            func.coalesce(
                func.sum(Invoice.total_minor - Invoice.credit_applied_minor - Invoice.paid_minor),
                0,
            )
        ).where(Invoice.account_id == account.id, Invoice.status == "open")
    )
    return Money.from_minor(int(due or 0), account.currency)


def check_reason(reason: str, reason_text: str) -> tuple[str, str]:
    """SPEC §3: "Cancellation asks for a reason (a short list plus free text)"."""
    code = (reason or "").strip()
    text = (reason_text or "").strip()
    if not code:
        raise ValidationError(
            "cancel_reason_required",
            QT_TRANSLATE_NOOP("ServiceError", "Choose a reason for the cancellation."),
        )
    if code not in REASON_CODES:
        raise ValidationError(
            "cancel_reason_unknown",
            QT_TRANSLATE_NOOP("ServiceError", "{reason} is not one of the cancellation reasons."),
            reason=code,
        )
    if code == "other" and not text:
        raise ValidationError(
            "cancel_reason_text_required",
            QT_TRANSLATE_NOOP("ServiceError", "Describe the reason for the cancellation."),
        )
    if len(text) > REASON_TEXT_MAX:
        raise ValidationError(
            "cancel_reason_text_too_long",
            QT_TRANSLATE_NOOP(
                "ServiceError", "The reason may be at most {maximum} characters long."
            ),
            maximum=REASON_TEXT_MAX,
        )
    return code, text


def _mark_cancelled(
    sub: Subscription, preview: CancellationPreview, now: datetime, code: str, text: str
) -> None:
    if not preview.is_trial:
        sub.status = SubscriptionStatus.CANCELLATION_PENDING.value
    sub.auto_renew = False
    sub.cancel_requested_at = now
    sub.cancellation_effective = preview.effective_end
    sub.cancel_reason = code
    sub.cancel_reason_text = text or None


def _outcome_facts(preview: CancellationPreview) -> dict[str, object]:
    return {
        "effective_end": preview.effective_end,
        "months_billed": preview.months_billed,
        "amount_still_billed": preview.amount_still_billed.amount,
        "additional_charge": preview.additional_charge.amount,
        "renewed": preview.renewed,
        "data_deletion_date": preview.data_deletion_date,
    }


def _components(
    account: Account, sub: Subscription, only: SubscriptionAddon | None
) -> list[tuple[PeriodLine, bool]]:
    """The priced lines of the current billing period: plan and active add-ons (or one
    add-on), each with whether it goes on after the period.

    An add-on already cancelled (``ends_on`` set) was billed for the current
    period if it was still running when the period began; it never goes on
    after it (its own cancellation billed or ended it).
    """
    product = shipped_catalog().product(sub.product.code)
    plan = product.plan(sub.plan.code)
    if only is not None:
        chosen = [only]
    else:
        start = sub.period_start
        chosen = sorted(
            (
                sa
                for sa in sub.addons
                if sa.active and (sa.ends_on is None or start is None or sa.ends_on > start)
            ),
            key=lambda sa: sa.id,
        )
    bill = period_bill(
        product,
        plan,
        [product.addon(sa.addon.code) for sa in chosen],
        sub.licence_count,
        account.currency,
        sub.frequency,
        account_vat(account),
    )
    addon_lines = [
        (line, only is not None or sa.ends_on is None)
        for line, sa in zip(bill.lines[1:], chosen, strict=True)
    ]
    return addon_lines if only is not None else [(bill.lines[0], True), *addon_lines]


def _current_period(sub: Subscription) -> Period:
    if sub.period_start is None or sub.period_end is None:
        raise PolicyViolation(
            "no_current_period",
            QT_TRANSLATE_NOOP("ServiceError", "{product} has no current billing period."),
            product=sub.product.name,
        )
    return Period(sub.period_start, sub.period_end)


def _preview(
    account: Account, sub: Subscription, on: date, only: SubscriptionAddon | None = None
) -> CancellationPreview:
    """Plan the cancellation of ``sub`` (or its add-on ``only``) on ``on``."""
    currency = account.currency
    zero = Money.zero(currency)
    frequency = Frequency(sub.frequency)
    contract = Contract(sub.contract)
    period = _current_period(sub)
    is_trial = sub.status == SubscriptionStatus.TRIAL
    product_name = sub.product.name
    name = only.addon.name if only is not None else f"{product_name} {sub.plan.name}"
    deadline = renewal_notice_deadline(sub.term_end) if sub.term_end is not None else None
    lines: list[DraftLine] = []
    warning: Notice | None = None
    if is_trial:
        # Article 000: a trial "expires at the end of the trial period" — never charged.
        if not period.contains(on):
            raise ValidationError(
                "date_outside_period",
                QT_TRANSLATE_NOOP(
                    "DomainError", "{on} is not in the current billing period ({start} – {end})."
                ),
                on=on,
                start=period.start,
                end=period.end,
            )
        effective = sub.trial_end or period.end
        period_amount = still = additional = zero
        months = 0
        renewed = False
    else:
        components = _components(account, sub, only)
        period_amount = sum_money((c.amount for c, _goes_on in components), currency)
        outcome = cancellation_outcome(
            contract=contract,
            frequency=frequency,
            current_period=period,
            period_amount=period_amount,
            on=on,
            term_end=sub.term_end,
            term_start=sub.term_start,
            term_months=sub.term_months,
        )
        effective = outcome.effective_end
        months = outcome.months_billed
        renewed = outcome.renewed
        later = outcome.months_billed - frequency.months
        if later > 0:
            billed = Period(period.end, effective)
            for component, goes_on in components:
                if not goes_on:
                    continue
                lines.append(
                    DraftLine(
                        kind="termination",
                        description=(
                            f"Early termination: {component.description}, {later} remaining months"
                        ),
                        quantity=later,
                        unit_price=component.amount.scaled(1, frequency.months),
                        amount=component.amount.scaled(later, frequency.months),
                        subscription_id=sub.id,
                        period=billed,
                    )
                )
        additional = sum_money((line.amount for line in lines), currency)
        still = period_amount + additional
        if renewed:
            warning = Notice(
                "renewal_window_passed",
                QT_TRANSLATE_NOOP(
                    "ServiceError",
                    "The agreement was not cancelled at least 30 days before its end "
                    "({term_end}), so it renews for another term: it stays active, and is "
                    "billed, until {effective_end}.",
                ),
                {"term_end": sub.term_end, "effective_end": effective},
            )
    return CancellationPreview(
        account_id=account.id,
        account_number=account.account_number,
        subscription_id=sub.id,
        subscription_addon_id=only.id if only is not None else None,
        product_code=sub.product.code,
        product_name=product_name,
        name=name,
        channel=cancellation_channel(_policy(sub)),
        status=sub.status,
        contract=contract,
        frequency=frequency,
        on=on,
        current_period=period,
        term_start=sub.term_start,
        term_end=sub.term_end,
        renewal_notice_deadline=deadline,
        is_trial=is_trial,
        effective_end=effective,
        months_billed=months,
        period_amount=period_amount,
        amount_still_billed=still,
        additional_charge=additional,
        refund=zero,
        renewed=renewed,
        warning=warning,
        data_deletion_date=data_deletion_date(effective),
        termination_lines=tuple(lines),
        termination=figures_for_account(account, lines) if lines else None,
    )


def _assisted_plan(
    account: Account,
    subs: Sequence[Subscription],
    addons: Sequence[SubscriptionAddon],
    on: date,
) -> AssistedPreview:
    items = [_preview(account, sub, on) for sub in subs]
    items += [_preview(account, sa.subscription, on, sa) for sa in addons]
    currency = account.currency
    lines = [line for item in items for line in item.termination_lines]
    return AssistedPreview(
        account_id=account.id,
        items=tuple(items),
        amount_still_billed=sum_money((i.amount_still_billed for i in items), currency),
        additional_charge=sum_money((i.additional_charge for i in items), currency),
        termination=figures_for_account(account, lines) if lines else None,
        warnings=tuple(i.warning for i in items if i.warning is not None),
    )


def _unique(ids: Iterable[int]) -> list[int]:
    seen: list[int] = []
    for value in ids:
        if value not in seen:
            seen.append(value)
    return seen


def _selection(
    account: Account, subscription_ids: Sequence[int], addon_ids: Sequence[int]
) -> tuple[list[Subscription], list[SubscriptionAddon]]:
    """The subscriptions and add-ons chosen for an assisted cancellation (step 4)."""
    by_id = {sub.id: sub for sub in account.subscriptions}
    subs = []
    for sub_id in _unique(subscription_ids):
        sub = by_id.get(sub_id)
        if sub is None:
            raise NotFound(QT_TRANSLATE_NOOP("ServiceError", "Subscription"), sub_id)
        _require_cancellable(sub)
        subs.append(sub)
    addon_rows = {sa.id: sa for sub in account.subscriptions for sa in sub.addons}
    addons = []
    for addon_id in _unique(addon_ids):
        sa = addon_rows.get(addon_id)
        if sa is None:
            raise NotFound(QT_TRANSLATE_NOOP("ServiceError", "Add-on"), addon_id)
        if sa.subscription_id in by_id and by_id[sa.subscription_id] in subs:
            continue  # ends with its subscription
        _check_addon(sa)
        addons.append(sa)
    if not subs and not addons:
        raise ValidationError(
            "nothing_selected",
            QT_TRANSLATE_NOOP("ServiceError", "Choose at least one product or add-on to cancel."),
        )
    return subs, addons


def _check_addon(sa: SubscriptionAddon) -> None:
    """An add-on may be cancelled on its own: still running, its plan active."""
    if not sa.active or sa.ends_on is not None:
        raise PolicyViolation(
            "addon_already_cancelled",
            QT_TRANSLATE_NOOP("ServiceError", "{addon} has already been cancelled."),
            addon=sa.addon.name,
        )
    parent = sa.subscription
    _require_cancellable(parent)
    if parent.status != SubscriptionStatus.ACTIVE:
        raise PolicyViolation(
            "addon_not_billed",
            QT_TRANSLATE_NOOP(
                "ServiceError", "{addon} cannot be cancelled on its own during a trial."
            ),
            addon=sa.addon.name,
        )


def _failures_in_a_row(session: Session, ctx: AppContext, account: Account) -> int:
    """Failed verifications of this operator on this account since their last success
    (within :data:`VERIFICATION_VALID_FOR`)."""
    from billing_desktop.store.models import AuditEntry

    since = ctx.clock.now() - VERIFICATION_VALID_FOR
    rows = session.scalars(
        select(AuditEntry.after_json)
        .where(
            AuditEntry.account_id == account.id,
            AuditEntry.operator_id == ctx.operator.id,
            AuditEntry.action == AUDIT_VERIFY,
            AuditEntry.at >= since,
        )
        .order_by(AuditEntry.id.desc())
    )
    count = 0
    for after in rows:
        if json.loads(after or "{}").get("verified") is True:
            break
        count += 1
    return count


def _token(verification: VerificationResult | int | None) -> int | None:
    if isinstance(verification, VerificationResult):
        return verification.token
    if isinstance(verification, int) and not isinstance(verification, bool):
        return verification
    return None


def _verification_item(
    session: Session,
    ctx: AppContext,
    account: Account,
    verification: VerificationResult | int | None,
) -> ChecklistItem:
    from billing_desktop.store.models import AuditEntry

    def failed(detail: str, **params: object) -> ChecklistItem:
        return ChecklistItem(
            "caller_verified",
            _LABELS["caller_verified"],
            CheckState.FAILED,
            detail,
            params,
            "verify_caller",
            _REMEDIES["verify_caller"],
        )

    if isinstance(verification, VerificationResult) and not verification.verified:
        return failed(
            QT_TRANSLATE_NOOP(
                "ServiceError",
                "The caller's details did not match ({items}); verify the caller again.",
            ),
            items=", ".join(i.label for i in verification.items if not i.matched),
            mismatches=verification.mismatches,
        )
    token = _token(verification)
    if token is None:
        return failed(QT_TRANSLATE_NOOP("ServiceError", "The caller has not been verified yet."))
    entry = session.get(AuditEntry, token)
    now = ctx.clock.now()
    valid = (
        entry is not None
        and entry.action == AUDIT_VERIFY
        and entry.account_id == account.id
        and entry.operator_id == ctx.operator.id
        and json.loads(entry.after_json or "{}").get("verified") is True
        and entry.at <= now <= entry.at + VERIFICATION_VALID_FOR
    )
    if not valid:
        return failed(
            QT_TRANSLATE_NOOP(
                "ServiceError",
                "The verification is not valid for this account or has expired; verify the "
                "caller again.",
            )
        )
    return ChecklistItem(
        "caller_verified",
        _LABELS["caller_verified"],
        CheckState.PASSED,
        QT_TRANSLATE_NOOP("ServiceError", "The caller was verified at {at}."),
        {"at": entry.at},
    )


def _checklist(
    session: Session,
    ctx: AppContext,
    account: Account,
    verification: VerificationResult | int | None,
    requester_contact_id: int | None,
    subs: Sequence[Subscription],
    addons: Sequence[SubscriptionAddon],
    backup_confirmed: bool,
) -> AssistedChecklist:
    items = [_verification_item(session, ctx, account, verification)]
    parents = list(subs) + [sa.subscription for sa in addons if sa.subscription not in subs]

    # 2. the requester's role (Connect: super admin; via a representative: product admin or
    #    authorised billing admin; otherwise super admin or billing admin)
    role_item: ChecklistItem
    if requester_contact_id is None:
        role_item = ChecklistItem(
            "requester_role",
            _LABELS["requester_role"],
            CheckState.FAILED,
            QT_TRANSLATE_NOOP("ServiceError", "Choose the contact who asks for the cancellation."),
            {},
            "choose_requester",
            _REMEDIES["choose_requester"],
        )
    else:
        requester = requesting_contact(account, requester_contact_id)
        refusal = next(
            (
                (sub, d)
                for sub in parents
                if not (d := _requester_decision(_policy(sub), requester, sub)).allowed
            ),
            None,
        )
        if refusal is None:
            role_item = ChecklistItem(
                "requester_role",
                _LABELS["requester_role"],
                CheckState.PASSED,
                QT_TRANSLATE_NOOP("ServiceError", "{contact} may request this cancellation."),
                {"contact": requester.full_name},
            )
        else:
            sub, decision = refusal
            role_item = ChecklistItem(
                "requester_role",
                _LABELS["requester_role"],
                CheckState.FAILED,
                decision.message,
                {
                    **decision.params,
                    "code": decision.code,
                    "contact": requester.full_name,
                    "product": sub.product.name,
                },
                "choose_requester",
                _REMEDIES["choose_requester"],
            )
    items.append(role_item)

    # 3. no outstanding balance
    outstanding = _outstanding(session, account)
    if outstanding.is_positive:
        items.append(
            ChecklistItem(
                "no_outstanding_balance",
                _LABELS["no_outstanding_balance"],
                CheckState.FAILED,
                QT_TRANSLATE_NOOP(
                    "ServiceError",
                    "The account has an outstanding balance of {amount}; it must be paid "
                    "before cancelling.",
                ),
                {"amount": outstanding},
                "record_payment",
                _REMEDIES["record_payment"],
            )
        )
    else:
        items.append(
            ChecklistItem(
                "no_outstanding_balance",
                _LABELS["no_outstanding_balance"],
                CheckState.PASSED,
                QT_TRANSLATE_NOOP("ServiceError", "Nothing is outstanding on the account."),
            )
        )

    # 3. contract type and its cancellation terms (shown; see ``terms``)
    today = ctx.clock.today()
    terms = tuple(
        ContractTerms(
            subscription_id=sub.id,
            product_name=sub.product.name,
            contract=Contract(sub.contract),
            frequency=Frequency(sub.frequency),
            term_start=sub.term_start,
            term_end=sub.term_end,
            term_months=sub.term_months,
            current_period_end=sub.period_end,
            renewal_notice_deadline=(
                renewal_notice_deadline(sub.term_end) if sub.term_end is not None else None
            ),
            renewal_window_passed=(
                sub.term_end is not None and renewal_window_passed(sub.term_end, today)
            ),
        )
        for sub in parents
    )
    items.append(
        ChecklistItem(
            "contract_terms",
            _LABELS["contract_terms"],
            CheckState.PASSED,
            QT_TRANSLATE_NOOP(
                "ServiceError",
                "Review the contract type, end date and cancellation terms of each product "
                "with the caller.",
            ),
        )
    )

    # 3. licences unassigned from contacts (only products cancelled as a whole)
    assigned = [(sub, len(sub.assignments)) for sub in subs if sub.assignments]
    if assigned:
        items.append(
            ChecklistItem(
                "licences_unassigned",
                _LABELS["licences_unassigned"],
                CheckState.FAILED,
                QT_TRANSLATE_NOOP(
                    "ServiceError",
                    "{count} licences are still assigned to users ({products}); unassign them "
                    "first.",
                ),
                {
                    "count": sum(n for _sub, n in assigned),
                    "products": ", ".join(sub.product.name for sub, _n in assigned),
                },
                "unassign_licences",
                _REMEDIES["unassign_licences"],
            )
        )
    else:
        items.append(
            ChecklistItem(
                "licences_unassigned",
                _LABELS["licences_unassigned"],
                CheckState.PASSED,
                QT_TRANSLATE_NOOP("ServiceError", "No licences are assigned to users."),
            )
        )

    # 3. data backed up
    if backup_confirmed:
        items.append(
            ChecklistItem(
                "data_backed_up",
                _LABELS["data_backed_up"],
                CheckState.PASSED,
                QT_TRANSLATE_NOOP("ServiceError", "The caller confirmed the data is backed up."),
            )
        )
    else:
        items.append(
            ChecklistItem(
                "data_backed_up",
                _LABELS["data_backed_up"],
                CheckState.FAILED,
                QT_TRANSLATE_NOOP(
                    "ServiceError",
                    "Confirm that the customer's data has been backed up; offer an export of "
                    "the account's data.",
                ),
                {},
                "export_account",
                _REMEDIES["export_account"],
            )
        )
    return AssistedChecklist(account.id, account.account_number, tuple(items), terms)


def _fold(value: str) -> str:
    return (value or "").strip().casefold()


def _squash(value: str | None) -> str:
    """Case- and whitespace-insensitive form ("3581 CR" == "3581cr")."""
    return "".join((value or "").split()).casefold()


_VERIFY_LABELS = {
    "account_id": QT_TRANSLATE_NOOP("ServiceError", "Account ID"),
    "billing_admin_email": QT_TRANSLATE_NOOP("ServiceError", "Billing admin email"),
    "last4": QT_TRANSLATE_NOOP("ServiceError", "Last four digits of the payment method"),
    "billing_address": QT_TRANSLATE_NOOP("ServiceError", "Billing address"),
    "postal_code": QT_TRANSLATE_NOOP("ServiceError", "Postal code"),
}

_LABELS = {
    "caller_verified": QT_TRANSLATE_NOOP("ServiceError", "Caller verified"),
    "requester_role": QT_TRANSLATE_NOOP("ServiceError", "Requester may cancel"),
    "no_outstanding_balance": QT_TRANSLATE_NOOP("ServiceError", "No outstanding balance"),
    "contract_terms": QT_TRANSLATE_NOOP("ServiceError", "Contract terms reviewed"),
    "licences_unassigned": QT_TRANSLATE_NOOP("ServiceError", "Licences unassigned"),
    "data_backed_up": QT_TRANSLATE_NOOP("ServiceError", "Data backed up"),
}

_REMEDIES = {
    "verify_caller": QT_TRANSLATE_NOOP("ServiceError", "Verify the caller"),
    "choose_requester": QT_TRANSLATE_NOOP("ServiceError", "Choose another contact"),
    "record_payment": QT_TRANSLATE_NOOP("ServiceError", "Record a payment"),
    "unassign_licences": QT_TRANSLATE_NOOP("ServiceError", "Unassign licences"),
    "export_account": QT_TRANSLATE_NOOP("ServiceError", "Export the account's data"),
}
