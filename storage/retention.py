"""Keeping personal data only as long as needed (个人信息保护法 art. 19, 47).

A finished request (refunded or rejected) keeps its personal data for the retention period, then is
erased: the ID number, phone and declaration ciphertexts are emptied, the name reduced to its masked
form and the ID number's keyed hash replaced, while the masked values, the occupation, dates and
status stay, so that the request still counts in statistics and appears, masked, in exports. The
declaration's verification code is kept, so that a printed declaration can still be matched.

Transcripts, idle conversation states, knowledge-gap questions and finished handoffs' texts are
pruned after their own periods. Every function here is idempotent: run twice, the second run
finds nothing to do."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.declarations import verification_code
from storage.masking import mask_name
from storage.models import Conversation, Handoff, TranscriptLine, UnansweredQuestion, WithdrawalRequest
from storage.pii import PiiCipher
from storage.statuses import HandoffStatus, RequestStatus

FINAL = (RequestStatus.REFUNDED, RequestStatus.REJECTED)
PRUNED_REASON = "（已超过保存期限，内容已删除）"


@dataclass(frozen=True)
class Cutoffs:
    """Data older than these instants goes."""

    requests: dt.datetime
    """Requests that reached a final state before this."""
    transcripts: dt.datetime
    conversations: dt.datetime
    """Conversation states not touched since (no form can still be open after so long)."""
    gap_questions: dt.datetime
    handoffs: dt.datetime
    """Resolved handoffs: their reason text (the candidate's question)."""


def _due(before: dt.datetime) -> tuple[ColumnElement[bool], ...]:
    r = WithdrawalRequest
    return (r.erased_at.is_(None), r.status.in_([str(s) for s in FINAL]), r.updated_at < before)


async def erase_requests(
    session: AsyncSession, cipher: PiiCipher, *, before: dt.datetime, now: dt.datetime, limit: int = 500
) -> list[int]:
    """Erases up to `limit` requests finished before `before`; their ids. Call again until empty."""
    rows = (
        await session.execute(
            select(WithdrawalRequest).where(*_due(before)).order_by(WithdrawalRequest.id).limit(limit)
        )
    ).scalars()
    erased = []
    for request in rows:
        erase_request(request, cipher, now=now)
        erased.append(request.id)
    await session.flush()
    return erased


def erase_request(request: WithdrawalRequest, cipher: PiiCipher, *, now: dt.datetime) -> None:
    """Empties the ciphertexts, masks the name, replaces the ID number's hash; keeps the code."""
    request.kept_code = verification_code(cipher, request)
    request.id_number_cipher = ""
    request.phone_cipher = ""
    request.declaration_cipher = ""
    request.id_number_hash = f"erased:{request.id}"
    request.name = mask_name(request.name)
    request.erased_at = now


async def count_due(session: AsyncSession, *, before: dt.datetime) -> int:
    return int((await session.execute(select(func.count()).where(*_due(before)))).scalar_one())


async def count_erased(session: AsyncSession) -> int:
    stmt = select(func.count()).where(WithdrawalRequest.erased_at.is_not(None))
    return int((await session.execute(stmt)).scalar_one())


async def prune(session: AsyncSession, cutoffs: Cutoffs) -> dict[str, int]:
    """Deletes what is older than its cutoff; how many of each."""
    counts = {}
    result = await session.execute(delete(TranscriptLine).where(TranscriptLine.at < cutoffs.transcripts))
    counts["transcript_lines"] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    result = await session.execute(delete(Conversation).where(Conversation.updated_at < cutoffs.conversations))
    counts["conversations"] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    result = await session.execute(
        delete(UnansweredQuestion).where(UnansweredQuestion.asked_at < cutoffs.gap_questions)
    )
    counts["gap_questions"] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    result = await session.execute(
        update(Handoff)
        .where(
            Handoff.status == str(HandoffStatus.RESOLVED),
            Handoff.resolved_at < cutoffs.handoffs,
            Handoff.reason != PRUNED_REASON,
        )
        .values(reason=PRUNED_REASON)
    )
    counts["handoff_texts"] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    return counts
