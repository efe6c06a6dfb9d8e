"""A consistent copy of the database while the server runs, with a manifest, and its restore into an
empty database.

SQLite is copied with its online backup API (a snapshot, however many writers are busy); PostgreSQL
with `pg_dump` in its custom format (one transaction's snapshot), when the client tools are installed.
The manifest says what the copy holds (migration version, the PII key's fingerprint, row counts), so a
restore can refuse a key that could not read it. The key itself is not in the copy: it is backed up
apart from the data (docs/operations.md)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import make_url

from storage.database import Database, migration_version
from storage.models import Setting, Subscription, TranscriptLine, WithdrawalRequest
from storage.pii import KEY_FINGERPRINT

MANIFEST = "manifest.json"
SQLITE_COPY = "bot.db"
POSTGRES_COPY = "bot.pgdump"


class BackupError(Exception):
    """What stops a backup or a restore, said so an operator can act on it (Chinese)."""


@dataclass(frozen=True)
class Manifest:
    created_at: str
    database: str
    """sqlite or postgresql"""
    migration: str | None
    key_fingerprint: str | None
    counts: dict[str, int]
    file: str


async def describe(db: Database) -> tuple[str | None, str | None, dict[str, int]]:
    """(migration version, recorded key fingerprint, row counts) of a database."""
    async with db.engine.connect() as conn:
        migration = await conn.run_sync(migration_version)
        fingerprint = (await conn.execute(select(Setting.value).where(Setting.name == KEY_FINGERPRINT))).scalar()
        counts = {}
        for name, model in (
            ("requests", WithdrawalRequest),
            ("transcript", TranscriptLine),
            ("subscriptions", Subscription),
        ):
            counts[name] = int((await conn.execute(select(func.count()).select_from(model))).scalar_one())
    return migration, fingerprint, counts


async def backup(db: Database, url: str, dest: Path, *, now: dt.datetime) -> Manifest:
    """Copies the database at `url` into the directory `dest` (created; must be empty) with a manifest."""
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"备份目录 {dest} 不是空的：请指定新的目录，以免覆盖以前的备份")
    dest.mkdir(parents=True, exist_ok=True)
    dest.chmod(0o700)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        target = dest / SQLITE_COPY
        with sqlite3.connect(str(parsed.database)) as source, sqlite3.connect(str(target)) as copy:
            source.backup(copy)  # the online backup API: a consistent snapshot while others write
        kind = "sqlite"
    else:
        if shutil.which("pg_dump") is None:
            raise BackupError("找不到 pg_dump：请安装 PostgreSQL 客户端（apt install postgresql-client）后再备份")
        target = dest / POSTGRES_COPY
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={target}", _libpq(url)], "pg_dump")
        kind = "postgresql"
    target.chmod(0o600)
    # Described after the copy: what the copy holds is at least this (rows only grow while it runs).
    copied = Database(f"sqlite+aiosqlite:///{target}") if kind == "sqlite" else db
    try:
        migration, fingerprint, counts = await describe(copied)
    finally:
        if copied is not db:
            await copied.dispose()
    manifest = Manifest(now.isoformat(), kind, migration, fingerprint, counts, target.name)
    (dest / MANIFEST).write_text(json.dumps(asdict(manifest), ensure_ascii=False, indent=2), encoding="utf-8")
    return manifest


def read_manifest(src: Path) -> Manifest:
    try:
        return Manifest(**json.loads((src / MANIFEST).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as exc:
        raise BackupError(f"{src} 不是本程序的备份（缺少或无法读取 {MANIFEST}）") from exc


async def restore(db: Database, url: str, src: Path, *, key_fingerprint: str) -> Manifest:
    """Restores the backup in `src` into the empty database at `url`, when the configured key is the
    one that encrypted it."""
    manifest = read_manifest(src)
    if manifest.key_fingerprint is not None and manifest.key_fingerprint != key_fingerprint:
        raise BackupError(
            f"当前个人信息密钥（指纹 {key_fingerprint}）不是加密这份备份的密钥（指纹 {manifest.key_fingerprint}）："
            "请先恢复备份时的密钥文件或 PII_KEY，否则恢复出的身份证号与手机号无法读取"
        )
    if await _has_tables(db):
        raise BackupError("目标数据库不是空的：恢复只写入空数据库，请新建一个（或删除现有的 SQLite 文件）后再恢复")
    parsed = make_url(url)
    if manifest.database == "sqlite" and parsed.get_backend_name() == "sqlite":
        await db.dispose()  # the file is written below, not through the pool
        with sqlite3.connect(str(src / manifest.file)) as copy, sqlite3.connect(str(parsed.database)) as target:
            copy.backup(target)
        Path(str(parsed.database)).chmod(0o600)
    elif manifest.database == "postgresql" and parsed.get_backend_name() == "postgresql":
        if shutil.which("pg_restore") is None:
            raise BackupError("找不到 pg_restore：请安装 PostgreSQL 客户端（apt install postgresql-client）")
        _run(
            ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={_libpq(url)}", str(src / manifest.file)],
            "pg_restore",
        )
    else:
        raise BackupError(f"这是 {manifest.database} 的备份，不能恢复到 {parsed.get_backend_name()} 数据库")
    return manifest


async def _has_tables(db: Database) -> bool:
    async with db.engine.connect() as conn:
        return bool(await conn.run_sync(lambda c: inspect(c).get_table_names()))


def _libpq(url: str) -> str:
    """postgresql+asyncpg://… as the URL libpq's tools read."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _run(command: list[str], tool: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        # The tool's own words, with the connection string (and its password) left out.
        detail = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"退出码 {done.returncode}"
        raise BackupError(f"{tool} 失败：{detail}")
