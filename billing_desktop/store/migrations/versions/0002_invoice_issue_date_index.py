"""index invoices by issue date

The invoices list (sorted or filtered by date over all accounts) and the
dashboard's revenue per month read invoices by issue date.

Revision ID: 0002_invoice_issue_date
Revises: 0001_initial
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0002_invoice_issue_date"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_invoices_issue_date", "invoices", ["issue_date"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_invoices_issue_date", table_name="invoices")
