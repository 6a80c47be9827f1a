"""The Settings dialog: language, database, mail server, theme and the operator's identity.

One page per subject, chosen in the list on the left (arrow keys, or
Ctrl+PgUp/PgDown anywhere in the dialog). Nothing changes until **Apply** or
**OK**; **Cancel** forgets what was not applied. A page whose input is wrong
says why under the field and keeps the dialog open on that page.

What each page does when applied:

- *Language*: ``i18n.install`` at once (every open window retranslates) and
  remembered in QSettings for the next start (:mod:`billing_desktop.ui.preferences`);
- *Database*: the form of the path or URL is checked, remembered as the
  database of the next start, and :attr:`SettingsDialog.database_change_requested`
  asks the application to switch now (applied last, since switching replaces
  the main window);
- *Mail server*: saved through ``services.smtp.save_smtp_settings`` (it is
  stored in the database, checked and audited there); **Send test email**
  sends one message with the values on screen in a worker, and shows the
  server's answer in the user's language;
- *Theme*: ``ui.theme.apply_theme`` and remembered;
- *Operator*: the operator's name and email through
  ``services.operators.update_operator_identity``;
  :attr:`SettingsDialog.operator_changed` carries the new ``OperatorInfo``
  for the status bar.

Service modules are imported when a page needs them, so importing this
module costs no SQLAlchemy or smtplib.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from billing_desktop.domain.errors import DomainError, ValidationError
from billing_desktop.services.auth import Action, authorize
from billing_desktop.services.context import AppContext
from billing_desktop.services.errors import ConflictError, PermissionDenied
from billing_desktop.ui import preferences
from billing_desktop.ui.errors import error_text, show_service_error
from billing_desktop.ui.theme import apply_theme, is_dark, warning_color

if TYPE_CHECKING:
    from billing_desktop.services.context import OperatorInfo
    from billing_desktop.services.operators import OperatorIdentity
    from billing_desktop.services.smtp import SmtpSettings

__all__ = ["LANGUAGE_NAMES", "SettingsDialog"]

log = logging.getLogger("billing_desktop.ui")

LANGUAGE_NAMES = preferences.LANGUAGE_NAMES

THEME_WORDS = {
    "system": QT_TRANSLATE_NOOP("SettingsDialog", "&System"),
    "light": QT_TRANSLATE_NOOP("SettingsDialog", "&Light"),
    "dark": QT_TRANSLATE_NOOP("SettingsDialog", "&Dark"),
}

THEME_HINTS = {
    "system": QT_TRANSLATE_NOOP("SettingsDialog", "The look and colours of your desktop."),
    "light": QT_TRANSLATE_NOOP("SettingsDialog", "Dark text on light backgrounds."),
    "dark": QT_TRANSLATE_NOOP("SettingsDialog", "Light text on dark backgrounds, easier at night."),
}

SECURITY_WORDS = {
    "none": QT_TRANSLATE_NOOP("SettingsDialog", "None (plain text)"),
    "starttls": QT_TRANSLATE_NOOP("SettingsDialog", "STARTTLS"),
    "ssl": QT_TRANSLATE_NOOP("SettingsDialog", "SSL/TLS"),
}

#: The usual port of each kind of connection security, offered when it changes.
DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}

#: Which SMTP field a ``ValidationError`` code of ``services.smtp`` is about.
SMTP_ERROR_FIELDS = {
    "smtp_host_invalid": "host",
    "smtp_host_missing": "host",
    "smtp_port_invalid": "port",
    "smtp_from_invalid": "from_address",
    "smtp_user_missing": "username",
    "smtp_timeout_invalid": "timeout",
    "smtp_security_invalid": "security",
    "smtp_test_address_invalid": "test_address",
}


def _tr(text: str) -> str:
    return QCoreApplication.translate("SettingsDialog", text)


class MessageLabel(QLabel):
    """An inline message under a field: an error (red) or a confirmation (green)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._kind = "error"
        self.hide()

    @property
    def kind(self) -> str:
        return self._kind

    def show_message(self, text: str, kind: str = "error") -> None:
        self._kind = kind
        self.setText(text)
        self.restyle()
        self.setVisible(bool(text))

    def clear_message(self) -> None:
        self.setText("")
        self.hide()

    def restyle(self) -> None:
        if self._kind == "error":
            colour = warning_color(self.palette()).name()
        elif self._kind == "success":
            colour = "#7ddc8a" if is_dark(self.palette()) else "#1b6e2a"
        else:
            colour = self.palette().color(self.foregroundRole()).name()
        self.setStyleSheet(f"color: {colour};")


