"""The one-trip SQLite driver behaves as SQLAlchemy's aiosqlite adapter does: results, row counts,
ids, executemany, streaming, and errors wrapped in SQLAlchemy's exception types."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

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
