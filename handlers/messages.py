"""The bot's own message types. Channels convert SDK objects into these and back."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ConversationKey:
    """Who a conversation is with: the channel and the user's id on that channel."""

    channel: str
    user_id: str


@dataclass(frozen=True)
class Inbound:
    """One message or event from a candidate.

    `message_id` is the channel's id for the message (WeChat MsgId, Telegram update id); a
    message delivered again with the same id is answered from the record, never run twice.
    """

    key: ConversationKey
    text: str = ""
    event: str | None = None
    """A channel event instead of text: 'subscribe', 'unsubscribe', 'menu:退考退费', 'image' …"""
    message_id: str | None = None
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


@dataclass(frozen=True)
class Reply:
    """Text to send, with optional quick-reply choices the channel may render as buttons."""

    text: str
    choices: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {"text": self.text, "choices": list(self.choices)}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Reply:
        choices = data.get("choices") or ()
        return cls(str(data["text"]), tuple(str(c) for c in choices))  # type: ignore[union-attr]
