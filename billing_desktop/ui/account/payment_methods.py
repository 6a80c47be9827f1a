"""The account page's Payment methods tab: cards and bank accounts, the default, autopay.

The list shows what the service keeps of a method — brand, last four digits,
expiry, holder and billing address — and never more: a full card number
exists only inside :class:`~billing_desktop.ui.dialogs.payment_method_dialog.PaymentMethodDialog`
while it is typed. Corporate accounts pay by invoice on their payment terms,
so they see "Pays by invoice (net N days)" where others have the autopay
switch.

"Set as default", "Remove" and the autopay switch send the account's version
the tab read (optimistic locking, issue 8): when another operator changed the
account meanwhile, the service's "changed by … at … — reload" message is
shown, nothing is written, and the list is read again with the selection kept.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QCoreApplication,
    QEvent,
    QLocale,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from billing_desktop.domain.errors import DomainError
from billing_desktop.services.context import AppContext
from billing_desktop.services.errors import ConflictError
from billing_desktop.services.payments import (
    PaymentMethodInfo,
    PaymentSettings,
    list_payment_methods,
    payment_settings,
    remove_method,
    set_autopay,
    set_default_method,
)
from billing_desktop.ui.errors import show_service_error
from billing_desktop.ui.models.table import RowTableModel, setup_row_table, size_columns_to_samples

__all__ = ["PaymentMethodsModel", "PaymentMethodsTab", "method_text"]

log = logging.getLogger("billing_desktop.ui")

_Index = QModelIndex | QPersistentModelIndex
_DISPLAY = Qt.ItemDataRole.DisplayRole
_CONTEXT = "PaymentMethodsModel"
_EXPIRED = QColor(176, 0, 32)


def method_text(method: PaymentMethodInfo) -> str:
    """A method as the list names it: "Visa •••• 4242", "Bank account (NL) •••• 3000"."""
    from billing_desktop.ui.dialogs.payment_method_dialog import brand_word

    translate = QCoreApplication.translate
    if method.kind == "card":
        return translate("PaymentMethodsModel", "{brand} •••• {last4}").format(
            brand=brand_word(method.brand), last4=method.last4 or ""
        )
    if method.kind == "bank_account":
        return translate("PaymentMethodsModel", "Bank account ({country}) •••• {last4}").format(
            country=method.iban_country or "", last4=method.last4 or ""
        )
    return translate("PaymentMethodsModel", "Invoice (bank transfer)")


class PaymentMethodsModel(RowTableModel):
    """An account's payment methods, default first (a handful of rows: loaded whole)."""

    METHOD, HOLDER, EXPIRES, ADDRESS, STATUS = range(5)
    COLUMN_COUNT = 5

    #: A value that sorts the column (ints and strings only).
    SortRole = Qt.ItemDataRole.UserRole + 2

    CONTEXT = _CONTEXT
    HEADERS = (
        QT_TRANSLATE_NOOP("PaymentMethodsModel", "Payment method"),
        QT_TRANSLATE_NOOP("PaymentMethodsModel", "Holder"),
        QT_TRANSLATE_NOOP("PaymentMethodsModel", "Expires"),
        QT_TRANSLATE_NOOP("PaymentMethodsModel", "Billing address"),
        QT_TRANSLATE_NOOP("PaymentMethodsModel", "Status"),
    )

    STATUS_WORDS = {
        (True, False): QT_TRANSLATE_NOOP("PaymentMethodsModel", "Default"),
        (True, True): QT_TRANSLATE_NOOP("PaymentMethodsModel", "Default, expired"),
        (False, True): QT_TRANSLATE_NOOP("PaymentMethodsModel", "Expired"),
    }

    def set_methods(self, methods: tuple[PaymentMethodInfo, ...] | list[PaymentMethodInfo]) -> None:
        self.set_rows(methods)

    def methods(self) -> tuple[PaymentMethodInfo, ...]:
        return self.rows()

    def row_of(self, method_id: int) -> int:
        return next((n for n, m in enumerate(self._rows) if m.id == method_id), -1)

    def data(self, index: _Index, role: int = _DISPLAY) -> Any:
        method: PaymentMethodInfo | None = self._row_at(index)
        if method is None:
            return None
        column = index.column()
        if role == _DISPLAY:
            return self._display(method, column)
        if role == self.ObjectRole:
            return method
        if role == self.SortRole:
            return self._sort_value(method, column)
        if role == Qt.ItemDataRole.FontRole and method.is_default:
            font = QFont()
            font.setBold(True)
            return font
        expired_cell = method.expired and column in (self.EXPIRES, self.STATUS)
        if role == Qt.ItemDataRole.ForegroundRole and expired_cell:
            return _EXPIRED
        if role == Qt.ItemDataRole.ToolTipRole and column == self.STATUS and method.is_default:
            return QCoreApplication.translate(
                "PaymentMethodsModel", "Autopay and Pay balance charge the default method."
            )
        return None

    def _display(self, method: PaymentMethodInfo, column: int) -> str:
        if column == self.METHOD:
            return method_text(method)
        if column == self.HOLDER:
            return method.holder_name
        if column == self.EXPIRES:
            if method.exp_month is None or method.exp_year is None:
                return "—"
            return f"{method.exp_month:02d}/{method.exp_year}"
        if column == self.ADDRESS:
            city = " ".join(p for p in (method.billing_postal_code, method.billing_city) if p)
            parts = (method.billing_line1, city, method.billing_country)
            return ", ".join(p for p in parts if p)
        source = self.STATUS_WORDS.get((method.is_default, method.expired))
        return QCoreApplication.translate(_CONTEXT, source) if source else ""

    def _sort_value(self, method: PaymentMethodInfo, column: int) -> int | str:
        if column == self.EXPIRES:
            return (method.exp_year or 0) * 100 + (method.exp_month or 0)
        if column == self.STATUS:
            return (0 if method.is_default else 2) + (1 if method.expired else 0)
        return self._display(method, column).casefold()


