"""`python -m bot migrate`: brings the database to this code's newest migration, then exits.

With several instances, run it once before starting them (MIGRATE_ON_START=false makes each instance
refuse a database that is behind rather than migrate it mid-deployment). Instances or commands that do
migrate at start take turns on a lock, so two at once still migrate once."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.commands.common import Subparsers
    from bot.config import Settings


def register(subparsers: Subparsers) -> None:
    migrate = subparsers.add_parser("migrate", help="把数据库迁移到本程序的最新版本（多实例部署时先于各实例运行）")
    migrate.set_defaults(run=run_migrate)


def run_migrate(args: argparse.Namespace) -> int:
    from bot.config import Settings

    return asyncio.run(_migrate(Settings()))


async def _migrate(settings: Settings) -> int:
    from storage.database import Database, code_revisions, masked_url, migration_version
    from storage.private_files import private_dir

    private_dir(settings.data_dir)
    url = settings.effective_database_url
    shown = masked_url(url)
    db = Database(url)
    head, known = code_revisions()
    try:
        async with db.engine.connect() as conn:
            found = await conn.run_sync(migration_version)
        if found is not None and found not in known:
            print(f"{shown} 的版本 {found} 比本程序（{head}）新：不迁移。请用更新的程序。")
            return 1
        # Read again under the start-up lock: another instance may be migrating right now.
        before = await db.migrate()
    finally:
        await db.dispose()
    if before == head:
        print(f"{shown} 已是最新版本 {head}，无需迁移。")
    else:
        print(f"{shown} 已从 {before or '空库'} 迁移到 {head}。")
    return 0
