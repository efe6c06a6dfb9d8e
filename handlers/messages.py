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
    sources: tuple[str, ...] = ()
    """Document numbers the text relies on, for channels that show them apart (the web page)."""
    kind: str = ""
    """What produced it: 'answer' or 'abstain' for policy questions; '' otherwise. Used for metrics."""

    def to_json(self) -> dict[str, object]:
        return {"text": self.text, "choices": list(self.choices), "sources": list(self.sources), "kind": self.kind}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Reply:
        def strings(key: str) -> tuple[str, ...]:
            return tuple(str(c) for c in data.get(key) or ())  # type: ignore[union-attr]

        return cls(str(data["text"]), strings("choices"), strings("sources"), str(data.get("kind") or ""))


@dataclass(frozen=True)
class Outbound:
    """A message the bot sends first: a reminder, a request's new status, a staff reply.

    `fields` are short named values (title, date, source …) for channels that can only send a
    fixed template outside a conversation (WeChat template messages); `text` is the full message."""

    text: str
    kind: str = "notice"
    fields: dict[str, str] = field(default_factory=dict)
