"""request review: indexes for the staff console's request list, filters and counts

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Name → columns. One index per list filter (the name index serves the search), each also holding the
# region (a reviewer's filters always include theirs), the status (the counts per status) and created_at
# (the order, newest first): a page of ids and its counts are read from one index without visiting the
# table. The unfiltered list's index holds the id as well, the order's tie-breaker, so that a deep page
# is skipped to in the index rather than sorted.
INDEXES: dict[str, list[str]] = {
    "ix_requests_created": ["created_at", "id", "region", "status"],
    "ix_requests_region": ["region", "status", "created_at"],
    "ix_requests_occupation": ["occupation", "region", "status", "created_at"],
    "ix_requests_institution": ["institution", "region", "status", "created_at"],
    "ix_requests_exam_date": ["exam_date", "region", "status", "created_at"],
    "ix_requests_name": ["name", "region", "status", "created_at"],
}


def upgrade() -> None:
    with op.batch_alter_table("withdrawal_requests", schema=None) as batch_op:
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("withdrawal_requests", schema=None) as batch_op:
        for name in reversed(INDEXES):
            batch_op.drop_index(name)
