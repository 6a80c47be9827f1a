"""File ▸ Snapshots…: save the demo database's state under a name and return to it.

A trainer saves the state before a scene ("Before the cancellation"), plays
it, and restores the snapshot to play it again. The list shows each
snapshot's name, when it was taken and the simulated date it holds. Restore
and Delete ask first. Saving, restoring and deleting go through
:mod:`billing_desktop.services.sandbox`, which refuses them outside a demo
database and for roles other than administrator and trainer (the buttons are
then disabled, the list still shows).

After a restore the dialog emits :attr:`SnapshotsDialog.restored` and closes;
whoever opened it re-opens the window on the database (its views still show
the state before the restore).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QEvent,
    QLocale,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTime,
    Signal,
)
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from billing_desktop.domain.errors import DomainError
from billing_desktop.ui.errors import show_service_error
from billing_desktop.ui.formatting import format_date
from billing_desktop.ui.models.table import RowTableModel, setup_row_table

if TYPE_CHECKING:
    from billing_desktop.services.context import AppContext
    from billing_desktop.services.sandbox import SnapshotInfo

__all__ = ["SnapshotsDialog", "SnapshotsModel", "format_taken"]

_Index = QModelIndex | QPersistentModelIndex


def format_taken(moment: datetime, locale: QLocale | None = None) -> str:
    """When a snapshot was taken: the date as everywhere, the time in the locale's short form."""
    loc = locale if locale is not None else QLocale()
    time_text = loc.toString(QTime(moment.hour, moment.minute), QLocale.FormatType.ShortFormat)
    return f"{format_date(moment.date(), loc)} {time_text}"


class SnapshotsModel(RowTableModel):
    """The snapshots of the demo database, newest first (rows are ``SnapshotInfo``)."""

    NAME, TAKEN, SIMULATED = range(3)
    COLUMN_COUNT = 3
    CONTEXT = "SnapshotsModel"
    HEADERS = (
        QT_TRANSLATE_NOOP("SnapshotsModel", "Name"),
        QT_TRANSLATE_NOOP("SnapshotsModel", "Taken"),
        QT_TRANSLATE_NOOP("SnapshotsModel", "Simulated date"),
    )
    #: a value to sort by (text, datetime or ISO date)
    SortRole = Qt.ItemDataRole.UserRole + 2

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        info: SnapshotInfo | None = self._row_at(index)
        if info is None:
            return None
        column = index.column()
        if role == self.ObjectRole:
            return info
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if column == self.NAME:
                return info.name
            if column == self.TAKEN:
                return format_taken(info.created_at)
            if column == self.SIMULATED:
                return format_date(info.simulated_date) if info.simulated_date else ""
        if role == self.SortRole:
            if column == self.NAME:
                return info.name.casefold()
            if column == self.TAKEN:
                return info.created_at.isoformat()
            if column == self.SIMULATED:
                return info.simulated_date.isoformat() if info.simulated_date else ""
        return None


