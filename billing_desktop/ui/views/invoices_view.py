"""The Invoices view: every account's invoices, filtered and sorted in SQL (SPEC §4, issue 4.5).

A filter bar (account ID or company, status, overdue only, issue date range),
a lazily loaded table (:class:`~billing_desktop.ui.models.invoices_model.InvoicesTableModel`),
the count and an empty state. Enter or a double-click opens the invoice's
account (``account_activated``); "Open PDF" renders the invoice with the
account page's PDF helper, off the GUI thread.

Decisions where the issue is silent:

- Only columns an index can sort are sortable: number (the default, newest
  first — numbers follow the issue order), account ID, company, due date and
  status. The issue date, service period and amounts have no index; their
  header ignores the click (the Date header's tip says to sort by number).
- The status filter offers the statuses an invoice has (open, paid, void);
  "Overdue only" narrows to open invoices past their due date, so it applies
  on top of "Open" and "Any status".
- The date range is the issue date, both ends inclusive; each end has an
  "Any date" state (its lowest value), which Delete brings back.
- The count comes right after the page is painted, and is not read again
  when only the sort changes.

First paint (``make bench``: the view against a bare table showing the same
rows): before it, only the table with its first page, the account field and
the labels around the table are made; the rest of the filter bar, the action
buttons, the shortcuts and the table's signal connections come right after it
(:meth:`InvoicesView._build_filters`), or as soon as code asks for one of
those widgets. So that nothing moves when they come, the bar and the action
row are held at the height their controls will have, measured on one control
of each kind made beforehand (a combo box, check box and push button that are
then used, and a spin box standing in for the date edits); a test checks it
in two styles.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, QPoint, QSettings, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSizePolicy,
    QSpacerItem,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from billing_desktop.domain.errors import DomainError
from billing_desktop.services.context import AppContext
from billing_desktop.store.invoice_queries import InvoiceFilter, InvoiceListRow
from billing_desktop.ui.errors import show_service_error
from billing_desktop.ui.formatting import date_pattern, format_money
from billing_desktop.ui.models.invoices_model import (
    InvoicesTableModel,
    status_text,
    status_word,
)
from billing_desktop.ui.models.table import setup_list_table, size_columns_to_samples
from billing_desktop.ui.views.common import ListView

if TYPE_CHECKING:
    from PySide6.QtGui import QKeyEvent, QMouseEvent

    from billing_desktop.ui.workers import BackgroundTask

__all__ = ["InvoicesView", "OptionalDateEdit"]

log = logging.getLogger("billing_desktop.ui")

#: Typing pause before a text or date filter is applied, in milliseconds.
FILTER_DELAY_MS = 200

_SETTINGS_HEADER = "invoices/header"
_SETTINGS_SORT = "invoices/sort"

#: The lowest date of the range edits: shown as "Any date" and read as no limit.
_ANY_DATE = QDate(2000, 1, 1)


class OptionalDateEdit(QDateEdit):
    """A date edit with an "Any date" state (its minimum date, shown as special text).

    Delete goes back to "Any date"; stepping or opening the calendar from
    there starts at ``start_date`` (today, typically), not in the year 2000.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.start_date: date = date.today()
        self.setCalendarPopup(True)
        self.setMinimumDate(_ANY_DATE)
        self.setMaximumDate(QDate(2999, 12, 31))
        self.setDate(_ANY_DATE)

    def value(self) -> date | None:
        """The chosen day, None for "Any date"."""
        chosen = self.date()
        if chosen <= _ANY_DATE:
            return None
        return date(chosen.year(), chosen.month(), chosen.day())

    def is_any(self) -> bool:
        return self.value() is None

    def set_value(self, value: date | None) -> None:
        self.setDate(_ANY_DATE if value is None else QDate(value.year, value.month, value.day))

    def clear_value(self) -> None:
        self.setDate(_ANY_DATE)

    def _start(self) -> QDate:
        d = self.start_date
        return QDate(d.year, d.month, d.day)

    def stepBy(self, steps: int) -> None:
        if self.is_any():
            self.setDate(self._start())
            return
        super().stepBy(steps)

    def stepEnabled(self) -> QDateEdit.StepEnabledFlag:
        if self.is_any():  # both ways lead out of "Any date"
            return (
                QDateEdit.StepEnabledFlag.StepUpEnabled | QDateEdit.StepEnabledFlag.StepDownEnabled
            )
        return super().stepEnabled()

    def focusNextPrevChild(self, next: bool) -> bool:
        if self.is_any():
            # "Any date" has no day, month and year to step through: Tab leaves
            # (Qt's date edit would keep the focus on its special text forever).
            return QWidget.focusNextPrevChild(self, next)
        return super().focusNextPrevChild(next)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Delete:
            self.clear_value()
            return
        super().keyPressEvent(event)
        self._calendar_to_start()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        super().mousePressEvent(event)
        self._calendar_to_start()

    def _calendar_to_start(self) -> None:
        """The calendar popup, opened on "Any date", shows the start month."""
        calendar = self.calendarWidget()
        if self.is_any() and calendar is not None and calendar.isVisible():
            start = self._start()
            calendar.setCurrentPage(start.year(), start.month())


