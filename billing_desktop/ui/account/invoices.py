"""The account page's Invoices tab: open and paid invoices, PDFs, Pay balance, disputes.

Everything shown comes from the services as plain dataclasses:
``invoices.list_invoices`` (the two tables), ``invoices.invoice_detail`` (the
lines, figures and whether the invoice may still be disputed — the 15-day
rule is the domain's, asked through the service, never re-implemented here),
``payments.payment_settings`` (the balance "Pay balance" pays and the method
it charges) and ``documents_data.invoice_document`` (the PDF's content).

Decisions where the issue is silent:

- void invoices are listed under **Paid invoices** with the status "Void"
  (they are closed like paid ones; a third tab would nearly always be
  empty); the reason is in the tooltip and the detail pane;
- "Pay balance" pays the whole balance of the account (the service pays
  open invoices oldest first), so it sits next to the balance above both
  tables rather than acting on the selected invoice;
- PDFs are rendered off the GUI thread (:mod:`billing_desktop.ui.workers`);
  "Open PDF" writes into a private temporary folder removed at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import logging
import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QCoreApplication,
    QEvent,
    QItemSelection,
    QLocale,
    QModelIndex,
    QPersistentModelIndex,
    QSettings,
    QSortFilterProxyModel,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import QColor, QDesktopServices, QFont
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from billing_desktop.domain.errors import DomainError
from billing_desktop.domain.money import Money
from billing_desktop.domain.periods import Period
from billing_desktop.services.context import AppContext
from billing_desktop.services.errors import ConflictError
from billing_desktop.services.invoices import (
    InvoiceDetail,
    InvoiceLineRow,
    InvoiceRow,
    dispute_invoice,
    invoice_detail,
    list_invoices,
)
from billing_desktop.services.payments import (
    PaymentResult,
    PaymentSettings,
    payment_settings,
    record_payment,
)
from billing_desktop.ui.errors import show_service_error
from billing_desktop.ui.formatting import format_date, format_money
from billing_desktop.ui.models.table import RowTableModel, size_columns_to_samples
from billing_desktop.ui.workers import BackgroundTask, TaskProgress, run_in_background

__all__ = [
    "DisputeDialog",
    "InvoiceLinesModel",
    "InvoicesTab",
    "InvoicesTableModel",
    "status_text",
]

log = logging.getLogger("billing_desktop.ui")

_Index = QModelIndex | QPersistentModelIndex
_DISPLAY = Qt.ItemDataRole.DisplayRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_ALIGN = Qt.ItemDataRole.TextAlignmentRole
_FOREGROUND = Qt.ItemDataRole.ForegroundRole
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_OVERDUE = QColor(176, 0, 32)
_MUTED = QColor(110, 110, 110)

_SETTINGS_SAVE_DIR = "invoices/save_dir"

_MODEL_CONTEXT = "InvoicesTableModel"

#: (status, overdue, disputed) → the status column's words
STATUS_WORDS = {
    ("open", False, False): QT_TRANSLATE_NOOP("InvoicesTableModel", "Open"),
    ("open", True, False): QT_TRANSLATE_NOOP("InvoicesTableModel", "Overdue"),
    ("open", False, True): QT_TRANSLATE_NOOP("InvoicesTableModel", "Open, disputed"),
    ("open", True, True): QT_TRANSLATE_NOOP("InvoicesTableModel", "Overdue, disputed"),
    ("paid", False, False): QT_TRANSLATE_NOOP("InvoicesTableModel", "Paid"),
    ("paid", False, True): QT_TRANSLATE_NOOP("InvoicesTableModel", "Paid, disputed"),
    ("void", False, False): QT_TRANSLATE_NOOP("InvoicesTableModel", "Void"),
    ("void", False, True): QT_TRANSLATE_NOOP("InvoicesTableModel", "Void, disputed"),
}
#: sort order of the statuses: what needs attention first
_STATUS_RANK = {"open": 0, "paid": 1, "void": 2}


def status_text(status: str, overdue: bool, disputed: bool) -> str:
    """The translated status of an invoice, with the "disputed" marker."""
    source = STATUS_WORDS.get((status, overdue and status == "open", disputed))
    return QCoreApplication.translate(_MODEL_CONTEXT, source) if source else status


def _money(value: Money) -> str:
    return format_money(value.minor, value.currency)


def _period_text(start: date | None, end: date | None) -> str:
    """A service period as the invoice prints it: first – last day of service."""
    if start is None or end is None or end <= start:
        return "—"
    from billing_desktop.documents.formatting import format_period

    return format_period(Period(start, end), QLocale())


# --------------------------------------------------------------------------- models


class InvoicesTableModel(RowTableModel):
    """One account's invoices of one tab (a few dozen rows: loaded whole)."""

    NUMBER, ISSUE_DATE, PERIOD, DESCRIPTION, TOTAL, DUE, STATUS = range(7)
    COLUMN_COUNT = 7

    #: A value that sorts the column correctly (ints and strings only).
    SortRole = Qt.ItemDataRole.UserRole + 2

    CONTEXT = _MODEL_CONTEXT
    HEADERS = (
        QT_TRANSLATE_NOOP("InvoicesTableModel", "Number"),
        QT_TRANSLATE_NOOP("InvoicesTableModel", "Date"),
        QT_TRANSLATE_NOOP("InvoicesTableModel", "Service period"),
        QT_TRANSLATE_NOOP("InvoicesTableModel", "Description"),
        QT_TRANSLATE_NOOP("InvoicesTableModel", "Total"),
        QT_TRANSLATE_NOOP("InvoicesTableModel", "Amount due"),
        QT_TRANSLATE_NOOP("InvoicesTableModel", "Status"),
    )

    def row_of(self, invoice_id: int) -> int:
        """The row of invoice ``invoice_id``, -1 when it is not in this table."""
        return next((n for n, r in enumerate(self._rows) if r.id == invoice_id), -1)

    def _alignment(self, column: int) -> Qt.AlignmentFlag:
        return _RIGHT if column in (self.TOTAL, self.DUE) else _LEFT

    def data(self, index: _Index, role: int = _DISPLAY) -> Any:
        row: InvoiceRow | None = self._row_at(index)
        if row is None:
            return None
        column = index.column()
        if role == _DISPLAY:
            return self._display(row, column)
        if role == self.ObjectRole:
            return row
        if role == self.SortRole:
            return self._sort_value(row, column)
        if role == _ALIGN:
            return self._alignment(column)
        if role == _FOREGROUND:
            if row.overdue and column in (self.DUE, self.STATUS):
                return _OVERDUE
            if row.status == "void":
                return _MUTED
            return None
        if role == _TOOLTIP:
            return self._tooltip(row, column)
        return None

    def _display(self, row: InvoiceRow, column: int) -> str | None:
        if column == self.NUMBER:
            return row.number
        if column == self.ISSUE_DATE:
            return format_date(row.issue_date)
        if column == self.PERIOD:
            return _period_text(row.period_start, row.period_end)
        if column == self.DESCRIPTION:
            more = row.line_count - 1
            if more > 0:
                return InvoicesTableModel.tr(
                    "{description} (+%n more)", "invoice lines", more
                ).format(description=row.description)
            return row.description
        if column == self.TOTAL:
            return _money(row.total)
        if column == self.DUE:
            return _money(row.due)
        if column == self.STATUS:
            return status_text(row.status, row.overdue, row.disputed)
        return None

    def _sort_value(self, row: InvoiceRow, column: int) -> int | str:
        if column == self.NUMBER:
            return row.number
        if column == self.ISSUE_DATE:
            return row.issue_date.toordinal() * 100_000 + row.id % 100_000
        if column == self.PERIOD:
            return row.period_start.toordinal() if row.period_start else 0
        if column == self.DESCRIPTION:
            return row.description.casefold()
        if column == self.TOTAL:
            return row.total.minor
        if column == self.DUE:
            return row.due.minor
        return _STATUS_RANK.get(row.status, 9) * 4 + (0 if row.overdue else 2) + row.disputed

    def _tooltip(self, row: InvoiceRow, column: int) -> str | None:
        translate = QCoreApplication.translate
        if column == self.DESCRIPTION:
            return row.description or None
        if column != self.STATUS:
            return None
        if row.status == "void":
            if row.voided_at is not None and row.void_reason:
                return translate("InvoicesTableModel", "Voided on {date}: {reason}").format(
                    date=format_date(row.voided_at.date()), reason=row.void_reason
                )
            return None
        if row.status == "open":
            source = (
                QT_TRANSLATE_NOOP("InvoicesTableModel", "Was due on {date}")
                if row.overdue
                else QT_TRANSLATE_NOOP("InvoicesTableModel", "Due on {date}")
            )
            return translate(_MODEL_CONTEXT, source).format(date=format_date(row.due_date))
        return None


