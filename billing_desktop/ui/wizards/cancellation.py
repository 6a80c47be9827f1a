"""Online cancellation and reactivation (article 000; SPEC §3 "Cancellation").

:class:`CancellationWizard` is the article's confirmation window as two pages:

* **Confirm** — product, plan, the date the plan stays active until, what
  happens to auto-renewal (and, for a trial, that it simply ends without any
  charge), who asks, a required reason (the service's list plus free text),
  **Yes, cancel** / **Don't cancel**. Everything shown comes from
  :func:`~billing_desktop.services.cancellation.cancellation_preview` and the
  card of :func:`~billing_desktop.services.subscriptions_view.subscription_cards`
  (whether the rules allow the cancellation now, and why not); nothing is
  written before **Yes, cancel**, which is exactly one
  :func:`~billing_desktop.services.cancellation.cancel_online` call.
* **Result** — the expiry date, the new status (*Cancellation pending*), the
  confirmation email and to whom it went, and **Close**.

Blocked cases are shown on the Confirm page with the service's reason and
**Yes, cancel** stays disabled. A product that is cancelled only through
support offers the assisted wizard when the card says this operator may run
it (the card's *Cancel* action is then available for that product).

:class:`ReactivateDialog` is the short confirmation of the options menu's
**Reactivate**: one :func:`~billing_desktop.services.cancellation.reactivate`
call behind a guarded button.

Choices where the articles are silent:

* **Requested by** defaults to the billing contact (the article's actor); an
  operator acting for another contact may choose them, and the service then
  says why it refuses (only the billing contact cancels online) on the page.
* The reason list's "Other" needs a description: the page asks the
  service's own reason check (``check_reason``) whether the reason is
  complete, so the page and the service never disagree.
* A free trial may still be cancelled (the service records the reason and
  stops it from being offered again), but the page first says what the
  article says: a trial without billing information simply expires.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
    QWizard,
)

from billing_desktop.domain.errors import DomainError
from billing_desktop.domain.policies import (
    CANCELLATION_REASONS,
    CancellationChannel,
    SubscriptionStatus,
)
from billing_desktop.services.activity import Requester, account_requesters
from billing_desktop.services.cancellation import (
    REASON_TEXT_MAX,
    CancellationPreview,
    CancellationResult,
    ReactivationResult,
    cancel_online,
    cancellation_preview,
    check_reason,
    reactivate,
)
from billing_desktop.services.errors import ConflictError
from billing_desktop.services.smtp import outbox
from billing_desktop.services.subscriptions_view import (
    CardAction,
    CardActionCode,
    SubscriptionCard,
    subscription_cards,
)
from billing_desktop.ui.account.subscriptions import FREQUENCY_WORDS, fill, status_word
from billing_desktop.ui.formatting import format_date
from billing_desktop.ui.wizards.common import (
    Fact,
    FactsForm,
    FinalAction,
    WizardBase,
    WizardPage,
    headline_label,
    message_text,
    money_text,
    wrapping_label,
)

if TYPE_CHECKING:
    from billing_desktop.domain.text import Notice
    from billing_desktop.services.context import AppContext

__all__ = [
    "CancellationConfirmPage",
    "CancellationResultPage",
    "CancellationWizard",
    "ReactivateDialog",
]

log = logging.getLogger("billing_desktop.ui")

_REASON_CONTEXT = "CancellationReason"

#: Refusals the account page can resolve: the service's refusal code → the tab
#: to open and the button's words (context "CancellationWizard").
_WAYS_OUT = {
    "overdue_invoice": ("invoices", QT_TRANSLATE_NOOP("CancellationWizard", "Open &Invoices")),
}
_CARD = "SubscriptionCardWidget"

#: The warning style of the notes (dark text on a light tint, as on the cards).
_WARNING_STYLE = (
    "QLabel#{name} {{ color: #7a3e00; background: #fff1dc; border: 1px solid #efbf78; "
    "border-radius: 4px; padding: 6px 8px; }}"
)


def _translate(context: str, text: str) -> str:
    return QCoreApplication.translate(context, text)


def _note(parent: QWidget, name: str, *, warning: bool = False) -> QLabel:
    label = wrapping_label(parent, name)
    if warning:
        label.setStyleSheet(_WARNING_STYLE.format(name=name))
    label.hide()
    return label


def _set_note(label: QLabel, text: str) -> None:
    label.setText(text)
    label.setVisible(bool(text))


# --------------------------------------------------------------------------- wizard


class CancellationWizard(WizardBase):
    """Cancel one subscription online (article 000): Confirm → Result."""

    CONFIRM, RESULT = range(2)

    #: the user chose the assisted cancellation instead (a support-only product)
    assisted_requested = Signal()

    def __init__(
        self,
        ctx: AppContext,
        account_id: int,
        subscription_id: int,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("cancellationWizard")
        self.ctx = ctx
        self.account_id = account_id
        self.subscription_id = subscription_id
        self.card: SubscriptionCard | None = None
        self.preview: CancellationPreview | None = None
        self.requesters: tuple[Requester, ...] = ()
        self.load_error = ""
        self.result: CancellationResult | None = None
        #: where the confirmation email went ("" until cancelled or when unknown)
        self.email_address = ""
        #: the assisted wizard opened from here (support-only products)
        self.assisted_wizard: QWizard | None = None

        self.load()
        self.confirm_page = CancellationConfirmPage(self)
        self.result_page = CancellationResultPage(self)
        self.setPage(self.CONFIRM, self.confirm_page)
        self.setPage(self.RESULT, self.result_page)
        self.setStartId(self.CONFIRM)
        self.retranslateUi()

    # -- data ------------------------------------------------------------------

    def load(self) -> None:
        """Read the card (what the rules allow now), the preview and the contacts."""
        self.load_error = ""
        try:
            cards = subscription_cards(self.ctx, self.account_id)
            self.card = next((c for c in cards if c.subscription_id == self.subscription_id), None)
            self.requesters = account_requesters(self.ctx, self.account_id)
        except DomainError as err:
            log.warning("cancellation of subscription %s: %s", self.subscription_id, err)
            self.card, self.requesters = None, ()
            self.load_error = message_text(err)
        try:
            self.preview = cancellation_preview(self.ctx, self.subscription_id)
        except DomainError as err:
            self.preview = None
            if not self.load_error and self.refusal() is None:
                self.load_error = message_text(err)

    def cancel_action(self) -> CardAction | None:
        return self.card.action(CardActionCode.CANCEL) if self.card is not None else None

    def refusal(self) -> Notice | None:
        """Why the rules refuse the cancellation now (the card's reason), or ``None``."""
        action = self.cancel_action()
        if action is None or action.available:
            return None
        return action.reason

    @property
    def support_only(self) -> bool:
        if self.preview is not None:
            return self.preview.channel is CancellationChannel.SUPPORT
        return (
            self.card is not None and self.card.cancellation_channel is CancellationChannel.SUPPORT
        )

    @property
    def offers_assisted(self) -> bool:
        """A support-only product and this operator may run the assisted flow."""
        action = self.cancel_action()
        return self.support_only and action is not None and action.available

    @property
    def product_name(self) -> str:
        if self.preview is not None:
            return self.preview.product_name
        return self.card.product_name if self.card is not None else ""

    def blocked_text(self) -> str:
        """Why **Yes, cancel** cannot be used ("" when it can)."""
        if self.load_error:
            return self.load_error
        refusal = self.refusal()
        if refusal is not None:
            return message_text(refusal)
        if self.support_only:
            return fill(
                self.tr("{product} cannot be cancelled online. Please contact support to cancel."),
                product=self.product_name,
            )
        if self.preview is None:
            return self.tr("This subscription cannot be cancelled now.")
        return ""

    def way_out(self) -> tuple[str, str] | None:
        """The account page's tab that resolves the refusal, and the button's words."""
        refusal = self.refusal()
        return _WAYS_OUT.get(refusal.code) if refusal is not None else None

    def take_way_out(self) -> None:
        way_out = self.way_out()
        if way_out is not None:
            self.request_navigation(way_out[0])

    # -- the final call --------------------------------------------------------

    def cancel(self, reason: str, reason_text: str, requested_by: int | None) -> CancellationResult:
        """The one write of the wizard (raises the service's ``DomainError``)."""
        return cancel_online(
            self.ctx,
            self.subscription_id,
            reason=reason,
            reason_text=reason_text,
            requested_by=requested_by,
            expected_version=self.card.version if self.card is not None else None,
        )

    def set_result(self, result: CancellationResult) -> None:
        self.result = result
        self.email_address = self._email_address(result.email_id)
        self.completed.emit()

    def _email_address(self, email_id: int) -> str:
        try:
            emails = outbox(self.ctx, account_id=self.account_id, limit=20)
        except DomainError as err:
            log.warning("confirmation email %s not read: %s", email_id, err)
            return ""
        return next((e.to_address for e in emails if e.id == email_id), "")

    # -- the way out to the assisted flow ----------------------------------------

    def open_assisted(self) -> None:
        """Hand over to the assisted cancellation wizard (support-only products)."""
        from billing_desktop.ui.wizards.assisted import AssistedCancellationWizard

        wizard = AssistedCancellationWizard(
            self.ctx,
            self.account_id,
            subscription_id=self.subscription_id,
            parent=self.parentWidget(),
        )
        wizard.completed.connect(self.completed)
        wizard.navigate_requested.connect(self.navigate_requested)
        self.assisted_wizard = wizard
        self.assisted_requested.emit()
        self.reject()
        wizard.open()

    # -- texts -----------------------------------------------------------------

    def retranslateUi(self) -> None:
        self.setWindowTitle(
            fill(self.tr("Cancel subscription: {product}"), product=self.product_name)
            if self.product_name
            else self.tr("Cancel subscription")
        )
        self.setButtonText(QWizard.WizardButton.CommitButton, self.tr("&Yes, cancel"))
        self.setButtonText(QWizard.WizardButton.CancelButton, self.tr("&Don't cancel"))
        self.setButtonText(QWizard.WizardButton.FinishButton, self.tr("&Close"))


class CancellationConfirmPage(WizardPage):
    """The confirmation window: what happens, who asks and why; **Yes, cancel**."""

    def __init__(self, wizard: CancellationWizard) -> None:
        super().__init__(wizard, name="cancellationConfirmPage")
        self._wizard = wizard
        self.setCommitPage(True)

        self.facts = FactsForm(self)
        self.facts.setObjectName("confirmFacts")
        self.trial_note = _note(self, "trialNote")
        self.billing_note = _note(self, "billingNote")
        self.warning_note = _note(self, "warningNote", warning=True)

        self.blocked_box = QWidget(self)
        self.blocked_box.setObjectName("blockedBox")
        self.blocked_label = _note(self.blocked_box, "blockedLabel", warning=True)
        self.assisted_button = QPushButton(self.blocked_box)
        self.assisted_button.setObjectName("assistedButton")
        self.assisted_button.clicked.connect(wizard.open_assisted)
        self.way_out_button = QPushButton(self.blocked_box)
        self.way_out_button.setObjectName("wayOutButton")
        self.way_out_button.clicked.connect(wizard.take_way_out)
        blocked_layout = QVBoxLayout(self.blocked_box)
        blocked_layout.setContentsMargins(0, 0, 0, 0)
        blocked_layout.addWidget(self.blocked_label)
        assisted_row = QHBoxLayout()
        assisted_row.addWidget(self.assisted_button)
        assisted_row.addWidget(self.way_out_button)
        assisted_row.addStretch(1)
        blocked_layout.addLayout(assisted_row)

        self.reason_box = QGroupBox(self)
        self.reason_box.setObjectName("reasonBox")
        self.requester_combo = QComboBox(self.reason_box)
        self.requester_combo.setObjectName("requesterCombo")
        self.requester_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.requester_combo.setMinimumContentsLength(24)
        self.reason_combo = QComboBox(self.reason_box)
        self.reason_combo.setObjectName("reasonCombo")
        self.reason_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.reason_combo.setMinimumContentsLength(24)
        for code, _label in CANCELLATION_REASONS:
            self.reason_combo.addItem("", code)
        self.reason_combo.setCurrentIndex(-1)
        self.details_edit = QPlainTextEdit(self.reason_box)
        self.details_edit.setObjectName("detailsEdit")
        self.details_edit.setTabChangesFocus(True)
        line = self.details_edit.fontMetrics().lineSpacing()
        self.details_edit.setFixedHeight(line * 3 + 14)
        self.hint_label = QLabel(self.reason_box)
        self.hint_label.setObjectName("reasonHint")
        self.hint_label.setWordWrap(True)
        self.requester_label = QLabel(self.reason_box)
        self.requester_label.setBuddy(self.requester_combo)
        self.reason_label = QLabel(self.reason_box)
        self.reason_label.setBuddy(self.reason_combo)
        self.details_label = QLabel(self.reason_box)
        self.details_label.setBuddy(self.details_edit)
        form = QFormLayout(self.reason_box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(self.requester_label, self.requester_combo)
        form.addRow(self.reason_label, self.reason_combo)
        form.addRow(self.details_label, self.details_edit)
        form.addRow("", self.hint_label)

        self.body.setSpacing(10)
        self.body.addWidget(self.facts)
        self.body.addWidget(self.trial_note)
        self.body.addWidget(self.billing_note)
        self.body.addWidget(self.warning_note)
        self.body.addWidget(self.blocked_box)
        self.body.addWidget(self.reason_box)
        self.body.addStretch(1)

        self.reason_combo.currentIndexChanged.connect(self._reason_changed)
        self.details_edit.textChanged.connect(self._reason_changed)
        self.requester_combo.currentIndexChanged.connect(self._requester_changed)
        self.setTabOrder(self.requester_combo, self.reason_combo)
        self.setTabOrder(self.reason_combo, self.details_edit)

        self._fill_requesters()
        self.retranslateUi()

    # -- input -----------------------------------------------------------------

    def reason_code(self) -> str:
        code = self.reason_combo.currentData()
        return str(code) if code else ""

    def reason_text(self) -> str:
        return self.details_edit.toPlainText()

    def requested_by(self) -> int | None:
        data = self.requester_combo.currentData()
        return int(data) if data is not None else None

    def reason_problem(self) -> str:
        """What is missing in the reason (the service's own check), "" when complete."""
        try:
            check_reason(self.reason_code(), self.reason_text())
        except DomainError as err:
            return message_text(err)
        return ""

    def blocked(self) -> bool:
        return bool(self._wizard.blocked_text())

    def _reason_changed(self) -> None:
        self.clear_error()
        self._update_hint()
        self.completeChanged.emit()

    def _requester_changed(self) -> None:
        self.clear_error()

    def _update_hint(self) -> None:
        problem = "" if self.blocked() else self.reason_problem()
        self.hint_label.setText(problem)
        self.hint_label.setVisible(bool(problem))

    def _fill_requesters(self) -> None:
        combo = self.requester_combo
        keep = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        for requester in self._wizard.requesters:
            combo.addItem("", requester.contact_id)
        index = combo.findData(keep) if keep is not None else -1
        combo.setCurrentIndex(index if index >= 0 else (0 if combo.count() else -1))
        combo.blockSignals(False)

    # -- wizard plumbing -------------------------------------------------------

    def initializePage(self) -> None:
        # keyboard users start where the input is: the reason (else the way out)
        if not self.blocked():
            self.reason_combo.setFocus(Qt.FocusReason.OtherFocusReason)
        elif self.assisted_button.isVisibleTo(self):
            self.assisted_button.setFocus(Qt.FocusReason.OtherFocusReason)
        elif self.way_out_button.isVisibleTo(self):
            self.way_out_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def isComplete(self) -> bool:
        return super().isComplete() and not self.blocked() and not self.reason_problem()

    def validatePage(self) -> bool:
        """**Yes, cancel**: the one service call; its refusal is shown on this page."""
        if self.final.done:
            return True
        if not self.isComplete():
            return False
        self.clear_error()
        wizard = self._wizard
        code, text, requester = self.reason_code(), self.reason_text(), self.requested_by()
        result = self.final.run(lambda: wizard.cancel(code, text, requester))
        if result is None:
            return False
        wizard.set_result(result)
        return True

    def show_error(self, err: DomainError | Notice | str) -> None:
        super().show_error(err)
        if isinstance(err, ConflictError):
            # someone else changed the subscription: show fresh facts, keep the input
            self._wizard.load()
            self._fill_requesters()
            self.refresh()

    # -- texts -----------------------------------------------------------------

    def refresh(self) -> None:
        """Show the wizard's data (after a load) in the UI language."""
        wizard = self._wizard
        preview, card = wizard.preview, wizard.card
        product = wizard.product_name
        blocked = wizard.blocked_text()
        self.setTitle(fill(self.tr("Cancel {product}?"), product=product) if product else "")
        facts: list[Fact] = []
        if product:
            facts.append(Fact(self.tr("Product"), product, "product"))
        if card is not None:
            facts.append(Fact(self.tr("Plan"), card.plan_name, "plan"))
            facts.append(Fact(self.tr("Licences"), str(card.licences), "licences"))
            facts.append(
                Fact(
                    self.tr("Billing frequency"),
                    _translate(_CARD, FREQUENCY_WORDS[card.frequency]),
                    "frequency",
                )
            )
        trial_note = billing_note = warning = ""
        if blocked:
            if card is not None:
                facts.append(Fact(self.tr("Status"), status_word(card.status), "status"))
        elif preview is not None:
            facts.extend(self._outcome(preview))
            end = format_date(preview.effective_end)
            if preview.is_trial:
                trial_note = fill(
                    self.tr(
                        "A free trial without billing information simply expires at the end of "
                        "the trial period, on {date}, with no charge and nothing else to do. "
                        "Cancelling it now only records the reason."
                    ),
                    date=end,
                )
            elif preview.additional_charge.is_positive:
                billing_note = fill(
                    self.tr(
                        "The agreement runs until {date}: {amount} is still billed for its "
                        "remaining months. Nothing is refunded."
                    ),
                    date=end,
                    amount=money_text(preview.additional_charge),
                )
            else:
                billing_note = fill(
                    self.tr(
                        "The current billing period is already paid for and is not refunded; "
                        "nothing more is billed. Its data is kept until {deletion}, then deleted."
                    ),
                    deletion=format_date(preview.data_deletion_date),
                )
            if preview.warning is not None:
                warning = message_text(preview.warning)
        self.facts.set_facts(facts)
        self.facts.setVisible(bool(facts))
        _set_note(self.trial_note, trial_note)
        _set_note(self.billing_note, billing_note)
        _set_note(self.warning_note, warning)

        _set_note(self.blocked_label, blocked)
        self.blocked_box.setVisible(bool(blocked))
        self.assisted_button.setVisible(bool(blocked) and wizard.offers_assisted)
        way_out = wizard.way_out() if blocked else None
        self.way_out_button.setVisible(way_out is not None)
        if way_out is not None:
            self.way_out_button.setText(_translate("CancellationWizard", way_out[1]))
        self.reason_box.setVisible(not blocked)
        if blocked:
            self.setSubTitle(self.tr("This subscription cannot be cancelled here."))
        else:
            self.setSubTitle(
                self.tr("Check what happens, give a reason and confirm with Yes, cancel.")
            )
        self._update_hint()
        self.completeChanged.emit()

    def _outcome(self, preview: CancellationPreview) -> list[Fact]:
        """What the cancellation does: the last day of service and auto-renewal."""
        end = format_date(preview.effective_end)
        if preview.is_trial:
            return [
                Fact(self.tr("Trial ends on"), end, "active_until", strong=True),
                Fact(
                    self.tr("Auto-renewal"),
                    self.tr("None: a trial is never charged"),
                    "auto_renewal",
                ),
            ]
        return [
            Fact(self.tr("Active until"), end, "active_until", strong=True),
            Fact(
                self.tr("Auto-renewal"),
                fill(self.tr("Turned off: the plan is not renewed after {date}"), date=end),
                "auto_renewal",
            ),
        ]

    def retranslateUi(self) -> None:
        self.reason_box.setTitle(self.tr("Why is it being cancelled?"))
        self.requester_label.setText(self.tr("Re&quested by:"))
        self.reason_label.setText(self.tr("&Reason:"))
        self.details_label.setText(self.tr("De&tails:"))
        self.reason_combo.setPlaceholderText(self.tr("Choose a reason"))
        for index, (_code, label) in enumerate(CANCELLATION_REASONS):
            self.reason_combo.setItemText(index, _translate(_REASON_CONTEXT, label))
        self.details_edit.setPlaceholderText(
            fill(
                self.tr("Anything the customer adds (optional; up to {maximum} characters)"),
                maximum=REASON_TEXT_MAX,
            )
        )
        self.reason_combo.setAccessibleName(self.tr("Reason"))
        self.details_edit.setAccessibleName(self.tr("Details of the reason"))
        self.requester_combo.setAccessibleName(self.tr("Requested by"))
        for index, requester in enumerate(self._wizard.requesters):
            text = (
                fill(
                    self.tr("{name} <{email}> (billing contact)"),
                    name=requester.name,
                    email=requester.email,
                )
                if requester.is_billing_contact
                else fill(self.tr("{name} <{email}>"), name=requester.name, email=requester.email)
            )
            self.requester_combo.setItemText(index, text)
        self.assisted_button.setText(self.tr("&Start assisted cancellation…"))
        self.refresh()


class CancellationResultPage(WizardPage):
    """The confirmation message: when the plan expires and the email sent; **Close**."""

    def __init__(self, wizard: CancellationWizard) -> None:
        super().__init__(wizard, name="cancellationResultPage")
        self._wizard = wizard
        self.setFinalPage(True)
        self.headline = headline_label(self, "resultHeadline", scale=1.15)
        self.facts = FactsForm(self)
        self.facts.setObjectName("resultFacts")
        self.message = _note(self, "resultMessage")
        self.warning_note = _note(self, "resultWarning", warning=True)
        self.body.setSpacing(12)
        self.body.addWidget(self.headline)
        self.body.addWidget(self.facts)
        self.body.addWidget(self.message)
        self.body.addWidget(self.warning_note)
        self.body.addStretch(1)
        self.retranslateUi()

    def initializePage(self) -> None:
        self.retranslateUi()

    def retranslateUi(self) -> None:
        wizard = self._wizard
        result = wizard.result
        self.setTitle(self.tr("Cancellation confirmed"))
        if result is None:
            self.setSubTitle("")
            self.headline.clear()
            self.facts.set_facts([])
            _set_note(self.message, "")
            _set_note(self.warning_note, "")
            return
        end = format_date(result.expiry_date)
        trial = result.preview.is_trial
        self.setSubTitle(self.tr("Auto-renewal is off. Click Close to finish."))
        if trial:
            headline = fill(
                self.tr("The {product} trial ends on {date}, with no charge."),
                product=result.product_name,
                date=end,
            )
        else:
            headline = fill(
                self.tr("Your {product} subscription expires on {date}."),
                product=result.product_name,
                date=end,
            )
        self.headline.setText(headline)
        status = SubscriptionStatus(result.status)
        status_text = (
            self.tr("Cancellation pending")
            if status is SubscriptionStatus.CANCELLATION_PENDING
            else status_word(status)
        )
        email = (
            fill(self.tr("Sent to {email}"), email=wizard.email_address)
            if wizard.email_address
            else self.tr("Sent to the billing contact")
        )
        self.facts.set_facts(
            [
                Fact(self.tr("Product"), result.product_name, "product"),
                Fact(self.tr("Status"), status_text, "status"),
                Fact(
                    self.tr("Trial ends on") if trial else self.tr("Expires on"),
                    end,
                    "expiry_date",
                    strong=True,
                ),
                Fact(self.tr("Auto-renewal"), self.tr("Off"), "auto_renewal"),
                Fact(self.tr("Confirmation email"), email, "email"),
            ]
        )
        _set_note(
            self.message,
            fill(
                self.tr(
                    "If you change your mind, choose Reactivate in the subscription's options "
                    "menu before {date}."
                ),
                date=end,
            ),
        )
        warning = result.warning
        _set_note(self.warning_note, message_text(warning) if warning is not None else "")


# --------------------------------------------------------------------------- reactivate


class ReactivateDialog(QDialog):
    """Reactivate a pending cancellation (article 000), after a short confirmation."""

    #: the reactivation succeeded; the caller reloads its data
    completed = Signal()
    #: part of the wizard contract; this dialog offers no way out into the page
    navigate_requested = Signal(str)

    def __init__(
        self,
        ctx: AppContext,
        account_id: int,
        subscription_id: int,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("reactivateDialog")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.ctx = ctx
        self.account_id = account_id
        self.subscription_id = subscription_id
        self.card: SubscriptionCard | None = None
        self.load_error = ""
        self.result: ReactivationResult | None = None

        self.icon = QLabel(self)
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_MessageBoxIconSize, None, self)
        self.icon.setPixmap(
            self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxQuestion).pixmap(size)
        )
        self.icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.headline = headline_label(self, "reactivateHeadline", scale=1.15)
        self.info = QLabel(self)
        self.info.setObjectName("reactivateInfo")
        self.info.setWordWrap(True)
        self.expiry = QLabel(self)
        self.expiry.setObjectName("reactivateExpiry")
        self.expiry.setWordWrap(True)
        self.error_label = QLabel(self)
        self.error_label.setObjectName("reactivateError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("QLabel#reactivateError { color: #8c1d18; }")
        self.error_label.hide()

        self.buttons = QDialogButtonBox(self)
        self.reactivate_button = self.buttons.addButton("", QDialogButtonBox.ButtonRole.AcceptRole)
        self.reactivate_button.setObjectName("reactivateButton")
        self.keep_button = self.buttons.addButton("", QDialogButtonBox.ButtonRole.RejectRole)
        self.keep_button.setObjectName("keepButton")
        self.reactivate_button.setDefault(True)
        self.reactivate_button.setAutoDefault(True)
        self.keep_button.setAutoDefault(False)
        self.buttons.rejected.connect(self.reject)
        self.reactivate_button.clicked.connect(self.confirm)
        self.final = FinalAction(self.reactivate_button, on_error=self.show_error)

        text = QVBoxLayout()
        text.setSpacing(8)
        text.addWidget(self.headline)
        text.addWidget(self.info)
        text.addWidget(self.expiry)
        text.addWidget(self.error_label)
        text.addStretch(1)
        top = QHBoxLayout()
        top.setSpacing(16)
        top.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        top.addLayout(text, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 14)
        layout.setSpacing(16)
        layout.addLayout(top, 1)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(460)

        self.load()
        self.retranslateUi()
        self.reactivate_button.setFocus()

    # -- data ------------------------------------------------------------------

    def load(self) -> None:
        self.load_error = ""
        try:
            cards = subscription_cards(self.ctx, self.account_id)
        except DomainError as err:
            self.card, self.load_error = None, message_text(err)
            return
        self.card = next((c for c in cards if c.subscription_id == self.subscription_id), None)

    def refusal_text(self) -> str:
        """Why Reactivate cannot be used now ("" when it can)."""
        if self.load_error:
            return self.load_error
        if self.card is None:
            return self.tr("This subscription can no longer be found.")
        action = self.card.action(CardActionCode.REACTIVATE)
        if action.available:
            return ""
        return message_text(action.reason) if action.reason is not None else ""

    # -- the final call --------------------------------------------------------

    def confirm(self) -> None:
        """**Reactivate**: the one service call, guarded against a second click."""
        card = self.card
        if card is None or self.refusal_text():
            return
        self.error_label.hide()
        result = self.final.run(
            lambda: reactivate(self.ctx, self.subscription_id, expected_version=card.version)
        )
        if result is None:
            return
        self.result = result
        self.completed.emit()
        self.accept()

    def show_error(self, err: DomainError) -> None:
        self.error_label.setText(message_text(err))
        self.error_label.show()
        if isinstance(err, ConflictError):
            self.load()  # the message says to reload: fresh version, same question
            self._update_enabled()

    def result_text(self) -> str:
        """The confirmation sentence for the page once reactivated ("" before)."""
        result = self.result
        if result is None:
            return ""
        if result.next_billing_date is not None and result.status == "trial":
            text = self.tr(
                "{product} has been reactivated: the trial continues until {date}. "
                "A confirmation email was sent."
            )
        elif result.next_billing_date is not None:
            text = self.tr(
                "{product} has been reactivated. The next billing date is {date}. "
                "A confirmation email was sent."
            )
        else:
            text = self.tr("{product} has been reactivated. A confirmation email was sent.")
        return fill(
            text,
            product=result.product_name,
            date=format_date(result.next_billing_date) if result.next_billing_date else "",
        )

    # -- texts -----------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.LanguageChange, QEvent.Type.LocaleChange):
            self.retranslateUi()
        super().changeEvent(event)

    def _update_enabled(self) -> None:
        if not self.final.blocked:
            self.reactivate_button.setEnabled(not self.refusal_text())

    def retranslateUi(self) -> None:
        self.setWindowTitle(self.tr("Reactivate subscription"))
        self.reactivate_button.setText(self.tr("&Reactivate"))
        self.keep_button.setText(self.tr("&Keep cancellation"))
        card = self.card
        product = card.product_name if card is not None else ""
        self.headline.setText(fill(self.tr("Reactivate {product}?"), product=product))
        info = ""
        if card is not None:
            next_date = card.next_billing_after_reactivation
            if card.status is SubscriptionStatus.TRIAL:
                info = fill(
                    self.tr("The trial continues until {date}; it is not cancelled any more."),
                    date=format_date(next_date) if next_date else "",
                )
            elif next_date is not None:
                info = fill(
                    self.tr(
                        "{product} renews automatically again. The next billing date is {date}."
                    ),
                    product=product,
                    date=format_date(next_date),
                )
            else:
                info = fill(self.tr("{product} renews automatically again."), product=product)
        expiry = ""
        if (
            card is not None
            and card.expires_on is not None
            and card.status is not SubscriptionStatus.TRIAL  # a trial ends anyway
        ):
            expiry = fill(
                self.tr("Without reactivation it expires on {date}."),
                date=format_date(card.expires_on),
            )
        self.expiry.setText(expiry)
        self.expiry.setVisible(bool(expiry))
        refusal = self.refusal_text()
        self.info.setText(info)
        self.info.setVisible(bool(info))
        if refusal:
            self.error_label.setText(refusal)
            self.error_label.show()
        self._update_enabled()
