"""The retention job: erases finished requests' personal data and prunes old texts, in the elected
process (it runs beside the reminders, on the same leadership), and says what it did.

Each batch of requests is its own transaction, so a job stopped half-way keeps what it erased and
the next run carries on; the audit log gets one entry per run that changed anything."""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from handlers.clock import Clock
from storage import retention
from storage.audit import append_entry
from storage.database import Database
from storage.models import Setting
from storage.pii import PiiCipher

log = logging.getLogger(__name__)

ACTOR = "system"
LAST_RUN = "retention.last_run"
EVERY_SECONDS = 3600.0


@dataclass
class RetentionReport:
    erased_requests: int = 0
    pruned: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.erased_requests or any(self.pruned.values()))

    def summary(self) -> str:
        labels = {
            "transcript_lines": "条对话记录",
            "conversations": "个会话状态",
            "gap_questions": "条知识缺口原话",
            "handoff_texts": "条人工服务问题文本",
        }
        parts = [f"删除 {self.erased_requests} 份已办结申请的个人信息"]
        parts += [f"清理 {n} {labels.get(k, k)}" for k, n in self.pruned.items() if n]
        return "；".join(parts)


def cutoffs(settings: Settings, now: dt.datetime) -> retention.Cutoffs:
    def days(n: int) -> dt.datetime:
        return now - dt.timedelta(days=n)

    return retention.Cutoffs(
        requests=days(settings.request_retention_days),
        transcripts=days(settings.transcript_retention_days),
        conversations=days(settings.conversation_retention_days),
        gap_questions=days(settings.gap_question_retention_days),
        handoffs=days(settings.handoff_retention_days),
    )


class RetentionJob:
    def __init__(self, db: Database, cipher: PiiCipher, clock: Clock, settings: Settings, *, batch: int = 500) -> None:
        self.db = db
        self.cipher = cipher
        self.clock = clock
        self.settings = settings
        self.batch = batch

    async def run_once(self) -> RetentionReport:
        started = time.perf_counter()
        now = self.clock()
        limits = cutoffs(self.settings, now)
        report = RetentionReport()
        while True:
            async with self.db.transaction() as session:
                erased = await retention.erase_requests(
                    session, self.cipher, before=limits.requests, now=now, limit=self.batch
                )
            report.erased_requests += len(erased)
            if len(erased) < self.batch:
                break
        async with self.db.transaction() as session:
            report.pruned = await retention.prune(session, limits)
            report.seconds = time.perf_counter() - started
            if report.changed:
                await append_entry(session, at=now, actor=ACTOR, action="privacy.retention", note=report.summary())
            await _set(session, LAST_RUN, now.isoformat())
        if report.changed:
            log.info("retention: %s in %.1f s", report.summary(), report.seconds)
        return report


async def _set(session: AsyncSession, name: str, value: str) -> None:
    row = await session.get(Setting, name)
    if row is None:
        session.add(Setting(name=name, value=value))
    else:
        row.value = value


async def last_run(db: Database) -> dt.datetime | None:
    async with db.sessions() as session:
        value = (await session.execute(select(Setting.value).where(Setting.name == LAST_RUN))).scalar()
    return dt.datetime.fromisoformat(value) if value else None