class InvoiceLinesModel(RowTableModel):
    """The lines of one invoice: service, billing period, quantity, unit price, total."""

    DESCRIPTION, PERIOD, QUANTITY, UNIT_PRICE, TOTAL = range(5)
    COLUMN_COUNT = 5

    SortRole = Qt.ItemDataRole.UserRole + 2

    CONTEXT = "InvoiceLinesModel"
    HEADERS = (
        QT_TRANSLATE_NOOP("InvoiceLinesModel", "Service"),
        QT_TRANSLATE_NOOP("InvoiceLinesModel", "Billing period"),
        QT_TRANSLATE_NOOP("InvoiceLinesModel", "Quantity"),
        QT_TRANSLATE_NOOP("InvoiceLinesModel", "Unit price"),
        QT_TRANSLATE_NOOP("InvoiceLinesModel", "Total"),
    )

    def set_lines(self, lines: tuple[InvoiceLineRow, ...] | list[InvoiceLineRow]) -> None:
        self.set_rows(lines)

    def _alignment(self, column: int) -> Qt.AlignmentFlag:
        return _RIGHT if column >= self.QUANTITY else _LEFT

    def data(self, index: _Index, role: int = _DISPLAY) -> Any:
        line: InvoiceLineRow | None = self._row_at(index)
        if line is None:
            return None
        column = index.column()
        if role == _DISPLAY:
            if column == self.DESCRIPTION:
                return line.description
            if column == self.PERIOD:
                return _period_text(line.period_start, line.period_end)
            if column == self.QUANTITY:
                return QLocale().toString(line.quantity)
            if column == self.UNIT_PRICE:
                return _money(line.unit_price)
            return _money(line.total)
        if role == self.ObjectRole:
            return line
        if role == self.SortRole:
            return (
                line.position,
                line.period_start.toordinal() if line.period_start else 0,
                line.quantity,
                line.unit_price.minor,
                line.total.minor,
            )[column]
        if role == _ALIGN:
            return self._alignment(column)
        if role == _TOOLTIP and column == self.DESCRIPTION:
            return line.description
        return None


