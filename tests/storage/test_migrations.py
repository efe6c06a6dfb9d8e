"""Alembic migrations build exactly the schema the models describe, on every backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from storage.database import Database
from storage.models import Base
from tests.dialogs import reset_postgres


@pytest.fixture
async def db(database_url: str, tmp_path: Path) -> AsyncIterator[Database]:
    """Unlike everywhere else (see tests/conftest.py), a database migrated here from nothing."""
    if database_url.startswith("postgresql"):
        await reset_postgres(database_url)  # the schema this leaves behind is at head again
    else:
        database_url = f"sqlite+aiosqlite:///{tmp_path / 'empty' / 'bot.db'}"
    database = Database(database_url)
    assert not await database.has_table("alembic_version")
    await database.migrate()
    yield database
    await database.dispose()


async def test_migrations_match_the_models(db: Database) -> None:
    def diff(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with db.engine.connect() as conn:
        differences = await conn.run_sync(diff)
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert differences == []
    assert {"conversations", "withdrawal_requests", "transcript", "handoffs", "alembic_version"} <= tables


async def test_migrating_twice_changes_nothing(db: Database) -> None:
    await db.migrate()
    assert await db.has_table("withdrawal_requests")
