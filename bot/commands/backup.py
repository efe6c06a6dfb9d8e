"""`python -m bot backup DEST` and `python -m bot restore SRC`: a consistent copy of the database with a
manifest, while the server runs, and its restore into an empty database (the PII key must match)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.commands.common import Subparsers


def register(subparsers: Subparsers) -> None:
    backup = subparsers.add_parser("backup", help="备份数据库（服务运行时也可，附清单；密钥另行备份）")
    backup.add_argument("dest", type=Path, help="新的空目录")
    backup.set_defaults(run=run_backup)
    restore = subparsers.add_parser("restore", help="把备份恢复到空数据库（当前密钥须与备份一致）")
    restore.add_argument("src", type=Path, help="backup 生成的目录")
    restore.set_defaults(run=run_restore)


def run_backup(args: argparse.Namespace) -> int:
    from bot.commands.common import current_time
    from bot.config import Settings
    from storage.backup import BackupError, backup
    from storage.database import Database

    settings = Settings()

    async def go() -> int:
        db = Database(settings.effective_database_url)
        try:
            manifest = await backup(db, settings.effective_database_url, args.dest, now=current_time(settings))
        except BackupError as exc:
            print(f"备份失败：{exc}", file=sys.stderr)
            return 2
        finally:
            await db.dispose()
        counts = "，".join(f"{name} {n}" for name, n in manifest.counts.items())
        print(f"已备份到 {args.dest}（{manifest.database}，迁移版本 {manifest.migration}，{counts}）。")
        print(f"个人信息密钥不在备份中：请另行妥善备份 {settings.key_file}（指纹 {manifest.key_fingerprint}）。")
        return 0

    return asyncio.run(go())


def run_restore(args: argparse.Namespace) -> int:
    from bot.config import Settings
    from storage.backup import BackupError, restore
    from storage.database import Database
    from storage.pii import PiiCipher, PiiKeyError, existing_key
    from storage.private_files import private_dir

    settings = Settings()
    configured = settings.pii_key.get_secret_value() if settings.pii_key else None
    try:
        key = existing_key(settings.key_file, configured=configured)
    except PiiKeyError as exc:
        print(f"恢复失败：{exc}", file=sys.stderr)
        return 2
    if key is None:
        print(
            f"恢复失败：没有个人信息密钥。请先把备份时的密钥放到 {settings.key_file}（0600）或设置 PII_KEY。",
            file=sys.stderr,
        )
        return 2
    private_dir(settings.data_dir)

    async def go() -> int:
        db = Database(settings.effective_database_url)
        try:
            manifest = await restore(
                db, settings.effective_database_url, args.src, key_fingerprint=PiiCipher(key).fingerprint
            )
        except BackupError as exc:
            print(f"恢复失败：{exc}", file=sys.stderr)
            return 2
        finally:
            await db.dispose()
        made = manifest.created_at
        print(f"已从 {args.src} 恢复（{manifest.database}，迁移版本 {manifest.migration}，创建于 {made}）。")
        return 0

    return asyncio.run(go())