class SettingsPage(QWidget):
    """One page of the dialog: knows whether it has unapplied changes and applies them."""

    #: The user changed something on the page (the dialog enables Apply).
    changed = Signal()

    def __init__(self, dialog: SettingsDialog) -> None:
        super().__init__(dialog)
        self.dialog = dialog

    @property
    def ctx(self) -> AppContext:
        return self.dialog.ctx

    def title(self) -> str:  # pragma: no cover - every page overrides it
        raise NotImplementedError

    def is_dirty(self) -> bool:
        return False

    def apply(self) -> bool:
        """Apply the page's changes; False (with a message shown) when they are refused."""
        return True

    def messages(self) -> list[MessageLabel]:
        return list(self.findChildren(MessageLabel))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.LanguageChange, QEvent.Type.LocaleChange):
            self.retranslateUi()
        elif event.type() == QEvent.Type.PaletteChange:
            for label in self.messages():
                label.restyle()
        super().changeEvent(event)

    def retranslateUi(self) -> None:  # pragma: no cover - every page overrides it
        pass


def _heading(parent: QWidget) -> QLabel:
    label = QLabel(parent)
    font = label.font()
    font.setBold(True)
    font.setPointSizeF(font.pointSizeF() * 1.15)
    label.setFont(font)
    return label


def _hint(parent: QWidget) -> QLabel:
    label = QLabel(parent)
    label.setWordWrap(True)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 0.95)
    label.setFont(font)
    return label


# --------------------------------------------------------------------------- language


class LanguagePage(SettingsPage):
    def __init__(self, dialog: SettingsDialog) -> None:
        super().__init__(dialog)
        self.setObjectName("languagePage")
        self.heading = _heading(self)
        self.combo_label = QLabel(self)
        self.combo = QComboBox(self)
        self.combo.setObjectName("languageCombo")
        self.combo.addItem("", "")
        for code in preferences.LANGUAGES:
            self.combo.addItem(LANGUAGE_NAMES[code], code)
        self.combo_label.setBuddy(self.combo)
        self.hint = _hint(self)
        self._applied = preferences.saved_language() or ""
        self.combo.setCurrentIndex(max(0, self.combo.findData(self._applied)))
        self.combo.currentIndexChanged.connect(self.changed)

        form = QFormLayout()
        form.addRow(self.combo_label, self.combo)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(form)
        layout.addWidget(self.hint)
        layout.addStretch(1)
        self.retranslateUi()

    def title(self) -> str:
        return self.tr("Language")

    def selected(self) -> str:
        """The chosen language code, "" for the system's language."""
        return str(self.combo.currentData() or "")

    def is_dirty(self) -> bool:
        return self.selected() != self._applied

    def apply(self) -> bool:
        code = self.selected()
        if code == self._applied:
            return True
        log.info("language %s", preferences.switch_language(code or None))
        self._applied = code
        self.dialog.language_changed.emit(code)
        return True

    def retranslateUi(self) -> None:
        self.heading.setText(self.tr("Language"))
        self.combo_label.setText(self.tr("&Language of the application:"))
        self.combo.setItemText(0, self.tr("System language"))
        self.hint.setText(
            self.tr(
                "The new language is used at once and at every start. Customer emails and "
                "invoices keep the language of each account."
            )
        )


# --------------------------------------------------------------------------- database


