"""Team mode end to end: opening a shared PostgreSQL database asks who signs in,
and the window works as that operator (issue 8). Skipped without a server
(``make test-pg`` starts one)."""

from __future__ import annotations

import os
from datetime import datetime

import pytest
from helpers import when_modal
from PySide6.QtCore import Qt
from test_sign_in_dialog import hashed, sign_in_with

from billing_desktop.store.models import Operator
from billing_desktop.ui.dialogs.sign_in_dialog import SignInDialog

EMAIL = "sanne.devries@billing-desk.example"
PASSWORD = "harbour lantern quietly 77"


@pytest.fixture
def shared_db(request: pytest.FixtureRequest):
    """The run's PostgreSQL test database, fresh, with one support agent who has a password."""
    if not os.environ.get("BILLING_DESKTOP_TEST_PG"):
        pytest.skip("no PostgreSQL server (make test-pg starts one)")
    request.node.user_properties.append(("engine", "postgresql"))
    url, seeds = request.getfixturevalue("pg_database")
    from billing_desktop.config import target_from
    from billing_desktop.store.database import open_database

    database = open_database(target_from(url))
    seeds.restore(database.engine)
    with database.transaction() as session:
        session.add(
            Operator(
                email=EMAIL, name="Sanne de Vries", role="support", active=True,
                created_at=datetime(2026, 1, 5), password_hash=hashed(PASSWORD),
            )
        )  # fmt: skip
    database.dispose()
    return target_from(url)


def test_a_shared_database_opens_for_the_operator_who_signed_in(qtbot, shared_db) -> None:
    from billing_desktop.app import GuiSession

    session = GuiSession()

    def fill(dialog: SignInDialog) -> None:
        dialog._sleep = lambda _s: None
        sign_in_with(qtbot, dialog, EMAIL, PASSWORD)

    when_modal(SignInDialog, fill)
    try:
        assert session.open(shared_db)
        window = session.window
        qtbot.addWidget(window)
        assert window.ctx.operator.email == EMAIL
        assert window.ctx.operator.role == "support"
        assert "Sanne de Vries" in window.operator_label.text()
        actions = session.db.reader.rows("SELECT action FROM audit_entries ORDER BY id")
        assert actions == [("sign_in",)]
        # no automatic local operator on a shared database
        assert session.db.reader.scalar(
            "SELECT COUNT(*) FROM operators WHERE email LIKE '%@localhost'"
        ) == 0
    finally:
        session.close()


def test_quitting_the_sign_in_opens_nothing(qtbot, shared_db) -> None:
    from billing_desktop.app import GuiSession

    session = GuiSession()
    when_modal(SignInDialog, lambda d: qtbot.mouseClick(d.cancel_button, Qt.MouseButton.LeftButton))
    assert not session.open(shared_db)
    assert session.window is None and session.db is None
