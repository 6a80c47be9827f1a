"""QApplication bootstrap: logging, crash dialog, translations, database, main window.

``run_gui`` is what ``billing-desktop`` (``__main__``) calls. The order matters:
logging and the crash handler come first so nothing that goes wrong later is
lost; translations come before the first message box; the database is opened
(checked, migrated) before any window exists, and a database that cannot be
used ends in one clear, translated message instead of a traceback. A database
chosen in Settings whose file has vanished is never recreated empty: the user
chooses what to open instead (``ui/missing_database.py``).

Start-up speed: everything the first paint of the accounts list does not need
waits until the window is on screen. Until then log records are kept in memory
(warnings also go to stderr at once) and written to the rotating log file once
it is opened, shortly after the window shows, on a crash, or at exit at the
latest; the SQLAlchemy write path is warmed up in a background thread about a
second later. The message box, the about box and the welcome page are imported
only when shown, and the email renderer (``billing_desktop.documents``: QtGui
documents, translators, locale formatting) only when the first email is
written (:class:`LazyRenderer`).
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QCoreApplication,
    QMessageLogContext,
    QObject,
    Qt,
    QTimer,
    QtMsgType,
    qInstallMessageHandler,
)
from PySide6.QtWidgets import QApplication, QWidget

from billing_desktop import __version__, i18n
from billing_desktop.config import APP_NAME, ORG_NAME, DatabaseTarget, demo_target
from billing_desktop.store.database import Database, open_database
from billing_desktop.store.errors import DatabaseError

if TYPE_CHECKING:
    from billing_desktop.services.mail import EmailKind, Renderer

__all__ = [
    "GuiSession",
    "LazyRenderer",
    "database_error_text",
    "install_excepthook",
    "install_qt_message_handler",
    "open_log_file",
    "run_gui",
    "setup_logging",
]

log = logging.getLogger("billing_desktop.app")
qt_log = logging.getLogger("billing_desktop.qt")

LOG_FILE_NAME = "billing-desktop.log"
LOG_LEVEL_ENV = "BILLING_DESKTOP_LOG_LEVEL"
LOG_MAX_BYTES = 1_000_000
LOG_BACKUPS = 5
_HANDLER_MARK = "_billing_desktop_handler"
_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"

#: After the window is shown: open the log file, then warm up the write path.
LOG_FILE_DELAY_MS = 300
WARM_UP_DELAY_MS = 800
#: How long the exit waits for background reads before closing the database.
EXIT_WAIT_MS = 2_000


# -- logging -----------------------------------------------------------------


def log_dir() -> Path:
    """The per-user log directory (platformdirs)."""
    from platformdirs import user_log_dir

    return Path(user_log_dir(APP_NAME, appauthor=False))


class _StartupBuffer(logging.Handler):
    """Holds the records logged before the log file is open (see :func:`open_log_file`)."""

    CAPACITY = 10_000

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.dropped = 0

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.records) >= self.CAPACITY:
            self.dropped += 1
            return
        # Freeze the text now: the arguments may change before the file is written.
        record.msg, record.args = record.getMessage(), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        self.records.append(record)


class RotatingLogFile(logging.FileHandler):
    """The log file, renamed to ``.1`` … ``.N`` when it would exceed ``max_bytes``.

    What ``logging.handlers.RotatingFileHandler`` does, without importing
    ``logging.handlers`` (socket, pickle, queue: several milliseconds of every start).
    """

    def __init__(self, path: Path, max_bytes: int, backups: int) -> None:
        super().__init__(path, mode="a", encoding="utf-8")
        self.max_bytes = max_bytes
        self.backups = backups

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self._should_roll_over(record):
                self._roll_over()
        except Exception:
            self.handleError(record)
            return
        super().emit(record)

    def _should_roll_over(self, record: logging.LogRecord) -> bool:
        if self.stream is None or self.max_bytes <= 0:
            return False
        name = self.baseFilename
        if os.path.exists(name) and not os.path.isfile(name):  # /dev/null never rolls
            return False
        # The standard handler's rule (characters of the new line, bytes so far).
        self.stream.seek(0, 2)
        return self.stream.tell() + len(self.format(record) + self.terminator) >= self.max_bytes

    def _roll_over(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None
        base = self.baseFilename
        for index in range(self.backups - 1, 0, -1):
            older = f"{base}.{index}"
            if os.path.exists(older):
                os.replace(older, f"{base}.{index + 1}")
        if self.backups > 0:
            os.replace(base, f"{base}.1")
        self.stream = self._open()


def _our_handler(logger: logging.Logger, kind: type[logging.Handler]) -> Any:
    for handler in logger.handlers:
        if getattr(handler, _HANDLER_MARK, False) and isinstance(handler, kind):
            return handler
    return None


def setup_logging(level: int | None = None, *, defer_file: bool = False) -> Path | None:
    """Log ``billing_desktop.*`` to a rotating file (and warnings to stderr).

    Returns the log file, or None when the log directory cannot be written (the
    application still runs; logging then only goes to stderr). Calling it again
    does not add handlers twice.

    With ``defer_file`` the file is not opened yet (that costs imports and disk
    access before the first paint): records are kept in memory until
    :func:`open_log_file` writes them, and None is returned.
    """
    if level is None:
        level = logging.getLevelName(os.environ.get(LOG_LEVEL_ENV, "INFO").upper())
        if not isinstance(level, int):
            level = logging.INFO
    logger = logging.getLogger("billing_desktop")
    logger.setLevel(level)
    existing = _our_handler(logger, RotatingLogFile)
    if existing is not None:
        return Path(existing.baseFilename)
    if _our_handler(logger, _StartupBuffer) is None:
        console = logging.StreamHandler(sys.stderr)
        console.setLevel(logging.WARNING)
        console.setFormatter(logging.Formatter(_FORMAT))
        buffer = _StartupBuffer()
        for handler in (console, buffer):
            setattr(handler, _HANDLER_MARK, True)
            logger.addHandler(handler)
        logger.info("Billing Desktop %s starting", __version__)
    return None if defer_file else open_log_file()


_log_file_lock = threading.Lock()


def open_log_file() -> Path | None:
    """Open the rotating log file and write what was logged so far into it.

    Returns the log file, or None when it cannot be written (logging then only
    goes to stderr) or :func:`setup_logging` was not called. Once the file is
    open, only returns it; safe to call from any thread and more than once.
    """
    logger = logging.getLogger("billing_desktop")
    with _log_file_lock:
        existing = _our_handler(logger, RotatingLogFile)
        if existing is not None:
            return Path(existing.baseFilename)
        buffer: _StartupBuffer | None = _our_handler(logger, _StartupBuffer)
        if buffer is None:
            return None
        try:
            directory = log_dir()
            directory.mkdir(parents=True, exist_ok=True)
            file_handler = RotatingLogFile(directory / LOG_FILE_NAME, LOG_MAX_BYTES, LOG_BACKUPS)
        except OSError as exc:
            logger.removeHandler(buffer)
            logger.warning("cannot write the log file: %s", exc)
            return None
        file_handler.setFormatter(logging.Formatter(_FORMAT))
        setattr(file_handler, _HANDLER_MARK, True)
        with buffer.lock:  # records logged meanwhile by other threads wait here
            for record in buffer.records:
                file_handler.handle(record)
            logger.addHandler(file_handler)
            logger.removeHandler(buffer)
            dropped, buffer.records, buffer.dropped = buffer.dropped, [], 0
        if dropped:
            logger.warning("%d start-up log records were not kept", dropped)
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
        if self.log_file is None:
            # Still starting (the file opens after the first paint): write it now,
            # so the details are on disk and the dialog can say where.
            self.log_file = open_log_file()
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
        import traceback

        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox(QApplication.activeWindow())
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle(QCoreApplication.translate("CrashDialog", "Unexpected error"))
        box.setText(
            QCoreApplication.translate(
                "CrashDialog", "Billing Desktop ran into an unexpected error."
            )
        )
        if self.log_file is not None:
            info = QCoreApplication.translate(
                "CrashDialog",
                "The details were written to {path}. Nothing was saved halfway: every change "
                "is all or nothing. You can keep working, or quit and start again.",
            ).format(path=self.log_file)
        else:
            info = QCoreApplication.translate(
                "CrashDialog",
                "Nothing was saved halfway: every change is all or nothing. "
                "You can keep working, or quit and start again.",
            )
        box.setInformativeText(info)
        box.setDetailedText("".join(traceback.format_exception(exc_type, exc, tb)))
        box.setStandardButtons(QMessageBox.StandardButton.Close)
        quit_button = box.addButton(
            QCoreApplication.translate("CrashDialog", "Quit"),
            QMessageBox.ButtonRole.DestructiveRole,
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
    from PySide6.QtWidgets import QMessageBox

    QMessageBox.critical(parent, QCoreApplication.translate("App", "Billing Desktop"), text)


def _qt_renderer() -> Renderer:
    from billing_desktop.documents import QtRenderer

    return QtRenderer()


class LazyRenderer:
    """The application's email renderer, a ``QtRenderer`` made on the first email.

    Services call ``ctx.renderer.email(kind, language, params)`` inside the
    transaction that writes the email; only then is ``billing_desktop.documents``
    imported, so the cold start never pays for it. Safe to share between
    threads and between the contexts of successive databases.
    """

    def __init__(self, factory: Callable[[], Renderer] = _qt_renderer) -> None:
        self._factory = factory
        self._renderer: Renderer | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        """Whether the real renderer exists yet."""
        return self._renderer is not None

    def renderer(self) -> Renderer:
        """The real renderer, created (once) now if needed."""
        renderer = self._renderer
        if renderer is None:
            with self._lock:
                if self._renderer is None:
                    self._renderer = self._factory()
                renderer = self._renderer
        return renderer

    def email(self, kind: EmailKind, language: str, params: Mapping[str, Any]) -> tuple[str, str]:
        return self.renderer().email(kind, language, params)


class GuiSession(QObject):
    """The open database and the window showing it; switches to the demo database."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db: Database | None = None
        self.window: Any = None  # MainWindow; imported lazily to keep start-up light
        #: customer emails in the account's language, for every database opened
        self.renderer = LazyRenderer()

    def open(self, target: DatabaseTarget, *, demo: bool = False) -> bool:
        """Open ``target`` (or the demo database) and show a main window on it.

        On a database error, tells the user and returns False.
        """
        db = self._open_database(demo_target() if demo else target, demo=demo)
        if db is None:
            return False
        return self._show(db)

    def open_at_start(self, target: DatabaseTarget, *, demo: bool = False) -> bool:
        """:meth:`open` for the start of the application.

        When ``target`` is the database chosen in Settings and its file has
        vanished (a drive or share not connected, moved, deleted), nothing is
        created in its place: the user is told and chooses the default
        database, another file (remembered from now on) or to quit (False).
        """
        remember = False
        if not demo:
            from billing_desktop.ui.preferences import is_missing_saved_database

            if is_missing_saved_database(target):
                from billing_desktop.ui.missing_database import ask_for_missing_database

                log.warning("the database chosen in Settings is missing: %s", target.path)
                choice = ask_for_missing_database(target, self.window)
                if choice is None:
                    log.info("quitting: the database chosen in Settings is missing")
                    return False
                target, remember = choice
        if not self.open(target, demo=demo):
            return False
        if remember and target.path is not None:
            from billing_desktop.ui.preferences import set_saved_database

            set_saved_database(str(target.path))
        return True

    def open_demo(self) -> bool:
        """Switch to the demo database (filled with the curated accounts when new)."""
        db = self._open_database(demo_target(), demo=True)
        if db is None:
            return False
        return self._show(db)

    def open_location(self, location: str) -> bool:
        """Switch to the database at ``location`` (a file path or a server URL)."""
        from billing_desktop.config import target_from

        try:
            target = target_from(location)
        except ValueError:
            show_error(
                self.window,
                QCoreApplication.translate(
                    "App", "“{location}” is neither a database file nor a server address."
                ).format(location=location),
            )
            return False
        return self.open(target)

    def _open_database(self, target: DatabaseTarget, *, demo: bool) -> Database | None:
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            db = open_database(target)
            try:
                if demo and db.is_empty():
                    from datetime import date

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

    def _show(self, db: Database) -> bool:
        """Show a main window on ``db`` (replacing the open one); False when the
        operator did not sign in to a shared database (``db`` is closed again)."""
        from billing_desktop.services.context import open_context
        from billing_desktop.ui.main_window import MainWindow
        from billing_desktop.ui.welcome_state import welcome_wanted

        if db.target.is_sqlite:  # the embedded database's automatic local operator
            ctx = open_context(db, renderer=self.renderer)
        else:  # a shared server: each operator signs in
            from billing_desktop.ui.dialogs.sign_in_dialog import ask_operator

            operator = ask_operator(db, self.window)
            if operator is None:
                db.dispose()
                return False
            ctx = open_context(db, renderer=self.renderer, operator=operator)
        old_window, old_db = self.window, self.db
        if old_window is not None:
            old_window.save_settings()
        window = MainWindow(ctx, show_welcome=welcome_wanted(ctx))
        window.demo_requested.connect(self.open_demo)
        window.database_change_requested.connect(self.open_location)
        self.window, self.db = window, db
        window.show()
        if old_window is not None:
            # The new window is visible first, so closing the old one never
            # looks like "last window closed" and quits.
            old_window.close()
            old_window.deleteLater()
        if old_db is not None and old_db is not db:
            _dispose_when_idle(old_db)
        # The first change should not wait for SQLAlchemy: import it and open
        # the engine in the background, well after the first paint.
        QTimer.singleShot(WARM_UP_DELAY_MS, self, lambda: self._warm_up(db))
        return True

    def _warm_up(self, db: Database) -> None:
        if db is not self.db:
            return  # closed or replaced meanwhile
        thread = threading.Thread(target=_warm_up_database, args=(db,), name="warm-up", daemon=True)
        thread.start()

    def close(self) -> None:
        """At exit: close the database unless a background read still runs (the
        process ending closes it then; a quick exit never waits for a panel)."""
        from PySide6.QtCore import QThreadPool

        if self.db is not None:
            if QThreadPool.globalInstance().waitForDone(EXIT_WAIT_MS):
                self.db.dispose()
            else:
                log.info("background reads still running at exit; not waiting for them")
            self.db = None


