"""Read-only questions about the queue: how many messages are in each state, when the next one is
due, a subscription's next reminder, how far a broadcast got."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation, OutboxMessage
from storage.statuses import OutboxStatus


async def last_seen(session: AsyncSession, users: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dt.datetime]:
    """When each (channel, user) last wrote to us (their conversation's last save): WeChat's 48-hour window."""
    out: dict[tuple[str, str], dt.datetime] = {}
    by_channel: dict[str, set[str]] = {}
    for channel, user in users:
        by_channel.setdefault(channel, set()).add(user)
    for channel, found in by_channel.items():
        ordered = sorted(found)
        for start in range(0, len(ordered), 500):
            stmt = select(Conversation.user_id, Conversation.updated_at).where(
                Conversation.channel == channel, Conversation.user_id.in_(ordered[start : start + 500])
            )
            for user_id, updated_at in (await session.execute(stmt)).all():
                out[(channel, user_id)] = updated_at
    return out


async def status_counts(session: AsyncSession) -> dict[tuple[str, str], int]:
    """(channel, status) → number of messages."""
    stmt = select(OutboxMessage.channel, OutboxMessage.status, func.count()).group_by(
        OutboxMessage.channel, OutboxMessage.status
    )
    return {(c, s): int(n) for c, s, n in (await session.execute(stmt)).all()}


async def next_due(session: AsyncSession) -> dt.datetime | None:
    stmt = select(func.min(OutboxMessage.next_attempt_at)).where(OutboxMessage.status == OutboxStatus.PENDING)
    return (await session.execute(stmt)).scalar()  # aware: min() keeps the column's UTC type


async def next_pending_for(session: AsyncSession, subscription_id: int) -> tuple[dt.datetime, str] | None:
    """The subscription's next unsent reminder: when, and what (title, date and source)."""
    stmt = (
        select(OutboxMessage.next_attempt_at, OutboxMessage.fields)
        .where(OutboxMessage.subscription_id == subscription_id, OutboxMessage.status == OutboxStatus.PENDING)
        .order_by(OutboxMessage.next_attempt_at)
        .limit(1)
    )
    row = (await session.execute(stmt)).first()
    if row is None:
        return None
    fields = row.fields or {}
    return row.next_attempt_at, f"{fields.get('title', '')}（{fields.get('date', '')}，{fields.get('source', '')}）"


async def broadcast_counts(session: AsyncSession, broadcast_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Broadcast id → outbox status → number of messages: a broadcast's progress."""
    if not broadcast_ids:
        return {}
    stmt = (
        select(OutboxMessage.broadcast_id, OutboxMessage.status, func.count())
        .where(OutboxMessage.broadcast_id.in_(list(broadcast_ids)))
        .group_by(OutboxMessage.broadcast_id, OutboxMessage.status)
    )
    out: dict[int, dict[str, int]] = {}
    for broadcast_id, status, n in (await session.execute(stmt)).all():
        out.setdefault(int(broadcast_id), {})[str(status)] = int(n)
    return out
