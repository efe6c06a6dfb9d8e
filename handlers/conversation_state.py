"""What the bot remembers of a conversation between messages, kept as JSON in its database row.

The JSON layout is the stored format: changing a key would strand the conversations in progress.
Keys this version does not know are kept as they are, so that an older process reading a newer
process's state (during a rolling restart) does not drop what it cannot read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CONFIRM_STEP = "__confirm__"
"""The form's `asking` while the candidate is shown the summary to confirm."""
_LEGACY_KEYS = frozenset({"recent"})
"""Kept in the state before handled_messages existed (migration 0010); dropped on load."""


@dataclass
class StoredValue:
    """One answered field: its value as JSON (encrypted when sensitive) and how it is shown back."""

    value: Any
    display: str
    kind: str | None = None
    """'date' when `value` is an ISO date."""
    encrypted: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"v": self.value, "d": self.display, "t": self.kind, "enc": self.encrypted}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoredValue:
        return cls(data.get("v"), str(data.get("d", "")), data.get("t"), bool(data.get("enc")))


@dataclass
class PendingGuess:
    """A parser's guess waiting for 是/否 (您是指『电工』吗？)."""

    field: str
    value: Any
    display: str
    kind: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "v": self.value, "t": self.kind, "d": self.display}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PendingGuess:
        return cls(str(data["field"]), data.get("v"), str(data.get("d", "")), data.get("t"))


@dataclass
class FormState:
    """A form in progress: which form, what is answered, and what it is asking now."""

    name: str
    values: dict[str, StoredValue] = field(default_factory=dict)
    asking: str | None = None
    """The field being asked, CONFIRM_STEP at the summary, None before the first question."""
    pending: PendingGuess | None = None
    order: list[str] = field(default_factory=list)
    """Fields in the order they were answered: 返回 goes back along it."""
    editing: bool = False
    """The field being asked is being changed (修改…), not answered for the first time."""

    @property
    def confirming(self) -> bool:
        return self.asking == CONFIRM_STEP

    def shown_value(self, name: str) -> Any:
        """A field's value as stored, if it is not encrypted (the region, say); else None."""
        item = self.values.get(name)
        return item.value if item is not None and not item.encrypted else None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "values": {k: v.to_json() for k, v in self.values.items()},
            "asking": self.asking,
            "pending": self.pending.to_json() if self.pending else None,
            "order": list(self.order),
            "editing": self.editing,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FormState:
        pending = data.get("pending")
        return cls(
            name=str(data["name"]),
            values={k: StoredValue.from_json(v) for k, v in (data.get("values") or {}).items()},
            asking=data.get("asking"),
            pending=PendingGuess.from_json(pending) if pending else None,
            order=[str(n) for n in data.get("order") or ()],
            editing=bool(data.get("editing")),
        )


@dataclass
class ConversationState:
    """Everything remembered of one conversation."""

    form: FormState | None = None
    region: str | None = None
    """The region the candidate's questions last named: later questions default to it."""
    last_question: str | None = None
    last_asked: str | None = None
    """When `last_question` was asked (ISO time): a follow-up leans on it for a while only."""
    last_facts: list[str] = field(default_factory=list)
    """The facts the last answer gave: 原文 shows their verbatim text."""
    more_facts: list[str] = field(default_factory=list)
    """Related facts the last answer left out: 更多 gives them."""
    """The last policy question (masked), so that a 转人工 after it tells staff what was asked."""
    unsubscribed: bool = False
    """The user left the Official Account (WeChat's unsubscribe event)."""
    handoff: int | None = None
    """The id of the handoff (转人工) the conversation is in: while it is open, what the candidate
    types goes to staff instead of the bot (`handlers.handoff`)."""
    handoff_told: bool = False
    """Whether the candidate has been told, since that handoff opened, that staff will reply."""
    topic: str | None = None
    """What the candidate's last questions were about (退考退费), for a follow-up that names no
    subject (她的截止是哪天)."""
    gaps_day: str | None = None
    """The Beijing day (ISO) `gaps_recorded` counts for."""
    gaps_recorded: int = 0
    """Unanswered questions of this conversation recorded as knowledge gaps on `gaps_day`."""
    awaiting: str | None = None
    """What the bot's last question outside a form waits for (e.g. the region of a withdrawal
    asked about in everyday words); the next message either answers it or clears it."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Keys this version does not know, kept as they were."""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = dict(self.extra)
        if self.form is not None:
            data["form"] = self.form.to_json()
        if self.region:
            data["region"] = self.region
        if self.last_question:
            data["last_question"] = self.last_question
        if self.last_asked:
            data["last_asked"] = self.last_asked
        if self.last_facts:
            data["last_facts"] = self.last_facts
        if self.more_facts:
            data["more_facts"] = self.more_facts
        if self.unsubscribed:
            data["unsubscribed"] = True
        if self.awaiting:
            data["awaiting"] = self.awaiting
        if self.topic:
            data["topic"] = self.topic
        if self.handoff is not None:
            data["handoff"] = {"id": self.handoff, "told": self.handoff_told}
        if self.gaps_day:
            data["gaps"] = {"day": self.gaps_day, "n": self.gaps_recorded}
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ConversationState:
        rest = {k: v for k, v in (data or {}).items() if k not in _LEGACY_KEYS}
        form = rest.pop("form", None)
        region = rest.pop("region", None)
        last_question = rest.pop("last_question", None)
        last_asked = rest.pop("last_asked", None)
        last_facts = rest.pop("last_facts", None)
        more_facts = rest.pop("more_facts", None)
        awaiting = rest.pop("awaiting", None)
        topic = rest.pop("topic", None)
        handoff = rest.pop("handoff", None)
        handoff_id = handoff.get("id") if isinstance(handoff, dict) else None
        gaps = rest.pop("gaps", None)
        gaps_day = gaps.get("day") if isinstance(gaps, dict) else None
        gaps_recorded = gaps.get("n") if isinstance(gaps, dict) else None
        return cls(
            form=FormState.from_json(form) if form else None,
            region=region if isinstance(region, str) and region else None,
            last_question=last_question if isinstance(last_question, str) and last_question else None,
            last_asked=last_asked if isinstance(last_asked, str) and last_asked else None,
            last_facts=[f for f in last_facts if isinstance(f, str)] if isinstance(last_facts, list) else [],
            more_facts=[f for f in more_facts if isinstance(f, str)] if isinstance(more_facts, list) else [],
            unsubscribed=bool(rest.pop("unsubscribed", False)),
            awaiting=awaiting if isinstance(awaiting, str) and awaiting else None,
            topic=topic if isinstance(topic, str) and topic else None,
            handoff=handoff_id if isinstance(handoff_id, int) else None,
            handoff_told=bool(isinstance(handoff, dict) and handoff.get("told")),
            gaps_day=gaps_day if isinstance(gaps_day, str) and gaps_day else None,
            gaps_recorded=gaps_recorded if isinstance(gaps_recorded, int) else 0,
            extra=rest,
        )