class PaymentMethodsTab(QWidget):
    """An account's payment methods, the default one and the autopay switch."""

    #: a method, the default or autopay was changed: the page reloads what depends on it
    account_changed = Signal()

    def __init__(self, ctx: AppContext, account_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("paymentMethodsTab")
        self._ctx = ctx
        self._account_id = account_id
        self._settings: PaymentSettings | None = None
        self._dialog: QDialog | None = None

        self.autopay_check = QCheckBox(self)
        self.autopay_check.setObjectName("autopayCheck")
        self.autopay_note = QLabel(self)
        self.autopay_note.setObjectName("autopayNote")
        self.autopay_note.setWordWrap(True)
        self.terms_label = QLabel(self)
        self.terms_label.setObjectName("paysByInvoice")
        bold = QFont(self.terms_label.font())
        bold.setBold(True)
        self.terms_label.setFont(bold)

        self.model = PaymentMethodsModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("paymentMethodsTable")
        setup_row_table(self.table, self.model, row_padding=12)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(PaymentMethodsModel.ADDRESS, QHeaderView.ResizeMode.Stretch)
        self.empty_label = QLabel(self.table.viewport())
        self.empty_label.setObjectName("noPaymentMethods")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setStyleSheet("color: palette(dark);")

        self.add_card_button = QPushButton(self)
        self.add_card_button.setObjectName("addCardButton")
        self.add_bank_button = QPushButton(self)
        self.add_bank_button.setObjectName("addBankAccountButton")
        self.default_button = QPushButton(self)
        self.default_button.setObjectName("setDefaultButton")
        self.remove_button = QPushButton(self)
        self.remove_button.setObjectName("removeMethodButton")
        self.status_label = QLabel(self)
        self.status_label.setObjectName("paymentMethodsStatus")
        self.status_label.setWordWrap(True)

        self.add_card_button.clicked.connect(lambda: self.add_method("card"))
        self.add_bank_button.clicked.connect(lambda: self.add_method("bank_account"))
        self.default_button.clicked.connect(self.set_default)
        self.remove_button.clicked.connect(self.remove)
        self.autopay_check.clicked.connect(self._autopay_clicked)
        self.table.selectionModel().selectionChanged.connect(self._update_actions)

        top = QVBoxLayout()
        top.setSpacing(2)
        top.addWidget(self.autopay_check, 0, Qt.AlignmentFlag.AlignLeft)
        top.addWidget(self.terms_label)
        top.addWidget(self.autopay_note)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_card_button)
        buttons.addWidget(self.add_bank_button)
        buttons.addSpacing(16)
        buttons.addWidget(self.default_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addSpacing(4)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status_label)
        self.setFocusProxy(self.table)

        for first, second in (
            (self.autopay_check, self.add_card_button),
            (self.add_card_button, self.add_bank_button),
            (self.add_bank_button, self.default_button),
            (self.default_button, self.remove_button),
            (self.remove_button, self.table),
        ):
            QWidget.setTabOrder(first, second)

        self.retranslateUi()
        self._size_columns()
        self.reload()

    # -- state ---------------------------------------------------------------

    @property
    def account_id(self) -> int:
        return self._account_id

    def selected_method(self) -> PaymentMethodInfo | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        value = rows[0].data(PaymentMethodsModel.ObjectRole)
        return value if isinstance(value, PaymentMethodInfo) else None

    # -- loading -------------------------------------------------------------

    def reload(self, select_id: int | None = None) -> None:
        """Read the methods and the autopay setting again (keeps or sets the selection)."""
        current = self.selected_method()
        wanted = select_id if select_id is not None else (current.id if current else None)
        try:
            settings = payment_settings(self._ctx, self._account_id)
            methods = list_payment_methods(self._ctx, self._account_id)
        except DomainError as err:
            show_service_error(self, err)
            return
        self._settings = settings
        self.model.set_methods(methods)
        row = self.model.row_of(wanted) if wanted is not None else -1
        if row < 0 and methods:
            row = 0
        if row >= 0:
            self.table.selectRow(row)
        self._show_settings()
        self._update_empty_state()
        self._update_actions()

    def _show_settings(self) -> None:
        s = self._settings
        if s is None:
            return
        corporate = s.type == "corporate"
        self.autopay_check.setVisible(not corporate)
        self.terms_label.setVisible(corporate)
        if corporate:
            self.terms_label.setText(
                self.tr("Pays by invoice (net %n days)", "", s.payment_terms_days or 0)
            )
            self.autopay_note.setText(
                self.tr(
                    "Corporate accounts are invoiced on their payment terms; "
                    "cards and bank accounts are used only when a payment is recorded."
                )
            )
        else:
            self.autopay_check.setChecked(s.autopay)
            if s.autopay:
                self.autopay_note.setText(
                    self.tr("Renewal invoices are charged at once to the default payment method.")
                )
            else:
                self.autopay_note.setText(
                    self.tr("Renewal invoices stay open until the customer pays them.")
                )

    def _update_empty_state(self) -> None:
        empty = self.model.rowCount() == 0
        self.empty_label.setVisible(empty)
        if empty:
            self.empty_label.setText(self.tr("No payment method on file."))
            self.empty_label.resize(self.table.viewport().size())

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self.empty_label.resize(self.table.viewport().size())

    def _size_columns(self) -> None:
        m = PaymentMethodsModel
        samples = {
            m.METHOD: "Bank account (NL) •••• 0000",
            m.HOLDER: "Margherita Annunziata Rossi",
            m.EXPIRES: "00/0000",
            m.STATUS: str(QCoreApplication.translate(_CONTEXT, m.STATUS_WORDS[(True, True)])),
        }
        size_columns_to_samples(self.table, samples, padding=28)

    def _update_actions(self, *_args: object) -> None:
        s = self._settings
        may_change = s is not None and s.may_change
        method = self.selected_method()
        read_only = self.tr("Your role can view this account but not change it.")
        for button in (self.add_card_button, self.add_bank_button):
            button.setEnabled(may_change)
            button.setToolTip("" if may_change else read_only)
        self.remove_button.setEnabled(may_change and method is not None)
        can_default = method is not None and not method.is_default and not method.expired
        self.default_button.setEnabled(may_change and can_default)
        if not may_change:
            self.default_button.setToolTip(read_only)
        elif method is not None and method.expired:
            self.default_button.setToolTip(self.tr("An expired card cannot be the default."))
        elif method is not None and method.is_default:
            self.default_button.setToolTip(self.tr("This is already the default method."))
        else:
            self.default_button.setToolTip("")
        self.autopay_check.setEnabled(may_change)
        self.autopay_check.setToolTip("" if may_change else read_only)

    # -- actions -------------------------------------------------------------

    def _refused(self, err: DomainError) -> None:
        """Say why nothing was written, then show what is stored now.

        A conflict (another operator changed the account — its payment methods,
        autopay… — since this list was read) names them and when; the list is
        read again with the user's selection kept, so the other change is
        visible and the action can be chosen again on fresh data.
        """
        show_service_error(self, err)
        self.reload()
        if isinstance(err, ConflictError):
            self.status_label.setText(self._conflict_text(err))
        else:
            self.status_label.clear()

    def _conflict_text(self, err: ConflictError) -> str:
        changed_by = err.params.get("changed_by")
        changed_at = err.params.get("changed_at")
        if changed_by and changed_at is not None:
            from billing_desktop.documents.formatting import format_value

            return self.tr(
                "Nothing was changed: {operator} changed this account at {time}. "
                "The list now shows the current data."
            ).format(operator=changed_by, time=format_value(changed_at, QLocale()))
        return self.tr(
            "Nothing was changed: this account was changed elsewhere. "
            "The list now shows the current data."
        )

    def _changed(self, message: str, select_id: int | None = None) -> None:
        self.reload(select_id)
        self.status_label.setText(message)
        self.account_changed.emit()

    def add_method(self, kind: str) -> None:
        """Open the add-card or add-bank-account dialog (window-modal, not blocking)."""
        from billing_desktop.ui.dialogs.payment_method_dialog import PaymentMethodDialog

        if self._dialog is not None:
            return
        dialog = PaymentMethodDialog(self._ctx, self._account_id, kind, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.method_added.connect(self._method_added)
        dialog.finished.connect(self._forget_dialog)
        self._dialog = dialog
        dialog.open()

    def _method_added(self, info: PaymentMethodInfo) -> None:
        self._changed(
            self.tr("{method} was added.").format(method=method_text(info)), select_id=info.id
        )

    def _forget_dialog(self) -> None:
        self._dialog = None

    def set_default(self) -> None:
        method = self.selected_method()
        s = self._settings
        if method is None or s is None:
            return
        try:
            info = set_default_method(
                self._ctx, self._account_id, method.id, expected_version=s.version
            )
        except DomainError as err:
            self._refused(err)
            return
        self._changed(
            self.tr("{method} is now the default payment method.").format(method=method_text(info)),
            select_id=info.id,
        )

    def remove(self) -> None:
        """Ask, then remove the selected method."""
        method = self.selected_method()
        if method is None or self._dialog is not None:
            return
        text = method_text(method)
        box = QMessageBox(self)
        box.setObjectName("removeMethodConfirmation")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Remove payment method"))
        box.setText(self.tr("Remove {method} from this account?").format(method=text))
        remove = box.addButton(self.tr("&Remove"), QMessageBox.ButtonRole.DestructiveRole)
        remove.setObjectName("confirmRemove")
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        method_id = method.id
        # the version of the list the user chose from: a change made meanwhile is reported
        version = self._settings.version if self._settings is not None else None

        def answered(button: QAbstractButton) -> None:
            if button is remove:
                self._remove(method_id, text, version)

        box.buttonClicked.connect(answered)
        box.finished.connect(self._forget_dialog)
        self._dialog = box
        box.open()

    def _remove(self, method_id: int, text: str, version: int | None) -> None:
        try:
            remove_method(self._ctx, self._account_id, method_id, expected_version=version)
        except DomainError as err:
            self._refused(err)
            return
        self._changed(self.tr("{method} was removed.").format(method=text))

    def _autopay_clicked(self, on: bool) -> None:
        s = self._settings
        if s is None:
            return
        try:
            set_autopay(self._ctx, self._account_id, on, expected_version=s.version)
        except DomainError as err:
            self._refused(err)  # the switch shows what is stored
            return
        message = self.tr("Autopay is on.") if on else self.tr("Autopay is off.")
        self._changed(message)

    # -- language ----------------------------------------------------------------

    def retranslateUi(self) -> None:
        self.autopay_check.setText(
            self.tr("&Autopay: charge renewals to the default payment method")
        )
        self.add_card_button.setText(self.tr("Add &card…"))
        self.add_bank_button.setText(self.tr("Add &bank account…"))
        self.default_button.setText(self.tr("Set as &default"))
        self.remove_button.setText(self.tr("&Remove…"))
        self.model.retranslate()
        if self._settings is not None:
            self._show_settings()
            self._update_empty_state()
            self._update_actions()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslateUi()
        super().changeEvent(event)