# --------------------------------------------------------------------------- dispute dialog


class DisputeDialog(QDialog):
    """Asks for the note of a dispute; the tab calls the service with it."""

    def __init__(
        self, detail: InvoiceDetail, note: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("disputeDialog")
        self._detail = detail
        self.intro = QLabel(self)
        self.intro.setWordWrap(True)
        self.note_label = QLabel(self)
        self.note_edit = QPlainTextEdit(self)
        self.note_edit.setObjectName("disputeNote")
        self.note_edit.setTabChangesFocus(True)
        self.note_edit.setPlainText(note)
        self.note_label.setBuddy(self.note_edit)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.note_label)
        layout.addWidget(self.note_edit, 1)
        layout.addWidget(self.buttons)
        self.note_edit.textChanged.connect(self._update_ok)
        self.resize(480, 300)
        self.retranslateUi()
        self._update_ok()

    @property
    def ok_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    def note(self) -> str:
        return self.note_edit.toPlainText()

    def _update_ok(self) -> None:
        self.ok_button.setEnabled(bool(self.note().strip()))

    def retranslateUi(self) -> None:
        d = self._detail
        self.setWindowTitle(self.tr("Dispute invoice {number}").format(number=d.number))
        self.intro.setText(
            self.tr(
                "Invoice {number} was issued on {date}; it can be disputed until {deadline}. "
                "The dispute is noted on the invoice; nothing is credited automatically."
            ).format(
                number=d.number,
                date=format_date(d.issue_date),
                deadline=format_date(d.dispute_deadline),
            )
        )
        self.note_label.setText(self.tr("What does the customer dispute?"))
        self.ok_button.setText(self.tr("&Note dispute"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslateUi()
        super().changeEvent(event)


# --------------------------------------------------------------------------- the tab


def _pdf_dir() -> Path:
    """A private folder for PDFs opened in the viewer, removed when the app exits."""
    global _PDF_DIR
    if _PDF_DIR is None or not _PDF_DIR.is_dir():
        _PDF_DIR = Path(tempfile.mkdtemp(prefix="billing-desktop-invoices-"))
        atexit.register(shutil.rmtree, _PDF_DIR, True)
    return _PDF_DIR


_PDF_DIR: Path | None = None


def _write_pdf(doc: Any, translator: Any, target: Path, progress: TaskProgress) -> Path:
    """Render in the worker; the file appears only if the user did not cancel.

    It is written next to ``target`` first and then renamed over it, so a
    failure (folder not writable, disk full) leaves neither a half-written
    PDF nor a damaged older file of that name.
    """
    from billing_desktop.documents import render_invoice_pdf

    progress.check()
    data = render_invoice_pdf(doc, None, translator=translator)
    progress.check()
    part = target.with_name(target.name + ".part")
    try:
        part.write_bytes(data)
        if progress.cancelled:
            part.unlink(missing_ok=True)
            progress.check()
        part.replace(target)
    except OSError:
        with contextlib.suppress(OSError):
            part.unlink(missing_ok=True)
        raise
    return target


class _InvoiceTable(QTableView):
    def __init__(self, model: InvoicesTableModel, name: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(model)
        self.proxy.setSortRole(InvoicesTableModel.SortRole)
        rows = self.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 10)
        self.setModel(self.proxy)
        self.setAlternatingRowColors(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setWordWrap(False)
        self.setShowGrid(False)
        self.setTabKeyNavigation(False)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(InvoicesTableModel.DESCRIPTION, QHeaderView.ResizeMode.Stretch)
        self.setSortingEnabled(True)
        self.sortByColumn(InvoicesTableModel.ISSUE_DATE, Qt.SortOrder.DescendingOrder)

    def size_columns(self) -> None:
        m = InvoicesTableModel
        samples = {
            m.NUMBER: "INV-2026-000000",
            m.ISSUE_DATE: format_date(date(2026, 12, 28)),
            m.PERIOD: _period_text(date(2026, 12, 28), date(2027, 12, 29)),
            m.TOTAL: format_money(-12345678, "EUR"),
            m.DUE: format_money(-12345678, "EUR"),
            m.STATUS: status_text("open", True, True),
        }
        size_columns_to_samples(self, samples, padding=28, model=self.proxy.sourceModel())

    def selected_row(self) -> InvoiceRow | None:
        rows = self.selectionModel().selectedRows()
        if not rows:
            return None
        value = rows[0].data(InvoicesTableModel.ObjectRole)
        return value if isinstance(value, InvoiceRow) else None

    def select_invoice(self, invoice_id: int | None) -> bool:
        source: InvoicesTableModel = self.proxy.sourceModel()  # type: ignore[assignment]
        row = source.row_of(invoice_id) if invoice_id is not None else -1
        if row < 0:
            if self.proxy.rowCount() == 0:
                return False
            index = self.proxy.index(0, 0)
        else:
            index = self.proxy.mapFromSource(source.index(row, 0))
        self.selectRow(index.row())
        self.scrollTo(index)
        return row >= 0


class InvoicesTab(QWidget):
    """Open and paid invoices of one account, their details, PDFs, payment and disputes."""

    #: a payment or dispute was written: the page reloads what depends on it
    account_changed = Signal()

    OPEN_TAB, PAID_TAB = 0, 1

    def __init__(self, ctx: AppContext, account_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("invoicesTab")
        self._ctx = ctx
        self._account_id = account_id
        self._settings: PaymentSettings | None = None
        self._detail: InvoiceDetail | None = None
        #: a dispute note kept after a conflict, offered again by the next Dispute…
        self._draft_note = ""
        self._task: BackgroundTask[Path] | None = None
        self._dialog: QDialog | None = None
        #: set while reload() refills the tables: one detail read, not one per table
        self._loading = False

        # -- balance bar
        self.balance_label = QLabel(self)
        self.balance_label.setObjectName("invoicesBalance")
        font = QFont(self.balance_label.font())
        font.setBold(True)
        self.balance_label.setFont(font)
        self.credit_label = QLabel(self)
        self.credit_label.setObjectName("invoicesCredit")
        self.pay_button = QPushButton(self)
        self.pay_button.setObjectName("payBalanceButton")
        self.pay_button.clicked.connect(self.pay_balance)

        # -- the two tables
        self.open_model = InvoicesTableModel(self)
        self.paid_model = InvoicesTableModel(self)
        self.inner_tabs = QTabWidget(self)
        self.inner_tabs.setObjectName("invoicesInnerTabs")
        self.inner_tabs.setDocumentMode(True)
        self.open_table = _InvoiceTable(self.open_model, "openInvoicesTable", self)
        self.paid_table = _InvoiceTable(self.paid_model, "paidInvoicesTable", self)
        self.paid_table.setColumnHidden(InvoicesTableModel.DUE, True)
        self.inner_tabs.addTab(self.open_table, "")
        self.inner_tabs.addTab(self.paid_table, "")
        self.empty_open = QLabel(self.open_table.viewport())
        self.empty_open.setObjectName("noOpenInvoices")
        self.empty_open.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_open.setStyleSheet("color: palette(dark);")

        # -- actions on the selected invoice
        self.open_pdf_button = QPushButton(self)
        self.open_pdf_button.setObjectName("openPdfButton")
        self.save_pdf_button = QPushButton(self)
        self.save_pdf_button.setObjectName("savePdfButton")
        self.dispute_button = QPushButton(self)
        self.dispute_button.setObjectName("disputeButton")
        self.status_label = QLabel(self)
        self.status_label.setObjectName("invoicesStatus")
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_pdf_button.clicked.connect(self.open_pdf)
        self.save_pdf_button.clicked.connect(self.save_pdf)
        self.dispute_button.clicked.connect(self.dispute)

        # -- detail pane
        self.detail_box = QGroupBox(self)
        self.detail_box.setObjectName("invoiceDetail")
        self.lines_model = InvoiceLinesModel(self)
        self.lines_table = QTableView(self.detail_box)
        self.lines_table.setObjectName("invoiceLinesTable")
        self.lines_table.setModel(self.lines_model)
        line_rows = self.lines_table.verticalHeader()
        line_rows.hide()
        line_rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        line_rows.setDefaultSectionSize(self.lines_table.fontMetrics().height() + 10)
        self.lines_table.setAlternatingRowColors(True)
        self.lines_table.setShowGrid(False)
        self.lines_table.setWordWrap(False)
        self.lines_table.setTabKeyNavigation(False)
        self.lines_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.lines_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        lines_header = self.lines_table.horizontalHeader()
        lines_header.setHighlightSections(False)
        lines_header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        lines_header.setSectionResizeMode(
            InvoiceLinesModel.DESCRIPTION, QHeaderView.ResizeMode.Stretch
        )
        self.figures = QFormLayout()
        self.figures.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        self.figures.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._figure_labels: dict[str, QLabel] = {}
        self._figure_values: dict[str, QLabel] = {}
        for key in ("subtotal", "vat", "total", "credit", "paid", "due"):
            label, value = QLabel(self.detail_box), QLabel(self.detail_box)
            value.setObjectName(f"figure_{key}")
            value.setAlignment(_RIGHT)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self._figure_labels[key], self._figure_values[key] = label, value
            self.figures.addRow(label, value)
        bold = QFont(self._figure_values["total"].font())
        bold.setBold(True)
        self._figure_values["total"].setFont(bold)
        self._figure_labels["total"].setFont(bold)
        self.detail_info = QLabel(self.detail_box)
        self.detail_info.setObjectName("invoiceDetailInfo")
        self.detail_info.setWordWrap(True)
        self.detail_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail_info.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

        figures_box = QVBoxLayout()
        figures_box.addLayout(self.figures)
        line = QFrame(self.detail_box)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        figures_box.addWidget(line)
        figures_box.addWidget(self.detail_info, 1)
        figures_widget = QWidget(self.detail_box)
        figures_widget.setLayout(figures_box)
        figures_widget.setMinimumWidth(300)
        figures_widget.setMaximumWidth(380)
        detail_layout = QHBoxLayout(self.detail_box)
        detail_layout.addWidget(self.lines_table, 1)
        detail_layout.addWidget(figures_widget)

        # -- layout
        balance_bar = QHBoxLayout()
        balance_bar.addWidget(self.balance_label)
        balance_bar.addSpacing(16)
        balance_bar.addWidget(self.credit_label)
        balance_bar.addStretch(1)
        balance_bar.addWidget(self.pay_button)
        action_bar = QHBoxLayout()
        action_bar.addWidget(self.open_pdf_button)
        action_bar.addWidget(self.save_pdf_button)
        action_bar.addWidget(self.dispute_button)
        action_bar.addSpacing(12)
        action_bar.addWidget(self.status_label, 1)
        upper = QWidget(self)
        upper_layout = QVBoxLayout(upper)
        upper_layout.setContentsMargins(0, 0, 0, 0)
        upper_layout.addWidget(self.inner_tabs, 1)
        upper_layout.addLayout(action_bar)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(upper)
        self.splitter.addWidget(self.detail_box)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(8)
        layout.addLayout(balance_bar)
        layout.addWidget(self.splitter, 1)
        self.setFocusProxy(self.inner_tabs)

        for table in (self.open_table, self.paid_table):
            table.selectionModel().selectionChanged.connect(self._on_selection_changed)
            table.activated.connect(lambda _index: self.open_pdf())
        self.inner_tabs.currentChanged.connect(self._on_tab_changed)

        for first, second in (
            (self.inner_tabs, self.open_table),
            (self.open_table, self.paid_table),
            (self.paid_table, self.open_pdf_button),
            (self.open_pdf_button, self.save_pdf_button),
            (self.save_pdf_button, self.dispute_button),
            (self.dispute_button, self.pay_button),
            (self.pay_button, self.lines_table),
        ):
            QWidget.setTabOrder(first, second)

        self.retranslateUi()
        for table in (self.open_table, self.paid_table):
            table.size_columns()
        self._size_line_columns()
        self.splitter.setSizes([440, 300])
        self.reload()

    def _size_line_columns(self) -> None:
        m = InvoiceLinesModel
        samples = {
            m.PERIOD: _period_text(date(2026, 12, 28), date(2027, 12, 29)),
            m.QUANTITY: "00000",
            m.UNIT_PRICE: format_money(-1234567, "EUR"),
            m.TOTAL: format_money(-12345678, "EUR"),
        }
        size_columns_to_samples(self.lines_table, samples, padding=24)

    # -- state ---------------------------------------------------------------

    @property
    def account_id(self) -> int:
        return self._account_id

    @property
    def busy(self) -> bool:
        """A PDF is being rendered in the background."""
        return self._task is not None

    @property
    def current_table(self) -> _InvoiceTable:
        return (
            self.paid_table if self.inner_tabs.currentIndex() == self.PAID_TAB else self.open_table
        )

    def current_invoice(self) -> InvoiceRow | None:
        return self.current_table.selected_row()

    def current_detail(self) -> InvoiceDetail | None:
        return self._detail

    # -- loading -------------------------------------------------------------

    def reload(self) -> None:
        """Read the invoices, the balance and the selected invoice's detail again."""
        selected = self.current_invoice()
        try:
            settings = payment_settings(self._ctx, self._account_id)
            rows = list_invoices(self._ctx, self._account_id, "all")
        except DomainError as err:
            show_service_error(self, err)
            return
        self._settings = settings
        self._loading = True
        try:
            self.open_model.set_rows([r for r in rows if r.status == "open"])
            self.paid_model.set_rows([r for r in rows if r.status != "open"])
            wanted = selected.id if selected else None
            found = [table.select_invoice(wanted) for table in (self.open_table, self.paid_table)]
            if wanted is not None and not found[self.inner_tabs.currentIndex()] and any(found):
                # e.g. paid just now: follow the invoice to the tab that lists it
                self.inner_tabs.setCurrentIndex(found.index(True))
        finally:
            self._loading = False
        self._show_balance()
        self._update_titles()
        self._update_empty_state()
        self._load_detail()

    def _on_tab_changed(self, _index: int) -> None:
        if self.current_invoice() is None:
            self.current_table.select_invoice(None)
        self._load_detail()

    def _on_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        if not self._loading:
            self._load_detail()

    def _load_detail(self) -> None:
        row = self.current_invoice()
        detail: InvoiceDetail | None = None
        if row is not None:
            try:
                detail = invoice_detail(self._ctx, row.id)
            except DomainError as err:
                show_service_error(self, err)
        self._detail = detail
        self._show_detail()
        self._update_actions()

    # -- showing -------------------------------------------------------------

    def _show_balance(self) -> None:
        s = self._settings
        if s is None:
            self.balance_label.clear()
            self.credit_label.clear()
            return
        if s.outstanding.is_positive:
            self.balance_label.setText(
                self.tr("Balance due: {amount}").format(amount=_money(s.outstanding))
            )
        else:
            self.balance_label.setText(self.tr("Nothing is due."))
        if s.credit_balance.is_positive:
            self.credit_label.setText(
                self.tr("Account credit: {amount}").format(amount=_money(s.credit_balance))
            )
        else:
            self.credit_label.clear()

    def _update_titles(self) -> None:
        self.inner_tabs.setTabText(
            self.OPEN_TAB, self.tr("&Open invoices (%n)", "", self.open_model.rowCount())
        )
        self.inner_tabs.setTabText(
            self.PAID_TAB, self.tr("P&aid invoices (%n)", "", self.paid_model.rowCount())
        )

    def _update_empty_state(self) -> None:
        empty = self.open_model.rowCount() == 0
        self.empty_open.setVisible(empty)
        if empty:
            self.empty_open.setText(self.tr("No open invoices: everything is paid."))
            self.empty_open.resize(self.open_table.viewport().size())

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self.empty_open.resize(self.open_table.viewport().size())

    def _show_detail(self) -> None:
        d = self._detail
        self.detail_box.setEnabled(d is not None)
        if d is None:
            self.detail_box.setTitle(self.tr("Invoice details"))
            self.lines_model.set_lines([])
            for value in self._figure_values.values():
                value.clear()
            self.detail_info.setText(self.tr("Select an invoice to see its lines."))
            return
        self.detail_box.setTitle(
            self.tr("Invoice {number} of {date}").format(
                number=d.number, date=format_date(d.issue_date)
            )
        )
        self.lines_model.set_lines(d.lines)
        from billing_desktop.documents.formatting import format_percent

        labels, values = self._figure_labels, self._figure_values
        values["subtotal"].setText(_money(d.subtotal))
        if d.reverse_charge:
            labels["vat"].setText(self.tr("VAT (reverse charge)"))
        else:
            labels["vat"].setText(
                self.tr("VAT {rate}").format(rate=format_percent(d.vat_rate, QLocale()))
            )
        values["vat"].setText(_money(d.vat))
        values["total"].setText(_money(d.total))
        show_credit = not d.credit_applied.is_zero
        labels["credit"].setVisible(show_credit)
        values["credit"].setVisible(show_credit)
        values["credit"].setText(_money(-d.credit_applied))
        values["paid"].setText(_money(d.paid))
        values["due"].setText(_money(d.due))
        self.detail_info.setText("\n".join(self._info_lines(d)))

    def _info_lines(self, d: InvoiceDetail) -> list[str]:
        lines: list[str] = []
        if d.status == "open":
            due = format_date(d.due_date)
            if d.overdue:
                lines.append(self.tr("Overdue: was due on {date}.").format(date=due))
            else:
                lines.append(self.tr("Due on {date}.").format(date=due))
        elif d.status == "void" and d.voided_at is not None:
            lines.append(
                self.tr("Voided on {date}: {reason}").format(
                    date=format_date(d.voided_at.date()), reason=d.void_reason or ""
                )
            )
        for payment in d.payments:
            lines.append(
                self.tr("Paid {amount} on {date} with {method}.").format(
                    amount=_money(payment.amount),
                    date=format_date(payment.received_at.date()),
                    method=self._method_text(payment.method_summary),
                )
            )
        if d.reverse_charge and d.vat_number:
            lines.append(
                self.tr("VAT reverse charged: customer VAT number {vat}.").format(vat=d.vat_number)
            )
        if d.disputed_at is not None:
            lines.append(
                self.tr("Disputed on {date}: {note}").format(
                    date=format_date(d.disputed_at.date()), note=d.dispute_note or ""
                )
            )
        if d.status != "void":
            if d.may_dispute:
                lines.append(
                    self.tr("Can be disputed until {date}.").format(
                        date=format_date(d.dispute_deadline)
                    )
                )
            else:
                lines.append(
                    self.tr("The dispute window closed on {date}.").format(
                        date=format_date(d.dispute_deadline)
                    )
                )
        return lines

    def _method_text(self, summary: str) -> str:
        """A payment method as the service names it; "bank transfer" is a word of ours."""
        return self.tr("bank transfer") if summary == "bank transfer" else summary

    def _update_actions(self) -> None:
        d = self._detail
        s = self._settings
        may_change = s is not None and s.may_change
        idle = self._task is None
        self.open_pdf_button.setEnabled(d is not None and idle)
        self.save_pdf_button.setEnabled(d is not None and idle)
        disputable = d is not None and d.may_dispute
        self.dispute_button.setEnabled(disputable and may_change)
        if d is None:
            self.dispute_button.setToolTip("")
        elif not may_change:
            self.dispute_button.setToolTip(self._read_only_text())
        elif d.status == "void":
            self.dispute_button.setToolTip(self.tr("A void invoice cannot be disputed."))
        elif not d.may_dispute:
            self.dispute_button.setToolTip(
                self.tr(
                    "Invoices can be disputed within 15 days of issue; "
                    "the last day for {number} was {date}."
                ).format(number=d.number, date=format_date(d.dispute_deadline))
            )
        else:
            self.dispute_button.setToolTip(
                self.tr("Can be disputed until {date}.").format(
                    date=format_date(d.dispute_deadline)
                )
            )
        due = s is not None and s.outstanding.is_positive
        expired = s is not None and s.pay_with_expired
        self.pay_button.setEnabled(due and may_change and not expired)
        if s is not None and not may_change:
            self.pay_button.setToolTip(self._read_only_text())
        elif s is not None and expired:
            self.pay_button.setToolTip(
                self.tr(
                    "The default card {method} has expired; add a new card or make another "
                    "method the default first."
                ).format(method=s.pay_with)
            )
        elif not due:
            self.pay_button.setToolTip(self.tr("Nothing is due on this account."))
        else:
            self.pay_button.setToolTip("")

    def _read_only_text(self) -> str:
        return self.tr("Your role can view this account but not change it.")

    # -- Pay balance -----------------------------------------------------------

    def pay_balance(self) -> None:
        """Confirm the amount due and the method charged, then record the payment."""
        s = self._settings
        if s is None or not s.outstanding.is_positive:
            return
        amount = _money(s.outstanding)
        box = QMessageBox(self)
        box.setObjectName("payBalanceConfirmation")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Pay balance"))
        if s.pay_with is None:
            box.setText(
                self.tr("Record a bank transfer of {amount} for account {account}?").format(
                    amount=amount, account=s.account_number
                )
            )
        else:
            box.setText(
                self.tr("Charge {amount} to {method} for account {account}?").format(
                    amount=amount, method=s.pay_with, account=s.account_number
                )
            )
        box.setInformativeText(
            self.tr("The open invoices are paid oldest first and the customer is emailed.")
        )
        pay = box.addButton(
            self.tr("&Pay {amount}").format(amount=amount), QMessageBox.ButtonRole.AcceptRole
        )
        pay.setObjectName("confirmPay")
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(pay)
        version = s.version

        def answered(button: QAbstractButton) -> None:
            if button is pay:
                self._record_payment(version)

        box.buttonClicked.connect(answered)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._dialog = box
        box.finished.connect(self._forget_dialog)
        box.open()

    def _record_payment(self, version: int) -> None:
        try:
            result = record_payment(self._ctx, self._account_id, expected_version=version)
        except ConflictError as err:
            show_service_error(self, err)
            self.reload()
            return
        except DomainError as err:
            show_service_error(self, err)
            return
        self.reload()
        self.account_changed.emit()
        self._show_payment_result(result)

    def _show_payment_result(self, result: PaymentResult) -> None:
        sentences = [
            self.tr("{amount} was received with {method}.").format(
                amount=_money(result.amount), method=self._method_text(result.method_summary)
            )
        ]
        if result.applied:
            numbers = ", ".join(a.invoice_number for a in result.applied)
            sentences.append(
                self.tr("%n invoice(s) paid: {numbers}.", "", len(result.applied)).format(
                    numbers=numbers
                )
            )
        if result.credit_created.is_positive:
            sentences.append(
                self.tr("{amount} became account credit.").format(
                    amount=_money(result.credit_created)
                )
            )
        sentences.append(
            self.tr("Balance due now: {amount}.").format(amount=_money(result.outstanding))
        )
        box = QMessageBox(self)
        box.setObjectName("paymentResult")
        box.setIcon(QMessageBox.Icon.Information)
        box.setWindowTitle(self.tr("Payment recorded"))
        box.setText(" ".join(sentences))
        box.setInformativeText(self.tr("A payment confirmation was emailed to the customer."))
        box.setStandardButtons(QMessageBox.StandardButton.Ok)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._dialog = box
        box.finished.connect(self._forget_dialog)
        box.open()

    def _forget_dialog(self) -> None:
        self._dialog = None

    # -- Dispute -----------------------------------------------------------------

    def dispute(self) -> None:
        d = self._detail
        if d is None or not d.may_dispute:
            return
        dialog = DisputeDialog(d, self._draft_note, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        version = d.version
        invoice_id = d.id

        def finished(code: int) -> None:
            self._dialog = None
            if code == QDialog.DialogCode.Accepted:
                self._write_dispute(invoice_id, dialog.note(), version)

        dialog.finished.connect(finished)
        self._dialog = dialog
        dialog.open()

    def _write_dispute(self, invoice_id: int, note: str, version: int) -> None:
        try:
            detail = dispute_invoice(self._ctx, invoice_id, note, expected_version=version)
        except ConflictError as err:
            self._draft_note = note  # offered again by the next Dispute…
            show_service_error(self, err)
            self.reload()
            return
        except DomainError as err:
            self._draft_note = note
            show_service_error(self, err)
            return
        self._draft_note = ""
        self.reload()
        self.account_changed.emit()
        self.status_label.setText(
            self.tr("The dispute was noted on invoice {number}.").format(number=detail.number)
        )

    # -- PDFs ----------------------------------------------------------------------

    def _document(self) -> tuple[Any, Any] | None:
        """The selected invoice's PDF content and its language's translator (GUI thread)."""
        d = self._detail
        if d is None:
            return None
        from billing_desktop.documents.translation import translator_for
        from billing_desktop.services.documents_data import invoice_document

        try:
            doc = invoice_document(self._ctx, d.id)
        except DomainError as err:
            show_service_error(self, err)
            return None
        # Loaded here, not in the worker: the translator is a QObject kept in a cache.
        return doc, translator_for(doc.language)

    def open_pdf(self) -> None:
        """Render the selected invoice into a temporary file and open it in the PDF viewer."""
        if self._task is not None:
            return
        loaded = self._document()
        if loaded is None:
            return
        doc, translator = loaded
        target = _pdf_dir() / f"{doc.number}.pdf"
        self._start_pdf(
            lambda progress: _write_pdf(doc, translator, target, progress),
            self.tr("Preparing invoice {number}…").format(number=doc.number),
            self._open_file,
        )

    def _open_file(self, path: Path) -> None:
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
            self.status_label.setText(
                self.tr("No PDF viewer could be started; the invoice is at {path}.").format(
                    path=path
                )
            )
        else:
            self.status_label.clear()

    def save_pdf(self) -> None:
        """Ask where to save the selected invoice as PDF, then render it there."""
        if self._task is not None or self._detail is None:
            return
        settings = QSettings()
        folder = str(settings.value(_SETTINGS_SAVE_DIR, "") or Path.home())
        suggested = str(Path(folder) / f"{self._detail.number}.pdf")
        name, _filter = QFileDialog.getSaveFileName(
            self, self.tr("Save invoice as PDF"), suggested, self.tr("PDF files (*.pdf)")
        )
        if not name:
            return
        target = Path(name)
        if target.suffix.lower() != ".pdf":
            target = target.with_name(target.name + ".pdf")
        loaded = self._document()
        if loaded is None:
            return
        doc, translator = loaded

        def saved(path: Path) -> None:
            # remembered once it worked: a folder that failed is not offered again
            settings.setValue(_SETTINGS_SAVE_DIR, str(path.parent))
            self.status_label.setText(
                self.tr("Invoice {number} was saved to {path}.").format(
                    number=doc.number, path=path
                )
            )

        def not_saved(err: OSError) -> None:
            text = self._save_error_text(err, doc.number, target)
            self.status_label.setText(text)
            box = QMessageBox(self)
            box.setObjectName("pdfSaveError")
            box.setIcon(QMessageBox.Icon.Warning)
            box.setWindowTitle(self.tr("Save invoice as PDF"))
            box.setText(text)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()

        self._start_pdf(
            lambda progress: _write_pdf(doc, translator, target, progress),
            self.tr("Saving invoice {number}…").format(number=doc.number),
            saved,
            not_saved,
        )

    def _save_error_text(self, err: OSError, number: str, target: Path) -> str:
        """Why the PDF could not be saved, and what to do, in the UI language."""
        folder = str(target.parent)
        if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return self.tr(
                "Invoice {number} was not saved: the folder {folder} is not writable. "
                "Choose another folder and save again."
            ).format(number=number, folder=folder)
        if err.errno in (errno.ENOENT, errno.ENOTDIR):
            return self.tr(
                "Invoice {number} was not saved: the folder {folder} does not exist. "
                "Choose another folder and save again."
            ).format(number=number, folder=folder)
        if err.errno in (errno.ENOSPC, errno.EDQUOT):
            return self.tr(
                "Invoice {number} was not saved: the disk is full. Free some space or "
                "choose another folder and save again."
            ).format(number=number)
        return self.tr(
            "Invoice {number} was not saved to {folder} ({error}). Choose another folder "
            "and save again."
        ).format(number=number, folder=folder, error=err.strerror or str(err))

    def _start_pdf(
        self, work: Any, label: str, on_result: Any, on_os_error: Any = None
    ) -> None:
        def on_error(err: BaseException) -> None:
            if isinstance(err, DomainError):
                show_service_error(self, err)
            elif isinstance(err, OSError) and on_os_error is not None:
                on_os_error(err)
            elif isinstance(err, OSError):
                self.status_label.setText(
                    self.tr("The PDF could not be written: {error}").format(
                        error=err.strerror or str(err)
                    )
                )
            else:
                raise err

        def cancelled() -> None:
            self.status_label.setText(self.tr("Cancelled; no file was written."))

        self.status_label.clear()
        self._task = run_in_background(
            self,
            work,
            title=self.tr("Invoice PDF"),
            label=label,
            on_result=on_result,
            on_error=on_error,
            on_cancel=cancelled,
        )
        self._task.done.connect(self._pdf_done)
        self._update_actions()

    def _pdf_done(self) -> None:
        if self._task is not None:
            self._task.deleteLater()
        self._task = None
        self._update_actions()

    # -- language ----------------------------------------------------------------

    def retranslateUi(self) -> None:
        self.pay_button.setText(self.tr("Pay &balance…"))
        self.open_pdf_button.setText(self.tr("Open &PDF"))
        self.save_pdf_button.setText(self.tr("&Save PDF…"))
        self.dispute_button.setText(self.tr("&Dispute…"))
        self.open_model.retranslate()
        self.paid_model.retranslate()
        self.lines_model.retranslate()
        self._figure_labels["subtotal"].setText(self.tr("Subtotal"))
        self._figure_labels["vat"].setText(self.tr("VAT"))
        self._figure_labels["total"].setText(self.tr("Total"))
        self._figure_labels["credit"].setText(self.tr("Account credit used"))
        self._figure_labels["paid"].setText(self.tr("Paid"))
        self._figure_labels["due"].setText(self.tr("Amount due"))
        if self._settings is not None:
            self._show_balance()
            self._update_titles()
            self._update_empty_state()
            self._show_detail()
            self._update_actions()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslateUi()
        super().changeEvent(event)
