"""The reminder schedule from the settings."""

from __future__ import annotations

from bot.config import Settings
from handlers.reminder_schedule import ReminderSchedule


def channel_quotas(settings: Settings) -> dict[str, dict[str, int]]:
    """Each channel's daily quotas by route: WeChat's template and customer-service messages, where the
    bot can send WeChat messages at all (an AppID); elsewhere staff are not shown quotas that mean nothing."""
    if not settings.wechat_app_id:
        return {}
    return {
        "wechat": {
            "template": settings.wechat_daily_quota_template,
            "custom": settings.wechat_daily_quota_custom,
        }
    }


def schedule_from_settings(settings: Settings) -> ReminderSchedule:
    return ReminderSchedule.build(
        offsets=settings.reminder_offsets,
        quiet_hours=settings.quiet_hours,
        daily_cap=settings.reminder_daily_cap,
        quotas=channel_quotas(settings),
    )
