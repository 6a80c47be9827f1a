"""Baseline for cold start: a bare PySide6 window that quits once it has painted.

Prints ``painted <time.monotonic()>`` right after its label has painted (the
clock is the machine's, so the parent subtracts the time it started us).
"""

from __future__ import annotations

import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow


class _QuitOnPaint(QObject):
    painted_at: float | None = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self.painted_at is None:
            watched.event(event)  # the label paints now
            self.painted_at = time.monotonic()
            print(f"painted {self.painted_at!r}", flush=True)
            QTimer.singleShot(0, QApplication.quit)
            return True
        return False


def main() -> int:
    app = QApplication(sys.argv)
    window = QMainWindow()
    label = QLabel("Hello")
    window.setCentralWidget(label)
    watcher = _QuitOnPaint()
    label.installEventFilter(watcher)
    window.resize(1280, 800)
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
