"""The account page's Invoices tab, driven like a user would, checked against the database.

Curated demo data on 2026-04-26:
- A-100009: INV-2026-000036 (186.40, issued 2026-03-09, due 2026-04-08) is overdue;
  seven renewal invoices are paid; Visa •••• 7719 is the default card.
- A-100005: INV-2026-000065 (512.00, issued 2026-04-21: disputable through 2026-05-06)
  is open; fourteen invoices are paid.
"""

from __future__ import annotations

import dataclasses
import threading
from datetime import date
from pathlib import Path

import pytest
from helpers import shown_child
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMessageBox, QPushButton, QWidget

from billing_desktop.domain.errors import PolicyViolation
from billing_desktop.services.clock import FixedClock
from billing_desktop.services.errors import ConflictError
from billing_desktop.services.payments import set_autopay
from billing_desktop.ui.account import invoices as invoices_module
from billing_desktop.ui.account.invoices import (
    DisputeDialog,
    InvoiceLinesModel,
    InvoicesTab,
    InvoicesTableModel,
)
from billing_desktop.ui.workers import TaskProgress, run_in_background

OVERDUE = "INV-2026-000036"
OPEN_05 = "INV-2026-000065"


def _account_id(db, number: str) -> int:
    return db.reader.scalar("SELECT id FROM accounts WHERE account_number = :n", {"n": number})


def _invoices(db, number: str, where: str) -> list[tuple]:
    return db.reader.rows(
        "SELECT i.number, i.issue_date, i.total_minor, i.paid_minor, i.status FROM invoices i "
        "JOIN accounts a ON a.id = i.account_id "
        f"WHERE a.account_number = :n AND {where} ORDER BY i.issue_date DESC, i.id DESC",
        {"n": number},
    )


def _cells(table, column: int) -> list[str]:
    model = table.model()
    return [model.index(row, column).data() for row in range(model.rowCount())]


def _tab_title(tab: InvoicesTab, index: int) -> str:
    return tab.inner_tabs.tabText(index).replace("&", "")


def _select(qtbot, tab: InvoicesTab, number: str) -> None:
    """Click the invoice's row in whichever inner tab lists it."""
    for index, table in enumerate((tab.open_table, tab.paid_table)):
        numbers = _cells(table, InvoicesTableModel.NUMBER)
        if number in numbers:
            tab.inner_tabs.setCurrentIndex(index)
            rect = table.visualRect(table.model().index(numbers.index(number), 0))
            qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
            assert tab.current_invoice().number == number
            return
    raise AssertionError(f"{number} is not listed")


@pytest.fixture
def make_tab(qtbot):
    def make(ctx, number: str) -> InvoicesTab:
        tab = InvoicesTab(ctx, _account_id(ctx.db, number))
        qtbot.addWidget(tab)
        tab.resize(1200, 800)
        tab.show()
        qtbot.waitExposed(tab)
        return tab

    return make


@pytest.fixture
def errors(monkeypatch) -> list:
    """Service errors the tab showed (the real message box would block the test)."""
    shown: list = []
    monkeypatch.setattr(invoices_module, "show_service_error", lambda _p, err: shown.append(err))
    return shown


# --------------------------------------------------------------------------- tables


def test_overdue_account_tables_match_the_database(make_tab, demo_ctx) -> None:
    db = demo_ctx.db
    tab = make_tab(demo_ctx, "A-100009")
    assert tab.balance_label.text() == "Balance due: €186.40"
    assert _tab_title(tab, tab.OPEN_TAB) == "Open invoices (1)"
    assert _tab_title(tab, tab.PAID_TAB) == "Paid invoices (7)"
    m = InvoicesTableModel
    assert [r[0] for r in _invoices(db, "A-100009", "i.status = 'open'")] == [OVERDUE]
    row = [tab.open_table.model().index(0, c).data() for c in range(m.COLUMN_COUNT)]
    assert row == [
        OVERDUE, "3/9/2026", "—", "Audio conferencing: toll-free minutes",
        "€186.40", "€186.40", "Overdue",
    ]  # fmt: skip
    paid = _invoices(db, "A-100009", "i.status = 'paid'")
    assert _cells(tab.paid_table, m.NUMBER) == [r[0] for r in paid]
    assert _cells(tab.paid_table, m.TOTAL) == ["€96.00"] * 7
    assert set(_cells(tab.paid_table, m.STATUS)) == {"Paid"}
    # newest first: the renewal of 2026-04-08 for 4/8/2026 – 5/7/2026 (last day of service)
    assert _cells(tab.paid_table, m.PERIOD)[0] == "4/8/2026 – 5/7/2026"
    assert tab.paid_table.isColumnHidden(m.DUE)
    # the overdue invoice is selected and its detail shown
    assert tab.detail_box.title() == f"Invoice {OVERDUE} of 3/9/2026"
    assert tab._figure_values["due"].text() == "€186.40"
    assert "Overdue: was due on 4/8/2026." in tab.detail_info.text()


