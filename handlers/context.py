"""What a handler gets besides the message: services, the database session, the clock and state."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.conversation_state import ConversationState
from handlers.messages import Inbound
from handlers.privacy_notice import DEFAULT as DEFAULT_PRIVACY_NOTICE
from handlers.privacy_notice import PrivacyNotice
from handlers.reminder_schedule import DEFAULT_SCHEDULE, ReminderSchedule
from handlers.text import compact
from knowledge.base import KnowledgeBase
from knowledge.qa import PolicyQA
from knowledge.regions import PREFECTURE
from knowledge.snapshot import KnowledgeHolder, KnowledgeSnapshot
from knowledge.timezone import SHANGHAI
from storage.answer_stats import AnswerTally
from storage.masking import mask_text
from storage.pii import PiiCipher


@dataclass(frozen=True)
class Services:
    """Built once at start-up and shared by every conversation."""

    knowledge: KnowledgeHolder
    """The current knowledge (notices, answerer, variants); swapped whole when it changes."""
    cipher: PiiCipher
    schedule: ReminderSchedule = DEFAULT_SCHEDULE
    """When reminders go out (settings)."""
    privacy_notice: PrivacyNotice = DEFAULT_PRIVACY_NOTICE
    """Shown, and agreed to, before the withdrawal form's first personal question."""
    gaps_per_user_day: int = 20
    """Unanswered questions one user may add to the knowledge gaps per Beijing day: past it, a
    script asking random questions cannot fill the staff's list."""


@dataclass
class Context:
    """One message being handled, inside one database transaction."""

    inbound: Inbound
    services: Services
    session: AsyncSession
    now: dt.datetime
    """Aware; the engine's clock, which tests and demos may set (--now, BOT_NOW)."""
    knowledge: KnowledgeSnapshot
    """The knowledge this message is answered from, taken when its handling began."""
    state: ConversationState = field(default_factory=ConversationState)
    """The conversation's remembered state, saved when the message is done."""
    answers: AnswerTally = field(default_factory=AnswerTally)
    """Policy questions counted for the dashboard, written with the transaction."""
    awaited: str | None = None
    """What the bot's previous reply waited for (`handlers.awaiting`): it lasts this one message."""
    transcript_in: str | None = None
    """What the transcript keeps of the incoming message when not its text (a form answer as shown
    back, its personal data masked)."""

    @property
    def kb(self) -> KnowledgeBase:
        return self.knowledge.kb

    @property
    def qa(self) -> PolicyQA:
        return self.knowledge.qa

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(SHANGHAI).date()

    @property
    def channel(self) -> str:
        return self.inbound.key.channel

    @property
    def user_id(self) -> str:
        return self.inbound.key.user_id

    def remember_question(self, question: str) -> None:
        """Kept (masked) so that a later 转人工 tells staff what the candidate asked, and a follow-up
        (那报名呢, 那广州呢) is read with it."""
        self.state.last_question = mask_text(question[:200])
        self.state.last_asked = self.now.isoformat()

    def region_and_rest(self, text: str) -> tuple[str | None, str]:
        """The innermost region `text` names, and the rest of it compacted, without the region
        names: 江苏的 → (江苏省, 的)."""
        named = self.regions_in(text)
        # The rest as typed: typo repair may turn ordinary words into others (自己是 → 自技师).
        return (named[0] if named else None), compact(self.kb.regions.without_names(text))

    def regions_in(self, text: str) -> list[str]:
        """The regions `text` names, innermost first, after repairing typos ('广洲' → 广州)."""
        return self.kb.regions.detect(self.qa.analyzer.repair(text.strip()))

    def no_region_text(self, text: str, examples: str) -> str:
        """Why `text` gave no region: a name several regions share (which city?), or none at all."""
        regions = self.kb.regions
        for word, candidates in regions.ambiguous(self.qa.analyzer.repair(text.strip())).items():
            places = [regions.full_name(c, PREFECTURE) for c in candidates[:4]]
            return f"有多个地区叫“{word}”（{'、'.join(places)}）。请连同城市一起告诉我，例如：{places[0]}。"
        return f"没有识别出地区。请告诉我您报考所在的省份或城市，例如：{examples}。"
