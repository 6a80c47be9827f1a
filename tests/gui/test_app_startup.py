"""Start-up work that waits for the first paint: the log file and the write-path warm-up."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from billing_desktop import app as app_module
from billing_desktop.config import target_from
from billing_desktop.domain.money import Money


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    """The application's logger, with the handlers the test adds removed afterwards."""
    log = logging.getLogger("billing_desktop")
    handlers, level = list(log.handlers), log.level
    yield log
    for handler in log.handlers[:]:
        if handler not in handlers:
            log.removeHandler(handler)
            handler.close()
    log.setLevel(level)


def log_file() -> Path:
    return app_module.log_dir() / app_module.LOG_FILE_NAME


def test_deferred_log_file_keeps_start_up_records_until_opened(logger) -> None:
    assert app_module.setup_logging(defer_file=True) is None
    logging.getLogger("billing_desktop.app").info("opened %s", "/data/billing.sqlite3")
    assert not log_file().exists()

    path = app_module.open_log_file()
    assert path == log_file()
    logging.getLogger("billing_desktop.ui").warning("after %d ms", 5)
    assert app_module.open_log_file() == path  # once open, only returned
    assert app_module.setup_logging() == path  # no second set of handlers
    for handler in logger.handlers:
        handler.flush()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert "Billing Desktop" in lines[0] and lines[0].endswith("starting")
    assert lines[1].endswith("billing_desktop.app: opened /data/billing.sqlite3")
    assert lines[2].endswith("billing_desktop.ui: after 5 ms")
    assert len(lines) == 3


def test_setup_logging_without_defer_opens_the_file_at_once(logger) -> None:
    path = app_module.setup_logging()
    assert path == log_file()
    assert path.exists()


def test_log_file_rotates_like_the_standard_handler(tmp_path: Path) -> None:
    from logging.handlers import RotatingFileHandler

    ours_dir, std_dir = tmp_path / "ours", tmp_path / "std"
    ours_dir.mkdir()
    std_dir.mkdir()
    handlers: list[logging.FileHandler] = [
        app_module.RotatingLogFile(ours_dir / "app.log", max_bytes=100, backups=2),
        RotatingFileHandler(std_dir / "app.log", maxBytes=100, backupCount=2, encoding="utf-8"),
    ]
    try:
        for handler in handlers:
            handler.setFormatter(logging.Formatter("%(message)s"))
            for n in range(12):
                handler.emit(logging.makeLogRecord({"msg": f"line {n:02d} " + "é" * 30}))
    finally:
        for handler in handlers:
            handler.close()

    def files(directory: Path) -> dict[str, str]:
        return {p.name: p.read_text(encoding="utf-8") for p in sorted(directory.iterdir())}

    assert list(files(ours_dir)) == ["app.log", "app.log.1", "app.log.2"]
    assert files(ours_dir) == files(std_dir)
    assert "line 11" in files(ours_dir)["app.log"]


def test_crash_before_the_log_file_opens_writes_it_and_names_it(logger, monkeypatch) -> None:
    app_module.setup_logging(defer_file=True)
    shown: list[Path | None] = []
    handler = app_module.CrashHandler(None)
    monkeypatch.setattr(handler, "_show", lambda *_exc: shown.append(handler.log_file))
    try:
        raise ValueError("boom")
    except ValueError as exc:
        handler(type(exc), exc, exc.__traceback__)
    assert shown == [log_file()]
    for h in logger.handlers:
        h.flush()
    text = log_file().read_text(encoding="utf-8")
    assert "unexpected error" in text
    assert "ValueError: boom" in text


def test_run_gui_writes_the_log_file_even_when_start_up_fails(
    qtbot, qapp, logger, monkeypatch, tmp_path: Path
) -> None:
    from billing_desktop import i18n

    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"garbage")
    monkeypatch.setattr(app_module, "show_error", lambda _parent, _text: None)
    monkeypatch.setattr(app_module, "install_qt_message_handler", lambda: None)
    monkeypatch.setattr(app_module, "install_excepthook", lambda _log_file: None)
    try:
        assert app_module.run_gui(target_from(str(bad)), lang="en_US") == 1
    finally:
        i18n.uninstall(qapp)
    for handler in logger.handlers:
        handler.flush()
    text = log_file().read_text(encoding="utf-8")
    assert "starting" in text
    assert f"cannot open {bad}" in text


@pytest.fixture
def session(qtbot):
    gui = app_module.GuiSession()
    yield gui
    if gui.window is not None:
        gui.window.close()
    gui.close()


def test_write_path_is_warmed_up_in_the_background_after_the_window_shows(
    qtbot, session, monkeypatch, make_account, db_path: Path
) -> None:
    make_account()
    monkeypatch.setattr(app_module, "WARM_UP_DELAY_MS", 10)
    threads: list[str] = []
    warmed = threading.Event()

    def warm_up(db) -> None:
        threads.append(threading.current_thread().name)
        warmed.set()

    monkeypatch.setattr(app_module.Database, "warm_up", warm_up)
    assert session.open(target_from(str(db_path)))
    qtbot.addWidget(session.window)
    assert not warmed.is_set()  # not before the window is on screen
    qtbot.waitUntil(warmed.is_set)
    assert threads == ["warm-up"]


def test_a_failing_warm_up_is_only_logged(qtbot, session, monkeypatch, db_path: Path) -> None:
    def warm_up(db) -> None:
        raise RuntimeError("no engine today")

    monkeypatch.setattr(app_module.Database, "warm_up", warm_up)
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("billing_desktop.app").addHandler(handler)
    try:
        assert session.open(target_from(str(db_path)))
        qtbot.addWidget(session.window)
        session._warm_up(session.db)
        qtbot.waitUntil(lambda: any(r.levelno == logging.WARNING for r in records))
    finally:
        logging.getLogger("billing_desktop.app").removeHandler(handler)
    warning = next(r for r in records if r.levelno == logging.WARNING)
    assert "warming up" in warning.getMessage()
    assert warning.exc_info is not None
    assert session.window.isVisible()


