"""What a handler gets besides the message: services, the database session, the clock and state."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.messages import Inbound
from knowledge.timezone import SHANGHAI

if TYPE_CHECKING:
    from handlers.reminder_schedule import ReminderSchedule
from knowledge.base import KnowledgeBase
from knowledge.qa import PolicyQA
from storage.answer_stats import AnswerTally
from storage.pii import PiiCipher


@dataclass(frozen=True)
class Services:
    """Built once at start-up and shared by every conversation."""

    kb: KnowledgeBase
    qa: PolicyQA
    cipher: PiiCipher
    schedule: ReminderSchedule | None = None
    """When reminders go out (settings); None means the defaults."""

    def regions_in(self, text: str) -> list[str]:
        """The regions `text` names, innermost first, after repairing typos ('广洲' → 广州)."""
        return self.kb.regions.detect(self.qa.analyzer.repair(text.strip()))


@dataclass
class Context:
    """One message being handled, inside one database transaction."""

    inbound: Inbound
    services: Services
    session: AsyncSession
    now: dt.datetime
    """Aware; the engine's clock, which tests and demos may set (--now, BOT_NOW)."""
    state: dict[str, Any] = field(default_factory=dict)
    """The conversation's remembered state, saved as JSON when the message is done."""
    answers: AnswerTally = field(default_factory=AnswerTally)
    """Policy questions counted for the dashboard, written with the transaction."""

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(SHANGHAI).date()

    @property
    def channel(self) -> str:
        return self.inbound.key.channel

    @property
    def user_id(self) -> str:
        return self.inbound.key.user_id
