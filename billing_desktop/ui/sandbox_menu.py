"""The trainer's sandbox in the File menu, and the DEMO banner (issue 7 items 1 and 5).

:func:`install_sandbox_menu` adds to ``window.file_menu``, after *Open Demo
Database*:

* **New Demo Database…** — always: a fresh curated demo database in a chosen
  file (the standard demo file is offered), then the window switches to it.
  It never writes to the open real database, nor to any file that is not a
  demo database (the service refuses).
* **Reset Demo Database…** — demo databases only: after a confirmation that
  says what is lost, the curated dataset as on the demo's first day.
* **Snapshots…** — demo databases only: :class:`SnapshotsDialog`.

On a demo database it also puts a coloured banner under the menu bar (a
fixed tool bar) saying that this is a demo, with the same Reset and Snapshots
actions: the title's "(demo)" and the status bar's badge are easy to miss on
a projector.

After a reset or a restore the database holds other data than the window
shows, and after *New Demo Database…* another file is to be opened: the
:class:`SandboxMenu` emits :attr:`SandboxMenu.open_requested` with the file,
connected here to ``window.database_change_requested`` — the signal the GUI
session already answers by opening that database in a new window
(``GuiSession.open_location``). :attr:`SandboxMenu.content_replaced` tells
anyone else who cares that the open file's content was replaced.

Nothing heavy is imported until an action is used.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QSize, Qt, Signal
from PySide6.QtGui import QAction, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSizePolicy,
    QToolBar,
    QWidget,
)

from billing_desktop.domain.errors import DomainError
from billing_desktop.ui.errors import show_service_error
from billing_desktop.ui.formatting import format_date

if TYPE_CHECKING:
    from billing_desktop.services.context import AppContext
    from billing_desktop.services.sandbox import DemoDatabase, PreparedReset
    from billing_desktop.ui.dialogs.snapshots_dialog import SnapshotsDialog
    from billing_desktop.ui.workers import BackgroundTask

__all__ = ["DemoBanner", "SandboxMenu", "install_sandbox_menu"]

log = logging.getLogger("billing_desktop.ui")

#: the banner's colour: the status bar's DEMO badge's
BANNER_COLOR = "#c2410c"


class _ElidedLabel(QLabel):
    """A one-line label that takes the room it is given and elides what does not fit.

    Its size hint is small, so in a tool bar it gives way to the buttons beside
    it instead of pushing them into the overflow menu; the whole text is in the
    tooltip.
    """

    MIN_CHARS = 12

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(min(hint.width(), self.fontMetrics().averageCharWidth() * self.MIN_CHARS),
                     hint.height())  # fmt: skip

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        self.style().drawItemText(
            painter, rect, int(self.alignment()), self.palette(), self.isEnabled(), text,
            QPalette.ColorRole.WindowText,
        )  # fmt: skip


class DemoBanner(QToolBar):
    """A coloured line under the menu bar of a demo database's window."""

    def __init__(self, parent: QWidget, actions: list[QAction]) -> None:
        super().__init__(parent)
        self.setObjectName("demoBanner")  # also the key in the window's saved state
        self.setMovable(False)
        self.setFloatable(False)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.PreventContextMenu)
        self.toggleViewAction().setVisible(False)  # not hidden from the tool bars' menu
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.setStyleSheet(
            f"QToolBar#demoBanner {{ background-color: {BANNER_COLOR}; border: none;"
            " padding: 3px 8px; spacing: 8px; }"
            " QToolBar#demoBanner QLabel { color: white; }"
            " QToolBar#demoBanner QLabel#demoBannerTitle { font-weight: bold; }"
            " QToolBar#demoBanner QToolButton { color: white; background: transparent;"
            " border: 1px solid rgba(255, 255, 255, 160); border-radius: 3px; padding: 1px 8px; }"
            " QToolBar#demoBanner QToolButton:hover, QToolBar#demoBanner QToolButton:focus {"
            " background: rgba(255, 255, 255, 40); }"
        )
        self.title = QLabel(self)
        self.title.setObjectName("demoBannerTitle")
        # In a narrow window the sentence gives way (its tooltip keeps it), not the buttons.
        self.text = _ElidedLabel(self)
        self.text.setObjectName("demoBannerText")
        self.text.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.addWidget(self.title)
        self.addWidget(self.text)
        for action in actions:
            self.addAction(action)
        self.retranslateUi()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslateUi()
        super().changeEvent(event)

    def retranslateUi(self) -> None:
        self.title.setText(self.tr("DEMO DATABASE"))
        self.text.setText(
            self.tr(
                "Fictitious customers on a simulated date. Reset it or return to a snapshot "
                "at any time."
            )
        )
        self.text.setToolTip(self.text.text())
        self.setAccessibleName(self.tr("Demo database"))


