"""The sign-in dialog of a shared database (issue 8 item 2; SPEC §6).

Shown before the main window when the database is not the embedded SQLite
file (which keeps its automatic local operator): the operator's email and
password, **Sign In** and **Quit** (**Cancel** when it has a parent window).
:func:`ask_operator` is what the application calls; it returns the signed-in
operator, or None when the user quit.

The check runs in the thread pool (:mod:`billing_desktop.services.signin`
hashes the password and waits a moment after every refusal): the dialog
stays responsive and says "Signing in…" meanwhile. A refusal is shown in the
dialog itself, in the user's language, and the password field is cleared for
another attempt.

A brand-new shared database has no operator who can sign in
(:func:`~billing_desktop.services.signin.needs_first_admin`): the dialog then
asks for the first administrator's name, email and password (twice) and
creates them with **Create Administrator**.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QObject,
    QRunnable,
    QSettings,
    Qt,
    QThreadPool,
    Signal,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from billing_desktop.domain.errors import DomainError
from billing_desktop.ui.errors import error_text

if TYPE_CHECKING:
    from billing_desktop.services.context import OperatorInfo
    from billing_desktop.store.database import Database

__all__ = ["SignInDialog", "ask_operator"]

log = logging.getLogger("billing_desktop.ui")

#: QSettings key: the email of the last operator who signed in on this computer
LAST_EMAIL_KEY = "signin/last_email"


def grow_to_fit(dialog: QWidget) -> None:
    """Make ``dialog`` tall enough for its wrapped texts after one of them changed."""
    layout = dialog.layout()
    layout.activate()
    width = dialog.width()
    wanted = (
        layout.heightForWidth(width) if layout.hasHeightForWidth() else layout.sizeHint().height()
    )
    if wanted > dialog.height():
        dialog.resize(width, wanted)


def show_refusal(dialog: QWidget, message: QLabel, text: str, field: QWidget | None) -> None:
    """Say in ``message`` (warning colour) why ``dialog`` refused, make room for the text,
    and put the focus on ``field`` (when given), the one to correct."""
    from billing_desktop.ui.theme import warning_color

    message.setStyleSheet(f"color: {warning_color(dialog.palette()).name()};")
    message.setText(text)
    message.show()
    grow_to_fit(dialog)
    if field is not None:
        field.setFocus(Qt.FocusReason.OtherFocusReason)


class _Outcome(QObject):
    """Carries the worker's result to the GUI thread (a queued signal)."""

    finished = Signal(object, object)  # result, exception


class _Check(QRunnable):
    """Runs one sign-in (or first-administrator) call in the thread pool."""

    def __init__(self, outcome: _Outcome, fn: Callable[[], Any]) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._outcome = outcome
        self._fn = fn

    def run(self) -> None:
        result: Any = None
        error: BaseException | None = None
        try:
            result = self._fn()
        except BaseException as err:  # shown (or re-raised) on the GUI thread
            error = err
        try:
            self._outcome.finished.emit(result, error)
        except RuntimeError:  # the dialog was closed meanwhile: nobody is listening
            log.debug("sign-in result dropped: the dialog is gone")


