"""The main window: navigation, the view stack, menus and the status bar (SPEC §4).

Navigation lists only views that exist, so no entry ever does nothing. The
status bar always says who is working, on which database and on which date —
in a demo database the date is the simulated one and a "DEMO" badge makes it
impossible to mistake the training data for real customers.

An account opened from the accounts list (double-click or Enter) or from the
quick search (Ctrl+K) shows as an :class:`AccountPage` in the view stack, one
at a time; Back returns to the list. Which account was open is not remembered.

Start-up: the first frame shows the menu bar's titles, the navigation, the
accounts list and the status bar. The menus' items (and with them their
keyboard shortcuts: Ctrl+K, Ctrl+,, Ctrl+1…4, F5, Ctrl+Q) are built right after
the first paint (:meth:`MainWindow.build_menus`), or at once by whatever asks
for one of them sooner (``window.file_menu``, ``window.quit_action``, …); the
trainer's tools follow a moment later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QCoreApplication,
    QEvent,
    QSettings,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QCloseEvent, QGuiApplication, QPaintEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QWidget,
)

from billing_desktop import __version__
from billing_desktop.domain.errors import DomainError
from billing_desktop.services.context import AppContext
from billing_desktop.ui.formatting import format_date
from billing_desktop.ui.views.accounts_view import AccountsView
from billing_desktop.ui.welcome_state import remember_welcome_dismissed

if TYPE_CHECKING:
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QMenu

    from billing_desktop.ui.account.page import AccountPage
    from billing_desktop.ui.quick_search import QuickSearchDialog
    from billing_desktop.ui.welcome import WelcomePage

__all__ = ["MainWindow"]

log = logging.getLogger("billing_desktop.ui")

ROLE_WORDS = {
    "admin": QT_TRANSLATE_NOOP("MainWindow", "Administrator"),
    "support": QT_TRANSLATE_NOOP("MainWindow", "Support"),
    "representative": QT_TRANSLATE_NOOP("MainWindow", "Representative"),
    "trainer": QT_TRANSLATE_NOOP("MainWindow", "Trainer"),
    "viewer": QT_TRANSLATE_NOOP("MainWindow", "Viewer"),
}

_SETTINGS_GEOMETRY = "mainwindow/geometry"
_SETTINGS_STATE = "mainwindow/state"
_SETTINGS_VIEW = "mainwindow/last_view"
_SETTINGS_NAVIGATION = "mainwindow/navigation_visible"

#: After the first paint, when the trainer's tools and presentation mode are added.
TOOLS_DELAY_MS = 120

#: How often the status bar re-reads the date (midnight, a moved demo clock).
STATUS_REFRESH_MS = 60_000


class _ViewSpec(NamedTuple):
    key: str
    title: str  # QT_TRANSLATE_NOOP source, context "MainWindow"
    #: the view class, or "module:Class" imported when the view is first shown
    #: (the charts library, for one, costs start-up time nobody should pay
    #: before looking at the dashboard)
    factory: Callable[[AppContext, QWidget], QWidget] | str


#: The views, in navigation order. Add an entry when a view lands; never
#: before (an entry that does nothing is worse than none).
VIEWS: tuple[_ViewSpec, ...] = (
    _ViewSpec("accounts", QT_TRANSLATE_NOOP("MainWindow", "Accounts"), AccountsView),
    _ViewSpec(
        "invoices",
        QT_TRANSLATE_NOOP("MainWindow", "Invoices"),
        "billing_desktop.ui.views.invoices_view:InvoicesView",
    ),
    _ViewSpec(
        "emails",
        QT_TRANSLATE_NOOP("MainWindow", "Emails"),
        "billing_desktop.ui.views.emails_view:EmailsView",
    ),
    _ViewSpec(
        "dashboard",
        QT_TRANSLATE_NOOP("MainWindow", "Dashboard"),
        "billing_desktop.ui.views.dashboard_view:DashboardView",
    ),
)
_VIEW_KEYS = tuple(spec.key for spec in VIEWS)


def _view_class(spec: _ViewSpec) -> Callable[[AppContext, QWidget], QWidget]:
    if not isinstance(spec.factory, str):
        return spec.factory
    import importlib

    module, _, name = spec.factory.partition(":")
    return getattr(importlib.import_module(module), name)


def role_word(role: str) -> str:
    source = ROLE_WORDS.get(role)
    return QCoreApplication.translate("MainWindow", source) if source else role


def show_service_error(parent: QWidget, err: DomainError) -> None:
    """:func:`billing_desktop.ui.errors.show_service_error`, imported when first needed
    (its message box is not part of the first paint)."""
    from billing_desktop.ui.errors import show_service_error as show

    show(parent, err)


class _MenuItem:
    """A menu or action of the menu bar (``window.quit_action``, ``window.view_menu``).

    The menus' items are built right after the first paint; asking for one of
    them before that builds them all at once (:meth:`MainWindow.build_menus`),
    so code and tests may use them as soon as the window exists. Once built,
    the attribute is a plain one on the window and this is no longer consulted.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, window: MainWindow | None, owner: type | None = None) -> Any:
        if window is None:
            return self
        window.build_menus()
        try:
            return window.__dict__[self.name]
        except KeyError:  # building the menus failed earlier
            raise AttributeError(self.name) from None


