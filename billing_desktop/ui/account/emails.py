"""The Emails tab: what this customer was sent, with the rendered text (SPEC §4).

Every email the customer receives is stored in the outbox first
(:mod:`billing_desktop.services.mail`); this tab lists the account's emails
newest first with their delivery status, and shows the selected one as the
customer reads it. A failed email can be made due again at once (**Retry
sending**) by operators whose role sends emails; the service checks that too.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QCoreApplication,
    QEvent,
    QItemSelection,
    QLocale,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from billing_desktop.documents.formatting import format_datetime
from billing_desktop.domain.errors import DomainError
from billing_desktop.services.auth import Action, authorize
from billing_desktop.services.context import AppContext
from billing_desktop.services.errors import PermissionDenied
from billing_desktop.services.smtp import OutboxEmail, outbox, retry_now
from billing_desktop.services.smtp_errors import last_error_text
from billing_desktop.ui.errors import show_service_error
from billing_desktop.ui.models.table import RowTableModel, setup_row_table
from billing_desktop.ui.words import translated_word

__all__ = ["EmailsModel", "EmailsTab", "kind_word", "status_word"]

log = logging.getLogger("billing_desktop.ui")

_Index = QModelIndex | QPersistentModelIndex

#: Translation context of the constant words below.
_CONTEXT = "EmailsTab"

KIND_WORDS = {
    "order_placed": QT_TRANSLATE_NOOP("EmailsTab", "Order confirmation"),
    "cancellation_confirmed": QT_TRANSLATE_NOOP("EmailsTab", "Cancellation confirmation"),
    "reactivated": QT_TRANSLATE_NOOP("EmailsTab", "Reactivation"),
    "trial_ending": QT_TRANSLATE_NOOP("EmailsTab", "Trial ending soon"),
    "trial_ended": QT_TRANSLATE_NOOP("EmailsTab", "Trial ended"),
    "renewal_invoice": QT_TRANSLATE_NOOP("EmailsTab", "Renewal invoice"),
    "payment_received": QT_TRANSLATE_NOOP("EmailsTab", "Payment received"),
}

STATUS_WORDS = {
    "queued": QT_TRANSLATE_NOOP("EmailsTab", "Queued"),
    "sent": QT_TRANSLATE_NOOP("EmailsTab", "Sent"),
    "failed": QT_TRANSLATE_NOOP("EmailsTab", "Failed"),
}

_FAILED_COLOR = QColor(176, 0, 32)


def _word(table: dict[str, str], value: str) -> str:
    return translated_word(_CONTEXT, table, value)


def kind_word(kind: str) -> str:
    """The translated name of an email kind ("order_placed" → "Order confirmation")."""
    return _word(KIND_WORDS, kind)


def status_word(status: str) -> str:
    """The translated delivery status ("failed" → "Failed")."""
    return _word(STATUS_WORDS, status)


def error_sentence(last_error: str | None) -> str:
    """Why an email failed, from its stored ``last_error``, in the UI language."""
    return last_error_text(last_error, QCoreApplication.translate)


class EmailsModel(RowTableModel):
    """One account's emails, newest first (a few hundred at most: read at once)."""

    DATE, KIND, SUBJECT, TO, STATUS = range(5)
    COLUMN_COUNT = 5

    #: The :class:`OutboxEmail` of a row (any column): ``ObjectRole``.
    CONTEXT = "EmailsModel"
    HEADERS = (
        QT_TRANSLATE_NOOP("EmailsModel", "Date"),
        QT_TRANSLATE_NOOP("EmailsModel", "Kind"),
        QT_TRANSLATE_NOOP("EmailsModel", "Subject"),
        QT_TRANSLATE_NOOP("EmailsModel", "To"),
        QT_TRANSLATE_NOOP("EmailsModel", "Status"),
    )

    def set_emails(self, emails: list[OutboxEmail]) -> None:
        self.set_rows(emails)

    def email(self, row: int) -> OutboxEmail:
        return self._rows[row]

    def row_of(self, email_id: int) -> int | None:
        return next((n for n, e in enumerate(self._rows) if e.id == email_id), None)

    def status_tip(self, email: OutboxEmail) -> str:
        """Why the email has its status: when it went out, or the server's complaint."""
        loc = QLocale()
        if email.status == "sent" and email.sent_at is not None:
            return self.tr("Sent on {when}").format(when=format_datetime(email.sent_at, loc))
        if email.status == "failed":
            lines = [
                self.tr("Last error: {error}").format(
                    error=error_sentence(email.last_error) or self.tr("unknown")
                )
            ]
            if email.next_attempt_at is not None:
                lines.append(
                    self.tr("Next attempt: {when}").format(
                        when=format_datetime(email.next_attempt_at, loc)
                    )
                )
            return "\n".join(lines)
        return self.tr("Waiting to be sent")

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        email: OutboxEmail | None = self._row_at(index)
        if email is None:
            return None
        column = index.column()
        if role == self.ObjectRole:
            return email
        if role == Qt.ItemDataRole.DisplayRole:
            if column == self.DATE:
                return format_datetime(email.created_at, QLocale())
            if column == self.KIND:
                return kind_word(email.kind)
            if column == self.SUBJECT:
                return email.subject
            if column == self.TO:
                return email.to_address
            return status_word(email.status)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == self.STATUS:
                return self.status_tip(email)
            if column == self.SUBJECT:
                return email.subject
            if column == self.TO and email.cc_addresses:
                return self.tr("Copy to {addresses}").format(addresses=email.cc_addresses)
            return None
        if (
            role == Qt.ItemDataRole.ForegroundRole
            and column == self.STATUS
            and email.status == "failed"
        ):
            return _FAILED_COLOR
        return None


