"""The Emails view: the outbox of every account, its filter, preview, retry and delivery.

Delivery is tested against a real aiosmtpd server on 127.0.0.1 (and against a
port where nothing listens, for "the server is down").
"""

from __future__ import annotations

from datetime import date

import pytest
from helpers import SENDER, free_port, smtp_settings
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtTest import QTest

from billing_desktop.services.mail import EmailKind, queue_email
from billing_desktop.services.smtp import (
    SmtpSettings,
    deliver_outbox,
    save_smtp_settings,
)
from billing_desktop.services.smtp_errors import last_error_text
from billing_desktop.ui.views.emails_view import EmailsView, OutboxModel

M = OutboxModel


# --------------------------------------------------------------------------- a real SMTP server


def configure(ctx, port: int) -> None:
    save_smtp_settings(ctx, smtp_settings(port))


# --------------------------------------------------------------------------- data


def account_id(db, number: str) -> int:
    return db.reader.scalar("SELECT id FROM accounts WHERE account_number = :n", {"n": number})


def queue(ctx, number: str, product: str = "GoTo Meeting") -> int:
    from billing_desktop.store.models import Account

    with ctx.db.transaction() as session:
        email = queue_email(
            session,
            ctx,
            session.get(Account, account_id(ctx.db, number)),
            EmailKind.CANCELLATION_CONFIRMED,
            {"product": product, "expiry_date": date(2026, 5, 31)},
        )
        session.flush()
        return email.id


def stored(db) -> dict[int, tuple]:
    rows = db.reader.rows(
        "SELECT id, status, attempts, last_error, next_attempt_at FROM emails ORDER BY id"
    )
    return {r[0]: tuple(r[1:]) for r in rows}


@pytest.fixture
def three(demo_ctx) -> list[int]:
    """Three queued emails of three accounts, oldest first."""
    return [
        queue(demo_ctx, "A-100001", "GoTo Meeting"),
        queue(demo_ctx, "A-100002", "GoTo Webinar"),
        queue(demo_ctx, "A-100003", "GoTo Connect"),
    ]


@pytest.fixture
def one_failed(demo_ctx, three) -> int:
    """The newest of ``three`` refused by a server that is down; no server set up after."""
    save_smtp_settings(demo_ctx, SmtpSettings(host="smtp.example.test", from_address=SENDER))

    def refuse(host, port, timeout=None):
        raise ConnectionRefusedError(111, "Connection refused")

    # only the oldest two go out... to a refusing server: then make them pending again
    summary = deliver_outbox(demo_ctx, smtp_factory=refuse)
    assert summary.failed == 3
    with demo_ctx.db.transaction() as session:
        from billing_desktop.store.models import Email

        for email_id in three[:2]:
            email = session.get(Email, email_id)
            email.status, email.attempts = "queued", 0
            email.last_error = email.next_attempt_at = None
    save_smtp_settings(demo_ctx, SmtpSettings())  # no server: nothing is sent by itself
    return three[2]


def show(qtbot, ctx) -> EmailsView:
    view = EmailsView(ctx)
    qtbot.addWidget(view)
    view.resize(1200, 760)
    view.show()
    qtbot.waitExposed(view)
    return view


def texts(model, row: int) -> list[str]:
    return [model.data(model.index(row, c)) for c in range(model.columnCount())]


