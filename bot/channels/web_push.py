"""Proactive messages for web-page visitors: nobody can be called, so a message waits in the inbox table until
the visitor's page asks for news (`GET /api/inbox`)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from handlers.messages import Outbound
from storage.database import Database
from storage.models import InboxMessage
from storage.outbox import Delivery

log = logging.getLogger(__name__)

CHANNEL = "web"
INBOX_PAGE = 50


class WebPush:
    """Stores the message for the visitor; "sent" means stored, not yet read.

    A visitor cannot block the page, so nobody is ever unreachable; a database error is worth a retry."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._waiting: dict[str, set[asyncio.Event]] = {}
        """Pages of this process waiting for a visitor's next message (a long poll)."""

    def waiter(self, user_id: str) -> asyncio.Event:
        """An event set when a message for `user_id` is stored by this process; `done` it afterwards."""
        event = asyncio.Event()
        self._waiting.setdefault(user_id, set()).add(event)
        return event

    def done(self, user_id: str, event: asyncio.Event) -> None:
        waiting = self._waiting.get(user_id)
        if waiting is not None:
            waiting.discard(event)
            if not waiting:
                del self._waiting[user_id]

    def route(self, last_seen: dt.datetime | None, now: dt.datetime) -> None:
        """No daily quota on this channel."""
        return None

    async def send(
        self, user_id: str, message: Outbound, *, last_seen: dt.datetime | None, now: dt.datetime
    ) -> Delivery:
        try:
            async with self.db.transaction() as session:
                session.add(
                    InboxMessage(channel=CHANNEL, user_id=user_id, text=message.text, created_at=now, kind=message.kind)
                )
        except SQLAlchemyError as exc:
            log.warning("web inbox insert failed: %s", type(exc).__name__)
            return Delivery("retry", error=type(exc).__name__)
        for event in self._waiting.get(user_id, ()):
            event.set()
        return Delivery("sent", via="inbox")


async def inbox_after(db: Database, user_id: str, after: int, *, limit: int = INBOX_PAGE) -> list[InboxMessage]:
    """The visitor's messages with an id above `after`, oldest first: the page remembers the last id it showed."""
    query = (
        select(InboxMessage)
        .where(InboxMessage.channel == CHANNEL, InboxMessage.user_id == user_id, InboxMessage.id > after)
        .order_by(InboxMessage.id)
        .limit(limit)
    )
    async with db.sessions() as session:
        return list((await session.scalars(query)).all())


async def recent_inbox(db: Database, user_id: str, *, since: dt.datetime | None, limit: int = 20) -> list[InboxMessage]:
    """The visitor's last messages (oldest first) from `since` on, or the last few when there is no
    conversation to place them in: what a reloaded page shows again."""
    query = select(InboxMessage).where(InboxMessage.channel == CHANNEL, InboxMessage.user_id == user_id)
    if since is not None:
        query = query.where(InboxMessage.created_at >= since)
    async with db.sessions() as session:
        rows = list((await session.scalars(query.order_by(InboxMessage.id.desc()).limit(limit))).all())
    return list(reversed(rows))