def _dispose_when_idle(db: Database) -> None:
    """Close ``db`` once no background read (a panel loading, an export) still uses it."""
    from PySide6.QtCore import QThreadPool

    QThreadPool.globalInstance().waitForDone()
    db.dispose()


def _warm_up_database(db: Database) -> None:
    """Runs in a daemon thread: a failure only costs the first change some time."""
    try:
        db.warm_up()
    except Exception:
        log.warning("warming up the database write path failed", exc_info=True)
    else:
        log.debug("database write path ready")


def run_gui(target: DatabaseTarget, *, lang: str | None = None, demo: bool = False) -> int:
    """Start the desktop application on ``target`` (or the demo database); returns the exit code."""
    # What is loaded by now (Python, the Qt bindings, our modules: tens of
    # thousands of objects) lives until exit: keep the cyclic garbage collector
    # from walking it again in every older-generation collection, during
    # start-up, while the user works (each full one a pause of milliseconds)
    # and at exit.
    gc.freeze()
    setup_logging(defer_file=True)
    install_qt_message_handler()
    QCoreApplication.setOrganizationName(ORG_NAME)
    QCoreApplication.setApplicationName(APP_NAME)
    QCoreApplication.setApplicationVersion(__version__)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv)
    # The log file is opened after the first paint (or by the crash handler).
    install_excepthook(None)
    try:
        from billing_desktop.ui.preferences import apply_startup_theme, startup_language

        locale = i18n.install(app, startup_language(lang))
        apply_startup_theme(app)
        log.info("language %s", locale.name())
        QApplication.setApplicationDisplayName(QCoreApplication.translate("App", "Billing Desktop"))
        session = GuiSession(app)
        if not session.open_at_start(target, demo=demo):
            return 1
        gc.freeze()  # the window and the modules it imported, likewise
        # From now on worker threads run (panels, exports, the warm-up): cyclic
        # garbage is collected on the GUI thread only, never by a worker that
        # would free Qt objects from the wrong thread (ui/gc_policy.py).
        from billing_desktop.ui import gc_policy

        gc_policy.install(app)  # stays off until exit: workers may outlive the loop
        try:
            QTimer.singleShot(LOG_FILE_DELAY_MS, app, open_log_file)
            return app.exec()
        finally:
            session.close()
    finally:
        # A short session or a failed start still ends up in the file.
        open_log_file()