def click_row(qtbot, view: EmailsView, row: int, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    rect = view.table.visualRect(view.model.index(row, M.SUBJECT))
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def wait_delivery(qtbot, view: EmailsView) -> None:
    task = view.delivery_task
    assert task is not None
    qtbot.waitUntil(lambda: view.delivery_task is None, timeout=20_000)


# --------------------------------------------------------------------------- tests


def test_rows_match_the_outbox_newest_first(demo_ctx, one_failed, three, qtbot, qtmodeltester):
    view = show(qtbot, demo_ctx)
    model = view.model
    qtmodeltester.check(model)
    assert model.rowCount() == 3
    assert [model.row_object(r).id for r in range(3)] == sorted(three, reverse=True)

    failed = texts(model, 0)
    email = demo_ctx.db.reader.rows(
        "SELECT to_address, subject, last_error FROM emails WHERE id = :i", {"i": one_failed}
    )[0]
    assert failed[M.CREATED] == "4/26/2026 9:00\u202fAM"  # the fixed clock of the tests
    assert failed[M.ACCOUNT].startswith("A-100003 · ")
    assert failed[M.RECIPIENT] == email[0]
    assert failed[M.SUBJECT] == email[1] == "Your GoTo Connect subscription has been cancelled"
    assert failed[M.KIND] == "Cancellation confirmation"
    refused = (
        "Nothing answers at smtp.example.test:587. Check that the mail server is running and "
        "that the server name and port are right."
    )
    assert last_error_text(email[2]) == refused
    assert failed[M.STATUS] == f"Failed: {refused}"
    assert failed[M.ATTEMPTS] == "1"
    assert failed[M.NEXT_ATTEMPT] == "4/26/2026 9:01\u202fAM"  # one minute after the first failure
    tip = model.data(model.index(0, M.STATUS), Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith(f"Failed after 1 attempt(s): {refused}")
    assert "Next attempt: 4/26/2026 9:01\u202fAM" in tip

    pending = texts(model, 2)
    assert pending[M.STATUS] == "Pending"
    assert pending[M.ATTEMPTS] == pending[M.NEXT_ATTEMPT] == ""
    assert view.count_label.text() == "3 email(s)"
    assert [view.status_combo.itemText(i) for i in range(view.status_combo.count())] == [
        "All emails (3)",
        "Pending (2)",
        "Failed (1)",
        "Not sent yet (3)",
        "Sent (0)",
    ]


def test_the_table_loads_page_by_page(demo_ctx, qtbot, qtmodeltester):
    from billing_desktop.store.models import Account

    with demo_ctx.db.transaction() as session:
        account = session.get(Account, account_id(demo_ctx.db, "A-100001"))
        for n in range(450):
            queue_email(
                session, demo_ctx, account, EmailKind.TRIAL_ENDED,
                {"product": f"Product {n}", "trial_end": date(2026, 4, 1)},
            )
    view = show(qtbot, demo_ctx)
    model = view.model
    assert model.rowCount() == M.PAGE_SIZE
    assert model.canFetchMore(QModelIndex())
    assert view.count_label.text() == "450 email(s)"
    view.table.scrollToBottom()
    qtbot.waitUntil(lambda: model.rowCount() > M.PAGE_SIZE)
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
    assert model.rowCount() == 450
    expected = [r[0] for r in demo_ctx.db.reader.rows("SELECT id FROM emails ORDER BY id DESC")]
    assert [model.row_object(r).id for r in range(450)] == expected
    qtmodeltester.check(model)


def test_the_status_filter_shows_only_that_status(demo_ctx, one_failed, qtbot, qtmodeltester):
    view = show(qtbot, demo_ctx)
    combo = view.status_combo
    combo.setFocus()
    QTest.keyClick(combo, Qt.Key.Key_Down)  # Pending
    assert combo.currentText() == "Pending (2)"
    assert {view.model.row_object(r).status for r in range(view.model.rowCount())} == {"queued"}
    assert view.model.rowCount() == 2
    QTest.keyClick(combo, Qt.Key.Key_Down)  # Failed
    assert combo.currentText() == "Failed (1)"
    assert view.model.rowCount() == 1
    assert view.model.row_object(0).id == one_failed
    assert view.count_label.text() == "1 email(s)"
    assert view.subject_label.text() == "Your GoTo Connect subscription has been cancelled"
    qtmodeltester.check(view.model)
    QTest.keyClick(combo, Qt.Key.Key_End)  # Sent
    assert combo.currentText() == "Sent (0)"
    assert view.model.rowCount() == 0
    assert view.body.toPlainText() == ""
    assert view.body.placeholderText() == "No email here yet."


def test_the_preview_shows_the_rendered_email(demo_ctx, three, qtbot):
    view = show(qtbot, demo_ctx)
    # the newest is selected at once
    assert view.subject_label.text() == "Your GoTo Connect subscription has been cancelled"
    click_row(qtbot, view, 2)
    subject, body, to = demo_ctx.db.reader.rows(
        "SELECT subject, body_text, to_address FROM emails WHERE id = :i", {"i": three[0]}
    )[0]
    assert view.subject_label.text() == subject
    assert view.body.toPlainText() == body
    assert body.startswith("Hello Marco Rossi,")
    assert view.to_label.text() == to
    assert view.account_label.text().startswith("A-100001 · ")
    assert view.status_label.text() == "Pending since 4/26/2026 9:00\u202fAM"
    assert view.preview_text() == f"{subject}\n\n{body}"


def test_retry_now_makes_a_failed_email_pending_in_the_database(demo_ctx, one_failed, qtbot):
    view = show(qtbot, demo_ctx)
    click_row(qtbot, view, 0)
    assert view.model.row_object(0).id == one_failed
    assert view.retry_button.isEnabled()
    qtbot.mouseClick(view.retry_button, Qt.MouseButton.LeftButton)

    status, attempts, error, next_at = stored(demo_ctx.db)[one_failed]
    assert (status, attempts, next_at) == ("queued", 1, None)
    assert last_error_text(error).startswith("Nothing answers at")  # kept, for the record
    assert texts(view.model, 0)[M.STATUS] == "Pending"
    assert view.banner_text() == (
        "1 email(s) will be sent as soon as a mail server is set up (Settings, SMTP server). "
        "Nothing was lost."
    )
    assert view.delivery_task is None  # no server: nothing to send to


def test_retry_now_with_a_server_sends_the_email(demo_ctx, one_failed, smtp_server, qtbot):
    port, handler = smtp_server.port, smtp_server.handler
    configure(demo_ctx, port)
    view = show(qtbot, demo_ctx)
    click_row(qtbot, view, 0)
    qtbot.mouseClick(view.retry_button, Qt.MouseButton.LeftButton)
    wait_delivery(qtbot, view)
    # every due email goes out with it: the retried one and the two pending ones
    assert {v[0] for v in stored(demo_ctx.db).values()} == {"sent"}
    assert "Your GoTo Connect subscription has been cancelled" in handler.subjects
    assert view.banner_text() == "3 email(s) sent."
    assert texts(view.model, 0)[M.STATUS] == "Sent"


def test_send_pending_now_delivers_to_the_server(demo_ctx, three, smtp_server, qtbot):
    port, handler = smtp_server.port, smtp_server.handler
    configure(demo_ctx, port)
    view = show(qtbot, demo_ctx)
    assert view.server_label.text() == "A mail server is set up."
    assert view.send_button.isEnabled()
    qtbot.mouseClick(view.send_button, Qt.MouseButton.LeftButton)
    assert not view.send_button.isEnabled()  # one run at a time
    wait_delivery(qtbot, view)

    assert sorted(handler.subjects) == sorted(
        f"Your {p} subscription has been cancelled"
        for p in ("GoTo Meeting", "GoTo Webinar", "GoTo Connect")
    )
    assert [v[:2] for v in stored(demo_ctx.db).values()] == [("sent", 1)] * 3
    assert view.banner_text() == "3 email(s) sent."
    assert [texts(view.model, r)[M.STATUS] for r in range(3)] == ["Sent"] * 3
    assert view.status_combo.itemText(4) == "Sent (3)"
    assert not view.send_button.isEnabled()  # nothing waits any more


def test_a_server_that_is_down_gives_a_message_and_loses_nothing(demo_ctx, three, qtbot):
    port = free_port()  # nothing listens there
    configure(demo_ctx, port)
    view = show(qtbot, demo_ctx)
    qtbot.mouseClick(view.send_button, Qt.MouseButton.LeftButton)
    wait_delivery(qtbot, view)

    banner = view.banner_text()
    assert banner.startswith(
        "The mail server could not be used, so 3 email(s) stay in the outbox and will be "
        f"tried again later. The server said: Nothing answers at 127.0.0.1:{port}. "
    )
    rows = stored(demo_ctx.db)
    assert sorted(rows) == sorted(three)  # every email is still there
    assert {r[0] for r in rows.values()} == {"failed"}
    assert {r[1] for r in rows.values()} == {1}
    assert all(
        last_error_text(r[2]).startswith(f"Nothing answers at 127.0.0.1:{port}.")
        for r in rows.values()
    )
    assert view.model.rowCount() == 3
    assert texts(view.model, 0)[M.STATUS].startswith("Failed: Nothing answers at")


def test_without_a_server_nothing_is_sent_and_the_view_says_why(demo_ctx, three, qtbot):
    view = show(qtbot, demo_ctx)
    assert view.server_label.text() == "No mail server is set up: emails wait in the outbox."
    qtbot.mouseClick(view.send_button, Qt.MouseButton.LeftButton)
    assert view.delivery_task is None
    assert view.banner_text().startswith("No mail server is set up, so nothing was sent.")
    assert {v[0] for v in stored(demo_ctx.db).values()} == {"queued"}


def test_open_account_by_button_and_by_enter(demo_ctx, three, qtbot):
    view = show(qtbot, demo_ctx)
    click_row(qtbot, view, 2)
    with qtbot.waitSignal(view.account_activated) as blocker:
        qtbot.mouseClick(view.open_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [account_id(demo_ctx.db, "A-100001")]
    view.table.setFocus()
    QTest.keyClick(view.table, Qt.Key.Key_Up)
    with qtbot.waitSignal(view.account_activated) as blocker:
        QTest.keyClick(view.table, Qt.Key.Key_Return)
    assert blocker.args == [account_id(demo_ctx.db, "A-100002")]


def test_a_viewer_sees_the_outbox_but_cannot_send(as_role, one_failed, qtbot):
    viewer = as_role("viewer")
    view = show(qtbot, viewer)
    assert view.model.rowCount() == 3
    assert view.retry_button.isHidden()
    assert view.send_button.isHidden()
    assert view.open_button.isVisible()


def test_new_emails_appear_on_refresh_and_the_selection_stays(demo_ctx, three, qtbot):
    view = show(qtbot, demo_ctx)
    click_row(qtbot, view, 1)
    selected = view.current_email().id
    newest = queue(demo_ctx, "A-100004", "GoTo Resolve")
    view.refresh()
    assert view.model.row_object(0).id == newest
    assert view.current_email().id == selected
    assert view.count_label.text() == "4 email(s)"


# --------------------------------------------------------------------------- the reason, translated

REFUSED_EN = (
    "Nothing answers at smtp.example.test:587. Check that the mail server is running and that "
    "the server name and port are right."
)
REFUSED_IT = (
    "Nessuna risposta da smtp.example.test:587. Verifichi che il server di posta sia in "
    "esecuzione e che il nome del server e la porta siano corretti."
)


def test_a_failed_email_says_why_in_the_language_of_the_moment(
    demo_ctx, one_failed, qtbot, qapp, shipped_qm
):
    """The reason is stored as a key and values: switching to Italian shows it in Italian
    (the list, its tooltip and the preview), switching back shows it in English."""
    from faults.support import ui_language

    view = show(qtbot, demo_ctx)
    click_row(qtbot, view, 0)
    assert texts(view.model, 0)[M.STATUS] == f"Failed: {REFUSED_EN}"
    assert view.status_label.text().startswith(f"Failed after 1 attempt(s): {REFUSED_EN}")

    with ui_language(qapp, shipped_qm, "it"):
        qtbot.waitUntil(lambda: texts(view.model, 0)[M.STATUS] == f"Non riuscita: {REFUSED_IT}")
        tip = view.model.data(view.model.index(0, M.STATUS), Qt.ItemDataRole.ToolTipRole)
        assert tip.startswith(f"Non riuscita dopo 1 tentativo: {REFUSED_IT}")
        assert view.status_label.text().startswith(f"Non riuscita dopo 1 tentativo: {REFUSED_IT}")
    qtbot.waitUntil(lambda: texts(view.model, 0)[M.STATUS] == f"Failed: {REFUSED_EN}")
    assert view.status_label.text().startswith(f"Failed after 1 attempt(s): {REFUSED_EN}")


def test_an_older_versions_reason_shows_as_it_was_written(
    demo_ctx, one_failed, qtbot, qapp, shipped_qm
):
    """A row failed under an older version holds an English sentence: shown as it is."""
    from faults.support import ui_language

    from billing_desktop.store.models import Email

    old = "Cannot connect to smtp.example.test:587: Connection refused."
    with demo_ctx.db.transaction() as session:
        session.get(Email, one_failed).last_error = old
    with ui_language(qapp, shipped_qm, "it"):
        view = show(qtbot, demo_ctx)
        click_row(qtbot, view, 0)
        assert texts(view.model, 0)[M.STATUS] == f"Non riuscita: {old}"
        assert view.status_label.text().startswith(f"Non riuscita dopo 1 tentativo: {old}")


def test_the_banner_says_why_the_server_could_not_be_used_in_italian(
    demo_ctx, three, qtbot, qapp, shipped_qm
):
    from faults.support import ui_language

    port = free_port()  # nothing listens there
    configure(demo_ctx, port)
    with ui_language(qapp, shipped_qm, "it"):
        view = show(qtbot, demo_ctx)
        qtbot.mouseClick(view.send_button, Qt.MouseButton.LeftButton)
        wait_delivery(qtbot, view)
        banner = view.banner_text()
        assert f"Nessuna risposta da 127.0.0.1:{port}. Verifichi che" in banner
        assert "Nothing answers" not in banner
        assert texts(view.model, 0)[M.STATUS].startswith(
            f"Non riuscita: Nessuna risposta da 127.0.0.1:{port}."
        )
