"""The assisted cancellation wizard (article 002; issue 5 item 3; SPEC §3 "Cancellation").

Support staff cancel a product for a caller — a product that cannot be
cancelled online (LogMeIn Resolve, GoTo Connect), or any product when the
operator is support. The pages follow the article's order:

1. *Verify caller* — account ID, billing admin email, last four digits and
   billing address (street, postal code) of the payment method, checked by
   :func:`~billing_desktop.services.cancellation.verify_caller`; a mismatch
   is named next to its field; after
   :data:`~billing_desktop.services.cancellation.VERIFY_ATTEMPTS` failures in a
   row the service audits them and the page stops offering verification.
2. *Requester* — which contact asks; the role rule of each selected product
   is shown and checked (the checklist's ``requester_role`` item, which names
   the rule when it refuses).
3. *Before you cancel* — the service's checklist; each failed item offers its
   way out (Pay balance, Unassign all, Export account data), and the checklist
   is read again from the service after each action. Next stays disabled until
   every item holds.
4. *What to cancel* — products and add-ons (check boxes).
5. *What will still be billed* — :func:`~billing_desktop.services.cancellation.assisted_preview`.
6. *Confirm* — summary, reason, **Cancel subscriptions** (one call to
   :func:`~billing_desktop.services.cancellation.assisted_cancel`, guarded) →
   *Result*.

Choices where the issue is silent:

* **Pay balance pays here**, on the default payment method, after a
  confirmation (as the Invoices tab does) — the caller is on the phone; going
  to the Invoices tab would end the flow. When the default card has expired
  the page offers the Payment methods tab instead.
* The actions of the checklist (and the verification attempts, which the
  service audits) are the only writes before the final button: each is an
  explicit click, confirmed, one service call; the page says so.
* The selection starts with the subscription the wizard was opened for; with
  none, with every support-only product that can be cancelled (else every
  product that can be). Pages 2 and 3 check that selection; changing it on
  page 4 re-checks the checklist there, and going Back shows it re-read.
* Data backup holds after an export made here, or when the caller confirms
  their own backup (a check box): the article asks the customer to back up
  or transfer their data, the export is what support can offer.
* A field edited after a successful verification needs a new verification.
* The confirmation needs a reason (the reportable list plus text), as the
  online cancellation does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QLocale,
    QObject,
    QSize,
    QStandardPaths,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
)

from billing_desktop.documents.formatting import format_period
from billing_desktop.domain.errors import DomainError
from billing_desktop.domain.policies import CANCELLATION_REASONS
from billing_desktop.domain.text import QT_TRANSLATE_NOOP, Notice
from billing_desktop.services import cancellation as cx
from billing_desktop.services.context import AppContext
from billing_desktop.services.errors import ConflictError
from billing_desktop.services.export import export_account, export_file_name
from billing_desktop.services.licences import licence_overview, unassign_all
from billing_desktop.services.payments import payment_settings, record_payment
from billing_desktop.ui.errors import translate_message
from billing_desktop.ui.formatting import format_date
from billing_desktop.ui.wizards.common import (
    Fact,
    FactsForm,
    WizardBase,
    WizardPage,
    message_text,
    scroll_column,
)
from billing_desktop.ui.wizards.common import money_text as money
from billing_desktop.ui.wizards.common import wrapping_label as _wrapping
from billing_desktop.ui.words import catalog_text, roles_text
from billing_desktop.ui.workers import TaskProgress, run_in_background

__all__ = ["AssistedCancellationWizard"]

log = logging.getLogger("billing_desktop.ui")

#: Larger than the shared minimum: the checklist and the "still billed" page of one
#: product fit without scrolling at 100 % and 150 %.
ASSISTED_MINIMUM_SIZE = QSize(760, 660)

#: The verification fields in the order the article lists them (the service's codes).
VERIFY_FIELDS = ("account_id", "billing_admin_email", "last4", "billing_address", "postal_code")

_OK_MARK = "\u2714"  # ✔
_FAIL_MARK = "\u2718"  # ✘
_GREEN = "#1e6b2e"
_RED = "#a01515"


# --------------------------------------------------------------------------- helpers


class _KeepMissing(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(text: str, **values: object) -> str:
    """``text.format(**values)`` that survives a translation with a wrong placeholder."""
    try:
        return text.format_map(_KeepMissing(values))
    except (IndexError, ValueError):
        log.warning("translated text with bad placeholders: %r", text)
        return text


def _tr(context: str, text: str, n: int = -1) -> str:
    return QCoreApplication.translate(context, text, None, n)


def _notice_text(notice: Notice) -> str:
    return message_text(notice)


def _item_text(item: cx.ChecklistItem) -> str:
    """A checklist item's detail in the UI language, its values formatted."""
    return message_text(Notice(item.code, item.detail, dict(item.params)))


def _coloured(label: QLabel, colour: str | None) -> None:
    """Text in ``colour``, or back in the palette's own colour with ``None``."""
    palette = QApplication.palette(label)
    if colour is not None:
        palette.setColor(QPalette.ColorRole.WindowText, QColor(colour))
    label.setPalette(palette)


def _bold(label: QLabel) -> QLabel:
    font = QFont(label.font())
    font.setBold(True)
    label.setFont(font)
    return label


def _mark(label: QLabel, ok: bool | None) -> None:
    """✔ in green, ✘ in red, nothing for "not checked yet"."""
    if ok is None:
        label.clear()
        label.setAccessibleName("")
        return
    label.setText(_OK_MARK if ok else _FAIL_MARK)
    label.setAccessibleName(
        QCoreApplication.translate("AssistedCancellation", "Done")
        if ok
        else QCoreApplication.translate("AssistedCancellation", "Not yet")
    )
    _coloured(label, _GREEN if ok else _RED)


_CONTRACT_WORDS = {
    ("month_to_month", "monthly"): QT_TRANSLATE_NOOP(
        "AssistedCancellation", "Month to month, billed monthly"
    ),
    ("month_to_month", "annual"): QT_TRANSLATE_NOOP(
        "AssistedCancellation", "Month to month, billed annually"
    ),
    ("fixed_term", "monthly"): QT_TRANSLATE_NOOP(
        "AssistedCancellation", "Fixed term of {months} months, billed monthly"
    ),
    ("fixed_term", "annual"): QT_TRANSLATE_NOOP(
        "AssistedCancellation", "Fixed term of {months} months, billed annually"
    ),
}


def contract_text(contract: str, frequency: str, months: int | None) -> str:
    source = _CONTRACT_WORDS.get((str(contract), str(frequency)))
    if source is None:
        return f"{contract}, {frequency}"
    return fill(
        QCoreApplication.translate("AssistedCancellation", source), months=months if months else "?"
    )


# --------------------------------------------------------------------------- state


@dataclass
class AssistedState:
    """Everything the user entered or the services returned; pages read and write it.

    Widgets keep the typed input; this keeps what the service calls need, so a
    language switch (which rebuilds every text) or Back never loses anything.
    """

    account_id: int | str
    options: cx.AssistedOptions | None = None
    verification: cx.VerificationResult | None = None
    requester_id: int | None = None
    subscription_ids: list[int] = field(default_factory=list)
    addon_ids: list[int] = field(default_factory=list)
    #: the caller confirmed their own backup (check box)
    backup_confirmed_by_caller: bool = False
    #: where this wizard exported the account's data
    export_path: Path | None = None
    checklist: cx.AssistedChecklist | None = None
    #: the versions of the selected subscriptions, read just before the checklist page's
    #: checklist (what "Unassign all" sends: optimistic locking)
    licence_versions: dict[int, int] = field(default_factory=dict)
    preview: cx.AssistedPreview | None = None
    #: the account's version when the preview was shown (optimistic locking)
    version: int | None = None
    result: cx.AssistedCancellationResult | None = None

    @property
    def backup_confirmed(self) -> bool:
        return self.backup_confirmed_by_caller or self.export_path is not None

    @property
    def token(self) -> int | None:
        v = self.verification
        return v.token if v is not None and v.verified else None

    @property
    def has_selection(self) -> bool:
        return bool(self.subscription_ids or self.addon_ids)


