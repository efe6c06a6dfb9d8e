"""Shared fixtures: the real knowledge base (loaded once per session) and a real database,
SQLite always and PostgreSQL as well when TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from handlers.context import Services
from knowledge.base import KnowledgeBase
from knowledge.qa import PolicyQA
from knowledge.snapshot import KnowledgeHolder, KnowledgeSnapshot
from storage.database import Database
from storage.pii import PiiCipher
from tests.dialogs import BACKENDS, PG_URL, reset_postgres

ROOT = Path(__file__).resolve().parent.parent
SEEDS = Path(os.environ.get("SEEDS_DIR", ROOT.parent / "shared" / "seeds"))


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


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        assert PG_URL
        await reset_postgres(PG_URL)
        return PG_URL
    return f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.migrate()
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
def knowledge(kb: KnowledgeBase, qa: PolicyQA) -> KnowledgeSnapshot:
    """The shipped knowledge, loaded once for the whole run."""
    return KnowledgeSnapshot(kb, qa)


@pytest.fixture(scope="session")
def services(knowledge: KnowledgeSnapshot) -> Services:
    return Services(knowledge=KnowledgeHolder(knowledge), cipher=PiiCipher(secrets.token_bytes(32)))