def test_open_invoice_and_its_lines_match_the_database(make_tab, demo_ctx) -> None:
    db = demo_ctx.db
    tab = make_tab(demo_ctx, "A-100005")
    m = InvoicesTableModel
    assert [r[0] for r in _invoices(db, "A-100005", "i.status = 'open'")] == [OPEN_05]
    row = [tab.open_table.model().index(0, c).data() for c in range(m.COLUMN_COUNT)]
    assert row == [
        OPEN_05, "4/21/2026", "4/21/2026 – 5/20/2026", "LogMeIn Resolve Premium (+1 more)",
        "€512.00", "€512.00", "Open",
    ]  # fmt: skip
    assert _tab_title(tab, tab.PAID_TAB) == "Paid invoices (14)"
    lines = db.reader.rows(
        "SELECT l.description, l.quantity, l.unit_price_minor, l.amount_minor "
        "FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id "
        "WHERE i.number = :n ORDER BY l.position",
        {"n": OPEN_05},
    )
    # 8 × 58.00 = 464.00 and 8 × 6.00 = 48.00
    assert lines == [
        ("LogMeIn Resolve Premium", 8, 5800, 46400),
        ("Third-party patch management", 8, 600, 4800),
    ]
    lm = tab.lines_model
    shown = [
        tuple(lm.index(r, c).data() for c in range(lm.COLUMN_COUNT)) for r in range(lm.rowCount())
    ]
    assert shown == [
        ("LogMeIn Resolve Premium", "4/21/2026 – 5/20/2026", "8", "€58.00", "€464.00"),
        ("Third-party patch management", "4/21/2026 – 5/20/2026", "8", "€6.00", "€48.00"),
    ]
    figures = {key: label.text() for key, label in tab._figure_values.items()}
    assert figures["subtotal"] == "€512.00"
    assert figures["total"] == "€512.00"
    assert (figures["paid"], figures["due"]) == ("€0.00", "€512.00")
    # Dutch VAT number, seller in Ireland: reverse charge
    assert tab._figure_labels["vat"].text() == "VAT (reverse charge)"
    assert figures["vat"] == "€0.00"
    assert "Can be disputed until 5/6/2026." in tab.detail_info.text()


def test_models_pass_the_model_tester(qtmodeltester, demo_ctx) -> None:
    from billing_desktop.services.invoices import invoice_detail, list_invoices

    model = InvoicesTableModel()
    model.set_rows(list_invoices(demo_ctx, "A-100005", "all"))
    qtmodeltester.check(model)
    lines = InvoiceLinesModel()
    lines.set_lines(invoice_detail(demo_ctx, OPEN_05).lines)
    qtmodeltester.check(lines)
    assert isinstance(model.index(0, 0).data(InvoicesTableModel.ObjectRole).number, str)


def test_sorting_uses_the_sort_role(qtbot, make_tab, demo_ctx) -> None:
    tab = make_tab(demo_ctx, "A-100005")
    tab.inner_tabs.setCurrentIndex(tab.PAID_TAB)
    table = tab.paid_table
    header = table.horizontalHeader()
    # by date, oldest first after a click on the (descending) Date header
    qtbot.mouseClick(
        header.viewport(),
        Qt.MouseButton.LeftButton,
        pos=_section_center(header, InvoicesTableModel.ISSUE_DATE),
    )
    numbers = _cells(table, InvoicesTableModel.NUMBER)
    assert numbers[0] == "INV-2025-000003"  # 2025-02-21
    assert numbers[-1] == "INV-2026-000047"  # 2026-03-21


