"""knowledge gaps: questions the bot abstained on, their groups, staff question variants

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gap_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("representative", sa.Text(), nullable=False),
        sa.Column("normalized", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_by", sa.String(length=64), nullable=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("previous_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["previous_id"], ["gap_groups.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("gap_groups", schema=None) as batch_op:
        batch_op.create_index("ix_gap_groups_recent", ["status", "last_asked_at"], unique=False)
        batch_op.create_index("ix_gap_groups_count", ["status", "count"], unique=False)
        batch_op.create_index("ix_gap_groups_normalized", ["normalized", "status"], unique=False)

    op.create_table(
        "unanswered_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("normalized", sa.String(length=200), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["gap_groups.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("unanswered_questions", schema=None) as batch_op:
        batch_op.create_index("ix_unanswered_group", ["group_id", "id"], unique=False)
        batch_op.create_index("ix_unanswered_asked", ["asked_at"], unique=False)

    op.create_table(
        "question_variants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("entry_id", sa.String(length=128), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deactivated_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["group_id"], ["gap_groups.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("question_variants", schema=None) as batch_op:
        batch_op.create_index("ix_variants_active", ["active", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("question_variants", schema=None) as batch_op:
        batch_op.drop_index("ix_variants_active")
    op.drop_table("question_variants")
    with op.batch_alter_table("unanswered_questions", schema=None) as batch_op:
        batch_op.drop_index("ix_unanswered_asked")
        batch_op.drop_index("ix_unanswered_group")
    op.drop_table("unanswered_questions")
    with op.batch_alter_table("gap_groups", schema=None) as batch_op:
        batch_op.drop_index("ix_gap_groups_normalized")
        batch_op.drop_index("ix_gap_groups_count")
        batch_op.drop_index("ix_gap_groups_recent")
    op.drop_table("gap_groups")