def test_no_warm_up_for_a_database_closed_meanwhile(
    qtbot, session, monkeypatch, db_path: Path
) -> None:
    calls: list[object] = []
    monkeypatch.setattr(app_module.Database, "warm_up", lambda db: calls.append(db))
    assert session.open(target_from(str(db_path)))
    qtbot.addWidget(session.window)
    db = session.db
    session.close()
    session._warm_up(db)
    assert calls == []


# -- the email renderer --------------------------------------------------------------


def test_the_app_context_writes_emails_with_the_qt_renderer(
    qtbot, session, make_account, db_path: Path, shipped_qm: Path, monkeypatch
) -> None:
    """Emails queued through the window's context are rendered by ``QtRenderer``: in
    the account's language with the shipped translation, the values formatted for it
    (Italian: 12.345,67 €), where the plain renderer of the services would write
    "Payment received: 12,345.67 EUR"."""
    from billing_desktop.documents import QtRenderer, translation

    monkeypatch.setattr(translation, "translations_dir", lambda: shipped_qm)
    translation.clear_cache()
    from billing_desktop.services.mail import EmailKind, queue_email
    from billing_desktop.store.models import Account

    account_id = make_account("Rossi Impianti S.r.l.", country="IT", language="it")
    assert session.open(target_from(str(db_path)))
    qtbot.addWidget(session.window)
    ctx = session.window.ctx
    assert ctx.renderer is session.renderer
    assert not session.renderer.loaded  # nothing rendered yet: not even created

    with ctx.db.transaction() as s:
        email = queue_email(
            s, ctx, s.get(Account, account_id), EmailKind.PAYMENT_RECEIVED,
            {"amount": Money("12345.67", "EUR"), "invoice_numbers": ["INV-2026-000042"]},
        )  # fmt: skip
        s.flush()
        subject, body, language = email.subject, email.body_text, email.language

    assert isinstance(session.renderer.renderer(), QtRenderer)
    assert language == "it"
    assert subject == "Pagamento ricevuto: 12.345,67\u00a0€"
    assert "12.345,67\u00a0€" in body and "INV-2026-000042" in body
    translation.clear_cache()


def test_lazy_renderer_creates_the_real_one_once_and_delegates() -> None:
    made: list[object] = []

    class Echo:
        def email(self, kind, language, params):
            return f"{kind}:{language}", ",".join(sorted(params))

    def factory() -> Echo:
        made.append(Echo())
        return made[-1]

    lazy = app_module.LazyRenderer(factory)
    assert not lazy.loaded and made == []
    assert lazy.email("trial_ended", "nl", {"product": "x", "trial_end": 1}) == (
        "trial_ended:nl", "product,trial_end",
    )  # fmt: skip
    lazy.email("trial_ended", "de", {})
    assert lazy.loaded and len(made) == 1  # created on first use only


_FIRST_PAINT_SCRIPT = """
import json, sys
from datetime import date
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

app = QApplication(sys.argv[:1])
result = {}


def after_first_paint():
    from billing_desktop.ui.main_window import MainWindow

    window = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow))
    if not window.isVisible():
        QTimer.singleShot(10, after_first_paint)
        return
    QApplication.processEvents()  # the first paint of the window
    result["at_paint"] = sorted(m for m in sys.modules if m.startswith("billing_desktop.documents"))
    print("=== first paint ===", file=sys.stderr, flush=True)
    result["subject"], result["body"] = window.ctx.renderer.email(
        "trial_ended", "it",
        {"contact_name": "Marco Rossi", "account_number": "A-900001", "company_name": "X",
         "product": "GoTo Meeting", "trial_end": date(2026, 4, 20)},
    )
    result["after_email"] = "billing_desktop.documents" in sys.modules
    QApplication.quit()


QTimer.singleShot(0, after_first_paint)
from billing_desktop.app import run_gui
from billing_desktop.config import target_from

code = run_gui(target_from(sys.argv[1]), lang="en_US")
print(json.dumps({"code": code, **result}))
"""


def test_documents_are_not_imported_before_the_first_paint(
    make_account, db_path: Path
) -> None:
    """``python -X importtime``: the start-up up to the first paint imports no module of
    ``billing_desktop.documents``; the first email imports it, and renders."""
    import json
    import subprocess
    import sys

    make_account("Rossi Impianti S.r.l.")
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", _FIRST_PAINT_SCRIPT, str(db_path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["code"] == 0
    assert outcome["at_paint"] == []
    assert outcome["after_email"] is True
    # English, or Italian when the translations are compiled (make test does)
    assert outcome["subject"] in (
        "Your GoTo Meeting trial has ended",
        "La Sua prova di GoTo Meeting è terminata",
    )
    assert "20/04/2026." in outcome["body"]  # QtRenderer: an Italian date

    before, marker, after = result.stderr.partition("=== first paint ===")
    assert marker, result.stderr[-3000:]

    def imported(text: str) -> set[str]:
        return {
            line.rsplit("|", 1)[1].strip()
            for line in text.splitlines()
            if line.startswith("import time:") and "|" in line
        }

    assert "billing_desktop.app" in imported(before)  # importtime is on
    assert not {m for m in imported(before) if m.startswith("billing_desktop.documents")}
    assert {"billing_desktop.documents", "billing_desktop.documents.email"} <= imported(after)