def _section_center(header, section: int):
    from PySide6.QtCore import QPoint

    x = header.sectionViewportPosition(section) + header.sectionSize(section) // 2
    return QPoint(x, header.height() // 2)


# --------------------------------------------------------------------------- Pay balance


def test_pay_balance_moves_the_invoice_to_paid(qtbot, make_tab, demo_ctx) -> None:
    db = demo_ctx.db
    tab = make_tab(demo_ctx, "A-100009")
    assert tab.pay_button.isEnabled()
    qtbot.mouseClick(tab.pay_button, Qt.MouseButton.LeftButton)
    box = shown_child(qtbot, tab, QMessageBox, "payBalanceConfirmation")
    assert box.text() == "Charge €186.40 to Visa •••• 7719 for account A-100009?"
    pay = box.findChild(QPushButton, "confirmPay")
    assert pay.text().replace("&", "") == "Pay €186.40"
    with qtbot.waitSignal(tab.account_changed):
        qtbot.mouseClick(pay, Qt.MouseButton.LeftButton)
    assert _invoices(db, "A-100009", f"i.number = '{OVERDUE}'") == [
        (OVERDUE, "2026-03-09", 18640, 18640, "paid")
    ]
    assert (
        db.reader.scalar("SELECT outstanding_minor FROM accounts WHERE account_number = 'A-100009'")
        == 0
    )
    # what the user sees: the invoice moved to the Paid tab, nothing is due
    assert tab.open_model.rowCount() == 0
    assert not tab.empty_open.isHidden()  # "No open invoices" on the Open tab
    assert OVERDUE in _cells(tab.paid_table, InvoicesTableModel.NUMBER)
    assert _tab_title(tab, tab.OPEN_TAB) == "Open invoices (0)"
    assert _tab_title(tab, tab.PAID_TAB) == "Paid invoices (8)"
    assert tab.balance_label.text() == "Nothing is due."
    assert not tab.pay_button.isEnabled()
    # the paid invoice stays selected, now on the Paid tab, with its payment
    assert tab.inner_tabs.currentIndex() == tab.PAID_TAB
    assert tab.current_invoice().number == OVERDUE
    assert "Paid €186.40 on 4/26/2026 with Visa •••• 7719." in tab.detail_info.text()
    result = shown_child(qtbot, tab, QMessageBox, "paymentResult")
    assert result.text() == (
        "€186.40 was received with Visa •••• 7719. 1 invoice(s) paid: INV-2026-000036. "
        "Balance due now: €0.00."
    )
    qtbot.mouseClick(result.button(QMessageBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not result.isVisible())


def test_pay_balance_cancelled_changes_nothing(qtbot, make_tab, demo_ctx) -> None:
    tab = make_tab(demo_ctx, "A-100009")
    qtbot.mouseClick(tab.pay_button, Qt.MouseButton.LeftButton)
    box = shown_child(qtbot, tab, QMessageBox, "payBalanceConfirmation")
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not box.isVisible())
    assert _invoices(demo_ctx.db, "A-100009", "i.status = 'open'")[0][0] == OVERDUE
    assert tab.open_model.rowCount() == 1


def test_pay_balance_after_a_change_elsewhere_shows_the_conflict(
    qtbot, make_tab, demo_ctx, errors
) -> None:
    tab = make_tab(demo_ctx, "A-100009")
    qtbot.mouseClick(tab.pay_button, Qt.MouseButton.LeftButton)
    box = shown_child(qtbot, tab, QMessageBox, "payBalanceConfirmation")
    set_autopay(demo_ctx, "A-100009", True)  # another operator changes the account
    qtbot.mouseClick(box.findChild(QPushButton, "confirmPay"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(errors))
    assert isinstance(errors[0], ConflictError)
    assert _invoices(demo_ctx.db, "A-100009", "i.status = 'open'")[0][0] == OVERDUE
    assert tab.open_model.rowCount() == 1


def test_pay_balance_needs_a_valid_default_card(make_tab, demo_ctx) -> None:
    later = dataclasses.replace(demo_ctx, clock=FixedClock(date(2028, 1, 3)))  # Visa 12/2027
    tab = make_tab(later, "A-100009")
    assert not tab.pay_button.isEnabled()
    assert tab.pay_button.toolTip().startswith("The default card Visa •••• 7719 has expired")


def test_viewer_cannot_pay_or_dispute(make_tab, as_role) -> None:
    tab = make_tab(as_role("viewer"), "A-100005")
    assert tab.current_detail().may_dispute  # the window is open…
    assert not tab.dispute_button.isEnabled()  # …but not for this role
    assert not tab.pay_button.isEnabled()
    assert tab.pay_button.toolTip() == "Your role can view this account but not change it."
    assert tab.open_pdf_button.isEnabled()


# --------------------------------------------------------------------------- Dispute


@pytest.mark.parametrize(
    ("today", "enabled"),
    [
        (date(2026, 4, 26), True),
        (date(2026, 5, 6), True),  # issue date + 15 days: the last day
        (date(2026, 5, 7), False),
    ],
)
def test_dispute_is_enabled_within_15_days_only(make_tab, demo_ctx, today, enabled) -> None:
    ctx = dataclasses.replace(demo_ctx, clock=FixedClock(today))
    tab = make_tab(ctx, "A-100005")
    assert tab.current_invoice().number == OPEN_05
    assert tab.dispute_button.isEnabled() is enabled
    if not enabled:
        assert tab.dispute_button.toolTip() == (
            "Invoices can be disputed within 15 days of issue; the last day for "
            "INV-2026-000065 was 5/6/2026."
        )


def test_an_old_invoice_cannot_be_disputed(qtbot, make_tab, demo_ctx) -> None:
    tab = make_tab(demo_ctx, "A-100009")
    assert tab.current_invoice().number == OVERDUE  # issued 2026-03-09
    assert not tab.dispute_button.isEnabled()
    assert "The dispute window closed on 3/24/2026." in tab.detail_info.text()
    _select(qtbot, tab, "INV-2026-000054")  # paid, issued 2026-04-08: closed on 4/23
    assert not tab.dispute_button.isEnabled()
    assert "Paid €96.00 on 4/8/2026 with Visa •••• 7719." in tab.detail_info.text()
    assert "The dispute window closed on 4/23/2026." in tab.detail_info.text()


def test_dispute_is_noted_on_the_invoice(qtbot, make_tab, demo_ctx) -> None:
    db = demo_ctx.db
    tab = make_tab(demo_ctx, "A-100005")
    qtbot.mouseClick(tab.dispute_button, Qt.MouseButton.LeftButton)
    dialog = shown_child(qtbot, tab, DisputeDialog)
    assert not dialog.ok_button.isEnabled()  # no note yet
    qtbot.keyClicks(dialog.note_edit, "Two licences were never used.")
    assert dialog.ok_button.isEnabled()
    with qtbot.waitSignal(tab.account_changed):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert db.reader.rows(
        "SELECT disputed_at, dispute_note, status FROM invoices WHERE number = :n",
        {"n": OPEN_05},
    ) == [("2026-04-26 09:00:00.000000", "Two licences were never used.", "open")]
    assert _cells(tab.open_table, InvoicesTableModel.STATUS) == ["Open, disputed"]
    assert "Disputed on 4/26/2026: Two licences were never used." in tab.detail_info.text()
    assert tab.status_label.text() == "The dispute was noted on invoice INV-2026-000065."


def test_a_refused_dispute_keeps_the_note(qtbot, make_tab, demo_ctx, errors, monkeypatch) -> None:
    tab = make_tab(demo_ctx, "A-100005")

    def refuse(*_args, **_kwargs):
        raise PolicyViolation("dispute_window_closed", "Too late.")

    monkeypatch.setattr(invoices_module, "dispute_invoice", refuse)
    qtbot.mouseClick(tab.dispute_button, Qt.MouseButton.LeftButton)
    dialog = shown_child(qtbot, tab, DisputeDialog)
    qtbot.keyClicks(dialog.note_edit, "Wrong minutes")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(errors))
    qtbot.waitUntil(lambda: not dialog.isVisible())
    qtbot.mouseClick(tab.dispute_button, Qt.MouseButton.LeftButton)
    again = shown_child(qtbot, tab, DisputeDialog)
    assert again.note() == "Wrong minutes"
    again.reject()


# --------------------------------------------------------------------------- PDFs


def test_save_pdf_writes_a_pdf(qtbot, make_tab, demo_ctx, monkeypatch, tmp_path: Path) -> None:
    target = tmp_path / "out" / "invoice"  # no suffix: ".pdf" is added
    target.parent.mkdir()
    asked: list = []

    def ask(_parent, title, suggested, filters):
        asked.append((title, Path(suggested).name, filters))
        return str(target), filters

    monkeypatch.setattr(QFileDialog, "getSaveFileName", ask)
    tab = make_tab(demo_ctx, "A-100009")
    qtbot.mouseClick(tab.save_pdf_button, Qt.MouseButton.LeftButton)
    assert asked == [("Save invoice as PDF", f"{OVERDUE}.pdf", "PDF files (*.pdf)")]
    qtbot.waitUntil(lambda: not tab.busy, timeout=20_000)
    saved = target.with_name("invoice.pdf")
    data = saved.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 1024
    assert not saved.with_name("invoice.pdf.part").exists()
    assert tab.status_label.text() == f"Invoice {OVERDUE} was saved to {saved}."
    assert tab.save_pdf_button.isEnabled()


def test_save_pdf_cancelled_in_the_file_dialog_does_nothing(
    qtbot, make_tab, demo_ctx, monkeypatch
) -> None:
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a: ("", ""))
    tab = make_tab(demo_ctx, "A-100009")
    qtbot.mouseClick(tab.save_pdf_button, Qt.MouseButton.LeftButton)
    assert not tab.busy
    assert tab.status_label.text() == ""