class SnapshotsDialog(QDialog):
    """The list of snapshots with Save Current State…, Restore and Delete."""

    #: a snapshot was restored into the open database (carries its ``SnapshotInfo``)
    restored = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        from billing_desktop.services.sandbox import may_manage_demo

        super().__init__(parent)
        self.setObjectName("snapshotsDialog")
        self._ctx = ctx
        self._may = may_manage_demo(ctx)
        self._question: QWidget | None = None  # the confirmation or name box shown

        self.intro = QLabel(self)
        self.intro.setWordWrap(True)
        self.model = SnapshotsModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("snapshotsTable")
        setup_row_table(self.table, self.model)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(SnapshotsModel.NAME, QHeaderView.ResizeMode.Stretch)
        for column in (SnapshotsModel.TAKEN, SnapshotsModel.SIMULATED):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.empty_label = QLabel(self)
        self.empty_label.setObjectName("snapshotsEmpty")
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setEnabled(False)  # the muted look of a placeholder
        self.status_label = QLabel(self)
        self.status_label.setObjectName("snapshotsStatus")
        self.status_label.setWordWrap(True)

        self.save_button = QPushButton(self)
        self.save_button.setObjectName("saveSnapshotButton")
        self.restore_button = QPushButton(self)
        self.restore_button.setObjectName("restoreSnapshotButton")
        self.delete_button = QPushButton(self)
        self.delete_button.setObjectName("deleteSnapshotButton")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.buttons.rejected.connect(self.reject)

        actions = QHBoxLayout()
        actions.addWidget(self.save_button)
        actions.addStretch(1)
        actions.addWidget(self.restore_button)
        actions.addWidget(self.delete_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty_label, 1)
        layout.addLayout(actions)
        layout.addWidget(self.status_label)
        layout.addWidget(self.buttons)

        self.save_button.clicked.connect(self.ask_name)
        self.restore_button.clicked.connect(self.confirm_restore)
        self.delete_button.clicked.connect(self.confirm_delete)
        self.table.activated.connect(lambda _index: self.confirm_restore())
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.table.installEventFilter(self)  # the Delete key deletes (after asking)

        self.retranslateUi()
        self.resize(max(self.sizeHint().width(), 620), 380)
        self.reload()

    # -- list ------------------------------------------------------------

    def reload(self, select: str | None = None) -> None:
        """Read the snapshots again; select the one named ``select`` (else the first)."""
        from billing_desktop.services.sandbox import list_snapshots

        try:
            snapshots = list_snapshots(self._ctx)
        except DomainError as err:
            show_service_error(self, err)
            snapshots = []
        self.model.set_rows(snapshots)
        empty = not snapshots
        self.table.setVisible(not empty)
        self.empty_label.setVisible(empty)
        if snapshots:
            row = next((i for i, s in enumerate(snapshots) if select and s.name == select), 0)
            self.table.selectRow(row)
        self._update_buttons()

    def selected(self) -> SnapshotInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_object(rows[0].row()) if rows else None

    def _update_buttons(self) -> None:
        chosen = self.selected() is not None
        self.save_button.setEnabled(self._may)
        self.restore_button.setEnabled(self._may and chosen)
        self.delete_button.setEnabled(self._may and chosen)

    # -- save ------------------------------------------------------------

    def ask_name(self) -> None:
        """Save Current State…: ask for a name (a suggestion with the simulated date)."""
        if not self._may or self._question is not None:
            return
        box = QInputDialog(self)
        box.setObjectName("snapshotNameInput")
        box.setWindowTitle(self.tr("Save Current State"))
        box.setLabelText(self.tr("Name of the snapshot:"))
        box.setInputMode(QInputDialog.InputMode.TextInput)
        box.setTextValue(
            self.tr("State on {date}").format(date=format_date(self._ctx.clock.today()))
        )
        box.setOkButtonText(self.tr("&Save"))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        line = box.findChild(QLineEdit)
        if line is not None:
            from billing_desktop.services.sandbox import MAX_NAME_LENGTH

            line.setMaxLength(MAX_NAME_LENGTH)
            line.setMinimumWidth(line.fontMetrics().averageCharWidth() * 44)
        box.textValueSelected.connect(self.save)
        self._show_question(box)

    def save(self, name: str, replace: bool = False) -> None:
        from billing_desktop.services.sandbox import SnapshotExists, save_snapshot

        self._question = None  # the name (or replace) question has been answered

        try:
            info = save_snapshot(self._ctx, name, replace=replace)
        except SnapshotExists as err:
            self._confirm_replace(name, str(err.params["name"]))
            return
        except DomainError as err:
            show_service_error(self, err)
            return
        self.reload(select=info.name)
        self.status_label.setText(self.tr("Saved the snapshot “{name}”.").format(name=info.name))

    def _confirm_replace(self, name: str, existing: str) -> None:
        box = self._question_box(
            "replaceSnapshotConfirmation",
            self.tr("Replace Snapshot"),
            self.tr(
                "A snapshot named “{name}” already exists. Replace it with the current state?"
            ).format(name=existing),
            "",
            self.tr("&Replace"),
            "confirmReplace",
            lambda: self.save(name, replace=True),
        )
        self._show_question(box)

    # -- restore / delete ------------------------------------------------

    def confirm_restore(self) -> None:
        info = self.selected()
        if info is None or not self._may or self._question is not None:
            return
        if info.simulated_date is not None:
            detail = self.tr(
                "Everything done since it was saved is lost, unless it is in another snapshot. "
                "The simulated date goes back to {date}."
            ).format(date=format_date(info.simulated_date))
        else:
            detail = self.tr(
                "Everything done since it was saved is lost, unless it is in another snapshot."
            )
        box = self._question_box(
            "restoreSnapshotConfirmation",
            self.tr("Restore Snapshot"),
            self.tr("Return the demo database to the snapshot “{name}”?").format(name=info.name),
            detail,
            self.tr("&Restore"),
            "confirmRestore",
            lambda: self.restore(info.name),
        )
        self._show_question(box)

    def restore(self, name: str) -> None:
        """Restore now (no question asked): one backup, on the GUI thread that reads."""
        from billing_desktop.services.sandbox import restore_snapshot

        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            info = restore_snapshot(self._ctx, name)
        except DomainError as err:
            QApplication.restoreOverrideCursor()
            show_service_error(self, err)
            self.reload()
            return
        QApplication.restoreOverrideCursor()
        self.restored.emit(info)
        self.accept()

    def confirm_delete(self) -> None:
        info = self.selected()
        if info is None or not self._may or self._question is not None:
            return
        box = self._question_box(
            "deleteSnapshotConfirmation",
            self.tr("Delete Snapshot"),
            self.tr("Delete the snapshot “{name}”?").format(name=info.name),
            self.tr("The demo database itself does not change."),
            self.tr("&Delete"),
            "confirmDelete",
            lambda: self.delete(info.name),
        )
        self._show_question(box)

    def delete(self, name: str) -> None:
        from billing_desktop.services.sandbox import delete_snapshot

        try:
            delete_snapshot(self._ctx, name)
        except DomainError as err:
            show_service_error(self, err)
        else:
            self.status_label.setText(self.tr("Deleted the snapshot “{name}”.").format(name=name))
        self.reload()

    # -- boxes -----------------------------------------------------------

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
        box = QMessageBox(self)
        box.setObjectName(name)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(title)
        box.setText(text)
        if detail:
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

    def _show_question(self, box: QDialog) -> None:
        """Open ``box`` (window-modal, deleted when closed) as the one question asked."""
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _result, asked=box: self._forget_question(asked))
        self._question = box
        box.open()

    def _forget_question(self, asked: QDialog) -> None:
        if self._question is asked:  # not a question asked since, from its answer
            self._question = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.table
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.matches(QKeySequence.StandardKey.Delete)
        ):
            self.confirm_delete()
            return True
        return super().eventFilter(watched, event)

    # -- language --------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslateUi()
        super().changeEvent(event)

    def retranslateUi(self) -> None:
        self.setWindowTitle(self.tr("Snapshots"))
        self.intro.setText(
            self.tr(
                "A snapshot keeps the demo database as it is now, so you can return to it "
                "and repeat a scene."
            )
        )
        self.empty_label.setText(
            self.tr("No snapshots yet. Save the current state to come back to it later.")
        )
        self.save_button.setText(self.tr("&Save Current State…"))
        self.restore_button.setText(self.tr("&Restore"))
        self.delete_button.setText(self.tr("&Delete"))
        self.table.setAccessibleName(self.tr("Snapshots"))
        if not self._may:
            self.status_label.setText(
                self.tr("Only administrators and trainers can save and restore snapshots.")
            )
        self.model.retranslate()
