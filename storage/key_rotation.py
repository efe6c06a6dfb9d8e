"""Re-encrypting every stored ciphertext under a new PII key (`python -m bot privacy rotate-key`).

The cipher holds the new key and the previous ones (`PiiCipher(new, previous=[old])`): servers
configured that way read rows of either key and write under the new one, so the rotation can run
while they serve. It goes through the rows in batches of one transaction each, skipping what is
already under the new key, so a rotation stopped half-way is resumed by running it again. A
request's declaration code is computed under the key it was made with and kept on the row first,
so printed declarations still verify. When no row is left under an old key, the database records
the new key's fingerprint, and the old key can be dropped from the configuration."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import Database
from storage.declarations import verification_code
from storage.models import ApiToken, Conversation, Setting, WithdrawalRequest
from storage.pii import PiiCipher

REQUEST_FIELDS = (("id_number_cipher", "id_number"), ("phone_cipher", "phone"), ("declaration_cipher", "declaration"))


@dataclass
class RotationReport:
    requests: int = 0
    form_values: int = 0
    api_tokens: int = 0
    left: int = 0
    """Ciphertexts still under an old key after the run (written meanwhile by a server holding only the old key)."""
    seconds: float = 0.0


def _rotate_request(request: WithdrawalRequest, cipher: PiiCipher) -> bool:
    if all(cipher.is_current(getattr(request, column), context=ctx) for column, ctx in REQUEST_FIELDS):
        return False
    request.kept_code = request.kept_code or verification_code(cipher, request)
    id_number = cipher.decrypt(request.id_number_cipher, context="id_number")
    for column, ctx in REQUEST_FIELDS:
        setattr(request, column, cipher.encrypt(cipher.decrypt(getattr(request, column), context=ctx), context=ctx))
    request.id_number_hash = cipher.keyed_hash(id_number)
    return True


def _rotate_state(state: dict[str, object], cipher: PiiCipher) -> tuple[dict[str, object], int]:
    """The state with its form's encrypted values under the new key, and how many changed."""
    form = state.get("form")
    values = form.get("values") if isinstance(form, dict) else None
    if not isinstance(values, dict):
        return state, 0
    changed = 0
    fresh = copy.deepcopy(state)
    for name, item in fresh["form"]["values"].items():  # type: ignore[index]
        if isinstance(item, dict) and item.get("enc") and isinstance(item.get("v"), str):
            context = f"form:{name}"
            if not cipher.is_current(item["v"], context=context):
                item["v"] = cipher.encrypt(cipher.decrypt(item["v"], context=context), context=context)
                changed += 1
    return fresh, changed


async def _requests_batch(session: AsyncSession, cipher: PiiCipher, after: int, batch: int) -> tuple[int, int]:
    """(the last id seen, requests re-encrypted) for the next `batch` rows after `after`; (after, 0) at the end."""
    stmt = (
        select(WithdrawalRequest)
        .where(WithdrawalRequest.id > after, WithdrawalRequest.erased_at.is_(None))
        .order_by(WithdrawalRequest.id)
        .limit(batch)
    )
    rows = list((await session.execute(stmt)).scalars())
    done = sum(_rotate_request(r, cipher) for r in rows)
    return (rows[-1].id if rows else after), done


async def _conversations_batch(session: AsyncSession, cipher: PiiCipher, after: int, batch: int) -> tuple[int, int]:
    stmt = select(Conversation).where(Conversation.id > after).order_by(Conversation.id).limit(batch)
    rows = list((await session.execute(stmt)).scalars())
    done = 0
    for row in rows:
        state, changed = _rotate_state(row.state or {}, cipher)
        if changed:
            # A new version: an engine that read the old state saves nothing and handles the message again.
            row.state, row.version, done = state, row.version + 1, done + changed
    return (rows[-1].id if rows else after), done


async def rotate(db: Database, cipher: PiiCipher, *, fingerprint_setting: str, batch: int = 500) -> RotationReport:
    started = dt.datetime.now(dt.UTC)
    report = RotationReport()
    for step, attr in ((_requests_batch, "requests"), (_conversations_batch, "form_values")):
        after = 0
        while True:
            async with db.transaction() as session:
                last, done = await step(session, cipher, after, batch)
            setattr(report, attr, getattr(report, attr) + done)
            if last == after:
                break
            after = last
    async with db.transaction() as session:
        # Access tokens live two hours: forgetting one costs a fetch, re-encrypting it would cost code.
        result = await session.execute(update(ApiToken).values(token_cipher=None, expires_at=None))
        report.api_tokens = int(result.rowcount or 0)  # type: ignore[attr-defined]
        report.left = await count_old(session, cipher)
        if report.left == 0:
            row = await session.get(Setting, fingerprint_setting)
            if row is None:
                session.add(Setting(name=fingerprint_setting, value=cipher.fingerprint))
            else:
                row.value = cipher.fingerprint
    report.seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
    return report


async def count_old(session: AsyncSession, cipher: PiiCipher) -> int:
    """Ciphertexts not under the newest key (requests and open forms)."""
    left = 0
    rows = await session.execute(
        select(WithdrawalRequest.id_number_cipher).where(WithdrawalRequest.erased_at.is_(None))
    )
    left += sum(not cipher.is_current(token, context="id_number") for (token,) in rows)
    for (state,) in await session.execute(select(Conversation.state)):
        left += _rotate_state(state or {}, cipher)[1]
    return left