class DatabasePage(SettingsPage):
    def __init__(self, dialog: SettingsDialog) -> None:
        super().__init__(dialog)
        self.setObjectName("databasePage")
        target = self.ctx.db.target
        self.heading = _heading(self)
        self.current_caption = QLabel(self)
        self.current_value = QLabel(target.display_name(), self)
        self.current_value.setObjectName("databaseCurrent")
        self.current_value.setWordWrap(True)
        self.current_value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.file_radio = QRadioButton(self)
        self.file_radio.setObjectName("databaseFileRadio")
        self.server_radio = QRadioButton(self)
        self.server_radio.setObjectName("databaseServerRadio")
        self.kind_group = QButtonGroup(self)
        self.kind_group.addButton(self.file_radio)
        self.kind_group.addButton(self.server_radio)
        self.file_edit = QLineEdit(self)
        self.file_edit.setObjectName("databaseFile")
        self.browse_button = QPushButton(self)
        self.browse_button.setObjectName("databaseBrowse")
        self.url_edit = QLineEdit(self)
        self.url_edit.setObjectName("databaseUrl")
        self.url_edit.setPlaceholderText("postgresql://user:password@server:5432/billing")
        self.error = MessageLabel(self)
        self.error.setObjectName("databaseError")
        self.hint = _hint(self)

        if target.path is not None:
            self.file_radio.setChecked(True)
            self.file_edit.setText(str(target.path))
        else:
            self.server_radio.setChecked(True)
            self.url_edit.setText(target.display_name())
        self._initial = self.location()

        grid = QGridLayout()
        grid.addWidget(self.file_radio, 0, 0)
        grid.addWidget(self.file_edit, 0, 1)
        grid.addWidget(self.browse_button, 0, 2)
        grid.addWidget(self.server_radio, 1, 0)
        grid.addWidget(self.url_edit, 1, 1, 1, 2)
        grid.setColumnStretch(1, 1)
        current = QFormLayout()
        current.addRow(self.current_caption, self.current_value)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(current)
        layout.addSpacing(6)
        layout.addLayout(grid)
        layout.addWidget(self.error)
        layout.addWidget(self.hint)
        layout.addStretch(1)

        self.file_radio.toggled.connect(self._on_kind)
        self.file_edit.textChanged.connect(self._on_edit)
        self.url_edit.textChanged.connect(self._on_edit)
        self.browse_button.clicked.connect(self.browse)
        self._on_kind()
        self.retranslateUi()

    def title(self) -> str:
        return self.tr("Database")

    def location(self) -> str:
        """The path or URL of the chosen kind, as typed."""
        edit = self.file_edit if self.file_radio.isChecked() else self.url_edit
        return edit.text().strip()

    def is_dirty(self) -> bool:
        return self.location() != self._initial

    def _on_kind(self) -> None:
        is_file = self.file_radio.isChecked()
        self.file_edit.setEnabled(is_file)
        self.browse_button.setEnabled(is_file)
        self.url_edit.setEnabled(not is_file)
        self._on_edit()

    def _on_edit(self) -> None:
        self.validate()
        self.changed.emit()

    def validate(self) -> preferences.DatabaseChoice | None:
        """Check the location's form; shows why it is unusable and returns None then."""
        if not self.is_dirty():
            self.error.clear_message()
            return None
        try:
            choice = preferences.check_database_location(self.location())
        except preferences.DatabaseLocationError as err:
            text = QCoreApplication.translate("Preferences", err.message).format(**err.params)
            self.error.show_message(text)
            return None
        self.error.clear_message()
        return choice

    def browse(self) -> None:
        """Choose an SQLite file (an existing one, or the name of a new one)."""
        start = self.file_edit.text().strip()
        path, _filter = QFileDialog.getSaveFileName(
            self,
            self.tr("Choose the database file"),
            start,
            self.tr("SQLite databases (*.sqlite3 *.sqlite *.db);;All files (*)"),
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if path:
            self.file_edit.setText(path)
            self.file_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def apply(self) -> bool:
        if not self.is_dirty():
            return True
        choice = self.validate()
        if choice is None:
            (self.file_edit if self.file_radio.isChecked() else self.url_edit).setFocus()
            return False
        preferences.set_saved_database(choice.value)
        self._initial = self.location()
        self.current_value.setText(choice.display)
        log.info("database for the next start: %s", choice.display)
        self.dialog.database_change_requested.emit(choice.value)
        return True

    def retranslateUi(self) -> None:
        self.heading.setText(self.tr("Database"))
        self.current_caption.setText(self.tr("In use now:"))
        self.file_radio.setText(self.tr("SQLite &file:"))
        self.server_radio.setText(self.tr("Database &server URL:"))
        self.browse_button.setText(self.tr("&Browse…"))
        self.hint.setText(
            self.tr(
                "A file that does not exist yet is created as a new, empty database. "
                "The application opens the chosen database when you press OK or Apply, "
                "and again at every start."
            )
        )
        self.validate()


# --------------------------------------------------------------------------- mail server


class SmtpPage(SettingsPage):
    def __init__(self, dialog: SettingsDialog) -> None:
        from billing_desktop.services.smtp import SmtpSecurity, load_smtp_settings

        super().__init__(dialog)
        self.setObjectName("smtpPage")
        self._may_change = _allowed(self.ctx, Action.SEND_EMAILS)
        self.heading = _heading(self)
        self.host_edit = QLineEdit(self)
        self.host_edit.setObjectName("smtpHost")
        self.host_edit.setPlaceholderText("smtp.example.com")
        self.port_spin = QSpinBox(self)
        self.port_spin.setObjectName("smtpPort")
        self.port_spin.setRange(1, 65535)
        self.port_spin.setGroupSeparatorShown(False)
        self.security_combo = QComboBox(self)
        self.security_combo.setObjectName("smtpSecurity")
        for security in SmtpSecurity:
            self.security_combo.addItem("", security.value)
        self.user_edit = QLineEdit(self)
        self.user_edit.setObjectName("smtpUser")
        self.password_edit = QLineEdit(self)
        self.password_edit.setObjectName("smtpPassword")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.from_edit = QLineEdit(self)
        self.from_edit.setObjectName("smtpFrom")
        self.from_edit.setPlaceholderText("billing@example.com")
        self.timeout_spin = QSpinBox(self)
        self.timeout_spin.setObjectName("smtpTimeout")
        self.timeout_spin.setRange(1, 600)
        for spin in (self.port_spin, self.timeout_spin):
            spin.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
            spin.setMinimumWidth(spin.fontMetrics().horizontalAdvance("65535 s") + 48)
        self.security_combo.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.security_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.errors: dict[str, MessageLabel] = {}
        self.labels: dict[str, QLabel] = {}
        fields: list[tuple[str, QWidget]] = [
            ("host", self.host_edit),
            ("port", self.port_spin),
            ("security", self.security_combo),
            ("username", self.user_edit),
            ("password", self.password_edit),
            ("from_address", self.from_edit),
            ("timeout", self.timeout_spin),
        ]
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for name, widget in fields:
            label = QLabel(self)
            label.setBuddy(widget)
            self.labels[name] = label
            error = MessageLabel(self)
            error.setObjectName(f"smtpError_{name}")
            self.errors[name] = error
            column = QVBoxLayout()
            column.setSpacing(2)
            column.addWidget(widget)
            column.addWidget(error)
            form.addRow(label, column)
        self.note = _hint(self)
        self.note.setObjectName("smtpNote")

        # -- the test
        self.test_box = QGroupBox(self)
        self.test_label = QLabel(self.test_box)
        self.test_address = QLineEdit(self.test_box)
        self.test_address.setObjectName("smtpTestAddress")
        self.test_address.setPlaceholderText("you@example.com")
        self.test_label.setBuddy(self.test_address)
        self.test_button = QPushButton(self.test_box)
        self.test_button.setObjectName("smtpTestButton")
        self.test_result = MessageLabel(self.test_box)
        self.test_result.setObjectName("smtpTestResult")
        self.errors["test_address"] = self.test_result
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_label)
        test_row.addWidget(self.test_address, 1)
        test_row.addWidget(self.test_button)
        test_layout = QVBoxLayout(self.test_box)
        test_layout.addLayout(test_row)
        test_layout.addWidget(self.test_result)

        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(self.test_box)
        layout.addStretch(1)

        self._loaded = load_smtp_settings(self.ctx)
        self._show_settings(self._loaded)
        # the operator's own mailbox; the automatic "<login>@localhost" is no mailbox
        own = self.ctx.operator.email
        self.test_address.setText(
            own if not own.lower().endswith("@localhost") else self._loaded.from_address
        )
        self._test_task: Any = None
        for widget in (self.host_edit, self.user_edit, self.password_edit, self.from_edit):
            widget.textChanged.connect(self._on_changed)
        self.port_spin.valueChanged.connect(self._on_changed)
        self.timeout_spin.valueChanged.connect(self._on_changed)
        self.security_combo.currentIndexChanged.connect(self._on_security)
        self.test_button.clicked.connect(self.send_test)
        self.test_address.returnPressed.connect(self.send_test)
        for _name, widget in fields:
            widget.setEnabled(self._may_change)
        self.test_box.setEnabled(self._may_change)
        self.note.setVisible(not self._may_change)
        self.retranslateUi()

    def title(self) -> str:
        return self.tr("Mail server")

    def _show_settings(self, settings: SmtpSettings) -> None:
        self.host_edit.setText(settings.host)
        self.port_spin.setValue(settings.port)
        self.security_combo.setCurrentIndex(
            max(0, self.security_combo.findData(settings.security.value))
        )
        self.user_edit.setText(settings.username)
        self.password_edit.setText(settings.password)
        self.from_edit.setText(settings.from_address)
        self.timeout_spin.setValue(settings.timeout)

    def settings(self) -> SmtpSettings:
        """The settings the fields describe (not checked yet)."""
        from billing_desktop.services.smtp import SmtpSecurity, SmtpSettings

        return SmtpSettings(
            host=self.host_edit.text().strip(),
            port=self.port_spin.value(),
            security=SmtpSecurity(self.security_combo.currentData()),
            username=self.user_edit.text().strip(),
            password=self.password_edit.text(),
            from_address=self.from_edit.text().strip(),
            timeout=self.timeout_spin.value(),
        )

    def is_dirty(self) -> bool:
        return self._may_change and self.settings() != self._loaded

    def _on_changed(self) -> None:
        for error in self.errors.values():
            if error is not self.test_result:
                error.clear_message()
        self.changed.emit()

    def _on_security(self) -> None:
        security = str(self.security_combo.currentData())
        if self.port_spin.value() in DEFAULT_PORTS.values():
            self.port_spin.setValue(DEFAULT_PORTS[security])
        self._on_changed()

    def _show_field_error(self, err: DomainError) -> None:
        field = SMTP_ERROR_FIELDS.get(err.code)
        label = self.errors.get(field or "")
        if label is None:
            show_service_error(self, err)
            return
        label.show_message(error_text(err))
        widget = {
            "host": self.host_edit,
            "port": self.port_spin,
            "security": self.security_combo,
            "username": self.user_edit,
            "from_address": self.from_edit,
            "timeout": self.timeout_spin,
            "test_address": self.test_address,
        }.get(field or "")
        if widget is not None:
            widget.setFocus(Qt.FocusReason.OtherFocusReason)

    def apply(self) -> bool:
        from billing_desktop.services.smtp import save_smtp_settings

        if not self.is_dirty():
            return True
        try:
            saved = save_smtp_settings(self.ctx, self.settings())
        except ValidationError as err:
            self._show_field_error(err)
            return False
        except DomainError as err:
            show_service_error(self, err)
            return False
        self._loaded = saved
        self._show_settings(saved)
        return True

    # -- the test email ------------------------------------------------------

    @property
    def test_task(self) -> Any:
        """The test being sent (a ``BackgroundTask``), None when idle; tests wait on it."""
        return self._test_task

    def send_test(self) -> None:
        """Send one email with the values on screen (saved or not), in a worker."""
        from billing_desktop.services.smtp_check import send_test_email
        from billing_desktop.ui.workers import run_in_background

        if self._test_task is not None:
            return
        settings = self.settings()
        address = self.test_address.text().strip()
        ctx = self.ctx
        subject = self.tr("Billing Desktop test email")
        body = self.tr(
            "This is a test email from Billing Desktop.\n\n"
            "It arrived, so the mail server settings work: emails to customers will be "
            "sent through {server}."
        ).format(server=f"{settings.host}:{settings.port}")
        self.test_result.show_message(self.tr("Sending the test email…"), "info")
        self.test_button.setEnabled(False)
        self._test_task = run_in_background(
            self,
            lambda _progress: send_test_email(ctx, settings, address, subject=subject, body=body),
            title=self.tr("Test email"),
            label=self.tr("Sending a test email to {address}…").format(address=address),
            on_result=lambda _none: self.test_result.show_message(
                self.tr("The test email was sent to {address}. Check that it arrived.").format(
                    address=address
                ),
                "success",
            ),
            on_error=self._on_test_error,
            on_cancel=lambda: self.test_result.show_message(
                self.tr("The test was cancelled."), "info"
            ),
        )
        self._test_task.done.connect(self._on_test_done)

    def _on_test_error(self, err: BaseException) -> None:
        if isinstance(err, ValidationError):
            self._show_field_error(err)
            if SMTP_ERROR_FIELDS.get(err.code) != "test_address":
                self.test_result.show_message(
                    self.tr("Correct the settings above, then send the test again.")
                )
        elif isinstance(err, DomainError):
            self.test_result.show_message(error_text(err))
        else:
            log.error("test email failed", exc_info=err)
            self.test_result.show_message(str(err))

    def _on_test_done(self) -> None:
        task, self._test_task = self._test_task, None
        if task is not None:
            task.deleteLater()
        self.test_button.setEnabled(self._may_change)

    def retranslateUi(self) -> None:
        self.heading.setText(self.tr("Mail server (SMTP)"))
        texts = {
            "host": self.tr("Ser&ver:"),
            "port": self.tr("&Port:"),
            "security": self.tr("Se&curity:"),
            "username": self.tr("&User name:"),
            "password": self.tr("Pass&word:"),
            "from_address": self.tr("Sender &address:"),
            "timeout": self.tr("&Timeout:"),
        }
        for name, text in texts.items():
            self.labels[name].setText(text)
        for index in range(self.security_combo.count()):
            value = str(self.security_combo.itemData(index))
            self.security_combo.setItemText(index, _tr(SECURITY_WORDS[value]))
        self.timeout_spin.setSuffix(self.tr(" s", "seconds"))
        self.host_edit.setToolTip(self.tr("Leave empty to keep emails in the outbox, unsent."))
        self.user_edit.setPlaceholderText(self.tr("empty if the server needs no login"))
        self.note.setText(
            self.tr("Your role cannot change the mail server; ask an administrator.")
        )
        self.test_box.setTitle(self.tr("Test"))
        self.test_label.setText(self.tr("Send t&o:"))
        self.test_button.setText(self.tr("Send t&est email"))
        self.test_button.setToolTip(
            self.tr("Send one email with the settings above, saved or not")
        )


