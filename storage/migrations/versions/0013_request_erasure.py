"""withdrawal_requests.erased_at and kept_code: a finished request's personal data erased after the
retention period, its declaration's verification code kept

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("withdrawal_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("kept_code", sa.String(20), nullable=True))
    op.create_index("ix_requests_erasable", "withdrawal_requests", ["erased_at", "status", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_requests_erasable", table_name="withdrawal_requests")
    with op.batch_alter_table("withdrawal_requests", schema=None) as batch_op:
        batch_op.drop_column("kept_code")
        batch_op.drop_column("erased_at")
