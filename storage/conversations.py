"""Conversation state and the transcript (the replies kept for retries are in storage.handled_messages).

Statements are Core statements on the tables, built once: the engine runs them for every message,
and SQLAlchemy caches their compiled form only when they are built the same way each time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.masking import mask_text
from storage.models import Conversation, TranscriptLine, UTCDateTime

_conversations = cast(Table, Conversation.__table__)
_transcript = cast(Table, TranscriptLine.__table__)

# Ordered by id so that two PostgreSQL transactions locking overlapping sets of conversations take
# the row locks in the same order and cannot deadlock on them.
_SELECT_FOR_UPDATE = (
    select(_conversations.c.id, _conversations.c.user_id, _conversations.c.state, _conversations.c.version)
    .where(
        _conversations.c.channel == bindparam("channel"),
        _conversations.c.user_id.in_(bindparam("user_ids", expanding=True)),
    )
    .order_by(_conversations.c.id)
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
    handled: int = 0
    """Messages handled into `state` since it was read: the version moves on by as many."""


Key = tuple[str, str]
"""(channel, user_id)"""


async def load_conversations(session: AsyncSession, keys: list[Key], *, now: dt.datetime) -> dict[Key, ConversationRow]:
    """The users' conversations, created on first contact, locked until the transaction ends
    (PostgreSQL row locks; SQLite holds its write lock from BEGIN IMMEDIATE). One SELECT per
    channel, however many users: the engine handles messages in batches."""
    by_channel: dict[str, list[str]] = {}
    for channel, user_id in dict.fromkeys(keys):
        by_channel.setdefault(channel, []).append(user_id)
    out: dict[Key, ConversationRow] = {}
    for channel, user_ids in by_channel.items():
        found = await _select(session, channel, user_ids)
        missing = [u for u in user_ids if u not in found]
        if missing:
            await session.execute(_CREATE, [{"channel": channel, "user_id": u, "now": now} for u in missing])
            found.update(await _select(session, channel, missing))
        out.update(((channel, user_id), row) for user_id, row in found.items())
    return out


async def _select(session: AsyncSession, channel: str, user_ids: list[str]) -> dict[str, ConversationRow]:
    rows = await session.execute(_SELECT_FOR_UPDATE, {"channel": channel, "user_ids": user_ids})
    return {r.user_id: ConversationRow(r.id, dict(r.state or {}), r.version) for r in rows}


async def save_conversations(session: AsyncSession, saves: list[ConversationRow], now: dt.datetime) -> None:
    """Writes each row's `state`, only if nobody saved it since it was read (its `version`);
    otherwise raises StaleState. The rows are locked, so this is a guard, not the mechanism."""
    if not saves:
        return
    result = await session.execute(
        _SAVE,
        [
            {
                "cid": row.id,
                "expected": row.version,
                "new_state": row.state,
                "new_version": row.version + max(row.handled, 1),
                "now": now,
            }
            for row in saves
        ],
    )
    # Drivers that cannot count the rows of an executemany (asyncpg) report -1: the locks stand.
    counted = result.rowcount  # type: ignore[attr-defined]
    dialect = session.bind.dialect
    sane = dialect.supports_sane_rowcount if len(saves) == 1 else dialect.supports_sane_multi_rowcount
    if sane and counted not in (-1, len(saves)):
        raise StaleState(f"{len(saves) - counted} of {len(saves)} conversations changed concurrently")


def transcript_rows(
    *, channel: str, user_id: str, lines: list[tuple[str, str]], now: dt.datetime
) -> list[dict[str, Any]]:
    """(direction, text) lines as transcript rows, ID and phone numbers masked."""
    return [{"channel": channel, "user_id": user_id, "direction": d, "text": mask_text(t), "at": now} for d, t in lines]


async def append_transcript_rows(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(_APPEND, rows)


async def append_transcript(
    session: AsyncSession, *, channel: str, user_id: str, lines: list[tuple[str, str]], now: dt.datetime
) -> None:
    """Appends (direction, text) lines, masking ID and phone numbers first."""
    await append_transcript_rows(session, transcript_rows(channel=channel, user_id=user_id, lines=lines, now=now))


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


async def read_state(session: AsyncSession, *, channel: str, user_id: str) -> dict[str, Any] | None:
    """A conversation's stored state, read without locking it (to show, never to change); None before
    the user's first message."""
    stmt = select(_conversations.c.state).where(
        _conversations.c.channel == channel, _conversations.c.user_id == user_id
    )
    value = (await session.execute(stmt)).scalar()
    return dict(value) if value is not None else None
