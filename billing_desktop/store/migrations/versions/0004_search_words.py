"""words of company and contact names, indexed for the quick search

The quick search finds a word anywhere in a company or contact name
("techniek" for "Van Dijk Techniek B.V.", "vries" for Sanne de Vries), by
prefix, through an index: the folded ``search_name`` columns, split into words.

- SQLite: an FTS5 table per column with external content (the row's
  ``search_name``, keyed by the row's id), prefix indexes for 1 to 3 letters,
  kept in step by triggers that fire only on insert, delete and an update of
  ``search_name`` (or the id) — never on the updates of balances that every
  order makes. Filled from the existing rows here.
- PostgreSQL: a GIN index on ``to_tsvector('simple', …)`` of the same column,
  its punctuation turned into spaces first so words split as on SQLite;
  without GIN's pending list (``fastupdate = off``): names change seldom, and
  a search must not scan the entries not yet merged.

The index expression below is repeated, character for character, by the
queries (``store.queries``, ``store.search.WORD_SEPARATORS``); a change to it
needs a new migration that recreates the indexes.

A later migration that rebuilds ``accounts`` or ``contacts`` on SQLite (a
batch operation copies the table and drops the old one) drops these triggers
with the old table: it must create them again (``_create_sqlite``) and rebuild.

Revision ID: 0004_search_words
Revises: 0003_operator_sign_in
Create Date: 2026-12-08
"""

from __future__ import annotations

from alembic import op

revision = "0004_search_words"
down_revision = "0003_operator_sign_in"
branch_labels = None
depends_on = None

#: table -> (FTS5 table on SQLite, GIN index on PostgreSQL)
WORD_INDEXES = {
    "accounts": ("accounts_words", "ix_accounts_search_words"),
    "contacts": ("contacts_words", "ix_contacts_search_words"),
}

#: The punctuation read as spaces between words (a frozen copy of
#: ``store.search.WORD_SEPARATORS`` as of this revision).
SEPARATORS = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~‘’‚‛“”„‟«»‹›–—―‐‑‒…·•°€£¥©®™§¶¡¿"

TOKENIZER = "unicode61 remove_diacritics 0 categories 'L* N*'"


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _tsvector() -> str:
    spaces = " " * len(SEPARATORS)
    return (
        f"to_tsvector('simple', translate(search_name, {_sql_text(SEPARATORS)}, "
        f"{_sql_text(spaces)}))"
    )


def _create_sqlite(table: str, fts: str) -> None:
    tokenize = TOKENIZER.replace("'", "''")
    op.execute(
        f"CREATE VIRTUAL TABLE {fts} USING fts5(search_name, content='{table}', "
        f"content_rowid='id', tokenize='{tokenize}', prefix='1 2 3')"
    )
    op.execute(
        f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts} (rowid, search_name) VALUES (new.id, new.search_name); END"
    )
    op.execute(
        f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts} ({fts}, rowid, search_name) "
        f"VALUES ('delete', old.id, old.search_name); END"
    )
    op.execute(
        f"CREATE TRIGGER {fts}_update AFTER UPDATE OF id, search_name ON {table} "
        "WHEN old.id IS NOT new.id OR old.search_name IS NOT new.search_name BEGIN "
        f"INSERT INTO {fts} ({fts}, rowid, search_name) "
        "VALUES ('delete', old.id, old.search_name); "
        f"INSERT INTO {fts} (rowid, search_name) VALUES (new.id, new.search_name); END"
    )
    op.execute(f"INSERT INTO {fts} ({fts}) VALUES ('rebuild')")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, (fts, index) in WORD_INDEXES.items():
        if sqlite:
            _create_sqlite(table, fts)
        else:
            # no pending list: a search never reads unmerged entries one by one
            op.execute(
                f"CREATE INDEX {index} ON {table} USING gin ({_tsvector()}) WITH (fastupdate = off)"
            )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for fts, index in WORD_INDEXES.values():
        if sqlite:
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {fts}_{event}")
            op.execute(f"DROP TABLE IF EXISTS {fts}")
        else:
            op.execute(f"DROP INDEX IF EXISTS {index}")
