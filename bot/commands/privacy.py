"""`python -m bot privacy …`: the retention job's state and a run now, and one person's data, copied
or erased on their request. The ID number is read from standard input, never from the command line
(which shells keep in their history and `ps` shows to every user)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.commands.common import current_time, open_database

if TYPE_CHECKING:
    from bot.commands.common import Subparsers
    from bot.config import Settings

ACTOR = "cli"


def register(subparsers: Subparsers) -> None:
    privacy = subparsers.add_parser("privacy", help="个人信息：保存期限与清理、按身份证号导出或删除某人的信息")
    sub = privacy.add_subparsers(dest="privacy_command", metavar="PRIVACY", required=True)
    sub.add_parser("status", help="保存期限设置、待删除与已删除的申请数、上次清理时间").set_defaults(run=run_privacy)
    sub.add_parser("run", help="立即执行一次清理（服务运行时每小时自动执行）").set_defaults(run=run_privacy)
    export = sub.add_parser("export", help="导出某人的全部信息（JSON，从标准输入读身份证号）")
    export.add_argument("--out", type=Path, required=True, help="导出文件（新建，权限 0600）")
    export.set_defaults(run=run_privacy)
    erase = sub.add_parser("erase", help="删除某人的全部个人信息（从标准输入读身份证号）")
    erase.add_argument("--yes", action="store_true", help="不再询问，直接删除")
    erase.set_defaults(run=run_privacy)


def run_privacy(args: argparse.Namespace) -> int:
    from bot.config import Settings

    return asyncio.run(_run(args, Settings()))


def _read_id_number() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("身份证号（输入时不显示）：").strip()
    return sys.stdin.readline().strip()


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import open_cipher
    from bot.retention import RetentionJob, cutoffs, last_run
    from storage import person_data, retention
    from storage.audit import append_entry

    async with open_database(settings) as db:
        cipher = await open_cipher(db, settings)
        now = current_time(settings)
        command = args.privacy_command
        if command == "status":
            limits = cutoffs(settings, now)
            async with db.sessions() as session:
                due = await retention.count_due(session, before=limits.requests)
                erased = await retention.count_erased(session)
            ran = await last_run(db)
            s = settings
            print(f"保存期限：办结申请的个人信息 {s.request_retention_days} 天；", end="")
            print(f"对话记录 {s.transcript_retention_days} 天；", end="")
            print(
                f"会话状态 {s.conversation_retention_days} 天；知识缺口原话 {s.gap_question_retention_days} 天；"
                f"人工服务问题 {s.handoff_retention_days} 天。"
            )
            print(f"已删除个人信息的申请：{erased} 份；已到期待删除：{due} 份。")
            print(f"上次清理：{ran.isoformat(timespec='minutes') if ran else '尚未运行'}")
            return 0
        if command == "run":
            report = await RetentionJob(db, cipher, lambda: now, settings).run_once()
            print(f"{report.summary() if report.changed else '没有需要清理的数据'}（{report.seconds:.1f} 秒）")
            return 0
        id_number = _read_id_number()
        if not id_number:
            print("没有读到身份证号。", file=sys.stderr)
            return 2
        async with db.transaction() as session:
            person = await person_data.find_person(session, cipher, id_number)
            if not person.found:
                print(f"没有身份证号为 {person.masked} 的申请（或其个人信息已删除）。", file=sys.stderr)
                return 1
            if command == "export":
                data = await person_data.export_person(session, cipher, person)
                fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump(data, out, ensure_ascii=False, indent=2)
                await append_entry(
                    session, at=now, actor=ACTOR, action="privacy.export", note=f"导出 {person.masked} 的全部信息"
                )
                print(f"已导出 {person.masked} 的 {len(person.requests)} 份申请及相关对话到 {args.out}（权限 0600）。")
                return 0
            if not args.yes:
                print(
                    f"将删除 {person.masked} 的 {len(person.requests)} 份申请中的个人信息及相关对话。", file=sys.stderr
                )
                print("确认请加 --yes 再运行一次。", file=sys.stderr)
                return 1
            counts = await person_data.erase_person(session, cipher, person, now=now)
            note = f"删除 {person.masked} 的个人信息：" + "，".join(f"{k} {v}" for k, v in counts.items())
            await append_entry(session, at=now, actor=ACTOR, action="privacy.erase", note=note)
        print(note)
        return 0