# --------------------------------------------------------------------------- theme


class ThemePage(SettingsPage):
    def __init__(self, dialog: SettingsDialog) -> None:
        super().__init__(dialog)
        self.setObjectName("themePage")
        self.heading = _heading(self)
        self.group = QButtonGroup(self)
        self.radios: dict[str, QRadioButton] = {}
        self.hints: dict[str, QLabel] = {}
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        for name in preferences.THEMES:
            radio = QRadioButton(self)
            radio.setObjectName(f"theme_{name}")
            self.group.addButton(radio)
            self.radios[name] = radio
            hint = _hint(self)
            hint.setContentsMargins(24, 0, 0, 6)
            self.hints[name] = hint
            layout.addWidget(radio)
            layout.addWidget(hint)
        layout.addStretch(1)
        self._applied = preferences.saved_theme()
        self.radios[self._applied].setChecked(True)
        self.group.buttonToggled.connect(lambda *_args: self.changed.emit())
        self.retranslateUi()

    def title(self) -> str:
        return self.tr("Theme")

    def selected(self) -> str:
        return next((n for n, r in self.radios.items() if r.isChecked()), "system")

    def is_dirty(self) -> bool:
        return self.selected() != self._applied

    def apply(self) -> bool:
        name = self.selected()
        if name == self._applied:
            return True
        app = QApplication.instance()
        apply_theme(app, name)  # type: ignore[arg-type]
        preferences.set_saved_theme(name)
        self._applied = name
        self.dialog.theme_changed.emit(name)
        return True

    def retranslateUi(self) -> None:
        self.heading.setText(self.tr("Theme"))
        for name, radio in self.radios.items():
            radio.setText(_tr(THEME_WORDS[name]))
            self.hints[name].setText(_tr(THEME_HINTS[name]))


