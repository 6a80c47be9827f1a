"""Shared fixtures: a migrated temporary database, a fixed clock, account factories,
a local SMTP server (helpers shared by test modules are in helpers.py)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# the shared helpers' own asserts show the values compared, as tests' asserts do
pytest.register_assert_rewrite("helpers")

if TYPE_CHECKING:
    from helpers import SmtpServer

# Headless Qt for every test run, and a private data dir so tests never touch
# the user's real databases.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.delenv("BILLING_DESKTOP_DB", raising=False)


TODAY = date(2026, 4, 26)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "billing.sqlite3"


# --------------------------------------------------------------------------- engines
#
# The service and store suites run on SQLite and, when a PostgreSQL server is
# given (``make test-pg`` or ``tools/pg.sh run make test`` start one), on
# PostgreSQL too: the same tests, parametrised by engine.

PG_ENV = "BILLING_DESKTOP_TEST_PG"
#: test folders whose tests run on every engine
BOTH_ENGINES = ("services", "store")


def pg_server_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine" not in metafunc.fixturenames or pg_server_url() is None:
        return
    folder = Path(str(metafunc.definition.path)).parent.name
    if folder not in BOTH_ENGINES or metafunc.definition.get_closest_marker("sqlite_only"):
        return
    metafunc.parametrize("engine", ["sqlite", "postgresql"], indirect=True)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if pg_server_url() is None:
        terminalreporter.write_line(
            f"PostgreSQL run skipped: no server given ({PG_ENV} is not set; "
            "`make test-pg` starts one).",
            yellow=True,
        )
        return
    passed = terminalreporter.stats.get("passed", [])
    on_server = sum(1 for r in passed if ("engine", "postgresql") in r.user_properties)
    terminalreporter.write_line(
        f"Engines: {on_server} tests passed on PostgreSQL; {len(passed) - on_server} "
        "others passed on SQLite or without a database.",
        green=True,
    )


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> str:
    """The database engine of the test: "sqlite" (default) or "postgresql"."""
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="session")
def pg_database() -> Iterator[object]:
    """A migrated PostgreSQL database for this test run, and its rows right after
    migrating (each test starts from them)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from billing_desktop.config import target_from
    from billing_desktop.store.database import open_database

    server = make_url(pg_server_url())
    name = f"billing_test_{os.getpid()}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        # a linguistic (ICU) collation, as a production server's default would be:
        # the search keys must not depend on the server's locale
        conn.execute(
            text(
                f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\' '
                "LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
            )
        )
    url = server.set(database=name).render_as_string(hide_password=False)
    database = open_database(target_from(url))
    seeds = PgSeeds(database)
    database.dispose()
    yield url, seeds
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class PgSeeds:
    """Every table's rows right after migrating; :meth:`restore` puts them back."""

    def __init__(self, database) -> None:
        from sqlalchemy import MetaData

        self.metadata = MetaData()
        with database.engine.connect() as conn:
            self.metadata.reflect(conn)
            tables = [t for t in self.metadata.sorted_tables if t.name != "alembic_version"]
            self.tables = tables
            self.rows = {
                t.name: [dict(r._mapping) for r in conn.execute(t.select())] for t in tables
            }

    def restore(self, engine) -> None:
        from sqlalchemy import text

        names = ", ".join(f'"{t.name}"' for t in self.tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            for table in self.tables:
                if self.rows[table.name]:
                    conn.execute(table.insert(), self.rows[table.name])


@pytest.fixture
def db(engine: str, request: pytest.FixtureRequest) -> Iterator[object]:
    """A brand-new, migrated database: an SQLite file, or the run's PostgreSQL
    database emptied back to its freshly migrated rows."""
    from billing_desktop.config import target_from
    from billing_desktop.store.database import open_database

    if engine == "postgresql":
        request.node.user_properties.append(("engine", "postgresql"))
        url, seeds = request.getfixturevalue("pg_database")
        database = open_database(target_from(url))
        seeds.restore(database.engine)
    else:
        database = open_database(target_from(str(request.getfixturevalue("db_path"))))
    yield database
    # a panel of the test's window may still be reading in the thread pool
    from PySide6.QtCore import QThreadPool

    QThreadPool.globalInstance().waitForDone()
    database.dispose()


@pytest.fixture
def clock():
    from billing_desktop.services.clock import FixedClock

    return FixedClock(TODAY)


@pytest.fixture
def ctx(db, clock):
    """Service context: the local admin operator and a clock fixed on 2026-04-26."""
    from billing_desktop.services.context import AppContext, local_operator

    return AppContext(db=db, clock=clock, operator=local_operator(db))


@pytest.fixture
def make_account(db) -> Callable[..., int]:
    """Insert a bare account (no subscriptions); returns its id."""
    from billing_desktop.store.models import Account
    from billing_desktop.store.search import fold

    counter = itertools.count(1)

    def make(company: str = "", **fields: object) -> int:
        n = next(counter)
        company = company or f"Company {n:05d}"
        values: dict[str, object] = {
            "account_number": f"A-{900000 + n}",
            "company_name": company,
            "search_name": fold(company),
            "type": "standard",
            "status": "active",
            "country": "IT",
            "language": "it",
            "currency": "EUR",
            "created_at": datetime(2025, 1, 1, 9, 0),
        }
        values.update(fields)
        with db.transaction() as session:
            account = Account(**values)
            session.add(account)
            session.flush()
            return account.id

    return make


@pytest.fixture
def demo_ctx(db, clock):
    """The curated demo accounts, loaded for 2026-04-26, and a context on them."""
    from billing_desktop.services.context import AppContext, local_operator
    from billing_desktop.services.demo import load_curated

    load_curated(db, TODAY)
    return AppContext(db=db, clock=clock, operator=local_operator(db), is_demo=True)


@pytest.fixture
def as_role(demo_ctx):
    """Make a context for an operator with another role (created on demand)."""
    import dataclasses

    from billing_desktop.services.context import OperatorInfo
    from billing_desktop.store.models import Operator

    def make(role: str, email: str | None = None, *, is_demo: bool = True):
        email = email or f"{role}@operators.example"
        with demo_ctx.db.transaction() as session:
            from sqlalchemy import select

            op = session.scalar(select(Operator).where(Operator.email == email))
            if op is None:
                op = Operator(
                    email=email, name=role.title(), role=role, active=True,
                    created_at=datetime(2026, 1, 1, 9, 0),
                )
                session.add(op)
                session.flush()
            info = OperatorInfo(id=op.id, email=op.email, name=op.name, role=op.role)
        return dataclasses.replace(demo_ctx, operator=info, is_demo=is_demo)

    return make


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1: ``.port``, ``.handler`` (what it received)."""
    from helpers import SmtpServer

    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def shipped_qm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped ``translations/*.ts`` compiled to ``.qm``, as ``make`` does for the app."""
    import subprocess
    import sys

    lrelease = Path(sys.executable).with_name("pyside6-lrelease")
    if not lrelease.exists():
        pytest.skip("pyside6-lrelease is not available")
    folder = tmp_path_factory.mktemp("qm")
    root = Path(__file__).resolve().parent.parent / "translations"
    for ts in sorted(root.glob("billing_desktop_*.ts")):
        qm = folder / ts.with_suffix(".qm").name
        subprocess.run([str(lrelease), "-silent", str(ts), "-qm", str(qm)], check=True)
    return folder
