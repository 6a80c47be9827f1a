"""Search keys: how names and emails are folded so SQL indexes can find them."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lower-case, accent-free, single-spaced form of ``text``.

    "Città Nuova  S.r.l." → "citta nuova s.r.l."; used for the indexed
    ``search_name`` columns so a prefix search is an index range scan.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def prefix_upper_bound(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix``.

    ``col >= prefix AND col < prefix_upper_bound(prefix)`` is a prefix match that
    every engine answers from a plain B-tree index.
    """
    return prefix + "\U0010ffff"


def like_escape(term: str) -> str:
    """Escape ``%``, ``_`` and the escape char itself for ``LIKE … ESCAPE '\\'``."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --------------------------------------------------------------------------- words

#: The characters the word indexes read as spaces between words, besides white
#: space: ASCII punctuation and the punctuation of typed company names. SQLite's
#: FTS5 tokenizer ("unicode61", letters and digits only) splits on every one of
#: them anyway; PostgreSQL's ``translate`` turns them into spaces before its
#: text-search parser runs, so "s.r.l." or "rossi-impianti" are separate words
#: there too and not one host name or one hyphenated word. The migration that
#: creates the indexes (0004_search_words) keeps its own copy: this text is
#: part of the PostgreSQL index expression and must not change without a
#: migration that recreates the indexes.
WORD_SEPARATORS = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~‘’‚‛“”„‟«»‹›–—―‐‑‒…·•°€£¥©®™§¶¡¿"

#: Typed words are capped at this length (a longer one still matches as the
#: prefix of the word); the search reads at most this many typed words.
MAX_WORD_LENGTH = 60
MAX_WORDS = 8

#: The SQLite FTS5 tables (and their shadow tables, same prefix) and the
#: PostgreSQL GIN indexes that make words findable: not described by the
#: models, so a schema comparison must leave them out (see :func:`is_word_index`).
WORD_TABLES = ("accounts_words", "contacts_words")
WORD_INDEXES = ("ix_accounts_search_words", "ix_contacts_search_words")


def is_word_index(name: str | None) -> bool:
    """Whether ``name`` is one of the word-search objects the models do not describe
    (an FTS5 table, one of its shadow tables, or a GIN index): an ``include_name``
    filter for Alembic's schema comparison."""
    if not name:
        return False
    return name in WORD_INDEXES or any(
        name == table or name.startswith(table + "_") for table in WORD_TABLES
    )


def typed_text(text: str) -> str:
    """``text`` as typed into a search box, single-spaced, without the control
    characters and lone surrogates no stored key can contain (and no driver sends)."""
    kept = "".join(" " if ch < " " else ch for ch in text if not "\ud800" <= ch <= "\udfff")
    return " ".join(kept.split())


def split_words(text: str) -> list[str]:
    """The words of ``text`` as the word indexes hold them: folded runs of letters
    and digits ("Rossi-Impianti S.r.l." → rossi, impianti, s, r, l), at most
    :data:`MAX_WORDS`, each cut to :data:`MAX_WORD_LENGTH`."""
    found: list[str] = []
    word: list[str] = []
    for ch in fold(text) + " ":
        if ch.isalnum():
            word.append(ch)
        elif word:
            found.append("".join(word)[:MAX_WORD_LENGTH])
            word = []
            if len(found) == MAX_WORDS:
                break
    return found


def fts5_prefix_query(typed: list[str]) -> str:
    """An FTS5 query finding rows that have a word starting with each of ``typed``
    (all of them): ``"van"* "techn"*``. Each word is a quoted string, so nothing
    typed is FTS5 syntax (``*``, ``-``, ``:``, ``NEAR``, ``AND``/``OR``/``NOT``…)."""
    return " ".join('"' + word.replace('"', '""') + '"*' for word in typed)


def tsquery_prefix_query(typed: list[str]) -> str:
    """The PostgreSQL ``to_tsquery`` text of the same search: ``'van':* & 'techn':*``,
    each word a quoted lexeme (``'`` and ``\\`` escaped), so nothing typed is
    tsquery syntax (``&``, ``|``, ``!``, ``<->``, ``:*``…)."""
    quoted = (word.replace("\\", "\\\\").replace("'", "''") for word in typed)
    return " & ".join(f"'{word}':*" for word in quoted)
