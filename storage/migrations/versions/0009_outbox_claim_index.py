"""outbox: an index for claiming, one ordered range per status and channel

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_claim", "outbox", ["status", "channel", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_claim", table_name="outbox")
