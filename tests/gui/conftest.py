"""GUI-only fixtures: private QSettings, a known locale, a main window on a database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QLocale, QSettings


@pytest.fixture(autouse=True)
def _gui_environment(qapp, tmp_path: Path) -> Iterator[None]:
    """Each test gets empty QSettings and the en_US locale, restored afterwards.

    Qt computes the settings path once per process, so the per-test XDG
    directories of the root conftest are not enough: point it at tmp_path.
    """
    QCoreApplication.setOrganizationName("Billing Desktop Tests")
    QCoreApplication.setApplicationName("billing-desktop-tests")
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    previous = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
    yield
    QLocale.setDefault(previous)


@pytest.fixture(autouse=True)
def _collect_garbage_on_the_gui_thread():
    """Widgets a test left in reference cycles are freed here, on the GUI thread,
    after the test: otherwise a later test's worker thread may run the cyclic
    garbage collector and free Qt objects from the wrong thread (a crash)."""
    yield
    import gc

    gc.collect()
