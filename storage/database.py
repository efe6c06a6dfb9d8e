"""Engine, sessions and migrations, built from a URL (never at import time)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, inspect, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from storage import sqlite_driver
from storage.private_files import private_sqlite_file

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
STARTUP_LOCK = 0x6A69616E  # an arbitrary application-wide advisory lock key ("jian")


def json_dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


class Database:
    """One engine and its session factory. SQLite gets WAL and `BEGIN IMMEDIATE`, so that two
    processes sharing the file queue for the write lock instead of failing half-way through.

    `fast_path` (SQLite only): SQLAlchemy's aiosqlite dialect with one trip to the driver's thread
    per statement, inline transactions and WAL checkpoints off the event loop (see
    `storage.sqlite_driver`, which says what each buys). False gives the stock dialect."""

    def __init__(self, url: str, *, echo: bool = False, fast_path: bool = True) -> None:
        self.url = url
        self.is_sqlite = make_url(url).drivername.startswith("sqlite")
        file = _sqlite_file(url)
        if file is not None:
            private_sqlite_file(file)
        # Bound parameters carry names and ciphertexts: keep them out of error messages and logs.
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        # The conversation state and the replies kept for retries are read and written with every
        # message; orjson takes a tenth of the json module's time.
        kwargs.update(json_serializer=json_dumps, json_deserializer=orjson.loads)
        if self.is_sqlite:
            # check_same_thread off: inline statements (see sqlite_driver) run on the event loop's
            # thread, on a connection aiosqlite opened on its own; never both at once.
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
            # Sessions and connections here always end their transaction (commit, or rollback on
            # close); the pool's extra rollback at check-in would be one more trip to the driver's
            # thread per transaction for nothing.
            kwargs["pool_reset_on_return"] = None
        else:
            kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
        engine_url = make_url(url)
        fast = fast_path and engine_url.drivername == "sqlite+aiosqlite"
        if fast:
            engine_url = engine_url.set(drivername=sqlite_driver.DRIVER_NAME)
        self.engine: AsyncEngine = create_async_engine(engine_url, **kwargs)
        # An in-memory database has no WAL to checkpoint.
        self._checkpoints = sqlite_driver.Checkpoints(self.engine) if fast and file is not None else None
        if self.is_sqlite:
            self._configure_sqlite()
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._writer_lock = asyncio.Lock() if self.is_sqlite else None

    def _configure_sqlite(self) -> None:
        @event.listens_for(self.engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the driver, decide when a transaction begins (see "begin" below).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            if self._checkpoints is not None:  # they run on the driver's thread instead
                cursor.execute("PRAGMA wal_autocheckpoint=0")
            # 16 MB of page cache per connection instead of 2 MB: at a few hundred thousand outbox
            # rows the default missed on most index lookups (`python -m benchmarks.reminders`).
            cursor.execute("PRAGMA cache_size=-16384")
            cursor.close()

        @event.listens_for(self.engine.sync_engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # Take the write lock up front: a deferred transaction that reads and then writes can
            # fail with "database is locked" when another process wrote in between.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        if self._checkpoints is not None:
            self._checkpoints.install()

    @asynccontextmanager
    async def transaction(self, *, inline: bool = False) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on any error.

        `inline`: on SQLite, statements between BEGIN and COMMIT run on the event loop's thread
        (see `storage.sqlite_driver`); for short, indexed statements only. Ignored elsewhere."""
        if self._writer_lock is None:
            async with self.sessions() as session, session.begin():
                yield session
            return
        # SQLite lets one transaction write at a time. Queue in-process on an asyncio lock rather
        # than in SQLite's busy handler, which sleeps up to 100 ms between tries.
        async with self._writer_lock, self.sessions() as session:
            adapted: Any = None
            try:
                async with session.begin():
                    if inline:
                        # Begins the transaction (BEGIN IMMEDIATE, on the driver's thread: it may wait).
                        raw = await (await session.connection()).get_raw_connection()
                        if isinstance(raw.dbapi_connection, sqlite_driver.OneTripConnection):
                            adapted = raw.dbapi_connection
                            adapted.inline = True
                    yield session
            finally:
                if adapted is not None:
                    adapted.inline = False

    async def migrate(self) -> str | None:
        """Brings the schema to the newest Alembic revision and returns the one it was at (None: empty).
        Workers starting together take turns: the one after finds the schema migrated."""
        async with self.engine.begin() as conn:
            await self.serialize_startup(conn)
            before = await conn.run_sync(migration_version)
            if before != code_revisions()[0]:
                await conn.run_sync(upgrade_schema)
            return before

    async def require_current(self) -> None:
        """Refuses a database that is not at this code's newest revision (MIGRATE_ON_START=false: the
        operator migrates once, before the instances start, rather than each instance on its own)."""
        async with self.engine.connect() as conn:
            current = await conn.run_sync(migration_version)
        head, _ = code_revisions()
        if current != head:
            raise SchemaMismatchError(schema_mismatch(current, head))

    async def serialize_startup(self, conn: AsyncConnection | AsyncSession) -> None:
        """Makes this transaction wait for any other process's start-up transaction (migrations,
        first key record). SQLite's `BEGIN IMMEDIATE` already does; PostgreSQL needs a lock."""
        if not self.is_sqlite:
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": STARTUP_LOCK})

    async def analyze(self, table: str) -> None:
        """Refreshes PostgreSQL's statistics of `table` after a bulk write, rather than waiting for
        autovacuum (a minute or more, never where it is off): with a million fresh rows counted as a
        few, the planner reads whole tables for queries that need a few index entries."""
        if self.is_sqlite:
            return
        async with self.engine.begin() as conn:
            await conn.execute(text(f'ANALYZE "{table}"'))

    async def has_table(self, name: str) -> bool:
        async with self.engine.connect() as conn:
            return await conn.run_sync(lambda c: inspect(c).has_table(name))

    async def dispose(self) -> None:
        if self._checkpoints is not None:
            await self._checkpoints.wait()
        await self.engine.dispose()


def masked_url(url: str) -> str:
    """A database URL fit to print: the password replaced by ***."""
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


class SchemaMismatchError(Exception):
    """The database is not at the code's migration head and this process may not migrate it."""


def schema_mismatch(current: str | None, head: str) -> str:
    """What to do about a database at `current` for code at `head` (the doctor's and the server's words)."""
    if current is None:
        return f"数据库是空的，尚未迁移（本程序需要版本 {head}）：先运行 python -m bot migrate"
    if current not in code_revisions()[1]:
        return f"数据库版本 {current} 比本程序（{head}）新：用与数据库同版本或更新的程序启动"
    return f"数据库版本 {current} 落后于本程序（{head}）：先运行 python -m bot migrate，再启动各实例"


def dialect_insert(session: AsyncSession) -> Callable[..., Any]:
    """`insert` of the session's dialect, which knows ON CONFLICT (SQLite and PostgreSQL both do)."""
    return postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade_schema(connection: Connection, revision: str = "head") -> None:
    command.upgrade(alembic_config(connection), revision)


def migration_version(connection: Connection) -> str | None:
    """The Alembic revision the database is at; None for an empty database."""
    return MigrationContext.configure(connection).get_current_revision()


def code_revisions() -> tuple[str, frozenset[str]]:
    """(the newest revision this code has, every revision it knows)."""
    scripts = ScriptDirectory.from_config(alembic_config())
    return str(scripts.get_current_head()), frozenset(r.revision for r in scripts.walk_revisions())
