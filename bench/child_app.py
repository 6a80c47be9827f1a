"""Cold start of the real application: quits once the accounts table has painted rows.

Run as ``python -m bench.child_app PATH``. Prints ``painted <time.monotonic()>``
right after the first item view showing rows has painted them (the clock is
the machine's, so the parent subtracts the time it started us), as
``bench.child_bare`` does for its label; then quits (the exit, which saves the
window's state and closes the database, is not part of the start).

How it sees the paint without costing the application time: the item view
classes get a Python ``paintEvent`` that calls Qt's and then looks at the
view's model (a view's rows are painted in its ``paintEvent``, called for its
viewport's paint events). The obvious alternatives cost the measured process
time the application itself never spends: an application-wide event filter
makes PySide wrap every object it is handed (resolving about 150 Python enum
types of QtCore, QtGui and QtWidgets, 25-35 ms), and asking a view for its
viewport from Python (to watch it) creates some 60 enum types (about 10 ms).
"""

from __future__ import annotations

import sys
import time
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QListView, QTableView, QTreeView


class _QuitWhenAccountsPainted:
    def __init__(self) -> None:
        self.painted_at: float | None = None

    def _painted(self) -> None:
        self.painted_at = time.monotonic()
        print(f"painted {self.painted_at!r}", flush=True)
        QTimer.singleShot(0, QApplication.quit)

    def watch_item_views(self) -> None:
        """Note the end of the first paint of an item view that shows rows."""
        for cls in (QTableView, QListView, QTreeView):

            def paint_event(view: Any, event: Any, _original: Any = cls.paintEvent) -> None:
                _original(view, event)
                if self.painted_at is None:
                    model = view.model()
                    if model is not None and model.rowCount() > 0:
                        self._painted()

            cls.paintEvent = paint_event


def main() -> int:
    from billing_desktop.app import run_gui
    from billing_desktop.config import target_from

    watcher = _QuitWhenAccountsPainted()
    watcher.watch_item_views()
    return run_gui(target_from(sys.argv[1]))


if __name__ == "__main__":
    sys.exit(main())
