"""`python -m bot staff add|list|passwd|disable|totp`: the staff console's accounts from the command line.

The first admin account can only be made here: the server never creates one by itself. Every
change is written to the audit log with the actor "cli"."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import TYPE_CHECKING

from bot.commands.common import current_time, open_database

if TYPE_CHECKING:
    from bot.commands.common import Subparsers
    from bot.config import Settings
    from storage.database import Database

ACTOR = "cli"
ROLES = ("admin", "reviewer", "viewer")


def register(subparsers: Subparsers) -> None:
    staff = subparsers.add_parser("staff", help="员工控制台（/admin）账号：创建、列出、改密码、停用")
    staff_sub = staff.add_subparsers(dest="staff_command", metavar="STAFF", required=True)
    add = staff_sub.add_parser("add", help="创建账号（输入两次密码；标准输入不是终端时读一行）")
    add.add_argument("name", metavar="NAME", help="账号名（登录用）")
    add.add_argument("--role", required=True, choices=ROLES, help="admin 管理员、reviewer 审核员、viewer 只读")
    add.add_argument(
        "--region",
        action="append",
        help="负责地区，可重复或用逗号分隔，如 --region 广东 --region 吉林；审核员必填，其他角色不填为全部地区",
    )
    add.add_argument("--password-stdin", action="store_true", help="从标准输入读一行作为密码")
    staff_sub.add_parser("list", help="列出账号、角色、地区与状态")
    passwd = staff_sub.add_parser("passwd", help="修改密码（同时解除锁定，原有登录失效）")
    passwd.add_argument("name", metavar="NAME")
    passwd.add_argument("--password-stdin", action="store_true", help="从标准输入读一行作为密码")
    disable = staff_sub.add_parser("disable", help="停用账号（原有登录立即失效）")
    disable.add_argument("name", metavar="NAME")
    totp = staff_sub.add_parser("totp", help="启用两步验证：生成验证器 App 用的密钥（登录时另填 6 位动态码）")
    totp.add_argument("name", metavar="NAME")
    totp.add_argument("--disable", action="store_true", help="关闭该账号的两步验证")
    staff.set_defaults(run=run_staff)


class PasswordInputError(ValueError):
    """The password could not be read or was refused; the message is Chinese."""


def read_password(*, from_stdin: bool, name: str) -> str:
    """One line from stdin when it is not a terminal (or with --password-stdin), else asked twice."""
    from bot.console.passwords import password_problem

    if from_stdin or not sys.stdin.isatty():
        line = sys.stdin.readline()
        if not line:
            raise PasswordInputError("标准输入中没有读到密码。")
        password = line.rstrip("\r\n")
    else:
        password = getpass.getpass("密码（至少 10 个字符）：")
        if getpass.getpass("再输入一次：") != password:
            raise PasswordInputError("两次输入的密码不一致。")
    problem = password_problem(password, name=name)
    if problem:
        raise PasswordInputError(problem)
    return password


def _describe_regions(regions: list[str]) -> str:
    return "、".join(regions) if regions else "全部地区"


async def _add(args: argparse.Namespace, settings: Settings) -> int:
    from bot.console.passwords import Passwords
    from bot.console.scope import ROLE_LABELS, UnknownRegionError, name_problem, normalize_regions, role_problem
    from handlers import staff_accounts
    from knowledge.regions import RegionRegistry
    from storage import staff as staff_store

    problem = name_problem(args.name)
    try:
        regions = normalize_regions(args.region or [], RegionRegistry.load())
    except UnknownRegionError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    problem = problem or role_problem(args.role, regions)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    async with open_database(settings) as db:
        async with db.sessions() as session:
            if await staff_store.account_by_name(session, name=args.name) is not None:
                print(f"账号 {args.name} 已存在。修改密码请用 python -m bot staff passwd {args.name}", file=sys.stderr)
                return 1
        # Hashed before the transaction: it takes a noticeable fraction of a second by design.
        password_hash = await Passwords().hash_async(read_password(from_stdin=args.password_stdin, name=args.name))
        try:
            async with db.transaction() as session:
                await staff_accounts.create_account(
                    session,
                    name=args.name,
                    role=args.role,
                    regions=regions,
                    password_hash=password_hash,
                    actor=ACTOR,
                    now=current_time(settings),
                )
        except staff_accounts.AccountRefused as exc:
            print(exc.message, file=sys.stderr)
            return 1
    print(f"已创建账号 {args.name}（{ROLE_LABELS[args.role]}，{_describe_regions(regions)}），可在 /admin 登录。")
    return 0


async def _list(settings: Settings) -> int:
    from bot.console.scope import ROLE_LABELS
    from bot.console.templates import local_time
    from storage import staff as staff_store

    async with open_database(settings) as db, db.sessions() as session:
        accounts = await staff_store.list_accounts(session)
    if not accounts:
        print("还没有员工账号。创建管理员：python -m bot staff add 用户名 --role admin")
        return 0
    now = current_time(settings)
    for a in accounts:
        if not a.active:
            state = "已停用"
        elif a.locked_until is not None and a.locked_until > now:
            state = f"锁定至 {local_time(a.locked_until)}"
        else:
            state = "正常"
        last = local_time(a.last_login_at) or "从未登录"
        print(f"{a.name}  {ROLE_LABELS.get(a.role, a.role)}  {_describe_regions(a.regions)}  {state}  最近登录 {last}")
    print(f"共 {len(accounts)} 个账号")
    return 0


async def _account_id(db: Database, name: str) -> int | None:
    from storage import staff as staff_store

    async with db.sessions() as session:
        account = await staff_store.account_by_name(session, name=name)
    return None if account is None else account.id


async def _passwd(args: argparse.Namespace, settings: Settings) -> int:
    from bot.console.passwords import Passwords
    from handlers import staff_accounts

    async with open_database(settings) as db:
        account_id = await _account_id(db, args.name)
        if account_id is None:
            print(f"没有账号 {args.name}。", file=sys.stderr)
            return 1
        password_hash = await Passwords().hash_async(read_password(from_stdin=args.password_stdin, name=args.name))
        async with db.transaction() as session:
            # A new password also lifts a lockout.
            ended = await staff_accounts.reset_password(
                session,
                account_id=account_id,
                password_hash=password_hash,
                actor=ACTOR,
                now=current_time(settings),
                lift_lockout=True,
            )
    print(f"已修改 {args.name} 的密码" + (f"，其 {ended} 个登录已失效。" if ended else "。"))
    return 0


async def _disable(args: argparse.Namespace, settings: Settings) -> int:
    from handlers import staff_accounts
    from storage import staff as staff_store

    async with open_database(settings) as db, db.transaction() as session:
        account = await staff_store.account_by_name(session, name=args.name)
        if account is None:
            print(f"没有账号 {args.name}。", file=sys.stderr)
            return 1
        if not account.active:
            print(f"账号 {args.name} 已经是停用状态。")
            return 0
        await staff_accounts.set_active(
            session, account_id=account.id, active=False, actor_id=None, actor=ACTOR, now=current_time(settings)
        )
    print(f"已停用账号 {args.name}，其登录已失效。")
    return 0


async def _totp(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import open_cipher
    from bot.console import two_step
    from storage import staff as staff_store
    from storage.audit import append_entry

    async with open_database(settings) as db:
        cipher = await open_cipher(db, settings)
        async with db.transaction() as session:
            account = await staff_store.account_by_name(session, name=args.name)
            if account is None:
                print(f"没有账号 {args.name}。", file=sys.stderr)
                return 1
            before = staff_store.account_snapshot(account)
            secret = None if args.disable else two_step.new_secret()
            account.totp_secret_cipher = cipher.encrypt(secret, context=two_step.CONTEXT) if secret else None
            account.totp_last_step = None
            await append_entry(
                session,
                at=current_time(settings),
                actor=ACTOR,
                action="staff.two_step",
                target_type="staff",
                target_id=account.id,
                before=before,
                after=staff_store.account_snapshot(account),
            )
    if secret is None:
        print(f"已关闭 {args.name} 的两步验证。")
        return 0
    print(f"已为 {args.name} 启用两步验证。请用验证器 App（如 Google Authenticator、Microsoft Authenticator）添加：")
    print(two_step.provisioning_uri(secret, args.name))
    print(f"或手动输入密钥：{secret}")
    print("此后登录时需另填 App 中显示的 6 位动态码。密钥只显示这一次。")
    return 0


def run_staff(args: argparse.Namespace) -> int:
    from bot.config import Settings

    settings = Settings()
    try:
        if args.staff_command == "add":
            return asyncio.run(_add(args, settings))
        if args.staff_command == "list":
            return asyncio.run(_list(settings))
        if args.staff_command == "passwd":
            return asyncio.run(_passwd(args, settings))
        if args.staff_command == "disable":
            return asyncio.run(_disable(args, settings))
        if args.staff_command == "totp":
            return asyncio.run(_totp(args, settings))
    except PasswordInputError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except (KeyboardInterrupt, EOFError):
        print("\n已取消。", file=sys.stderr)
        return 1
    return 2
