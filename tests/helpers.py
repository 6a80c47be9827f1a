"""Helpers shared by test modules: ``from helpers import dump, free_port``.

The fixtures built on them are in ``conftest.py`` (``smtp_server``).
"""

from __future__ import annotations

import socket
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

#: The sender address of the test mail server settings.
SENDER = "billing@billing-desk.example"


# --------------------------------------------------------------------------- the database


def dump(db: Any) -> dict[str, list[tuple]]:
    """Every row of every table: a refused or abandoned action leaves this unchanged."""
    tables = db.reader.rows(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    return {
        name: sorted(db.reader.rows(f'SELECT * FROM "{name}"'), key=repr)
        for (name,) in sorted(tables)
    }


def count(db: Any, table: str) -> int:
    """How many rows ``table`` has."""
    return db.reader.scalar(f'SELECT COUNT(*) FROM "{table}"')


def sub_id(db: Any, account: str, product: str) -> int:
    """The id of the subscription of account ``account`` (its number) to product ``product``."""
    return db.reader.scalar(
        "SELECT s.id FROM subscriptions s JOIN accounts a ON a.id = s.account_id "
        "JOIN products p ON p.id = s.product_id WHERE a.account_number = :a AND p.code = :p",
        {"a": account, "p": product},
    )


# --------------------------------------------------------------------------- a real SMTP server


def free_port() -> int:
    """A local port nothing listens on (for a server, or for "the server is down")."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpCollector:
    """aiosmtpd handler keeping every message; refuses recipients at ``refuse@…``."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refuse@"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(e.content, policy=default_policy) for e in self.envelopes]

    @property
    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]


class SmtpServer:
    """An aiosmtpd server on one fixed local port; ``stop()`` and ``start()`` it again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.handler = SmtpCollector()
        self._controller: Any = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def smtp_settings(port: int, **changes: Any) -> Any:
    """``SmtpSettings`` for the local test server (no TLS, :data:`SENDER`), with ``changes``."""
    from billing_desktop.services.smtp import SmtpSecurity, SmtpSettings

    values: dict[str, Any] = {
        "host": "127.0.0.1", "port": port, "security": SmtpSecurity.NONE,
        "from_address": SENDER, "timeout": 5,
    }  # fmt: skip
    values.update(changes)
    return SmtpSettings(**values)
