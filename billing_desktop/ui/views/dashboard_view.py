"""The Dashboard (SPEC §4; issue 4 item 7): revenue, licences, cancellations and renewals ahead.

Everything shown comes from :func:`billing_desktop.services.dashboard.dashboard`
(figures computed in SQL, money in integer minor units). This module is the
only one that imports QtCharts, and the main window imports it only when the
dashboard is first shown: the charts library is not part of the cold start.

- *Recurring revenue per month*: a stacked bar per month, *Invoiced*
  (solid) and *Projected* (hatched, dashed outline — the renewals still
  due), 12 months back and 3 ahead, in one currency at a time: the currency
  selector lists the accounts' currencies, the most common first (the
  default). Amounts are never converted between currencies. The value axis
  is labelled with :func:`format_money`; amounts become floats only for
  drawing, converted from ``Decimal``.
- *Licences bought vs assigned* per product: horizontal bars.
- Two compact lists, *pending cancellations* and *renewals in the next 30
  days* (Alt+P, Alt+R); Enter or a double-click on a row emits
  :attr:`DashboardView.account_activated`.

The figures are read in the thread pool (:meth:`DashboardView.refresh`): at
100 000 accounts the queries take a second or two, which must not freeze the
window. Colours follow the palette (light and dark): the charts are drawn on
the palette's base colour, their texts, axes and grid in its text and mid
colours; only the bars have fixed colours, chosen to read on both.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from html import escape
from typing import Any

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSet,
    QCategoryAxis,
    QChart,
    QChartView,
    QHorizontalBarSeries,
    QStackedBarSeries,
    QValueAxis,
)
from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QCoreApplication,
    QDate,
    QEvent,
    QLocale,
    QMargins,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QCursor, QFont, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QStackedWidget,
    QTableView,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from billing_desktop.domain.money import currency_exponent
from billing_desktop.services.context import AppContext
from billing_desktop.services.dashboard import (
    RENEWAL_DAYS,
    Dashboard,
    DashboardItem,
    MonthRevenue,
    ProductLicences,
    dashboard,
)
from billing_desktop.ui.formatting import format_date, format_money
from billing_desktop.ui.models.table import RowTableModel, setup_row_table

__all__ = ["CancellationsModel", "DashboardView", "RenewalsModel"]

log = logging.getLogger("billing_desktop.ui")

_Index = QModelIndex | QPersistentModelIndex
_DISPLAY = Qt.ItemDataRole.DisplayRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_ALIGN = Qt.ItemDataRole.TextAlignmentRole

#: Bar colours, readable on light and dark backgrounds alike.
_INVOICED = QColor(47, 111, 222)
_BOUGHT = QColor(150, 178, 232)
_ASSIGNED = QColor(47, 111, 222)

#: A refresh never shows a progress dialog (the view says it is reading).
_NO_DIALOG_MS = 2**31 - 1

#: Ticks of the value axes (at most this many steps above zero).
_VALUE_STEPS = 5


def to_drawing(minor: int, currency: str) -> float:
    """``minor`` units of ``currency`` in whole units, as the chart draws them.

    The only float in the money path: exact ``Decimal`` first, a float only
    for the chart's geometry.
    """
    if not isinstance(minor, int) or isinstance(minor, bool):
        raise TypeError(f"minor units must be int, not {type(minor).__name__}")
    return float(Decimal(minor).scaleb(-currency_exponent(currency)))


def nice_steps(maximum: int, unit: int, steps: int = _VALUE_STEPS) -> list[int]:
    """Round tick values from 0 covering ``maximum`` (integers, in the caller's units).

    The step is 1, 2 or 5 × a power of ten, never below ``unit`` (one whole
    currency unit for money, one licence for counts).
    """
    if maximum <= 0:
        return [0, unit]
    target = max(-(-maximum // steps), unit)
    magnitude = 10 ** (len(str(target)) - 1)
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= target)
    top = -(-maximum // step) * step
    return list(range(0, top + 1, step))


def two_lines(text: str, longest: int = 18) -> str:
    """``text`` as axis-label HTML, broken at the space nearest its middle when long."""
    if len(text) <= longest or " " not in text:
        return escape(text)
    middle = len(text) // 2
    cut = min((i for i, c in enumerate(text) if c == " "), key=lambda i: abs(i - middle))
    return f"{escape(text[:cut])}<br>{escape(text[cut + 1 :])}"


# --------------------------------------------------------------------------- the lists


class _ItemsModel(RowTableModel):
    """Subscriptions with an account, product, date and amount (read-only)."""

    ACCOUNT, PRODUCT, DATE, AMOUNT = range(4)
    COLUMN_COUNT = 4

    def data(self, index: _Index, role: int = _DISPLAY) -> Any:
        item: DashboardItem | None = self._row_at(index)
        if item is None:
            return None
        column = index.column()
        if role == _DISPLAY:
            if column == self.ACCOUNT:
                return item.company_name
            if column == self.PRODUCT:
                return item.product_name
            if column == self.DATE:
                return format_date(item.date)
            if column == self.AMOUNT:
                return amount_text(item)
            return None
        if role == _TOOLTIP:
            if column == self.ACCOUNT:
                return QLocale().createSeparatedList([item.account_number, item.company_name])
            if column == self.AMOUNT:
                return QCoreApplication.translate("DashboardView", "Excluding VAT")
            return None
        if role == _ALIGN:
            return self._alignment(column)
        if role == self.ObjectRole:
            return item
        return None

    def _alignment(self, column: int) -> Qt.AlignmentFlag | None:
        if column == self.AMOUNT:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        return Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


class CancellationsModel(_ItemsModel):
    """Pending cancellations: the date is when the subscription ends."""

    CONTEXT = "CancellationsModel"
    HEADERS = (
        QT_TRANSLATE_NOOP("CancellationsModel", "Account"),
        QT_TRANSLATE_NOOP("CancellationsModel", "Product"),
        QT_TRANSLATE_NOOP("CancellationsModel", "Ends on"),
        QT_TRANSLATE_NOOP("CancellationsModel", "Amount"),
    )


class RenewalsModel(_ItemsModel):
    """Renewals ahead: the date is the next billing date."""

    CONTEXT = "RenewalsModel"
    HEADERS = (
        QT_TRANSLATE_NOOP("RenewalsModel", "Account"),
        QT_TRANSLATE_NOOP("RenewalsModel", "Product"),
        QT_TRANSLATE_NOOP("RenewalsModel", "Renews on"),
        QT_TRANSLATE_NOOP("RenewalsModel", "Amount"),
    )


def amount_text(item: DashboardItem) -> str:
    """ "€480.00 per month": what one billing period of the subscription bills."""
    money = format_money(item.amount_minor, item.currency)
    if item.frequency == "annual":
        text = QCoreApplication.translate("DashboardView", "{amount} per year")
    else:
        text = QCoreApplication.translate("DashboardView", "{amount} per month")
    return text.format(amount=money)


class _ItemList(QWidget):
    """A title, then the table, or a short sentence when there is nothing to list."""

    def __init__(self, model: _ItemsModel, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.title = QLabel(self)
        self.title.setObjectName(f"{name}Title")
        font = QFont(self.title.font())
        font.setBold(True)
        self.title.setFont(font)
        self.table = QTableView(self)
        self.table.setObjectName(f"{name}Table")
        setup_row_table(self.table, model, row_padding=6)
        header = self.table.horizontalHeader()
        for column in (_ItemsModel.ACCOUNT, _ItemsModel.PRODUCT):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        for column in (_ItemsModel.DATE, _ItemsModel.AMOUNT):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.empty = QLabel(self)
        self.empty.setObjectName(f"{name}Empty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.title)
        layout.addWidget(self.stack, 1)
        self.title.setBuddy(self.table)
        self.setFocusProxy(self.table)

    def set_items(self, items: tuple[DashboardItem, ...]) -> None:
        self.model.set_rows(items)
        self.stack.setCurrentWidget(self.table if items else self.empty)


# --------------------------------------------------------------------------- the view


class DashboardView(QWidget):
    """Charts and lists over all accounts, read again by :meth:`refresh`."""

    #: A row of a list was activated (Enter, double-click); carries the account id.
    account_activated = Signal(int)
    #: New figures are shown (after :meth:`refresh`).
    loaded = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dashboardView")
        self._ctx = ctx
        self._data: Dashboard | None = None
        self._currency: str | None = None
        self._months: tuple[MonthRevenue, ...] = ()
        self._licences: tuple[ProductLicences, ...] = ()
        self._task: Any = None
        self._again = False

        # -- top bar
        self.currency_label = QLabel(self)
        self.currency_combo = QComboBox(self)
        self.currency_combo.setObjectName("dashboardCurrency")
        self.currency_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.currency_label.setBuddy(self.currency_combo)
        self.as_of_label = QLabel(self)
        self.as_of_label.setObjectName("dashboardAsOf")
        self.as_of_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        # -- revenue chart
        self.invoiced_set = QBarSet("", self)
        self.projected_set = QBarSet("", self)
        self.revenue_series = QStackedBarSeries(self)
        self.revenue_series.append(self.invoiced_set)
        self.revenue_series.append(self.projected_set)
        self.revenue_series.setBarWidth(0.7)
        self.month_axis = QBarCategoryAxis(self)
        self.money_axis = QCategoryAxis(self)
        self.money_axis.setLabelsPosition(
            QCategoryAxis.AxisLabelsPosition.AxisLabelsPositionOnValue
        )
        self.revenue_chart = self._chart(self.revenue_series, self.month_axis, self.money_axis)
        self.revenue_view = self._chart_view(self.revenue_chart, "dashboardRevenueChart")

        # -- licences chart
        self.bought_set = QBarSet("", self)
        self.assigned_set = QBarSet("", self)
        self.licence_series = QHorizontalBarSeries(self)
        self.licence_series.append(self.bought_set)
        self.licence_series.append(self.assigned_set)
        self.licence_series.setBarWidth(0.75)
        self.licence_series.setLabelsVisible(True)
        self.licence_series.setLabelsPosition(QHorizontalBarSeries.LabelsPosition.LabelsOutsideEnd)
        self.licence_series.setLabelsFormat("@value")
        self.licence_series.setLabelsPrecision(12)
        self.product_axis = QBarCategoryAxis(self)
        self.count_axis = QValueAxis(self)
        self.count_axis.setLabelFormat("%.0f")
        self.licence_chart = self._chart(
            self.licence_series, self.product_axis, self.count_axis, horizontal=True
        )
        self.licence_view = self._chart_view(self.licence_chart, "dashboardLicenceChart")

        # -- lists
        self.cancellations_model = CancellationsModel(self)
        self.renewals_model = RenewalsModel(self)
        self.cancellations = _ItemList(self.cancellations_model, "dashboardCancellations", self)
        self.renewals = _ItemList(self.renewals_model, "dashboardRenewals", self)
        for item_list in (self.cancellations, self.renewals):
            item_list.table.activated.connect(self._on_activated)

        # -- layout
        bar = QHBoxLayout()
        bar.setSpacing(8)
        bar.addWidget(self.currency_label)
        bar.addWidget(self.currency_combo)
        bar.addStretch(1)
        bar.addWidget(self.as_of_label)
        lists = QVBoxLayout()
        lists.setSpacing(12)
        lists.addWidget(self.cancellations, 1)
        lists.addWidget(self.renewals, 2)
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(12)
        grid.addWidget(self.revenue_view, 0, 0, 1, 2)
        grid.addWidget(self.licence_view, 1, 0)
        grid.addLayout(lists, 1, 1)
        grid.setColumnStretch(0, 4)
        grid.setColumnStretch(1, 5)
        grid.setRowStretch(0, 5)
        grid.setRowStretch(1, 6)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(8)
        layout.addLayout(bar)
        layout.addLayout(grid, 1)
        self.setFocusProxy(self.currency_combo)
        QWidget.setTabOrder(self.currency_combo, self.cancellations.table)
        QWidget.setTabOrder(self.cancellations.table, self.renewals.table)

        self.currency_combo.currentIndexChanged.connect(self._on_currency_changed)
        self.invoiced_set.hovered.connect(
            lambda status, index: self._revenue_tip(status, index, projected=False)
        )
        self.projected_set.hovered.connect(
            lambda status, index: self._revenue_tip(status, index, projected=True)
        )

        self._style_bars()
        self._apply_palette()
        self._retranslate_widgets()
        self.refresh()

    # -- building ------------------------------------------------------------

    def _chart(
        self, series: Any, categories: Any, values: Any, *, horizontal: bool = False
    ) -> QChart:
        chart = QChart()
        chart.addSeries(series)
        if horizontal:
            chart.addAxis(categories, Qt.AlignmentFlag.AlignLeft)
            chart.addAxis(values, Qt.AlignmentFlag.AlignBottom)
        else:
            chart.addAxis(categories, Qt.AlignmentFlag.AlignBottom)
            chart.addAxis(values, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(categories)
        series.attachAxis(values)
        categories.setGridLineVisible(False)
        chart.legend().setVisible(True)
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignTop)
        chart.setMargins(QMargins(4, 4, 4, 4))
        chart.setBackgroundRoundness(6)
        chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
        chart.setLocalizeNumbers(True)  # "248,501" on the bars and axes, in the UI locale
        return chart

    def _chart_view(self, chart: QChart, name: str) -> QChartView:
        view = QChartView(chart, self)
        view.setObjectName(name)
        view.setRenderHint(QPainter.RenderHint.Antialiasing)
        view.setMinimumHeight(220)
        view.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # nothing to do there by keyboard
        return view

    def _style_bars(self) -> None:
        self.invoiced_set.setColor(_INVOICED)
        self.invoiced_set.setBorderColor(_INVOICED)
        self.projected_set.setBrush(QBrush(_INVOICED, Qt.BrushStyle.BDiagPattern))
        pen = QPen(_INVOICED)
        pen.setStyle(Qt.PenStyle.DashLine)
        pen.setWidthF(1.2)
        self.projected_set.setPen(pen)
        self.bought_set.setColor(_BOUGHT)
        self.bought_set.setBorderColor(_BOUGHT)
        self.assigned_set.setColor(_ASSIGNED)
        self.assigned_set.setBorderColor(_ASSIGNED)

    def _apply_palette(self) -> None:
        """Texts, axes and chart backgrounds from the palette (light or dark)."""
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.WindowText)
        grid = palette.color(QPalette.ColorRole.Mid)
        base = palette.color(QPalette.ColorRole.Base)
        border = palette.color(QPalette.ColorRole.Midlight)
        for chart in (self.revenue_chart, self.licence_chart):
            chart.setBackgroundBrush(base)
            chart.setBackgroundPen(QPen(border))
            chart.setTitleBrush(text)
            chart.legend().setLabelColor(text)
            for axis in chart.axes():
                axis.setLabelsColor(text)
                axis.setLinePenColor(grid)
                axis.setGridLineColor(grid)
        for view in (self.revenue_view, self.licence_view):
            view.setBackgroundBrush(palette.color(QPalette.ColorRole.Window))
        for bar_set in (self.bought_set, self.assigned_set):
            bar_set.setLabelColor(text)

    # -- data ----------------------------------------------------------------

    @property
    def data(self) -> Dashboard | None:
        """What the dashboard shows (None until read, or after an error)."""
        return self._data

    @property
    def currency(self) -> str | None:
        """The currency the revenue chart shows."""
        return self._currency

    @property
    def loading(self) -> bool:
        """The figures are being read (in the thread pool)."""
        return self._task is not None

    def refresh(self) -> None:
        """Read the figures again (F5; the clock may have moved), off the GUI thread.

        The figures shown stay until the new ones arrive (:attr:`loaded`); at
        100 000 accounts and a million invoices the queries take a second or
        two, which must not freeze the window. A refresh asked for while one
        runs starts again when it ends.
        """
        if self._task is not None:
            self._again = True
            return
        from billing_desktop.ui.workers import run_in_background

        ctx = self._ctx
        self._again = False
        self.as_of_label.setText(self.tr("Reading the figures…"))
        # No progress dialog for a view's refresh: the view shows it is reading.
        self._task = run_in_background(
            self,
            lambda _progress: dashboard(ctx),
            title=self.tr("Dashboard"),
            label=self.tr("Reading the figures…"),
            on_result=self._show,
            cancellable=False,
            minimum_duration_ms=_NO_DIALOG_MS,
        )
        self._task.done.connect(self._on_task_done)

    def _on_task_done(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.deleteLater()
        if self._data is not None:
            self._retranslate_texts()  # "as of" instead of "reading"
        if self._again:
            self.refresh()

    def _show(self, data: Dashboard) -> None:
        self._data = data
        wanted = self._currency if self._currency in data.currencies else data.default_currency
        self.currency_combo.blockSignals(True)
        try:
            self.currency_combo.clear()
            for code in data.currencies:
                self.currency_combo.addItem(code, code)
            self.currency_combo.setCurrentIndex(max(self.currency_combo.findData(wanted), 0))
        finally:
            self.currency_combo.blockSignals(False)
        self.currency_combo.setEnabled(len(data.currencies) > 1)
        self._currency = wanted
        self._show_revenue()
        self._show_licences(data.licences)
        self.cancellations.set_items(data.pending_cancellations)
        self.renewals.set_items(data.renewals)
        self._retranslate_texts()
        self.loaded.emit()

    def set_currency(self, currency: str) -> None:
        """Show the revenue of ``currency`` (one of the accounts' currencies)."""
        index = self.currency_combo.findData(currency)
        if index >= 0:
            self.currency_combo.setCurrentIndex(index)

    def _on_currency_changed(self, _index: int) -> None:
        self._currency = self.currency_combo.currentData()
        self._show_revenue()
        self._retranslate_chart_titles()

    def _show_revenue(self) -> None:
        data = self._data
        currency = self._currency
        months = data.revenue.get(currency, ()) if data is not None and currency else ()
        self._months = tuple(months)
        for bar_set in (self.invoiced_set, self.projected_set):
            bar_set.remove(0, bar_set.count())
        if currency is not None:
            self.invoiced_set.append([to_drawing(m.invoiced_minor, currency) for m in months])
            self.projected_set.append([to_drawing(m.projected_minor, currency) for m in months])
        self._month_categories()
        self._money_ticks()

    def _month_categories(self) -> None:
        """ "Apr<br>2026": two lines, so 15 months fit side by side at any usual width."""
        locale = QLocale()
        labels = []
        for m in self._months:
            day = QDate(m.month.year, m.month.month, 1)
            month, year = locale.toString(day, "MMM"), locale.toString(day, "yyyy")
            labels.append(f"{escape(month)}<br>{escape(year)}")
        self.month_axis.clear()
        self.month_axis.append(labels)

    def _money_ticks(self) -> None:
        axis = self.money_axis
        for label in axis.categoriesLabels():
            axis.remove(label)
        currency = self._currency
        if currency is None:
            axis.setRange(0, 1)
            return
        unit = 10 ** currency_exponent(currency)
        ticks = nice_steps(max((m.total_minor for m in self._months), default=0), unit)
        axis.setStartValue(0)
        for tick in ticks:
            axis.append(format_money(tick, currency), to_drawing(tick, currency))
        axis.setRange(0, to_drawing(ticks[-1], currency))

    def _show_licences(self, licences: tuple[ProductLicences, ...]) -> None:
        # Horizontal bars grow upwards: the catalog's first product goes last.
        self._licences = tuple(reversed(licences))
        for bar_set in (self.bought_set, self.assigned_set):
            bar_set.remove(0, bar_set.count())
        self.bought_set.append([float(p.bought) for p in self._licences])
        self.assigned_set.append([float(p.assigned) for p in self._licences])
        self.product_axis.clear()
        self.product_axis.append([two_lines(p.product_name) for p in self._licences])
        most = max((p.bought for p in self._licences), default=0)
        # room after the longest bar for its value label
        ticks = nice_steps(most + max(1, most // 8), 1)
        self.count_axis.setRange(0, ticks[-1])
        self.count_axis.setTickCount(len(ticks))

    # -- behaviour -----------------------------------------------------------

    def _on_activated(self, index: QModelIndex) -> None:
        item = index.data(_ItemsModel.ObjectRole)
        if isinstance(item, DashboardItem):
            self.account_activated.emit(item.account_id)

    def _revenue_tip(self, status: bool, index: int, *, projected: bool) -> None:
        if not status or not 0 <= index < len(self._months) or self._currency is None:
            QToolTip.hideText()
            return
        QToolTip.showText(QCursor.pos(), self.revenue_tip(index, projected=projected), self)

    def revenue_tip(self, index: int, *, projected: bool) -> str:
        """The tooltip of month ``index``'s invoiced or projected bar."""
        month = self._months[index]
        currency = self._currency or ""
        month_text = QLocale().toString(QDate(month.month.year, month.month.month, 1), "MMMM yyyy")
        if projected:
            text = self.tr("{month}: {amount} projected from the renewals due (excluding VAT)")
            amount = month.projected_minor
        else:
            text = self.tr("{month}: {amount} invoiced (excluding VAT)")
            amount = month.invoiced_minor
        return text.format(month=month_text, amount=format_money(amount, currency))

    # -- language and palette ------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        kind = event.type()
        if kind in (QEvent.Type.LanguageChange, QEvent.Type.LocaleChange):
            self.retranslateUi()
            for chart in (self.revenue_chart, self.licence_chart):
                chart.setLocale(QLocale())
        elif kind in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._apply_palette()
        super().changeEvent(event)

    def retranslateUi(self) -> None:
        self._retranslate_widgets()
        self.cancellations_model.retranslate()
        self.renewals_model.retranslate()
        if self._data is not None:
            self._month_categories()
            self._money_ticks()
        self._retranslate_texts()

    def _retranslate_widgets(self) -> None:
        self.currency_label.setText(self.tr("&Currency:"))
        self.currency_combo.setToolTip(
            self.tr("The currency of the revenue chart; amounts are never converted")
        )
        self.invoiced_set.setLabel(self.tr("Invoiced"))
        self.projected_set.setLabel(self.tr("Projected from renewals due"))
        self.bought_set.setLabel(self.tr("Bought"))
        self.assigned_set.setLabel(self.tr("Assigned"))
        self.revenue_view.setAccessibleName(self.tr("Recurring revenue per month"))
        self.licence_view.setAccessibleName(self.tr("Licences bought and assigned per product"))
        self.cancellations.table.setAccessibleName(self.tr("Pending cancellations"))
        self.renewals.table.setAccessibleName(
            self.tr("Renewals in the next {days} days").format(days=RENEWAL_DAYS)
        )
        self.cancellations.empty.setText(self.tr("No subscription is waiting to be cancelled."))
        self.renewals.empty.setText(
            self.tr("No subscription renews in the next {days} days.").format(days=RENEWAL_DAYS)
        )
        self._retranslate_chart_titles()

    def _retranslate_chart_titles(self) -> None:
        if self._currency:
            title = self.tr("Recurring revenue per month in {currency}, excluding VAT")
            self.revenue_chart.setTitle(title.format(currency=self._currency))
        else:
            self.revenue_chart.setTitle(self.tr("Recurring revenue per month"))
        self.licence_chart.setTitle(self.tr("Licences bought and assigned per product"))

    def _retranslate_texts(self) -> None:
        data = self._data
        if data is None:
            return
        if self._task is not None:
            self.as_of_label.setText(self.tr("Reading the figures…"))
        else:
            self.as_of_label.setText(
                self.tr("Figures as of {date}").format(date=format_date(data.today))
            )
        self._set_list_title(
            self.cancellations,
            self.tr("&Pending cancellations (%Ln)", "", data.pending_cancellation_count),
            len(data.pending_cancellations),
            data.pending_cancellation_count,
        )
        self._set_list_title(
            self.renewals,
            self.tr("&Renewals in the next {days} days (%Ln)", "", data.renewal_count).format(
                days=RENEWAL_DAYS
            ),
            len(data.renewals),
            data.renewal_count,
        )
        self._retranslate_chart_titles()

    def _set_list_title(self, item_list: _ItemList, title: str, shown: int, total: int) -> None:
        if shown < total:
            more = self.tr("%Ln more not shown", "", total - shown)
            title = self.tr("{title} — {more}").format(title=title, more=more)
        item_list.title.setText(title)
