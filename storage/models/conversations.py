"""Conversations: the state of each user's dialogue, its transcript, and the channel messages
already handled (so that a message delivered again is answered from the record)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class Conversation(Base):
    """One user on one channel: the form in progress and what the bot remembers, as JSON.

    `version` makes every save conditional on nobody else having saved in between."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "user_id", name="uq_conversations_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(128))
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class HandledMessage(Base):
    """A channel message the engine has handled, with the replies it got: a channel that delivers
    it again (WeChat retries after 5 s, up to three times) is answered from here, never run twice.
    Kept a day (`storage.handled_messages.RETAIN`); the unique key leads with what a lookup knows."""

    __tablename__ = "handled_messages"
    __table_args__ = (
        UniqueConstraint("channel", "message_id", "user_id", name="uq_handled_messages"),
        Index("ix_handled_messages_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    message_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(128))
    replies: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    at: Mapped[dt.datetime]


class TranscriptLine(Base):
    """The conversation as staff will read it, personal numbers masked."""

    __tablename__ = "transcript"
    __table_args__ = (Index("ix_transcript_user", "channel", "user_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(128))
    direction: Mapped[str] = mapped_column(String(3))  # "in" or "out"
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime]
    staff: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The staff member who wrote an outgoing line (a reply from the handoff page); None for the bot."""
