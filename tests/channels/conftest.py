"""A real server on loopback: uvicorn running `create_app` in the test's event loop, with the
session's knowledge base and cheap argon2 parameters (the console's warm-up hashes a password)."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette

from bot.config import Settings
from bot.server import create_app
from knowledge.base import KnowledgeBase
from tests.console.conftest import CHEAP_HASHER
from tests.dialogs import SettableClock


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def serving(app: Starlette, **config: Any) -> AsyncIterator[str]:
    """Runs `app` under uvicorn on 127.0.0.1 and yields its base URL; `config` overrides uvicorn's settings."""
    port = free_port()
    options: dict[str, Any] = {"host": "127.0.0.1", "port": port, "log_level": "warning", "lifespan": "on", **config}
    server = uvicorn.Server(uvicorn.Config(app, **options))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
def make_settings(tmp_path: Path, database_url: str) -> Callable[..., Settings]:
    """Settings for a test server: its own data dir and database (SQLite, or PostgreSQL when set)."""

    def build(**overrides: Any) -> Settings:
        return Settings(_env_file=None, data_dir=tmp_path, database_url=database_url, **overrides)  # type: ignore[call-arg]

    return build


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(dt.date(2017, 9, 27))


@pytest.fixture(autouse=True)
def _shared_kb(shared_knowledge_base: KnowledgeBase) -> None:
    """Servers started here skip re-reading the shipped notices (see tests/conftest.py)."""


@pytest.fixture
def make_app(make_settings: Callable[..., Settings], clock: SettableClock) -> Callable[..., Starlette]:
    def build(**overrides: Any) -> Starlette:
        return create_app(make_settings(**overrides), clock=clock, password_hasher=CHEAP_HASHER)

    return build
