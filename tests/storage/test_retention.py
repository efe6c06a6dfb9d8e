"""The retention job on a real database: finished requests lose their personal data after the period
(and keep counting, masked), the rest keep theirs; old texts are pruned; a second run does nothing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from bot.config import Settings
from bot.retention import RetentionJob, last_run
from handlers.context import Services
from knowledge.timezone import SHANGHAI
from storage.conversations import append_transcript
from storage.declarations import DeclarationDoc, ExportRow, verification_code, verify
from storage.masking import mask_name
from storage.models import AuditEntry, Conversation, Handoff, TranscriptLine, WithdrawalRequest
from storage.requests import count_encrypted_rows
from storage.statuses import HandoffStatus
from tests.storage.request_factory import make

NOW = dt.datetime(2026, 12, 6, 3, 0, tzinfo=dt.UTC)


def days_ago(n: float) -> dt.datetime:
    return NOW - dt.timedelta(days=n)


def settings() -> Settings:
    return Settings(_env_file=None, request_retention_days=180)  # type: ignore[call-arg]


async def finish(db, request: WithdrawalRequest, status: str, when: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        row = await session.get(WithdrawalRequest, request.id)
        row.status, row.updated_at = status, when


async def reload(db, request_id: int) -> WithdrawalRequest:  # type: ignore[no-untyped-def]
    async with db.sessions() as session:
        row = await session.get(WithdrawalRequest, request_id)
        assert row is not None
        return row


async def test_finished_requests_are_erased_after_the_period_and_still_count(db, services: Services) -> None:  # type: ignore[no-untyped-def]
    cipher = services.cipher
    old_refund = await make(db, services, name="欧阳明", confirmed=days_ago(300).astimezone(SHANGHAI))
    old_reject = await make(db, services, name="李四", confirmed=days_ago(300).astimezone(SHANGHAI))
    recent = await make(db, services, name="王五", confirmed=days_ago(100).astimezone(SHANGHAI))
    pending = await make(db, services, name="赵六", confirmed=days_ago(400).astimezone(SHANGHAI))
    await finish(db, old_refund, "refunded", days_ago(181))
    await finish(db, old_reject, "rejected", days_ago(200))
    await finish(db, recent, "refunded", days_ago(179))
    code_before = verification_code(cipher, await reload(db, old_refund.id))

    job = RetentionJob(db, cipher, lambda: NOW, settings(), batch=1)  # batches of one: the loop carries on
    report = await job.run_once()
    assert report.erased_requests == 2

    erased = await reload(db, old_refund.id)
    assert erased.erased and erased.erased_at == NOW
    assert (erased.id_number_cipher, erased.phone_cipher, erased.declaration_cipher) == ("", "", "")
    assert erased.name == mask_name("欧阳明") != "欧阳明" and erased.id_number_hash == f"erased:{erased.id}"
    assert erased.id_number_masked.startswith("4401") and erased.phone_masked == "138****5678"
    assert verification_code(cipher, erased) == code_before and verify(cipher, erased, code_before)
    assert ExportRow.from_request(erased, cipher, reveal=True).id_number == erased.id_number_masked
    assert DeclarationDoc.from_request(erased, cipher, reveal=True).text == erased.declaration_masked
    for kept in (recent, pending):
        row = await reload(db, kept.id)
        assert not row.erased and cipher.decrypt(row.phone_cipher, context="phone") == "13812345678"

    async with db.sessions() as session:
        assert int((await session.execute(select(func.count(WithdrawalRequest.id)))).scalar_one()) == 4
        assert await count_encrypted_rows(session) == 2
        audit = list(
            (await session.execute(select(AuditEntry).where(AuditEntry.action == "privacy.retention"))).scalars()
        )
    assert len(audit) == 1 and "删除 2 份" in (audit[0].note or "") and audit[0].actor == "system"
    assert await last_run(db) == NOW

    again = await job.run_once()
    assert not again.changed, "idempotent: nothing left to do"
    async with db.sessions() as session:
        count = select(func.count(AuditEntry.id)).where(AuditEntry.action == "privacy.retention")
        assert int((await session.execute(count)).scalar_one()) == 1


async def test_old_texts_are_pruned_and_recent_ones_kept(db, services: Services) -> None:  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        await append_transcript(
            session, channel="web", user_id="old", lines=[("in", "很久以前的问题")], now=days_ago(400)
        )
        await append_transcript(session, channel="web", user_id="new", lines=[("in", "昨天的问题")], now=days_ago(1))
        session.add(
            Conversation(
                channel="web",
                user_id="old",
                state={"region": "广州市"},
                created_at=days_ago(400),
                updated_at=days_ago(200),
            )
        )
        session.add(
            Conversation(channel="web", user_id="new", state={}, created_at=days_ago(2), updated_at=days_ago(1))
        )
        for who, resolved in (("old", days_ago(400)), ("new", days_ago(10))):
            session.add(
                Handoff(
                    channel="web",
                    user_id=who,
                    status=str(HandoffStatus.RESOLVED),
                    reason=f"{who}的问题",
                    created_at=resolved,
                    updated_at=resolved,
                    resolved_at=resolved,
                )
            )
    report = await RetentionJob(db, services.cipher, lambda: NOW, settings()).run_once()
    assert report.pruned["transcript_lines"] == 1 and report.pruned["conversations"] == 1
    assert report.pruned["handoff_texts"] == 1
    async with db.sessions() as session:
        texts = list((await session.execute(select(TranscriptLine.text))).scalars())
        users = list((await session.execute(select(Conversation.user_id))).scalars())
        reasons = dict((await session.execute(select(Handoff.user_id, Handoff.reason))).all())
    assert texts == ["昨天的问题"] and users == ["new"]
    assert reasons["new"] == "new的问题" and "已删除" in reasons["old"]
    assert not (await RetentionJob(db, services.cipher, lambda: NOW, settings()).run_once()).changed