def test_open_pdf_renders_into_a_temporary_file(qtbot, make_tab, demo_ctx, monkeypatch) -> None:
    opened: list = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    tab = make_tab(demo_ctx, "A-100005")
    qtbot.mouseClick(tab.open_pdf_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(opened), timeout=20_000)
    path = Path(opened[0].toLocalFile())
    assert path.name == f"{OPEN_05}.pdf"
    assert path.read_bytes().startswith(b"%PDF")
    qtbot.waitUntil(lambda: not tab.busy)


# --------------------------------------------------------------------------- language


def test_language_change_retranslates(qtbot, make_tab, demo_ctx) -> None:
    tab = make_tab(demo_ctx, "A-100009")
    tab.pay_button.setText("stale")
    QCoreApplication.sendEvent(tab, QEvent(QEvent.Type.LanguageChange))
    assert tab.pay_button.text() == "Pay &balance…"
    assert _tab_title(tab, tab.OPEN_TAB) == "Open invoices (1)"


# --------------------------------------------------------------------------- workers


def test_worker_delivers_progress_and_result_on_the_gui_thread(qtbot) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    gui = threading.get_ident()
    seen: list = []

    def work(progress: TaskProgress) -> int:
        seen.append(threading.get_ident() != gui)
        for done in range(1, 4):
            progress(done, 3)
        return 42

    results: list = []
    task = run_in_background(parent, work, title="T", label="L", on_result=results.append)
    reports: list = []
    task.progressed.connect(lambda stage, done, total: reports.append((done, total)))
    with qtbot.waitSignal(task.done, timeout=5000):
        pass
    assert results == [42]
    assert reports == [(1, 3), (2, 3), (3, 3)]
    assert seen == [True]  # the work ran off the GUI thread


