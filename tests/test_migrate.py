"""`python -m bot migrate` and MIGRATE_ON_START=false: in a deployment of several instances the operator
migrates once, and an instance started on a database behind its code refuses with the fix instead of
migrating it under the feet of the instances still running the old code."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.app import build_runtime
from bot.config import Settings
from storage.database import Database, SchemaMismatchError, code_revisions, migration_version, upgrade_schema
from tests.cli import in_process, in_subprocess
from tests.conftest import _ensure_database
from tests.dialogs import PG_URL, reset_postgres

OLDER = "0015"
"""A revision some migrations behind the head: a database left by an earlier release."""


def env_for(data: Path, **extra: str) -> dict[str, str]:
    return {
        "DATA_DIR": str(data),
        "DATABASE_URL": f"sqlite+aiosqlite:///{data / 'bot.db'}",
        "PII_KEY": "",
        "WECHAT_TOKEN": "",
        "WECHAT_APP_ID": "",
        "TELEGRAM_TOKEN": "",
        **extra,
    }


def older_revision() -> str:
    head, known = code_revisions()
    found = [r for r in known if r.startswith(OLDER)]
    assert len(found) == 1 and found[0] != head
    return found[0]


async def at_revision(url: str, revision: str) -> None:
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(upgrade_schema, revision)
    finally:
        await db.dispose()


async def revision_of(url: str) -> list[str]:
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            assert await conn.run_sync(migration_version) is not None
            return [row[0] for row in await conn.execute(text("SELECT version_num FROM alembic_version"))]
    finally:
        await db.dispose()


def test_an_instance_that_may_not_migrate_refuses_a_database_behind_its_code(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    url = f"sqlite+aiosqlite:///{data / 'bot.db'}"
    old = older_revision()
    asyncio.run(at_revision(url, old))
    env = env_for(data, MIGRATE_ON_START="false")

    doctor = in_process("doctor", env=env)
    assert doctor.returncode == 1
    assert "[无法启动] 数据库" in doctor.stdout and f"{old} 落后于本程序" in doctor.stdout
    assert "python -m bot migrate" in doctor.stdout

    serve = in_subprocess("serve", "--port", "0", env=env, timeout=60)
    assert serve.returncode == 2
    assert "落后于本程序" in serve.stderr and "Traceback" not in serve.stderr

    settings = Settings(_env_file=None, data_dir=data, database_url=url, migrate_on_start=False)  # type: ignore[call-arg]
    with pytest.raises(SchemaMismatchError, match="python -m bot migrate"):
        asyncio.run(build_runtime(settings))
    assert asyncio.run(revision_of(url)) == [old], "refusing changed nothing"

    migrated = in_process("migrate", env=env)
    head, _ = code_revisions()
    assert migrated.returncode == 0 and f"已从 {old} 迁移到 {head}" in migrated.stdout
    assert asyncio.run(revision_of(url)) == [head]
    again = in_process("migrate", env=env)
    assert again.returncode == 0 and "无需迁移" in again.stdout
    assert in_process("doctor", env=env).returncode == 0


def test_migrate_refuses_a_database_newer_than_the_code(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    url = f"sqlite+aiosqlite:///{data / 'bot.db'}"
    asyncio.run(at_revision(url, "head"))

    async def from_the_future() -> None:
        db = Database(url)
        async with db.engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_a_later_release'"))
        await db.dispose()

    asyncio.run(from_the_future())
    result = in_process("migrate", env=env_for(data))
    assert result.returncode == 1 and "比本程序" in result.stdout and "新" in result.stdout
    assert asyncio.run(revision_of(url)) == ["9999_from_a_later_release"]


@pytest.mark.skipif(not PG_URL, reason="needs TEST_DATABASE_URL (PostgreSQL)")
def test_instances_migrating_at_once_migrate_once(tmp_path: Path) -> None:
    """Three `migrate` processes started together on an empty PostgreSQL database: the startup lock makes
    them take turns; one migrates, the others find it done."""
    assert PG_URL
    parsed = make_url(PG_URL)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    url = parsed.set(database=f"{parsed.database}_migrate_{worker}").render_as_string(hide_password=False)
    asyncio.run(_ensure_database(url))
    asyncio.run(reset_postgres(url))
    env = {**os.environ, "DATA_DIR": str(tmp_path), "DATABASE_URL": url, "PII_KEY": ""}

    async def together() -> list[tuple[int, str]]:
        processes = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "migrate",
                env=env,
                cwd=Path(__file__).resolve().parents[1],
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for _ in range(3)
        ]
        out = []
        for process in processes:
            stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
            out.append((process.returncode or 0, stdout.decode() + stderr.decode()))
        return out

    results = asyncio.run(together())
    assert all(code == 0 for code, _ in results), results
    head, _ = code_revisions()
    assert sum("迁移到" in output for _, output in results) == 1, results
    assert sum("无需迁移" in output for _, output in results) == 2, results
    assert asyncio.run(revision_of(url)) == [head]
