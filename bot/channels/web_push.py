"""Proactive messages for web-page visitors: nobody can be called, so a message waits in the inbox table until
the visitor's page asks for news (`GET /api/inbox`)."""

from __future__ import annotations

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

    async def send(
        self, user_id: str, message: Outbound, *, last_seen: dt.datetime | None, now: dt.datetime
    ) -> Delivery:
        try:
            async with self.db.transaction() as session:
                session.add(InboxMessage(channel=CHANNEL, user_id=user_id, text=message.text, created_at=now))
        except SQLAlchemyError as exc:
            log.warning("web inbox insert failed: %s", type(exc).__name__)
            return Delivery("retry", error=type(exc).__name__)
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
