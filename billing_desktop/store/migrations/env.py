"""Alembic environment: always driven programmatically by ``store.schema``."""

from __future__ import annotations

from alembic import context

from billing_desktop.store.models import Base
from billing_desktop.store.search import is_word_index

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # pragma: no cover - only when run from the alembic CLI
        from sqlalchemy import create_engine

        engine = create_engine(config.get_main_option("sqlalchemy.url"))
        with engine.begin() as conn:
            _run(conn)
        return
    _run(connection)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        # the word-search index (FTS5 tables, a GIN index) is written by hand
        include_name=lambda name, _type, _parent: not is_word_index(name),
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
