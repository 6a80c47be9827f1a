"""File ▸ Operators…: the administrator's screen for operators and representatives (issue 8).

Two tabs:

* **Operators** — every operator with email, role, state (active, disabled,
  locked after failed sign-ins, without a password) and last sign-in;
  **New Operator…**, **Change Role…**, **Disable**/**Enable** and
  **Reset Password…**.
* **Corporate accounts** — the corporate accounts (searchable by company or
  account ID) with their representative; **Assign Representative…** and
  **Remove Representative**.

Everything goes through :mod:`billing_desktop.services.operator_admin`, which
refuses anyone but an administrator, keeps one active administrator, and
reports a change made meanwhile by someone else (the list is then reloaded).
:func:`install_operator_admin` puts the menu action in the main window's File
menu, enabled for administrators only. Nothing heavy is imported until the
action is used.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QCoreApplication,
    QEvent,
    QLocale,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTime,
    QTimer,
)
from PySide6.QtGui import QAction, QColor
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from billing_desktop.domain.errors import DomainError
from billing_desktop.ui.dialogs.sign_in_dialog import show_refusal
from billing_desktop.ui.errors import error_text, show_service_error
from billing_desktop.ui.formatting import format_date
from billing_desktop.ui.models.table import RowTableModel, setup_row_table

if TYPE_CHECKING:
    from billing_desktop.services.context import AppContext
    from billing_desktop.services.operator_admin import CorporateAccountRow, OperatorRow

__all__ = [
    "CorporateAccountsModel",
    "OperatorAdminMenu",
    "OperatorFormDialog",
    "OperatorsDialog",
    "OperatorsModel",
    "install_operator_admin",
]

log = logging.getLogger("billing_desktop.ui")

_Index = QModelIndex | QPersistentModelIndex
_DISPLAY = Qt.ItemDataRole.DisplayRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_FOREGROUND = Qt.ItemDataRole.ForegroundRole
#: the search waits for a pause in typing
SEARCH_DELAY_MS = 250


def _role_word(role: str) -> str:
    from billing_desktop.ui.main_window import role_word

    return role_word(role)


def format_moment(moment: datetime, locale: QLocale | None = None) -> str:
    """A date and time as the lists show them (the date as everywhere, a short time)."""
    loc = locale if locale is not None else QLocale()
    time_text = loc.toString(QTime(moment.hour, moment.minute), QLocale.FormatType.ShortFormat)
    return f"{format_date(moment.date(), loc)} {time_text}"


def _muted(widget: QWidget) -> QColor:
    """The grey of disabled operators and of "None" (readable on both themes)."""
    from billing_desktop.ui.theme import is_dark

    return QColor("#8c8f94") if is_dark(widget.palette()) else QColor("#6b6f75")


# --------------------------------------------------------------------------- models


class OperatorsModel(RowTableModel):
    """The operators (rows are ``OperatorRow``), by name."""

    NAME, EMAIL, ROLE, STATUS, LAST_SIGN_IN = range(5)
    COLUMN_COUNT = 5
    CONTEXT = "OperatorsModel"
    HEADERS = (
        QT_TRANSLATE_NOOP("OperatorsModel", "Name"),
        QT_TRANSLATE_NOOP("OperatorsModel", "Email"),
        QT_TRANSLATE_NOOP("OperatorsModel", "Role"),
        QT_TRANSLATE_NOOP("OperatorsModel", "Status"),
        QT_TRANSLATE_NOOP("OperatorsModel", "Last sign-in"),
    )

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.now = datetime.now()
        self.muted: Any = None

    def set_rows(self, rows: Any) -> None:
        self.now = datetime.now()
        super().set_rows(rows)

    def status(self, op: OperatorRow) -> str:
        if not op.active:
            return QCoreApplication.translate("OperatorsModel", "Disabled")
        if op.locked_until is not None and op.locked_until > self.now:
            return QCoreApplication.translate("OperatorsModel", "Locked")
        if not op.can_sign_in:
            return QCoreApplication.translate("OperatorsModel", "No password")
        return QCoreApplication.translate("OperatorsModel", "Active")

    def status_tip(self, op: OperatorRow) -> str:
        if not op.active:
            return QCoreApplication.translate(
                "OperatorsModel", "Cannot sign in until an administrator enables it."
            )
        if op.locked_until is not None and op.locked_until > self.now:
            return QCoreApplication.translate(
                "OperatorsModel",
                "Too many failed sign-ins: locked until {time}. Resetting the password unlocks it.",
            ).format(time=format_moment(op.locked_until))
        if not op.can_sign_in:
            return QCoreApplication.translate(
                "OperatorsModel",
                "Has no password, so cannot sign in to a shared database. Reset the "
                "password to give one.",
            )
        return ""

    def data(self, index: _Index, role: int = _DISPLAY) -> Any:
        op: OperatorRow | None = self._row_at(index)
        if op is None:
            return None
        column = index.column()
        if role == self.ObjectRole:
            return op
        if role == _DISPLAY or (role == _TOOLTIP and column != self.STATUS):
            if column == self.NAME:
                return op.name
            if column == self.EMAIL:
                return op.email
            if column == self.ROLE:
                return _role_word(op.role)
            if column == self.STATUS:
                return self.status(op)
            if column == self.LAST_SIGN_IN:
                if op.last_signed_in_at is None:
                    return QCoreApplication.translate("OperatorsModel", "Never")
                return format_moment(op.last_signed_in_at)
        if role == _TOOLTIP and column == self.STATUS:
            return self.status_tip(op) or None
        if role == _FOREGROUND and not op.active and self.muted is not None:
            return self.muted
        return None


class CorporateAccountsModel(RowTableModel):
    """Corporate accounts and their representative (rows are ``CorporateAccountRow``)."""

    ACCOUNT, COMPANY, REPRESENTATIVE = range(3)
    COLUMN_COUNT = 3
    CONTEXT = "CorporateAccountsModel"
    HEADERS = (
        QT_TRANSLATE_NOOP("CorporateAccountsModel", "Account"),
        QT_TRANSLATE_NOOP("CorporateAccountsModel", "Company"),
        QT_TRANSLATE_NOOP("CorporateAccountsModel", "Representative"),
    )

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.muted: Any = None

    def data(self, index: _Index, role: int = _DISPLAY) -> Any:
        account: CorporateAccountRow | None = self._row_at(index)
        if account is None:
            return None
        column = index.column()
        if role == self.ObjectRole:
            return account
        if role in (_DISPLAY, _TOOLTIP):
            if column == self.ACCOUNT:
                return account.account_number
            if column == self.COMPANY:
                return account.company_name
            if column == self.REPRESENTATIVE:
                if account.representative_name is None:
                    return QCoreApplication.translate("CorporateAccountsModel", "None")
                if role == _TOOLTIP:
                    return f"{account.representative_name} <{account.representative_email}>"
                return account.representative_name
        if (
            role == _FOREGROUND
            and column == self.REPRESENTATIVE
            and account.representative_name is None
            and self.muted is not None
        ):
            return self.muted
        return None


# --------------------------------------------------------------------------- forms


class OperatorFormDialog(QDialog):
    """New Operator… (name, email, role, password twice) or Reset Password… (password twice).

    Stays open, saying what is wrong, until the service accepted the values.
    """

    def __init__(
        self, ctx: AppContext, parent: QWidget, *, operator: OperatorRow | None = None
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        #: None: a new operator; else the operator whose password is reset
        self.operator = operator
        #: the service's answer (the new or changed ``OperatorRow``) once accepted
        self.result_row: OperatorRow | None = None
        self.setObjectName("newOperatorDialog" if operator is None else "resetPasswordDialog")

        self.name_edit = QLineEdit(self)
        self.name_edit.setObjectName("nameEdit")
        self.email_edit = QLineEdit(self)
        self.email_edit.setObjectName("emailEdit")
        self.role_combo = QComboBox(self)
        self.role_combo.setObjectName("roleCombo")
        self.password_edit = QLineEdit(self)
        self.password_edit.setObjectName("passwordEdit")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.confirm_edit = QLineEdit(self)
        self.confirm_edit.setObjectName("confirmEdit")
        self.confirm_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.intro = QLabel(self)
        self.intro.setWordWrap(True)
        self.hint = QLabel(self)
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: palette(dark);")
        self.message = QLabel(self)
        self.message.setObjectName("formMessage")
        self.message.setWordWrap(True)
        self.message.hide()

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._labels: dict[str, QLabel] = {}
        keys = ("password", "confirm") if operator else ("name", "email", "role", "password",
                                                         "confirm")  # fmt: skip
        for key in keys:
            label = QLabel(self)
            field = self.role_combo if key == "role" else getattr(self, f"{key}_edit")
            label.setBuddy(field)
            self._labels[key] = label
            form.addRow(label, field)
        if operator is not None:
            for unused in (self.name_edit, self.email_edit, self.role_combo):
                unused.hide()

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setObjectName("saveOperatorButton")
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(form)
        layout.addWidget(self.hint)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.retranslateUi()
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 72)

    def _refuse(self, text: str, field: QWidget | None) -> None:
        show_refusal(self, self.message, text, field)

    def save(self) -> None:
        """Check the two passwords agree, then create the operator or set the password."""
        from billing_desktop.services import operator_admin

        password = self.password_edit.text()
        if password != self.confirm_edit.text():
            self.confirm_edit.clear()
            self._refuse(
                self.tr("The two passwords are not the same; type it again."), self.confirm_edit
            )
            return
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)  # hashing takes a moment
        try:
            if self.operator is None:
                row = operator_admin.create_operator(
                    self._ctx,
                    self.email_edit.text(),
                    self.name_edit.text(),
                    str(self.role_combo.currentData()),
                    password,
                )
            else:
                row = operator_admin.reset_password(
                    self._ctx, self.operator.id, password, expected_version=self.operator.version
                )
        except DomainError as err:
            QApplication.restoreOverrideCursor()
            field = err.params.get("field")
            widget = {
                "name": self.name_edit,
                "email": self.email_edit,
                "role": self.role_combo,
                "password": self.password_edit,
            }.get(str(field))
            if widget is self.password_edit:
                self.password_edit.clear()
                self.confirm_edit.clear()
            self._refuse(error_text(err), widget)
            return
        QApplication.restoreOverrideCursor()
        self.result_row = row
        self.accept()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslateUi()
        super().changeEvent(event)

    def retranslateUi(self) -> None:
        from billing_desktop.services.operator_admin import ROLES
        from billing_desktop.services.signin import MIN_PASSWORD_LENGTH

        if self.operator is None:
            self.setWindowTitle(self.tr("New Operator"))
            self.intro.setText(
                self.tr(
                    "The new operator signs in with this email address and password. Tell "
                    "them the password in person or by phone, not by email."
                )
            )
            self.ok_button.setText(self.tr("&Create Operator"))
        else:
            self.setWindowTitle(self.tr("Reset Password"))
            self.intro.setText(
                self.tr(
                    "A new password for {name} ({email}). It also lifts a lock after failed "
                    "sign-ins. Tell them the password in person or by phone, not by email."
                ).format(name=self.operator.name, email=self.operator.email)
            )
            self.ok_button.setText(self.tr("&Set Password"))
        words = {
            "name": self.tr("&Name:"),
            "email": self.tr("&Email address:"),
            "role": self.tr("&Role:"),
            "password": self.tr("&Password:"),
            "confirm": self.tr("R&epeat password:"),
        }
        for key, label in self._labels.items():
            label.setText(words[key])
        self.hint.setText(
            self.tr(
                "At least {count} characters, not the email address. A few unrelated words "
                "make a good password that is easy to remember."
            ).format(count=MIN_PASSWORD_LENGTH)
        )
        chosen = self.role_combo.currentData() or "support"
        self.role_combo.clear()
        for role in ROLES:
            self.role_combo.addItem(_role_word(role), role)
        self.role_combo.setCurrentIndex(max(0, self.role_combo.findData(chosen)))


# --------------------------------------------------------------------------- the dialog


class OperatorsDialog(QDialog):
    """The administrator's screen: operators, and representatives of corporate accounts."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("operatorsDialog")
        self._ctx = ctx
        self._question: QWidget | None = None  # the one box or form open over the dialog

        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("operatorsTabs")

        # -- operators tab
        self.operators_page = QWidget(self.tabs)
        self.operators_model = OperatorsModel(self)
        self.operators_model.muted = _muted(self)
        self.operators_table = QTableView(self.operators_page)
        self.operators_table.setObjectName("operatorsTable")
        setup_row_table(self.operators_table, self.operators_model)
        header = self.operators_table.horizontalHeader()
        header.setSectionResizeMode(OperatorsModel.NAME, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(OperatorsModel.EMAIL, QHeaderView.ResizeMode.Stretch)
        for column in (OperatorsModel.ROLE, OperatorsModel.STATUS, OperatorsModel.LAST_SIGN_IN):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.new_button = QPushButton(self.operators_page)
        self.new_button.setObjectName("newOperatorButton")
        self.role_button = QPushButton(self.operators_page)
        self.role_button.setObjectName("changeRoleButton")
        self.active_button = QPushButton(self.operators_page)
        self.active_button.setObjectName("disableEnableButton")
        self.password_button = QPushButton(self.operators_page)
        self.password_button.setObjectName("resetPasswordButton")
        actions = QHBoxLayout()
        actions.addWidget(self.new_button)
        actions.addStretch(1)
        actions.addWidget(self.role_button)
        actions.addWidget(self.active_button)
        actions.addWidget(self.password_button)
        page = QVBoxLayout(self.operators_page)
        page.addWidget(self.operators_table, 1)
        page.addLayout(actions)

        # -- corporate accounts tab
        self.accounts_page = QWidget(self.tabs)
        self.search_edit = QLineEdit(self.accounts_page)
        self.search_edit.setObjectName("accountSearch")
        self.search_edit.setClearButtonEnabled(True)
        self.accounts_model = CorporateAccountsModel(self)
        self.accounts_model.muted = _muted(self)
        self.accounts_table = QTableView(self.accounts_page)
        self.accounts_table.setObjectName("corporateAccountsTable")
        setup_row_table(self.accounts_table, self.accounts_model)
        header = self.accounts_table.horizontalHeader()
        header.setSectionResizeMode(
            CorporateAccountsModel.ACCOUNT, QHeaderView.ResizeMode.ResizeToContents
        )
        header.setSectionResizeMode(CorporateAccountsModel.COMPANY, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(
            CorporateAccountsModel.REPRESENTATIVE, QHeaderView.ResizeMode.Stretch
        )
        self.accounts_empty = QLabel(self.accounts_page)
        self.accounts_empty.setObjectName("corporateAccountsEmpty")
        self.accounts_empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.accounts_empty.setWordWrap(True)
        self.accounts_empty.setEnabled(False)
        self.assign_button = QPushButton(self.accounts_page)
        self.assign_button.setObjectName("assignRepresentativeButton")
        self.unassign_button = QPushButton(self.accounts_page)
        self.unassign_button.setObjectName("removeRepresentativeButton")
        account_actions = QHBoxLayout()
        account_actions.addStretch(1)
        account_actions.addWidget(self.assign_button)
        account_actions.addWidget(self.unassign_button)
        page = QVBoxLayout(self.accounts_page)
        page.addWidget(self.search_edit)
        page.addWidget(self.accounts_table, 1)
        page.addWidget(self.accounts_empty, 1)
        page.addLayout(account_actions)

        self.tabs.addTab(self.operators_page, "")
        self.tabs.addTab(self.accounts_page, "")

        self.status_label = QLabel(self)
        self.status_label.setObjectName("operatorsStatus")
        self.status_label.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status_label)
        layout.addWidget(self.buttons)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.reload_accounts)
        self.search_edit.textChanged.connect(lambda _text: self._search_timer.start())

        self.new_button.clicked.connect(self.new_operator)
        self.role_button.clicked.connect(self.change_role)
        self.active_button.clicked.connect(self.toggle_active)
        self.password_button.clicked.connect(self.reset_password)
        self.assign_button.clicked.connect(self.assign_representative)
        self.unassign_button.clicked.connect(self.remove_representative)
        self.operators_table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.accounts_table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.accounts_table.activated.connect(lambda _index: self.assign_representative())

        self.retranslateUi()
        self.resize(max(self.sizeHint().width(), 880), 500)
        self.reload()

    # -- reading -------------------------------------------------------------

    def reload(self) -> None:
        self.reload_operators()
        self.reload_accounts()

    def reload_operators(self, select: int | None = None) -> None:
        """Read the operators again, keeping the selected one (or selecting ``select``)."""
        from billing_desktop.services.operator_admin import list_operators

        chosen = select if select is not None else getattr(self.selected_operator(), "id", None)
        try:
            rows = list_operators(self._ctx)
        except DomainError as err:
            show_service_error(self, err)
            rows = []
        self.operators_model.set_rows(rows)
        self._select(self.operators_table, [r.id for r in rows], chosen)
        self._update_buttons()

    def reload_accounts(self, select: int | None = None) -> None:
        from billing_desktop.services.operator_admin import list_corporate_accounts

        chosen = select if select is not None else getattr(self.selected_account(), "id", None)
        try:
            rows = list_corporate_accounts(self._ctx, self.search_edit.text())
        except DomainError as err:
            show_service_error(self, err)
            rows = []
        self.accounts_model.set_rows(rows)
        self._select(self.accounts_table, [r.id for r in rows], chosen)
        empty = not rows
        self.accounts_table.setVisible(not empty)
        self.accounts_empty.setVisible(empty)
        self._update_buttons()

    @staticmethod
    def _select(table: QTableView, ids: list[int], chosen: int | None) -> None:
        if not ids:
            return
        table.selectRow(ids.index(chosen) if chosen in ids else 0)

    def selected_operator(self) -> OperatorRow | None:
        rows = self.operators_table.selectionModel().selectedRows()
        return self.operators_model.row_object(rows[0].row()) if rows else None

    def selected_account(self) -> CorporateAccountRow | None:
        rows = self.accounts_table.selectionModel().selectedRows()
        return self.accounts_model.row_object(rows[0].row()) if rows else None

    def _update_buttons(self) -> None:
        op = self.selected_operator()
        for button in (self.role_button, self.active_button, self.password_button):
            button.setEnabled(op is not None)
        if op is not None and not op.active:
            self.active_button.setText(self.tr("&Enable"))
        else:
            self.active_button.setText(self.tr("&Disable…"))
        # yourself: the service refuses it; say so before anything is asked
        yourself = op is not None and op.id == self._ctx.operator.id
        self.active_button.setEnabled(op is not None and not yourself)
        self.active_button.setToolTip(
            self.tr("You cannot disable yourself; another administrator can.") if yourself else ""
        )
        account = self.selected_account()
        self.assign_button.setEnabled(account is not None)
        self.unassign_button.setEnabled(
            account is not None and account.representative_id is not None
        )

    # -- answers -------------------------------------------------------------

    def _failed(self, err: DomainError) -> None:
        """Tell why (one message box); after a conflict, show the current data."""
        from billing_desktop.services.errors import ConflictError

        show_service_error(self, err)
        if isinstance(err, ConflictError):
            self.reload()

    def _done(self, text: str) -> None:
        self.status_label.setText(text)

    def _show_question(self, box: QDialog) -> None:
        """Open ``box`` (window-modal, deleted when closed) as the one question asked."""
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _result, asked=box: self._forget_question(asked))
        self._question = box
        box.open()

    def _forget_question(self, asked: QDialog) -> None:
        if self._question is asked:
            self._question = None

    # -- operators -------------------------------------------------------------

    def new_operator(self) -> None:
        if self._question is not None:
            return
        form = OperatorFormDialog(self._ctx, self)

        def created() -> None:
            row = form.result_row
            if row is not None:
                self.reload_operators(select=row.id)
                self._done(
                    self.tr("Created the operator {name} ({role}).").format(
                        name=row.name, role=_role_word(row.role)
                    )
                )

        form.accepted.connect(created)
        self._show_question(form)

    def change_role(self) -> None:
        op = self.selected_operator()
        if op is None or self._question is not None:
            return
        from billing_desktop.services.operator_admin import ROLES

        box = QInputDialog(self)
        box.setObjectName("roleInput")
        box.setWindowTitle(self.tr("Change Role"))
        box.setLabelText(self.tr("Role of {name}:").format(name=op.name))
        box.setInputMode(QInputDialog.InputMode.TextInput)
        words = [_role_word(role) for role in ROLES]
        box.setComboBoxItems(words)
        box.setComboBoxEditable(False)
        box.setTextValue(_role_word(op.role))
        box.setOkButtonText(self.tr("&Change Role"))

        def chosen(word: str) -> None:
            self._question = None
            if word in words:
                self.set_role(op, ROLES[words.index(word)])

        box.textValueSelected.connect(chosen)
        self._show_question(box)

    def set_role(self, op: OperatorRow, role: str) -> None:
        """Change the role now (no question asked)."""
        from billing_desktop.services.operator_admin import change_role

        try:
            row = change_role(self._ctx, op.id, role, expected_version=op.version)
        except DomainError as err:
            self._failed(err)
            return
        self.reload_operators(select=row.id)
        self._done(
            self.tr("{name} is now {role}.").format(name=row.name, role=_role_word(row.role))
        )

    def toggle_active(self) -> None:
        """Disable (after asking) or enable the selected operator."""
        op = self.selected_operator()
        if op is None or self._question is not None:
            return
        if not op.active:
            self.set_active(op, True)
            return
        box = QMessageBox(self)
        box.setObjectName("disableOperatorConfirmation")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Disable Operator"))
        box.setText(self.tr("Disable {name} ({email})?").format(name=op.name, email=op.email))
        box.setInformativeText(
            self.tr(
                "They can no longer sign in. Their work and the audit trail are kept, and "
                "you can enable them again at any time."
            )
        )
        confirm = box.addButton(self.tr("&Disable"), QMessageBox.ButtonRole.DestructiveRole)
        confirm.setObjectName("confirmDisable")
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)

        def answered(button: QAbstractButton) -> None:
            if button is confirm:
                self.set_active(op, False)

        box.buttonClicked.connect(answered)
        self._show_question(box)

    def set_active(self, op: OperatorRow, active: bool) -> None:
        from billing_desktop.services.operator_admin import set_active

        try:
            row = set_active(self._ctx, op.id, active, expected_version=op.version)
        except DomainError as err:
            self._failed(err)
            return
        self.reload_operators(select=row.id)
        text = self.tr("Enabled {name}.") if active else self.tr("Disabled {name}.")
        self._done(text.format(name=row.name))

    def reset_password(self) -> None:
        op = self.selected_operator()
        if op is None or self._question is not None:
            return
        form = OperatorFormDialog(self._ctx, self, operator=op)

        def changed() -> None:
            row = form.result_row
            if row is not None:
                self.reload_operators(select=row.id)
                self._done(self.tr("Set a new password for {name}.").format(name=row.name))

        form.accepted.connect(changed)
        self._show_question(form)

    # -- representatives -------------------------------------------------------

    def assign_representative(self) -> None:
        account = self.selected_account()
        if account is None or self._question is not None:
            return
        from billing_desktop.services.operator_admin import list_representatives

        try:
            reps = list_representatives(self._ctx)
        except DomainError as err:
            self._failed(err)
            return
        if not reps:
            self._done(
                self.tr(
                    "There is no active representative yet. Create an operator with the "
                    "role Representative first."
                )
            )
            return
        labels = [f"{rep.name} <{rep.email}>" for rep in reps]
        box = QInputDialog(self)
        box.setObjectName("representativeInput")
        box.setWindowTitle(self.tr("Assign Representative"))
        box.setLabelText(
            self.tr("Representative of {company} ({account}):").format(
                company=account.company_name, account=account.account_number
            )
        )
        box.setInputMode(QInputDialog.InputMode.TextInput)
        box.setComboBoxItems(labels)
        box.setComboBoxEditable(False)
        current = next((i for i, r in enumerate(reps) if r.id == account.representative_id), 0)
        box.setTextValue(labels[current])
        box.setOkButtonText(self.tr("&Assign"))

        def chosen(label: str) -> None:
            self._question = None
            if label in labels:
                self.set_representative(account, reps[labels.index(label)].id)

        box.textValueSelected.connect(chosen)
        self._show_question(box)

    def remove_representative(self) -> None:
        account = self.selected_account()
        if account is None or account.representative_id is None:
            return
        self.set_representative(account, None)

    def set_representative(
        self, account: CorporateAccountRow, representative_id: int | None
    ) -> None:
        """Assign (or, with None, remove) the representative now (no question asked)."""
        from billing_desktop.services.operator_admin import assign_representative

        try:
            row = assign_representative(
                self._ctx, account.id, representative_id, expected_version=account.version
            )
        except DomainError as err:
            self._failed(err)
            return
        self.reload_accounts(select=row.id)
        self.reload_operators()  # the count of assigned accounts changed
        if row.representative_name is None:
            text = self.tr("{account} no longer has a representative.")
        else:
            text = self.tr("{name} is now the representative of {account}.")
        self._done(text.format(account=row.account_number, name=row.representative_name))

    # -- language --------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslateUi()
        super().changeEvent(event)

    def retranslateUi(self) -> None:
        self.setWindowTitle(self.tr("Operators"))
        self.tabs.setTabText(0, self.tr("&Operators"))
        self.tabs.setTabText(1, self.tr("&Corporate Accounts"))
        self.new_button.setText(self.tr("&New Operator…"))
        self.role_button.setText(self.tr("Change &Role…"))
        self.password_button.setText(self.tr("Reset &Password…"))
        self.assign_button.setText(self.tr("&Assign Representative…"))
        self.unassign_button.setText(self.tr("Re&move Representative"))
        self.search_edit.setPlaceholderText(self.tr("Search by company name or account ID"))
        self.accounts_empty.setText(self.tr("No corporate account matches."))
        self.operators_table.setAccessibleName(self.tr("Operators"))
        self.accounts_table.setAccessibleName(self.tr("Corporate accounts"))
        self.operators_model.retranslate()
        self.accounts_model.retranslate()
        self._update_buttons()


