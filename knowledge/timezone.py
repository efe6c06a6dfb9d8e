"""Beijing time: the one zone every date in the notices, the deadlines and the reminders is read in."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def today_in_shanghai() -> dt.date:
    return dt.datetime.now(SHANGHAI).date()


def beijing_date(instant: dt.datetime) -> dt.date:
    """The Beijing-time calendar day of an aware instant."""
    return instant.astimezone(SHANGHAI).date()
