"""The reminder schedule from the settings."""

from __future__ import annotations

from bot.config import Settings
from handlers.reminder_schedule import ReminderSchedule


def schedule_from_settings(settings: Settings) -> ReminderSchedule:
    return ReminderSchedule.build(
        offsets=settings.reminder_offsets, quiet_hours=settings.quiet_hours, daily_cap=settings.reminder_daily_cap
    )
