"""published notices: drafts under review in the console and immutable published versions

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# A published version is what the bot cited: its content may never change and the row may never go.
# The repository only inserts and sets the superseded/withdrawn columns; the database refuses the rest.
_CONTENT = "doc_no, version, title, regions, data, draft_id, published_by, published_at, supersedes_id"
_PG_TRIGGERS = (
    """
    CREATE FUNCTION published_notices_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'published_notices: a published version cannot be changed or deleted (% refused)', TG_OP;
    END
    $$
    """,
    f"CREATE TRIGGER published_notices_no_change BEFORE UPDATE OF {_CONTENT} ON published_notices "
    "FOR EACH ROW EXECUTE FUNCTION published_notices_immutable()",
    "CREATE TRIGGER published_notices_no_delete BEFORE DELETE ON published_notices "
    "FOR EACH ROW EXECUTE FUNCTION published_notices_immutable()",
)
_SQLITE_TRIGGERS = (
    f"CREATE TRIGGER published_notices_no_change BEFORE UPDATE OF {_CONTENT} ON published_notices "
    "BEGIN SELECT RAISE(ABORT, 'published_notices: a published version cannot be changed'); END",
    "CREATE TRIGGER published_notices_no_delete BEFORE DELETE ON published_notices "
    "BEGIN SELECT RAISE(ABORT, 'published_notices: a published version cannot be deleted'); END",
)


def upgrade() -> None:
    op.create_table(
        "notice_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("doc_no", sa.String(length=64), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("source_name", sa.String(length=255), nullable=False),
        sa.Column("source_text", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("decisions", sa.JSON(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("base_doc_no", sa.String(length=64), nullable=True),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("notice_drafts", schema=None) as batch_op:
        batch_op.create_index("ix_notice_drafts_status", ["status", "id"], unique=False)

    op.create_table(
        "published_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("doc_no", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=True),
        sa.Column("published_by", sa.String(length=64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by", sa.String(length=64), nullable=True),
        sa.Column("withdrawn_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["draft_id"], ["notice_drafts.id"]),
        sa.ForeignKeyConstraint(["supersedes_id"], ["published_notices.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("doc_no", "version", name="uq_published_notices_version"),
    )
    with op.batch_alter_table("published_notices", schema=None) as batch_op:
        batch_op.create_index("ix_published_notices_live", ["withdrawn_at", "superseded_at"], unique=False)

    is_pg = op.get_bind().dialect.name == "postgresql"
    for statement in _PG_TRIGGERS if is_pg else _SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS published_notices_no_delete ON published_notices")
        op.execute("DROP TRIGGER IF EXISTS published_notices_no_change ON published_notices")
        op.execute("DROP FUNCTION IF EXISTS published_notices_immutable()")
    else:
        op.execute("DROP TRIGGER IF EXISTS published_notices_no_delete")
        op.execute("DROP TRIGGER IF EXISTS published_notices_no_change")
    with op.batch_alter_table("published_notices", schema=None) as batch_op:
        batch_op.drop_index("ix_published_notices_live")
    op.drop_table("published_notices")
    with op.batch_alter_table("notice_drafts", schema=None) as batch_op:
        batch_op.drop_index("ix_notice_drafts_status")
    op.drop_table("notice_drafts")
