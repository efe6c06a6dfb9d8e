"""Which process runs the reminder jobs: APScheduler 3 cannot share a job store between processes,
so exactly one process at a time is elected through the database.

PostgreSQL: a session-level advisory lock on a connection kept open; the server releases it when
that process dies. SQLite: a lease row renewed well before it expires; a dead leader's lease runs
out and another process takes over.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.database import Database
from storage.models import Lease

log = logging.getLogger(__name__)

REMINDER_LOCK = 0x72656D69  # advisory lock key ("remi")


class Leadership(Protocol):
    async def hold(self) -> bool:
        """Acquires or keeps leadership; True while this process leads."""
        ...

    async def release(self) -> None: ...


class AdvisoryLockLeadership:
    def __init__(self, db: Database, key: int = REMINDER_LOCK) -> None:
        self.db = db
        self.key = key
        self.conn: AsyncConnection | None = None

    async def hold(self) -> bool:
        if self.conn is not None:
            try:
                await self.conn.execute(text("SELECT 1"))
                await self.conn.commit()
                return True
            except Exception:  # noqa: BLE001 - the connection died, and the lock with it
                log.warning("lost the reminder leadership connection")
                await self._close()
        conn = await self.db.engine.connect()
        try:
            got = (await conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key})).scalar()
            await conn.commit()  # the lock is held by the session, not the transaction
        except BaseException:
            await conn.close()
            raise
        if not got:
            await conn.close()
            return False
        self.conn = conn
        log.info("this process now runs the reminder jobs")
        return True

    async def release(self) -> None:
        if self.conn is not None:
            try:
                await self.conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
                await self.conn.commit()
            except Exception:  # noqa: BLE001 - closing the connection releases it anyway
                pass
            await self._close()

    async def _close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                await conn.close()
            except Exception:  # noqa: BLE001
                pass


class LeaseLeadership:
    def __init__(self, db: Database, owner: str, *, ttl: dt.timedelta, name: str = "reminders") -> None:
        self.db = db
        self.owner = owner
        self.ttl = ttl
        self.name = name
        self.leading = False

    async def hold(self) -> bool:
        now = dt.datetime.now(dt.UTC)  # real time: leases coordinate processes, not the bot's clock
        async with self.db.transaction() as session:
            await session.execute(
                sqlite.insert(Lease)
                .values(name=self.name, owner=self.owner, expires_at=now - dt.timedelta(seconds=1))
                .on_conflict_do_nothing(index_elements=["name"])
            )
            lease = await session.get(Lease, self.name, with_for_update=True, populate_existing=True)
            assert lease is not None
            if lease.owner == self.owner or lease.expires_at < now:
                lease.owner = self.owner
                lease.expires_at = now + self.ttl
                leading = True
            else:
                leading = False
        if leading and not self.leading:
            log.info("this process now runs the reminder jobs")
        self.leading = leading
        return leading

    async def release(self) -> None:
        async with self.db.transaction() as session:
            lease = await session.get(Lease, self.name, with_for_update=True)
            if lease is not None and lease.owner == self.owner:
                lease.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        self.leading = False


def leadership_for(db: Database, owner: str, *, ttl: dt.timedelta) -> Leadership:
    if db.is_sqlite:
        return LeaseLeadership(db, owner, ttl=ttl)
    return AdvisoryLockLeadership(db)