class SignInDialog(QDialog):
    """Email and password; or, on a brand-new shared database, the first administrator."""

    #: the operator signed in (carries the ``OperatorInfo``), just before the dialog accepts
    signed_in = Signal(object)

    def __init__(
        self,
        db: Database,
        parent: QWidget | None = None,
        *,
        first_admin: bool | None = None,
        now: Callable[[], datetime] | None = None,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("signInDialog")
        self._db = db
        #: the machine's time (whole seconds, as the services' system clock)
        self._now = now or (lambda: datetime.now().replace(microsecond=0))
        self._sleep = sleep
        if first_admin is None:
            from billing_desktop.services.signin import needs_first_admin

            first_admin = needs_first_admin(db)
        self.first_admin = first_admin
        #: the signed-in operator once the dialog accepted
        self.operator: OperatorInfo | None = None
        self._error: DomainError | None = None
        self._busy = False

        self.heading = QLabel(self)
        self.heading.setObjectName("signInHeading")
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.heading.setFont(font)
        self.intro = QLabel(self)
        self.intro.setObjectName("signInIntro")
        self.intro.setWordWrap(True)
        self.database_label = QLabel(self)
        self.database_label.setObjectName("signInDatabase")
        self.database_label.setWordWrap(True)
        self.database_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.database_label.setStyleSheet("color: palette(dark);")

        self.name_edit = QLineEdit(self)
        self.name_edit.setObjectName("nameEdit")
        self.email_edit = QLineEdit(self)
        self.email_edit.setObjectName("emailEdit")
        self.email_edit.setInputMethodHints(Qt.InputMethodHint.ImhEmailCharactersOnly)
        self.password_edit = QLineEdit(self)
        self.password_edit.setObjectName("passwordEdit")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.confirm_edit = QLineEdit(self)
        self.confirm_edit.setObjectName("confirmEdit")
        self.confirm_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.hint = QLabel(self)
        self.hint.setObjectName("passwordHint")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: palette(dark);")

        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._labels: dict[str, QLabel] = {}
        rows = ("name", "email", "password", "confirm") if first_admin else ("email", "password")
        for key in rows:
            label = QLabel(self)
            self._labels[key] = label
            field = getattr(self, f"{key}_edit")
            label.setBuddy(field)
            self.form.addRow(label, field)
        if not first_admin:
            for unused in (self.name_edit, self.confirm_edit, self.hint):
                unused.hide()

        self.message = QLabel(self)
        self.message.setObjectName("signInMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()

        self.buttons = QDialogButtonBox(self)
        self.ok_button = QPushButton(self)
        self.ok_button.setObjectName("signInButton")
        self.ok_button.setDefault(True)
        self.ok_button.setAutoDefault(True)
        self.cancel_button = QPushButton(self)
        self.cancel_button.setObjectName("quitButton")
        self.buttons.addButton(self.ok_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        layout.addWidget(self.heading)
        layout.addWidget(self.intro)
        layout.addWidget(self.database_label)
        layout.addSpacing(4)
        layout.addLayout(self.form)
        layout.addWidget(self.hint)
        layout.addWidget(self.message)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

        self._outcome = _Outcome(self)
        self._outcome.finished.connect(self._finished)

        if not first_admin:
            last = QSettings().value(LAST_EMAIL_KEY, "")
            if isinstance(last, str) and last:
                self.email_edit.setText(last)
        self.retranslateUi()
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 72)
        focus = self.name_edit if first_admin else (
            self.password_edit if self.email_edit.text() else self.email_edit
        )  # fmt: skip
        focus.setFocus(Qt.FocusReason.OtherFocusReason)

    # -- state -----------------------------------------------------------

    @property
    def busy(self) -> bool:
        """True while a check runs in the background."""
        return self._busy

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        for field in (self.name_edit, self.email_edit, self.password_edit, self.confirm_edit):
            field.setEnabled(not busy)
        self.ok_button.setEnabled(not busy)
        if busy:
            self._show(None, self.tr("Creating the administrator…") if self.first_admin
                       else self.tr("Signing in…"))  # fmt: skip

    def _show(self, error: DomainError | None, text: str = "") -> None:
        """Show ``error`` (translated; red) or a plain status ``text``; nothing when both empty."""
        self._error = error
        if error is not None:
            text = error_text(error)
            from billing_desktop.ui.theme import warning_color

            self.message.setStyleSheet(f"color: {warning_color(self.palette()).name()};")
        else:
            self.message.setStyleSheet("")
        self.message.setText(text)
        self.message.setVisible(bool(text))
        if text:
            grow_to_fit(self)

    # -- actions ---------------------------------------------------------

    def submit(self) -> None:
        """Sign In (or Create Administrator): check the input, then run the check in the pool."""
        if self._busy:
            return
        email, password = self.email_edit.text(), self.password_edit.text()
        if self.first_admin:
            name = self.name_edit.text()
            empty = self._first_empty((self.name_edit, name), (self.email_edit, email),
                                      (self.password_edit, password))  # fmt: skip
            if empty is not None:
                self._refuse(self.tr("Enter your name, email address and a password."), empty)
                return
            if password != self.confirm_edit.text():
                self.confirm_edit.clear()
                text = self.tr("The two passwords are not the same; type it again.")
                self._refuse(text, self.confirm_edit)
                return
            from billing_desktop.services.signin import create_first_admin

            db, now = self._db, self._now()

            def work() -> OperatorInfo:
                return create_first_admin(db, email, name, password, now=now)
        else:
            empty = self._first_empty((self.email_edit, email), (self.password_edit, password))
            if empty is not None:
                self._refuse(self.tr("Enter your email address and password."), empty)
                return
            from billing_desktop.services.signin import sign_in

            db, now, sleep = self._db, self._now(), self._sleep

            def work() -> OperatorInfo:
                return sign_in(db, email, password, now=now, sleep=sleep)

        self._set_busy(True)
        QThreadPool.globalInstance().start(_Check(self._outcome, work))

    @staticmethod
    def _first_empty(*fields: tuple[QLineEdit, str]) -> QLineEdit | None:
        return next((edit for edit, value in fields if not value.strip()), None)

    def _refuse(self, text: str, focus: QLineEdit) -> None:
        self._show(None, "")
        show_refusal(self, self.message, text, focus)

    def _finished(self, result: object, error: object) -> None:
        self._set_busy(False)
        if error is None:
            self.operator = result  # type: ignore[assignment]
            self._show(None, "")
            QSettings().setValue(LAST_EMAIL_KEY, self.operator.email)  # type: ignore[union-attr]
            self.signed_in.emit(result)
            self.accept()
            return
        if isinstance(error, DomainError):
            self._show(error)
            field = error.params.get("field")
            if field in ("name", "email") and self.first_admin:
                getattr(self, f"{field}_edit").setFocus(Qt.FocusReason.OtherFocusReason)
                return
            self.password_edit.clear()
            self.confirm_edit.clear()
            self.password_edit.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        from billing_desktop.store.errors import DatabaseError

        if isinstance(error, DatabaseError):  # the server went away, a newer schema…
            text = QCoreApplication.translate("DatabaseError", error.message)
            self._refuse(text.format(**error.params), self.password_edit)
            return
        from sqlalchemy.exc import DBAPIError

        if isinstance(error, DBAPIError):
            log.error("sign-in: the database failed: %s", error)
            self._refuse(
                self.tr(
                    "The database server did not answer. Check the network connection and "
                    "try again."
                ),
                self.password_edit,
            )
            return
        raise error  # type: ignore[misc]  # a bug: the crash handler shows and logs it

    # -- language --------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslateUi()
        super().changeEvent(event)

    def retranslateUi(self) -> None:
        from billing_desktop.services.signin import MIN_PASSWORD_LENGTH

        self.setWindowTitle(self.tr("Sign In — Billing Desktop"))
        if self.first_admin:
            self.heading.setText(self.tr("Set up the first administrator"))
            self.intro.setText(
                self.tr(
                    "Nobody can sign in to this shared database yet. Create the first "
                    "administrator: you sign in with this email address and password, and "
                    "can then add the other operators."
                )
            )
            self.ok_button.setText(self.tr("Create &Administrator"))
        else:
            self.heading.setText(self.tr("Sign in"))
            self.intro.setText(
                self.tr("This database is shared by a team. Sign in with your operator account.")
            )
            self.ok_button.setText(self.tr("&Sign In"))
        self.database_label.setText(
            self.tr("Database: {name}").format(name=self._db.target.display_name())
        )
        words = {
            "name": self.tr("&Name:"),
            "email": self.tr("&Email address:"),
            "password": self.tr("&Password:"),
            "confirm": self.tr("&Repeat password:"),
        }
        for key, label in self._labels.items():
            label.setText(words[key])
        self.hint.setText(
            self.tr(
                "At least {count} characters, not your email address. A few unrelated words "
                "make a good password that is easy to remember."
            ).format(count=MIN_PASSWORD_LENGTH)
        )
        self.cancel_button.setText(self.tr("&Quit") if self.parent() is None else self.tr("Cancel"))
        if self._error is not None:
            self._show(self._error)
        elif self._busy:
            self._set_busy(True)


def ask_operator(db: Database, parent: QWidget | None = None) -> OperatorInfo | None:
    """Ask who is signing in to ``db`` (a shared database); None when the user quit.

    Modal; on a brand-new database it sets up the first administrator instead.
    """
    dialog = SignInDialog(db, parent)
    try:
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.operator
    finally:
        dialog.deleteLater()
