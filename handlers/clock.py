"""Clocks: the real one, one standing on a chosen day (--now) and one running on from a chosen
instant (BOT_NOW). Everything that asks the time (the engine, the reminders, the console) is given
one of these, so a demo or a test can set the day in one place."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from knowledge.timezone import SHANGHAI

Clock = Callable[[], dt.datetime]
"""Returns the current instant, aware (UTC)."""


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def fixed_day_clock(day: dt.date) -> Clock:
    """Today is `day` in Beijing time; the time of day still runs, so records keep their order."""

    def now() -> dt.datetime:
        real = dt.datetime.now(SHANGHAI)
        return dt.datetime.combine(day, real.timetz()).astimezone(dt.UTC)

    return now


def parse_day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError as exc:
        raise ValueError(f"日期应为 YYYY-MM-DD 格式，收到：{value!r}") from exc


def start_instant(value: dt.datetime | dt.date) -> dt.datetime:
    """BOT_NOW as an aware instant: a naive time is Beijing time; a bare date takes the current time of day."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=SHANGHAI) if value.tzinfo is None else value
    return dt.datetime.combine(value, dt.datetime.now(SHANGHAI).timetz())


def running_clock(start: dt.datetime) -> Clock:
    """A clock that reads `start` now and runs on in real time from there (BOT_NOW for the server):
    a reminder due one minute after `start` comes one real minute after the server started."""
    offset = start - dt.datetime.now(dt.UTC)

    def now() -> dt.datetime:
        return dt.datetime.now(dt.UTC) + offset

    return now
