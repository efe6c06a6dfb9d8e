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
    sub.add_parser(
        "new-key", help="更换密钥第一步：生成新密钥文件，旧密钥移入 pii.key.previous（之后重启服务）"
    ).set_defaults(run=run_privacy)
    sub.add_parser("rotate-key", help="更换密钥第二步：把全部密文改用新密钥加密（分批、可中断后重跑）").set_defaults(
        run=run_privacy
    )


def run_privacy(args: argparse.Namespace) -> int:
    from bot.config import Settings

    return asyncio.run(_run(args, Settings()))


def _read_id_number() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("身份证号（输入时不显示）：").strip()
    return sys.stdin.readline().strip()


def _new_key(settings: Settings) -> int:
    from storage.pii import PiiKeyError, start_rotation

    if settings.pii_key is not None:
        print(
            '密钥由环境变量 PII_KEY 提供：请生成新密钥（如 python -c "import secrets;print(secrets.token_hex(32))"），'
            "把原来的值移到 PII_PREVIOUS_KEYS、新值设为 PII_KEY，重启服务后运行 python -m bot privacy rotate-key。",
            file=sys.stderr,
        )
        return 2
    try:
        start_rotation(settings.key_file)
    except (PiiKeyError, FileNotFoundError) as exc:
        print(f"无法更换密钥：{exc}", file=sys.stderr)
        return 1
    print(f"已生成新密钥 {settings.key_file}，旧密钥保存在 {settings.previous_key_file}（均为 0600）。")
    print("请先备份新密钥，再重启所有服务进程，然后运行：python -m bot privacy rotate-key")
    return 0


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import open_cipher
    from bot.retention import RetentionJob, cutoffs, last_run
    from storage import person_data, retention
    from storage.audit import append_entry
    from storage.pii import KEY_FINGERPRINT

    if args.privacy_command == "new-key":
        return _new_key(settings)
    async with open_database(settings) as db:
        cipher = await open_cipher(db, settings)
        now = current_time(settings)
        command = args.privacy_command
        if command == "rotate-key":
            from storage.key_rotation import rotate

            if not cipher.previous:
                print("没有旧密钥（pii.key.previous 或 PII_PREVIOUS_KEYS）：请先运行 python -m bot privacy new-key。")
            rotation = await rotate(db, cipher, fingerprint_setting=KEY_FINGERPRINT)
            print(
                f"已重新加密 {rotation.requests} 份申请、{rotation.form_values} 个填写中的表单值，"
                f"清除 {rotation.api_tokens} 个访问令牌（会自动重新获取），用时 {rotation.seconds:.1f} 秒。"
            )
            if rotation.left:
                print(f"仍有 {rotation.left} 个密文使用旧密钥（可能有服务进程尚未重启）：重启后请再运行一次。")
                return 1
            print("全部数据已使用新密钥，数据库已记录新密钥指纹。备份新密钥后，可删除旧密钥文件或 PII_PREVIOUS_KEYS。")
            return 0
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
