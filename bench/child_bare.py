"""Baseline for cold start: a bare PySide6 window that quits once it has painted."""

from __future__ import annotations

import sys

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow


class _QuitOnPaint(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            QTimer.singleShot(0, QApplication.quit)
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
