"""Withdrawal/refund requests: reference numbers, creation, status changes, duplicate look-up and listing."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.masking import mask_id_number, mask_name, mask_phone, mask_text
from storage.models import RequestEvent, WithdrawalRequest
from storage.pii import PiiCipher
from storage.statuses import RequestStatus

STATUSES: tuple[str, ...] = tuple(status.value for status in RequestStatus)


_NEXT_NUMBER = text(
    "INSERT INTO reference_counters (day, last) VALUES (:day, 1) "
    "ON CONFLICT (day) DO UPDATE SET last = reference_counters.last + 1 RETURNING last"
)


REFERENCE = re.compile(r"\b[A-Z]{2,4}-\d{8}-\d{4}\b")
"""A reference number as `next_reference` makes them, wherever it appears in a text."""


async def next_reference(session: AsyncSession, day: dt.date, prefix: str = "QK") -> str:
    """QK-YYYYMMDD-NNNN. One upsert statement per number: concurrent submissions queue on the
    counter row instead of reading the same last value."""
    key = day.strftime("%Y%m%d")
    number = (await session.execute(_NEXT_NUMBER, {"day": key})).scalar_one()
    return f"{prefix}-{key}-{number:04d}"


@dataclass(frozen=True)
class NewRequest:
    channel: str
    user_id: str
    name: str
    id_number: str
    phone: str
    region: str
    doc_no: str
    occupation: str
    occupation_listed: bool
    level: str
    exam_date: dt.date
    institution: str
    receipt_no: str | None
    deadline: dt.date | None
    declaration: str
    consent: str | None = None
    """What the candidate agreed to before giving their personal information (the notice's version)."""
    scope_answer: str | None = None
    """是 or 不确定 to the scope question, when it was asked."""


async def find_for_exam(
    session: AsyncSession, *, id_number_hashes: list[str], occupation: str, exam_date: dt.date
) -> WithdrawalRequest | None:
    """The person's request for this exam; `id_number_hashes` under every loaded key (a rotation)."""
    stmt = select(WithdrawalRequest).where(
        WithdrawalRequest.id_number_hash.in_(id_number_hashes),
        WithdrawalRequest.occupation == occupation,
        WithdrawalRequest.exam_date == exam_date,
    )
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()


async def create_request(
    session: AsyncSession, new: NewRequest, *, cipher: PiiCipher, now: dt.datetime, today: dt.date
) -> WithdrawalRequest:
    """Stores a confirmed request with status `submitted`. The unique (person, occupation, exam
    date) constraint makes a concurrent duplicate fail rather than be stored twice."""
    request = WithdrawalRequest(
        reference=await next_reference(session, today),
        channel=new.channel,
        user_id=new.user_id,
        status=RequestStatus.SUBMITTED,
        name=new.name,
        id_number_cipher=cipher.encrypt(new.id_number, context="id_number"),
        id_number_hash=cipher.keyed_hash(new.id_number),
        id_number_masked=mask_id_number(new.id_number),
        phone_cipher=cipher.encrypt(new.phone, context="phone"),
        phone_masked=mask_phone(new.phone),
        region=new.region,
        doc_no=new.doc_no,
        occupation=new.occupation,
        occupation_listed=new.occupation_listed,
        level=new.level,
        exam_date=new.exam_date,
        institution=new.institution,
        receipt_no=new.receipt_no,
        scope_answer=new.scope_answer,
        deadline=new.deadline,
        declaration_cipher=cipher.encrypt(new.declaration, context="declaration"),
        declaration_masked=mask_text(new.declaration).replace(new.name, mask_name(new.name)),
        confirmed_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(request)
    await session.flush()
    session.add(
        RequestEvent(
            request_id=request.id,
            at=now,
            actor="candidate",
            action="submit",
            to_status=RequestStatus.SUBMITTED,
            note=new.consent,
        )
    )
    await session.flush()
    return request


async def change_status(
    session: AsyncSession,
    request: WithdrawalRequest,
    *,
    status: str,
    action: str,
    actor: str,
    now: dt.datetime,
    note: str | None = None,
) -> RequestEvent:
    """Moves `request` to `status` and adds the move to its history as `action` (with `note`); flushed,
    so the event has its id. The caller has locked the row and decided the move is allowed."""
    event = RequestEvent(
        request_id=request.id,
        at=now,
        actor=actor,
        action=action,
        from_status=request.status,
        to_status=status,
        note=note,
    )
    request.status = status
    request.updated_at = now
    session.add(event)
    await session.flush()
    return event


async def requests_of_user(session: AsyncSession, *, channel: str, user_id: str) -> list[WithdrawalRequest]:
    stmt = (
        select(WithdrawalRequest)
        .where(WithdrawalRequest.channel == channel, WithdrawalRequest.user_id == user_id)
        .order_by(WithdrawalRequest.id.desc())
    )
    return list((await session.execute(stmt)).scalars().all())


async def list_requests(
    session: AsyncSession, *, status: str | None = None, limit: int = 1000
) -> list[WithdrawalRequest]:
    stmt = select(WithdrawalRequest).order_by(WithdrawalRequest.id.desc()).limit(limit)
    if status is not None:
        stmt = stmt.where(WithdrawalRequest.status == status)
    return list((await session.execute(stmt)).scalars().all())


async def count_encrypted_rows(session: AsyncSession) -> int:
    """Requests whose ciphertexts a key must read (erased ones hold none)."""
    stmt = select(func.count(WithdrawalRequest.id)).where(WithdrawalRequest.erased_at.is_(None))
    return int((await session.execute(stmt)).scalar_one())