# --------------------------------------------------------------------------- the menu


class OperatorAdminMenu(QObject):
    """File ▸ Operators… of one main window (enabled for administrators only)."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.setObjectName("operatorAdminMenu")
        self.window = window
        self.dialog: OperatorsDialog | None = None
        self.action = QAction(window)
        self.action.setObjectName("operatorsAction")
        self.action.triggered.connect(self.show_dialog)
        menu = window.file_menu  # type: ignore[attr-defined]
        actions = menu.actions()
        settings = getattr(window, "settings_action", None)
        after = actions.index(settings) + 1 if settings in actions else len(actions)
        menu.insertAction(actions[after] if after < len(actions) else None, self.action)
        window.installEventFilter(self)
        self.update_enabled()
        self.retranslateUi()

    @property
    def ctx(self) -> AppContext:
        return self.window.ctx  # type: ignore[attr-defined,no-any-return]

    def update_enabled(self) -> None:
        """Administrators only (the services refuse anyone else in any case)."""
        self.action.setEnabled(self.ctx.operator.role == "admin")

    def show_dialog(self) -> None:
        if not self.action.isEnabled():
            return
        if self.dialog is None:
            self.dialog = OperatorsDialog(self.ctx, self.window)
            self.dialog.finished.connect(self._closed)
        self.dialog.open()

    def _closed(self) -> None:
        dialog, self.dialog = self.dialog, None
        if dialog is not None:
            dialog.deleteLater()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.LanguageChange:
            self.retranslateUi()
        return super().eventFilter(watched, event)

    def retranslateUi(self) -> None:
        self.action.setText(self.tr("&Operators…"))
        self.action.setStatusTip(
            self.tr("Create operators, set their roles and assign representatives")
            if self.action.isEnabled()
            else self.tr("Only administrators manage operators")
        )


def install_operator_admin(window: QMainWindow) -> OperatorAdminMenu:
    """Add File ▸ Operators… to ``window`` (a ``MainWindow``); returns the menu object."""
    return OperatorAdminMenu(window)
