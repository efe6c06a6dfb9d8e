"""The one-trip SQLite driver behaves as SQLAlchemy's aiosqlite adapter does: results, row counts,
ids, executemany, streaming, and errors wrapped in SQLAlchemy's exception types. Inline
transactions run where they should, and WAL checkpoints happen off the event loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError, OperationalError

from storage import sqlite_driver
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


def with_thread_function(db: Database) -> None:
    """Gives SQL a function `thread_id()`: the thread a statement runs on, as SQLite calls it."""

    @event.listens_for(db.engine.sync_engine, "connect")
    def _register(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.create_function("thread_id", 0, threading.get_ident)


async def test_inline_statements_run_on_the_loop_and_others_on_the_driver_thread(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}")
    with_thread_function(db)
    loop_thread = threading.get_ident()
    try:
        async with db.transaction() as session:
            await session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE, thread INTEGER)"))
        async with db.transaction(inline=True) as session:
            await session.execute(text("INSERT INTO t (name, thread) VALUES ('a', thread_id())"))
        async with db.transaction() as session:  # not inline: on the driver's thread
            await session.execute(text("INSERT INTO t (name, thread) VALUES ('c', thread_id())"))
        with pytest.raises(IntegrityError):
            async with db.transaction(inline=True) as session:
                await session.execute(text("INSERT INTO t (name, thread) VALUES ('b', thread_id())"))
                await session.execute(text("INSERT INTO t (name, thread) VALUES ('a', thread_id())"))
        async with db.sessions() as session:
            rows = dict((await session.execute(text("SELECT name, thread FROM t ORDER BY id"))).tuples().all())
        assert set(rows) == {"a", "c"}, "'b' was rolled back with its transaction"
        assert rows["a"] == loop_thread and rows["c"] != loop_thread
    finally:
        await db.dispose()


async def test_waiting_for_another_process_lock_never_blocks_the_loop(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        async with db.transaction() as session:
            await session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock

        async def write() -> None:
            async with db.transaction(inline=True) as session:
                await session.execute(text("INSERT INTO t DEFAULT VALUES"))

        writing = asyncio.create_task(write())
        ticks = 0
        for _ in range(20):  # the loop keeps running while the transaction waits to begin
            await asyncio.sleep(0.01)
            ticks += 1
        assert not writing.done() and ticks == 20
        other.execute("COMMIT")
        other.close()
        await asyncio.wait_for(writing, 10)
        async with db.sessions() as session:
            assert (await session.execute(text("SELECT count(*) FROM t"))).scalar() == 1
    finally:
        await db.dispose()


async def test_checkpoints_run_in_the_background_and_keep_the_wal_small(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_driver, "CHECKPOINT_EVERY", 0.0)
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
            # The background checkpoint the commit started finishes before the next commit (on a
            # loaded machine a fixed sleep was not always enough for it to run).
            assert db._checkpoints is not None
            await db._checkpoints.wait()
        # Without checkpoints the WAL would hold all 200 rows (over 800 KB); checkpointed, SQLite
        # starts it over from the beginning and it stays a few pages long.
        assert path.with_name("wal.db-wal").stat().st_size < 200 * 4096 // 4
    finally:
        await db.dispose()


async def test_the_stock_path_is_sqlalchemy_own_dialect_and_works(tmp_path: Path) -> None:
    path = tmp_path / "stock.db"
    db = Database(f"sqlite+aiosqlite:///{path}", fast_path=False)
    try:
        assert not isinstance(db.engine.dialect, OneTripDialect)
        async with db.sessions() as session:
            # SQLite checkpoints by itself on this path.
            assert (await session.execute(text("PRAGMA wal_autocheckpoint"))).scalar() == 1000
        async with db.transaction(inline=True) as session:  # `inline` asks for nothing here
            await session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
            await session.execute(text("INSERT INTO t DEFAULT VALUES"))
        async with db.sessions() as session:
            assert (await session.execute(text("SELECT count(*) FROM t"))).scalar() == 1
    finally:
        await db.dispose()
