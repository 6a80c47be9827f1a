"""The quick search (Ctrl+K), answered by SQL indexes (SPEC §4): account ids,
company and contact names (prefixes, then words), emails and invoice numbers.

Plain SQL through :class:`~billing_desktop.store.database.Reader`, like the
accounts list (:mod:`billing_desktop.store.queries`); apart from it so the
list's first paint does not load the search.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from billing_desktop.store.database import Reader
from billing_desktop.store.search import (
    WORD_SEPARATORS,
    fold,
    fts5_prefix_query,
    like_escape,
    prefix_upper_bound,
    split_words,
    tsquery_prefix_query,
    typed_text,
)


class SearchMatch(StrEnum):
    """What a quick-search hit matched on."""

    ACCOUNT_ID = "account_id"
    COMPANY = "company"
    CONTACT_NAME = "contact_name"
    CONTACT_EMAIL = "contact_email"
    INVOICE_NUMBER = "invoice_number"


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One account found by the quick search, with the best thing it matched on."""

    account_id: int
    account_number: str
    company_name: str
    matched: SearchMatch
    #: the text that matched: the account ID, company, contact name or email, invoice number
    matched_text: str
    #: lower is better: exact IDs and invoice numbers first (see ``quick_search_sql``)
    rank: int


#: Ranks of the kinds of hits; an exact account ID or invoice number comes first.
RANK_EXACT_ACCOUNT = 0
RANK_EXACT_INVOICE = 1
RANK_EXACT_EMAIL = 2
RANK_ACCOUNT_PREFIX = 3
RANK_INVOICE_PREFIX = 4
RANK_COMPANY_PREFIX = 5
RANK_CONTACT_NAME = 6
RANK_EMAIL_PREFIX = 7
#: A word inside a company or contact name ("techniek" in "Van Dijk Techniek B.V.").
RANK_COMPANY_WORD = 8
RANK_CONTACT_WORD = 9

#: Words of a person's name the search tries to split into first and last names.
_MAX_NAME_WORDS = 4
#: Shortest last-name part worth a range scan of its own ("de v" yes, "v" no).
_MIN_LAST_NAME_PART = 2
_CONTACT_NAME = "first_name || ' ' || last_name"
#: The word arms run when one typed word has at least this many letters: shorter
#: words alone find a good part of all names and are left to the prefix arms.
MIN_WORD_LETTERS = 3

SQLITE = "sqlite"
POSTGRESQL = "postgresql"


def dialect_of(reader: Reader) -> str:
    """Which engine ``reader`` runs on: :data:`SQLITE` or :data:`POSTGRESQL`."""
    database = getattr(reader, "_database", None)
    target = getattr(database, "target", None)
    return SQLITE if getattr(target, "is_sqlite", True) else POSTGRESQL


def _words_tsvector(alias: str) -> str:
    """The indexed expression of PostgreSQL's word indexes (migration 0004_search_words),
    character for character, so the planner uses the GIN index."""
    quoted = WORD_SEPARATORS.replace("'", "''")
    spaces = " " * len(WORD_SEPARATORS)
    return f"to_tsvector('simple', translate({alias}.search_name, '{quoted}', '{spaces}'))"


def _word_arms(typed: list[str], dialect: str, params: dict[str, Any]) -> list[str]:
    """Company and contact names with a word starting with each typed word, from
    the word indexes: SQLite's FTS5 tables, PostgreSQL's GIN indexes."""
    if not typed or max(map(len, typed)) < MIN_WORD_LETTERS:
        return []
    # (column names: the word arms may be the only ones, see ``quick_search_sql``)
    company = (
        "SELECT a.id AS account_id, 'company' AS matched, a.company_name AS matched_text, "
        f"{RANK_COMPANY_WORD} AS rank"
    )
    contact = (
        "SELECT c.account_id AS account_id, 'contact_name' AS matched, "
        f"c.first_name || ' ' || c.last_name AS matched_text, {RANK_CONTACT_WORD} AS rank"
    )
    if dialect == SQLITE:
        params["words"] = fts5_prefix_query(typed)
        return [
            f"{company} FROM accounts_words CROSS JOIN accounts a ON a.id = accounts_words.rowid "
            "WHERE accounts_words MATCH :words LIMIT :limit",
            f"{contact} FROM contacts_words CROSS JOIN contacts c ON c.id = contacts_words.rowid "
            "WHERE contacts_words MATCH :words LIMIT :limit",
        ]
    # A GIN index reads every word starting with a one- or two-letter prefix: only
    # the longer words search the index, the short ones filter what it found
    # (``ts_match_vq`` is ``@@`` that no index answers).
    long = [word for word in typed if len(word) >= MIN_WORD_LETTERS]
    params["words"] = tsquery_prefix_query(long)
    if len(long) < len(typed):
        params["all_words"] = tsquery_prefix_query(typed)

    def arm(select: str, table: str, alias: str) -> str:
        vector = _words_tsvector(alias)
        condition = f"{vector} @@ to_tsquery('simple', :words)"
        if len(long) < len(typed):
            condition += f" AND ts_match_vq({vector}, to_tsquery('simple', :all_words))"
        # The CTE is planned for all its rows, so through the GIN index (a plan for
        # the first few rows could scan the whole table, computing each row's words,
        # when fewer rows match than estimated), and run only as far as the LIMIT
        # reads it. ``pg_backend_pid()`` is always positive and "parallel
        # restricted": no parallel workers are started for a keystroke.
        return (
            f"WITH found AS MATERIALIZED ({select} FROM {table} {alias} "
            f"WHERE {condition} AND pg_backend_pid() > 0) SELECT * FROM found LIMIT :limit"
        )

    return [arm(company, "accounts", "a"), arm(contact, "contacts", "c")]


