"""The installed Qt bindings keep Python's reference counts right.

PySide6 6.12.0 dropped a reference to None every time Qt called a Python
method returning None (a model's ``data()`` for a role it does not answer, a
``paintEvent``); on Python 3.11 the interpreter then aborts after a few
thousand calls — scrolling a table was enough. The check runs in a child
process, so a broken binding fails this test instead of killing the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = r"""
import sys
from PySide6.QtCore import QAbstractListModel, QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QApplication, QWidget

app = QApplication([])

class Model(QAbstractListModel):
    def rowCount(self, parent=QModelIndex()):
        return 3

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        return None

class Widget(QWidget):
    def paintEvent(self, event):
        return None

model = Model()
proxy = QSortFilterProxyModel()
proxy.setSourceModel(model)
widget = Widget()
widget.resize(40, 40)
widget.show()
app.processEvents()
before = sys.getrefcount(None)
for _ in range(2000):
    proxy.data(proxy.index(1, 0), Qt.ItemDataRole.DisplayRole)  # Qt calls Model.data
    widget.repaint()
print(before - sys.getrefcount(None))
"""


def test_none_returned_to_qt_keeps_its_reference_count() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lost = int(result.stdout.strip().splitlines()[-1])
    assert lost < 100, f"{lost} references to None lost in 4000 calls from Qt"
