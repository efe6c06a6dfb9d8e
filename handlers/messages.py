"""The bot's own message types. Channels convert SDK objects into these and back."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True)
class ConversationKey:
    """Who a conversation is with: the channel and the user's id on that channel."""

    channel: str
    user_id: str


class Command(StrEnum):
    """What a candidate asked for by a menu click, a Telegram command or a command word they typed.

    Channels map their own keys onto these (a WeChat menu key, /help); the words a candidate may
    type for each are declared by the feature that handles it (`handlers.routing`)."""

    HELP = "help"
    QA = "qa"
    WITHDRAW = "withdraw"
    MY_REQUESTS = "my_requests"
    REMIND = "remind"
    MY_REMINDERS = "my_reminders"
    REMIND_REQUEST = "remind_request"
    UNSUBSCRIBE = "unsubscribe"
    HUMAN = "human"
    CANCEL = "cancel"

    @property
    def label(self) -> str:
        """How the bot names it to candidates (and in the transcript)."""
        return COMMAND_LABELS[self]


COMMAND_LABELS = {
    Command.HELP: "帮助",
    Command.QA: "政策问答",
    Command.WITHDRAW: "退考退费",
    Command.MY_REQUESTS: "我的申请",
    Command.REMIND: "订阅提醒",
    Command.MY_REMINDERS: "我的提醒",
    Command.REMIND_REQUEST: "订阅截止提醒",
    Command.UNSUBSCRIBE: "退订",
    Command.HUMAN: "转人工",
    Command.CANCEL: "取消",
}


@dataclass(frozen=True)
class Inbound:
    """One message, command or event from a candidate.

    `message_id` is the channel's id for the message (WeChat MsgId, Telegram update id); a
    message delivered again with the same id is answered from the record, never run twice.
    """

    key: ConversationKey
    text: str = ""
    event: str | None = None
    """A channel event instead of text: 'subscribe', 'unsubscribe', 'image', 'voice' …"""
    message_id: str | None = None
    command: Command | None = None
    """A command the channel recognised (a menu click, /help); `text` may say more (退订1)."""
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def transcript_text(self) -> str:
        """The line the transcript keeps for this message."""
        if self.text:
            return self.text
        if self.command is not None:
            return f"[{self.command.label}]"
        return f"[{self.event or 'empty'}]"


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
            items = data.get(key) or ()
            return tuple(str(c) for c in items) if isinstance(items, list | tuple) else ()

        return cls(str(data["text"]), strings("choices"), strings("sources"), str(data.get("kind") or ""))


@dataclass(frozen=True)
class Outbound:
    """A message the bot sends first: a reminder, a request's new status, a staff reply.

    `fields` are short named values (title, date, source …) for channels that can only send a
    fixed template outside a conversation (WeChat template messages); `text` is the full message."""

    text: str
    kind: str = "notice"
    fields: dict[str, str] = field(default_factory=dict)
