"""Reminder subscriptions and whether a user can be reached at all."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from storage.models import OutboxMessage, Recipient, Subscription
from storage.statuses import OutboxStatus


@dataclass(frozen=True)
class NewSubscription:
    channel: str
    user_id: str
    region: str
    occupation: str | None = None
    exam_kind: str | None = None
    exam_date: dt.date | None = None
    request_id: int | None = None


async def subscribe(session: AsyncSession, new: NewSubscription, *, now: dt.datetime) -> tuple[Subscription, bool]:
    """The user's active subscription with the same terms, or a new one; the flag says if created.
    Subscribing again also makes the user reachable again (they wrote to us, so they are)."""
    same = select(Subscription).where(
        Subscription.channel == new.channel,
        Subscription.user_id == new.user_id,
        Subscription.active.is_(True),
        Subscription.region == new.region,
        _equal(Subscription.occupation, new.occupation),
        _equal(Subscription.exam_kind, new.exam_kind),
        _equal(Subscription.exam_date, new.exam_date),
        _equal(Subscription.request_id, new.request_id),
    )
    existing = (await session.execute(same)).scalars().first()
    await set_reachable(session, channel=new.channel, user_id=new.user_id, reachable=True, now=now)
    if existing is not None:
        return existing, False
    subscription = Subscription(
        channel=new.channel,
        user_id=new.user_id,
        region=new.region,
        occupation=new.occupation,
        exam_kind=new.exam_kind,
        exam_date=new.exam_date,
        request_id=new.request_id,
        active=True,
        created_at=now,
    )
    session.add(subscription)
    await session.flush()
    return subscription, True


def _equal(column: InstrumentedAttribute[Any], value: object) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value


async def subscriptions_of_user(session: AsyncSession, *, channel: str, user_id: str) -> list[Subscription]:
    stmt = (
        select(Subscription)
        .where(Subscription.channel == channel, Subscription.user_id == user_id, Subscription.active.is_(True))
        .order_by(Subscription.id)
    )
    return list((await session.execute(stmt)).scalars())


async def cancel_subscriptions(
    session: AsyncSession, *, channel: str, user_id: str, now: dt.datetime, ids: list[int] | None = None
) -> int:
    """Cancels the user's subscriptions (all, or those in `ids`) and their unsent reminders."""
    where = [Subscription.channel == channel, Subscription.user_id == user_id, Subscription.active.is_(True)]
    if ids is not None:
        where.append(Subscription.id.in_(ids))
    cancelled = list((await session.execute(select(Subscription.id).where(*where))).scalars())
    if not cancelled:
        return 0
    await session.execute(
        update(Subscription).where(Subscription.id.in_(cancelled)).values(active=False, cancelled_at=now)
    )
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.subscription_id.in_(cancelled), OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.CANCELLED, last_error="退订")
    )
    return len(cancelled)


async def set_reachable(
    session: AsyncSession, *, channel: str, user_id: str, reachable: bool, now: dt.datetime, reason: str | None = None
) -> None:
    """Records whether proactive messages can reach the user (WeChat unsubscribe, Telegram blocked).
    An unreachable user's pending messages are cancelled: they would only fail."""
    recipient = await session.get(Recipient, (channel, user_id), with_for_update=True)
    if recipient is None:
        if reachable:
            return  # no row means reachable
        recipient = Recipient(channel=channel, user_id=user_id, sent_today=0)
        session.add(recipient)
    elif recipient.reachable == reachable:
        return
    recipient.reachable = reachable
    recipient.unreachable_reason = None if reachable else reason
    recipient.changed_at = now
    if not reachable:
        await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.channel == channel,
                OutboxMessage.user_id == user_id,
                OutboxMessage.status == OutboxStatus.PENDING,
            )
            .values(status=OutboxStatus.CANCELLED, last_error=reason or "unreachable")
        )


async def is_reachable(session: AsyncSession, *, channel: str, user_id: str) -> bool:
    value = (
        await session.execute(
            select(Recipient.reachable).where(Recipient.channel == channel, Recipient.user_id == user_id)
        )
    ).scalar()
    return value is None or bool(value)


async def active_subscriptions(session: AsyncSession, *, after_id: int = 0, limit: int = 1000) -> list[Subscription]:
    """Up to `limit` active subscriptions of reachable users with ids above `after_id`, by id: callers
    walk the table batch by batch, never holding all of it in memory."""
    recipient = and_(Recipient.channel == Subscription.channel, Recipient.user_id == Subscription.user_id)
    stmt = (
        select(Subscription)
        .outerjoin(Recipient, recipient)
        .where(
            Subscription.active.is_(True),
            Subscription.id > after_id,
            or_(Recipient.reachable.is_(None), Recipient.reachable.is_(True)),
        )
        .order_by(Subscription.id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())
