"""withdrawal_requests.doc_no up to 200 characters: a notice without a document number is cited by
its issuer, title and date

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("withdrawal_requests", schema=None) as batch_op:
        batch_op.alter_column("doc_no", type_=sa.String(200), existing_type=sa.String(64), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("withdrawal_requests", schema=None) as batch_op:
        batch_op.alter_column("doc_no", type_=sa.String(64), existing_type=sa.String(200), existing_nullable=False)
