"""Live refresh (issue 8): what another operator changes shows up in the open views
without losing the user's place — scroll position, selected row, unsaved edits."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime

import pytest
from helpers import as_operator, on_another_instance
from PySide6.QtCore import QLocale
from PySide6.QtWidgets import QAbstractItemView

from billing_desktop.documents.formatting import format_value
from billing_desktop.services.accounts import AccountChanges, account_overview, update_account
from billing_desktop.services.context import AppContext
from billing_desktop.store.database import open_database
from billing_desktop.ui.change_watcher import ChangeWatcher, install_change_watcher
from billing_desktop.ui.main_window import MainWindow

BOB_AT = datetime(2026, 4, 26, 10, 20)


def _add_accounts(ctx: AppContext, names: list[str]) -> None:
    """Accounts in one transaction, numbered after the ones there are."""
    from billing_desktop.store.models import Account
    from billing_desktop.store.search import fold

    first = ctx.db.reader.scalar("SELECT count(*) FROM accounts")
    with ctx.db.transaction() as session:
        for n, name in enumerate(names, start=first + 1):
            session.add(
                Account(
                    account_number=f"A-{800000 + n}",
                    company_name=name,
                    search_name=fold(name),
                    type="standard",
                    status="active",
                    country="IT",
                    language="it",
                    currency="EUR",
                    address_line1="Via Roma 1",
                    postal_code="20100",
                    city="Milano",
                    created_at=datetime(2025, 1, 1, 9, 0),
                )
            )


@pytest.fixture
def bob(ctx: AppContext) -> Iterator[AppContext]:
    """Bob Keller (support) on another instance of the application: his own connection."""
    with on_another_instance(as_operator(ctx, "Bob Keller", BOB_AT)) as other:
        yield other


@pytest.fixture
def window(qtbot, ctx: AppContext, bob: AppContext) -> MainWindow:
    _add_accounts(ctx, [f"Company {n:05d}" for n in range(1, 451)])
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.resize(1100, 700)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: win.views["accounts"].model.total_known)
    watcher = install_change_watcher(win)
    assert watcher is not None and watcher.active
    yield win
    watcher.stop()


def _id(ctx: AppContext, company: str) -> int:
    return ctx.db.reader.scalar("SELECT id FROM accounts WHERE company_name = :c", {"c": company})


def test_the_accounts_list_shows_another_operators_change_in_place(
    qtbot, window: MainWindow, ctx: AppContext, bob: AppContext
) -> None:
    view = window.views["accounts"]
    table, model = view.table, view.model
    # the user scrolled into the second page and selected an account there
    qtbot.waitUntil(lambda: model.loaded_count() >= 200)
    while model.loaded_count() < 300:
        model.fetchMore()
    table.scrollTo(model.index(240, 0), QAbstractItemView.ScrollHint.PositionAtTop)
    table.selectRow(250)
    selected = model.row_object(250)
    assert selected.company_name == "Company 00251"
    scrolled = table.verticalScrollBar().value()
    assert scrolled > 0

    # Bob renames an account shown near the selection and adds one at the top
    renamed = _id(ctx, "Company 00245")
    version = account_overview(bob, renamed).version
    update_account(
        bob, renamed, AccountChanges(company_name="Company 00245 Srl"), expected_version=version
    )
    _add_accounts(bob, ["Company 00000 Nuova"])

    qtbot.waitUntil(lambda: model.row_object(0).company_name == "Company 00000 Nuova")
    assert model.row_object(245).company_name == "Company 00245 Srl"
    assert model.index(245, 1).data() == "Company 00245 Srl"
    # the user's place: the same account selected (one row further down), the same scroll
    rows = table.selectionModel().selectedRows()
    assert [model.row_object(i.row()).id for i in rows] == [selected.id]
    assert table.currentIndex().row() == 251
    assert table.verticalScrollBar().value() == scrolled
    assert model.loaded_count() >= 301
    qtbot.waitUntil(lambda: "451" in view.count_label.text())


def test_a_view_not_shown_refreshes_when_shown(
    qtbot, window: MainWindow, ctx: AppContext, bob: AppContext
) -> None:
    accounts = window.views["accounts"]
    window.show_view("emails")
    signals: list[bool] = []
    window.change_watcher.changed.connect(lambda: signals.append(True))
    before = accounts.model.row_object(0).company_name
    _add_accounts(bob, ["Company 00000 Nuova"])
    qtbot.waitUntil(lambda: bool(signals))
    assert accounts.model.row_object(0).company_name == before  # hidden: left alone
    window.show_view("accounts")
    assert accounts.model.row_object(0).company_name == "Company 00000 Nuova"


def test_the_open_overview_reloads_or_says_who_changed_it(
    qtbot, window: MainWindow, ctx: AppContext, bob: AppContext
) -> None:
    account = _id(ctx, "Company 00007")
    window.open_account(account)
    page = window.account_page
    assert page is not None
    tab = page.overview_tab
    assert tab.edits["city"].text() == "Milano"

    # no unsaved edits: Bob's change simply shows
    seen = account_overview(bob, account)
    update_account(bob, account, AccountChanges(city="Torino"), expected_version=seen.version)
    qtbot.waitUntil(lambda: tab.edits["city"].text() == "Torino")
    assert tab.conflict_label.isHidden()
    assert tab.overview is not None and tab.overview.version == seen.version + 1

    # the user is typing: their text stays, a banner names Bob and the time
    tab.edits["region"].setText("Piemonte")
    seen = account_overview(bob, account)
    update_account(bob, account, AccountChanges(postal_code="10121"), expected_version=seen.version)
    qtbot.waitUntil(lambda: not tab.conflict_label.isHidden())
    when = format_value(BOB_AT, QLocale())
    assert tab.conflict_label.text() == (
        f"This account was changed by Bob Keller at {when}. Your edits are kept; Reload "
        "shows the current data and discards them."
    )
    assert tab.edits["region"].text() == "Piemonte"
    assert tab.edits["postal_code"].text() == "20100"  # not swapped under the user's eyes
    tab.reload_button.click()
    assert tab.edits["postal_code"].text() == "10121"
    assert tab.edits["region"].text() == ""
    assert tab.conflict_label.isHidden()


def test_the_watcher_folds_a_burst_into_one_signal(qtbot, ctx: AppContext, bob: AppContext) -> None:
    watcher = ChangeWatcher(ctx.db, poll_ms=60_000)  # checked by hand below
    try:
        signals: list[bool] = []
        watcher.changed.connect(lambda: signals.append(True))
        assert not watcher.check()
        for n in range(3):
            _add_accounts(bob, [f"Burst {n}"])
        assert watcher.check()
        assert not watcher.check()
        qtbot.waitUntil(lambda: signals == [True])
    finally:
        watcher.stop()
    assert not watcher.active and not watcher.check()


def test_a_refused_save_names_who_changed_the_account_and_keeps_the_input(
    qtbot, monkeypatch, ctx: AppContext, bob: AppContext
) -> None:
    from billing_desktop.ui.account import overview as overview_module
    from billing_desktop.ui.account.page import AccountPage
    from billing_desktop.ui.errors import error_text

    shown: list[object] = []
    monkeypatch.setattr(overview_module, "show_service_error", lambda _p, err: shown.append(err))
    _add_accounts(ctx, ["Acme Software"])
    account = _id(ctx, "Acme Software")
    page = AccountPage(ctx, account)
    qtbot.addWidget(page)
    page.show()
    tab = page.overview_tab
    qtbot.keyClicks(tab.edits["region"], "Lombardia")
    seen = account_overview(bob, account)
    update_account(bob, account, AccountChanges(city="Bergamo"), expected_version=seen.version)

    tab.save_button.click()
    when = format_value(BOB_AT, QLocale())
    assert [error_text(err) for err in shown] == [
        f"{seen.account_number} was changed by Bob Keller at {when} — reload to see the "
        "current data. Your input is kept."
    ]
    assert tab.conflict and tab.conflict_label.text().startswith(
        f"This account was changed by Bob Keller at {when}."
    )
    assert tab.edits["region"].text() == "Lombardia"
    assert account_overview(bob, account).region == ""


@pytest.mark.skipif(not os.environ.get("BILLING_DESKTOP_TEST_PG"), reason="no PostgreSQL server")
@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_the_watcher_wakes_on_a_postgresql_notification(qtbot, db) -> None:
    """On a server the LISTEN socket wakes the watcher (no polling)."""
    from billing_desktop.store.changes import install_change_notify
    from billing_desktop.store.models import AppSetting

    watcher = ChangeWatcher(db, poll_ms=60_000)
    other = open_database(db.target)
    install_change_notify(other.engine)  # as make_engine does for a server database
    try:
        assert watcher._notifier is not None
        signals: list[bool] = []
        watcher.changed.connect(lambda: signals.append(True))
        with other.transaction() as session:
            session.merge(AppSetting(key="test.live", value="1"))
        qtbot.waitUntil(lambda: signals == [True])
    finally:
        watcher.stop()
        other.dispose()
