"""Conversation state, processed-message records and the transcript."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.masking import mask_text
from storage.models import Conversation, ProcessedMessage, TranscriptLine


class StaleState(Exception):
    """Someone saved the conversation after we read it; the message must be handled again."""


def _insert_ignore(session: AsyncSession, model: type, index: list[str]) -> Any:
    dialect = session.bind.dialect.name  # type: ignore[union-attr]
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(model).on_conflict_do_nothing(index_elements=index)


async def claim_message(
    session: AsyncSession, *, channel: str, message_id: str, user_id: str, now: dt.datetime
) -> bool:
    """Records that a message is being handled; False when it already was (a retry).

    On PostgreSQL a concurrent claim of the same id waits for the first to commit or roll back."""
    stmt = (
        _insert_ignore(session, ProcessedMessage, ["channel", "message_id"])
        .values(channel=channel, message_id=message_id, user_id=user_id, created_at=now)
        .returning(ProcessedMessage.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def stored_replies(session: AsyncSession, *, channel: str, message_id: str) -> list[dict[str, Any]] | None:
    stmt = select(ProcessedMessage.replies).where(
        ProcessedMessage.channel == channel, ProcessedMessage.message_id == message_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def record_replies(
    session: AsyncSession, *, channel: str, message_id: str, replies: list[dict[str, Any]]
) -> None:
    await session.execute(
        update(ProcessedMessage)
        .where(ProcessedMessage.channel == channel, ProcessedMessage.message_id == message_id)
        .values(replies=replies)
    )


async def load_conversation(session: AsyncSession, *, channel: str, user_id: str, now: dt.datetime) -> Conversation:
    """The user's conversation row, created on first contact and locked for this transaction."""
    await session.execute(
        _insert_ignore(session, Conversation, ["channel", "user_id"]).values(
            channel=channel, user_id=user_id, state={}, version=0, created_at=now, updated_at=now
        )
    )
    stmt = (
        select(Conversation)
        .where(Conversation.channel == channel, Conversation.user_id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one()


async def save_conversation(
    session: AsyncSession, conversation: Conversation, state: dict[str, Any], now: dt.datetime
) -> None:
    """Saves only if nobody saved since we read (`version`); otherwise raises StaleState."""
    result = await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation.id, Conversation.version == conversation.version)
        .values(state=state, version=conversation.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
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
        insert(TranscriptLine),
        [{"channel": channel, "user_id": user_id, "direction": d, "text": mask_text(t), "at": now} for d, t in lines],
    )


async def transcript(session: AsyncSession, *, channel: str, user_id: str, limit: int = 50) -> list[TranscriptLine]:
    stmt = (
        select(TranscriptLine)
        .where(TranscriptLine.channel == channel, TranscriptLine.user_id == user_id)
        .order_by(TranscriptLine.id.desc())
        .limit(limit)
    )
    return list(reversed((await session.execute(stmt)).scalars().all()))
