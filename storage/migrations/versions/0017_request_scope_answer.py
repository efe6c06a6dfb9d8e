"""withdrawal_requests.scope_answer: what the candidate answered when asked whether their occupation is
within the notice's scope (是, or 不确定, which staff must verify)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("withdrawal_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scope_answer", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("withdrawal_requests", schema=None) as batch_op:
        batch_op.drop_column("scope_answer")
