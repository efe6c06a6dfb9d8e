"""console pages: handoff assignment and region, staff lines in the transcript, broadcast form
tokens, daily answer and delivery counts

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("assigned_to", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("resolved_by", sa.String(length=64), nullable=True))
    # Earlier handoffs: the region of the candidate's latest request, where there is one (the
    # conversation state's region is JSON, which the two backends read differently).
    op.execute(
        "UPDATE handoffs SET region = (SELECT w.region FROM withdrawal_requests w "
        "WHERE w.channel = handoffs.channel AND w.user_id = handoffs.user_id ORDER BY w.id DESC LIMIT 1)"
    )

    with op.batch_alter_table("transcript", schema=None) as batch_op:
        batch_op.add_column(sa.Column("staff", sa.String(length=64), nullable=True))

    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token", sa.String(length=64), nullable=True))
        batch_op.create_index("ux_broadcasts_token", ["token"], unique=True)

    op.create_table(
        "answer_stats",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("abstained", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "channel", "slot"),
    )
    op.create_table(
        "delivery_stats",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "channel", "kind", "outcome"),
    )


def downgrade() -> None:
    op.drop_table("delivery_stats")
    op.drop_table("answer_stats")
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_index("ux_broadcasts_token")
        batch_op.drop_column("token")
    with op.batch_alter_table("transcript", schema=None) as batch_op:
        batch_op.drop_column("staff")
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        for column in ("resolved_by", "resolved_at", "opened_at", "assigned_to", "region"):
            batch_op.drop_column(column)
