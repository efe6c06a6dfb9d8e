"""Counts for the staff console's dashboard, each one statement over an index or a small table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DeliveryStat, WithdrawalRequest
from storage.statuses import OutboxStatus

REMINDER_KINDS = ("reminder", "broadcast")
"""What the dashboard counts as reminders: planned reminders and staff broadcasts (not replies or notices)."""


async def request_counts(session: AsyncSession, *, regions: Collection[str] | None = None) -> dict[str, int]:
    """Status → number of withdrawal requests, within `regions` (None: every region)."""
    stmt = select(WithdrawalRequest.status, func.count()).group_by(WithdrawalRequest.status)
    if regions is not None:
        stmt = stmt.where(WithdrawalRequest.region.in_(sorted(regions)))
    return {str(s): int(n) for s, n in (await session.execute(stmt)).all()}


async def reminder_deliveries(session: AsyncSession, *, since: dt.date, today: dt.date) -> dict[str, tuple[int, int]]:
    """Reminders and broadcasts sent and failed for good, each as (on `today`, from `since` on), from
    the daily counts the dispatcher keeps. Outbox messages carry no region, so these are not scoped."""
    d = DeliveryStat
    stmt = (
        select(d.outcome, func.sum(d.count), func.sum(case((d.day == today, d.count), else_=0)))
        .where(d.day >= since, d.day <= today, d.kind.in_(REMINDER_KINDS))
        .group_by(d.outcome)
    )
    found = {OutboxStatus.SENT.value: (0, 0), OutboxStatus.FAILED.value: (0, 0)}
    for outcome, week, day in (await session.execute(stmt)).all():
        found[str(outcome)] = (int(day or 0), int(week or 0))
    return found
