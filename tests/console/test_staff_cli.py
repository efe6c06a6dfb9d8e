"""`python -m bot staff …`: accounts made, listed, changed and disabled from the command line, each
change audited as "cli"; and the server's hint when no account exists."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from bot.__main__ import main
from bot.config import Settings
from bot.server import create_app
from storage.database import Database
from storage.models import AuditEntry, StaffAccount
from storage.staff import create_account
from tests.console.conftest import CHEAP_HASHER, SQLITE_ONLY, MovableClock

ROOT = Path(__file__).resolve().parent.parent.parent
PASSWORD = "first-admin-secret"

Run = Callable[..., int]


@pytest.fixture
def run(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Runs `python -m bot ARGS` in this process with `stdin` as its standard input (the tests calling
    it are not coroutines: the command runs its own event loop)."""
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("BOT_NOW", raising=False)

    def invoke(*args: str, stdin: str = "") -> int:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        return main(list(args))

    return invoke


async def rows(database_url: str) -> tuple[list[StaffAccount], list[AuditEntry]]:
    db = Database(database_url)
    try:
        async with db.sessions() as session:
            accounts = list((await session.execute(select(StaffAccount).order_by(StaffAccount.id))).scalars())
            entries = list((await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars())
    finally:
        await db.dispose()
    return accounts, entries


def test_add_list_passwd_disable(run: Run, database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("staff", "list") == 0
    assert "还没有员工账号" in capsys.readouterr().out

    assert run("staff", "add", "boss", "--role", "admin", stdin=PASSWORD + "\n") == 0
    assert "已创建账号 boss（管理员，全部地区）" in capsys.readouterr().out
    assert (
        run(
            "staff",
            "add",
            "li",
            "--role",
            "reviewer",
            "--region",
            "广东,吉林",
            "--region",
            "苏州",
            stdin=PASSWORD + "\n",
        )
        == 0
    )
    assert "广东省、吉林省、苏州市" in capsys.readouterr().out

    assert run("staff", "list") == 0
    listing = capsys.readouterr().out
    assert "boss  管理员  全部地区  正常" in listing and "li  审核员  广东省、吉林省、苏州市  正常" in listing

    assert run("staff", "passwd", "li", "--password-stdin", stdin="another-secret-9\n") == 0
    assert run("staff", "disable", "li") == 0
    assert "已停用账号 li" in capsys.readouterr().out
    assert run("staff", "disable", "li") == 0  # already disabled: said, not an error

    accounts, entries = asyncio.run(rows(database_url))
    boss, li = accounts
    assert (boss.role, boss.regions, li.role, li.regions, li.active) == (
        "admin",
        [],
        "reviewer",
        ["广东省", "吉林省", "苏州市"],
        False,
    )
    # argon2-cffi's default parameters outside tests.
    params = PasswordHasher().hash("x").split("$")[3]
    assert boss.password_hash.split("$")[3] == params
    assert PasswordHasher().verify(li.password_hash, "another-secret-9")
    assert [(e.actor, e.action, e.target_id) for e in entries] == [
        ("cli", "staff.create", str(boss.id)),
        ("cli", "staff.create", str(li.id)),
        ("cli", "staff.password_reset", str(li.id)),
        ("cli", "staff.deactivate", str(li.id)),
    ]


@SQLITE_ONLY
def test_refusals_say_why_in_chinese(run: Run, database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("staff", "add", "li", "--role", "reviewer", "--region", "火星", stdin=PASSWORD + "\n") == 2
    assert "不认识的地区：火星" in capsys.readouterr().err
    assert run("staff", "add", "li", "--role", "reviewer", stdin=PASSWORD + "\n") == 2
    assert "审核员至少需要一个负责地区" in capsys.readouterr().err
    assert run("staff", "add", "li", "--role", "viewer", stdin="short\n") == 2
    assert "至少需要 10 个字符" in capsys.readouterr().err
    assert run("staff", "add", "li", "--role", "viewer", stdin="password12\n") == 2
    assert "密码太容易被猜到" in capsys.readouterr().err
    assert run("staff", "add", "lihua", "--role", "viewer", stdin="LiHua@renshe-2026\n") == 2
    assert "不能包含账号名" in capsys.readouterr().err
    assert run("staff", "add", "li", "--role", "viewer", stdin="") == 2
    assert "没有读到密码" in capsys.readouterr().err
    assert run("staff", "add", "li", "--role", "viewer", stdin=PASSWORD + "\n") == 0
    assert run("staff", "add", "li", "--role", "viewer", stdin=PASSWORD + "\n") == 1
    assert "已存在" in capsys.readouterr().err
    assert run("staff", "passwd", "nobody", stdin=PASSWORD + "\n") == 1
    assert run("staff", "disable", "nobody") == 1
    with pytest.raises(SystemExit):
        run("staff", "add", "li", "--role", "root")
    accounts, _ = asyncio.run(rows(database_url))
    assert [a.name for a in accounts] == ["li"]


def test_the_real_command_reads_the_password_from_a_pipe(tmp_path: Path) -> None:
    env = {**os.environ, "DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "staff", "add", "boss", "--role", "admin"],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "已创建账号 boss" in result.stdout
    assert PASSWORD not in result.stdout + result.stderr
    assert (tmp_path / "bot.db").exists()


@SQLITE_ONLY
async def test_the_server_says_how_to_create_the_first_account(
    tmp_path: Path, database_url: str, clock: MovableClock, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, database_url=database_url, reminders_enabled=False)  # type: ignore[call-arg]
    app = create_app(settings, clock=clock, password_hasher=CHEAP_HASHER)
    async with app.router.lifespan_context(app):
        assert "python -m bot staff add 用户名 --role admin" in capsys.readouterr().err
        async with app.state.runtime.db.transaction() as session:
            await create_account(session, name="boss", role="admin", regions=[], password_hash="x", now=clock())
    async with app.router.lifespan_context(app):
        pass
    assert "staff add" not in capsys.readouterr().err
