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
    """A database the application opens: an SQLAlchemy URL plus, for SQLite, its file."""

    url: str
    path: Path | None  # None for server databases

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

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
            path = Path(database).expanduser().resolve() if database else None
            return DatabaseTarget(value, path)
        return DatabaseTarget(value, None)
    path = Path(value).expanduser().resolve()
    return DatabaseTarget(f"sqlite:///{path}", path)


def default_target() -> DatabaseTarget:
    """``$BILLING_DESKTOP_DB`` if set, else ``billing.sqlite3`` in the user data dir."""
    env = os.environ.get(DB_ENV_VAR)
    if env:
        return target_from(env)
    return target_from(str(data_dir() / DEFAULT_DB_NAME))


def demo_target() -> DatabaseTarget:
    """The demo database, always a separate file from the real one."""
    return target_from(str(data_dir() / DEMO_DB_NAME))
