"""Clocks: the real one, and one standing on a chosen day (--now, BOT_NOW) for demos and tests."""

from __future__ import annotations

import datetime as dt

from handlers.context import SHANGHAI
from handlers.engine import Clock, system_clock

__all__ = ["Clock", "fixed_day_clock", "parse_day", "system_clock"]


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
