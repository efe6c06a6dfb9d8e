"""Handoffs to a human (转人工)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.statuses import HandoffStatus


class Handoff(Base):
    """A candidate asked for a human (转人工): pending → open (a member of staff looked) → resolved."""

    __tablename__ = "handoffs"
    __table_args__ = (Index("ix_handoffs_status", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default=HandoffStatus.PENDING)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    region: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """The candidate's region as far as known when they asked (migration 0007); None: not known,
    and every member of staff sees the handoff."""
    assigned_to: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The staff account name handling it."""
    opened_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The staff account that resolved it, or `storage.handoffs.CANDIDATE` when the candidate left."""
    unread_after: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The candidate has written since staff last looked (migration 0011): their transcript lines
    after this transcript line id are unread. None: nothing unread. The messages themselves are the
    transcript's; this is only the marker."""
