"""Conversation state (with the replies to the latest messages, for retries) and the transcript.

Statements are Core statements on the tables, built once: the engine runs them for every message,
and SQLAlchemy caches their compiled form only when they are built the same way each time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.masking import mask_text
from storage.models import Conversation, TranscriptLine, UTCDateTime

_conversations = Conversation.__table__
_transcript = TranscriptLine.__table__

_SELECT_FOR_UPDATE = (
    select(_conversations.c.id, _conversations.c.state, _conversations.c.version)
    .where(_conversations.c.channel == bindparam("channel"), _conversations.c.user_id == bindparam("user_id"))
    .with_for_update()
)
# ON CONFLICT … DO NOTHING reads the same on SQLite (3.24+) and PostgreSQL.
_CREATE = text(
    "INSERT INTO conversations (channel, user_id, state, version, created_at, updated_at) "
    "VALUES (:channel, :user_id, '{}', 0, :now, :now) ON CONFLICT (channel, user_id) DO NOTHING"
).bindparams(bindparam("now", type_=UTCDateTime()))
_SAVE = (
    update(_conversations)
    .where(_conversations.c.id == bindparam("cid"), _conversations.c.version == bindparam("expected"))
    .values(state=bindparam("new_state"), version=bindparam("new_version"), updated_at=bindparam("now"))
)
_APPEND = _transcript.insert()


class StaleState(Exception):
    """Someone saved the conversation after we read it; the message must be handled again."""


@dataclass
class ConversationRow:
    id: int
    state: dict[str, Any]
    version: int


async def load_conversation(session: AsyncSession, *, channel: str, user_id: str, now: dt.datetime) -> ConversationRow:
    """The user's conversation, created on first contact, locked until the transaction ends
    (PostgreSQL row lock; SQLite holds its write lock from BEGIN IMMEDIATE)."""
    params = {"channel": channel, "user_id": user_id}
    row = (await session.execute(_SELECT_FOR_UPDATE, params)).first()
    if row is None:
        await session.execute(_CREATE, {**params, "now": now})
        row = (await session.execute(_SELECT_FOR_UPDATE, params)).one()
    return ConversationRow(row.id, dict(row.state or {}), row.version)


async def save_conversation(
    session: AsyncSession, conversation: ConversationRow, state: dict[str, Any], now: dt.datetime
) -> None:
    """Saves only if nobody saved since we read (`version`); otherwise raises StaleState."""
    result = await session.execute(
        _SAVE,
        {
            "cid": conversation.id,
            "expected": conversation.version,
            "new_state": state,
            "new_version": conversation.version + 1,
            "now": now,
        },
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleState(f"conversation {conversation.id} changed concurrently")


async def append_transcript(
    session: AsyncSession, *, channel: str, user_id: str, lines: list[tuple[str, str]], now: dt.datetime
) -> None:
    """Appends (direction, text) lines, masking ID and phone numbers first."""
    if not lines:
        return
    await session.execute(
        _APPEND,
        [{"channel": channel, "user_id": user_id, "direction": d, "text": mask_text(t), "at": now} for d, t in lines],
    )


async def append_staff_line(
    session: AsyncSession, *, channel: str, user_id: str, text: str, staff: str, now: dt.datetime
) -> None:
    """Appends an outgoing line a member of staff wrote (a handoff reply), masked like the others."""
    await session.execute(
        _APPEND,
        {
            "channel": channel,
            "user_id": user_id,
            "direction": "out",
            "text": mask_text(text),
            "at": now,
            "staff": staff,
        },
    )


async def last_seen(session: AsyncSession, *, channel: str, user_id: str) -> dt.datetime | None:
    """When the user last wrote to us: the conversation's last save (WeChat's 48-hour window)."""
    stmt = select(_conversations.c.updated_at).where(
        _conversations.c.channel == channel, _conversations.c.user_id == user_id
    )
    value: dt.datetime | None = (await session.execute(stmt)).scalar()
    return value


async def transcript(session: AsyncSession, *, channel: str, user_id: str, limit: int = 50) -> list[TranscriptLine]:
    stmt = (
        select(TranscriptLine)
        .where(TranscriptLine.channel == channel, TranscriptLine.user_id == user_id)
        .order_by(TranscriptLine.id.desc())
        .limit(limit)
    )
    return list(reversed((await session.execute(stmt)).scalars().all()))
