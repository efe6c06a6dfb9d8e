"""The command-line contract other tools depend on. The commands run inside the test process
(tests/cli.py), but for one `ask` and one `chat` that run as `python -m bot` in a pipe."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli import in_process as run
from tests.cli import in_subprocess

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.usefixtures("shared_knowledge_base")  # in-process commands: see tests/conftest.py


def test_help_lists_the_commands():
    out = run("--help").stdout
    for command in ("ask", "kb", "chat", "requests"):
        assert command in out


def test_the_product_has_no_benchmark_command():
    """Benchmarks (one wipes a database schema) live in benchmarks/, which is not installed."""
    result = run("bench", "qa")
    assert result.returncode == 2 and "invalid choice" in result.stderr
    assert "bench" not in run("--help").stdout


def test_ask_plain_and_json():
    plain = in_subprocess("ask", "我想在广州退考，还来得及吗", "--now", "2017-09-28")
    assert plain.returncode == 0
    assert "2017年9月30日" in plain.stdout and "还有2天" in plain.stdout
    data = json.loads(run("ask", "技师理论考试多长时间", "--region", "吉林", "--json").stdout)
    assert data["matched"] is True and data["sources"] == ["吉人社办字〔2017〕11号"]
    assert "90分钟" in data["answer"]


def test_a_one_shot_ask_without_a_database_imports_no_database_code(tmp_path):
    """`ask`'s cold start is most of its run time: with no database file it must not pay for
    SQLAlchemy, Alembic or the outbox (importing the settings once pulled them all in: +0.5 s)."""
    probe = (
        "import sys, contextlib, io; from bot.__main__ import main\n"
        "with contextlib.redirect_stdout(io.StringIO()): code = main(['ask', '广州退考截止哪天'])\n"
        "print(code, sorted(m for m in ('sqlalchemy', 'alembic', 'storage.outbox') if m in sys.modules))"
    )
    env = {"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path / "data"), "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, env=env)
    assert result.stdout.strip() == "0 []", result.stdout + result.stderr


def test_ask_rejects_a_malformed_now():
    result = run("ask", "广州退考截止哪天", "--now", "2017/13/40")
    assert result.returncode == 2
    assert "YYYY-MM-DD" in result.stderr and "Traceback" not in result.stderr


def test_batch_prints_one_json_object_per_line_and_nothing_else(tmp_path):
    items = [
        {"id": "a", "question": "吉林日常鉴定2026年6月22日考试，报名最晚哪天", "now": "2026-05-01"},
        {"id": "b", "question": "技师理论考试多长时间", "region": "吉林"},
        {"id": "c", "question": "给我讲个笑话"},
        {"id": "d", "question": None, "now": "not-a-date"},
    ]
    batch = tmp_path / "q.jsonl"
    batch.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in items) + "\n\nnot json\n", encoding="utf-8")
    result = run("ask", "--json", "--batch", str(batch))
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 4
    answers = {obj["id"]: obj for obj in map(json.loads, lines)}
    for obj in answers.values():
        assert {"id", "answer", "matched", "sources"} <= obj.keys()
    assert answers["a"]["matched"] and "2026年6月5日" in answers["a"]["answer"]
    assert answers["b"]["sources"] == ["吉人社办字〔2017〕11号"]
    assert answers["c"]["matched"] is False and answers["c"]["sources"] == []
    assert answers["d"]["matched"] is False
    assert "不是有效的 JSON" in result.stderr


def test_broken_knowledge_base_refuses_to_answer(tmp_path, monkeypatch):
    (tmp_path / "x.yaml").write_text("doc_no: [\n", encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from knowledge import loader; from pathlib import Path;"
            f"loader.NOTICES_DIR = Path({str(tmp_path)!r});"
            "from bot.__main__ import main; sys.exit(main(['ask', '广州退考截止哪天']))",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 1
    assert "x.yaml: line" in result.stderr and "Traceback" not in result.stderr


def test_chat_in_a_pipe_files_a_request_and_requests_list_shows_it_masked(tmp_path):
    from tests.dialogs import dialog, make_id_number

    id_number = make_id_number(seq=555)
    env = {"DATA_DIR": str(tmp_path), "DATABASE_URL": ""}
    lines = [*dialog("广州", "秘书", "2017年10月15日", id_number), "确认弃考"]
    first = in_subprocess("chat", "--user", "cli-1", "--now", "2017-09-27", stdin="\n".join(lines[:5]) + "\n", env=env)
    assert first.returncode == 0, first.stderr
    assert "> " not in first.stdout, "no prompt noise in a pipe"
    assert "请输入原定考试日期" not in first.stdout.splitlines()[-1]
    # Another run (a new runtime and database engine) continues the same conversation.
    second = run("chat", "--user", "cli-1", "--now", "2017-09-27", stdin="\n".join(lines[5:]) + "\n", env=env)
    assert "受理编号：QK-20170927-0001" in second.stdout, second.stdout + second.stderr

    listed = json.loads(run("requests", "list", "--json", env=env).stdout)
    assert [r["reference"] for r in listed] == ["QK-20170927-0001"]
    assert listed[0]["id_number"] == id_number[:4] + "**********" + id_number[-4:]
    assert listed[0]["phone"] == "138****5678" and listed[0]["name"] == "张*"
    plain = run("requests", "list", "--status", "submitted", env=env)
    assert "QK-20170927-0001" in plain.stdout and id_number not in plain.stdout
    assert "没有状态为 refunded" in run("requests", "list", "--status", "refunded", env=env).stdout
    bad = run("requests", "list", "--status", "nonsense", env=env)
    assert bad.returncode == 2 and "submitted" in bad.stderr


def test_ask_answers_from_notices_published_in_the_console(tmp_path):
    """`ask` reads the bot's database: a notice published from the console answers there too."""
    import asyncio
    import datetime as dt

    from storage import notices
    from storage.database import Database
    from tests.knowledge.notice_samples import DOC_A, KEEP_A, NOTICE_A, REGISTER_A, REGISTER_QUESTION, reviewed

    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"

    async def publish() -> None:
        db = Database(url)
        await db.migrate()
        data = reviewed(NOTICE_A, KEEP_A, topical=(REGISTER_A,))
        now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
        async with db.transaction() as session:
            draft = await notices.create_draft(
                session, source_name="a.txt", source_text=NOTICE_A, data=data, by="admin", now=now
            )
            await notices.publish(session, draft=draft, doc_no=DOC_A, data=data, by="admin", now=now)
        await db.dispose()

    before = run("ask", REGISTER_QUESTION, "--now", "2026-03-02", "--json", env={"DATA_DIR": str(tmp_path)})
    assert DOC_A not in json.loads(before.stdout)["sources"]
    asyncio.run(publish())
    after = run("ask", REGISTER_QUESTION, "--now", "2026-03-02", "--json", env={"DATA_DIR": str(tmp_path)})
    answer = json.loads(after.stdout)
    assert answer["matched"] and answer["sources"] == [DOC_A], after.stdout + after.stderr
    assert "2027年3月15日" in answer["answer"]