class SandboxMenu(QObject):
    """The sandbox actions of one main window (see the module docstring)."""

    #: open (or re-open) the database file at this path in the GUI session
    open_requested = Signal(str)
    #: the open demo database's content was replaced (reset, snapshot restored)
    content_replaced = Signal()

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.setObjectName("sandboxMenu")
        self.window = window
        self.is_demo: bool = window.ctx.is_demo  # type: ignore[attr-defined]
        #: reset and snapshots copy the demo database's file: not for a demo on a server
        self.has_snapshots: bool = self.is_demo and window.ctx.db.target.is_sqlite  # type: ignore[attr-defined]
        self.new_demo_action = QAction(window)
        self.new_demo_action.setObjectName("newDemoDatabaseAction")
        self.new_demo_action.triggered.connect(self.choose_new_demo_file)
        self.reset_demo_action: QAction | None = None
        self.snapshots_action: QAction | None = None
        self.banner: DemoBanner | None = None
        self.snapshots_dialog: SnapshotsDialog | None = None
        self.task: BackgroundTask[Any] | None = None
        self._question: QWidget | None = None
        actions = [self.new_demo_action]
        if self.has_snapshots:
            self.reset_demo_action = QAction(window)
            self.reset_demo_action.setObjectName("resetDemoDatabaseAction")
            self.reset_demo_action.triggered.connect(self.confirm_reset)
            self.snapshots_action = QAction(window)
            self.snapshots_action.setObjectName("snapshotsAction")
            self.snapshots_action.triggered.connect(self.show_snapshots)
            actions += [self.reset_demo_action, self.snapshots_action]
        #: the actions in the File menu, in order
        self.menu_actions = actions
        window.installEventFilter(self)
        self.retranslateUi()

    @property
    def ctx(self) -> AppContext:
        return self.window.ctx  # type: ignore[attr-defined,no-any-return]

    # -- New Demo Database… ---------------------------------------------------

    def choose_new_demo_file(self) -> None:
        """Ask where to create the demo database (the standard demo file is offered)."""
        if self._question is not None:
            return
        from billing_desktop.config import demo_target

        standard = demo_target().path
        assert standard is not None
        dialog = QFileDialog(self.window, self.tr("New Demo Database"))
        dialog.setObjectName("newDemoFileDialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        # Replacing an existing file is confirmed by us, saying what it means.
        dialog.setOption(QFileDialog.Option.DontConfirmOverwrite, True)
        dialog.setNameFilters(
            [self.tr("Billing Desktop databases (*.sqlite3)"), self.tr("All files (*)")]
        )
        dialog.setDefaultSuffix("sqlite3")
        folder = standard.parent if standard.parent.is_dir() else Path.home()
        dialog.setDirectory(str(folder))
        dialog.selectFile(standard.name)
        dialog.fileSelected.connect(self.create_demo_at)
        self._show(dialog)

    def create_demo_at(self, location: str) -> None:
        """A fresh demo database in ``location`` (asking first if the file exists), then open it."""
        self._question = None  # the file dialog has been answered
        path = Path(location).expanduser().resolve()
        open_path = self.ctx.db.target.path
        if open_path is not None and path == open_path.resolve():
            if self.is_demo:
                self.confirm_reset()  # the same thing, through the permission check
            else:
                from billing_desktop.services.sandbox import NotADemoDatabase

                show_service_error(self.window, NotADemoDatabase(path.name))
            return
        if path.exists():
            box = self._question_box(
                "replaceDemoConfirmation",
                self.tr("New Demo Database"),
                self.tr("“{file}” already exists. Replace it with a new demo database?").format(
                    file=path.name
                ),
                self.tr(
                    "If it is a demo database, everything done in it is replaced by the "
                    "curated demo accounts. Any other file is left untouched."
                ),
                self.tr("&Replace"),
                "confirmReplaceDemo",
                lambda: self._build(path),
            )
            self._show(box)
            return
        self._build(path)

    def _build(self, path: Path) -> None:
        from datetime import date

        from billing_desktop.services.sandbox import new_demo_database
        from billing_desktop.ui.workers import run_in_background

        def built(result: DemoDatabase) -> None:
            log.info("new demo database %s", result.path)
            self.open_requested.emit(str(result.path))

        self.task = run_in_background(
            self.window,
            lambda _progress: new_demo_database(path, date.today()),
            title=self.tr("New Demo Database"),
            label=self.tr("Creating the demo database…"),
            on_result=built,
            on_error=self._failed,
            cancellable=False,
        )

    # -- Reset Demo Database… ---------------------------------------------------

    def confirm_reset(self) -> None:
        """Ask (naming what is lost), then reset the demo database to its curated dataset."""
        if not self.has_snapshots or self._question is not None:
            return
        from billing_desktop.services.auth import Action, authorize
        from billing_desktop.services.sandbox import demo_start_date

        ctx = self.ctx
        try:
            authorize(ctx, Action.MANAGE_DEMO)  # say why now, not after the question
        except DomainError as err:
            show_service_error(self.window, err)
            return
        close_account = getattr(self.window, "close_account", None)
        if close_account is not None and not close_account():
            return  # unsaved edits on the account page: the user stays
        start, today = demo_start_date(ctx.db), ctx.clock.today()
        lost = self.tr(
            "Everything done in it is lost: orders, cancellations, licence and payment changes, "
            "emails and operators added."
        )
        if today != start:
            when = self.tr("The simulated date goes back from {today} to {start}.").format(
                today=format_date(today), start=format_date(start)
            )
        else:
            when = self.tr("The simulated date stays at {start}.").format(start=format_date(start))
        kept = self.tr("Snapshots are kept.")
        box = self._question_box(
            "resetDemoConfirmation",
            self.tr("Reset Demo Database"),
            self.tr("Reset the demo database “{database}” to the curated demo accounts?").format(
                database=self._database_name()
            ),
            f"{lost} {when} {kept}",
            self.tr("&Reset"),
            "confirmReset",
            self.reset,
        )
        box.setIcon(QMessageBox.Icon.Warning)
        self._show(box)

    def reset(self) -> None:
        """Reset now (no question asked); then have the window re-opened.

        The curated dataset is built in a worker thread (with a progress dialog
        if it takes a while); the swap itself — one backup, a moment — runs on
        the GUI thread, the one that reads the database, so no read of the
        window can meet a connection being closed under it.
        """
        from billing_desktop.services.sandbox import prepare_reset
        from billing_desktop.ui.workers import run_in_background

        ctx = self.ctx
        self.task = run_in_background(
            self.window,
            lambda _progress: prepare_reset(ctx),
            title=self.tr("Reset Demo Database"),
            label=self.tr("Resetting the demo database…"),
            on_result=self._apply_reset,
            on_error=self._failed,
            cancellable=False,
        )

    def _apply_reset(self, prepared: PreparedReset) -> None:
        from billing_desktop.services.sandbox import apply_reset

        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            apply_reset(self.ctx, prepared)
        except DomainError as err:
            QApplication.restoreOverrideCursor()
            show_service_error(self.window, err)
            return
        finally:
            prepared.discard()
        QApplication.restoreOverrideCursor()
        self._replaced()

    # -- Snapshots… ---------------------------------------------------------------

    def show_snapshots(self) -> None:
        if not self.has_snapshots:
            return
        from billing_desktop.ui.dialogs.snapshots_dialog import SnapshotsDialog

        if self.snapshots_dialog is None:
            dialog = SnapshotsDialog(self.ctx, self.window)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.restored.connect(lambda _info: self._replaced())
            dialog.destroyed.connect(self._forget_snapshots_dialog)
            self.snapshots_dialog = dialog
        self.snapshots_dialog.open()

    def _forget_snapshots_dialog(self) -> None:
        self.snapshots_dialog = None

    # -- after the work ---------------------------------------------------------

    def _replaced(self) -> None:
        """The open file holds other data now: have the session show it afresh."""
        path = self.ctx.db.target.path
        self.content_replaced.emit()
        if path is not None:
            self.open_requested.emit(str(path))

    def _failed(self, err: BaseException) -> None:
        from billing_desktop.store.errors import DatabaseError

        if isinstance(err, DomainError):
            show_service_error(self.window, err)
        elif isinstance(err, DatabaseError):
            box = QMessageBox(self.window)
            box.setObjectName("sandboxDatabaseError")
            box.setIcon(QMessageBox.Icon.Warning)
            box.setWindowTitle(QCoreApplication.translate("App", "Billing Desktop"))
            box.setText(
                QCoreApplication.translate("DatabaseError", err.message).format(**err.params)
            )
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()
        else:
            raise err

    # -- helpers -------------------------------------------------------------------

    def _database_name(self) -> str:
        path = self.ctx.db.target.path
        return path.name if path is not None else self.ctx.db.target.display_name()

    def _question_box(
        self,
        name: str,
        title: str,
        text: str,
        detail: str,
        confirm_text: str,
        confirm_name: str,
        on_confirm: Any,
    ) -> QMessageBox:
        box = QMessageBox(self.window)
        box.setObjectName(name)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(title)
        box.setText(text)
        box.setInformativeText(detail)
        confirm = box.addButton(confirm_text, QMessageBox.ButtonRole.DestructiveRole)
        confirm.setObjectName(confirm_name)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)

        def answered(button: QAbstractButton) -> None:
            if button is confirm:
                on_confirm()

        box.buttonClicked.connect(answered)
        return box

    def _show(self, dialog: QWidget) -> None:
        """Open ``dialog`` (window-modal, deleted when closed) as the one question asked."""
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(  # type: ignore[attr-defined]
            lambda _result, asked=dialog: self._forget_question(asked)
        )
        self._question = dialog
        dialog.open()  # type: ignore[attr-defined]

    def _forget_question(self, asked: QWidget) -> None:
        if self._question is asked:  # not a question asked since, from its answer
            self._question = None

    # -- language -------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.LanguageChange:
            self.retranslateUi()
        return False

    def retranslateUi(self) -> None:
        self.new_demo_action.setText(self.tr("&New Demo Database…"))
        self.new_demo_action.setStatusTip(
            self.tr("Create a fresh demo database with the curated sample accounts and open it")
        )
        if self.reset_demo_action is not None:
            self.reset_demo_action.setText(self.tr("&Reset Demo Database…"))
            self.reset_demo_action.setIconText(self.tr("Reset…"))
            self.reset_demo_action.setStatusTip(
                self.tr("Return the demo database to the curated accounts of its first day")
            )
        if self.snapshots_action is not None:
            self.snapshots_action.setText(self.tr("Sna&pshots…"))
            self.snapshots_action.setIconText(self.tr("Snapshots…"))
            self.snapshots_action.setStatusTip(
                self.tr("Save the demo database's state under a name and return to it later")
            )


