"""Policy questions: counts answered and abstained on, the questions abstained on grouped into
knowledge gaps, and the phrasings staff mapped to existing facts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.statuses import GapStatus


class GapGroup(Base):
    """Questions the bot abstained on that read alike: one knowledge gap for staff to review.

    open → handled. A question like a handled group's starts a new open group pointing back at it
    (`previous_id`): the handled group stays the record of what was done, and the new group's
    count shows whether it worked."""

    __tablename__ = "gap_groups"
    __table_args__ = (
        Index("ix_gap_groups_recent", "status", "last_asked_at"),
        Index("ix_gap_groups_count", "status", "count"),
        Index("ix_gap_groups_normalized", "normalized", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    representative: Mapped[str] = mapped_column(Text)
    """The group's first question as asked, personal numbers masked."""
    normalized: Mapped[str] = mapped_column(String(200))
    """The representative normalised (simplified, half-width, no punctuation): what similarity compares."""
    status: Mapped[str] = mapped_column(String(16), default=GapStatus.OPEN)
    count: Mapped[int] = mapped_column(Integer, default=0)
    first_asked_at: Mapped[dt.datetime]
    last_asked_at: Mapped[dt.datetime]
    handled_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    handled_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("gap_groups.id"), nullable=True)
    """The handled group this one asks again."""


class UnansweredQuestion(Base):
    """One question the bot abstained on, personal numbers masked."""

    __tablename__ = "unanswered_questions"
    __table_args__ = (
        Index("ix_unanswered_group", "group_id", "id"),
        Index("ix_unanswered_asked", "asked_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("gap_groups.id"))
    channel: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(32), nullable=True)
    asked_at: Mapped[dt.datetime]


class QuestionVariant(Base):
    """A phrasing staff mapped to an existing knowledge-base fact; every server process reloads
    the active ones within a minute of a change."""

    __tablename__ = "question_variants"
    __table_args__ = (Index("ix_variants_active", "active", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    entry_id: Mapped[str] = mapped_column(String(128))
    """The fact's id in the knowledge base (gz145.fee-daily)."""
    group_id: Mapped[int | None] = mapped_column(ForeignKey("gap_groups.id"), nullable=True)
    """The knowledge gap it was added from, if any."""
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    """Changes on every edit, so that other processes notice (see storage.gaps.variants_version)."""
    deactivated_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AnswerStat(Base):
    """Policy questions answered and abstained on, per Beijing day and channel, for the dashboard.

    One upsert per question. The count is spread over `slot`s (a hash of the user) because on
    PostgreSQL an upserted row stays locked until the message's transaction commits: with one row
    per day and channel, every conversation's questions would wait for each other."""

    __tablename__ = "answer_stats"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    abstained: Mapped[int] = mapped_column(Integer, default=0)