# --------------------------------------------------------------------------- page 1


class _AssistedPage(WizardPage):
    """A page of this wizard: it reads and writes the wizard's :class:`AssistedState`."""

    def __init__(self, wizard: AssistedCancellationWizard, name: str) -> None:
        super().__init__(name=name)
        self._wizard = wizard

    @property
    def state(self) -> AssistedState:
        return self._wizard.state


class VerifyCallerPage(_AssistedPage):
    """Article 002: "your account ID, the billing admin's email, the last four digits
    and billing address of the payment method"."""

    def __init__(self, wizard: AssistedCancellationWizard) -> None:
        super().__init__(wizard, "verifyPage")
        self._busy = False
        self.blocked_label = _wrapping(self, "verifyBlocked")
        _coloured(self.blocked_label, _RED)
        self.blocked_label.hide()
        self.body.addWidget(self.blocked_label)
        self.body.addSpacing(6)
        self.intro = _wrapping(self, "verifyIntro")
        self.body.addWidget(self.intro)

        grid = QGridLayout()
        grid.setColumnStretch(1, 3)
        grid.setColumnStretch(2, 2)
        grid.setHorizontalSpacing(10)
        self.labels: dict[str, QLabel] = {}
        self.edits: dict[str, QLineEdit] = {}
        self.marks: dict[str, QLabel] = {}
        for row, code in enumerate(VERIFY_FIELDS):
            label = QLabel(self)
            edit = QLineEdit(self)
            edit.setObjectName(f"verify_{code}")
            mark = _wrapping(self, f"verify_{code}_status")
            mark.setMinimumWidth(160)
            label.setBuddy(edit)
            edit.textEdited.connect(self._edited)
            edit.installEventFilter(self)
            grid.addWidget(label, row, 0)
            grid.addWidget(edit, row, 1)
            grid.addWidget(mark, row, 2)
            self.labels[code], self.edits[code], self.marks[code] = label, edit, mark
        self.edits["last4"].setMaxLength(4)
        self.edits["billing_admin_email"].setInputMethodHints(
            Qt.InputMethodHint.ImhEmailCharactersOnly
        )
        self.body.addLayout(grid)

        buttons = QHBoxLayout()
        self.verify_button = QPushButton(self)
        self.verify_button.setObjectName("verifyButton")
        self.verify_button.setAutoDefault(False)
        self.verify_button.clicked.connect(self.verify)
        buttons.addWidget(self.verify_button)
        buttons.addStretch(1)
        self.body.addLayout(buttons)
        self.status_label = _wrapping(self, "verifyStatus")
        self.body.addWidget(self.status_label)
        self.body.addStretch(1)
        self.retranslateUi()
        self._update_enabled()

    # -- state ---------------------------------------------------------------

    def answers(self) -> dict[str, str]:
        return {code: self.edits[code].text() for code in VERIFY_FIELDS}

    def _allowed(self) -> bool:
        options = self.state.options
        return options is not None and options.allowed

    def _exhausted(self) -> bool:
        v = self.state.verification
        return v is not None and not v.verified and v.attempts_exhausted

    def isComplete(self) -> bool:
        v = self.state.verification
        return v is not None and v.verified and super().isComplete()

    def _update_enabled(self) -> None:
        allowed = self._allowed() and not self._exhausted()
        for edit in self.edits.values():
            edit.setEnabled(allowed)
        filled = all(e.text().strip() for e in self.edits.values())
        verified = self.state.verification is not None and self.state.verification.verified
        self.verify_button.setEnabled(allowed and filled and not verified and not self._busy)

    def _edited(self) -> None:
        v = self.state.verification
        if v is not None and v.verified:
            # what was verified is no longer what is on screen
            self.state.verification = None
            self._show_verification()
            self.completeChanged.emit()
        self._update_enabled()

    # -- Enter verifies until the caller is verified, then goes on --------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and watched in self.edits.values()
        ):
            v = self.state.verification
            if v is None or not v.verified:
                if self.verify_button.isEnabled():
                    self.verify()
                return True  # never fall through to Next before a verification
        return super().eventFilter(watched, event)

    # -- the service call ----------------------------------------------------------

    def verify(self) -> None:
        if not self.verify_button.isEnabled() or self._busy:
            return
        answers = self.answers()
        self._busy = True
        self._update_enabled()
        self.clear_error()
        try:
            result = cx.verify_caller(
                self._wizard.ctx,
                self.state.account_id,
                account_number=answers["account_id"],
                billing_admin_email=answers["billing_admin_email"],
                last4=answers["last4"],
                billing_address=answers["billing_address"],
                postal_code=answers["postal_code"],
            )
        except DomainError as err:
            self.show_error(err)
            return
        finally:
            self._busy = False
            self._update_enabled()
        self.state.verification = result
        self._show_verification()
        self._update_enabled()
        self.completeChanged.emit()
        if not result.verified:
            first = next(c for c in VERIFY_FIELDS if c in result.mismatches)
            if self.edits[first].isEnabled():
                self.edits[first].setFocus(Qt.FocusReason.OtherFocusReason)
                self.edits[first].selectAll()

    def _show_verification(self) -> None:
        v = self.state.verification
        if v is None:
            for mark in self.marks.values():
                mark.clear()
            self.status_label.clear()
            self.clear_error()
            return
        matched = {item.code: item.matched for item in v.items}
        for code in VERIFY_FIELDS:
            mark = self.marks[code]
            ok = matched.get(code)
            if ok is None:
                mark.clear()
            elif ok:
                mark.setText(fill(self.tr("{mark} Matches"), mark=_OK_MARK))
                _coloured(mark, _GREEN)
            else:
                sentence = self.mismatch_sentence(code)
                mark.setText(fill(self.tr("{mark} {sentence}"), mark=_FAIL_MARK, sentence=sentence))
                _coloured(mark, _RED)
        if v.verified:
            self.clear_error()
            self.status_label.setText(
                fill(
                    self.tr("{mark} The caller is verified ({time}). Go on with Next."),
                    mark=_OK_MARK,
                    time=QLocale().toString(v.checked_at.time(), QLocale.FormatType.ShortFormat),
                )
            )
            _coloured(self.status_label, _GREEN)
            return
        names = [translate_message(i.label) for i in v.items if not i.matched]
        self.show_error(
            fill(
                self.tr("The caller could not be verified: {fields} did not match."),
                fields=QLocale().createSeparatedList(names),
            )
        )
        if v.attempts_exhausted:
            text = self.tr(
                "%n verification attempt(s) in a row failed. This has been recorded in the "
                "account's activity. Do not go on: ask the billing admin to call back.",
                "",
                v.failed_attempts,
            )
        else:
            text = fill(
                self.tr("Attempt {attempt} of {limit} failed. Check the details with the caller."),
                attempt=v.failed_attempts,
                limit=cx.VERIFY_ATTEMPTS,
            )
        self.status_label.setText(text)
        _coloured(self.status_label, _RED)

    def mismatch_sentence(self, code: str) -> str:
        """Which field did not match, as a sentence shown next to it."""
        return {
            "account_id": self.tr("The account ID does not match."),
            "billing_admin_email": self.tr(
                "This is not the email of a billing admin of the account."
            ),
            "last4": self.tr("No card or bank account on file ends in these digits."),
            "billing_address": self.tr("The billing address does not match the payment method's."),
            "postal_code": self.tr("The postal code does not match the payment method's."),
        }.get(code, code)

    # -- texts ---------------------------------------------------------------------

    def set_blocked(self, text: str) -> None:
        self.blocked_label.setText(text)
        self.blocked_label.setVisible(bool(text))
        self._update_enabled()

    def retranslateUi(self) -> None:
        self.setTitle(self.tr("Verify the caller"))
        self.setSubTitle(
            self.tr("Step 1 of 6: before anything else, make sure the caller is who they say.")
        )
        options = self.state.options
        number = options.account_number if options is not None else str(self.state.account_id)
        self.intro.setText(
            fill(
                self.tr(
                    "Ask the caller for these details and type what they say. They are "
                    "compared with account {account}; only whether each one matched is "
                    "recorded, never what was said."
                ),
                account=number,
            )
        )
        texts = {
            "account_id": self.tr("&Account ID:"),
            "billing_admin_email": self.tr("Billing admin &email:"),
            "last4": self.tr("&Last four digits of the payment method:"),
            "billing_address": self.tr("Billing a&ddress (street and number):"),
            "postal_code": self.tr("&Postal code of the billing address:"),
        }
        for code, text in texts.items():
            self.labels[code].setText(text)
        self.edits["account_id"].setPlaceholderText(self.tr("e.g. A-100001"))
        self.edits["last4"].setPlaceholderText(self.tr("4 digits"))
        self.verify_button.setText(self.tr("&Verify caller"))
        self._show_verification()
        self._wizard.refresh_blocked()


