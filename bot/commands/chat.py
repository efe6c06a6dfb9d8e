"""`python -m bot chat`: talk to the bot from a terminal or a pipe, one message per line."""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.commands.common import Subparsers
    from handlers.messages import Reply


def register(subparsers: Subparsers) -> None:
    chat = subparsers.add_parser("chat", help="在终端或管道中与机器人对话（每行一条消息）")
    chat.add_argument("--user", required=True, help="用户标识")
    chat.add_argument("--channel", default="cli", help="渠道名（默认 cli）")
    chat.add_argument("--now", help="把今天固定为 YYYY-MM-DD（北京时间）")
    chat.set_defaults(run=run_chat)


def _render(reply: Reply) -> str:
    text = reply.text
    if reply.choices:
        text += "\n［" + "｜".join(reply.choices) + "］"
    return text


async def _chat(args: argparse.Namespace) -> int:
    from bot.app import build_runtime
    from bot.config import Settings
    from bot.knowledge_sync import load_knowledge
    from bot.logs import configure_logging
    from handlers.clock import fixed_day_clock, parse_day
    from handlers.messages import ConversationKey, Inbound

    settings = Settings()
    configure_logging(settings.log_level)
    clock = fixed_day_clock(parse_day(args.now)) if args.now else None
    runtime = await build_runtime(settings, clock=clock)
    interactive = sys.stdin.isatty()
    key = ConversationKey(args.channel, args.user)
    session_tag = uuid.uuid4().hex[:8]
    try:
        # As the server answers: the notices published from the console and the staff's variants.
        await load_knowledge(runtime.db, runtime.knowledge)
        count = 0
        while True:
            if interactive:
                print("> ", end="", flush=True)
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:
                break
            text = line.rstrip("\n")
            if not text.strip():
                continue
            count += 1
            # Each line is a distinct message; ids are unique per run so reruns are not "retries".
            inbound = Inbound(key=key, text=text, message_id=f"cli-{session_tag}-{count}")
            replies = await runtime.engine.handle(inbound)
            print("\n\n".join(_render(r) for r in replies) or "（无回复）")
            print("─" * 20 if interactive else "", flush=True)
    finally:
        await runtime.close()
    return 0


def run_chat(args: argparse.Namespace) -> int:
    from knowledge.loader import KnowledgeBaseError
    from storage.pii import PiiKeyError

    try:
        return asyncio.run(_chat(args))
    except (KnowledgeBaseError, PiiKeyError, ValueError) as exc:
        print(f"无法启动：{exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
