"""Notices reviewed in the console: drafts, and the published versions the bot answers from."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class NoticeDraft(Base):
    """A notice being reviewed in the staff console: the text staff pasted or uploaded, the draft
    `kb draft` made of it (the knowledge-base mapping, as JSON, edited by the reviewer) and the
    reviewer's decision on each fact (`decisions`: fact id → accept / reject).

    draft → published (a version was made from it) → withdrawn (that version was withdrawn);
    or draft → discarded. `revision` goes up on every save, so that two reviewers editing the same
    draft cannot overwrite each other unawares."""

    __tablename__ = "notice_drafts"
    __table_args__ = (Index("ix_notice_drafts_status", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    doc_no: Mapped[str | None] = mapped_column(String(64), nullable=True)
    title: Mapped[str | None] = mapped_column(Text, nullable=True)
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    source_name: Mapped[str] = mapped_column(String(255))
    """The uploaded file's name, or 粘贴的文本."""
    source_text: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    decisions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    base_doc_no: Mapped[str | None] = mapped_column(String(64), nullable=True)
    base_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The published version 修改 started this draft from, if any."""
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime]


class NoticeVersion(Base):
    """One published version of a notice: the validated knowledge-base mapping the bot answers from.

    Immutable: a change is a new version of the same `doc_no`, which marks this one
    `superseded_at`; a withdrawal sets `withdrawn_*`. Database triggers (migration 0008) refuse any
    change to the content columns and any DELETE. Live: neither superseded nor withdrawn."""

    __tablename__ = "published_notices"
    __table_args__ = (
        UniqueConstraint("doc_no", "version", name="uq_published_notices_version"),
        Index("ix_published_notices_live", "withdrawn_at", "superseded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    doc_no: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("notice_drafts.id"), nullable=True)
    published_by: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[dt.datetime]
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("published_notices.id"), nullable=True)
    """The earlier version of the same notice that this one replaced."""
    superseded_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    withdrawn_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    withdrawn_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