# --------------------------------------------------------------------------- page 2


class RequesterPage(_AssistedPage):
    """Article 002: who may ask support to cancel ("Connect: a super admin" …)."""

    def __init__(self, wizard: AssistedCancellationWizard) -> None:
        super().__init__(wizard, "requesterPage")
        self.intro = _wrapping(self)
        self.body.addWidget(self.intro)
        row = QHBoxLayout()
        self.contact_label = QLabel(self)
        self.contact_combo = QComboBox(self)
        self.contact_combo.setObjectName("requesterCombo")
        self.contact_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.contact_label.setBuddy(self.contact_combo)
        row.addWidget(self.contact_label)
        row.addWidget(self.contact_combo, 1)
        self.body.addLayout(row)
        self.details = FactsForm(self)
        self.details.setObjectName("requesterDetails")
        self.body.addWidget(self.details)
        self.rules_box = QGroupBox(self)
        rules_layout = QVBoxLayout(self.rules_box)
        self.rules_label = _wrapping(self.rules_box, "requesterRules")
        rules_layout.addWidget(self.rules_label)
        self.body.addWidget(self.rules_box)
        verdict_row = QHBoxLayout()
        self.verdict_mark = QLabel(self)
        self.verdict_mark.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.verdict = _wrapping(self, "requesterVerdict")
        verdict_row.addWidget(self.verdict_mark, 0, Qt.AlignmentFlag.AlignTop)
        verdict_row.addWidget(self.verdict, 1)
        self.body.addLayout(verdict_row)
        self.body.addStretch(1)
        self._fill_contacts()
        self.contact_combo.currentIndexChanged.connect(self._chosen)
        self.retranslateUi()

    def _fill_contacts(self) -> None:
        options = self.state.options
        self.contact_combo.blockSignals(True)
        self.contact_combo.clear()
        self.contact_combo.addItem("", None)
        for c in options.contacts if options is not None else ():
            self.contact_combo.addItem("", c.contact_id)
        self._select(self.state.requester_id)
        self.contact_combo.blockSignals(False)

    def _select(self, contact_id: int | None) -> None:
        index = self.contact_combo.findData(contact_id) if contact_id is not None else 0
        self.contact_combo.setCurrentIndex(max(index, 0))

    def _contact(self) -> cx.RequesterOption | None:
        options = self.state.options
        cid = self.state.requester_id
        if options is None or cid is None:
            return None
        return next((c for c in options.contacts if c.contact_id == cid), None)

    def _chosen(self) -> None:
        self.state.requester_id = self.contact_combo.currentData()
        self.refresh()

    def initializePage(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Check the requester's role against the current selection (read-only)."""
        self.clear_error()
        if self.state.requester_id is not None and self.state.has_selection:
            self._wizard.reload_checklist(self)
        self._show()
        self.completeChanged.emit()

    def _role_item(self) -> cx.ChecklistItem | None:
        checklist = self.state.checklist
        if checklist is None or self.state.requester_id is None:
            return None
        try:
            return checklist.item("requester_role")
        except StopIteration:
            return None

    def isComplete(self) -> bool:
        item = self._role_item()
        return item is not None and item.passed and super().isComplete()

    def _show(self) -> None:
        contact = self._contact()
        facts = []
        if contact is not None:
            facts = [
                Fact(self.tr("Email:"), contact.email, "email"),
                Fact(self.tr("Roles:"), roles_text(contact.roles), "roles"),
            ]
            if contact.is_billing_contact:
                facts.append(Fact(self.tr("Billing contact:"), self.tr("Yes"), "billing"))
            if contact.cancel_authorised:
                facts.append(
                    Fact(
                        self.tr("Authorised to cancel:"),
                        self.tr("Yes, for products bought through a representative"),
                        "authorised",
                    )
                )
        self.details.set_facts(facts)
        self.details.setVisible(bool(facts))
        # the rule of each selected product, from the service
        options = self.state.options
        lines = []
        if options is not None:
            for sub_id in self._wizard.selected_parents():
                sub = options.subscription(sub_id)
                lines.append(
                    fill(
                        self.tr("{product}: {rule}"),
                        product=sub.product_name,
                        rule=_notice_text(sub.who_may_request),
                    )
                )
        self.rules_label.setText("\n".join(lines) or self.tr("Nothing is selected yet."))
        item = self._role_item()
        if contact is None or item is None:
            _mark(self.verdict_mark, None)
            self.verdict.setText(
                self.tr("Choose the contact who is asking to see whether they may.")
                if contact is None
                else ""
            )
            _coloured(self.verdict, None)
        elif item.passed:
            _mark(self.verdict_mark, True)
            self.verdict.setText(_item_text(item))
            _coloured(self.verdict, _GREEN)
        else:
            _mark(self.verdict_mark, False)
            product = str(item.params.get("product", ""))
            self.verdict.setText(
                fill(
                    self.tr("{contact} may not ask to cancel {product}. {rule}"),
                    contact=contact.name,
                    product=product,
                    rule=_item_text(item),
                )
            )
            _coloured(self.verdict, _RED)

    def retranslateUi(self) -> None:
        self.setTitle(self.tr("Requester"))
        self.setSubTitle(
            self.tr("Step 2 of 6: which contact asks for the cancellation, and may they?")
        )
        self.intro.setText(
            self.tr(
                "Only some roles may ask support to cancel a product. Choose the contact "
                "who is calling; the rule of each product to cancel is checked."
            )
        )
        self.contact_label.setText(self.tr("C&ontact asking:"))
        self.rules_box.setTitle(self.tr("Who may ask"))
        options = self.state.options
        self.contact_combo.setItemText(0, self.tr("Choose a contact…"))
        for index, c in enumerate(options.contacts if options is not None else (), start=1):
            self.contact_combo.setItemText(
                index,
                fill(
                    self.tr("{name} ({roles}), {email}"),
                    name=c.name,
                    roles=roles_text(c.roles),
                    email=c.email,
                ),
            )
        self._show()


# --------------------------------------------------------------------------- page 3


class _ChecklistRow(QFrame):
    """One precondition: its mark, label, what the service says and the way out."""

    def __init__(self, code: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.code = code
        self.setObjectName(f"check_{code}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 6, 8, 6)
        self.mark = QLabel(self)
        self.mark.setObjectName(f"check_{code}_mark")
        self.mark.setMinimumWidth(self.mark.fontMetrics().horizontalAdvance(_OK_MARK) + 6)
        self.title = _bold(_wrapping(self, f"check_{code}_title"))
        self.detail = _wrapping(self, f"check_{code}_detail")
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        grid.setVerticalSpacing(2)
        self.extra = QVBoxLayout()
        self.buttons = QVBoxLayout()
        self.buttons.addStretch(1)
        grid.addWidget(self.mark, 0, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.title, 0, 1)
        grid.addWidget(self.detail, 1, 1)
        grid.addLayout(self.extra, 2, 1)
        # the way out sits at the right of what it resolves
        grid.addLayout(self.buttons, 0, 2, 3, 1)
        grid.setColumnStretch(1, 1)

    def add_button(self, name: str) -> QPushButton:
        button = QPushButton(self)
        button.setObjectName(name)
        button.setAutoDefault(False)
        self.buttons.insertWidget(self.buttons.count() - 1, button)
        return button

    def set_item(self, item: cx.ChecklistItem) -> None:
        _mark(self.mark, item.passed)
        self.title.setText(translate_message(item.label))
        self.detail.setText(_item_text(item))


class ChecklistPage(_AssistedPage):
    """Article 002 "Before you cancel": balance, contract terms, licences, backup."""

    CODES = (
        "caller_verified",
        "requester_role",
        "no_outstanding_balance",
        "contract_terms",
        "licences_unassigned",
        "data_backed_up",
    )

    def __init__(self, wizard: AssistedCancellationWizard) -> None:
        super().__init__(wizard, "checklistPage")
        self._task = None
        self.note = _wrapping(self, "checklistNote")
        self.body.addWidget(self.note)
        # no scroll area: six rows fit the wizard's minimum size, and a longer
        # translation grows the wizard rather than hiding a precondition
        self.rows: dict[str, _ChecklistRow] = {}
        for code in self.CODES:
            row = _ChecklistRow(code, self)
            self.rows[code] = row
            self.body.addWidget(row)
        self.body.addStretch(1)

        # the ways out
        self.pay_button = self.rows["no_outstanding_balance"].add_button("payBalanceButton")
        self.pay_button.clicked.connect(self.pay_balance)
        self.methods_button = self.rows["no_outstanding_balance"].add_button("paymentMethodsButton")
        self.methods_button.clicked.connect(
            lambda: self._wizard.request_navigation("payment_methods")
        )
        self.methods_button.hide()
        self.terms = FactsForm(self.rows["contract_terms"])
        self.terms.setObjectName("contractTerms")
        self.rows["contract_terms"].extra.addWidget(self.terms)
        self.unassign_button = self.rows["licences_unassigned"].add_button("unassignAllButton")
        self.unassign_button.clicked.connect(self.unassign_all)
        backup = self.rows["data_backed_up"]
        self.export_button = backup.add_button("exportButton")
        self.export_button.clicked.connect(self.export_data)
        self.backup_check = QCheckBox(backup)
        self.backup_check.setObjectName("backupConfirmed")
        self.backup_check.toggled.connect(self._backup_toggled)
        backup.extra.addWidget(self.backup_check)
        self.export_note = _wrapping(backup, "exportNote")
        backup.extra.addWidget(self.export_note)
        self.action_note = _wrapping(self, "checklistActionNote")
        _coloured(self.action_note, _GREEN)
        self.body.addWidget(self.action_note)
        self._pay_with_expired = False
        self._dialog: QWidget | None = None
        self.retranslateUi()

    def initializePage(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Read the checklist again from the service and show it."""
        self.clear_error()
        self._read_versions()
        self._wizard.reload_checklist(self)
        self._pay_with_expired = False
        checklist = self.state.checklist
        if checklist is not None and not checklist.item("no_outstanding_balance").passed:
            try:
                settings = payment_settings(self._wizard.ctx, self.state.account_id)
            except DomainError as err:
                self.show_error(err)
            else:
                self._pay_with_expired = settings.pay_with_expired
        self._show()
        self.completeChanged.emit()

    def _read_versions(self) -> None:
        """The selected subscriptions' versions, read *before* the checklist: a change in
        between makes "Unassign all" meet a conflict rather than take back an unseen seat."""
        st = self.state
        st.licence_versions = {}
        if not st.subscription_ids or st.options is None:
            return
        try:
            overview = licence_overview(self._wizard.ctx, st.account_id)
        except DomainError as err:
            self.show_error(err)
            return
        chosen = set(st.subscription_ids)
        st.licence_versions = {
            s.subscription_id: s.version
            for s in overview.subscriptions
            if s.subscription_id in chosen
        }

    def isComplete(self) -> bool:
        checklist = self.state.checklist
        return (
            checklist is not None and checklist.ready and not self._busy() and super().isComplete()
        )

    def _busy(self) -> bool:
        return self._task is not None

    def _show(self) -> None:
        checklist = self.state.checklist
        for row in self.rows.values():
            row.setVisible(checklist is not None)
        if checklist is None:
            return
        for item in checklist.items:
            row = self.rows.get(item.code)
            if row is not None:
                row.set_item(item)
        remedies = {item.code: not item.passed for item in checklist.items}
        self.pay_button.setVisible(remedies.get("no_outstanding_balance", False))
        self.pay_button.setEnabled(not self._pay_with_expired and not self._busy())
        self.methods_button.setVisible(
            remedies.get("no_outstanding_balance", False) and self._pay_with_expired
        )
        self.unassign_button.setVisible(remedies.get("licences_unassigned", False))
        self.unassign_button.setEnabled(not self._busy())
        self.export_button.setEnabled(not self._busy())
        self.backup_check.blockSignals(True)
        self.backup_check.setChecked(self.state.backup_confirmed)
        self.backup_check.setVisible(self.state.export_path is None)
        self.backup_check.blockSignals(False)
        if self.state.export_path is not None:
            self.export_note.setText(
                fill(
                    self.tr("The account's data was exported to {path}."),
                    path=str(self.state.export_path),
                )
            )
        else:
            self.export_note.clear()
        self.export_note.setVisible(self.state.export_path is not None)
        self.terms.set_facts(self._terms_facts(checklist))
        if self._pay_with_expired:
            self.pay_button.setToolTip(
                self.tr(
                    "The default card has expired; add a new card or make another method "
                    "the default first."
                )
            )
        else:
            self.pay_button.setToolTip("")

    def _terms_facts(self, checklist: cx.AssistedChecklist) -> list[Fact]:
        facts = []
        for t in checklist.terms:
            sentences = [
                fill(
                    self.tr("{contract}."),
                    contract=contract_text(t.contract, t.frequency, t.term_months),
                )
            ]
            if t.term_start is not None and t.term_end is not None:
                sentences.append(
                    fill(
                        self.tr("The agreement runs from {start} to {end}."),
                        start=format_date(t.term_start),
                        end=format_date(t.term_end),
                    )
                )
            if t.renewal_notice_deadline is not None:
                if t.renewal_window_passed:
                    sentences.append(
                        fill(
                            self.tr(
                                "The 30-day notice window closed on {deadline}: the agreement "
                                "renews once more before it ends."
                            ),
                            deadline=format_date(t.renewal_notice_deadline),
                        )
                    )
                else:
                    sentences.append(
                        fill(
                            self.tr("Cancelled by {deadline}, it does not renew."),
                            deadline=format_date(t.renewal_notice_deadline),
                        )
                    )
            elif t.current_period_end is not None:
                sentences.append(
                    fill(
                        self.tr("The current billing period ends on {date}."),
                        date=format_date(t.current_period_end),
                    )
                )
            facts.append(
                Fact(
                    fill(self.tr("{product}:"), product=t.product_name),
                    " ".join(sentences),
                    f"terms_{t.subscription_id}",
                )
            )
        return facts

    # -- the ways out (each: confirm, one service call, re-read the checklist) -------

    def _confirm(
        self, name: str, title: str, text: str, info: str, accept: str, then: object
    ) -> None:
        box = QMessageBox(self)
        box.setObjectName(name)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(title)
        box.setText(text)
        box.setInformativeText(info)
        ok = box.addButton(accept, QMessageBox.ButtonRole.AcceptRole)
        ok.setObjectName(f"{name}Accept")
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(ok)

        def answered(button: QAbstractButton) -> None:
            if button is ok:
                then()  # type: ignore[operator]

        box.buttonClicked.connect(answered)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(self._forget_dialog)
        self._dialog = box
        box.open()

    def _forget_dialog(self) -> None:
        self._dialog = None

    def pay_balance(self) -> None:
        """Confirm the amount and the method, then pay the balance ("Pay balance")."""
        self.clear_error()
        try:
            s = payment_settings(self._wizard.ctx, self.state.account_id)
        except DomainError as err:
            self.show_error(err)
            return
        if not s.outstanding.is_positive:
            self.refresh()
            return
        amount = money(s.outstanding)
        if s.pay_with is None:
            text = fill(
                self.tr("Record a bank transfer of {amount} for account {account}?"),
                amount=amount,
                account=s.account_number,
            )
        else:
            text = fill(
                self.tr("Charge {amount} to {method} for account {account}?"),
                amount=amount,
                method=s.pay_with,
                account=s.account_number,
            )
        version = s.version
        self._confirm(
            "payBalanceConfirmation",
            self.tr("Pay balance"),
            text,
            self.tr(
                "This is done at once, before the cancellation: the open invoices are paid "
                "oldest first and the customer is emailed a payment confirmation."
            ),
            fill(self.tr("&Pay {amount}"), amount=amount),
            lambda: self._pay(version),
        )

    def _pay(self, version: int) -> None:
        try:
            result = record_payment(
                self._wizard.ctx,
                self.state.account_id,
                requested_by=self.state.requester_id,
                expected_version=version,
            )
        except DomainError as err:
            self.refresh()
            self.show_error(err)
            return
        self.refresh()
        self.action_note.setText(
            fill(
                self.tr("{amount} was received with {method}; the customer was emailed."),
                amount=money(result.amount),
                method=result.method_summary,
            )
        )

    def unassign_all(self) -> None:
        checklist = self.state.checklist
        if checklist is None:
            return
        item = checklist.item("licences_unassigned")
        count = int(item.params.get("count", 0) or 0)
        products = str(item.params.get("products", ""))
        versions = dict(self.state.licence_versions)  # those of the checklist shown
        self._confirm(
            "unassignConfirmation",
            self.tr("Unassign all"),
            fill(
                self.tr("Take back all %n licence(s) of {products} from their users?", "", count),
                products=products,
            ),
            self.tr(
                "This is done at once, before the cancellation: these users can no longer "
                "use the product."
            ),
            self.tr("&Unassign all"),
            lambda: self._unassign(versions),
        )

    def _unassign(self, versions: dict[int, int]) -> None:
        try:
            changes = unassign_all(
                self._wizard.ctx,
                self.state.account_id,
                list(self.state.subscription_ids),
                requested_by=self.state.requester_id,
                expected_versions=versions,
            )
        except DomainError as err:
            self.refresh()  # the checklist read again; everything entered is kept
            if isinstance(err, ConflictError):
                self.action_note.clear()
                self.show_error(
                    "\n".join(
                        (
                            message_text(err),
                            self.tr(
                                "Nothing was unassigned. The checklist now shows the current "
                                "data: check it and press Unassign all again if needed."
                            ),
                        )
                    )
                )
            else:
                self.show_error(err)
            return
        removed = sum(len(c.changed) for c in changes)
        self.refresh()
        self.action_note.setText(self.tr("%n licence(s) were unassigned.", "", removed))

    def export_data(self) -> None:
        """Ask where to save, then export the account's data in the background."""
        options = self.state.options
        number = options.account_number if options is not None else str(self.state.account_id)
        folder = QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.DocumentsLocation
        ) or str(Path.home())
        name = export_file_name(number, self._wizard.ctx.clock.today())
        dialog = QFileDialog(self, self.tr("Export account data"))
        dialog.setObjectName("exportSaveDialog")
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        dialog.setNameFilter(self.tr("Zip archives (*.zip)"))
        dialog.setDefaultSuffix("zip")
        dialog.setDirectory(folder)
        dialog.selectFile(name)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(self._export_to)
        dialog.finished.connect(self._forget_dialog)
        self._dialog = dialog
        dialog.open()

    def _export_to(self, path: str) -> None:
        if not path:
            return
        ctx = self._wizard.ctx
        account_id = self.state.account_id
        stages = {
            "reading": self.tr("Reading the account's data…"),
            "writing": self.tr("Writing the archive…"),
        }

        def work(progress: TaskProgress) -> Path:
            return export_account(
                ctx, account_id, path, progress=lambda stage: progress.update(
                    stages.get(stage, ""), 0, 0
                ),
            )  # fmt: skip

        self.clear_error()
        self._task = run_in_background(
            self,
            work,
            title=self.tr("Export account data"),
            label=self.tr("Exporting the account's data…"),
            on_result=self._exported,
            on_error=self._export_failed,
            cancellable=False,
        )
        self._task.done.connect(self._export_over)
        self._show()
        self.completeChanged.emit()

    def _exported(self, path: Path) -> None:
        self.state.export_path = Path(path)

    def _export_failed(self, err: BaseException) -> None:
        if isinstance(err, DomainError):
            self.show_error(err)
        else:
            raise err

    def _export_over(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.deleteLater()
        error = self.error_shown()
        self.refresh()
        if error:
            self.show_error(error)
        elif self.state.export_path is not None:
            self.action_note.setText(self.tr("The account's data was exported."))

    def _backup_toggled(self, on: bool) -> None:
        self.state.backup_confirmed_by_caller = on
        self.refresh()

    def retranslateUi(self) -> None:
        self.setTitle(self.tr("Before you cancel"))
        self.setSubTitle(
            self.tr("Step 3 of 6: every item must hold before the cancellation can go ahead.")
        )
        self.note.setText(
            self.tr(
                "Each button here does one thing at once, after you confirm it: it is the "
                "only change made before the final Cancel subscriptions button. Each item "
                "ticks itself when it holds."
            )
        )
        self.pay_button.setText(self.tr("&Pay balance…"))
        self.methods_button.setText(self.tr("Payment &methods…"))
        self.unassign_button.setText(self.tr("&Unassign all…"))
        self.export_button.setText(self.tr("E&xport account data…"))
        self.backup_check.setText(self.tr("The caller confirms the data is already backed &up"))
        self._show()


# --------------------------------------------------------------------------- page 4


class SelectionPage(_AssistedPage):
    """Article 002: "the product(s) or add-ons you want to cancel"."""

    def __init__(self, wizard: AssistedCancellationWizard) -> None:
        super().__init__(wizard, "selectionPage")
        self.intro = _wrapping(self)
        self.body.addWidget(self.intro)
        inner, self._layout = scroll_column(self)
        self.sub_boxes: dict[int, QCheckBox] = {}
        self.addon_boxes: dict[int, QCheckBox] = {}
        self.notes: dict[str, QLabel] = {}
        self._build(inner)
        self._layout.addStretch(1)
        self.retranslateUi()

    def _build(self, inner: QWidget) -> None:
        options = self.state.options
        if options is None:
            return
        for sub in options.subscriptions:
            if sub.status == "cancelled":
                continue  # ended: listed under Discover other products, not here
            box = QCheckBox(inner)
            box.setObjectName(f"cancel_sub_{sub.subscription_id}")
            box.setEnabled(sub.cancellable)
            box.setChecked(sub.subscription_id in self.state.subscription_ids)
            box.toggled.connect(self._toggled)
            self.sub_boxes[sub.subscription_id] = box
            self._layout.addWidget(box)
            note = _wrapping(inner, f"cancel_sub_{sub.subscription_id}_note")
            note.setContentsMargins(24, 0, 0, 0)
            self.notes[f"sub_{sub.subscription_id}"] = note
            self._layout.addWidget(note)
            for addon in sub.addons:
                abox = QCheckBox(inner)
                abox.setObjectName(f"cancel_addon_{addon.subscription_addon_id}")
                abox.setEnabled(addon.cancellable)
                abox.setChecked(addon.subscription_addon_id in self.state.addon_ids)
                abox.toggled.connect(self._toggled)
                self.addon_boxes[addon.subscription_addon_id] = abox
                holder = QHBoxLayout()
                holder.setContentsMargins(24, 0, 0, 0)
                holder.addWidget(abox, 1)
                self._layout.addLayout(holder)
                anote = _wrapping(inner, f"cancel_addon_{addon.subscription_addon_id}_note")
                anote.setContentsMargins(48, 0, 0, 0)
                self.notes[f"addon_{addon.subscription_addon_id}"] = anote
                self._layout.addWidget(anote)

    def _toggled(self) -> None:
        options = self.state.options
        if options is None:
            return
        self.state.subscription_ids = [
            sid for sid, box in self.sub_boxes.items() if box.isChecked() and box.isEnabled()
        ]
        chosen = set(self.state.subscription_ids)
        addon_ids = []
        for sub in options.subscriptions:
            for addon in sub.addons:
                box = self.addon_boxes.get(addon.subscription_addon_id)
                if box is None or sub.subscription_id in chosen:
                    continue  # ends with its product
                # a disabled, ticked box only showed that it ended with its product
                if box.isChecked() and box.isEnabled() and addon.cancellable:
                    addon_ids.append(addon.subscription_addon_id)
        self.state.addon_ids = addon_ids
        self.state.preview = None
        self.clear_error()
        self._show()
        self.completeChanged.emit()

    def _show(self) -> None:
        options = self.state.options
        if options is None:
            return
        chosen = set(self.state.subscription_ids)
        for sub in options.subscriptions:
            box = self.sub_boxes.get(sub.subscription_id)
            if box is None:
                continue
            box.setText(
                fill(
                    self.tr("{product} {plan}, %n licence(s)", "", sub.licences),
                    product=sub.product_name,
                    plan=sub.plan_name,
                )
            )
            note = self.notes[f"sub_{sub.subscription_id}"]
            if sub.reason is not None:
                note.setText(_notice_text(sub.reason))
            elif sub.channel == "support":
                note.setText(self.tr("Cancelled only through support."))
            else:
                note.setText(self.tr("The billing contact could also cancel it online."))
            for addon in sub.addons:
                abox = self.addon_boxes[addon.subscription_addon_id]
                abox.setText(fill(self.tr("Add-on: {addon}"), addon=catalog_text(addon.name)))
                anote = self.notes[f"addon_{addon.subscription_addon_id}"]
                abox.blockSignals(True)
                if sub.subscription_id in chosen:
                    abox.setChecked(True)
                    abox.setEnabled(False)
                    anote.setText(self.tr("Ends with the product."))
                else:
                    abox.setEnabled(addon.cancellable)
                    abox.setChecked(addon.subscription_addon_id in self.state.addon_ids)
                    anote.setText(_notice_text(addon.reason) if addon.reason else "")
                abox.blockSignals(False)
                anote.setVisible(bool(anote.text()))

    def initializePage(self) -> None:
        self.clear_error()
        self._show()

    def isComplete(self) -> bool:
        return self.state.has_selection and super().isComplete()

    def validatePage(self) -> bool:
        """Re-check the preconditions for this selection and read what is still billed."""
        self.clear_error()
        ctx = self._wizard.ctx
        st = self.state
        try:
            checklist = self._wizard.read_checklist()
            preview = cx.assisted_preview(
                ctx, st.account_id, subscription_ids=st.subscription_ids, addon_ids=st.addon_ids
            )
            options = cx.assisted_options(ctx, st.account_id)
        except DomainError as err:
            self.show_error(err)
            return False
        st.checklist = checklist
        if not checklist.ready:
            failed = [translate_message(i.label) for i in checklist.items if not i.passed]
            self.show_error(
                fill(
                    self.tr(
                        "With this selection these conditions are not met yet: {conditions}. "
                        "Go Back to resolve them, or change the selection."
                    ),
                    conditions=QLocale().createSeparatedList(failed),
                )
            )
            return False
        st.preview = preview
        st.version = options.version
        return True

    def retranslateUi(self) -> None:
        self.setTitle(self.tr("What to cancel"))
        self.setSubTitle(
            self.tr("Step 4 of 6: the products and add-ons the caller wants to cancel.")
        )
        self.intro.setText(
            self.tr(
                "Tick each product or add-on to cancel. A product's add-ons end with it; an "
                "add-on can also be cancelled on its own."
            )
        )
        self._show()


# --------------------------------------------------------------------------- page 5


class StillBilledPage(_AssistedPage):
    """Article 002: "a monthly plan cancelled mid-month is billed for the whole month …"."""

    def __init__(self, wizard: AssistedCancellationWizard) -> None:
        super().__init__(wizard, "stillBilledPage")
        inner, self._layout = scroll_column(self)
        self.items_layout = QVBoxLayout()
        self._layout.addLayout(self.items_layout)
        self.totals_box = QGroupBox(inner)
        totals_layout = QVBoxLayout(self.totals_box)
        self.totals = FactsForm(self.totals_box)
        self.totals.setObjectName("stillBilledTotals")
        totals_layout.addWidget(self.totals)
        self._layout.addWidget(self.totals_box)
        self.no_refund = _bold(_wrapping(inner, "noRefund"))
        self._layout.addWidget(self.no_refund)
        self.warnings = _wrapping(inner, "stillBilledWarnings")
        _coloured(self.warnings, "#7a3e00")
        self._layout.addWidget(self.warnings)
        self._layout.addStretch(1)
        self._inner = inner
        self.item_forms: dict[str, FactsForm] = {}
        self._boxes: list[QGroupBox] = []
        self.retranslateUi()

    def initializePage(self) -> None:
        self._show()

    @staticmethod
    def key(item: cx.CancellationPreview) -> str:
        if item.subscription_addon_id is not None:
            return f"addon_{item.subscription_addon_id}"
        return f"sub_{item.subscription_id}"

    def _show(self) -> None:
        for box in self._boxes:
            box.setParent(None)
            box.deleteLater()
        self._boxes.clear()
        self.item_forms.clear()
        preview = self.state.preview
        if preview is None:
            self.totals.set_facts([])
            return
        for item in preview.items:
            box = QGroupBox(item.name, self._inner)
            box.setObjectName(f"billed_{self.key(item)}")
            layout = QVBoxLayout(box)
            explain = _wrapping(box, f"billed_{self.key(item)}_explain")
            explain.setText(self.explanation(item))
            layout.addWidget(explain)
            form = FactsForm(box)
            form.set_facts(self.item_facts(item))
            layout.addWidget(form)
            self.items_layout.addWidget(box)
            self._boxes.append(box)
            self.item_forms[self.key(item)] = form
        self.totals.set_facts(self.total_facts(preview))
        self.no_refund.setText(
            self.tr(
                "No refund: what was already billed is not refunded, and the products stay "
                "usable until the dates above."
            )
        )
        self.warnings.setText("\n".join(_notice_text(w) for w in preview.warnings))
        self.warnings.setVisible(bool(preview.warnings))

    def explanation(self, item: cx.CancellationPreview) -> str:
        end = format_date(item.effective_end)
        if item.is_trial:
            return fill(self.tr("The trial simply ends on {date}; nothing is billed."), date=end)
        if item.contract == "fixed_term" and item.additional_charge.is_positive:
            later = max((line.quantity for line in item.termination_lines), default=0)
            return fill(
                self.tr(
                    "Cancelled before the agreement ends, its remaining months are still "
                    "billed: the current period, already invoiced, and %n more month(s) on "
                    "an early-termination invoice. It stays active until the original end "
                    "date, {date}.",
                    "",
                    later,
                ),
                date=end,
            )
        if item.frequency == "annual":
            return fill(
                self.tr(
                    "Cancelled during the year, the whole year is billed (it was invoiced at "
                    "its start) and it stays active until {date}."
                ),
                date=end,
            )
        return fill(
            self.tr(
                "Cancelled mid-month, the whole month is billed (it was invoiced at its start) "
                "and it stays active until the end of the month, {date}."
            ),
            date=end,
        )

    def item_facts(self, item: cx.CancellationPreview) -> list[Fact]:
        k = self.key(item)
        months_text = self.tr("%n month(s)", "", item.months_billed)
        facts = [
            Fact(
                self.tr("Contract:"),
                contract_text(item.contract, item.frequency, self._term_months(item)),
                f"{k}_contract",
            ),
            Fact(
                self.tr("Current period:"),
                format_period(item.current_period, QLocale()),
                f"{k}_period",
            ),
            Fact(
                self.tr("Current period, already invoiced:"),
                money(item.period_amount),
                f"{k}_period_amount",
            ),
            Fact(
                self.tr("Remaining months, billed now:"),
                money(item.additional_charge),
                f"{k}_additional",
            ),
            Fact(self.tr("Months still billed:"), months_text, f"{k}_months"),
            Fact(self.tr("Still billed:"), money(item.amount_still_billed), f"{k}_still", True),
            Fact(self.tr("Active until:"), format_date(item.effective_end), f"{k}_until", True),
            Fact(self.tr("Refund:"), money(item.refund), f"{k}_refund"),
            Fact(
                self.tr("Data deleted on:"), format_date(item.data_deletion_date), f"{k}_deletion"
            ),
        ]
        return facts

    def _term_months(self, item: cx.CancellationPreview) -> int | None:
        checklist = self.state.checklist
        if checklist is not None:
            for t in checklist.terms:
                if t.subscription_id == item.subscription_id:
                    return t.term_months
        return None

    def total_facts(self, preview: cx.AssistedPreview) -> list[Fact]:
        facts = [
            Fact(
                self.tr("Still billed in total:"),
                money(preview.amount_still_billed),
                "total_still",
                True,
            ),
            Fact(
                self.tr("Billed now for the remaining months (net):"),
                money(preview.additional_charge),
                "total_additional",
            ),
        ]
        t = preview.termination
        if t is None:
            facts.append(
                Fact(
                    self.tr("Early-termination invoice:"),
                    self.tr("None: nothing more is billed."),
                    "termination",
                )
            )
            return facts
        if t.reverse_charge:
            vat = fill(self.tr("{amount} (reverse charge)"), amount=money(t.vat))
        else:
            vat = money(t.vat)
        facts += [
            Fact(self.tr("VAT:"), vat, "termination_vat"),
            Fact(self.tr("Early-termination invoice total:"), money(t.total), "termination", True),
        ]
        if t.credit_applied.is_positive:
            facts.append(
                Fact(self.tr("Account credit used:"), money(t.credit_applied), "termination_credit")
            )
        facts.append(Fact(self.tr("Due now:"), money(t.amount_due), "termination_due"))
        return facts

    def retranslateUi(self) -> None:
        self.setTitle(self.tr("What will still be billed"))
        self.setSubTitle(
            self.tr("Step 5 of 6: what the customer still pays, and until when it stays active.")
        )
        self.totals_box.setTitle(self.tr("In total"))
        self._show()


# --------------------------------------------------------------------------- page 6


class ConfirmPage(_AssistedPage):
    """Summary, reason and the final button: one call to ``assisted_cancel``."""

    def __init__(self, wizard: AssistedCancellationWizard) -> None:
        super().__init__(wizard, "confirmPage")
        self.setCommitPage(True)
        self.summary = FactsForm(self)
        self.summary.setObjectName("confirmSummary")
        self.body.addWidget(self.summary)
        grid = QGridLayout()
        self.reason_label = QLabel(self)
        self.reason_combo = QComboBox(self)
        self.reason_combo.setObjectName("reasonCombo")
        self.reason_label.setBuddy(self.reason_combo)
        self.text_label = QLabel(self)
        self.reason_text = QPlainTextEdit(self)
        self.reason_text.setObjectName("reasonText")
        self.reason_text.setTabChangesFocus(True)
        self.reason_text.setMaximumHeight(self.fontMetrics().lineSpacing() * 4 + 12)
        self.text_label.setBuddy(self.reason_text)
        grid.addWidget(self.reason_label, 0, 0)
        grid.addWidget(self.reason_combo, 0, 1)
        grid.addWidget(self.text_label, 1, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.reason_text, 1, 1)
        grid.setColumnStretch(1, 1)
        self.body.addLayout(grid)
        self.body.addStretch(1)
        self.reason_combo.addItem("", None)
        for code, _label in CANCELLATION_REASONS:
            self.reason_combo.addItem("", code)
        self.reason_combo.currentIndexChanged.connect(self._reason_changed)
        self.reason_text.textChanged.connect(self._reason_changed)
        self.retranslateUi()

    def initializePage(self) -> None:
        self.clear_error()
        self._show()

    def _reason_changed(self) -> None:
        self.completeChanged.emit()

    def reason(self) -> tuple[str, str]:
        return self.reason_combo.currentData() or "", self.reason_text.toPlainText()

    def isComplete(self) -> bool:
        code, text = self.reason()
        needs_text = code == "other" and not text.strip()
        return bool(code) and not needs_text and super().isComplete()

    def validatePage(self) -> bool:
        if self.final.done:
            return True  # already cancelled: never a second call
        st = self.state
        code, text = self.reason()
        ctx = self._wizard.ctx
        self.clear_error()
        result = self.final.run(
            lambda: cx.assisted_cancel(
                ctx,
                st.account_id,
                verification=st.token,
                requester_contact_id=st.requester_id,
                subscription_ids=st.subscription_ids,
                addon_ids=st.addon_ids,
                reason=code,
                reason_text=text,
                backup_confirmed=st.backup_confirmed,
                expected_version=st.version,
            )
        )
        if result is None:
            return False
        st.result = result
        self._wizard.completed.emit()
        return True

    def _show(self) -> None:
        st = self.state
        options = st.options
        preview = st.preview
        facts: list[Fact] = []
        if options is not None:
            facts.append(
                Fact(
                    self.tr("Account:"),
                    fill(
                        self.tr("{account}, {company}"),
                        account=options.account_number,
                        company=options.company_name,
                    ),
                    "account",
                )
            )
            requester = next((c for c in options.contacts if c.contact_id == st.requester_id), None)
            if requester is not None:
                facts.append(
                    Fact(
                        self.tr("Requested by:"),
                        fill(
                            self.tr("{name} ({roles})"),
                            name=requester.name,
                            roles=roles_text(requester.roles),
                        ),
                        "requester",
                    )
                )
        if st.verification is not None and st.verification.verified:
            facts.append(
                Fact(
                    self.tr("Caller verified:"),
                    QLocale().toString(
                        st.verification.checked_at.time(), QLocale.FormatType.ShortFormat
                    ),
                    "verified",
                )
            )
        if preview is not None:
            for item in preview.items:
                facts.append(
                    Fact(
                        fill(self.tr("{name}:"), name=item.name),
                        fill(
                            self.tr("cancelled now, active until {date}"),
                            date=format_date(item.effective_end),
                        ),
                        f"item_{StillBilledPage.key(item)}",
                    )
                )
            facts.append(
                Fact(
                    self.tr("Still billed:"),
                    money(preview.amount_still_billed),
                    "still",
                    True,
                )
            )
            facts.append(
                Fact(
                    self.tr("Billed now:"),
                    money(preview.termination.total)
                    if preview.termination is not None
                    else self.tr("Nothing"),
                    "billed_now",
                )
            )
        if options is not None and options.billing_contact_email:
            facts.append(
                Fact(
                    self.tr("Confirmation email to:"),
                    fill(
                        self.tr("{name} <{email}>"),
                        name=options.billing_contact_name or "",
                        email=options.billing_contact_email,
                    ),
                    "email",
                )
            )
        self.summary.set_facts(facts)

    def retranslateUi(self) -> None:
        self.setTitle(self.tr("Confirm the cancellation"))
        self.setSubTitle(
            self.tr("Step 6 of 6: nothing is cancelled until you press Cancel subscriptions.")
        )
        self.setButtonText(QWizard.WizardButton.CommitButton, self.tr("Cancel &subscriptions"))
        self.reason_label.setText(self.tr("&Reason:"))
        self.text_label.setText(self.tr("&Details:"))
        self.reason_text.setPlaceholderText(self.tr("What the caller said (required for Other)"))
        self.reason_combo.setItemText(0, self.tr("Choose a reason…"))
        for index, (_code, label) in enumerate(CANCELLATION_REASONS, start=1):
            self.reason_combo.setItemText(
                index, QCoreApplication.translate("CancellationReason", label)
            )
        self._show()


# --------------------------------------------------------------------------- result


class ResultPage(_AssistedPage):
    """What was cancelled, until when, what was billed, the emails sent."""

    def __init__(self, wizard: AssistedCancellationWizard) -> None:
        super().__init__(wizard, "resultPage")
        self.headline = _bold(_wrapping(self, "resultHeadline"))
        self.body.addWidget(self.headline)
        self.facts = FactsForm(self)
        self.facts.setObjectName("resultFacts")
        self.body.addWidget(self.facts)
        self.warnings = _wrapping(self, "resultWarnings")
        self.body.addWidget(self.warnings)
        self.body.addStretch(1)
        self.setFinalPage(True)
        self.retranslateUi()

    def initializePage(self) -> None:
        self._show()

    def _show(self) -> None:
        result = self.state.result
        options = self.state.options
        if result is None:
            return
        self.headline.setText(
            self.tr("%n item(s) cancelled. Auto-renewal is off.", "", len(result.items))
        )
        facts = []
        for item in result.items:
            facts.append(
                Fact(
                    fill(self.tr("{name}:"), name=item.name),
                    fill(
                        self.tr("active until {date}, still billed {amount}"),
                        date=format_date(item.effective_end),
                        amount=money(item.amount_still_billed),
                    ),
                    f"item_{StillBilledPage.key(item)}",
                )
            )
        t = result.termination
        if result.termination_invoice_number is not None and t is not None:
            text = (
                self.tr("{number}: {amount}, paid with the method on file")
                if result.termination_paid
                else self.tr("{number}: {amount}, open (to be paid)")
            )
            facts.append(
                Fact(
                    self.tr("Early-termination invoice:"),
                    fill(text, number=result.termination_invoice_number, amount=money(t.total)),
                    "termination",
                    True,
                )
            )
        else:
            facts.append(
                Fact(
                    self.tr("Billed now:"),
                    self.tr("Nothing: the current period was already invoiced."),
                    "termination",
                )
            )
        if options is not None and options.billing_contact_email:
            facts.append(
                Fact(
                    self.tr("Email:"),
                    fill(
                        self.tr(
                            "%n confirmation email(s) sent to {email}", "", len(result.email_ids)
                        ),
                        email=options.billing_contact_email,
                    ),
                    "email",
                )
            )
        self.facts.set_facts(facts)
        self.warnings.setText("\n".join(_notice_text(w) for w in result.warnings))
        self.warnings.setVisible(bool(result.warnings))

    def retranslateUi(self) -> None:
        self.setTitle(self.tr("Cancelled"))
        self.setSubTitle(self.tr("The cancellation is recorded and the customer was emailed."))
        self.setButtonText(QWizard.WizardButton.FinishButton, self.tr("&Close"))
        self._show()


# --------------------------------------------------------------------------- the wizard


class AssistedCancellationWizard(WizardBase):
    """Support cancels products for a verified caller (article 002). Open with ``open()``."""

    PAGE_VERIFY, PAGE_REQUESTER, PAGE_CHECKLIST, PAGE_SELECTION, PAGE_BILLED = range(5)
    PAGE_CONFIRM, PAGE_RESULT = 5, 6

    def __init__(
        self,
        ctx: AppContext,
        account_id: int | str,
        subscription_id: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("assistedCancellationWizard")
        self.setMinimumSize(ASSISTED_MINIMUM_SIZE)
        self.ctx = ctx
        self.subscription_id = subscription_id
        self.state = AssistedState(account_id=account_id)
        self._load_error: DomainError | None = None
        try:
            options = cx.assisted_options(ctx, account_id)
        except DomainError as err:
            self._load_error = err
        else:
            self.state.options = options
            self.state.account_id = options.account_id
            self.state.subscription_ids = self._initial_selection(options, subscription_id)
        self.verify_page = VerifyCallerPage(self)
        self.requester_page = RequesterPage(self)
        self.checklist_page = ChecklistPage(self)
        self.selection_page = SelectionPage(self)
        self.billed_page = StillBilledPage(self)
        self.confirm_page = ConfirmPage(self)
        self.result_page = ResultPage(self)
        for page_id, page in enumerate(
            (
                self.verify_page,
                self.requester_page,
                self.checklist_page,
                self.selection_page,
                self.billed_page,
                self.confirm_page,
                self.result_page,
            )
        ):
            self.setPage(page_id, page)
        self.currentIdChanged.connect(self._page_shown)
        self._shown_ids: list[int] = []
        self.retranslateUi()

    # -- selection -------------------------------------------------------------------

    @staticmethod
    def _initial_selection(options: cx.AssistedOptions, subscription_id: int | None) -> list[int]:
        cancellable = [s for s in options.subscriptions if s.cancellable]
        if subscription_id is not None and any(
            s.subscription_id == subscription_id for s in cancellable
        ):
            return [subscription_id]
        support = [s.subscription_id for s in cancellable if s.channel == "support"]
        return support or [s.subscription_id for s in cancellable]

    def selected_parents(self) -> list[int]:
        """The subscriptions concerned by the selection (an add-on's too), in list order."""
        options = self.state.options
        if options is None:
            return []
        chosen = set(self.state.subscription_ids)
        for sub in options.subscriptions:
            if any(a.subscription_addon_id in self.state.addon_ids for a in sub.addons):
                chosen.add(sub.subscription_id)
        return [s.subscription_id for s in options.subscriptions if s.subscription_id in chosen]

    # -- shared reads ------------------------------------------------------------------

    def read_checklist(self) -> cx.AssistedChecklist:
        """The service's checklist for the current state (its DomainError when refused)."""
        st = self.state
        return cx.assisted_checklist(
            self.ctx,
            st.account_id,
            requester_contact_id=st.requester_id,
            subscription_ids=st.subscription_ids,
            addon_ids=st.addon_ids,
            verification=st.token,
            backup_confirmed=st.backup_confirmed,
        )

    def reload_checklist(self, page: WizardPage) -> None:
        """Read the checklist for the current state; an error goes to ``page``."""
        st = self.state
        if not st.has_selection or st.options is None:
            st.checklist = None
            return
        try:
            st.checklist = self.read_checklist()
        except DomainError as err:
            st.checklist = None
            page.show_error(err)

    def _page_shown(self, page_id: int) -> None:
        """Going Back to the requester or the checklist re-reads them (the selection may
        have changed on "What to cancel"); going forward, ``initializePage`` does."""
        seen = page_id in self._shown_ids
        if page_id not in self._shown_ids:
            self._shown_ids.append(page_id)
        if seen and page_id == self.PAGE_REQUESTER:
            self.requester_page.refresh()
        elif seen and page_id == self.PAGE_CHECKLIST:
            self.checklist_page.refresh()

    # -- blocked -------------------------------------------------------------------------

    def refresh_blocked(self) -> None:
        """Say on the first page why the flow cannot start (and change nothing)."""
        page = getattr(self, "verify_page", None)
        if page is None:
            return
        options = self.state.options
        if self._load_error is not None:
            page.set_blocked(message_text(self._load_error))
            return
        if options is None:
            return
        sentences = []
        if not options.allowed and options.refusal is not None:
            sentences.append(message_text(options.refusal))
            online = [
                s
                for s in options.subscriptions
                if s.cancellable
                and s.channel == "online"
                and (self.subscription_id is None or s.subscription_id == self.subscription_id)
            ]
            if online:
                sentences.append(
                    fill(
                        self.tr(
                            "The billing contact can cancel {product} online: use Cancel "
                            "subscription on its card."
                        ),
                        product=online[0].product_name,
                    )
                )
        elif not self.state.subscription_ids:
            sentences.append(self.tr("Nothing on this account can be cancelled now."))
        if self.subscription_id is not None and options.allowed:
            wanted = next(
                (s for s in options.subscriptions if s.subscription_id == self.subscription_id),
                None,
            )
            if wanted is not None and wanted.reason is not None:
                sentences.append(_notice_text(wanted.reason))
        page.set_blocked(" ".join(sentences))

    def retranslateUi(self) -> None:
        options = self.state.options
        number = options.account_number if options is not None else str(self.state.account_id)
        self.setWindowTitle(fill(self.tr("Assisted cancellation – {account}"), account=number))
        self.refresh_blocked()
