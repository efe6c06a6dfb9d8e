"""Times of day in a notice's dates: 9:00, 下午5点, 9时30分; a day's hours after its date
(5月18日（星期六）9:00-10:30), the hour a period closes (报名截止当日16:00) and hours on the same day
(同日14:00-17:00)."""

from __future__ import annotations

import re

from knowledge.drafting.view import View

TO = r"\s*(?:至|到|—|－|-|~|～)\s*"
T = (
    r"(?:\s*(?P<{0}ap>上午|下午|晚上|中午)?\s*(?P<{0}h>\d{{1,2}})\s*"
    r"(?:[:：]\s*(?P<{0}m>\d{{2}})|[时点](?:(?P<{0}half>半)|\s*(?P<{0}m2>\d{{1,2}})\s*分)?))"
)
"""A time of day after a date: 9:00, 16：30, 下午5点, 9时30分, 8点半."""


def time_of(m: re.Match[str], prefix: str) -> str | None:
    """The HH:MM a match's time groups (`T` with `prefix`) hold, or None; an hour past 23 is no time."""
    hour = m.group(f"{prefix}h")
    if hour is None:
        return None
    h = int(hour)
    minutes = m.group(f"{prefix}m") or m.group(f"{prefix}m2") or ("30" if m.group(f"{prefix}half") else "0")
    if m.group(f"{prefix}ap") in ("下午", "晚上") and h < 12:
        h += 12
    if h > 23 or int(minutes) > 59:
        return None
    return f"{h:02d}:{int(minutes):02d}"


_WEEKDAY = r"(?:\s*[(（]\s*(?:星期|周|礼拜)[一二三四五六日天1-7]\s*[)）])"
_CLOCK_AFTER = re.compile(_WEEKDAY + "?" + T.format("a") + "(?:" + TO + T.format("b") + ")?")
"""What may follow a day: （星期六）9:00-10:30, or -10:30 after a day that had its start time."""
_CLOCK_END = re.compile(TO + T.format("b"))


def times_after(view: View, m: re.Match[str]) -> tuple[str | None, str | None, int]:
    """The start and end times of the day `m` names (5月18日（星期六）9:00-10:30 is a day from 9:00 to
    10:30), and where the date's text ends."""
    start = time_of(m, "t") if "th" in m.groupdict() else None
    rest = view.text[m.end() :]
    if start is not None:
        end = _CLOCK_END.match(rest)
        if end is not None and time_of(end, "b") is not None:
            return start, time_of(end, "b"), m.end() + end.end()
        return start, None, m.end()
    clock = _CLOCK_AFTER.match(rest)
    if clock is None or time_of(clock, "a") is None:
        return None, None, m.end()
    return time_of(clock, "a"), time_of(clock, "b"), m.end() + clock.end()


CLOSES_AT = re.compile(r"截止(?:当日|当天|日|时间为)?\s*(?:的)?" + T.format("c"))
"""12月16日至1月8日…报名截止当日16:00关闭系统: the hour the one period of the sentence ends."""
SAME_DAY = re.compile(r"(?:同日|同一天|当日|当天)\s*" + T.format("a") + TO + T.format("b"))
"""技能操作考核安排在同日14:00-17:00: the hours of the day the notice named just before."""
