"""The outbox of proactive messages: idempotent planning, claiming by dispatchers, recording outcomes.

Planning inserts rows under a unique key, so planning the same thing twice, at once, or on two hosts
creates one row. Dispatchers claim due rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one
writer at a time) for a limited time: a dispatcher that dies leaves its claims to expire, and the
next one sends them. Only messages handed to the channel API but not yet recorded as sent at the
moment of a crash can go out twice.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Date, bindparam, func, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import dialect_insert
from storage.models import DeliveryAttempt, DeliveryStat, OutboxMessage, Recipient
from storage.subscriptions import set_reachable

ENQUEUE_BATCH = 500
ANYTIME_KINDS = frozenset({"staff_reply"})
"""Answers a candidate asked for (转人工) and is waiting for: sent in quiet hours too, and a retry
is not pushed to the morning. Reminders and broadcasts wait for quiet hours to end."""


@dataclass(frozen=True)
class Planned:
    key: str
    channel: str
    user_id: str
    kind: str
    text: str
    due_at: dt.datetime
    fields: dict[str, str] = field(default_factory=dict)
    event_day: dt.date | None = None
    capped: bool = True
    subscription_id: int | None = None
    broadcast_id: int | None = None


async def enqueue(session: AsyncSession, items: Sequence[Planned], *, now: dt.datetime) -> int:
    """Inserts the items whose key is not in the outbox yet; returns how many were new."""
    if not items:
        return 0
    insert = dialect_insert(session)
    # One statement, many parameter sets: compiled once and cached, sent in batches by SQLAlchemy.
    stmt = insert(OutboxMessage).on_conflict_do_nothing(index_elements=["key"]).returning(OutboxMessage.id)
    created = 0
    for start in range(0, len(items), ENQUEUE_BATCH):
        rows: list[dict[str, Any]] = [
            {
                "key": p.key,
                "channel": p.channel,
                "user_id": p.user_id,
                "kind": p.kind,
                "text": p.text,
                "fields": p.fields,
                "event_day": p.event_day,
                "capped": p.capped,
                "subscription_id": p.subscription_id,
                "broadcast_id": p.broadcast_id,
                "due_at": p.due_at,
                "next_attempt_at": p.due_at,
                "status": "pending",
                "attempts": 0,
                "created_at": now,
            }
            for p in items[start : start + ENQUEUE_BATCH]
        ]
        created += len((await session.execute(stmt, rows)).all())
    return created


@dataclass(frozen=True)
class Rules:
    """When a claimed message may go out (all times Beijing time)."""

    quiet_start: dt.time
    quiet_end: dt.time
    daily_cap: int
    zone: dt.tzinfo

    def local(self, at: dt.datetime) -> dt.datetime:
        return at.astimezone(self.zone)

    def quiet(self, at: dt.datetime) -> bool:
        t = self.local(at).time()
        if self.quiet_start > self.quiet_end:  # spans midnight, e.g. 21:00–08:00
            return t >= self.quiet_start or t < self.quiet_end
        return self.quiet_start <= t < self.quiet_end

    def after_quiet(self, at: dt.datetime) -> dt.datetime:
        """The end of the quiet period `at` falls in (`at` itself when it is not quiet)."""
        if not self.quiet(at):
            return at
        local = self.local(at)
        end = dt.datetime.combine(local.date(), self.quiet_end, self.zone)
        if end <= local:
            end += dt.timedelta(days=1)
        return end.astimezone(dt.UTC)

    def next_morning(self, at: dt.datetime) -> dt.datetime:
        """The end of quiet hours on the next day: where a message over the daily cap goes."""
        local = self.local(at)
        return dt.datetime.combine(local.date() + dt.timedelta(days=1), self.quiet_end, self.zone).astimezone(dt.UTC)


@dataclass
class Claimed:
    id: int
    channel: str
    user_id: str
    kind: str
    text: str
    fields: dict[str, str]
    capped: bool
    attempts: int


@dataclass
class ClaimStats:
    claimed: int = 0
    deferred: int = 0
    skipped: int = 0


async def claim(
    session: AsyncSession,
    *,
    worker: str,
    now: dt.datetime,
    rules: Rules,
    limit: int,
    lease: dt.timedelta,
    channels: Sequence[str] | None = None,
) -> tuple[list[Claimed], ClaimStats]:
    """Claims up to `limit` due messages for `worker`. On the way: a message whose day has passed is
    skipped; one falling in quiet hours (answers excepted: ANYTIME_KINDS) or over the user's daily cap
    is moved to later.

    Core statements, one per kind of change, rather than ORM objects: a dispatcher claims a thousand
    rows a second, and the unit of work cost more than the sends."""
    stats = ClaimStats()
    quiet = rules.quiet(now)
    rows = await _due_rows(session, now=now, limit=limit, channels=channels, quiet=quiet)
    if not rows:
        return [], stats
    today = rules.local(now).date()
    recipients = await _lock_recipients(session, {(r.channel, r.user_id) for r in rows})
    counted: dict[tuple[str, str], int] = {}
    cancelled: dict[str, list[int]] = {}
    skipped: list[int] = []
    deferred: list[int] = []
    claimed: list[Claimed] = []
    for row in rows:
        who = (row.channel, row.user_id)
        reachable, reason, sent_day, sent_today = recipients[who]
        if not reachable:
            cancelled.setdefault(reason or "unreachable", []).append(row.id)
            continue
        if row.event_day is not None and row.event_day < today:
            skipped.append(row.id)
            continue
        if row.capped:
            count = counted.get(who, sent_today if sent_day == today else 0)
            if count >= rules.daily_cap:
                deferred.append(row.id)
                continue
            counted[who] = count + 1
        claimed.append(
            Claimed(
                row.id,
                row.channel,
                row.user_id,
                row.kind,
                row.text,
                dict(row.fields or {}),
                row.capped,
                row.attempts + 1,
            )
        )
    # Core updates on the table: the ORM bulk-update path costs more than the statements.
    t = OutboxMessage.__table__
    by_id = t.c.id.in_(bindparam("ids", expanding=True))
    for reason, ids in cancelled.items():
        await session.execute(update(t).where(by_id).values(status="cancelled", last_error=reason), {"ids": ids})
    if skipped:
        await session.execute(update(t).where(by_id).values(status="skipped", last_error="日期已过"), {"ids": skipped})
    if deferred:
        await session.execute(
            update(t)
            .where(by_id)
            .values(status="pending", next_attempt_at=rules.next_morning(now), claimed_by=None, claimed_until=None),
            {"ids": deferred},
        )
    if claimed:
        await session.execute(
            update(t)
            .where(by_id)
            .values(status="sending", claimed_by=worker, claimed_until=now + lease, attempts=t.c.attempts + 1),
            {"ids": [c.id for c in claimed]},
        )
    if counted:
        table = Recipient.__table__
        await session.execute(
            update(table)
            .where(table.c.channel == bindparam("c"), table.c.user_id == bindparam("u"))
            .values(sent_day=today, sent_today=bindparam("n")),
            [{"c": c, "u": u, "n": n} for (c, u), n in counted.items()],
        )
    stats.skipped = sum(len(ids) for ids in cancelled.values()) + len(skipped)
    stats.deferred = len(deferred)
    stats.claimed = len(claimed)
    return claimed, stats


_CLAIM_COLUMNS = (
    OutboxMessage.id,
    OutboxMessage.channel,
    OutboxMessage.user_id,
    OutboxMessage.kind,
    OutboxMessage.text,
    OutboxMessage.fields,
    OutboxMessage.capped,
    OutboxMessage.attempts,
    OutboxMessage.event_day,
    OutboxMessage.next_attempt_at,
)


async def _due_rows(
    session: AsyncSession, *, now: dt.datetime, limit: int, channels: Sequence[str] | None, quiet: bool
) -> list[Any]:
    """Up to `limit` rows to claim: first those whose claim expired (their dispatcher died), then
    pending ones in due order.

    One query per status and channel, each an ordered range of `ix_outbox_claim` (status, channel,
    next_attempt_at): with both statuses or several channels in one query, SQLite sorted every due
    row for each claim, about 180 ms at 200,000 rows."""
    o = OutboxMessage
    postgres = session.bind.dialect.name == "postgresql"
    found: dict[str, list[Any]] = {"sending": [], "pending": []}
    for channel in channels if channels is not None else [None]:
        for status, ready in (("sending", o.claimed_until < now), ("pending", o.next_attempt_at <= now)):
            stmt = select(*_CLAIM_COLUMNS).where(o.status == status, ready)
            if channel is not None:
                stmt = stmt.where(o.channel == channel)
            if quiet:
                # Only answers go out now; the other rows stay pending until quiet hours end.
                stmt = stmt.where(o.kind.in_(sorted(ANYTIME_KINDS)))
            stmt = stmt.order_by(o.next_attempt_at, o.id).limit(limit)
            if postgres:
                stmt = stmt.with_for_update(skip_locked=True, of=o)
            found[status].extend((await session.execute(stmt)).all())
    # Rows fetched beyond `limit` are left alone (on PostgreSQL their locks end with the transaction).
    in_order = sorted(found["sending"], key=lambda r: r.id) + sorted(
        found["pending"], key=lambda r: (r.next_attempt_at, r.id)
    )
    return in_order[:limit]


async def _lock_recipients(
    session: AsyncSession, users: set[tuple[str, str]]
) -> dict[tuple[str, str], tuple[bool, str | None, dt.date | None, int]]:
    """The recipients' (reachable, reason, sent_day, sent_today), rows created if missing and locked
    in a fixed order (no deadlocks between dispatchers), so that their daily counts are read and
    written by one dispatcher at a time."""
    ordered = sorted(users)
    insert = dialect_insert(session)
    await session.execute(
        insert(Recipient).on_conflict_do_nothing(index_elements=["channel", "user_id"]),
        [{"channel": c, "user_id": u, "reachable": True, "sent_today": 0} for c, u in ordered],
    )
    r = Recipient
    stmt = (
        select(r.channel, r.user_id, r.reachable, r.unreachable_reason, r.sent_day, r.sent_today)
        .where(tuple_(r.channel, r.user_id).in_(bindparam("users", expanding=True)))
        .order_by(r.channel, r.user_id)
    )
    if session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    found: dict[tuple[str, str], tuple[bool, str | None, dt.date | None, int]] = {}
    for start in range(0, len(ordered), 500):
        result = await session.execute(stmt, {"users": ordered[start : start + 500]})
        for channel, user_id, reachable, reason, sent_day, sent_today in result:
            found[(channel, user_id)] = (reachable, reason, sent_day, sent_today or 0)
    return found


def backoff(attempts: int, *, base: float = 30.0, cap: float = 3600.0) -> dt.timedelta:
    """30 s, 1 min, 2 min, 4 min … up to an hour between tries."""
    return dt.timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class Outcome:
    """What a send came to: status sent | retry | failed | unreachable (see handlers.messages.Delivery)."""

    message: Claimed
    status: str
    via: str = ""
    error: str | None = None
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.status == "sent"


async def record(
    session: AsyncSession,
    outcomes: Sequence[Outcome],
    *,
    worker: str,
    now: dt.datetime,
    rules: Rules,
    max_attempts: int = 8,
) -> None:
    """Writes what became of each claimed message, and every attempt."""
    await session.execute(
        DeliveryAttempt.__table__.insert(),
        [
            {
                "outbox_id": o.message.id,
                "at": now,
                "status": o.status,
                "via": o.via or None,
                "error": o.error,
                "worker": worker,
            }
            for o in outcomes
        ],
    )
    await _count_final(session, outcomes, day=rules.local(now).date(), max_attempts=max_attempts)
    sent = [o.message.id for o in outcomes if o.ok]
    if sent:
        for via in {o.via for o in outcomes if o.ok}:
            ids = [o.message.id for o in outcomes if o.ok and o.via == via]
            await session.execute(_MARK_SENT, {"ids": ids, "now": now, "via": via})
    today = rules.local(now).date()
    for outcome in outcomes:
        message = outcome.message
        if outcome.ok:
            continue
        if message.capped:
            # It did not reach the user: it must not use up one of their reminders for today.
            await session.execute(
                update(Recipient)
                .where(
                    Recipient.channel == message.channel,
                    Recipient.user_id == message.user_id,
                    Recipient.sent_day == today,
                    Recipient.sent_today > 0,
                )
                .values(sent_today=Recipient.sent_today - 1)
            )
        values: dict[str, Any] = {"claimed_by": None, "claimed_until": None, "last_error": outcome.error}
        if outcome.status == "retry" and message.attempts < max_attempts:
            wait = backoff(message.attempts)
            if outcome.retry_after:
                wait = max(wait, dt.timedelta(seconds=outcome.retry_after))
            later = now + wait if message.kind in ANYTIME_KINDS else rules.after_quiet(now + wait)
            values.update(status="pending", next_attempt_at=later)
        else:
            values.update(status="failed")
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == message.id).values(**values))
        if outcome.status == "unreachable":
            await set_reachable(
                session,
                channel=message.channel,
                user_id=message.user_id,
                reachable=False,
                now=now,
                reason=outcome.error or "unreachable",
            )


# Built once, on the table rather than the mapped class: the ORM's bulk-update bookkeeping and the
# statement's construction cost more than the UPDATE itself, once per batch of outcomes.
_outbox = OutboxMessage.__table__
_MARK_SENT = (
    update(_outbox)
    .where(_outbox.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        status="sent",
        sent_at=bindparam("now"),
        via=bindparam("via"),
        claimed_by=None,
        claimed_until=None,
        last_error=None,
    )
)


async def _count_final(session: AsyncSession, outcomes: Sequence[Outcome], *, day: dt.date, max_attempts: int) -> None:
    """Adds the messages that reached their end (sent, or failed for good) to the day's
    `delivery_stats`: one upsert per channel, kind and outcome in the batch, in a fixed order so
    that two dispatchers never wait for each other's rows crosswise."""
    counts: Counter[tuple[str, str, str]] = Counter()
    for o in outcomes:
        if o.ok:
            final = "sent"
        elif o.status == "retry" and o.message.attempts < max_attempts:
            continue  # tried again later: not an outcome yet
        else:
            final = "failed"
        counts[(o.message.channel, o.message.kind, final)] += 1
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


async def status_counts(session: AsyncSession) -> dict[tuple[str, str], int]:
    """(channel, status) → number of messages."""
    stmt = select(OutboxMessage.channel, OutboxMessage.status, func.count()).group_by(
        OutboxMessage.channel, OutboxMessage.status
    )
    return {(c, s): int(n) for c, s, n in (await session.execute(stmt)).all()}


async def next_due(session: AsyncSession) -> dt.datetime | None:
    stmt = select(func.min(OutboxMessage.next_attempt_at)).where(OutboxMessage.status == "pending")
    value = (await session.execute(stmt)).scalar()
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)  # func.min bypasses the column type on SQLite
    return value


async def next_pending_for(session: AsyncSession, subscription_id: int) -> tuple[dt.datetime, str] | None:
    """The subscription's next unsent reminder: when, and what (title, date and source)."""
    stmt = (
        select(OutboxMessage.next_attempt_at, OutboxMessage.fields)
        .where(OutboxMessage.subscription_id == subscription_id, OutboxMessage.status == "pending")
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
