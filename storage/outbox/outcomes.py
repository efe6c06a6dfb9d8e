"""What became of claimed messages: every attempt logged, sent ones marked, failed ones back in the
queue or failed for good, the day's delivery counts and the quotas settled. The claiming side is
storage.outbox.queue.

Core statements rather than ORM objects, as in the queue: the dispatcher records a thousand outcomes
a second."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Date, Table, bindparam, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DeliveryAttempt, DeliveryStat, OutboxMessage, Recipient
from storage.outbox.delivery import Delivery
from storage.outbox.policy import Rules, tries_again
from storage.outbox.queue import Claimed
from storage.outbox.quotas import add_used, mark_exhausted
from storage.statuses import DeliveryStatus, OutboxStatus
from storage.subscriptions import set_reachable

_outbox = cast(Table, OutboxMessage.__table__)
_recipients = cast(Table, Recipient.__table__)
_attempts = cast(Table, DeliveryAttempt.__table__)

Attempt = tuple[Claimed, Delivery]
"""One try at sending a claimed message, and what came of it."""


async def record(
    session: AsyncSession,
    attempts: Sequence[Attempt],
    *,
    worker: str,
    now: dt.datetime,
    rules: Rules,
    max_attempts: int = 8,
) -> None:
    """Writes what became of each claimed message, and every attempt."""
    await _log_attempts(session, attempts, worker=worker, now=now)
    day = rules.local(now).date()
    await _count_final(session, attempts, day=day, max_attempts=max_attempts)
    await _settle_quotas(session, attempts, rules=rules, day=day, now=now)
    await _mark_sent(session, [(m, d) for m, d in attempts if d.ok], now=now)
    for message, delivery in attempts:
        if not delivery.ok:
            await _release(session, message, delivery, now=now, rules=rules, max_attempts=max_attempts)


async def _settle_quotas(
    session: AsyncSession, attempts: Sequence[Attempt], *, rules: Rules, day: dt.date, now: dt.datetime
) -> None:
    """A unit reserved for a send that failed goes back to its quota; one sent another way than
    reserved (a customer-service message refused, sent as a template) moves to that way's quota.
    Counted on the day of recording: a send claimed before midnight and recorded after counts on the
    new day, one unit at most per message in flight."""
    changes: Counter[tuple[str, str]] = Counter()
    for message, delivery in attempts:
        limits = rules.quotas.get(message.channel, {})
        if message.route is not None and not (delivery.ok and delivery.via == message.route):
            changes[(message.channel, message.route)] -= 1
        if delivery.ok and delivery.via in limits and delivery.via != message.route:
            changes[(message.channel, delivery.via)] += 1
        if delivery.quota_exhausted and (delivery.via or message.route):
            await mark_exhausted(session, message.channel, delivery.via or message.route or "", day=day, at=now)
    await add_used(session, changes, day=day)


async def _log_attempts(session: AsyncSession, attempts: Sequence[Attempt], *, worker: str, now: dt.datetime) -> None:
    await session.execute(
        _attempts.insert(),
        [
            {
                "outbox_id": message.id,
                "at": now,
                "status": delivery.status,
                "via": delivery.via or None,
                "error": delivery.error,
                "worker": worker,
            }
            for message, delivery in attempts
        ],
    )


async def _mark_sent(session: AsyncSession, sent: Sequence[Attempt], *, now: dt.datetime) -> None:
    """One UPDATE per `via` (custom, template …) for the whole batch."""
    for via in {delivery.via for _, delivery in sent}:
        ids = [message.id for message, delivery in sent if delivery.via == via]
        await session.execute(_MARK_SENT, {"ids": ids, "now": now, "via": via})


# Built once, on the table rather than the mapped class: the ORM's bulk-update bookkeeping and the
# statement's construction cost more than the UPDATE itself, once per batch of outcomes.
_MARK_SENT = (
    update(_outbox)
    .where(_outbox.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        status=OutboxStatus.SENT,
        sent_at=bindparam("now"),
        via=bindparam("via"),
        claimed_by=None,
        claimed_until=None,
        last_error=None,
    )
)


async def _release(
    session: AsyncSession, message: Claimed, delivery: Delivery, *, now: dt.datetime, rules: Rules, max_attempts: int
) -> None:
    """A message that was not sent: back to the queue for a later try, or failed for good; its
    recipient marked unreachable if the channel said so."""
    if message.capped:
        # It did not reach the user: it must not use up one of their reminders for today.
        await session.execute(_UNCOUNT, {"c": message.channel, "u": message.user_id, "day": rules.local(now).date()})
    values: dict[str, Any] = {"claimed_by": None, "claimed_until": None, "last_error": delivery.error}
    if tries_again(delivery.status, message.attempts, max_attempts):
        later = rules.retry_at(kind=message.kind, attempts=message.attempts, retry_after=delivery.retry_after, now=now)
        values.update(status=OutboxStatus.PENDING, next_attempt_at=later)
    else:
        values.update(status=OutboxStatus.FAILED)
    await session.execute(update(_outbox).where(_outbox.c.id == message.id).values(**values))
    if delivery.status == DeliveryStatus.UNREACHABLE:
        await set_reachable(
            session,
            channel=message.channel,
            user_id=message.user_id,
            reachable=False,
            now=now,
            reason=delivery.error or "unreachable",
        )


_UNCOUNT = (
    update(_recipients)
    .where(
        _recipients.c.channel == bindparam("c"),
        _recipients.c.user_id == bindparam("u"),
        _recipients.c.sent_day == bindparam("day", type_=Date()),
        _recipients.c.sent_today > 0,
    )
    .values(sent_today=_recipients.c.sent_today - 1)
)


async def _count_final(session: AsyncSession, attempts: Sequence[Attempt], *, day: dt.date, max_attempts: int) -> None:
    """Adds the messages that reached their end (sent, or failed for good) to the day's
    `delivery_stats`: one upsert per channel, kind and outcome in the batch, in a fixed order so
    that two dispatchers never wait for each other's rows crosswise."""
    counts: Counter[tuple[str, str, str]] = Counter()
    for message, delivery in attempts:
        if not delivery.ok and tries_again(delivery.status, message.attempts, max_attempts):
            continue  # tried again later: not an outcome yet
        counts[(message.channel, message.kind, OutboxStatus.SENT if delivery.ok else OutboxStatus.FAILED)] += 1
    if not counts:
        return
    rows = [
        {"day": day, "channel": c, "kind": k, "outcome": final, "count": n}
        for (c, k, final), n in sorted(counts.items())
    ]
    await session.execute(_COUNT_DELIVERIES, rows)


# Text, not the dialects' on_conflict_do_update(): SQLAlchemy cannot cache the compiled form of
# those, and this runs with every batch the dispatcher records. The SQL reads the same on SQLite
# and PostgreSQL.
_COUNT_DELIVERIES = text(
    f"INSERT INTO {DeliveryStat.__tablename__} (day, channel, kind, outcome, count) "
    "VALUES (:day, :channel, :kind, :outcome, :count) "
    "ON CONFLICT (day, channel, kind, outcome) "
    f"DO UPDATE SET count = {DeliveryStat.__tablename__}.count + excluded.count"
).bindparams(bindparam("day", type_=Date()))
