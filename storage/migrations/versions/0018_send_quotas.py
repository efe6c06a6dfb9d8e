"""outbox.priority and send_quotas: a channel's daily quota (WeChat's template and customer-service
messages) is spent on the most urgent messages first, and what was used each day is counted

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("priority", sa.SmallInteger(), nullable=False, server_default="1"))
    # The same classes as storage.outbox.policy.priority_of, for the rows queued before this migration.
    op.execute("UPDATE outbox SET priority = CASE kind WHEN 'reminder' THEN 1 WHEN 'broadcast' THEN 2 ELSE 0 END")
    op.create_index(
        "ix_outbox_urgency", "outbox", ["status", "channel", "priority", "event_day", "due_at", "id"], unique=False
    )
    op.create_table(
        "send_quotas",
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("route", sa.String(16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("exhausted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("channel", "route", "day"),
    )


def downgrade() -> None:
    op.drop_table("send_quotas")
    op.drop_index("ix_outbox_urgency", table_name="outbox")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("priority")
