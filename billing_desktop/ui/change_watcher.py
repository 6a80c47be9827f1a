"""Live refresh: open views read again when another operator changed the database.

:class:`ChangeWatcher` turns the store's change signal (``store.changes``)
into a Qt signal: on SQLite it polls ``PRAGMA data_version`` every second; on
PostgreSQL a ``QSocketNotifier`` on the LISTEN connection wakes it when a
notification arrives. Bursts (a renewal run commits many times) are folded
into one ``changed()``.

:func:`install_change_watcher` connects it to a main window: the view shown
and the open account's Overview refresh in place (scroll position and
selection stay); views not shown refresh when they are shown next.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QSocketNotifier, QTimer, Signal

if TYPE_CHECKING:
    from billing_desktop.store.changes import ChangeSignal
    from billing_desktop.store.database import Database

log = logging.getLogger("billing_desktop.ui")

#: how often SQLite's change counter is read
POLL_MS = 1000
#: changes this close together make one refresh
SETTLE_MS = 150
#: PostgreSQL: a poll now and then as well, should a notification wake nothing
SERVER_POLL_MS = 10_000


class ChangeWatcher(QObject):
    """Emits :attr:`changed` after another connection committed a change."""

    changed = Signal()

    def __init__(
        self,
        db: Database,
        parent: QObject | None = None,
        *,
        poll_ms: int = POLL_MS,
        source: ChangeSignal | None = None,
    ) -> None:
        super().__init__(parent)
        if source is None:
            from billing_desktop.store.changes import open_change_signal

            source = open_change_signal(db)
        self._source: ChangeSignal | None = source
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self.changed)
        self._notifier: QSocketNotifier | None = None
        fileno = source.fileno()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)
        if fileno is not None:
            self._notifier = QSocketNotifier(fileno, QSocketNotifier.Type.Read, self)
            self._notifier.activated.connect(self.check)
            self._timer.start(max(poll_ms, SERVER_POLL_MS))
        else:
            self._timer.start(poll_ms)

    @property
    def active(self) -> bool:
        return self._source is not None

    def check(self, *_args: Any) -> bool:
        """Look for a change now; ``changed()`` follows shortly when there was one."""
        if self._source is None:
            return False
        try:
            changed = self._source.poll()
        except Exception:  # never let a watch take the window down
            log.exception("change signal failed; live refresh stops")
            self.stop()
            return False
        if changed and not self._settle.isActive():
            self._settle.start()
        return changed

    def stop(self) -> None:
        """Stop watching and close the dedicated connection."""
        self._timer.stop()
        self._settle.stop()
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier.deleteLater()
            self._notifier = None
        if self._source is not None:
            self._source.close()
            self._source = None


def install_change_watcher(window: Any) -> ChangeWatcher | None:
    """Refresh ``window``'s views when the database changes (the main window calls
    this once its views can be built); returns the watcher (None if the database
    cannot be watched: the application works as before, with F5). Idempotent."""
    installed = getattr(window, "change_watcher", None)
    if isinstance(installed, ChangeWatcher):
        return installed
    try:
        watcher = ChangeWatcher(window.ctx.db, window)
    except Exception as exc:
        log.warning("live refresh is off: %s", exc)
        return None
    stale: set[int] = set()

    def on_changed() -> None:
        shown = window.stack.currentWidget()
        page = getattr(window, "account_page", None)
        if page is not None:
            _refresh_account_page(page)
        for view in list(window.views.values()):
            if view is shown:
                _refresh_view(view)
            else:
                stale.add(id(view))

    def on_shown(_index: int) -> None:
        shown = window.stack.currentWidget()
        if shown is not None and id(shown) in stale:
            stale.discard(id(shown))
            _refresh_view(shown)

    watcher.changed.connect(on_changed)
    window.stack.currentChanged.connect(on_shown)
    source = watcher._source
    if source is not None:  # the dedicated connection closes with the window
        window.destroyed.connect(lambda *_: source.close())
    window.change_watcher = watcher
    return watcher


def _refresh_view(view: Any) -> None:
    refresh = getattr(view, "refresh_live", None)
    if refresh is None:
        return
    try:
        refresh()
    except Exception:
        log.exception("live refresh of %s failed", type(view).__name__)


def _refresh_account_page(page: Any) -> None:
    from billing_desktop.domain.errors import DomainError

    tab = page.built_tabs().get("overview")
    try:
        if tab is not None and hasattr(tab, "refresh_live"):
            tab.refresh_live()
        if tab is None or not tab.has_unsaved_changes():
            page.reload_header()
    except DomainError as err:  # the account is gone: F5 or Back tells the user
        log.info("live refresh of the account page: %s", err)
