"""Everything stored about one person, found by their ID number, to give them a copy or to erase it
(个人信息保护法 art. 45, 47). The person is found through the keyed hash of the ID number on their
requests; the channel accounts that filed those requests lead to the conversations, transcripts,
handoffs, subscriptions and messages of that person."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.masking import mask_id_number
from storage.models import (
    Conversation,
    Handoff,
    InboxMessage,
    RequestEvent,
    Subscription,
    TranscriptLine,
    UnansweredQuestion,
    WithdrawalRequest,
)
from storage.pii import PiiCipher
from storage.retention import PRUNED_REASON, erase_request

Account = tuple[str, str]
"""(channel, user_id)"""


@dataclass(frozen=True)
class Person:
    id_number: str
    requests: list[WithdrawalRequest]
    accounts: list[Account]

    @property
    def masked(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def found(self) -> bool:
        return bool(self.requests)


async def find_person(session: AsyncSession, cipher: PiiCipher, id_number: str) -> Person:
    digests = cipher.keyed_hashes(id_number)
    stmt = select(WithdrawalRequest).where(WithdrawalRequest.id_number_hash.in_(digests)).order_by(WithdrawalRequest.id)
    requests = list((await session.execute(stmt)).scalars())
    accounts = sorted({(r.channel, r.user_id) for r in requests})
    return Person(id_number.strip().upper(), requests, accounts)


def _by_account(model: Any, accounts: list[Account]) -> Any:
    return tuple_(model.channel, model.user_id).in_(accounts)


async def export_person(session: AsyncSession, cipher: PiiCipher, person: Person) -> dict[str, Any]:
    """A copy of everything stored about `person`, decrypted, as JSON-ready data."""
    accounts = person.accounts

    def when(value: dt.datetime | dt.date | None) -> str | None:
        return value.isoformat() if value is not None else None

    requests = []
    for r in person.requests:
        events = (await session.execute(select(RequestEvent).where(RequestEvent.request_id == r.id))).scalars()
        requests.append(
            {
                "reference": r.reference,
                "status": r.status,
                "name": r.name,
                "id_number": r.id_number_masked
                if r.erased
                else cipher.decrypt(r.id_number_cipher, context="id_number"),
                "phone": r.phone_masked if r.erased else cipher.decrypt(r.phone_cipher, context="phone"),
                "region": r.region,
                "occupation": r.occupation,
                "level": r.level,
                "exam_date": when(r.exam_date),
                "institution": r.institution,
                "receipt_no": r.receipt_no,
                "declaration": r.declaration_masked
                if r.erased
                else cipher.decrypt(r.declaration_cipher, context="declaration"),
                "confirmed_at": when(r.confirmed_at),
                "refunded_on": when(r.refunded_on),
                "erased_at": when(r.erased_at),
                "history": [
                    {"at": when(e.at), "action": e.action, "status": e.to_status, "note": e.note} for e in events
                ],
            }
        )
    copy: dict[str, Any] = {"id_number": person.id_number, "requests": requests, "accounts": []}
    for channel, user_id in accounts:
        one = [(channel, user_id)]
        state = (await session.execute(select(Conversation.state).where(_by_account(Conversation, one)))).scalar()
        lines = (
            await session.execute(
                select(TranscriptLine).where(_by_account(TranscriptLine, one)).order_by(TranscriptLine.id)
            )
        ).scalars()
        handoffs = (await session.execute(select(Handoff).where(_by_account(Handoff, one)))).scalars()
        subscriptions = (await session.execute(select(Subscription).where(_by_account(Subscription, one)))).scalars()
        copy["accounts"].append(
            {
                "channel": channel,
                "user_id": user_id,
                "conversation_state": state,
                "transcript": [{"at": when(t.at), "direction": t.direction, "text": t.text} for t in lines],
                "handoffs": [
                    {"created_at": when(h.created_at), "status": h.status, "reason": h.reason} for h in handoffs
                ],
                "subscriptions": [{"region": s.region, "occupation": s.occupation} for s in subscriptions],
            }
        )
    return copy


async def erase_person(session: AsyncSession, cipher: PiiCipher, person: Person, *, now: dt.datetime) -> dict[str, int]:
    """Erases `person`'s personal data wherever it is; how much of each. Requests stay, masked, as
    the record that they were filed; everything said in their accounts' conversations goes."""
    counts = {"requests": 0}
    for request in person.requests:
        if not request.erased:
            erase_request(request, cipher, now=now)
            counts["requests"] += 1
    accounts = person.accounts
    if accounts:
        for name, model in (
            ("transcript_lines", TranscriptLine),
            ("conversations", Conversation),
            ("subscriptions", Subscription),
            ("inbox_messages", InboxMessage),
            ("gap_questions", UnansweredQuestion),
        ):
            result = await session.execute(delete(model).where(_by_account(model, accounts)))
            counts[name] = int(result.rowcount or 0)  # type: ignore[attr-defined]
        result = await session.execute(
            update(Handoff).where(_by_account(Handoff, accounts)).values(reason=PRUNED_REASON)
        )
        counts["handoff_texts"] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    await session.flush()
    return counts