class EmailsTab(QWidget):
    """The account's emails and a preview of the selected one."""

    #: Emitted after a write (failed emails made due again).
    account_changed = Signal()

    def __init__(self, ctx: AppContext, account_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("emailsTab")
        self._ctx = ctx
        self._account_id = account_id
        self._may_retry = self._operator_sends_emails()

        self.model = EmailsModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("emailsTable")
        self._setup_table()
        self.empty_label = QLabel(self)
        self.empty_label.setObjectName("emailsEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.hide()

        self.count_label = QLabel(self)
        self.count_label.setObjectName("emailsCount")
        self.retry_button = QPushButton(self)
        self.retry_button.setObjectName("emailsRetry")
        self.retry_button.setVisible(self._may_retry)
        bar = QHBoxLayout()
        bar.addWidget(self.count_label, 1)
        bar.addWidget(self.retry_button)

        # the preview: headers as the customer sees them, then the text
        self.preview = QWidget(self)
        self.preview.setObjectName("emailsPreview")
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._to_caption = QLabel(self.preview)
        self._subject_caption = QLabel(self.preview)
        self._status_caption = QLabel(self.preview)
        self.to_label = self._value_label()
        self.subject_label = self._value_label()
        self.status_label = self._value_label()
        self.status_label.setWordWrap(True)
        form.addRow(self._to_caption, self.to_label)
        form.addRow(self._subject_caption, self.subject_label)
        form.addRow(self._status_caption, self.status_label)
        self.body = QPlainTextEdit(self.preview)
        self.body.setObjectName("emailsBody")
        self.body.setReadOnly(True)
        self.body.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        preview_layout = QVBoxLayout(self.preview)
        preview_layout.setContentsMargins(0, 6, 0, 0)
        preview_layout.addLayout(form)
        preview_layout.addWidget(self.body, 1)

        top = QWidget(self)
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addLayout(bar)
        top_layout.addWidget(self.table, 1)
        top_layout.addWidget(self.empty_label, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(top)
        self.splitter.addWidget(self.preview)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.addWidget(self.splitter)
        self.setFocusProxy(self.table)
        QWidget.setTabOrder(self.table, self.retry_button)
        QWidget.setTabOrder(self.retry_button, self.body)

        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.retry_button.clicked.connect(self.retry)
        self._retranslate_widgets()
        self.reload()

    def _value_label(self) -> QLabel:
        label = QLabel(self.preview)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    def _operator_sends_emails(self) -> bool:
        """Whether the operator's role may make emails due (the service decides)."""
        try:
            authorize(self._ctx, Action.SEND_EMAILS)
        except PermissionDenied:
            return False
        return True

    def _setup_table(self) -> None:
        table = self.table
        setup_row_table(table, self.model)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = table.horizontalHeader()
        header.setSectionResizeMode(EmailsModel.SUBJECT, QHeaderView.ResizeMode.Stretch)
        fm = table.fontMetrics()
        widths = {
            EmailsModel.DATE: fm.horizontalAdvance(
                format_datetime(datetime(2026, 12, 28, 23, 59), QLocale())
            ),
            EmailsModel.KIND: fm.horizontalAdvance(kind_word("cancellation_confirmed")),
            EmailsModel.TO: fm.horizontalAdvance("firstname.lastname@company-name.example"),
            EmailsModel.STATUS: fm.horizontalAdvance(status_word("queued")) + 20,
        }
        for column, width in widths.items():
            header.resizeSection(column, width + 28)

    # -- loading -------------------------------------------------------------

    def reload(self) -> None:
        """Read the account's emails again; the selected one stays selected."""
        current = self.current_email()
        try:
            emails = outbox(self._ctx, account_id=self._account_id)
        except DomainError as err:
            show_service_error(self, err)
            emails = []
        self.model.set_emails(emails)
        empty = not emails
        self.table.setVisible(not empty)
        self.empty_label.setVisible(empty)
        self._update_count()
        row = self.model.row_of(current.id) if current is not None else None
        if row is None and not empty:
            row = 0
        if row is not None:
            self.table.selectRow(row)
        else:
            self._show_preview(None)

    def current_email(self) -> OutboxEmail | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.email(rows[0].row()) if rows else None

    def _on_selection(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._show_preview(self.current_email())

    # -- actions -------------------------------------------------------------

    def retry(self) -> None:
        """Make the selected failed email due at once (sent by the next delivery run)."""
        email = self.current_email()
        if email is None or email.status != "failed":
            return
        try:
            retried = retry_now(self._ctx, [email.id])
        except DomainError as err:
            show_service_error(self, err)
            return
        self.reload()
        if retried:
            self.account_changed.emit()

    # -- display -------------------------------------------------------------

    def _update_count(self) -> None:
        emails = [self.model.email(n) for n in range(self.model.rowCount())]
        failed = sum(1 for e in emails if e.status == "failed")
        text = self.tr("%n email(s)", "", len(emails))
        if failed:
            text = self.tr("%n email(s), {failed} failed", "", len(emails)).format(
                failed=QLocale().toString(failed)
            )
        self.count_label.setText(text)

    def _show_preview(self, email: OutboxEmail | None) -> None:
        self.retry_button.setEnabled(email is not None and email.status == "failed")
        if email is None:
            for label in (self.to_label, self.subject_label, self.status_label):
                label.clear()
            self.body.setPlainText("")
            self.body.setPlaceholderText(self.tr("Select an email to read it."))
            return
        to = email.to_address
        if email.cc_addresses:
            to = self.tr("{to}, copy to {cc}").format(to=to, cc=email.cc_addresses)
        self.to_label.setText(to)
        self.subject_label.setText(email.subject)
        self.status_label.setText(self._status_text(email))
        self.body.setPlainText(email.body_text)

    def _status_text(self, email: OutboxEmail) -> str:
        loc = QLocale()
        if email.status == "sent" and email.sent_at is not None:
            return self.tr("Sent on {when}").format(when=format_datetime(email.sent_at, loc))
        if email.status == "failed":
            return self.tr("Failed after %n attempt(s): {error}", "", email.attempts).format(
                error=error_sentence(email.last_error)
            )
        return self.tr("Queued since {when}").format(when=format_datetime(email.created_at, loc))

    def preview_text(self) -> str:
        """What the preview shows, as plain text (subject line and body)."""
        return f"{self.subject_label.text()}\n\n{self.body.toPlainText()}"

    # -- translation ---------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.LanguageChange, QEvent.Type.LocaleChange):
            self.retranslateUi()
        super().changeEvent(event)

    def retranslateUi(self) -> None:
        self._retranslate_widgets()
        self.model.retranslate()
        self._update_count()
        self._show_preview(self.current_email())

    def _retranslate_widgets(self) -> None:
        self.retry_button.setText(self.tr("&Retry sending"))
        self.retry_button.setToolTip(
            self.tr("Send the selected failed email again with the next delivery run")
        )
        self.empty_label.setText(self.tr("No email has been sent to this customer yet."))
        self._to_caption.setText(self.tr("To:"))
        self._subject_caption.setText(self.tr("Subject:"))
        self._status_caption.setText(self.tr("Status:"))
        self.table.setAccessibleName(self.tr("Emails sent to the customer"))
        self.body.setAccessibleName(self.tr("Text of the email"))
        self.body.setPlaceholderText(self.tr("Select an email to read it."))