def _insert_into_file_menu(window: QMainWindow, actions: list[QAction]) -> None:
    """After *Open Demo Database* (before the separator that follows it)."""
    menu = window.file_menu  # type: ignore[attr-defined]
    existing = menu.actions()
    anchor = getattr(window, "open_demo_action", None)
    before: QAction | None = None
    if anchor in existing:
        following = existing[existing.index(anchor) + 1 :]
        before = following[0] if following else None
    for action in actions:
        if before is None:
            menu.addAction(action)
        else:
            menu.insertAction(before, action)


def _install_banner(window: QMainWindow, banner: DemoBanner) -> None:
    """First in the top tool bar area, on a line of its own (just under the menu bar)."""
    area = Qt.ToolBarArea.TopToolBarArea
    others = [
        bar
        for bar in window.findChildren(QToolBar)
        if bar is not banner and window.toolBarArea(bar) == area and bar.parent() is window
    ]
    if others:
        first = min(others, key=lambda bar: (bar.y(), bar.x()))
        window.insertToolBar(first, banner)
        window.insertToolBarBreak(first)
    else:
        window.addToolBar(area, banner)
        window.addToolBarBreak(area)


def _keep_banner(window: QMainWindow, banner: DemoBanner) -> None:
    """Put the banner back if restoring a saved layout (one without it) took it away."""
    if banner.isHidden() or window.toolBarArea(banner) != Qt.ToolBarArea.TopToolBarArea:
        window.removeToolBar(banner)
        _install_banner(window, banner)
        banner.show()


def install_sandbox_menu(window: QMainWindow) -> SandboxMenu:
    """Add the sandbox actions to ``window`` (a ``MainWindow``); see the module docstring.

    Idempotent: a second call returns the installed :class:`SandboxMenu`.
    """
    installed = getattr(window, "sandbox_menu", None)
    if isinstance(installed, SandboxMenu):
        return installed
    menu = SandboxMenu(window)
    _insert_into_file_menu(window, menu.menu_actions)
    if menu.is_demo:
        tools = [menu.snapshots_action, menu.reset_demo_action]
        banner = menu.banner = DemoBanner(window, [a for a in tools if a is not None])
        _install_banner(window, banner)
        # The window restores its saved layout once all its tools are in place.
        tools_installed = getattr(window, "tools_installed", None)
        if tools_installed is not None:
            tools_installed.connect(lambda: _keep_banner(window, banner))
    database_change = getattr(window, "database_change_requested", None)
    if database_change is not None:
        menu.open_requested.connect(database_change)
    window.sandbox_menu = menu  # type: ignore[attr-defined]
    return menu
