"""The change signal behind live refresh (``store.changes``), on every engine: a write
committed through another connection is seen, a read or a rolled-back write is not."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from billing_desktop.store.changes import install_change_notify, open_change_signal
from billing_desktop.store.database import Database, open_database


@pytest.fixture
def other(db: Database) -> Iterator[Database]:
    """The same database opened a second time (another operator's application)."""
    second = open_database(db.target)
    install_change_notify(second.engine)
    yield second
    second.dispose()


def _wait_for(signal, tries: int = 200) -> bool:
    """Poll until the signal reports a change (a notification travels through the
    server's socket; SQLite's counter is there at once)."""
    import select

    for _ in range(tries):
        if signal.poll():
            return True
        fileno = signal.fileno()
        if fileno is not None:
            select.select([fileno], [], [], 0.05)
    return False


def _rename(db: Database, name: str) -> None:
    from billing_desktop.store.models import AppSetting

    with db.transaction() as session:
        session.merge(AppSetting(key="test.name", value=name))


def test_a_write_from_another_connection_is_seen(db: Database, other: Database) -> None:
    _rename(db, "first")  # the writing side's engine is ready before the watch starts
    signal = open_change_signal(db)
    try:
        assert not signal.poll()
        _rename(other, "second")
        assert _wait_for(signal)
        assert not signal.poll()  # once per change
        _rename(other, "third")
        _rename(other, "fourth")
        assert _wait_for(signal)
    finally:
        signal.close()


def test_reads_and_rolled_back_writes_are_not_changes(db: Database, other: Database) -> None:
    from billing_desktop.store.models import AppSetting

    _rename(other, "first")
    signal = open_change_signal(db)
    try:
        assert other.reader.rows("SELECT key, value FROM app_settings") is not None
        with other.sessions() as session:
            session.get(AppSetting, "test.name")
            session.commit()  # a read-only transaction
        with pytest.raises(RuntimeError), other.transaction() as session:
            session.merge(AppSetting(key="test.name", value="never"))
            session.flush()
            raise RuntimeError("rolled back")
        assert not _wait_for(signal, tries=4)
        _rename(other, "second")
        assert _wait_for(signal)
    finally:
        signal.close()


def test_closed_signal_is_quiet(db: Database, other: Database) -> None:
    signal = open_change_signal(db)
    signal.close()
    _rename(other, "after close")
    assert not signal.poll()
    assert signal.fileno() is None
    signal.close()  # twice is fine
