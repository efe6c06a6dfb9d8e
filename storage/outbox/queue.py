"""The outbox's queue mechanics: idempotent planning, claiming by dispatchers, recording outcomes,
and what is queued. Which message may go when is decided by storage.outbox.policy.

Core statements rather than ORM objects on the dispatcher's path (claim, record): a dispatcher
claims a thousand rows a second, and the unit of work cost more than the sends.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, literal_column, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import dialect_insert
from storage.models import DeliveryAttempt, OutboxMessage, Recipient
from storage.outbox.lookups import last_seen
from storage.outbox.policy import (
    ANYTIME_KINDS,
    PASSED,
    SUPERSEDED,
    RecipientState,
    Rules,
    Triage,
    priority_of,
    triage,
)
from storage.outbox.quotas import add_used, lock_today
from storage.statuses import OutboxStatus

ENQUEUE_BATCH = 500

_outbox = cast(Table, OutboxMessage.__table__)
_recipients = cast(Table, Recipient.__table__)
_attempts = cast(Table, DeliveryAttempt.__table__)


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
                "priority": priority_of(p.kind),
                "subscription_id": p.subscription_id,
                "broadcast_id": p.broadcast_id,
                "due_at": p.due_at,
                "next_attempt_at": p.due_at,
                "status": OutboxStatus.PENDING,
                "attempts": 0,
                "created_at": now,
            }
            for p in items[start : start + ENQUEUE_BATCH]
        ]
        created += len((await session.execute(stmt, rows)).all())
    return created


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
    last_seen: dt.datetime | None = None
    """When the user last wrote to us (WeChat's 48-hour window)."""
    route: str | None = None
    """The quota a unit was reserved from for this send (WeChat: template or custom); None: no quota."""


@dataclass
class ClaimStats:
    claimed: int = 0
    deferred: int = 0
    skipped: int = 0
    held: int = 0


Router = Callable[[str, dt.datetime | None, dt.datetime], str | None]
"""(channel, the user's last message, now) → the quota route a message would be sent by, or None."""


async def claim(
    session: AsyncSession,
    *,
    worker: str,
    now: dt.datetime,
    rules: Rules,
    limit: int,
    lease: dt.timedelta,
    channels: Sequence[str] | None = None,
    route: Router | None = None,
) -> tuple[list[Claimed], ClaimStats]:
    """Claims up to `limit` due messages for `worker`, the most urgent first (policy.priority_of, then
    the nearest date, then the due time). On the way: a message whose day has passed, or that a later
    reminder of the same date supersedes, is skipped; one falling in quiet hours (answers excepted:
    ANYTIME_KINDS) or over the user's daily cap is moved to later; one to a user who cannot be reached
    is cancelled; one whose route's daily quota (`rules.quotas`) is spent stays pending, untouched."""
    if session.bind.dialect.name == "postgresql":
        for setting in _BY_INDEX:
            await session.execute(setting)
    today = rules.local(now).date()
    quota: dict[tuple[str, str], int] = {}
    if channels is not None:
        open_channels = []
        for channel in channels:
            days = await lock_today(session, channel, rules.quotas.get(channel, {}), day=today)
            quota.update({(channel, r): d.left for r, d in days.items()})
            if not days or any(d.left for d in days.values()):
                open_channels.append(channel)
        channels = open_channels
    rows = await _due_rows(session, now=now, limit=limit, channels=channels, quiet=rules.quiet(now))
    if not rows:
        return [], ClaimStats()
    seen = await last_seen(session, {(r.channel, r.user_id) for r in rows})
    routes: dict[int, str] = {}

    def admit(row: Any) -> bool:
        chosen = route(row.channel, seen.get((row.channel, row.user_id)), now) if route else None
        if chosen is None or (row.channel, chosen) not in quota:
            return True
        if quota[(row.channel, chosen)] <= 0:
            return False
        quota[(row.channel, chosen)] -= 1
        routes[row.id] = chosen
        return True

    recipients = await _lock_recipients(session, {(r.channel, r.user_id) for r in rows})
    sorted_rows = triage(
        rows,
        recipients,
        today=today,
        daily_cap=rules.daily_cap,
        superseded=await _superseded(session, rows, now=now),
        admit=admit,
    )
    await _write_triage(session, sorted_rows, worker=worker, until=now + lease, later=rules.next_morning(now))
    await _write_counts(session, sorted_rows.counts, today=today)
    await add_used(session, Counter((r.channel, routes[r.id]) for r in sorted_rows.send if r.id in routes), day=today)
    claimed = [
        Claimed(
            r.id,
            r.channel,
            r.user_id,
            r.kind,
            r.text,
            dict(r.fields or {}),
            r.capped,
            r.attempts + 1,
            last_seen=seen.get((r.channel, r.user_id)),
            route=routes.get(r.id),
        )
        for r in sorted_rows.send
    ]
    skipped = (
        sum(len(ids) for ids in sorted_rows.cancelled.values()) + len(sorted_rows.skipped) + len(sorted_rows.superseded)
    )
    return claimed, ClaimStats(
        claimed=len(claimed), deferred=len(sorted_rows.deferred), skipped=skipped, held=sorted_rows.held
    )


async def _superseded(session: AsyncSession, rows: Sequence[Any], *, now: dt.datetime) -> set[int]:
    """The reminders among `rows` of which a later one for the same subscription and date is due too
    (or was sent): a 7-day reminder still waiting when the 1-day one falls due only repeats it.

    One lookup by subscription id (indexed), compared here: as a correlated EXISTS, PostgreSQL with
    stale statistics scanned the outbox for every claim, half a second at a million rows."""
    candidates = [r for r in rows if r.subscription_id is not None and r.event_day is not None]
    if not candidates:
        return set()
    o = OutboxMessage
    postgres = session.bind.dialect.name == "postgresql"
    stmt = (
        select(o.subscription_id, o.event_day, func.max(o.due_at))
        .where(
            o.subscription_id.in_(sorted({r.subscription_id for r in candidates})),
            # By the subscription index: given the status one, SQLite read every due row (55 ms a claim).
            _unindexed(o.due_at, postgres) <= now,
            _unindexed(o.status, postgres).in_([OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.SENT]),
        )
        .group_by(o.subscription_id, o.event_day)
    )
    latest = {(sub, day): due for sub, day, due in (await session.execute(stmt)).all()}
    return {
        r.id
        for r in candidates
        if (last := latest.get((r.subscription_id, r.event_day))) is not None and last > r.due_at
    }


async def expire_passed(session: AsyncSession, *, today: dt.date) -> int:
    """Skips, in one statement, the pending reminders whose day is over (left behind by a spent quota,
    say), rather than claiming them batch by batch only to skip them."""
    o = OutboxMessage
    result = await session.execute(
        update(o)
        .where(o.status == OutboxStatus.PENDING, o.priority == priority_of("reminder"), o.event_day < today)
        .values(status=OutboxStatus.SKIPPED, last_error=PASSED)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


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
    OutboxMessage.subscription_id,
    OutboxMessage.due_at,
    OutboxMessage.priority,
)


async def _due_rows(
    session: AsyncSession, *, now: dt.datetime, limit: int, channels: Sequence[str] | None, quiet: bool
) -> list[Any]:
    """Up to `limit` rows to claim: first those whose claim expired (their dispatcher died), then
    pending ones by urgency (priority, date, due time).

    One query per status and channel: expired claims by `ix_outbox_claim` (status, channel,
    next_attempt_at); pending rows in the order of `ix_outbox_urgency` (status, channel, priority,
    event_day, due_at, id), read until `limit` due ones are found. With both statuses or several
    channels in one query, SQLite sorted every due row for each claim, about 180 ms at 200,000 rows."""
    o = OutboxMessage
    postgres = session.bind.dialect.name == "postgresql"
    found: dict[str, list[Any]] = {OutboxStatus.SENDING: [], OutboxStatus.PENDING: []}
    for channel in channels if channels is not None else [None]:
        for status, ready, order in (
            (OutboxStatus.SENDING, o.claimed_until < now, (o.next_attempt_at, o.id)),
            # Read in the urgency index's order, stopping at `limit`: given the due range to use instead,
            # SQLite read every due row and sorted it, 46 ms a claim at 100,000 due (PostgreSQL: _BY_INDEX).
            (OutboxStatus.PENDING, _unindexed(o.next_attempt_at, postgres) <= now, _URGENCY),
        ):
            stmt = select(*_CLAIM_COLUMNS).where(o.status == status, ready)
            if channel is not None:
                stmt = stmt.where(o.channel == channel)
            if quiet:
                # Only answers go out now; the other rows stay pending until quiet hours end.
                stmt = stmt.where(o.kind.in_(sorted(ANYTIME_KINDS)))
            stmt = stmt.order_by(*order).limit(limit)
            if postgres:
                stmt = stmt.with_for_update(skip_locked=True, of=o)
            found[status].extend((await session.execute(stmt)).all())
    # Rows fetched beyond `limit` are left alone (on PostgreSQL their locks end with the transaction).
    in_order = sorted(found[OutboxStatus.SENDING], key=lambda r: r.id) + sorted(
        found[OutboxStatus.PENDING], key=_urgency
    )
    return in_order[:limit]


_BY_INDEX = (text("SET LOCAL enable_seqscan = off"), text("SET LOCAL enable_sort = off"))
"""A claim reads a few hundred rows, by key or in an index's order, and must never read a table. With
statistics that lag the table (a million rows planned a minute ago, recipients created at 1,000 a
second; autovacuum not yet round, or off) PostgreSQL chose to read every due row and sort it (2 s a
claim at 1,000,000 rows, not 5 ms) and to scan `recipients` for each claim's users (80 ms at 30,000):
this transaction's planner is told to prefer the indexes."""


_URGENCY = (OutboxMessage.priority, OutboxMessage.event_day, OutboxMessage.due_at, OutboxMessage.id)


def _unindexed(column: Any, postgres: bool) -> Any:
    """`column`, which SQLite will not pick an index for (a unary plus: SQLite's way of steering its
    planner to another index); PostgreSQL has _BY_INDEX and no unary plus on these types."""
    if postgres:
        return column
    return literal_column(f"+{column.table.name}.{column.name}", type_=column.type)


def _urgency(row: Any) -> tuple[int, dt.date, dt.datetime, int]:
    return (row.priority, row.event_day or dt.date.max, row.due_at, row.id)


async def _lock_recipients(session: AsyncSession, users: set[tuple[str, str]]) -> dict[tuple[str, str], RecipientState]:
    """The recipients' state, rows created if missing and locked in a fixed order (no deadlocks
    between dispatchers), so that their daily counts are read and written by one dispatcher at a time."""
    ordered = sorted(users)
    insert = dialect_insert(session)
    await session.execute(
        insert(Recipient).on_conflict_do_nothing(index_elements=["channel", "user_id"]),
        [{"channel": c, "user_id": u, "reachable": True, "sent_today": 0} for c, u in ordered],
    )
    r = Recipient
    # One channel and a list of its users: one index condition on the primary key (channel, user_id).
    stmt = (
        select(r.channel, r.user_id, r.reachable, r.unreachable_reason, r.sent_day, r.sent_today)
        .where(r.channel == bindparam("channel"), r.user_id.in_(bindparam("users", expanding=True)))
        .order_by(r.channel, r.user_id)
    )
    if session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    found: dict[tuple[str, str], RecipientState] = {}
    by_channel: dict[str, list[str]] = {}
    for channel, user in ordered:
        by_channel.setdefault(channel, []).append(user)
    for channel, users_of in by_channel.items():  # in order: the locks are taken in (channel, user) order
        for start in range(0, len(users_of), 500):
            result = await session.execute(stmt, {"channel": channel, "users": users_of[start : start + 500]})
            for _, user_id, reachable, reason, sent_day, sent_today in result:
                found[(channel, user_id)] = RecipientState(reachable, reason, sent_day, sent_today or 0)
    return found


async def _write_triage(
    session: AsyncSession, sorted_rows: Triage[Any], *, worker: str, until: dt.datetime, later: dt.datetime
) -> None:
    """One UPDATE per kind of change, on the table: the ORM bulk-update path costs more than the statements."""
    by_id = _outbox.c.id.in_(bindparam("ids", expanding=True))
    for reason, ids in sorted_rows.cancelled.items():
        await session.execute(
            update(_outbox).where(by_id).values(status=OutboxStatus.CANCELLED, last_error=reason), {"ids": ids}
        )
    for ids, reason in ((sorted_rows.skipped, PASSED), (sorted_rows.superseded, SUPERSEDED)):
        if ids:
            await session.execute(
                update(_outbox).where(by_id).values(status=OutboxStatus.SKIPPED, last_error=reason), {"ids": ids}
            )
    if sorted_rows.deferred:
        await session.execute(
            update(_outbox)
            .where(by_id)
            .values(status=OutboxStatus.PENDING, next_attempt_at=later, claimed_by=None, claimed_until=None),
            {"ids": sorted_rows.deferred},
        )
    if sorted_rows.send:
        await session.execute(
            update(_outbox)
            .where(by_id)
            .values(
                status=OutboxStatus.SENDING, claimed_by=worker, claimed_until=until, attempts=_outbox.c.attempts + 1
            ),
            {"ids": [r.id for r in sorted_rows.send]},
        )


async def _write_counts(session: AsyncSession, counts: dict[tuple[str, str], int], *, today: dt.date) -> None:
    """The recipients' daily counts, with the capped messages just claimed."""
    if counts:
        await session.execute(
            update(_recipients)
            .where(_recipients.c.channel == bindparam("c"), _recipients.c.user_id == bindparam("u"))
            .values(sent_day=today, sent_today=bindparam("n")),
            [{"c": c, "u": u, "n": n} for (c, u), n in counts.items()],
        )
