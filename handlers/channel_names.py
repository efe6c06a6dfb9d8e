"""The channels' names as staff read them (the console's lists, a reply's refusal)."""

from __future__ import annotations

CHANNEL_LABELS = {"wechat": "微信", "telegram": "Telegram", "web": "网页", "cli": "命令行"}


def channel_label(channel: str) -> str:
    return CHANNEL_LABELS.get(channel, channel)