def test_worker_cancel_discards_the_result(qtbot) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    started = threading.Event()
    results: list = []
    cancelled: list = []

    def work(progress: TaskProgress) -> str:
        started.set()
        while not progress.cancelled:
            threading.Event().wait(0.01)  # the worker polls; the test never sleeps
        progress.check()
        return "never delivered"

    task = run_in_background(
        parent, work, title="T", label="L", on_result=results.append,
        on_cancel=lambda: cancelled.append(True), minimum_duration_ms=0,
    )  # fmt: skip
    assert started.wait(5)
    with qtbot.waitSignal(task.done, timeout=5000):
        task.cancel()
    assert (results, cancelled) == ([], [True])


def test_worker_reports_a_service_error(qtbot, monkeypatch) -> None:
    from billing_desktop.ui import errors as errors_module

    shown: list = []
    monkeypatch.setattr(errors_module, "show_service_error", lambda _p, err: shown.append(err))
    parent = QWidget()
    qtbot.addWidget(parent)

    def work(_progress: TaskProgress) -> None:
        raise PolicyViolation("refused", "Refused.")

    task = run_in_background(parent, work, title="T", label="L")
    with qtbot.waitSignal(task.done, timeout=5000):
        pass
    assert [e.code for e in shown] == ["refused"]
