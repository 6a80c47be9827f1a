"""The Accounts view: filter bar, lazily loaded table, count and empty state (SPEC §4).

Everything the user narrows or sorts by is passed to the model as an
``AccountFilter`` or a sort column and answered in SQL; typing is debounced so
a fast typist causes one query, not one per key.

Start-up: the first page is read once, in the saved sort order; the count,
the country and representative choices, the clear button (its icon loads
plugins) and the keyboard shortcuts (Ctrl+F, Escape in the filter) come right
after the first paint, and the empty-table hint only when the table is empty.

Representatives: the representative filter offers *All representatives*,
*My accounts* when the operator is a representative (an operator *is* the
representative ``accounts.representative_id`` points at; it is also the
default for them: a representative opens on their portfolio) and each active
representative.

Export: *Export CSV…* writes the current filter in the current sort to a
file, off the GUI thread, with a progress dialog and Cancel
(:func:`billing_desktop.services.export.export_accounts_csv`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from billing_desktop.domain.errors import DomainError
from billing_desktop.services.account_list import AccountFilter, filter_choices
from billing_desktop.services.context import AppContext
from billing_desktop.ui.formatting import format_money
from billing_desktop.ui.models.accounts_model import AccountsTableModel, status_word, type_word
from billing_desktop.ui.models.table import setup_list_table, size_columns_to_samples
from billing_desktop.ui.views.common import ListView

if TYPE_CHECKING:
    from billing_desktop.services.export import AccountsExport

__all__ = ["AccountsView"]

log = logging.getLogger("billing_desktop.ui")

#: Typing pause before the filter is applied, in milliseconds.
FILTER_DELAY_MS = 150

#: Narrowest the text filter and the filter combos get in a small window (pixels).
_FILTER_MIN_WIDTH = 100
_COMBO_MIN_WIDTH = 64
_COUNT_MIN_WIDTH = 40

_SETTINGS_HEADER = "accounts/header"
_SETTINGS_EXPORT_DIR = "accounts/export_dir"


class AccountsView(ListView):
    """All accounts, filtered and sorted in SQL; only the visible pages are loaded."""

    EMPTY_LABEL_NAME = "accountsEmpty"

    #: The user chose an account (double-click or Enter); carries the account id.
    account_activated = Signal(int)
    #: The empty-database hint's "open the demo database" link was clicked.
    demo_requested = Signal()
    #: An export finished: the file written and the number of accounts in it.
    exported = Signal(str, int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("accountsView")
        self._ctx = ctx
        self._is_demo = ctx.is_demo

        self.filter_edit = QLineEdit(self)
        self.filter_edit.setObjectName("accountsFilter")
        self.filter_edit.setMinimumWidth(_FILTER_MIN_WIDTH)
        self.type_combo = QComboBox(self)
        self.type_combo.setObjectName("accountsTypeFilter")
        self.type_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for value in (None, "standard", "corporate"):
            self.type_combo.addItem("", value)
        self.country_combo = QComboBox(self)
        self.country_combo.setObjectName("accountsCountryFilter")
        self.country_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.country_combo.addItem("", None)  # "All countries"; the rest after the first paint
        self.rep_combo = QComboBox(self)
        self.rep_combo.setObjectName("accountsRepresentativeFilter")
        self.rep_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        # Full width when there is room; narrower (the text clipped) in a small window,
        # so the bar never makes the main window wider than a small screen.
        for combo in (self.type_combo, self.country_combo, self.rep_combo):
            combo.setMinimumWidth(_COMBO_MIN_WIDTH)
        self.rep_combo.addItem("", None)  # "All representatives"; the rest after the first paint
        #: the operator's own id when they are a representative ("My accounts")
        self._my_id = ctx.operator.id if ctx.operator.role == "representative" else None
        if self._my_id is not None:
            self.rep_combo.addItem("", self._my_id)
            self.rep_combo.setCurrentIndex(1)  # a representative opens on their portfolio
        self.overdue_check = QCheckBox(self)
        self.overdue_check.setObjectName("accountsOverdueFilter")
        self.count_label = QLabel(self)
        self.count_label.setObjectName("accountsCount")
        self.count_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.count_label.setMinimumWidth(_COUNT_MIN_WIDTH)
        self.export_button = QPushButton(self)
        self.export_button.setObjectName("accountsExport")
        self.export_button.clicked.connect(self.export_csv)
        self._export_task: Any = None
        #: says how the last export went (hidden until there was one)
        self.export_status = QLabel(self)
        self.export_status.setObjectName("accountsExportStatus")
        self.export_status.setMinimumWidth(1)  # squeezed first in a small window
        self.export_status.hide()
        self._last_export: AccountsExport | None = None

        # Read once, below, in the saved sort order and the default filter.
        self.model = AccountsTableModel(ctx, self, load=False)
        self.model.set_filter(self.current_filter())
        self.table = QTableView(self)
        self.table.setObjectName("accountsTable")
        self._setup_table()

        bar = QHBoxLayout()
        bar.setSpacing(8)
        bar.addWidget(self.filter_edit, 2)
        bar.addWidget(self.type_combo)
        bar.addWidget(self.country_combo)
        bar.addWidget(self.rep_combo)
        bar.addWidget(self.overdue_check)
        bar.addStretch(1)
        bar.addWidget(self.count_label)
        bar.addWidget(self.export_status)
        bar.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(8)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        self.setFocusProxy(self.filter_edit)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(FILTER_DELAY_MS)
        self._debounce.timeout.connect(self.apply_filter)
        self.filter_edit.textChanged.connect(self._debounce.start)
        self.filter_edit.returnPressed.connect(self._on_return)
        self.type_combo.currentIndexChanged.connect(self.apply_filter)
        self.country_combo.currentIndexChanged.connect(self.apply_filter)
        self.rep_combo.currentIndexChanged.connect(self.apply_filter)
        self.overdue_check.toggled.connect(self.apply_filter)

        self.model.totalChanged.connect(self._on_total_changed)
        self.model.modelReset.connect(self._update_empty_state)
        self.table.activated.connect(self._on_activated)

        self._retranslate_widgets()
        self._restore_header()
        # The first page now; the count (a scan of every matching account)
        # after the first paint, with the filter choices.
        self.model.refresh(count=False)

    # -- setup ---------------------------------------------------------------

    def _setup_table(self) -> None:
        header = setup_list_table(self.table, self.model)
        header.setSectionResizeMode(AccountsTableModel.COMPANY, QHeaderView.ResizeMode.Stretch)
        self._default_column_widths()
        header.setSortIndicator(self.model.sort_column, self.model.sort_order)
        self.table.setSortingEnabled(True)

    def _default_column_widths(self) -> None:
        """Widths that fit typical content, so nothing is elided at 1280 px."""
        m = AccountsTableModel
        samples = {
            m.ID: "A-0000000",
            m.TYPE: type_word("corporate"),
            m.COUNTRY: "MM",
            m.REPRESENTATIVE: "Representative Name",
            m.ACTIVE_SUBSCRIPTIONS: "000",
            m.BALANCE: format_money(-123456789, "EUR"),
            m.STATUS: status_word("overdue"),
        }
        size_columns_to_samples(self.table, samples, padding=28)  # margins plus the sort indicator

    def _restore_header(self) -> None:
        state = QSettings().value(_SETTINGS_HEADER)
        header = self.table.horizontalHeader()
        if state is not None and header.restoreState(state):
            header.setSectionResizeMode(AccountsTableModel.COMPANY, QHeaderView.ResizeMode.Stretch)
            self.model.sort(header.sortIndicatorSection(), header.sortIndicatorOrder())

    def save_settings(self) -> None:
        """Remember column widths, order and sort for next time."""
        QSettings().setValue(_SETTINGS_HEADER, self.table.horizontalHeader().saveState())

    def _finish_setup(self) -> None:
        """What the first paint does not need: the shortcuts, the count, the filter
        choices, the clear button."""
        if self._deferred_done:
            return
        self._deferred_done = True
        self._add_shortcuts()
        self.model.count_total()
        # Its icon loads the icon-engine and image-format plugins.
        self.filter_edit.setClearButtonEnabled(True)
        self._load_choices()

    def _add_shortcuts(self) -> None:
        """Ctrl+F goes to the filter; Escape in the filter clears it."""
        from PySide6.QtGui import QKeySequence, QShortcut

        self._find = QShortcut(QKeySequence(QKeySequence.StandardKey.Find), self)
        self._find.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._find.activated.connect(self.focus_filter)
        self._escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self.filter_edit)
        self._escape.setContext(Qt.ShortcutContext.WidgetShortcut)
        self._escape.activated.connect(self.clear_text_filter)

    def _load_choices(self) -> None:
        countries, reps = filter_choices(self._ctx)
        self._load_representatives(reps)
        current = self.country_combo.currentData()
        self.country_combo.blockSignals(True)
        try:
            self.country_combo.clear()
            self.country_combo.addItem("", None)
            for code in countries:
                self.country_combo.addItem(code, code)
            index = self.country_combo.findData(current) if current else 0
            self.country_combo.setCurrentIndex(max(index, 0))
        finally:
            self.country_combo.blockSignals(False)
        self.country_combo.setItemText(0, self.tr("All countries"))

    def _load_representatives(self, reps: list[tuple[int, str]]) -> None:
        """All representatives, My accounts (a representative), then each one by name."""
        current = self.rep_combo.currentData()
        fixed = 1 if self._my_id is None else 2
        self.rep_combo.blockSignals(True)
        try:
            while self.rep_combo.count() > fixed:
                self.rep_combo.removeItem(fixed)
            for rep_id, name in reps:
                if rep_id != self._my_id:
                    self.rep_combo.addItem(name, rep_id)
            index = self.rep_combo.findData(current) if current is not None else 0
            self.rep_combo.setCurrentIndex(max(index, 0))
        finally:
            self.rep_combo.blockSignals(False)
        if self.rep_combo.currentData() != current:  # that representative left
            self.apply_filter()

    # -- behaviour -----------------------------------------------------------

    def current_filter(self) -> AccountFilter:
        """The filter the widgets describe right now."""
        return AccountFilter(
            text=self.filter_edit.text().strip(),
            type=self.type_combo.currentData(),
            country=self.country_combo.currentData(),
            representative_id=self.rep_combo.currentData(),
            overdue_only=self.overdue_check.isChecked(),
        )

    def apply_filter(self) -> None:
        """Apply the widgets' filter now (the debounce timer ends here)."""
        self._debounce.stop()
        self.model.set_filter(self.current_filter())

    def refresh(self) -> None:
        """Read the accounts and the filter choices again (F5)."""
        if self._deferred_done:
            self._load_choices()
        else:
            self._finish_setup()
        self._debounce.stop()
        flt = self.current_filter()
        if flt != self.model.account_filter:
            self.model.set_filter(flt)
        else:
            self.model.refresh()

    def refresh_live(self) -> None:
        """Another operator changed the data: the accounts shown are read again in
        place; the scroll position and the selected account stay."""
        try:
            self.model.refresh_in_place()
        except DomainError as err:
            log.info("accounts not refreshed: %s", err)

    def focus_filter(self) -> None:
        self.filter_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_edit.selectAll()

    def clear_text_filter(self) -> None:
        self.filter_edit.clear()
        self.apply_filter()

    def clear_filters(self) -> None:
        """Show every account again."""
        widgets = (
            self.filter_edit,
            self.type_combo,
            self.country_combo,
            self.rep_combo,
            self.overdue_check,
        )
        for widget in widgets:
            widget.blockSignals(True)
        try:
            self.filter_edit.clear()
            self.type_combo.setCurrentIndex(0)
            self.country_combo.setCurrentIndex(0)
            self.rep_combo.setCurrentIndex(0)
            self.overdue_check.setChecked(False)
        finally:
            for widget in widgets:
                widget.blockSignals(False)
        self.apply_filter()

    # -- export --------------------------------------------------------------

    def export_csv(self) -> None:
        """Ask for a file, then write the accounts of the current filter and sort to it."""
        from PySide6.QtWidgets import QFileDialog

        if self._export_task is not None:
            return
        self.apply_filter()  # what the widgets say, even mid-debounce
        flt = self.model.account_filter
        sort = self.model.SORT_KEYS[self.model.sort_column]
        descending = self.model.sort_order == Qt.SortOrder.DescendingOrder
        folder = str(QSettings().value(_SETTINGS_EXPORT_DIR, "") or "")
        today = self._ctx.clock.today()
        suggested = Path(folder or Path.home()) / f"accounts-{today.isoformat()}.csv"
        path, _selected = QFileDialog.getSaveFileName(
            self, self.tr("Export accounts"), str(suggested), self.tr("CSV files (*.csv)")
        )
        if not path:
            return
        if not path.lower().endswith(".csv"):
            path += ".csv"
        QSettings().setValue(_SETTINGS_EXPORT_DIR, str(Path(path).parent))
        ctx = self._ctx

        def work(progress: Any) -> AccountsExport:
            from billing_desktop.services.export import export_accounts_csv

            return export_accounts_csv(
                ctx,
                path,
                flt,
                sort,
                descending,
                progress=progress,
                cancelled=lambda: progress.cancelled,
            )

        from billing_desktop.ui.workers import run_in_background

        self.export_button.setEnabled(False)
        task = run_in_background(
            self,
            work,
            title=self.tr("Export accounts"),
            label=self.tr("Writing the accounts to {file}…").format(file=Path(path).name),
            on_result=self._on_exported,
        )
        task.done.connect(self._on_export_done)
        self._export_task = task

    @property
    def export_task(self) -> Any:
        """The export running now (a ``BackgroundTask``), None otherwise."""
        return self._export_task

    def _on_exported(self, result: AccountsExport) -> None:
        self._last_export = result
        self._show_export_status()
        self.exported.emit(str(result.path), result.rows)

    def _show_export_status(self) -> None:
        result = self._last_export
        if result is None:
            return
        self.export_status.setText(self.tr("%n account(s) exported.", "", result.rows))
        self.export_status.setToolTip(str(result.path))
        self.export_status.show()

    def _on_export_done(self) -> None:
        task, self._export_task = self._export_task, None
        self.export_button.setEnabled(True)
        if task is not None:
            task.deleteLater()

    def _on_activated(self, index: Any) -> None:
        row = self.model.data(index, AccountsTableModel.ObjectRole)
        if row is not None:
            self.account_activated.emit(row.id)

    def _on_empty_link(self, link: str) -> None:
        if link == "#clear":
            self.clear_filters()
        elif link == "#demo":
            self.demo_requested.emit()

    def _count_text(self) -> str:
        if not self.model.total_known:
            return ""  # counted right after the first paint
        return self.tr("%Ln account(s)", "", self.model.total)

    def _filter_is_default(self) -> bool:
        return self.model.account_filter == AccountFilter()

    def _empty_text(self) -> str:
        if not self._filter_is_default():
            title = self.tr("No accounts match the filter.")
            link = self.tr("Clear all filters")
            return f"<p><b>{title}</b></p><p><a href='#clear'>{link}</a></p>"
        title = self.tr("This database has no accounts yet.")
        if self._is_demo:
            return f"<p><b>{title}</b></p>"
        hint = self.tr("Accounts appear here as soon as they are created or imported.")
        link = self.tr("Explore the demo database instead")
        return f"<p><b>{title}</b></p><p>{hint}</p><p><a href='#demo'>{link}</a></p>"

    def _retranslate_widgets(self) -> None:
        self.filter_edit.setPlaceholderText(self.tr("Filter by account ID or company name"))
        self.filter_edit.setToolTip(
            self.tr("Type part of a company name or the start of an account ID (Ctrl+F)")
        )
        self.type_combo.setItemText(0, self.tr("All types"))
        self.type_combo.setItemText(1, type_word("standard"))
        self.type_combo.setItemText(2, type_word("corporate"))
        self.type_combo.setToolTip(self.tr("Show only accounts of this type"))
        self.country_combo.setItemText(0, self.tr("All countries"))
        self.country_combo.setToolTip(self.tr("Show only accounts in this country"))
        self.rep_combo.setItemText(0, self.tr("All representatives"))
        if self._my_id is not None:
            self.rep_combo.setItemText(1, self.tr("My accounts"))
        self.rep_combo.setToolTip(self.tr("Show only the accounts of this representative"))
        self.export_button.setText(self.tr("E&xport CSV…"))
        self.export_button.setToolTip(
            self.tr("Save the accounts of the current filter, in the current order, as a CSV file")
        )
        self.overdue_check.setText(self.tr("Overdue only"))
        self._show_export_status()
        self.overdue_check.setToolTip(
            self.tr("Show only accounts with an invoice past its due date")
        )
        self.table.setAccessibleName(self.tr("Accounts"))
        self.count_label.setText(self._count_text())
