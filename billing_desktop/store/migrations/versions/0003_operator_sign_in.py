"""operators sign in on a shared database

What the sign-in of team mode (issue 8) keeps per operator, next to the
existing ``password_hash`` and ``active``: consecutive failed sign-ins and
when the last one happened (the lockout after repeated failures), until when
sign-in is locked, and the last successful sign-in (shown to administrators).
Batch operations, so SQLite rebuilds the table and PostgreSQL alters it.

Revision ID: 0003_operator_sign_in
Revises: 0002_invoice_issue_date
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_operator_sign_in"
down_revision = "0002_invoice_issue_date"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failed_sign_ins", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("last_failed_sign_in_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("last_signed_in_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.drop_column("last_signed_in_at")
        batch_op.drop_column("locked_until")
        batch_op.drop_column("last_failed_sign_in_at")
        batch_op.drop_column("failed_sign_ins")
