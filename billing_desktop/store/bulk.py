"""Fast bulk inserts for large generated datasets.

On SQLite the rows go straight to the driver's ``executemany`` with values
already in the text form SQLAlchemy itself stores (ISO dates, 0/1 booleans),
skipping per-row parameter processing; other engines use a Core insert.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, Table, insert
from sqlalchemy.engine import Connection


def _datetime_text(value: datetime) -> str:
    return value.isoformat(sep=" ", timespec="microseconds")


def _converter(column_type: Any) -> Any:
    """How a Python value of this column becomes SQLite text (None: as it is)."""
    if isinstance(column_type, DateTime):
        return _datetime_text
    if isinstance(column_type, Date):
        return date.isoformat
    return None  # ints, strings and bools (an int subclass) go through unchanged


def bulk_insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in one round trip."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(insert(table), list(rows))
        return
    columns = list(rows[0])
    converters = [(i, _converter(table.c[name].type)) for i, name in enumerate(columns)]
    converters = [(i, f) for i, f in converters if f is not None]
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    values = []
    for row in rows:
        record = [row[name] for name in columns]
        for i, convert in converters:
            if record[i] is not None:
                record[i] = convert(record[i])
        values.append(tuple(record))
    conn.exec_driver_sql(sql, values)