def _range(prefix: str) -> tuple[str, str]:
    return prefix, prefix_upper_bound(prefix)


#: Which arms :func:`quick_search_sql` unites: all, or the prefix arms or the word arms.
ALL_ARMS = "all"
PREFIX_ARMS = "prefixes"
WORD_ARMS = "words"


def quick_search_sql(
    text: str, limit: int = 20, dialect: str = SQLITE, arms: str = ALL_ARMS
) -> tuple[str, dict[str, Any]] | None:
    """The SQL of the quick search for ``text``; None when there is nothing to look for.

    Every arm is a range scan on an index, limited to ``limit`` rows
    (``col >= prefix AND col < prefix_upper_bound(prefix)``, which every engine
    answers from a B-tree, unlike a case-insensitive ``LIKE``):

    - account number prefix (unique index); digits alone are read as ``A-<digits>``;
    - company name prefix on the folded ``accounts.search_name``;
    - contact email prefix on ``contacts.email_lower``;
    - contact name on ``contacts.search_name`` ("last first", folded): "de vries"
      and "sanne de v" both find Sanne de Vries — each way of splitting the
      typed words into first and last name is a range scan on the last name
      part, filtered by the first name;
    - invoice number prefix (unique index);
    - words anywhere in company and contact names ("techniek" finds "Van der
      Berg Techniek B.V.", "vries sanne" finds Sanne de Vries): every typed word
      must start a word of the name, answered by the word indexes of
      ``dialect`` (SQLite: FTS5 ``MATCH``, PostgreSQL: a GIN index and ``@@``);
      only when a typed word has :data:`MIN_WORD_LETTERS` letters or more,
      ranked after every prefix match; each arm stops at the first ``limit``
      rows the index yields (not the first by name: sorting every match of a
      common word would cost more than the rest of the search).

    The arms are united, each account keeps its best hit (window function) and
    the result is ordered by rank, then the matched text. Nothing typed is SQL,
    ``LIKE`` or full-text syntax: every value is a parameter, quoted within it.

    ``arms`` (:data:`PREFIX_ARMS`, :data:`WORD_ARMS`) leaves out the other
    kind: :func:`quick_search` asks for the words only when the prefixes found
    fewer than ``limit`` accounts.
    """
    term = typed_text(text)
    if not term:
        return None
    params: dict[str, Any] = {"limit": limit}
    if arms == WORD_ARMS:
        found = _word_arms(split_words(term), dialect, params)
        return _best_hits(found, params) if found else None
    folded = fold(term)
    upper = term.upper()
    id_prefix = f"A-{term}" if term.isdigit() else upper
    params["id_lo"], params["id_hi"] = _range(id_prefix)
    params["inv_lo"], params["inv_hi"] = _range(upper)
    params["email_lo"], params["email_hi"] = _range(term.lower())
    params["exact_id"] = id_prefix
    params["exact_inv"] = upper
    params["exact_email"] = term.lower()
    params["name_lo"], params["name_hi"] = _range(folded)
    exact, prefix = RANK_EXACT_ACCOUNT, RANK_ACCOUNT_PREFIX
    selects = [
        # account ID
        "SELECT id AS account_id, 'account_id' AS matched, account_number AS matched_text, "
        f"CASE WHEN account_number = :exact_id THEN {exact} ELSE {prefix} END AS rank "
        "FROM accounts WHERE account_number >= :id_lo AND account_number < :id_hi "
        "ORDER BY account_number LIMIT :limit",
        # company name
        f"SELECT id, 'company', company_name, {RANK_COMPANY_PREFIX} FROM accounts "
        "WHERE search_name >= :name_lo AND search_name < :name_hi "
        "ORDER BY search_name LIMIT :limit",
        # contact email
        "SELECT account_id, 'contact_email', email, "
        f"CASE WHEN email_lower = :exact_email THEN {RANK_EXACT_EMAIL} "
        f"ELSE {RANK_EMAIL_PREFIX} END "
        "FROM contacts WHERE email_lower >= :email_lo AND email_lower < :email_hi "
        "ORDER BY email_lower LIMIT :limit",
        # invoice number
        "SELECT account_id, 'invoice_number', number, "
        f"CASE WHEN number = :exact_inv THEN {RANK_EXACT_INVOICE} "
        f"ELSE {RANK_INVOICE_PREFIX} END "
        "FROM invoices WHERE number >= :inv_lo AND number < :inv_hi "
        "ORDER BY number LIMIT :limit",
        # contact name typed as "last …" (the stored order)
        f"SELECT account_id, 'contact_name', {_CONTACT_NAME}, {RANK_CONTACT_NAME} "
        "FROM contacts WHERE search_name >= :name_lo AND search_name < :name_hi "
        "ORDER BY search_name LIMIT :limit",
    ]
    words = folded.split(" ")
    if 1 < len(words) <= _MAX_NAME_WORDS:
        # "first … last …": the last name part is a prefix of the stored
        # "last first", and the first name part follows it after a space.
        for split in range(1, len(words)):
            first, last = " ".join(words[:split]), " ".join(words[split:])
            if len(last) < _MIN_LAST_NAME_PART:
                continue  # one letter would range over a whole letter of the alphabet
            lo, hi, pattern = f"split{split}_lo", f"split{split}_hi", f"split{split}_like"
            params[lo], params[hi] = _range(last)
            params[pattern] = like_escape(last) + "% " + like_escape(first) + "%"
            selects.append(
                f"SELECT account_id, 'contact_name', {_CONTACT_NAME}, {RANK_CONTACT_NAME} "
                f"FROM contacts WHERE search_name >= :{lo} AND search_name < :{hi} "
                f"AND search_name LIKE :{pattern} ESCAPE '\\' "
                "ORDER BY search_name LIMIT :limit"
            )
    if arms == ALL_ARMS:
        selects += _word_arms(split_words(term), dialect, params)
    return _best_hits(selects, params)


