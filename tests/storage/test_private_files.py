"""The data directory and the database files of a running server are its user's alone: a new
directory is created 0700 and the SQLite file, its WAL and SHM 0600; an older, looser set-up is
narrowed at start."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import httpx

from bot.config import Settings
from bot.server import create_app
from storage.private_files import private_sqlite_file
from tests.channels.conftest import serving
from tests.console.conftest import CHEAP_HASHER


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_running_server_keeps_its_files_private(tmp_path: Path) -> None:
    previous = os.umask(0o022)  # the usual umask, which left bot.db 0644
    data = tmp_path / "data"
    settings = Settings(_env_file=None, data_dir=data, reminders_enabled=False)  # type: ignore[call-arg]
    try:
        async with (
            serving(create_app(settings, password_hasher=CHEAP_HASHER)) as base,
            httpx.AsyncClient(base_url=base) as client,
        ):
            await client.get("/")  # the chat cookie
            assert (await client.post("/api/chat", json={"text": "广州退考截止哪天"})).status_code == 200
            files = {p.name: mode(p) for p in data.iterdir()}
    finally:
        os.umask(previous)
    assert mode(data) == 0o700
    assert {"bot.db", "bot.db-wal", "bot.db-shm", "pii.key"} <= set(files)
    assert all(m == 0o600 for m in files.values()), files


def test_an_older_looser_setup_is_narrowed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    db = data / "bot.db"
    for file in (db, data / "bot.db-wal"):
        file.write_bytes(b"")
        file.chmod(0o644)
    private_sqlite_file(db)
    assert mode(data) == 0o700 and mode(db) == 0o600 and mode(data / "bot.db-wal") == 0o600
