"""`python -m bot ask`: answer one question, or a batch of them as JSON lines."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.commands.common import Subparsers
    from knowledge.qa import PolicyQA


def register(subparsers: Subparsers) -> None:
    ask = subparsers.add_parser("ask", help="回答一个政策问题（或用 --batch 批量回答）")
    ask.add_argument("question", nargs="?", help="问题文本")
    ask.add_argument("--region", help="考生所在地区，如 广州、吉林")
    ask.add_argument("--now", help="当前日期 YYYY-MM-DD（北京时间），用于判断截止日期是否已过")
    ask.add_argument("--json", action="store_true", help="输出 JSON")
    ask.add_argument("--batch", metavar="FILE.jsonl", help="每行一个 JSON：id、question、可选 region、now")
    ask.set_defaults(run=run_ask)


def _parse_now(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError as exc:
        raise ValueError(f"--now 应为 YYYY-MM-DD 格式的日期，收到：{value!r}") from exc


def _answer_line(qa: PolicyQA, item: dict[str, Any]) -> dict[str, Any]:
    question = item.get("question")
    if not isinstance(question, str):
        question = "" if question is None else str(question)
    try:
        now = _parse_now(item.get("now"))
    except ValueError as exc:
        return {"id": item.get("id"), "answer": str(exc), "matched": False, "sources": []}
    answer = qa.answer(question, region=item.get("region") or None, now=now)
    return {"id": item.get("id"), **answer.to_json()}


def _no_sqlite_file(url: str) -> bool:
    """A SQLite URL whose file does not exist: nothing to add, and `ask` never creates a database.
    Read by hand, since importing SQLAlchemy to parse it would cost a one-shot `ask` a quarter of
    a second; a URL this does not read plainly (no `:///`, escapes) goes to SQLAlchemy."""
    scheme, sep, rest = url.partition(":///")
    path = rest.partition("?")[0]
    if scheme.split("+")[0] != "sqlite" or not sep or "%" in path:
        return False
    return path in ("", ":memory:") or not Path(path).is_file()


async def _from_database(url: str, qa: PolicyQA) -> PolicyQA:
    """`qa` with the notices published from the staff console and the staff's question variants,
    when the bot's database has them, so that `ask` answers as the server does."""
    if _no_sqlite_file(url):
        return qa
    from sqlalchemy.engine import make_url

    from bot.knowledge_sync import load_knowledge
    from knowledge.snapshot import KnowledgeHolder, KnowledgeSnapshot
    from storage.database import Database

    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite") and not (parsed.database and Path(parsed.database).is_file()):
        return qa  # no database yet: `ask` never creates one
    db = Database(url)
    try:
        # A database not yet migrated this far has nothing to add; `ask` does not migrate.
        holder = KnowledgeHolder(KnowledgeSnapshot(qa.kb, qa))
        await load_knowledge(db, holder)
        return holder.current.qa
    finally:
        await db.dispose()


def _with_database(qa: PolicyQA) -> PolicyQA:
    """Published notices and question variants from the bot's database, when it has one. Without a
    database, or if it cannot be read, the answers come from the shipped knowledge base alone."""
    from bot.config import Settings

    try:
        return asyncio.run(_from_database(Settings().effective_database_url, qa))
    except Exception as exc:  # noqa: BLE001 - the shipped knowledge base alone still answers
        print(f"未能从数据库加载已发布的通知与补充问法（{type(exc).__name__}），仅按知识库回答。", file=sys.stderr)
        return qa


def run_ask(args: argparse.Namespace) -> int:
    from knowledge.loader import KnowledgeBaseError
    from knowledge.snapshot import KnowledgeSnapshot

    try:
        qa = KnowledgeSnapshot.shipped().qa
    except KnowledgeBaseError as exc:
        print(f"知识库无法加载：\n{exc}", file=sys.stderr)
        return 1
    qa = _with_database(qa)
    if args.batch:
        with open(args.batch, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                    if not isinstance(item, dict):
                        raise ValueError("not an object")
                except ValueError:
                    print(f"{args.batch}:{n}: 不是有效的 JSON 对象，已跳过", file=sys.stderr)
                    continue
                print(json.dumps(_answer_line(qa, item), ensure_ascii=False), flush=False)
        sys.stdout.flush()
        return 0
    if args.question is None:
        print('请提供问题，例如：python -m bot ask "广州退考截止到哪天"', file=sys.stderr)
        return 2
    try:
        now = _parse_now(args.now)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    answer = qa.answer(args.question, region=args.region, now=now)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        print(answer.text)
        if answer.sources:
            print("来源文件：" + "、".join(answer.sources))
    return 0
