"""Policy questions answered and abstained on, counted per Beijing day and channel for the dashboard."""

from __future__ import annotations

import datetime as dt
import zlib
from collections import Counter

from sqlalchemy import Date, bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AnswerStat

SLOTS = 16
"""Rows per day and channel the counts are spread over (see AnswerStat)."""


def slot_of(user_id: str) -> int:
    """A user's slot: stable, so one user's questions (already handled one at a time) share a row."""
    return zlib.crc32(user_id.encode()) % SLOTS


class AnswerTally:
    """Questions counted while a transaction runs, written by `flush` in that same transaction
    (so a message handled again after a rollback counts once): one INSERT … ON CONFLICT DO UPDATE
    per (day, channel, slot) touched, however many questions."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[dt.date, str, int, bool]] = Counter()

    def add(self, *, day: dt.date, channel: str, user_id: str, answered: bool) -> None:
        self._counts[(day, channel, slot_of(user_id), answered)] += 1

    async def flush(self, session: AsyncSession) -> None:
        rows: dict[tuple[dt.date, str, int], list[int]] = {}
        for (day, channel, slot, answered), n in self._counts.items():
            rows.setdefault((day, channel, slot), [0, 0])[0 if answered else 1] += n
        self._counts.clear()
        if rows:
            await session.execute(
                _COUNT,
                [
                    {"day": day, "channel": channel, "slot": slot, "answered": a, "abstained": b}
                    for (day, channel, slot), (a, b) in sorted(rows.items())
                ],
            )


# Text, not the dialects' on_conflict_do_update(): SQLAlchemy cannot cache the compiled form of
# those, and this runs with every question. The SQL reads the same on SQLite and PostgreSQL.
_COUNT = text(
    f"INSERT INTO {AnswerStat.__tablename__} (day, channel, slot, answered, abstained) "
    "VALUES (:day, :channel, :slot, :answered, :abstained) "
    "ON CONFLICT (day, channel, slot) DO UPDATE SET "
    f"answered = {AnswerStat.__tablename__}.answered + excluded.answered, "
    f"abstained = {AnswerStat.__tablename__}.abstained + excluded.abstained"
).bindparams(bindparam("day", type_=Date()))


async def daily_counts(session: AsyncSession, *, since: dt.date, until: dt.date) -> dict[dt.date, tuple[int, int]]:
    """Day → (answered, abstained) for `since` ≤ day ≤ `until`, every channel together; days
    without questions are absent."""
    stmt = (
        select(AnswerStat.day, func.sum(AnswerStat.answered), func.sum(AnswerStat.abstained))
        .where(AnswerStat.day >= since, AnswerStat.day <= until)
        .group_by(AnswerStat.day)
    )
    out: dict[dt.date, tuple[int, int]] = {}
    for day, answered, abstained in (await session.execute(stmt)).all():
        out[day] = (int(answered or 0), int(abstained or 0))
    return out