# --------------------------------------------------------------------------- operator


class OperatorPage(SettingsPage):
    def __init__(self, dialog: SettingsDialog) -> None:
        super().__init__(dialog)
        self.setObjectName("operatorPage")
        self.heading = _heading(self)
        self.name_label = QLabel(self)
        self.name_edit = QLineEdit(self)
        self.name_edit.setObjectName("operatorName")
        self.name_edit.setMaxLength(200)
        self.email_label = QLabel(self)
        self.email_edit = QLineEdit(self)
        self.email_edit.setObjectName("operatorEmail")
        self.email_edit.setMaxLength(254)
        self.role_label = QLabel(self)
        self.role_value = QLabel(self)
        self.name_label.setBuddy(self.name_edit)
        self.email_label.setBuddy(self.email_edit)
        self.name_error = MessageLabel(self)
        self.name_error.setObjectName("operatorNameError")
        self.email_error = MessageLabel(self)
        self.email_error.setObjectName("operatorEmailError")
        self.error = MessageLabel(self)
        self.error.setObjectName("operatorError")
        self.hint = _hint(self)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for label, edit, error in (
            (self.name_label, self.name_edit, self.name_error),
            (self.email_label, self.email_edit, self.email_error),
        ):
            column = QVBoxLayout()
            column.setSpacing(2)
            column.addWidget(edit)
            column.addWidget(error)
            form.addRow(label, column)
        form.addRow(self.role_label, self.role_value)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.hint)
        layout.addStretch(1)

        self._identity: OperatorIdentity | None = None
        self.load()
        self.name_edit.textChanged.connect(self._on_changed)
        self.email_edit.textChanged.connect(self._on_changed)
        self.retranslateUi()

    def title(self) -> str:
        return self.tr("Operator")

    def load(self) -> None:
        from billing_desktop.services.operators import operator_identity

        try:
            self._identity = operator_identity(self.ctx)
        except DomainError as err:
            self.error.show_message(error_text(err))
            self._identity = None
            self.setEnabled(False)
            return
        self.name_edit.setText(self._identity.name)
        self.email_edit.setText(self._identity.email)

    def is_dirty(self) -> bool:
        identity = self._identity
        if identity is None:
            return False
        return (self.name_edit.text(), self.email_edit.text()) != (identity.name, identity.email)

    def _on_changed(self) -> None:
        for label in (self.name_error, self.email_error, self.error):
            label.clear_message()
        self.changed.emit()

    def apply(self) -> bool:
        from billing_desktop.services.operators import (
            operator_identity,
            update_operator_identity,
        )

        if not self.is_dirty() or self._identity is None:
            return True
        try:
            info = update_operator_identity(
                self.ctx,
                self.name_edit.text(),
                self.email_edit.text(),
                expected_version=self._identity.version,
            )
        except ValidationError as err:
            field = err.params.get("field")
            label, edit = (
                (self.email_error, self.email_edit)
                if field == "email"
                else (self.name_error, self.name_edit)
            )
            label.show_message(error_text(err))
            edit.setFocus(Qt.FocusReason.OtherFocusReason)
            return False
        except ConflictError as err:
            # the input stays; the message says to reload (reopen the dialog)
            self.error.show_message(error_text(err))
            return False
        except DomainError as err:
            show_service_error(self, err)
            return False
        self.dialog.set_operator(info)
        self._identity = operator_identity(self.ctx)
        self.name_edit.setText(info.name)
        self.email_edit.setText(info.email)
        return True

    def retranslateUi(self) -> None:
        from billing_desktop.ui.main_window import role_word

        self.heading.setText(self.tr("Operator"))
        self.name_label.setText(self.tr("Your &name:"))
        self.email_label.setText(self.tr("Your &email:"))
        self.role_label.setText(self.tr("Role:"))
        self.role_value.setText(role_word(self.ctx.operator.role))
        self.hint.setText(
            self.tr(
                "Shown in the status bar and recorded with every change you make in this "
                "database."
            )
        )


