"""`python -m bot serve`: the ASGI server (web chat page, WeChat, Telegram, health and metrics)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.commands.common import Subparsers


def register(subparsers: Subparsers) -> None:
    serve = subparsers.add_parser("serve", help="启动服务：网页聊天、微信公众号、Telegram、/healthz、/metrics")
    serve.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1）")
    serve.add_argument("--port", type=int, default=8000, help="端口（默认 8000）")
    serve.add_argument("--workers", type=int, default=1, help="进程数（多进程请用 PostgreSQL 与 Telegram webhook）")
    serve.set_defaults(run=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from bot.config import Settings
    from bot.doctor import diagnose, fatal
    from bot.logs import configure_logging

    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    # A fatal finding stops here with its fix, before uvicorn prints a traceback from deep in the stack.
    blocking = fatal(diagnose(settings))
    if blocking:
        print("无法启动：", file=sys.stderr)
        for finding in blocking:
            print(finding.line(), file=sys.stderr)
        print("修正后再启动；python -m bot doctor 列出全部检查项。", file=sys.stderr)
        return 2
    uvicorn.run(
        "bot.server:serving_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=None,
        proxy_headers=True,
        forwarded_allow_ips=[ip.strip() for ip in settings.trusted_proxies.split(",") if ip.strip()],
    )
    return 0
