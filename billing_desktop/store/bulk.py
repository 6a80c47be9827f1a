"""Fast bulk inserts for large generated datasets, and Core statements prepared once.

On SQLite the rows go straight to the driver's ``executemany`` with values
already in the text form SQLAlchemy itself stores (ISO dates, 0/1 booleans),
skipping per-row parameter processing; other engines use a Core insert.
:class:`Prepared` does the same for any Core statement (checkout's writes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Table, insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import NullType


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


def sync_id_sequences(conn: Connection, tables: Sequence[Table]) -> None:
    """After rows were inserted with ids chosen by the caller, make the engine's id
    generator continue after the largest id (PostgreSQL's sequences do not follow
    explicit ids; SQLite's rowids always do)."""
    if conn.dialect.name != "postgresql":
        return
    from sqlalchemy import text

    for table in tables:
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table.name}"
            )
        )


# --------------------------------------------------------------------------- prepared statements

#: run :class:`Prepared` statements straight on the SQLite driver (False: always through
#: ``Connection.execute``; tests compare both)
FAST = True


def _bind_value(value: Any) -> Any:
    """A parameter as SQLAlchemy's SQLite types store it (dates as ISO text)."""
    kind = type(value)
    if kind is datetime:
        return _datetime_text(value)
    if kind is date:
        return value.isoformat()
    return value


def _reader(column_type: Any) -> Any:
    """How a SQLite value of a result column becomes the Python value (None: as it is)."""
    if isinstance(column_type, DateTime):
        return lambda text: None if text is None else datetime.fromisoformat(text)
    if isinstance(column_type, Date):
        return lambda text: None if text is None else date.fromisoformat(text)
    if isinstance(column_type, Boolean):
        return lambda value: None if value is None else bool(value)
    return None


class _Form:
    """A statement compiled for SQLite and one set of value keys: its SQL, where each
    positional parameter comes from, and how result columns are read."""

    __slots__ = ("readers", "slots", "sql")

    def __init__(self, statement: Any, dialect: Any, keys: tuple[str, ...] | None) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys or ()))
        defaults: dict[str, Any] = {}
        for column in (*compiled.insert_prefetch, *compiled.update_prefetch):
            default = column.default if column in compiled.insert_prefetch else column.onupdate
            if default is None or not default.is_scalar:
                raise TypeError(f"{column} needs a default computed at execution")
            defaults[column.key] = default.arg
        given = set(keys or ())
        self.sql = compiled.string
        #: per positional parameter: (key of the values, None, converter) or a constant
        #: (None, value, None); only dates (or untyped values) need converting
        slots = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            if name in given:
                dated = isinstance(bind.type, Date | DateTime | NullType)
                slots.append((name, None, _bind_value if dated else None))
            else:
                value = defaults.get(name, bind.effective_value)
                slots.append((None, _bind_value(value), None))
        self.slots = tuple(slots)
        readers = [_reader(c.type) for c in getattr(statement, "exported_columns", ())]
        self.readers = tuple(readers) if any(readers) else None

    def params(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple([
            constant if key is None
            else values[key] if convert is None
            else convert(values[key])
            for key, constant, convert in self.slots
        ])  # fmt: skip

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        readers = self.readers
        if readers is None:
            return tuple(raw)
        return tuple(v if read is None else read(v) for v, read in zip(raw, readers, strict=True))


class Prepared:
    """A Core statement built once and compiled once per set of value keys.

    On SQLite its SQL (compiled by SQLAlchemy for the dialect) goes straight to the
    driver of the connection's transaction, values in the text form SQLAlchemy stores
    and results read back the same way, without SQLAlchemy's per-execution work; the
    driver's errors are raised as SQLAlchemy's (``IntegrityError``…). Other engines (or
    ``FAST = False``) execute the statement with ``Connection.execute``. Statements
    may not use ``IN`` lists expanded per execution, nor column defaults computed at
    execution.
    """

    __slots__ = ("_forms", "statement")

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._forms: dict[tuple[str, ...] | None, _Form] = {}

    def _form(self, conn: Connection, keys: tuple[str, ...] | None) -> _Form:
        form = self._forms.get(keys)
        if form is None:
            form = self._forms[keys] = _Form(self.statement, conn.dialect, keys)
        return form

    def _run(self, conn: Connection, values: Mapping[str, Any] | None, many: Any = None) -> Any:
        form = self._form(conn, tuple(values) if values else None)
        raw = conn.connection.driver_connection
        try:
            if many is not None:
                return raw.executemany(form.sql, [form.params(v) for v in many]), form
            return raw.execute(form.sql, form.params(values or {})), form
        except conn.dialect.loaded_dbapi.Error as err:
            raise DBAPIError.instance(
                form.sql, values, err, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
            ) from err

    def rows(self, conn: Connection, values: Mapping[str, Any] | None = None) -> list[tuple]:
        """Every result row."""
        if not (FAST and conn.dialect.name == "sqlite"):
            return [tuple(row) for row in conn.execute(self.statement, values)]
        cursor, form = self._run(conn, values)
        return [form.row(raw) for raw in cursor.fetchall()]

    def first(self, conn: Connection, values: Mapping[str, Any] | None = None) -> tuple | None:
        """The first result row (None: no row)."""
        if not (FAST and conn.dialect.name == "sqlite"):
            row = conn.execute(self.statement, values).first()
            return None if row is None else tuple(row)
        cursor, form = self._run(conn, values)
        raw = cursor.fetchone()
        return None if raw is None else form.row(raw)

    def scalar(self, conn: Connection, values: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row (None: no row)."""
        row = self.first(conn, values)
        return None if row is None else row[0]

    def run(self, conn: Connection, values: Mapping[str, Any] | None = None) -> int:
        """Execute once; the number of rows changed."""
        if not (FAST and conn.dialect.name == "sqlite"):
            return conn.execute(self.statement, values).rowcount
        return self._run(conn, values)[0].rowcount

    def many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
        """Execute once per row (dicts with the same keys); the number of rows changed."""
        if not rows:
            return 0
        if not (FAST and conn.dialect.name == "sqlite"):
            return conn.execute(self.statement, list(rows)).rowcount
        return self._run(conn, rows[0], many=rows)[0].rowcount

    def insert(self, conn: Connection, values: Mapping[str, Any]) -> int:
        """Insert one row; its new primary key."""
        if not (FAST and conn.dialect.name == "sqlite"):
            return conn.execute(self.statement, values).inserted_primary_key[0]
        return self._run(conn, values)[0].lastrowid
