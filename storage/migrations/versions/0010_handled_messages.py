"""handled_messages: channel message ids already handled, with their replies, for retries

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handled_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("message_id", sa.String(128), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("replies", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("channel", "message_id", "user_id", name="uq_handled_messages"),
    )
    op.create_index("ix_handled_messages_at", "handled_messages", ["at"])


def downgrade() -> None:
    op.drop_index("ix_handled_messages_at", table_name="handled_messages")
    op.drop_table("handled_messages")