class MainWindow(QMainWindow):
    """The application window over one database (``ctx``)."""

    #: The user asked for the demo database (welcome page, empty state or File menu).
    demo_requested = Signal()
    #: the Settings dialog chose another database (a file path or a server URL)
    database_change_requested = Signal(str)
    #: the sandbox menu, simulated clock, guide and presentation mode are in place
    tools_installed = Signal()

    # The menu bar's menus and actions: built right after the first paint, or on
    # first use (see _MenuItem).
    file_menu: QMenu = _MenuItem()
    view_menu: QMenu = _MenuItem()
    help_menu: QMenu = _MenuItem()
    language_menu: QMenu = _MenuItem()
    open_demo_action: QAction = _MenuItem()
    settings_action: QAction = _MenuItem()
    quit_action: QAction = _MenuItem()
    quick_search_action: QAction = _MenuItem()
    navigation_action: QAction = _MenuItem()
    refresh_action: QAction = _MenuItem()
    about_action: QAction = _MenuItem()
    #: View ▸ Accounts, Invoices, … by view key
    view_actions: dict[str, QAction] = _MenuItem()
    #: View ▸ Language ▸ each language by code
    language_actions: dict[str, QAction] = _MenuItem()

    def __init__(
        self, ctx: AppContext, parent: QWidget | None = None, *, show_welcome: bool = False
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.ctx = ctx
        self._is_demo = ctx.is_demo
        self._current_key: str | None = None

        self.navigation = QListWidget(self)
        self.navigation.setObjectName("navigation")
        self.navigation.setFrameShape(QListWidget.Shape.NoFrame)
        self.navigation.setSpacing(2)
        self.navigation.setUniformItemSizes(True)
        self.stack = QStackedWidget(self)
        self.stack.setObjectName("viewStack")
        #: the views built so far; each is built when first shown
        self.views: dict[str, QWidget] = {}
        for spec in VIEWS:
            item = QListWidgetItem()
            item.setData(Qt.ItemDataRole.UserRole, spec.key)
            item.setSizeHint(QSize(0, self.fontMetrics().height() + 16))
            self.navigation.addItem(item)
        # Settings is a dialog, listed last in the navigation (SPEC §4).
        self._settings_item = QListWidgetItem()
        self._settings_item.setData(Qt.ItemDataRole.UserRole, "settings")
        self._settings_item.setSizeHint(QSize(0, self.fontMetrics().height() + 16))
        self.navigation.addItem(self._settings_item)
        self._settings_dialog: QWidget | None = None
        #: the account shown, if any (one at a time, built when opened)
        self.account_page: AccountPage | None = None
        self._quick_search: QuickSearchDialog | None = None

        self.welcome: WelcomePage | None = None
        if show_welcome:
            from billing_desktop.ui.welcome import WelcomePage

            self.welcome = WelcomePage(ctx.db.target.display_name(), self.stack)
            self.stack.addWidget(self.welcome)
            self.welcome.demo_requested.connect(self.demo_requested)
            self.welcome.empty_requested.connect(self.start_empty)

        central = QWidget(self)
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.navigation)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.navigation.currentRowChanged.connect(self._on_navigation_row)
        # Clicking the selected entry (Accounts, under an open account) goes to it too.
        self.navigation.itemClicked.connect(
            lambda item: self._on_navigation_row(self.navigation.row(item))
        )

        # The menu bar and its titles are in the first frame; the items come right after.
        self._menus_built = False
        menu_bar = self.menuBar()
        self._bar_menus = (menu_bar.addMenu(""), menu_bar.addMenu(""), menu_bar.addMenu(""))
        self._create_status_bar()
        self.retranslateUi()
        self._fit_navigation()

        self._status_timer = QTimer(self)
        self._status_timer.setInterval(STATUS_REFRESH_MS)
        self._status_timer.timeout.connect(self.refresh_status)
        self._status_timer.start()

        self._restore_settings()
        # The trainer's tools (sandbox menu, simulated clock, guide) and the
        # presentation mode come a moment after the first paint, which never
        # waits for them (nor for the reads they start in the background).
        self._tools_scheduled = False

    # -- construction --------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._tools_scheduled:
            self._tools_scheduled = True
            # The children (the accounts list) paint in this same pass; then the menus.
            QTimer.singleShot(0, self, self.build_menus)
            QTimer.singleShot(TOOLS_DELAY_MS, self, self._install_tools)

    def _install_tools(self) -> None:
        from billing_desktop.ui.change_watcher import install_change_watcher
        from billing_desktop.ui.clock_control import install_clock_control
        from billing_desktop.ui.dialogs.operators_dialog import install_operator_admin
        from billing_desktop.ui.guide import install_guide
        from billing_desktop.ui.presentation import install_presentation
        from billing_desktop.ui.sandbox_menu import install_sandbox_menu

        self.build_menus()
        install_sandbox_menu(self)
        self.operator_admin = install_operator_admin(self)
        self.clock_control = install_clock_control(self)
        self.guide = install_guide(self)
        install_presentation(self)
        # open views follow other operators' changes (and the renewal engine's)
        install_change_watcher(self)
        # the docks just added take the places they had when the window closed
        state = QSettings().value(_SETTINGS_STATE)
        if state is not None:
            self.restoreState(state)
        self.tools_installed.emit()

    def build_menus(self) -> None:
        """Fill the menu bar's menus with their actions and shortcuts (once).

        Called right after the first paint, and by the first use of a menu or
        action (``window.quit_action``) if that comes sooner.
        """
        if self._menus_built:
            return
        self._menus_built = True
        self._create_actions()
        self._retranslate_menus()
        self._select_navigation(self._current_key)

    def _create_actions(self) -> None:
        from PySide6.QtGui import QAction, QActionGroup, QKeySequence

        self.file_menu, self.view_menu, self.help_menu = self._bar_menus
        self.open_demo_action = QAction(self)
        self.open_demo_action.triggered.connect(self.demo_requested)
        self.open_demo_action.setVisible(not self._is_demo)
        self.file_menu.addAction(self.open_demo_action)
        self.file_menu.addSeparator()
        self.settings_action = QAction(self)
        self.settings_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Preferences))
        if self.settings_action.shortcut().isEmpty():  # no platform standard (Linux)
            self.settings_action.setShortcut(QKeySequence("Ctrl+,"))
        self.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.settings_action.triggered.connect(self.show_settings)
        self.file_menu.addAction(self.settings_action)
        self.file_menu.addSeparator()
        self.quit_action = QAction(self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.triggered.connect(self.close)
        self.file_menu.addAction(self.quit_action)

        self.quick_search_action = QAction(self)
        self.quick_search_action.setShortcut(QKeySequence("Ctrl+K"))
        self.quick_search_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.quick_search_action.triggered.connect(self.show_quick_search)
        self.view_menu.addAction(self.quick_search_action)
        self.view_menu.addSeparator()
        self.view_actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        group.setExclusive(True)
        for number, spec in enumerate(VIEWS, start=1):
            action = QAction(self)
            action.setCheckable(True)
            action.setShortcut(QKeySequence(f"Ctrl+{number}"))
            action.triggered.connect(lambda _checked=False, key=spec.key: self.show_view(key))
            group.addAction(action)
            self.view_menu.addAction(action)
            self.view_actions[spec.key] = action
        self.view_menu.addSeparator()
        # View ▸ Language: each language by its own name, switched at once.
        from billing_desktop.ui.preferences import LANGUAGE_NAMES

        self.language_menu = self.view_menu.addMenu("")
        self.language_actions: dict[str, QAction] = {}
        languages = QActionGroup(self)
        languages.setExclusive(True)
        for code, name in LANGUAGE_NAMES.items():
            action = QAction(name, self)
            action.setCheckable(True)
            action.triggered.connect(lambda _checked=False, code=code: self.switch_language(code))
            languages.addAction(action)
            self.language_menu.addAction(action)
            self.language_actions[code] = action
        self.language_menu.aboutToShow.connect(self._check_language)
        self.navigation_action = QAction(self)
        self.navigation_action.setCheckable(True)
        self.navigation_action.setChecked(self.navigation.isVisibleTo(self))
        self.navigation_action.toggled.connect(self.navigation.setVisible)
        self.view_menu.addAction(self.navigation_action)
        self.refresh_action = QAction(self)
        self.refresh_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Refresh))
        self.refresh_action.triggered.connect(self.refresh_current_view)
        self.view_menu.addAction(self.refresh_action)

        self.about_action = QAction(self)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.triggered.connect(self.show_about)
        self.help_menu.addAction(self.about_action)

    def _create_status_bar(self) -> None:
        bar = self.statusBar()
        self.operator_label = QLabel(bar)
        self.operator_label.setObjectName("operatorLabel")
        self.database_label = QLabel(bar)
        self.database_label.setObjectName("databaseLabel")
        self.demo_badge = QLabel(bar)
        self.demo_badge.setObjectName("demoBadge")
        if self._is_demo:  # a style sheet costs style and polish work: only when shown
            self.demo_badge.setStyleSheet(
                "QLabel#demoBadge { background-color: #c2410c; color: white; font-weight: bold;"
                " padding: 1px 8px; border-radius: 3px; }"
            )
        self.demo_badge.setVisible(self._is_demo)
        self.date_label = QLabel(bar)
        self.date_label.setObjectName("dateLabel")
        for label in (self.operator_label, self.database_label, self.date_label):
            label.setContentsMargins(6, 0, 6, 0)
        bar.addWidget(self.operator_label)
        bar.addWidget(self.database_label)
        bar.addPermanentWidget(self.demo_badge)
        bar.addPermanentWidget(self.date_label)

    def _fit_navigation(self) -> None:
        fm = self.navigation.fontMetrics()
        widest = max(
            (
                fm.horizontalAdvance(self.navigation.item(i).text())
                for i in range(self.navigation.count())
            ),
            default=0,
        )
        self.navigation.setFixedWidth(max(160, widest + 48))

    # -- navigation ----------------------------------------------------------

    def current_view_key(self) -> str | None:
        """The key of the view shown ("accounts"), None while the welcome page shows."""
        return self._current_key

    def view(self, key: str) -> QWidget | None:
        """The view ``key``, built now if it was not yet; None for an unknown key."""
        view = self.views.get(key)
        if view is not None:
            return view
        spec = next((s for s in VIEWS if s.key == key), None)
        if spec is None:
            return None
        view = _view_class(spec)(self.ctx, self.stack)
        self.views[key] = view
        self.stack.addWidget(view)
        if hasattr(view, "demo_requested"):
            view.demo_requested.connect(self.demo_requested)
        if hasattr(view, "account_activated"):
            view.account_activated.connect(self.open_account)
        return view

    def show_view(self, key: str) -> None:
        """Show the view ``key`` and select it in the navigation."""
        if key not in _VIEW_KEYS:
            log.warning("no view %r", key)
            return
        if self.account_page is not None and not self.close_account():
            self._select_navigation(self._current_key)
            return
        view = self.view(key)
        assert view is not None
        self._current_key = key
        self.stack.setCurrentWidget(view)
        self._select_navigation(key)
        # Also before the window is shown: the view then gets the first focus,
        # not the navigation list (whose focus-in would select a row).
        view.setFocus(Qt.FocusReason.OtherFocusReason)

    def _select_navigation(self, key: str | None) -> None:
        self.navigation.blockSignals(True)
        self.navigation.setCurrentRow(_VIEW_KEYS.index(key) if key in _VIEW_KEYS else -1)
        self.navigation.blockSignals(False)
        if self._menus_built and key in self.view_actions:
            self.view_actions[key].setChecked(True)

    # -- accounts ------------------------------------------------------------

    def open_account(self, account_id: int) -> None:
        """Show the account's page (replacing the one shown, if any)."""
        from billing_desktop.services.accounts import account_overview
        from billing_desktop.ui.account.page import AccountPage

        page = self.account_page
        if page is not None and page.account_id == account_id:
            self.stack.setCurrentWidget(page)
            page.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        if page is not None and not page.confirm_leave():
            return
        try:
            overview = account_overview(self.ctx, account_id)
        except DomainError as err:
            show_service_error(self, err)
            return
        self._drop_account_page()
        if self.welcome is not None:
            remember_welcome_dismissed(self.ctx)
            self._drop_welcome()
        page = AccountPage(self.ctx, account_id, self.stack, overview=overview)
        page.back_requested.connect(self.back_to_accounts)
        self.account_page = page
        self.stack.addWidget(page)
        self._current_key = "accounts"
        self.stack.setCurrentWidget(page)
        self._select_navigation("accounts")
        page.setFocus(Qt.FocusReason.OtherFocusReason)

    def close_account(self) -> bool:
        """Close the account page (asking first about unsaved edits); False if the user stays."""
        page = self.account_page
        if page is None:
            return True
        if not page.confirm_leave():
            return False
        self._drop_account_page()
        return True

    def back_to_accounts(self) -> None:
        """The page's Back: close it and show the list where it was."""
        if self.close_account():
            self.show_view("accounts")

    def _drop_account_page(self) -> None:
        page, self.account_page = self.account_page, None
        if page is not None:
            self.stack.removeWidget(page)
            page.hide()
            page.deleteLater()

    def show_quick_search(self) -> None:
        """Ctrl+K: the quick search box over the window."""
        if self._quick_search is None:
            from billing_desktop.ui.quick_search import QuickSearchDialog

            self._quick_search = QuickSearchDialog(self.ctx, self)
            self._quick_search.account_chosen.connect(self.open_account)
        self._quick_search.start()

    def switch_language(self, code: str) -> None:
        """View ▸ Language: every window, view and open wizard retranslates at once."""
        from billing_desktop.ui.preferences import switch_language

        log.info("language %s", switch_language(code))
        self._check_language()

    def _check_language(self) -> None:
        from billing_desktop import i18n

        code = i18n.current_locale().name().split("_")[0]
        for key, action in self.language_actions.items():
            action.setChecked(key == code)

    def show_settings(self) -> None:
        """The Settings dialog (language, database, mail server, theme, operator)."""
        from billing_desktop.ui.dialogs.settings_dialog import SettingsDialog

        if self._settings_dialog is None:
            dialog = SettingsDialog(self.ctx, self)
            dialog.database_change_requested.connect(self.database_change_requested)
            dialog.operator_changed.connect(self._operator_changed)
            dialog.finished.connect(self._settings_closed)
            self._settings_dialog = dialog
        self._settings_dialog.open()

    def _operator_changed(self, operator: object) -> None:
        """Settings renamed the local operator: the status bar and new work use the name."""
        import dataclasses

        self.ctx = dataclasses.replace(self.ctx, operator=operator)
        self.refresh_status()

    def _settings_closed(self) -> None:
        dialog, self._settings_dialog = self._settings_dialog, None
        if dialog is not None:
            dialog.deleteLater()
        self.refresh_status()  # the operator's name may have changed

    def show_welcome(self) -> None:
        if self.welcome is None:
            return
        self._current_key = None
        self.stack.setCurrentWidget(self.welcome)
        self.navigation.blockSignals(True)
        self.navigation.setCurrentRow(-1)
        self.navigation.blockSignals(False)
        if self._menus_built:
            for action in self.view_actions.values():
                action.setChecked(False)
        self.welcome.setFocus(Qt.FocusReason.OtherFocusReason)

    def start_empty(self) -> None:
        """The welcome page's "start with an empty database": go to the (empty) accounts."""
        remember_welcome_dismissed(self.ctx)
        self.show_view("accounts")
        self._drop_welcome()

    def _drop_welcome(self) -> None:
        welcome, self.welcome = self.welcome, None
        if welcome is not None:
            self.stack.removeWidget(welcome)
            welcome.deleteLater()

    def _on_navigation_row(self, row: int) -> None:
        if self.navigation.item(row) is self._settings_item:
            self._select_navigation(self._current_key)
            self.show_settings()
            return
        if 0 <= row < len(VIEWS):
            if (
                VIEWS[row].key == self._current_key
                and self.stack.currentWidget() is self.views.get(VIEWS[row].key)
            ):
                return  # already shown
            if self.welcome is not None:
                remember_welcome_dismissed(self.ctx)
            self.show_view(VIEWS[row].key)
            self._drop_welcome()

    def refresh_current_view(self) -> None:
        if self.account_page is not None and self.stack.currentWidget() is self.account_page:
            self.account_page.refresh()
            self.refresh_status()
            return
        view = self.views.get(self._current_key or "")
        if view is not None and hasattr(view, "refresh"):
            view.refresh()
        self.refresh_status()

    # -- status bar and texts ------------------------------------------------

    def database_name(self) -> str:
        """Short name of the database: the file name, or the URL without password."""
        target = self.ctx.db.target
        return target.path.name if target.path is not None else target.display_name()

    def refresh_status(self) -> None:
        op = self.ctx.operator
        self.operator_label.setText(
            self.tr("Operator: {name} ({role})").format(name=op.name, role=role_word(op.role))
        )
        self.operator_label.setToolTip(op.email)
        self.database_label.setText(self.tr("Database: {name}").format(name=self.database_name()))
        self.database_label.setToolTip(self.ctx.db.target.display_name())
        today = format_date(self.ctx.clock.today())
        if self.ctx.clock.simulated:
            self.date_label.setText(self.tr("Today: {date} (simulated)").format(date=today))
            self.date_label.setToolTip(
                self.tr("This database runs on a simulated date, not on the computer's clock.")
            )
        else:
            self.date_label.setText(self.tr("Today: {date}").format(date=today))
            self.date_label.setToolTip("")

    def about_text(self) -> str:
        import html

        return self.tr(
            "<h3>Billing Desktop {version}</h3>"
            "<p>A back-office for software-subscription billing.</p>"
            "<p>Database: {database}</p>"
        ).format(
            version=html.escape(__version__),
            database=html.escape(self.ctx.db.target.display_name()),
        )

    def show_about(self) -> None:
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.about(self, self.tr("About Billing Desktop"), self.about_text())

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.LanguageChange, QEvent.Type.LocaleChange):
            self.retranslateUi()
        super().changeEvent(event)

    def retranslateUi(self) -> None:
        if self._is_demo:
            self.setWindowTitle(self.tr("{database} (demo)").format(database=self.database_name()))
        else:
            self.setWindowTitle(self.database_name())
        file_menu, view_menu, help_menu = self._bar_menus
        file_menu.setTitle(self.tr("&File"))
        view_menu.setTitle(self.tr("&View"))
        help_menu.setTitle(self.tr("&Help"))
        for index, spec in enumerate(VIEWS):
            title = QCoreApplication.translate("MainWindow", spec.title)
            self.navigation.item(index).setText(title)
        self._settings_item.setText(self.tr("Settings"))
        self.navigation.setAccessibleName(self.tr("Navigation"))
        self.demo_badge.setText(self.tr("DEMO"))
        self.demo_badge.setToolTip(
            self.tr("A demo database: fictitious customers and a simulated date.")
        )
        if self._menus_built:
            self._retranslate_menus()
        self.refresh_status()

    def _retranslate_menus(self) -> None:
        self.open_demo_action.setText(self.tr("Open &Demo Database"))
        self.open_demo_action.setStatusTip(
            self.tr("Switch to the demo database with sample accounts")
        )
        self.quit_action.setText(self.tr("&Quit"))
        self.quick_search_action.setText(self.tr("&Find Account…"))
        self.quick_search_action.setStatusTip(
            self.tr("Find an account by ID, company, contact name or email, or invoice number")
        )
        for spec in VIEWS:
            title = QCoreApplication.translate("MainWindow", spec.title)
            self.view_actions[spec.key].setText(title)
        self.settings_action.setText(self.tr("&Settings…"))
        self.settings_action.setStatusTip(
            self.tr("Language, database, mail server, theme and operator identity")
        )
        self.language_menu.setTitle(self.tr("&Language"))
        self.navigation_action.setText(self.tr("Show &Navigation"))
        self.refresh_action.setText(self.tr("&Refresh"))
        self.about_action.setText(self.tr("&About Billing Desktop"))

    # -- settings ------------------------------------------------------------

    def _restore_settings(self) -> None:
        settings = QSettings()
        geometry = settings.value(_SETTINGS_GEOMETRY)
        if geometry is None or not self.restoreGeometry(geometry):
            self._default_geometry()
        state = settings.value(_SETTINGS_STATE)
        if state is not None:
            self.restoreState(state)
        if not settings.value(_SETTINGS_NAVIGATION, True, type=bool):
            self.navigation.setVisible(False)  # View ▸ Show Navigation follows when built
        if self.welcome is not None:
            self.show_welcome()
            return
        key = str(settings.value(_SETTINGS_VIEW, VIEWS[0].key))
        self.show_view(key if key in _VIEW_KEYS else VIEWS[0].key)

    def _default_geometry(self) -> None:
        screen = QGuiApplication.primaryScreen()
        width, height = 1280, 800
        if screen is not None:
            available = screen.availableGeometry()
            width = min(width, int(available.width() * 0.95))
            height = min(height, int(available.height() * 0.95))
        self.resize(width, height)

    def save_settings(self) -> None:
        """Remember geometry, layout, the navigation panel and the current view."""
        settings = QSettings()
        settings.setValue(_SETTINGS_GEOMETRY, self.saveGeometry())
        settings.setValue(_SETTINGS_STATE, self.saveState())
        settings.setValue(_SETTINGS_NAVIGATION, self.navigation.isVisibleTo(self))
        if self._current_key is not None:
            settings.setValue(_SETTINGS_VIEW, self._current_key)
        for view in self.views.values():
            if hasattr(view, "save_settings"):
                view.save_settings()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_settings()
        self._status_timer.stop()
        super().closeEvent(event)
