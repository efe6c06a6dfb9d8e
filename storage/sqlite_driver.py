"""SQLAlchemy's aiosqlite dialect, with one trip to the database thread per statement.

aiosqlite runs each sqlite3 call on its own thread, and SQLAlchemy's adapter makes four such calls
for a SELECT (cursor, execute, fetchall, close) and three for an INSERT or UPDATE. Every trip is a
queue hand-off, a thread wake-up and an event-loop wake-up: on this project's hot path (about six
statements a message) the trips cost more than SQLite itself. Here the cursor's work runs as one
function on the same thread, in the same order, with the same errors.

`Database` uses this dialect whenever the URL says `sqlite+aiosqlite` and `fast_path` is on (the
default; `SQLITE_FAST_PATH=false` gives SQLAlchemy's own dialect); nothing else changes.

Inline statements. Even one trip costs about 70 µs of CPU on this project's machines (a queue
hand-off, two thread wake-ups, the event loop's self-pipe), against 1 µs for a small SQLite
statement. A connection marked `inline` runs its statements, and its COMMIT, on the calling
(event-loop) thread instead. `Database.transaction(inline=True)` marks the connection only after
BEGIN IMMEDIATE has taken the write lock on the driver's thread, so that the wait for the lock
never blocks the event loop; in between, in WAL mode, nothing waits for another connection, and
COMMIT only appends to the WAL, because `Database` runs the checkpoints (which fsync) on the
driver's thread. Only short, indexed statements belong there (the conversation engine's): a long
query would hold up every other request of the process.

What it buys, measured with `python -m benchmarks.wechat --rounds 5` (docs/benchmarks.md, 2026-12-06,
2 cores): 1,417 WeChat messages/s with the fast path and 1,093/s without it (+29.7%), and at half that
load a p99 of 63 ms instead of 89 ms. A run without the inline transaction but with one trip per
statement did no better than neither: the gain is the inline transaction's, which needs this cursor.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

DRIVER_NAME = "sqlite+jd_aiosqlite"


Parameters = Sequence[Any] | Mapping[str, Any] | None


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    @property
    def _inline(self) -> bool:
        connection = self._adapt_connection
        return isinstance(connection, OneTripConnection) and connection.inline

    def execute(self, operation: Any, parameters: Parameters = None) -> Any:
        try:
            if self._inline:
                self._execute_on_thread(operation, parameters)
            else:
                self.await_(self._connection._execute(self._execute_on_thread, operation, parameters))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(
        self, operation: Any, seq_of_parameters: Sequence[Sequence[Any]] | Sequence[Mapping[str, Any]]
    ) -> Any:
        try:
            if self._inline:
                self._executemany_on_thread(operation, seq_of_parameters)
            else:
                self.await_(self._connection._execute(self._executemany_on_thread, operation, seq_of_parameters))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    # The two methods below run on aiosqlite's thread while the event loop awaits their result,
    # so nothing else touches the cursor's attributes meanwhile.
    def _execute_on_thread(self, operation: Any, parameters: Parameters) -> None:
        cursor = self._connection._conn.cursor()
        try:
            if parameters is None:
                cursor.execute(operation)
            else:
                cursor.execute(operation, parameters)
            if cursor.description:
                self.description = cursor.description
                self.lastrowid = self.rowcount = -1
                self._rows = deque(cursor.fetchall())
            else:
                self.description = None
                self.lastrowid = cursor.lastrowid
                self.rowcount = cursor.rowcount
        finally:
            cursor.close()

    def _executemany_on_thread(
        self, operation: Any, seq_of_parameters: Sequence[Sequence[Any]] | Sequence[Mapping[str, Any]]
    ) -> None:
        cursor = self._connection._conn.cursor()
        try:
            cursor.executemany(operation, seq_of_parameters)
            self.description = None
            self.lastrowid = cursor.lastrowid
            self.rowcount = cursor.rowcount
        finally:
            cursor.close()


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("inline",)

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.inline = False

    def commit(self) -> None:
        if not self.inline:
            super().commit()
            return
        try:
            self._connection._conn.commit()
        except Exception as error:
            self._handle_exception(error)

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        if server_side:  # streamed results fetch in steps: keep SQLAlchemy's own cursor
            return super().cursor(server_side=True)
        return OneTripCursor(self)


class OneTripDbapi(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *args: Any, **kwargs: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*args, **kwargs)
        return OneTripConnection(self, adapted._connection)


class OneTripDialect(SQLiteDialect_aiosqlite):
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> AsyncAdapt_aiosqlite_dbapi:
        return OneTripDbapi(__import__("aiosqlite"), __import__("sqlite3"))


registry.register("sqlite.jd_aiosqlite", __name__, "OneTripDialect")


CHECKPOINT_EVERY = 1.0
"""Seconds between two WAL checkpoints while this process commits."""


class Checkpoints:
    """WAL checkpoints on the driver's thread, at most once every CHECKPOINT_EVERY while the process
    commits. SQLite's own checkpoint, every 1,000 pages, runs inside the COMMIT that crosses the mark:
    on the event loop's thread when that commit is inline, stalling every request for 10–20 ms with
    its fsyncs (measured: an inline commit's p99 went from 20 ms to 1.5 ms). `Database` turns SQLite's
    automatic checkpoint off when it installs these."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._task: asyncio.Task[None] | None = None
        self._next = 0.0

    def install(self) -> None:
        event.listen(self.engine.sync_engine, "commit", lambda _conn: self.soon())

    def soon(self) -> None:
        """Starts a passive checkpoint (it waits for no one, and no one waits for it) in the
        background, unless one ran less than CHECKPOINT_EVERY ago or is running."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a commit outside any event loop: the next one will see to it
            return
        if (self._task is not None and not self._task.done()) or loop.time() < self._next:
            return
        self._next = loop.time() + CHECKPOINT_EVERY
        self._task = loop.create_task(self._checkpoint())

    async def _checkpoint(self) -> None:
        try:
            async with self.engine.connect() as conn:
                # On aiosqlite itself, outside any transaction: SQLAlchemy would begin one (BEGIN
                # IMMEDIATE, which waits for the write lock a passive checkpoint does not need).
                raw = await conn.get_raw_connection()
                driver = raw.driver_connection
                assert driver is not None
                await (await driver.execute("PRAGMA wal_checkpoint(PASSIVE)")).close()
        except Exception as exc:  # noqa: BLE001 - the next commit tries again; the WAL only grows meanwhile
            log.warning("WAL checkpoint failed: %s", type(exc).__name__)

    async def wait(self) -> None:
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
