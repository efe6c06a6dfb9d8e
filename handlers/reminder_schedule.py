"""When reminders go out: offsets before a date, quiet hours, the daily cap, and the reminders a
subscription will get next. Shared by the subscription dialogs and the planner, so that what the
candidate is told is what the planner does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from handlers.reminder_times import Offset, parse_offsets, parse_quiet_hours
from knowledge.base import KnowledgeBase
from knowledge.reminders import DueDate, Interest, due_dates
from knowledge.timezone import SHANGHAI
from storage.outbox import Rules


@dataclass(frozen=True)
class Upcoming:
    at: dt.datetime
    due: DueDate
    offset: Offset


@dataclass(frozen=True)
class ReminderSchedule:
    offsets: tuple[Offset, ...]
    rules: Rules
    horizon: dt.timedelta = dt.timedelta(days=2)
    """How far ahead the planner writes reminders into the outbox."""
    grace: dt.timedelta = dt.timedelta(hours=12)
    """A reminder whose time passed longer ago than this (the server was down) is not sent late."""

    @classmethod
    def build(
        cls, *, offsets: str, quiet_hours: str, daily_cap: int, quotas: Mapping[str, Mapping[str, int]] | None = None
    ) -> ReminderSchedule:
        start, end = parse_quiet_hours(quiet_hours)
        rules = Rules(quiet_start=start, quiet_end=end, daily_cap=daily_cap, zone=SHANGHAI, quotas=quotas or {})
        return cls(parse_offsets(offsets), rules)

    def send_time(self, day: dt.date, offset: Offset) -> dt.datetime:
        """When to remind of `day` at `offset`, moved out of quiet hours."""
        local = dt.datetime.combine(day - dt.timedelta(days=offset.days), offset.at, SHANGHAI)
        return self.rules.after_quiet(local.astimezone(dt.UTC))

    def between(self, dues: Iterable[DueDate], start: dt.datetime, end: dt.datetime | None = None) -> list[Upcoming]:
        """Every reminder of `dues` whose time falls in [start, end], earliest first."""
        out = [
            Upcoming(at, due, offset)
            for due in dues
            for offset in self.offsets
            if start <= (at := self.send_time(due.day, offset)) and (end is None or at <= end)
        ]
        return sorted(out, key=lambda u: (u.at, u.due.day, u.due.key))

    def upcoming(self, kb: KnowledgeBase, interest: Interest, now: dt.datetime, *, limit: int = 5) -> list[Upcoming]:
        """The next reminders a subscription with `interest` gets, earliest first."""
        return self.between(due_dates(kb, interest, today=now.astimezone(SHANGHAI).date()), now)[:limit]


DEFAULT_SCHEDULE = ReminderSchedule.build(offsets="7d@09:00,1d@09:00,0d@09:00", quiet_hours="21:00-08:00", daily_cap=3)