def _allowed(ctx: AppContext, action: Action) -> bool:
    try:
        authorize(ctx, action)
    except PermissionDenied:
        return False
    return True


# --------------------------------------------------------------------------- the dialog


class SettingsDialog(QDialog):
    """Settings of the application and of the open database; see the module docstring."""

    #: The user chose another database (a file path or a URL); switch to it now.
    database_change_requested = Signal(str)
    #: The language was applied ("it"; "" for the system's language).
    language_changed = Signal(str)
    #: The theme was applied ("system", "light", "dark").
    theme_changed = Signal(str)
    #: The operator's name or email changed; carries the new ``OperatorInfo``.
    operator_changed = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.ctx = ctx

        self.page_list = QListWidget(self)
        self.page_list.setObjectName("settingsPages")
        self.page_list.setSpacing(2)
        self.stack = QStackedWidget(self)
        self.stack.setObjectName("settingsStack")
        self.language_page = LanguagePage(self)
        self.database_page = DatabasePage(self)
        self.smtp_page = SmtpPage(self)
        self.theme_page = ThemePage(self)
        self.operator_page = OperatorPage(self)
        self.pages: list[SettingsPage] = [
            self.language_page,
            self.database_page,
            self.smtp_page,
            self.theme_page,
            self.operator_page,
        ]
        for page in self.pages:
            self.stack.addWidget(page)
            self.page_list.addItem(QListWidgetItem())
            page.changed.connect(self._update_buttons)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.Apply,
            self,
        )
        self.buttons.setObjectName("settingsButtons")
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.apply_button = self.buttons.button(QDialogButtonBox.StandardButton.Apply)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.buttons.clicked.connect(self._on_button)

        body = QHBoxLayout()
        body.addWidget(self.page_list)
        body.addWidget(self.stack, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(self.buttons)

        self.page_list.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.page_list.setCurrentRow(0)
        self._next_page = QShortcut(QKeySequence(QKeySequence.StandardKey.NextChild), self)
        self._next_page.activated.connect(lambda: self._step_page(1))
        self._previous_page = QShortcut(QKeySequence(QKeySequence.StandardKey.PreviousChild), self)
        self._previous_page.activated.connect(lambda: self._step_page(-1))
        self._next_page_alt = QShortcut(QKeySequence("Ctrl+PgDown"), self)
        self._next_page_alt.activated.connect(lambda: self._step_page(1))
        self._previous_page_alt = QShortcut(QKeySequence("Ctrl+PgUp"), self)
        self._previous_page_alt.activated.connect(lambda: self._step_page(-1))

        self.retranslateUi()
        self._update_buttons()
        self.resize(720, 500)

    # -- pages ---------------------------------------------------------------

    def show_page(self, page: SettingsPage) -> None:
        self.page_list.setCurrentRow(self.pages.index(page))

    def _step_page(self, step: int) -> None:
        row = (self.page_list.currentRow() + step) % len(self.pages)
        self.page_list.setCurrentRow(row)

    def current_page(self) -> SettingsPage:
        return self.pages[self.stack.currentIndex()]

    def is_dirty(self) -> bool:
        return any(page.is_dirty() for page in self.pages)

    def _update_buttons(self) -> None:
        self.apply_button.setEnabled(self.is_dirty())

    def set_operator(self, info: OperatorInfo) -> None:
        """The operator's identity changed: later calls use it, and the window is told."""
        self.ctx = dataclasses.replace(self.ctx, operator=info)
        self.operator_changed.emit(info)

    # -- applying ------------------------------------------------------------

    def apply(self) -> bool:
        """Apply every page's changes, the database last (switching replaces the window).

        Stops at the first page that refuses, shows it, and returns False.
        """
        order = [p for p in self.pages if p is not self.database_page] + [self.database_page]
        for page in order:
            if page.is_dirty() and not page.apply():
                self.show_page(page)
                self._update_buttons()
                return False
        self._update_buttons()
        return True

    def _on_button(self, button: QAbstractButton) -> None:
        if button is self.apply_button:
            self.apply()

    def accept(self) -> None:
        if self.apply():
            super().accept()

    # -- translation ---------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.LanguageChange, QEvent.Type.LocaleChange):
            self.retranslateUi()
        super().changeEvent(event)

    def retranslateUi(self) -> None:
        self.setWindowTitle(self.tr("Settings"))
        for row, page in enumerate(self.pages):
            self.page_list.item(row).setText(page.title())
        fm = self.page_list.fontMetrics()
        widest = max(fm.horizontalAdvance(p.title()) for p in self.pages)
        self.page_list.setFixedWidth(max(140, widest + 40))
        self.page_list.setAccessibleName(self.tr("Settings pages"))
