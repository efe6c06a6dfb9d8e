"""The one-trip SQLite driver behaves as SQLAlchemy's aiosqlite adapter does: results, row counts,
ids, executemany, streaming, and errors wrapped in SQLAlchemy's exception types. Inline
transactions run where they should, and WAL checkpoints happen off the event loop."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError, OperationalError

from storage import database
from storage.database import Database
from storage.sqlite_driver import OneTripDialect


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with db.transaction() as session:
        await session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE, n INTEGER)"))
    yield db
    await db.dispose()


async def test_the_configured_url_gets_the_one_trip_dialect(sqlite_db: Database) -> None:
    assert isinstance(sqlite_db.engine.dialect, OneTripDialect)
    assert sqlite_db.url.startswith("sqlite+aiosqlite")  # what the operator wrote is kept


async def test_results_rowcounts_ids_and_executemany(sqlite_db: Database) -> None:
    async with sqlite_db.transaction() as session:
        inserted = await session.execute(text("INSERT INTO t (name, n) VALUES ('a', 1)"))
        assert inserted.lastrowid == 1
        await session.execute(
            text("INSERT INTO t (name, n) VALUES (:name, :n)"), [{"name": f"x{i}", "n": i} for i in range(5)]
        )
        updated = await session.execute(text("UPDATE t SET n = n + 10 WHERE name LIKE 'x%'"))
        assert updated.rowcount == 5
    async with sqlite_db.sessions() as session:
        rows = (await session.execute(text("SELECT name, n FROM t ORDER BY id"))).all()
        assert rows[0] == ("a", 1) and rows[-1] == ("x4", 14) and len(rows) == 6
        assert (await session.execute(text("SELECT n FROM t WHERE name = 'nobody'"))).first() is None
        streamed = [row.name async for row in await session.stream(text("SELECT name FROM t ORDER BY id"))]
        assert streamed == ["a", "x0", "x1", "x2", "x3", "x4"]


async def test_errors_are_sqlalchemy_errors_and_roll_back(sqlite_db: Database) -> None:
    with pytest.raises(IntegrityError):
        async with sqlite_db.transaction() as session:
            await session.execute(text("INSERT INTO t (name, n) VALUES ('dup', 1)"))
            await session.execute(text("INSERT INTO t (name, n) VALUES ('dup', 2)"))
    with pytest.raises(OperationalError):
        async with sqlite_db.transaction() as session:
            await session.execute(text("SELECT * FROM no_such_table"))
    async with sqlite_db.sessions() as session:
        count = (await session.execute(text("SELECT count(*) FROM t WHERE name = 'dup'"))).scalar()
    assert count == 0  # the failed transaction left nothing behind


def trace_threads(db: Database) -> list[tuple[str, int]]:
    """(statement, thread id) for every statement SQLite runs on connections opened from now on."""
    seen: list[tuple[str, int]] = []

    @event.listens_for(db.engine.sync_engine, "connect")
    def _trace(dbapi_connection: Any, _record: Any) -> None:
        sqlite = dbapi_connection._connection._conn  # the sqlite3 connection under aiosqlite
        sqlite.set_trace_callback(lambda sql: record(sql, threading.get_ident()))

    def record(sql: str, thread: int) -> None:
        if not sql.startswith("PRAGMA"):  # the background WAL checkpoint may run on another connection meanwhile
            seen.append((sql.split()[0].upper(), thread))

    return seen


async def test_an_inline_transaction_takes_the_lock_on_the_driver_thread_and_commits_on_the_loop(
    tmp_path: Path,
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}")
    seen = trace_threads(db)
    try:
        async with db.transaction() as session:
            await session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
        loop_thread = threading.get_ident()
        seen.clear()
        async with db.transaction(inline=True) as session:
            await session.execute(text("INSERT INTO t (name) VALUES ('a')"))
        assert [sql for sql, _ in seen] == ["BEGIN", "INSERT", "COMMIT"]
        (_, begin), *rest = seen
        assert begin != loop_thread  # it may wait for another process's lock: never on the loop
        assert all(thread == loop_thread for _, thread in rest)

        seen.clear()
        with pytest.raises(IntegrityError):
            async with db.transaction(inline=True) as session:
                await session.execute(text("INSERT INTO t (name) VALUES ('b')"))
                await session.execute(text("INSERT INTO t (name) VALUES ('a')"))
        assert [sql for sql, _ in seen][-1] == "ROLLBACK"

        seen.clear()
        async with db.transaction() as session:  # not inline: every statement on the driver's thread
            await session.execute(text("INSERT INTO t (name) VALUES ('c')"))
        assert [sql for sql, _ in seen] == ["BEGIN", "INSERT", "COMMIT"]
        assert all(thread != loop_thread for _, thread in seen)
        async with db.sessions() as session:
            names = (await session.execute(text("SELECT name FROM t ORDER BY id"))).scalars().all()
        assert names == ["a", "c"]  # 'b' was rolled back with its transaction
    finally:
        await db.dispose()


async def test_checkpoints_run_in_the_background_and_keep_the_wal_small(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "CHECKPOINT_EVERY", 0.0)
    path = tmp_path / "wal.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        async with db.sessions() as session:
            # Commits never checkpoint by themselves: SQLite's automatic one would fsync in the COMMIT.
            assert (await session.execute(text("PRAGMA wal_autocheckpoint"))).scalar() == 0
        async with db.transaction() as session:
            await session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)"))
        page = "x" * 4096
        for _ in range(200):
            async with db.transaction(inline=True) as session:
                await session.execute(text("INSERT INTO t (body) VALUES (:body)"), {"body": page})
            assert db._checkpointer is not None
            await db._checkpointer
        # Without checkpoints the WAL would hold all 200 rows (over 800 KB); checkpointed, SQLite
        # starts it over from the beginning and it stays a few pages long.
        assert path.with_name("wal.db-wal").stat().st_size < 200 * 4096 // 4
    finally:
        await db.dispose()
