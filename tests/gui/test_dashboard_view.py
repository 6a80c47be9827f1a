"""The Dashboard view on the curated demo data: charts, lists, currency, activation."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import QEvent, QModelIndex, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from billing_desktop.ui.views.dashboard_view import (
    CancellationsModel,
    DashboardView,
    RenewalsModel,
    nice_steps,
    to_drawing,
    two_lines,
)

MONTHS = [
    "May<br>2025", "Jun<br>2025", "Jul<br>2025", "Aug<br>2025", "Sep<br>2025", "Oct<br>2025",
    "Nov<br>2025", "Dec<br>2025", "Jan<br>2026", "Feb<br>2026", "Mar<br>2026", "Apr<br>2026",
    "May<br>2026", "Jun<br>2026", "Jul<br>2026",
]  # fmt: skip


def wait_loaded(qtbot, view: DashboardView) -> None:
    """The figures are read in the thread pool: wait until they are shown."""
    qtbot.waitUntil(lambda: view.data is not None and not view.loading, timeout=10_000)


@pytest.fixture
def view(qtbot, demo_ctx) -> DashboardView:
    widget = DashboardView(demo_ctx)
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    qtbot.waitExposed(widget)
    wait_loaded(qtbot, widget)
    return widget


def values(bar_set) -> list[float]:
    return [bar_set.at(i) for i in range(bar_set.count())]


def cell(model, row: int, column: int) -> str:
    return model.index(row, column).data()


def account_id(ctx, number: str) -> int:
    return int(
        ctx.db.reader.scalar("SELECT id FROM accounts WHERE account_number = :n", {"n": number})
    )


# -- helpers -----------------------------------------------------------------


def test_drawing_values_come_from_exact_amounts() -> None:
    assert to_drawing(344_300, "EUR") == 3443.0
    assert to_drawing(1, "EUR") == 0.01
    assert to_drawing(1500, "JPY") == 1500.0
    with pytest.raises(TypeError):
        to_drawing(1.5, "EUR")  # type: ignore[arg-type]


def test_nice_steps() -> None:
    assert nice_steps(8_699_400, 100) == [0, 2_000_000, 4_000_000, 6_000_000, 8_000_000,
                                           10_000_000]  # fmt: skip
    assert nice_steps(312, 1) == [0, 100, 200, 300, 400]
    assert nice_steps(3, 1) == [0, 1, 2, 3]
    assert nice_steps(0, 100) == [0, 100]


def test_two_lines() -> None:
    assert two_lines("GoTo Meeting") == "GoTo Meeting"
    assert two_lines("GoToAssist Remote Support v4") == "GoToAssist Remote<br>Support v4"
    assert two_lines("A & B") == "A &amp; B"


# -- the revenue chart ---------------------------------------------------------


def test_revenue_chart_shows_invoiced_and_projected_per_month(view: DashboardView) -> None:
    assert view.objectName() == "dashboardView"
    assert view.currency == "EUR"
    assert view.currency_combo.currentText() == "EUR"
    assert [view.currency_combo.itemText(i) for i in range(view.currency_combo.count())] == [
        "EUR", "GBP", "USD",
    ]  # fmt: skip
    assert view.month_axis.categories() == MONTHS
    series = view.revenue_chart.series()
    assert series == [view.revenue_series]
    assert [s.label() for s in view.revenue_series.barSets()] == [
        "Invoiced",
        "Projected from renewals due",
    ]
    assert view.revenue_chart.legend().isVisible()
    invoiced = values(view.invoiced_set)
    projected = values(view.projected_set)
    assert invoiced == [
        3207.0, 2401.0, 2401.0, 3418.0, 3454.0, 25857.0, 3764.0, 86994.0, 6569.0, 4210.0,
        4367.0, 3443.0, 0.0, 0.0, 0.0,
    ]  # fmt: skip
    assert projected == [0.0] * 11 + [924.0, 6049.0, 4319.0, 4319.0]
    # past and projected bars look different (hatched, dashed outline)
    assert view.projected_set.brush().style() != view.invoiced_set.brush().style()
    assert view.projected_set.pen().style() == Qt.PenStyle.DashLine
    assert view.revenue_chart.title() == "Recurring revenue per month in EUR, excluding VAT"
    # the value axis is labelled with locale money
    assert view.money_axis.categoriesLabels() == [
        "€0.00", "€20,000.00", "€40,000.00", "€60,000.00", "€80,000.00", "€100,000.00",
    ]  # fmt: skip
    assert view.money_axis.max() == 100000.0


def test_revenue_tooltips(view: DashboardView) -> None:
    assert view.revenue_tip(11, projected=False) == "April 2026: €3,443.00 invoiced (excluding VAT)"
    assert view.revenue_tip(12, projected=True) == (
        "May 2026: €6,049.00 projected from the renewals due (excluding VAT)"
    )


def test_currency_selector_switches_the_revenue_chart(qtbot, view: DashboardView) -> None:
    view.currency_combo.setFocus()
    qtbot.keyClick(view.currency_combo, Qt.Key.Key_Down)
    assert view.currency == "GBP"
    assert values(view.invoiced_set) == [190.0] * 11 + [0.0] * 4
    assert values(view.projected_set) == [0.0] * 11 + [190.0] * 4
    assert "GBP" in view.revenue_chart.title()
    assert view.money_axis.categoriesLabels()[-1] == "£200.00"
    view.set_currency("USD")
    assert values(view.invoiced_set)[11] == 2548.0
    assert sum(values(view.projected_set)) == 0.0
    with qtbot.waitSignal(view.loaded):
        view.refresh()  # the choice survives a refresh
    wait_loaded(qtbot, view)
    assert view.currency == "USD" and view.currency_combo.currentText() == "USD"


# -- the licences chart ----------------------------------------------------------


def test_licence_chart_shows_bought_and_assigned_per_product(view: DashboardView) -> None:
    assert view.licence_chart.series() == [view.licence_series]
    assert [s.label() for s in view.licence_series.barSets()] == ["Bought", "Assigned"]
    # horizontal bars are drawn bottom-up: the catalog's first product is the last category
    assert view.product_axis.categories() == [
        "GoTo Webinar",
        "GoTo Meeting",
        "GoTo Connect",
        "LogMeIn Resolve",
        "GoToAssist Remote<br>Support v5",
        "GoToAssist Remote<br>Support v4",
    ]
    assert values(view.bought_set) == [5.0, 278.0, 25.0, 11.0, 84.0, 24.0]
    assert values(view.assigned_set) == [4.0, 29.0, 4.0, 8.0, 21.0, 16.0]
    assert view.count_axis.max() == 400.0


# -- the lists ---------------------------------------------------------------------


def test_lists_show_cancellations_and_renewals(view: DashboardView) -> None:
    cancellations = view.cancellations_model
    assert cancellations.rowCount() == 1
    assert [cell(cancellations, 0, c) for c in range(4)] == [
        "Lefèvre Conseil SARL", "GoTo Meeting", "5/7/2026", "€48.00 per month",
    ]  # fmt: skip
    assert cancellations.headerData(2, Qt.Orientation.Horizontal) == "Ends on"
    assert view.cancellations.title.text() == "&Pending cancellations (1)"
    assert view.cancellations.stack.currentWidget() is view.cancellations.table

    renewals = view.renewals_model
    assert renewals.rowCount() == 17
    assert view.renewals.title.text() == "&Renewals in the next 30 days (17)"
    assert [cell(renewals, 0, c) for c in range(4)] == [
        "Distribuciones Navarro S.A.", "GoToAssist Remote Support v4", "4/30/2026",
        "€924.00 per month",
    ]  # fmt: skip
    assert cell(renewals, 1, 3) == "£190.00 per month"
    annual = next(r for r in range(17) if cell(renewals, r, 0) == "Puig Arquitectura S.L.P.")
    assert cell(renewals, annual, 3) == "€1,730.00 per year"
    assert renewals.index(0, 0).data(Qt.ItemDataRole.ToolTipRole) == (
        "A-100008 and Distribuciones Navarro S.A."
    )
    assert renewals.headerData(2, Qt.Orientation.Horizontal) == "Renews on"


def test_models_pass_the_qt_model_tester(qtmodeltester, view: DashboardView) -> None:
    qtmodeltester.check(view.cancellations_model)
    qtmodeltester.check(view.renewals_model)
    empty = RenewalsModel()
    qtmodeltester.check(empty)
    assert CancellationsModel().rowCount() == 0


def test_double_click_opens_the_account(qtbot, view: DashboardView, demo_ctx) -> None:
    table = view.renewals.table
    rect = table.visualRect(view.renewals_model.index(1, 0))
    with qtbot.waitSignal(view.account_activated) as blocker:
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == [account_id(demo_ctx, "A-100012")]


def test_enter_on_a_row_opens_the_account(qtbot, view: DashboardView, demo_ctx) -> None:
    table = view.cancellations.table
    table.setFocus()
    table.setCurrentIndex(view.cancellations_model.index(0, 0))
    with qtbot.waitSignal(view.account_activated) as blocker:
        qtbot.keyClick(table, Qt.Key.Key_Return)
    assert blocker.args == [account_id(demo_ctx, "A-100011")]


def test_refresh_reads_the_database_again(qtbot, view: DashboardView, demo_ctx) -> None:
    from sqlalchemy import update

    from billing_desktop.store.models import Subscription

    with demo_ctx.db.transaction() as session:
        session.execute(
            update(Subscription)
            .where(Subscription.status == "active", Subscription.frequency == "annual")
            .values(status="cancellation_pending", auto_renew=False)
        )
    view.refresh()
    assert view.loading
    assert view.as_of_label.text() == "Reading the figures…"
    assert view.cancellations_model.rowCount() == 1  # the old figures until the new come
    wait_loaded(qtbot, view)
    assert view.as_of_label.text() == "Figures as of 4/26/2026"
    assert view.cancellations_model.rowCount() == 1 + 7
    assert view.cancellations.title.text() == "&Pending cancellations (8)"
    assert view.renewals_model.rowCount() == 16  # A-100019's annual plan ends instead
    assert values(view.projected_set)[12] == 4319.0  # nor is it projected in May


def test_an_empty_database_shows_empty_lists(qtbot, ctx) -> None:
    view = DashboardView(ctx)
    qtbot.addWidget(view)
    view.show()
    wait_loaded(qtbot, view)
    assert view.currency is None
    assert not view.currency_combo.isEnabled()
    assert view.cancellations.stack.currentWidget() is view.cancellations.empty
    assert view.renewals.empty.text() == "No subscription renews in the next 30 days."
    assert view.revenue_chart.title() == "Recurring revenue per month"
    assert view.invoiced_set.count() == 0


def test_texts_follow_the_palette(view: DashboardView) -> None:
    dark = QPalette(view.palette())
    dark.setColor(QPalette.ColorRole.WindowText, QColor(230, 230, 230))
    dark.setColor(QPalette.ColorRole.Base, QColor(30, 30, 32))
    view.setPalette(dark)
    assert view.revenue_chart.legend().labelColor() == QColor(230, 230, 230)
    assert view.licence_chart.backgroundBrush().color() == QColor(30, 30, 32)
    assert all(a.labelsBrush().color() == QColor(230, 230, 230) for a in view.revenue_chart.axes())


def test_language_change_retranslates(view: DashboardView) -> None:
    QApplication.sendEvent(view, QEvent(QEvent.Type.LanguageChange))
    assert view.currency_label.text() == "&Currency:"
    assert view.month_axis.categories() == MONTHS
    assert view.renewals_model.rowCount() == 17


def test_a_refresh_asked_while_reading_runs_after_it(qtbot, view: DashboardView) -> None:
    shown = []
    view.loaded.connect(lambda: shown.append(view.data))
    view.refresh()
    view.refresh()  # while the first one runs
    view.refresh()
    qtbot.waitUntil(lambda: len(shown) == 2 and not view.loading, timeout=10_000)
    assert view.renewals_model.rowCount() == 17


def test_first_row_index_is_valid(view: DashboardView) -> None:
    assert not view.renewals_model.index(0, 0).parent().isValid()
    assert view.renewals_model.rowCount(QModelIndex()) == 17
    assert view.data is not None and view.data.today == date(2026, 4, 26)


_STARTUP_SCRIPT = """
import sys
import billing_desktop.app
import billing_desktop.ui.main_window
print(sorted(m for m in sys.modules if "QtCharts" in m or m.endswith("dashboard_view")
             or m == "billing_desktop.services.dashboard"))
"""


def test_charts_are_not_imported_at_start_up() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", _STARTUP_SCRIPT], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"


def test_alt_r_goes_to_the_renewals(qtbot, view: DashboardView) -> None:
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)
    view.currency_combo.setFocus()
    qtbot.keyClick(view.currency_combo, Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(view.renewals.table.hasFocus)
    qtbot.keyClick(view.renewals.table, Qt.Key.Key_P, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(view.cancellations.table.hasFocus)


def test_long_lists_say_how_many_are_not_shown(qtbot, demo_ctx, monkeypatch) -> None:
    from billing_desktop.services import dashboard as service
    from billing_desktop.ui.views import dashboard_view

    monkeypatch.setattr(
        dashboard_view, "dashboard", lambda ctx: service.dashboard(ctx, list_limit=5)
    )
    view = DashboardView(demo_ctx)
    qtbot.addWidget(view)
    wait_loaded(qtbot, view)
    assert view.renewals_model.rowCount() == 5
    assert view.renewals.title.text() == ("&Renewals in the next 30 days (17) — 12 more not shown")
