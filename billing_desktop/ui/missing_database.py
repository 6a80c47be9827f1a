"""At start-up: the database chosen in Settings has vanished — ask what to open instead.

The file may be on a USB stick or a network share that is not connected, or it
was moved or deleted. Opening it would create a new, empty database in its
place, and the user would think their data were lost. Instead the user is told
which database is missing and chooses: the default database for now (the
missing one is looked for again at the next start), another database file
(remembered from now on, as if chosen in Settings), or quit.

Imported only when that happens (never on the way to the first paint).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from billing_desktop.config import DatabaseTarget, default_target, target_from

__all__ = ["MissingDatabaseChoice", "ask_for_missing_database"]


class MissingDatabaseChoice(NamedTuple):
    """The database to open instead, and whether to remember it for the next starts."""

    target: DatabaseTarget
    remember: bool


def ask_for_missing_database(
    missing: DatabaseTarget, parent: QWidget | None = None
) -> MissingDatabaseChoice | None:
    """Tell the user ``missing`` cannot be found and ask what to open; None: quit."""
    translate = QCoreApplication.translate
    box = QMessageBox(parent)
    box.setObjectName("missingDatabaseMessage")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(translate("App", "Billing Desktop"))
    text = translate("MissingDatabase", "The database {path} cannot be found.")
    box.setText(text.format(path=missing.display_name()))
    box.setInformativeText(
        translate(
            "MissingDatabase",
            "It was moved or deleted, or its drive or network share is not connected. "
            "Nothing was created in its place, and Billing Desktop looks for it again at "
            "the next start. You can open the default database for now, choose another "
            "database file, or quit and connect the drive first.",
        )
    )
    default = box.addButton(
        translate("MissingDatabase", "Open the &default database"),
        QMessageBox.ButtonRole.AcceptRole,
    )
    default.setObjectName("openDefaultDatabase")
    choose = box.addButton(
        translate("MissingDatabase", "&Choose another file…"), QMessageBox.ButtonRole.ActionRole
    )
    choose.setObjectName("chooseDatabaseFile")
    quit_button = box.addButton(
        translate("MissingDatabase", "&Quit"), QMessageBox.ButtonRole.RejectRole
    )
    quit_button.setObjectName("quitApplication")
    box.setDefaultButton(default)
    box.setEscapeButton(quit_button)
    folder = missing.path.parent if missing.path is not None else None
    while True:
        box.exec()
        clicked = box.clickedButton()
        if clicked is default:
            return MissingDatabaseChoice(default_target(), remember=False)
        if clicked is not choose:
            return None  # Quit, Escape or the window closed
        chosen = _choose_file(parent, folder)
        if chosen is not None:
            return MissingDatabaseChoice(target_from(chosen), remember=True)
        # the file dialog was cancelled: ask again


def _choose_file(parent: QWidget | None, folder: Path | None) -> str | None:
    """An existing database file the user picks; None when the dialog is cancelled."""
    translate = QCoreApplication.translate
    dialog = QFileDialog(parent, translate("MissingDatabase", "Open a database file"))
    dialog.setObjectName("missingDatabaseFileDialog")
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
    dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    dialog.setNameFilters(
        [
            translate("MissingDatabase", "SQLite databases (*.sqlite3 *.sqlite *.db)"),
            translate("MissingDatabase", "All files (*)"),
        ]
    )
    # where the file was, if that folder is still there; else the user's home
    dialog.setDirectory(str(folder if folder is not None and folder.is_dir() else Path.home()))
    if dialog.exec() != QFileDialog.DialogCode.Accepted or not dialog.selectedFiles():
        return None
    return dialog.selectedFiles()[0]
