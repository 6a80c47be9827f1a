"""The invoices list over all accounts (SPEC §4): pages, counts and rows by id.

Reads only, through the database's read-only reader and the plain SQL of
:mod:`billing_desktop.store.invoice_queries`; nothing here imports SQLAlchemy,
so the Invoices view opens without loading the write path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from billing_desktop.services.context import AppContext
from billing_desktop.store import invoice_queries
from billing_desktop.store.invoice_queries import InvoiceFilter, InvoiceListRow, InvoiceSort

__all__ = ["count_invoices", "invoice_page", "invoices_by_id"]


def invoice_page(
    ctx: AppContext,
    flt: InvoiceFilter,
    sort: InvoiceSort,
    descending: bool,
    *,
    after: Sequence[Any] | None = None,
    limit: int = 200,
) -> list[InvoiceListRow]:
    """A page of invoices matching ``flt``; pass the last row's ``sort_key`` to continue."""
    return invoice_queries.invoice_page(
        ctx.db.reader, flt, sort, descending, ctx.clock.today(), after=after, limit=limit
    )


def count_invoices(ctx: AppContext, flt: InvoiceFilter) -> int:
    """How many invoices match ``flt``."""
    return invoice_queries.invoice_count(ctx.db.reader, flt, ctx.clock.today())


def invoices_by_id(ctx: AppContext, ids: Sequence[int]) -> list[InvoiceListRow]:
    """The rows of these invoices, in this order (a page scrolled back into view)."""
    return invoice_queries.invoice_rows(ctx.db.reader, list(ids), ctx.clock.today())
