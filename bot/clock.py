"""Clocks: the real one, and one standing on a chosen day (--now, BOT_NOW) for demos and tests."""

from __future__ import annotations

import datetime as dt

from handlers.context import SHANGHAI
from handlers.engine import Clock, system_clock

__all__ = ["Clock", "fixed_day_clock", "parse_day", "running_clock", "start_instant", "system_clock"]


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
