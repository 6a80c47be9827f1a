"""What every service call needs: the database, the clock and who is acting."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from billing_desktop.services.clock import Clock, clock_for
from billing_desktop.store.database import Database

if TYPE_CHECKING:
    from billing_desktop.services.mail import Renderer


@dataclass(frozen=True, slots=True)
class OperatorInfo:
    """The signed-in operator, as services and the status bar need it."""

    id: int
    email: str
    name: str
    role: str


@dataclass(frozen=True, slots=True)
class AppContext:
    db: Database
    clock: Clock
    operator: OperatorInfo
    #: a demo database (simulated clock, trainer sandbox); read once when opened
    is_demo: bool = False
    #: renders customer emails in their language (see services.mail); None = plain English
    renderer: Any = None


def local_login() -> str:
    """The OS login name ("operator" where there is none: containers, services).

    What ``getpass.getuser`` answers, without importing ``getpass`` (and the
    terminal modules it needs) during start-up.
    """
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        login = os.environ.get(name)
        if login:
            return login
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except Exception:  # no pwd (Windows) or no entry for this user id
        return "operator"


def _local_identity() -> tuple[str, str]:
    user = local_login()
    return f"{user}@localhost", user


def local_operator(db: Database) -> OperatorInfo:
    """The automatic operator of an embedded database (an admin named after the OS user).

    Read with a plain query at start-up; created on first use so a single-user
    install needs no sign-in. Once the operator gave themselves a name and
    email (``services.operators.update_operator_identity``) it is found by the
    id remembered under ``operator.local.<login>``.
    """
    email, name = _local_identity()
    sql = (
        "SELECT 0 AS n, id, email, name, role FROM operators WHERE active AND id = ("
        "SELECT CAST(value AS INTEGER) FROM app_settings WHERE key = :key) "
        "UNION ALL SELECT 1, id, email, name, role FROM operators WHERE email = :email "
        "ORDER BY n"
    )
    row = db.reader.rows(sql, {"key": f"operator.local.{name}", "email": email})
    if row:
        return OperatorInfo(*row[0][1:])
    from billing_desktop.store.models import Operator

    with db.transaction() as session:
        op = Operator(email=email, name=name, role="admin", active=True, created_at=datetime.now())
        session.add(op)
        session.flush()
        return OperatorInfo(id=op.id, email=op.email, name=op.name, role=op.role)


def open_context(
    db: Database, *, renderer: Renderer | None = None, operator: OperatorInfo | None = None
) -> AppContext:
    """Context on ``db`` with the database's clock, for ``operator`` (signed in to a
    shared database) or the embedded single-user case's local operator.

    ``renderer`` writes customer emails in the account's language; the GUI
    passes one backed by ``billing_desktop.documents.QtRenderer``. Without it
    emails are plain English (command line, tests).
    """
    return AppContext(
        db=db,
        clock=clock_for(db),
        operator=operator if operator is not None else local_operator(db),
        is_demo=db.is_demo(),
        renderer=renderer,
    )
