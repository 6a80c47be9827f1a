"""Command line: ``billing-desktop`` opens the GUI; sub-commands build and migrate databases.

    billing-desktop [--db PATH_OR_URL | --demo] [--lang CODE]
    billing-desktop demo --db PATH [--accounts N] [--seed S]
    billing-desktop migrate [--db PATH_OR_URL]
    billing-desktop renew [--db PATH_OR_URL] [--until YYYY-MM-DD]

Errors print one clear line on stderr and exit non-zero (2 for a usage error).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date

from billing_desktop import __version__

PROG = "billing-desktop"
COMMANDS = ("demo", "migrate", "renew")


def _gui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Billing Desktop: subscription billing back-office.",
        epilog=(
            "Commands: 'billing-desktop demo --db PATH [--accounts N] [--seed S]' builds a "
            "demo database; 'billing-desktop migrate [--db PATH_OR_URL]' upgrades a database; "
            "'billing-desktop renew [--db PATH_OR_URL] [--until YYYY-MM-DD]' runs the renewal "
            "engine. "
            "Default database: billing.sqlite3 in the user data folder "
            "(override with BILLING_DESKTOP_DB)."
        ),
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--db", metavar="PATH_OR_URL", help="database file or SQLAlchemy URL")
    where.add_argument(
        "--demo", action="store_true", help="open the demo database (created on first use)"
    )
    parser.add_argument("--lang", metavar="CODE", help="user interface language, e.g. it, nl, es")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _demo_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} demo",
        description="Build a demo database: the curated scenarios plus N generated accounts.",
    )
    parser.add_argument("--db", metavar="PATH", required=True, help="database file to create")
    parser.add_argument(
        "--accounts", type=_non_negative, default=0, metavar="N",
        help="extra generated accounts with 3 years of history (default 0)",
    )
    parser.add_argument("--seed", type=int, default=1, metavar="S", help="random seed (default 1)")
    return parser


def _migrate_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} migrate", description="Create or upgrade a database to this version's schema."
    )
    parser.add_argument("--db", metavar="PATH_OR_URL", help="database (default: the usual one)")
    return parser


def _renew_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} renew",
        description=(
            "Run the renewal engine: renew subscriptions, expire trials, end pending "
            "cancellations, renew fixed terms, mark overdue invoices and data-retention dates, "
            "in date order, up to a date. Running it again to the same date changes nothing."
        ),
        epilog=(
            "A real database runs up to today at most. On a demo database --until moves the "
            "simulated clock forward to that date as well (never back). The run acts as the "
            "local operator (the OS user, an admin)."
        ),
    )
    parser.add_argument("--db", metavar="PATH_OR_URL", help="database (default: the usual one)")
    parser.add_argument(
        "--until", type=_iso_date, metavar="YYYY-MM-DD",
        help="last day to process (default: the database's today, simulated on a demo)",
    )
    return parser


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from exc


def _non_negative(value: str) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from exc
    if number < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return number


def _fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 1


def _cmd_demo(args: argparse.Namespace) -> int:
    from billing_desktop.config import target_from
    from billing_desktop.services.demo import ConsoleProgress, build_demo_database
    from billing_desktop.store.errors import DatabaseError

    target = target_from(args.db)
    try:
        with ConsoleProgress(sys.stderr) as progress:
            summary = build_demo_database(
                target, accounts=args.accounts, seed=args.seed, progress=progress
            )
    except DatabaseError as exc:
        return _fail(str(exc))
    except FileExistsError as exc:
        return _fail(str(exc))
    print(summary.describe())
    return 0


def _cmd_migrate(args: argparse.Namespace) -> int:
    from billing_desktop.config import default_target, target_from
    from billing_desktop.store.database import HEAD_REVISION, open_database
    from billing_desktop.store.errors import DatabaseError

    target = target_from(args.db) if args.db else default_target()
    try:
        db = open_database(target)
    except DatabaseError as exc:
        return _fail(str(exc))
    db.dispose()
    print(f"{target.display_name()}: schema at {HEAD_REVISION}")
    return 0


def _cmd_renew(args: argparse.Namespace) -> int:
    from billing_desktop.config import default_target, target_from
    from billing_desktop.domain.errors import DomainError
    from billing_desktop.services.demo import ConsoleProgress
    from billing_desktop.store.database import open_database
    from billing_desktop.store.errors import DatabaseError

    target = target_from(args.db) if args.db else default_target()
    try:
        db = open_database(target, create=False)
    except DatabaseError as exc:
        return _fail(str(exc))
    try:
        from sqlalchemy.exc import SQLAlchemyError

        from billing_desktop.services.context import open_context
        from billing_desktop.services.renewal import RenewalCancelled, advance

        try:
            ctx = open_context(db)
            until = args.until or ctx.clock.today()
            with ConsoleProgress(sys.stderr) as progress:
                summary = advance(ctx, until, progress=progress)
        except (DatabaseError, DomainError) as exc:
            return _fail(str(exc))
        except SQLAlchemyError as exc:
            detail = getattr(exc, "orig", None) or exc
            return _fail(f"{target.display_name()}: {str(detail).splitlines()[0]}")
        except (KeyboardInterrupt, RenewalCancelled):
            return _fail("interrupted; the events processed so far are kept, run again to continue")
    finally:
        db.dispose()
    print(summary.describe())
    if summary.failures:
        first = summary.failures[0]
        return _fail(
            f"{len(summary.failures)} events could not be processed and will be retried next "
            f"run (first: {first.kind.value} of {first.account_number} on "
            f"{first.date.isoformat()}: {first.message})"
        )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] in COMMANDS:
        command, rest = args_list[0], args_list[1:]
        if command == "demo":
            return _cmd_demo(_demo_parser().parse_args(rest))
        if command == "renew":
            return _cmd_renew(_renew_parser().parse_args(rest))
        return _cmd_migrate(_migrate_parser().parse_args(rest))

    args = _gui_parser().parse_args(args_list)
    from billing_desktop.config import demo_target

    if args.demo:
        target = demo_target()
    else:
        # --db, $BILLING_DESKTOP_DB, the database chosen in Settings, the default
        from billing_desktop.ui.preferences import startup_database

        target = startup_database(args.db)
    from billing_desktop.app import run_gui

    return run_gui(target, lang=args.lang, demo=args.demo)


if __name__ == "__main__":
    sys.exit(main())
