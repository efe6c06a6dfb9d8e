"""How reminder times are written in the settings: offsets before a date (7d@09:00) and quiet
hours (21:00-08:00). Apart from the schedule itself so that the settings can check them without
importing the outbox and the database."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Offset:
    days: int
    at: dt.time

    @property
    def name(self) -> str:
        return f"{self.days}d{self.at:%H%M}"


def parse_offsets(text: str) -> tuple[Offset, ...]:
    """'7d@09:00,1d@09:00,0d@09:00' → offsets, furthest first."""
    offsets = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = re.fullmatch(r"(\d{1,3})d@(\d{1,2}):(\d{2})", part)
        if not match or int(match[2]) > 23 or int(match[3]) > 59:
            raise ValueError(f"提醒时间格式应为 7d@09:00，收到：{part!r}")
        offsets.append(Offset(int(match[1]), dt.time(int(match[2]), int(match[3]))))
    if not offsets:
        raise ValueError("至少需要一个提醒时间")
    return tuple(sorted(set(offsets), key=lambda o: (-o.days, o.at)))


def parse_quiet_hours(text: str) -> tuple[dt.time, dt.time]:
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
    if not match or max(int(match[1]), int(match[3])) > 23 or max(int(match[2]), int(match[4])) > 59:
        raise ValueError(f"免打扰时段格式应为 21:00-08:00，收到：{text!r}")
    return dt.time(int(match[1]), int(match[2])), dt.time(int(match[3]), int(match[4]))
