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
