"""A channel's daily quotas (WeChat allows so many template and so many customer-service messages a
day): what is left today, reserving it as messages are claimed, giving it back when a send fails, and
the day's quota marked spent when the API says so (45009) before our count does.

A unit is reserved in the claiming transaction, under a lock on the quota's row, so that however many
dispatchers run they never claim more than the quota between them."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Date, Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import dialect_insert
from storage.models import SendQuota


@dataclass(frozen=True)
class QuotaDay:
    """One route's quota on one day, as read."""

    route: str
    limit: int
    used: int
    exhausted_at: dt.datetime | None

    @property
    def left(self) -> int:
        return 0 if self.exhausted_at is not None else max(0, self.limit - self.used)


async def lock_today(
    session: AsyncSession, channel: str, limits: Mapping[str, int], *, day: dt.date
) -> dict[str, QuotaDay]:
    """Each route's quota of `channel` on `day`, rows created if missing and locked (PostgreSQL) until
    the transaction ends."""
    if not limits:
        return {}
    await _ensure_rows(session, [(channel, route) for route in sorted(limits)], day=day)
    q = SendQuota
    stmt = (
        select(q.route, q.used, q.exhausted_at)
        .where(q.channel == channel, q.day == day, q.route.in_(sorted(limits)))
        .order_by(q.route)
    )
    if session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return {
        route: QuotaDay(route, limits[route], used, exhausted_at)
        for route, used, exhausted_at in (await session.execute(stmt)).all()
    }


async def read_day(
    session: AsyncSession, channel: str, limits: Mapping[str, int], *, day: dt.date
) -> dict[str, QuotaDay]:
    """`lock_today` without writing or locking: for reports."""
    q = SendQuota
    found = {
        route: (used, exhausted_at)
        for route, used, exhausted_at in (
            await session.execute(select(q.route, q.used, q.exhausted_at).where(q.channel == channel, q.day == day))
        ).all()
    }
    return {route: QuotaDay(route, limit, *found.get(route, (0, None))) for route, limit in limits.items()}


async def add_used(session: AsyncSession, changes: Counter[tuple[str, str]], *, day: dt.date) -> None:
    """(channel, route) → units to add (negative: given back) on `day`."""
    changed = [(key, n) for key, n in sorted(changes.items()) if n]
    if not changed:
        return
    await _ensure_rows(session, [key for key, _ in changed], day=day)
    rows = [{"c": c, "r": r, "n": n, "d": day} for (c, r), n in changed]
    await session.execute(_ADD_USED, rows)


_table = cast(Table, SendQuota.__table__)
_ADD_USED = (
    update(_table)
    .where(
        _table.c.channel == bindparam("c"),
        _table.c.route == bindparam("r"),
        _table.c.day == bindparam("d", type_=Date()),
    )
    .values(used=_table.c.used + bindparam("n"))
)


async def mark_exhausted(session: AsyncSession, channel: str, route: str, *, day: dt.date, at: dt.datetime) -> None:
    """The API said the day's quota is reached: nothing more is claimed for this route until the next day."""
    await _ensure_rows(session, [(channel, route)], day=day)
    q = SendQuota
    await session.execute(
        update(q)
        .where(q.channel == channel, q.route == route, q.day == day, q.exhausted_at.is_(None))
        .values(exhausted_at=at)
    )


async def _ensure_rows(session: AsyncSession, routes: list[tuple[str, str]], *, day: dt.date) -> None:
    """The (channel, route) rows of `day`, created at 0 where missing."""
    insert = dialect_insert(session)
    await session.execute(
        insert(SendQuota).on_conflict_do_nothing(index_elements=["channel", "route", "day"]),
        [{"channel": channel, "route": route, "day": day, "used": 0} for channel, route in routes],
    )
