"""SQLAlchemy's aiosqlite dialect, with one trip to the database thread per statement.

aiosqlite runs each sqlite3 call on its own thread, and SQLAlchemy's adapter makes four such calls
for a SELECT (cursor, execute, fetchall, close) and three for an INSERT or UPDATE. Every trip is a
queue hand-off, a thread wake-up and an event-loop wake-up: on this project's hot path (about six
statements a message) the trips cost more than SQLite itself. Here the cursor's work runs as one
function on the same thread, in the same order, with the same errors.

`Database` uses this dialect whenever the URL says `sqlite+aiosqlite`; nothing else changes.

Inline statements. Even one trip costs about 70 µs of CPU on this project's machines (a queue
hand-off, two thread wake-ups, the event loop's self-pipe), against 1 µs for a small SQLite
statement. A connection marked `inline` runs its statements, and its COMMIT, on the calling
(event-loop) thread instead. `Database.transaction(inline=True)` marks the connection only after
BEGIN IMMEDIATE has taken the write lock on the driver's thread, so that the wait for the lock
never blocks the event loop; in between, in WAL mode, nothing waits for another connection, and
COMMIT only appends to the WAL, because `Database` runs the checkpoints (which fsync) on the
driver's thread. Only short, indexed statements belong there (the conversation engine's): a long
query would hold up every other request of the process.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)

DRIVER_NAME = "sqlite+jd_aiosqlite"


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def execute(self, operation: Any, parameters: Sequence[Any] | None = None) -> Any:
        try:
            if self._adapt_connection.inline:
                self._execute_on_thread(operation, parameters)
            else:
                self.await_(self._connection._execute(self._execute_on_thread, operation, parameters))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Sequence[Any]]) -> Any:
        try:
            if self._adapt_connection.inline:
                self._executemany_on_thread(operation, seq_of_parameters)
            else:
                self.await_(self._connection._execute(self._executemany_on_thread, operation, seq_of_parameters))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    # The two methods below run on aiosqlite's thread while the event loop awaits their result,
    # so nothing else touches the cursor's attributes meanwhile.
    def _execute_on_thread(self, operation: Any, parameters: Sequence[Any] | None) -> None:
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

    def _executemany_on_thread(self, operation: Any, seq_of_parameters: Sequence[Sequence[Any]]) -> None:
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
