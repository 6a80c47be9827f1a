"""Cold start of the real application: quits once the accounts table has painted rows.

Run as ``python -m bench.child_app PATH``; the parent measures the wall time
from process start to exit, as for ``bench.child_bare``.

The watcher sits on the item views themselves (hooked when the application
gives them a model), like ``child_bare``'s on its label. An application-wide
event filter would see every event of every object, and wrapping the C++
objects it is handed makes PySide resolve every QObject subclass of QtCore,
QtGui and QtWidgets (about 150 Python enums): 25-35 ms that the application
itself never spends. A view's own Paint event comes in the same paint pass as
its viewport's, so quitting from a posted call still happens only after the
rows are on screen. Should no view get its model from Python, the
application-wide filter is installed when the event loop starts.
"""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QColumnView,
    QListView,
    QTableView,
    QTreeView,
)


class _QuitWhenAccountsPainted(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.views_watched = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            view = watched if isinstance(watched, QAbstractItemView) else watched.parent()
            model = view.model() if isinstance(view, QAbstractItemView) else None
            if model is not None and model.rowCount() > 0:
                QTimer.singleShot(0, QApplication.quit)
        return False

    def watch_views_given_a_model(self) -> None:
        """Watch every item view on which Python code calls ``setModel``."""
        for cls in (QAbstractItemView, QColumnView, QListView, QTableView, QTreeView):
            original = cls.__dict__.get("setModel")
            if original is None:
                continue

            def set_model(view: Any, model: Any, _original: Any = original) -> None:
                _original(view, model)
                view.installEventFilter(self)
                self.views_watched += 1

            cls.setModel = set_model


class _App(QApplication):
    watcher: _QuitWhenAccountsPainted

    def exec(self) -> int:
        if not self.watcher.views_watched:
            self.installEventFilter(self.watcher)  # nothing hooked: watch everything
        return super().exec()


def main() -> int:
    from billing_desktop.app import run_gui
    from billing_desktop.config import target_from

    app = _App(sys.argv[:1])
    app.watcher = _QuitWhenAccountsPainted()
    app.watcher.watch_views_given_a_model()
    return run_gui(target_from(sys.argv[1]))


if __name__ == "__main__":
    sys.exit(main())
