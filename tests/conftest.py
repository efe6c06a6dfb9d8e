"""Shared fixtures: the real knowledge base (loaded once per session) and a real database,
SQLite always and PostgreSQL as well when TEST_DATABASE_URL is set.

Every test gets a database at the newest schema without paying for the migrations: they run once
per session (per xdist worker), and each test starts from a copy of the result (SQLite: the
migrated file; PostgreSQL: the migrated schema, emptied). tests/storage/test_migrations.py still
runs them from scratch."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from handlers.context import Services
from knowledge.base import KnowledgeBase
from knowledge.qa import PolicyQA
from knowledge.snapshot import KnowledgeHolder, KnowledgeSnapshot
from storage.database import Database
from storage.pii import PiiCipher
from tests.dialogs import BACKENDS, PG_URL, reset_postgres

ROOT = Path(__file__).resolve().parent.parent
SEEDS = Path(os.environ.get("SEEDS_DIR", ROOT.parent / "shared" / "seeds"))

# One statement, one round trip: empties every table but Alembic's and rewinds the sequences, as
# a fresh migration would leave them. `replica` keeps the audit log's append-only triggers (and
# the foreign-key checks, so the order does not matter) from firing; it needs a superuser, which
# the test database's role is (postgres, here and in CI).
_EMPTY_POSTGRES = """
DO $$
DECLARE
    name text;
BEGIN
    SET LOCAL session_replication_role = replica;
    SET LOCAL lock_timeout = '60s';
    FOR name IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version' LOOP
        EXECUTE format('DELETE FROM public.%I', name);
    END LOOP;
    FOR name IN SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' AND last_value IS NOT NULL LOOP
        PERFORM setval(format('public.%I', name), 1, false);
    END LOOP;
END
$$
"""


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return KnowledgeBase.load()


@pytest.fixture(scope="session")
def qa(kb: KnowledgeBase) -> PolicyQA:
    return PolicyQA(kb)


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    if not SEEDS.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"seed notices not found at {SEEDS}; CI must run with shared/ beside the checkout")
        pytest.skip(f"seed notices not found at {SEEDS} (set SEEDS_DIR)")
    return SEEDS


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _ensure_database(url: str) -> None:
    """Creates the database `url` names when it does not exist, through the `postgres` maintenance database."""
    name = make_url(url).database
    maintenance = make_url(url).set(database="postgres").render_as_string(hide_password=False)
    conn = await asyncpg.connect(_asyncpg_dsn(maintenance))
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _migrate_from_scratch(url: str) -> None:
    if make_url(url).drivername.startswith("postgresql"):
        await reset_postgres(url)
    database = Database(url)
    try:
        await database.migrate()
    finally:
        await database.dispose()


@pytest.fixture(scope="session")
def pg_url() -> str | None:
    """TEST_DATABASE_URL, or under xdist a database of this worker's own beside it (`test` →
    `test_gw0`), created if missing; migrated from scratch once for the session."""
    if not PG_URL:
        return None
    url = PG_URL
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        parsed = make_url(PG_URL)
        url = parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)
        asyncio.run(_ensure_database(url))
    asyncio.run(_migrate_from_scratch(url))
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file at the newest schema, migrated once for the session: tests start from copies."""
    path = tmp_path_factory.mktemp("template") / "bot.db"
    asyncio.run(_migrate_from_scratch(f"sqlite+aiosqlite:///{path}"))
    assert not path.with_name("bot.db-wal").exists(), "the template must be one self-contained file"
    return path


def fresh_sqlite(template: Path, path: Path) -> str:
    """A copy of the migrated template at `path`, as a database URL."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, path)
    return f"sqlite+aiosqlite:///{path}"


async def empty_postgres(url: str) -> None:
    """Brings the migrated schema back to what a fresh migration leaves: no rows, sequences at 1."""
    conn = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        await conn.execute(_EMPTY_POSTGRES)
    finally:
        await conn.close()


@pytest.fixture(params=BACKENDS)
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, pg_url: str | None
) -> str:
    """A database at the newest schema and empty, on each backend."""
    if request.param == "postgresql":
        assert pg_url
        await empty_postgres(pg_url)
        return pg_url
    return fresh_sqlite(sqlite_template, tmp_path / "bot.db")


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)  # already migrated (see database_url)
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
def knowledge(kb: KnowledgeBase, qa: PolicyQA) -> KnowledgeSnapshot:
    """The shipped knowledge, loaded once for the whole run."""
    return KnowledgeSnapshot(kb, qa)


@pytest.fixture(scope="session")
def services(knowledge: KnowledgeSnapshot) -> Services:
    return Services(knowledge=KnowledgeHolder(knowledge), cipher=PiiCipher(secrets.token_bytes(32)))


@pytest.fixture
def shared_knowledge_base(knowledge: KnowledgeSnapshot, monkeypatch: pytest.MonkeyPatch) -> Iterator[KnowledgeBase]:
    """Servers and commands started in this test skip the second or so of CPU that loading the shipped
    notices and indexing them takes (they do it on every start): the shipped knowledge is the session's
    knowledge base, with an answerer that shares its indexes but has its own empty question variants and
    answer cache (`with_variants`), as a fresh start would have."""

    def shipped(cls: type[KnowledgeSnapshot]) -> KnowledgeSnapshot:
        return KnowledgeSnapshot(knowledge.kb, knowledge.qa.with_variants(()))

    monkeypatch.setattr(KnowledgeSnapshot, "shipped", classmethod(shipped))
    yield knowledge.kb
