"""The (timestamp, nonce) pairs of recent plaintext-mode WeChat requests, shared by every worker.

In plaintext mode WeChat's signature covers the token, timestamp and nonce but not the body, so a
signed URL seen once (in a proxy's log, say) could carry any message within the freshness window.
Each pair is remembered with a digest of its body: WeChat's own retry (the identical request) is let
through to find its recorded reply, and the same pair with another body is refused."""

from __future__ import annotations

import datetime as dt
import hmac

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import WeChatNonce


async def remember_nonce(session: AsyncSession, *, key: str, digest: str, now: dt.datetime) -> bool:
    """True when `key` is new (and is now remembered) or was seen with the same `digest`."""
    seen = await session.scalar(select(WeChatNonce.digest).where(WeChatNonce.key == key))
    if seen is None:
        try:
            async with session.begin_nested():
                session.add(WeChatNonce(key=key, digest=digest, at=now))
            return True
        except IntegrityError:  # another worker remembered it first
            seen = await session.scalar(select(WeChatNonce.digest).where(WeChatNonce.key == key))
            if seen is None:
                return False
    return hmac.compare_digest(seen, digest)


async def prune_nonces(session: AsyncSession, *, before: dt.datetime) -> int:
    """Forgets pairs remembered before `before` (their timestamps are refused by then anyway)."""
    result = await session.execute(delete(WeChatNonce).where(WeChatNonce.at < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
