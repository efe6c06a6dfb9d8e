"""Channel message ids already handled, with the replies they got, so that a message delivered
again is answered from the record instead of being run twice.

Looked up and recorded inside the transaction that holds the conversation's lock, so that a retry
arriving while its original is being handled waits, then finds the record. Kept a day: WeChat
retries within 15 seconds, Telegram re-delivers an update until it is acknowledged."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import HandledMessage

RETAIN = dt.timedelta(days=1)

_handled = cast(Table, HandledMessage.__table__)
MessageKey = tuple[str, str, str]
"""(channel, user_id, message_id)"""

_FIND = select(_handled.c.user_id, _handled.c.message_id, _handled.c.replies).where(
    _handled.c.channel == bindparam("channel"), _handled.c.message_id.in_(bindparam("message_ids", expanding=True))
)
_RECORD = _handled.insert()
_PRUNE = delete(_handled).where(_handled.c.at < bindparam("before"))


async def find_handled(session: AsyncSession, keys: list[MessageKey]) -> dict[MessageKey, list[dict[str, Any]]]:
    """The recorded replies of those of `keys` already handled: one SELECT per channel."""
    wanted = set(keys)
    by_channel: dict[str, list[str]] = {}
    for channel, _user_id, message_id in wanted:
        by_channel.setdefault(channel, []).append(message_id)
    found: dict[MessageKey, list[dict[str, Any]]] = {}
    for channel, message_ids in by_channel.items():
        rows = await session.execute(_FIND, {"channel": channel, "message_ids": sorted(set(message_ids))})
        for user_id, message_id, replies in rows:
            if (channel, user_id, message_id) in wanted:
                found[(channel, user_id, message_id)] = replies
    return found


async def record_handled(
    session: AsyncSession, handled: dict[MessageKey, list[dict[str, Any]]], now: dt.datetime
) -> None:
    if handled:
        await session.execute(
            _RECORD,
            [
                {"channel": c, "user_id": u, "message_id": m, "replies": replies, "at": now}
                for (c, u, m), replies in handled.items()
            ],
        )


async def prune_handled(session: AsyncSession, now: dt.datetime) -> int:
    """Forgets messages handled more than RETAIN ago; returns how many."""
    result = await session.execute(_PRUNE, {"before": now - RETAIN})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
