"""What an operator alerts on, read from the database when /metrics is scraped: the outbox's depth and
the age of its oldest due message per channel, deliveries by channel and outcome, open handoffs and
the age of the oldest waiting one, requests awaiting review, and who holds the scheduler's lease.

A few indexed aggregates per scrape; every process reports the same numbers (they are the database's)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DeliveryStat, Handoff, Lease, OutboxMessage, SendQuota, WithdrawalRequest
from storage.statuses import HandoffStatus, OutboxStatus, RequestStatus


@dataclass
class OperationsStats:
    outbox_depth: dict[str, int] = field(default_factory=dict)
    """Channel → messages pending or being sent."""
    oldest_due_seconds: dict[str, float] = field(default_factory=dict)
    """Channel → how long the oldest pending message has been due (0 when none is)."""
    delivered: dict[tuple[str, str], int] = field(default_factory=dict)
    """(channel, outcome) → messages that reached their end, since the database began."""
    handoffs_open: int = 0
    oldest_waiting_handoff_seconds: float = 0.0
    requests_awaiting_review: int = 0
    leaders: list[str] = field(default_factory=list)
    """Owners of unexpired leases (SQLite's leader election; PostgreSQL uses an advisory lock)."""
    quota_used: dict[tuple[str, str], int] = field(default_factory=dict)
    """(channel, route) → units of the latest day's quota used (the day the dispatcher last claimed on)."""
    quota_limit: dict[tuple[str, str], int] = field(default_factory=dict)
    quota_exhausted: dict[tuple[str, str], bool] = field(default_factory=dict)
    """(channel, route) → whether that day's quota is spent, by our count or the channel's (WeChat's 45009)."""


async def operations_stats(
    session: AsyncSession, *, now: dt.datetime, quotas: Mapping[str, Mapping[str, int]] | None = None
) -> OperationsStats:
    """The figures at `now`; `quotas` (channel → route → daily limit) tells a spent quota from a used one."""
    out = OperationsStats()
    o = OutboxMessage
    waiting = (OutboxStatus.PENDING, OutboxStatus.SENDING)
    for channel, depth in await session.execute(
        select(o.channel, func.count()).where(o.status.in_(waiting)).group_by(o.channel)
    ):
        out.outbox_depth[channel] = int(depth)
        out.oldest_due_seconds[channel] = 0.0
    due = select(o.channel, func.min(o.due_at)).where(o.status == OutboxStatus.PENDING, o.due_at <= now)
    for channel, oldest in await session.execute(due.group_by(o.channel)):
        if oldest is not None:
            out.oldest_due_seconds[channel] = max(0.0, (now - oldest).total_seconds())
    d = DeliveryStat
    for channel, outcome, count in await session.execute(
        select(d.channel, d.outcome, func.sum(d.count)).group_by(d.channel, d.outcome)
    ):
        out.delivered[(channel, outcome)] = int(count or 0)
    h = Handoff
    out.handoffs_open = int(
        (
            await session.execute(select(func.count()).where(h.status.in_((HandoffStatus.PENDING, HandoffStatus.OPEN))))
        ).scalar_one()
    )
    oldest_pending = (
        await session.execute(select(func.min(h.created_at)).where(h.status == HandoffStatus.PENDING))
    ).scalar()
    if oldest_pending is not None:
        out.oldest_waiting_handoff_seconds = max(0.0, (now - oldest_pending).total_seconds())
    r = WithdrawalRequest
    out.requests_awaiting_review = int(
        (await session.execute(select(func.count()).where(r.status == RequestStatus.SUBMITTED))).scalar_one()
    )
    out.leaders = list((await session.execute(select(Lease.owner).where(Lease.expires_at > now))).scalars())
    q = SendQuota
    latest = select(func.max(q.day)).scalar_subquery()
    for channel, route, used, exhausted_at in await session.execute(
        select(q.channel, q.route, q.used, q.exhausted_at).where(q.day == latest)
    ):
        limit = (quotas or {}).get(channel, {}).get(route)
        out.quota_used[(channel, route)] = int(used)
        if limit is not None:
            out.quota_limit[(channel, route)] = limit
        out.quota_exhausted[(channel, route)] = exhausted_at is not None or (limit is not None and used >= limit)
    return out
