"""Where things live: data directory, default and demo databases, database URLs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "billing-desktop"
ORG_NAME = "Billing Desktop"
DB_ENV_VAR = "BILLING_DESKTOP_DB"
DEFAULT_DB_NAME = "billing.sqlite3"
DEMO_DB_NAME = "demo.sqlite3"

#: Repository/package root holding ``resources/`` and ``translations/``.
ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """The per-user data directory (platformdirs; honours XDG_DATA_HOME on Linux)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def resources_dir() -> Path:
    return ROOT / "resources"


@dataclass(frozen=True, slots=True)
class DatabaseTarget:
    """A database the application opens: an SQLite file or a server URL.

    For a file the SQLAlchemy URL is built on demand (with the path quoted, so
    names holding ``#``, ``?`` or ``%`` are safe) and building it imports
    nothing at start-up.
    """

    path: Path | None  # the SQLite file; None for server databases
    server_url: str | None = None

    @property
    def url(self) -> str:
        if self.server_url is not None:
            return self.server_url
        from sqlalchemy.engine import URL

        return URL.create("sqlite", database=str(self.path)).render_as_string(
            hide_password=False
        )

    @property
    def is_sqlite(self) -> bool:
        return self.path is not None

    def display_name(self) -> str:
        return str(self.path) if self.path is not None else _hide_password(self.url)


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def target_from(value: str) -> DatabaseTarget:
    """Turn a ``--db`` value (file path or SQLAlchemy URL) into a target."""
    if "://" in value:
        if value.startswith("sqlite"):
            from sqlalchemy.engine import make_url

            database = make_url(value).database
            if not database or database == ":memory:":
                raise ValueError("an SQLite database must be a file")
            return DatabaseTarget(Path(database).expanduser().resolve())
        scheme, rest = value.split("://", 1)
        if scheme in ("postgresql", "postgres"):
            # the driver this application ships (SQLAlchemy would look for psycopg2)
            value = f"postgresql+psycopg://{rest}"
        return DatabaseTarget(None, value)
    return DatabaseTarget(Path(value).expanduser().resolve())


def default_target() -> DatabaseTarget:
    """``$BILLING_DESKTOP_DB`` if set, else ``billing.sqlite3`` in the user data dir."""
    env = os.environ.get(DB_ENV_VAR)
    if env:
        return target_from(env)
    return target_from(str(data_dir() / DEFAULT_DB_NAME))


def demo_target() -> DatabaseTarget:
    """The demo database, always a separate file from the real one."""
    return target_from(str(data_dir() / DEMO_DB_NAME))
