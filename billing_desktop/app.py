"""QApplication bootstrap: logging, crash dialog, translations, database, main window.

``run_gui`` is what ``billing-desktop`` (``__main__``) calls. The order matters:
logging and the crash handler come first so nothing that goes wrong later is
lost; translations come before the first message box; the database is opened
(checked, migrated) before any window exists, and a database that cannot be
used ends in one clear, translated message instead of a traceback.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from datetime import date
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType
from typing import Any

from PySide6.QtCore import (
    QCoreApplication,
    QMessageLogContext,
    QObject,
    Qt,
    QtMsgType,
    qInstallMessageHandler,
)
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from billing_desktop import __version__, i18n
from billing_desktop.config import APP_NAME, ORG_NAME, DatabaseTarget, demo_target
from billing_desktop.store.database import Database, open_database
from billing_desktop.store.errors import DatabaseError

__all__ = [
    "GuiSession",
    "database_error_text",
    "install_excepthook",
    "install_qt_message_handler",
    "run_gui",
    "setup_logging",
]

log = logging.getLogger("billing_desktop.app")
qt_log = logging.getLogger("billing_desktop.qt")

LOG_FILE_NAME = "billing-desktop.log"
LOG_LEVEL_ENV = "BILLING_DESKTOP_LOG_LEVEL"
_HANDLER_MARK = "_billing_desktop_handler"


# -- logging -----------------------------------------------------------------


def log_dir() -> Path:
    """The per-user log directory (platformdirs)."""
    from platformdirs import user_log_dir

    return Path(user_log_dir(APP_NAME, appauthor=False))


def setup_logging(level: int | None = None) -> Path | None:
    """Log ``billing_desktop.*`` to a rotating file (and warnings to stderr).

    Returns the log file, or None when the log directory cannot be written (the
    application still runs; logging then only goes to stderr). Calling it again
    does not add handlers twice.
    """
    if level is None:
        level = logging.getLevelName(os.environ.get(LOG_LEVEL_ENV, "INFO").upper())
        if not isinstance(level, int):
            level = logging.INFO
    logger = logging.getLogger("billing_desktop")
    logger.setLevel(level)
    for handler in logger.handlers:
        if getattr(handler, _HANDLER_MARK, False) and isinstance(handler, RotatingFileHandler):
            return Path(handler.baseFilename)
    formatter = logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.WARNING)
    console.setFormatter(formatter)
    setattr(console, _HANDLER_MARK, True)
    logger.addHandler(console)
    try:
        directory = log_dir()
        directory.mkdir(parents=True, exist_ok=True)
        file_handler = RotatingFileHandler(
            directory / LOG_FILE_NAME, maxBytes=1_000_000, backupCount=5, encoding="utf-8"
        )
    except OSError as exc:
        logger.warning("cannot write the log file: %s", exc)
        return None
    file_handler.setFormatter(formatter)
    setattr(file_handler, _HANDLER_MARK, True)
    logger.addHandler(file_handler)
    logger.info("Billing Desktop %s starting", __version__)
    return Path(file_handler.baseFilename)


_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def _qt_message_handler(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
    category = context.category if context is not None else None
    prefix = f"[{category}] " if category and category != "default" else ""
    qt_log.log(_QT_LEVELS.get(mode, logging.WARNING), "%s%s", prefix, message)


def install_qt_message_handler() -> Any:
    """Route Qt's own messages into the ``billing_desktop.qt`` logger; returns the old handler."""
    return qInstallMessageHandler(_qt_message_handler)


# -- crashes -----------------------------------------------------------------


