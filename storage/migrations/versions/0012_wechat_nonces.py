"""wechat_nonces: the (timestamp, nonce) of recent plaintext-mode WeChat requests, with a digest of
their bodies, so that a captured signed URL cannot carry another message

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wechat_nonces",
        sa.Column("key", sa.String(160), primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_wechat_nonces_at", "wechat_nonces", ["at"])


def downgrade() -> None:
    op.drop_index("ix_wechat_nonces_at", table_name="wechat_nonces")
    op.drop_table("wechat_nonces")
