"""`python -m bot broadcast` and `python -m bot reminders status` as staff run them (inside the
test process, see tests/cli.py; the dry run as a real `python -m bot`)."""

from __future__ import annotations

from pathlib import Path

from tests.channels.fake_wechat import APP_ID
from tests.cli import Result, in_process, in_subprocess


def bot(*args: str, data: Path, stdin: str | None = None, subprocess: bool = False, **env: str) -> Result:
    run = in_subprocess if subprocess else in_process
    return run(*args, stdin=stdin, env={"DATA_DIR": str(data), "DATABASE_URL": "", "LOG_LEVEL": "WARNING", **env})


def test_broadcast_dry_run_queue_status_and_cancel(tmp_path: Path) -> None:
    for user, region in (("oA", "吉林"), ("oB", "长春"), ("oC", "广州")):
        chat = bot(
            "chat", "--user", user, "--channel", "wechat", "--now", "2026-09-01",
            data=tmp_path, stdin=f"订阅提醒\n{region}\n全部\n跳过\n确认订阅\n",
        )  # fmt: skip
        assert "已订阅" in chat.stdout, chat.stdout + chat.stderr

    dry = bot("broadcast", "--region", "吉林", "--text", "补报名通知", "--dry-run", data=tmp_path, subprocess=True)
    assert dry.returncode == 0, dry.stderr
    # 长春 is a city of 吉林省 (knowledge/regions.yaml): its subscriber is in the audience too.
    assert "受众：2 人" in dry.stdout and "oA" in dry.stdout and "oB" in dry.stdout and "oC" not in dry.stdout

    queued = bot("broadcast", "--region", "吉林", "--text", "补报名通知", "--at", "2026-09-02T09:30", data=tmp_path)
    assert queued.returncode == 0 and "群发 1 已排队" in queued.stdout and "2026-09-02 09:30" in queued.stdout

    status = bot("reminders", "status", data=tmp_path)
    assert status.returncode == 0 and "群发 1｜吉林省｜scheduled" in status.stdout and "wechat" in status.stdout

    cancelled = bot("broadcast", "--cancel", "1", data=tmp_path)
    assert cancelled.returncode == 0 and "已取消" in cancelled.stdout
    assert "群发 1｜吉林省｜cancelled" in bot("reminders", "status", data=tmp_path).stdout


def test_broadcast_refuses_bad_input_politely(tmp_path: Path) -> None:
    unknown = bot("broadcast", "--region", "火星", "--text", "x", data=tmp_path)
    assert unknown.returncode == 2 and "不认识的地区" in unknown.stderr and "Traceback" not in unknown.stderr
    no_text = bot("broadcast", "--region", "吉林", data=tmp_path)
    assert no_text.returncode == 2 and "--text" in no_text.stderr
    bad_time = bot("broadcast", "--region", "吉林", "--text", "x", "--at", "明天", data=tmp_path)
    assert bad_time.returncode == 2 and "YYYY-MM-DD" in bad_time.stderr
    missing = bot("broadcast", "--cancel", "99", data=tmp_path)
    assert missing.returncode == 1 and "没有编号为 99" in missing.stderr


def test_the_quota_cost_of_a_broadcast_and_the_reminders_it_leaves_behind(tmp_path: Path) -> None:
    import asyncio
    import datetime as dt

    from storage.database import Database
    from storage.outbox import enqueue
    from tests.reminders.conftest import FrozenClock, waiting_reminders

    for user, region in (("oA", "吉林"), ("oB", "长春")):
        chat = bot(
            "chat", "--user", user, "--channel", "wechat", "--now", "2026-09-01",
            data=tmp_path, stdin=f"订阅提醒\n{region}\n全部\n跳过\n确认订阅\n",
        )  # fmt: skip
        assert "已订阅" in chat.stdout, chat.stdout + chat.stderr

    async def queue_reminders() -> None:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
        at = FrozenClock.parse("2026-09-03T09:00")
        async with db.transaction() as session:
            await enqueue(session, waiting_reminders({dt.date(2026, 9, 4): 8}, due_at=at), now=at)
        await db.dispose()

    asyncio.run(queue_reminders())
    # Without an AppID the bot sends no WeChat messages: no quota is reported.
    unconfigured = bot("reminders", "status", data=tmp_path, BOT_NOW="2026-09-03T10:00", WECHAT_APP_ID="")
    assert unconfigured.returncode == 0 and "模板消息" not in unconfigured.stdout, unconfigured.stdout
    quota = {"WECHAT_DAILY_QUOTA_TEMPLATE": "3", "BOT_NOW": "2026-09-03T10:00", "WECHAT_APP_ID": APP_ID}
    dry = bot("broadcast", "--region", "吉林", "--text", "补报名通知", "--dry-run", data=tmp_path, **quota)
    assert dry.returncode == 0, dry.stderr
    # Eight reminders wait ahead of it and today's quota is 3: none of the broadcast goes today.
    assert "wechat：约 2 条，最多用今日模板消息 3 条额度中的 2 条" in dry.stdout, dry.stdout
    assert "排在它之前待发 8 条" in dry.stdout
    assert "今日额度只够其中 0 条；其余 2 条顺延到次日起按每日额度发送（约 1 天内发完）" in dry.stdout

    status = bot("reminders", "status", data=tmp_path, **quota)
    assert "wechat 模板消息：今日已用 0 / 3" in status.stdout, status.stdout
    # Eight reminders for tomorrow, three left today and three tomorrow: two will not make it.
    assert "按当前配额，截止日 2026-09-04 的 2 条提醒将无法在截止前发出" in status.stdout

    later = bot("reminders", "status", data=tmp_path, **{**quota, "BOT_NOW": "2026-09-05T10:00"})
    assert "截止日 2026-09-04 的 8 条提醒未能在截止前发出" in later.stdout, later.stdout
