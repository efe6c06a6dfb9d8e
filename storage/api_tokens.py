"""One access token per API, shared by every process through the database, refreshed by one at a time.

A process that finds the token missing, expiring or rejected takes a short lease on its row and
fetches a new one; the others wait for the row to change instead of fetching their own. A lease
whose holder died runs out and the next caller takes over.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy import select, text

from storage.database import Database
from storage.models import ApiToken
from storage.pii import PiiCipher, PiiDecryptError

Fetch = Callable[[bool], Awaitable[tuple[str, int]]]
"""Fetches a new token: `fetch(force)` → (token, seconds it is valid). `force` asks the API for a
new token even if it would hand out the current one (the old one was rejected)."""

_ENSURE_ROW = text("INSERT INTO api_tokens (name, refresh_count) VALUES (:name, 0) ON CONFLICT (name) DO NOTHING")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class TokenUnavailable(Exception):
    """No token could be had within the wait: the refresher failed or the API is down."""


class SharedToken:
    def __init__(
        self,
        db: Database,
        cipher: PiiCipher,
        name: str,
        *,
        renew_before: dt.timedelta = dt.timedelta(minutes=5),
        lease: dt.timedelta = dt.timedelta(seconds=30),
        failure_backoff: dt.timedelta = dt.timedelta(seconds=2),
        wait: float = 35.0,
        poll: float = 0.1,
        now: Callable[[], dt.datetime] = _utcnow,
    ) -> None:
        self.db = db
        self.cipher = cipher
        self.name = name
        self.renew_before = renew_before
        self.lease = lease
        self.failure_backoff = failure_backoff
        self.wait = wait
        self.poll = poll
        self.now = now
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._cached: tuple[str, dt.datetime] | None = None
        self._lock = asyncio.Lock()

    def _context(self) -> str:
        return f"api_tokens.{self.name}"

    def _fresh(self, expires_at: dt.datetime | None) -> bool:
        return expires_at is not None and expires_at - self.renew_before > self.now()

    async def get(self, fetch: Fetch, *, rejected: str | None = None) -> str:
        """A valid token. Pass the token the API just `rejected` to have it replaced, once, however
        many callers report it at the same time."""
        async with self._lock:
            cached = self._cached
            if cached and cached[0] != rejected and self._fresh(cached[1]):
                return cached[0]
            token, expires_at = await self._shared(fetch, rejected)
            self._cached = (token, expires_at)
            return token

    async def _shared(self, fetch: Fetch, rejected: str | None) -> tuple[str, dt.datetime]:
        give_up = time.monotonic() + self.wait
        while True:
            leased = await self._read_or_lease(rejected)
            if isinstance(leased, tuple):
                return leased
            if leased:
                return await self._refresh(fetch, force=rejected is not None)
            if time.monotonic() > give_up:
                raise TokenUnavailable(f"no {self.name} token within {self.wait:.0f} s")
            await asyncio.sleep(self.poll)

    async def _read_or_lease(self, rejected: str | None) -> tuple[str, dt.datetime] | bool:
        """The stored token if usable; else True if we now hold the lease, False if another does."""
        async with self.db.transaction() as session:
            await session.execute(_ENSURE_ROW, {"name": self.name})
            row = (
                await session.execute(select(ApiToken).where(ApiToken.name == self.name).with_for_update())
            ).scalar_one()
            now = self.now()
            if row.token_cipher and self._fresh(row.expires_at):
                try:
                    token = self.cipher.decrypt(row.token_cipher, context=self._context())
                except PiiDecryptError:
                    token = None  # written under another key: fetch a new one
                if token is not None and token != rejected:
                    assert row.expires_at is not None
                    return token, row.expires_at
            if row.lease_until is not None and row.lease_until > now and row.lease_owner != self.owner:
                return False
            row.lease_owner = self.owner
            row.lease_until = now + self.lease
            return True

    async def _refresh(self, fetch: Fetch, *, force: bool) -> tuple[str, dt.datetime]:
        try:
            token, valid_for = await fetch(force)
        except BaseException:
            await self._back_off()
            raise
        now = self.now()
        expires_at = now + dt.timedelta(seconds=valid_for)
        async with self.db.transaction() as session:
            row = await session.get(ApiToken, self.name, with_for_update=True)
            assert row is not None
            row.token_cipher = self.cipher.encrypt(token, context=self._context())
            row.expires_at = expires_at
            row.refreshed_at = now
            row.refresh_count += 1
            row.lease_owner = None
            row.lease_until = None
        return token, expires_at

    async def _back_off(self) -> None:
        # Keep the lease a little longer instead of releasing it, so that while the API is down the
        # other processes do not take turns hammering it.
        async with self.db.transaction() as session:
            row = await session.get(ApiToken, self.name, with_for_update=True)
            if row is not None and row.lease_owner == self.owner:
                row.lease_until = self.now() + self.failure_backoff