class CrashHandler:
    """``sys.excepthook``: log the traceback and show it in a dialog; keep running.

    An exception in a slot must not end the application silently or leave the
    user wondering; the dialog says what happened and where the log is, and
    offers to quit.
    """

    def __init__(self, log_file: Path | None) -> None:
        self.log_file = log_file
        self._showing = False

    def __call__(
        self,
        exc_type: type[BaseException],
        exc: BaseException,
        tb: TracebackType | None,
    ) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            QCoreApplication.exit(130)
            return
        log.critical("unexpected error", exc_info=(exc_type, exc, tb))
        if self._showing or QApplication.instance() is None:
            return
        self._showing = True
        try:
            self._show(exc_type, exc, tb)
        finally:
            self._showing = False

    def _show(
        self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        tr = QCoreApplication.translate
        box = QMessageBox(QApplication.activeWindow())
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle(tr("CrashDialog", "Unexpected error"))
        box.setText(tr("CrashDialog", "Billing Desktop ran into an unexpected error."))
        if self.log_file is not None:
            info = tr(
                "CrashDialog",
                "The details were written to {path}. Nothing was saved halfway: every change "
                "is all or nothing. You can keep working, or quit and start again.",
            ).format(path=self.log_file)
        else:
            info = tr(
                "CrashDialog",
                "Nothing was saved halfway: every change is all or nothing. "
                "You can keep working, or quit and start again.",
            )
        box.setInformativeText(info)
        box.setDetailedText("".join(traceback.format_exception(exc_type, exc, tb)))
        box.setStandardButtons(QMessageBox.StandardButton.Close)
        quit_button = box.addButton(
            tr("CrashDialog", "Quit"), QMessageBox.ButtonRole.DestructiveRole
        )
        box.setDefaultButton(QMessageBox.StandardButton.Close)
        box.exec()
        if box.clickedButton() is quit_button:
            QCoreApplication.exit(1)


def install_excepthook(log_file: Path | None) -> CrashHandler:
    handler = CrashHandler(log_file)
    sys.excepthook = handler
    return handler


# -- database ----------------------------------------------------------------


def database_error_text(err: DatabaseError) -> str:
    """The translated sentence for a database error, placeholders filled in."""
    return QCoreApplication.translate("DatabaseError", err.message).format(**err.params)


def show_error(parent: QWidget | None, text: str) -> None:
    """The one message box for errors the user must read (modal)."""
    QMessageBox.critical(parent, QCoreApplication.translate("App", "Billing Desktop"), text)


class GuiSession(QObject):
    """The open database and the window showing it; switches to the demo database."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db: Database | None = None
        self.window: Any = None  # MainWindow; imported lazily to keep start-up light

    def open(self, target: DatabaseTarget, *, demo: bool = False) -> bool:
        """Open ``target`` (or the demo database) and show a main window on it.

        On a database error, tells the user and returns False.
        """
        db = self._open_database(demo_target() if demo else target, demo=demo)
        if db is None:
            return False
        self._show(db)
        return True

    def open_demo(self) -> bool:
        """Switch to the demo database (filled with the curated accounts when new)."""
        db = self._open_database(demo_target(), demo=True)
        if db is None:
            return False
        self._show(db)
        return True

    def _open_database(self, target: DatabaseTarget, *, demo: bool) -> Database | None:
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            db = open_database(target)
            try:
                if demo and db.is_empty():
                    from billing_desktop.services.demo import load_curated

                    log.info("filling the demo database %s", target.display_name())
                    load_curated(db, date.today())
            except BaseException:
                db.dispose()
                raise
        except DatabaseError as err:
            QApplication.restoreOverrideCursor()
            log.error("cannot open %s: %s", target.display_name(), err)
            show_error(self.window, database_error_text(err))
            return None
        except BaseException:
            QApplication.restoreOverrideCursor()
            raise
        QApplication.restoreOverrideCursor()
        log.info("opened %s", target.display_name())
        return db

    def _show(self, db: Database) -> None:
        from billing_desktop.services.context import open_context
        from billing_desktop.ui.main_window import MainWindow
        from billing_desktop.ui.welcome import welcome_wanted

        ctx = open_context(db)
        old_window, old_db = self.window, self.db
        if old_window is not None:
            old_window.save_settings()
        window = MainWindow(ctx, show_welcome=welcome_wanted(ctx))
        window.demo_requested.connect(self.open_demo)
        self.window, self.db = window, db
        window.show()
        if old_window is not None:
            # The new window is visible first, so closing the old one never
            # looks like "last window closed" and quits.
            old_window.close()
            old_window.deleteLater()
        if old_db is not None and old_db is not db:
            old_db.dispose()

    def close(self) -> None:
        if self.db is not None:
            self.db.dispose()
            self.db = None


def run_gui(target: DatabaseTarget, *, lang: str | None = None, demo: bool = False) -> int:
    """Start the desktop application on ``target`` (or the demo database); returns the exit code."""
    log_file = setup_logging()
    install_qt_message_handler()
    QCoreApplication.setOrganizationName(ORG_NAME)
    QCoreApplication.setApplicationName(APP_NAME)
    QCoreApplication.setApplicationVersion(__version__)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv)
    install_excepthook(log_file)
    locale = i18n.install(app, lang)
    log.info("language %s", locale.name())
    QApplication.setApplicationDisplayName(QCoreApplication.translate("App", "Billing Desktop"))

    session = GuiSession(app)
    if not session.open(target, demo=demo):
        return 1
    try:
        return app.exec()
    finally:
        session.close()