def _best_hits(arms: list[str], params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The arms united, each account once with its best hit, best first."""
    union = " UNION ALL ".join(f"SELECT * FROM ({arm}) AS arm{n}" for n, arm in enumerate(arms))
    sql = (
        "SELECT best.account_id, acc.account_number, acc.company_name, best.matched, "
        "best.matched_text, best.rank FROM ("
        "SELECT hits.*, ROW_NUMBER() OVER (PARTITION BY hits.account_id "
        "ORDER BY hits.rank, hits.matched_text) AS n "
        f"FROM ({union}) AS hits) AS best "
        "JOIN accounts acc ON acc.id = best.account_id "
        "WHERE best.n = 1 "
        "ORDER BY best.rank, best.matched_text, acc.account_number LIMIT :limit"
    )
    return sql, params


def quick_search(reader: Reader, text: str, limit: int = 20) -> list[SearchHit]:
    """Accounts matching ``text`` by account ID, company, contact or invoice number.

    The same hits as the one query of all arms (``quick_search_sql``), in two
    steps: word matches rank after every prefix match, so they are looked for
    only when the prefixes found fewer than ``limit`` accounts (most keystrokes
    of a short prefix find enough without them).
    """
    dialect = dialect_of(reader)
    hits = _hits(reader, quick_search_sql(text, limit, dialect, PREFIX_ARMS))
    if len(hits) < limit:
        found = {hit.account_id for hit in hits}
        more = _hits(reader, quick_search_sql(text, limit, dialect, WORD_ARMS))
        hits += [hit for hit in more if hit.account_id not in found][: limit - len(hits)]
    return hits


def _hits(reader: Reader, built: tuple[str, dict[str, Any]] | None) -> list[SearchHit]:
    if built is None:
        return []
    sql, params = built
    return [
        SearchHit(int(r[0]), str(r[1]), str(r[2]), SearchMatch(r[3]), str(r[4]), int(r[5]))
        for r in reader.rows(sql, params)
    ]
