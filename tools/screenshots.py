"""Pictures of the application for the README and for review: ``make screenshots``.

Run under a display (``xvfb-run -a``, as the Makefile does) so windows are real
top-level windows with a window manager-free frame, or with
``QT_QPA_PLATFORM=offscreen``. Everything runs on a fresh curated demo database
dated 2026-04-26, so the pictures are the same on every machine.

    python tools/screenshots.py OUT_DIR [--scale 1.5] [--only main|wizards]

Writes ``OUT_DIR/<name>@<scale>.png``. The Makefile runs it at 100 % and 150 %
and copies the pictures the README shows into ``docs/screenshots/``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path

TODAY = date(2026, 4, 26)
WINDOW_SIZE = (1280, 800)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--scale", default="1")
    parser.add_argument("--only", choices=("main", "wizards"), default=None)
    return parser.parse_args(argv)


class Shooter:
    """Saves widgets as ``<name>@<scale>.png`` after letting Qt finish painting."""

    def __init__(self, out: Path, scale: str) -> None:
        self.out = out
        self.suffix = "100" if scale in ("1", "1.0") else str(round(float(scale) * 100))
        self.written: list[Path] = []

    def settle(self, rounds: int = 5) -> None:
        from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer

        for _ in range(rounds):
            loop = QEventLoop()
            QTimer.singleShot(30, loop.quit)
            loop.exec()
            QCoreApplication.processEvents()

    def shoot(self, widget, name: str) -> Path:
        self.settle()
        path = self.out / f"{name}@{self.suffix}.png"
        if not widget.grab().save(str(path)):
            raise RuntimeError(f"could not write {path}")
        self.written.append(path)
        print(f"  {path.name}", flush=True)
        return path


def _context(path: Path):
    from billing_desktop.config import target_from
    from billing_desktop.services.clock import FixedClock
    from billing_desktop.services.context import AppContext, local_operator
    from billing_desktop.services.demo import load_curated
    from billing_desktop.store.database import open_database

    db = open_database(target_from(str(path)))
    load_curated(db, TODAY)
    return AppContext(
        db=db,
        clock=FixedClock(datetime.combine(TODAY, time(10, 0))),
        operator=local_operator(db),
        is_demo=True,
    )


def _account_id(ctx, number: str) -> int:
    return int(
        ctx.db.reader.scalar(
            "SELECT id FROM accounts WHERE account_number = :n", {"n": number}
        )
    )


def main_views(ctx, shooter: Shooter) -> None:
    """The accounts list, an account's subscriptions tab and the dashboard."""
    from billing_desktop.ui.main_window import MainWindow

    window = MainWindow(ctx)
    window.resize(*WINDOW_SIZE)
    window.show()
    accounts = window.view("accounts")
    shooter.settle()
    while accounts.model.canFetchMore():
        accounts.model.fetchMore()
    shooter.shoot(window, "accounts")

    window.open_account(_account_id(ctx, "A-100003"))
    page = window.account_page
    page.show_tab("subscriptions")
    shooter.shoot(window, "account-subscriptions")

    for key in ("invoices", "emails", "dashboard"):
        window.show_view(key)
        shooter.shoot(window, key)
    window.show_settings()
    dialog = window._settings_dialog
    shooter.shoot(dialog, "settings")
    dialog.reject()
    window.close()


def wizard_pages(ctx, shooter: Shooter) -> None:
    """Every page of every wizard, driven along the seed articles' paths."""
    from wizard_tour import tours  # tools/wizard_tour.py, beside this file

    for name, tour in tours(ctx):
        for page_name, widget in tour():
            shooter.shoot(widget, f"wizard-{name}-{page_name}")


def run(argv: list[str]) -> int:
    args = _parse(argv)
    os.environ.setdefault("QT_SCALE_FACTOR", args.scale)
    from PySide6.QtCore import QCoreApplication, QLocale, QSettings
    from PySide6.QtWidgets import QApplication

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        # Settings of their own: never the user's window positions or language.
        QSettings.setDefaultFormat(QSettings.Format.IniFormat)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tmp)
        QCoreApplication.setOrganizationName("Billing Desktop Screenshots")
        QCoreApplication.setApplicationName("billing-desktop-screenshots")
        QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
        app = QApplication.instance() or QApplication(sys.argv[:1])
        from billing_desktop import i18n

        i18n.install(app, os.environ.get("SCREENSHOT_LANG", "en_US"))
        ctx = _context(Path(tmp) / "demo.sqlite3")
        shooter = Shooter(args.out, args.scale)
        steps: list[Callable[[object, Shooter], None]] = []
        if args.only in (None, "main"):
            steps.append(main_views)
        if args.only in (None, "wizards"):
            steps.append(wizard_pages)
        for step in steps:
            step(ctx, shooter)
        ctx.db.dispose()
    print(f"{len(shooter.written)} pictures in {args.out}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    raise SystemExit(run(sys.argv[1:]))