class InvoicesView(ListView):
    """All invoices, filtered and sorted in SQL; only the pages shown are loaded."""

    EMPTY_LABEL_NAME = "invoicesEmpty"

    #: The user chose an invoice (Enter, double-click, "Open account"): its account's id.
    account_activated = Signal(int)

    #: The filter bar's and the action row's widgets, built right after the first
    #: paint (:meth:`_build_filters`) or when first used, whichever comes first.
    _BUILT_LATER = frozenset(
        {
            "status_label", "status_combo", "overdue_check", "from_label", "from_edit",
            "to_label", "to_edit", "clear_button", "open_account_button", "open_pdf_button",
            "open_account_action", "open_pdf_action",
        }
    )  # fmt: skip

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("invoicesView")
        self._ctx = ctx
        self._task: BackgroundTask[Path] | None = None
        self._filters_built = False

        # Before the first paint: the table and its first page, and what
        # decides where the table sits (the two rows around it keep the height
        # their widgets will have, so nothing moves when they come).
        self.account_label = QLabel(self)
        self.account_edit = QLineEdit(self)
        self.account_edit.setObjectName("invoicesAccountFilter")
        self.account_edit.setMinimumWidth(180)
        self.account_label.setBuddy(self.account_edit)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("invoicesCount")
        self.count_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.message_label = QLabel(self)
        self.message_label.setObjectName("invoicesMessage")
        self.message_label.setWordWrap(True)

        # The first page, in the saved sort, is read before the table gets the
        # model: the table lays out its rows once, not once empty and again.
        self.model = InvoicesTableModel(ctx, self, load=False)
        self._restore_sort()
        self.model.refresh(count=False)  # the count after the first paint
        self.table = QTableView(self)
        self.table.setObjectName("invoicesTable")
        self._setup_table()

        #: painted right after the table's first page: the list is what the user waits for
        self._paint_later = (
            self.account_label, self.account_edit, self.count_label, self.message_label
        )  # fmt: skip
        for widget in self._paint_later:
            widget.setUpdatesEnabled(False)

        self._bar = QHBoxLayout()
        self._bar.setSpacing(6)
        self._bar.addWidget(self.account_label)
        self._bar.addWidget(self.account_edit, 2)
        self._bar.addStretch(1)
        self._bar.addWidget(self.count_label)
        self._actions = QHBoxLayout()
        self._actions.setSpacing(8)
        self._actions.addWidget(self.message_label, 1)
        # One control of each kind the two rows will hold, made now (hidden until
        # the rest comes): the rows take the height those will need. A spin box
        # stands in for the date edits (the same height, a fraction of the cost).
        self._early = (QComboBox(self), QCheckBox(self), QPushButton(self))
        spin_box = QSpinBox(self)
        for widget in (*self._early, spin_box):
            widget.hide()
        bar_height = max(w.sizeHint().height() for w in (self.account_edit, *self._early, spin_box))
        button_height = self._early[2].sizeHint().height()
        spin_box.setParent(None)  # and gone
        self._bar_strut = QSpacerItem(0, bar_height, QSizePolicy.Policy.Minimum)
        self._bar.addItem(self._bar_strut)
        self._actions_strut = QSpacerItem(0, button_height, QSizePolicy.Policy.Minimum)
        self._actions.addItem(self._actions_strut)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(8)
        layout.addLayout(self._bar)
        layout.addWidget(self.table, 1)
        layout.addLayout(self._actions)
        self.setFocusProxy(self.account_edit)
        QWidget.setTabOrder(self.account_edit, self.table)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(FILTER_DELAY_MS)
        self._debounce.timeout.connect(self.apply_filter)
        self.account_edit.textChanged.connect(self._debounce.start)
        self.account_edit.returnPressed.connect(self._on_return)
        self.model.totalChanged.connect(self._on_total_changed)
        self.model.modelReset.connect(self._after_reset)

        self._retranslate_widgets()
        self._restore_header()

    def __getattr__(self, name: str) -> Any:
        # A widget built after the first paint, asked for before it: built now.
        if name in InvoicesView._BUILT_LATER and not self.__dict__.get("_filters_built", True):
            self._build_filters()
            return self.__dict__[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _build_filters(self) -> None:
        """The rest of the filter bar and the action row (right after the first paint)."""
        if self._filters_built:
            return
        self._filters_built = True
        today = self._ctx.clock.today()
        self.status_combo, self.overdue_check, self.clear_button = self._early
        self.status_label = QLabel(self)
        self.status_combo.setObjectName("invoicesStatusFilter")
        self.status_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for value in (None, "open", "paid", "void"):
            self.status_combo.addItem("", value)
        self.status_label.setBuddy(self.status_combo)
        self.overdue_check.setObjectName("invoicesOverdueFilter")
        self.from_label = QLabel(self)
        self.from_edit = OptionalDateEdit(self)
        self.from_edit.setObjectName("invoicesDateFrom")
        self.from_edit.start_date = today.replace(day=1)
        self.from_label.setBuddy(self.from_edit)
        self.to_label = QLabel(self)
        self.to_edit = OptionalDateEdit(self)
        self.to_edit.setObjectName("invoicesDateTo")
        self.to_edit.start_date = today
        self.to_label.setBuddy(self.to_edit)
        self.clear_button.setObjectName("invoicesClearFilters")
        self.open_account_button = QPushButton(self)
        self.open_account_button.setObjectName("invoicesOpenAccount")
        self.open_pdf_button = QPushButton(self)
        self.open_pdf_button.setObjectName("invoicesOpenPdf")
        self.open_account_action = QAction(self)
        self.open_account_action.triggered.connect(self.open_account)
        self.open_pdf_action = QAction(self)
        self.open_pdf_action.triggered.connect(self.open_pdf)

        # Into the rows, after the account field (the bar) and in place of the
        # reserved height (the action row).
        bar = self._bar
        at = bar.indexOf(self.account_edit) + 1
        for item in (
            8, self.status_label, self.status_combo, 8, self.overdue_check, 8,
            self.from_label, self.from_edit, self.to_label, self.to_edit, 8, self.clear_button,
        ):  # fmt: skip
            if isinstance(item, int):
                bar.insertSpacing(at, item)
            else:
                bar.insertWidget(at, item)
            at += 1
        self._actions.insertWidget(0, self.open_account_button)
        self._actions.insertWidget(1, self.open_pdf_button)
        self._bar_strut.changeSize(0, 0)
        self._actions_strut.changeSize(0, 0)
        for widget in (
            self.status_label, self.status_combo, self.overdue_check, self.from_label,
            self.from_edit, self.to_label, self.to_edit, self.clear_button,
            self.open_account_button, self.open_pdf_button,
        ):  # fmt: skip
            widget.show()
        for first, second in (
            (self.account_edit, self.status_combo),
            (self.status_combo, self.overdue_check),
            (self.overdue_check, self.from_edit),
            (self.from_edit, self.to_edit),
            (self.to_edit, self.clear_button),
            (self.clear_button, self.table),
            (self.table, self.open_account_button),
            (self.open_account_button, self.open_pdf_button),
        ):
            QWidget.setTabOrder(first, second)

        self._find = QShortcut(QKeySequence(QKeySequence.StandardKey.Find), self)
        self._find.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._find.activated.connect(self.focus_filter)
        self._escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self.account_edit)
        self._escape.setContext(Qt.ShortcutContext.WidgetShortcut)
        self._escape.activated.connect(self.clear_account_filter)
        self.table.activated.connect(self._on_activated)
        self.table.selectionModel().currentRowChanged.connect(self._update_actions)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.from_edit.dateChanged.connect(self._debounce.start)
        self.to_edit.dateChanged.connect(self._debounce.start)
        self.status_combo.currentIndexChanged.connect(self.apply_filter)
        self.overdue_check.toggled.connect(self.apply_filter)
        self.clear_button.clicked.connect(self.clear_filters)
        self.open_account_button.clicked.connect(self.open_account)
        self.open_pdf_button.clicked.connect(self.open_pdf)
        self._retranslate_filters()
        self._update_actions()

    # -- setup ---------------------------------------------------------------

    def _setup_table(self) -> None:
        header = setup_list_table(self.table, self.model)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.setSectionResizeMode(InvoicesTableModel.COMPANY, QHeaderView.ResizeMode.Stretch)
        self._default_column_widths()
        # Sorting is ours, not the view's: only indexed columns sort.
        header.setSectionsClickable(True)
        header.setSortIndicatorShown(True)
        header.setSortIndicator(self.model.sort_column, self.model.sort_order)
        header.sortIndicatorChanged.connect(self._on_sort_indicator)

    def _default_column_widths(self) -> None:
        """Widths that fit typical content, so nothing is elided at 1280 px."""
        m = InvoicesTableModel
        day = date(2026, 12, 28)
        day_text = QDate(day.year, day.month, day.day).toString(date_pattern(self.locale()))
        amount = format_money(12345678, "EUR")
        samples = {
            m.NUMBER: "INV-0000-000000",
            m.ISSUE_DATE: day_text,
            m.ACCOUNT: "A-0000000",
            m.PERIOD: f"{day_text} – {day_text}",
            m.TOTAL: amount,
            m.DUE: amount,
            m.DUE_DATE: day_text,
            m.STATUS: status_text("overdue", disputed=True),
        }
        size_columns_to_samples(self.table, samples, padding=28)  # margins plus the sort indicator

    def _restore_sort(self) -> None:
        """The sort saved last time, on the model (before it reads its first page)."""
        saved = str(QSettings().value(_SETTINGS_SORT, "") or "")
        column_text, _, order_text = saved.partition(":")
        if column_text.isdigit() and InvoicesTableModel.is_sortable(int(column_text)):
            order = (
                Qt.SortOrder.AscendingOrder if order_text == "asc" else Qt.SortOrder.DescendingOrder
            )
            self.model.sort(int(column_text), order)

    def _restore_header(self) -> None:
        """The column widths and order saved last time, and the sort's indicator."""
        header = self.table.horizontalHeader()
        state = QSettings().value(_SETTINGS_HEADER)
        if state is not None and header.restoreState(state):
            header.setSectionResizeMode(InvoicesTableModel.COMPANY, QHeaderView.ResizeMode.Stretch)
        header.blockSignals(True)
        header.setSortIndicator(self.model.sort_column, self.model.sort_order)
        header.blockSignals(False)

    def save_settings(self) -> None:
        """Remember column widths and order, and the sort, for next time."""
        settings = QSettings()
        settings.setValue(_SETTINGS_HEADER, self.table.horizontalHeader().saveState())
        order = "desc" if self.model.sort_order == Qt.SortOrder.DescendingOrder else "asc"
        settings.setValue(_SETTINGS_SORT, f"{self.model.sort_column}:{order}")

    def _finish_setup(self) -> None:
        """What the first paint does not need: the rest of the bar, the count, the buttons."""
        if self._deferred_done:
            return
        self._deferred_done = True
        self._build_filters()
        for widget in self._paint_later:
            widget.setUpdatesEnabled(True)  # and paints it now
        self.model.count_total()
        self.account_edit.setClearButtonEnabled(True)  # its icon loads plugins
        self.layout().activate()  # the bar in place before any of it paints

    # -- filters and sort --------------------------------------------------------

    def current_filter(self) -> InvoiceFilter:
        """The filter the widgets describe right now."""
        self._build_filters()
        return InvoiceFilter(
            date_from=self.from_edit.value(),
            date_to=self.to_edit.value(),
            status=self.status_combo.currentData(),
            overdue_only=self.overdue_check.isChecked(),
            account=self.account_edit.text().strip(),
        )

    def apply_filter(self) -> None:
        """Apply the widgets' filter now (the typing pause ends here)."""
        self._debounce.stop()
        flt = self.current_filter()
        if flt == self.model.invoice_filter:
            return
        # The page first; the count (a read of every matching invoice) right after.
        self.model.set_filter(flt, count=False)
        self.count_label.clear()
        if self._deferred_done:
            QTimer.singleShot(0, self, self.model.count_total)

    def refresh(self) -> None:
        """Read the invoices and the count again (F5)."""
        self._debounce.stop()
        flt = self.current_filter()
        if flt != self.model.invoice_filter:
            self.model.set_filter(flt)
        else:
            self.model.refresh()
        self._finish_setup()

    def clear_filters(self) -> None:
        """Show every invoice again."""
        self._build_filters()
        widgets = (self.account_edit, self.status_combo, self.overdue_check)
        dates = (self.from_edit, self.to_edit)
        for widget in (*widgets, *dates):
            widget.blockSignals(True)
        try:
            self.account_edit.clear()
            self.status_combo.setCurrentIndex(0)
            self.overdue_check.setChecked(False)
            self.from_edit.clear_value()
            self.to_edit.clear_value()
        finally:
            for widget in (*widgets, *dates):
                widget.blockSignals(False)
        self.apply_filter()

    def focus_filter(self) -> None:
        self.account_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.account_edit.selectAll()

    def clear_account_filter(self) -> None:
        self.account_edit.clear()
        self.apply_filter()

    def _on_sort_indicator(self, column: int, order: Qt.SortOrder) -> None:
        header = self.table.horizontalHeader()
        if not self.model.is_sortable(column):
            # No index sorts this column: put the indicator back.
            header.blockSignals(True)
            header.setSortIndicator(self.model.sort_column, self.model.sort_order)
            header.blockSignals(False)
            return
        self.model.sort(column, order)

    # -- the selected invoice ----------------------------------------------------

    def current_invoice(self) -> InvoiceListRow | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        row = self.model.data(index, InvoicesTableModel.ObjectRole)
        return row if isinstance(row, InvoiceListRow) else None

    def _update_actions(self, *_args: Any) -> None:
        if not self._filters_built:
            return  # the buttons come disabled with the rest of the bar
        row = self.current_invoice()
        chosen = row is not None
        self.open_account_button.setEnabled(chosen)
        self.open_account_action.setEnabled(chosen)
        idle = self._task is None
        self.open_pdf_button.setEnabled(chosen and idle)
        self.open_pdf_action.setEnabled(chosen and idle)

    def _on_activated(self, index: Any) -> None:
        row = self.model.data(index, InvoicesTableModel.ObjectRole)
        if isinstance(row, InvoiceListRow):
            self.account_activated.emit(row.account_id)

    def open_account(self) -> None:
        """Open the selected invoice's account (the window shows its page)."""
        row = self.current_invoice()
        if row is not None:
            self.account_activated.emit(row.account_id)

    def _context_menu(self, position: QPoint) -> None:
        index = self.table.indexAt(position)
        if not index.isValid():
            return
        self.table.setCurrentIndex(index)
        menu = QMenu(self)
        menu.addAction(self.open_account_action)
        menu.addAction(self.open_pdf_action)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.table.viewport().mapToGlobal(position))

    # -- PDF ---------------------------------------------------------------------

    def open_pdf(self) -> None:
        """Render the selected invoice into a temporary file and open it in the PDF viewer.

        The rendering and the temporary folder are the account page's
        (:mod:`billing_desktop.ui.account.invoices`), loaded on first use.
        """
        row = self.current_invoice()
        if row is None or self._task is not None:
            return
        from billing_desktop.documents.translation import translator_for
        from billing_desktop.services.documents_data import invoice_document
        from billing_desktop.ui.account.invoices import _pdf_dir, _write_pdf
        from billing_desktop.ui.workers import run_in_background

        try:
            doc = invoice_document(self._ctx, row.id)
        except DomainError as err:
            show_service_error(self, err)
            return
        translator = translator_for(doc.language)  # a cached QObject: the GUI thread's
        target = _pdf_dir() / f"{doc.number}.pdf"

        def failed(err: BaseException) -> None:
            if isinstance(err, DomainError):
                show_service_error(self, err)
            elif isinstance(err, OSError):
                self.message_label.setText(
                    self.tr("The PDF could not be written: {error}").format(
                        error=err.strerror or str(err)
                    )
                )
            else:
                raise err

        self.message_label.clear()
        self._task = run_in_background(
            self,
            lambda progress: _write_pdf(doc, translator, target, progress),
            title=self.tr("Invoice PDF"),
            label=self.tr("Preparing invoice {number}…").format(number=doc.number),
            on_result=self._open_file,
            on_error=failed,
            on_cancel=lambda: self.message_label.setText(
                self.tr("Cancelled; no file was written.")
            ),
        )
        self._task.done.connect(self._pdf_done)
        self._update_actions()

    def _open_file(self, path: Path) -> None:
        from PySide6.QtGui import QDesktopServices

        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
            self.message_label.setText(
                self.tr("No PDF viewer could be started; the invoice is at {path}.").format(
                    path=path
                )
            )

    def _pdf_done(self) -> None:
        if self._task is not None:
            self._task.deleteLater()
        self._task = None
        self._update_actions()

    # -- count and empty state ---------------------------------------------------

    def _after_reset(self) -> None:
        self._update_empty_state()
        self._update_actions()

    def _count_text(self) -> str:
        if not self.model.total_known:
            return ""
        return self.tr("%Ln invoice(s)", "", self.model.total)

    def _on_empty_link(self, link: str) -> None:
        if link == "#clear":
            self.clear_filters()

    def _empty_text(self) -> str:
        if not self.model.invoice_filter.is_default():
            title = self.tr("No invoices match the filters.")
            link = self.tr("Clear all filters")
            return f"<p><b>{title}</b></p><p><a href='#clear'>{link}</a></p>"
        title = self.tr("No invoices yet.")
        hint = self.tr("Invoices appear here as soon as orders or renewals are billed.")
        return f"<p><b>{title}</b></p><p>{hint}</p>"

    def _retranslate_widgets(self) -> None:
        self.account_label.setText(self.tr("&Account:"))
        self.account_edit.setPlaceholderText(self.tr("Account ID or company"))
        self.account_edit.setToolTip(
            self.tr("Type the start of an account ID or of a company name (Ctrl+F)")
        )
        self.table.setAccessibleName(self.tr("Invoices"))
        self.count_label.setText(self._count_text())
        if self._filters_built:
            self._retranslate_filters()

    def _retranslate_filters(self) -> None:
        self.status_label.setText(self.tr("&Status:"))
        self.status_combo.setItemText(0, self.tr("Any status"))
        for index in range(1, self.status_combo.count()):
            self.status_combo.setItemText(index, status_word(self.status_combo.itemData(index)))
        self.status_combo.setToolTip(self.tr("Show only invoices with this status"))
        self.overdue_check.setText(self.tr("Over&due only"))
        self.overdue_check.setToolTip(self.tr("Show only open invoices past their due date"))
        self.from_label.setText(self.tr("&Issued from:"))
        self.to_label.setText(self.tr("&to:"))
        pattern = date_pattern(self.locale())
        for edit in (self.from_edit, self.to_edit):
            edit.setSpecialValueText(self.tr("Any date"))
            edit.setDisplayFormat(pattern)
            edit.setToolTip(self.tr("The invoice date; Delete sets it back to any date"))
        self.clear_button.setText(self.tr("C&lear filters"))
        self.open_account_button.setText(self.tr("&Open account"))
        self.open_account_button.setToolTip(self.tr("Open the account of the selected invoice"))
        self.open_account_action.setText(self.tr("Open account"))
        self.open_pdf_button.setText(self.tr("Open &PDF"))
        self.open_pdf_button.setToolTip(self.tr("Show the selected invoice as a PDF"))
        self.open_pdf_action.setText(self.tr("Open PDF"))

    def refresh_live(self) -> None:
        """Another operator changed the data: the invoices shown are read again in
        place; the scroll position and the selected invoice stay (live refresh)."""
        try:
            self.model.refresh_in_place()
        except DomainError as err:
            log.info("invoices not refreshed: %s", err)
