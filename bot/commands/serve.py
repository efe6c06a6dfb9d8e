"""`python -m bot serve`: the ASGI server (web chat page, WeChat, Telegram, health and metrics)."""

from __future__ import annotations

import argparse

import uvicorn

from bot.config import Settings
from bot.logs import configure_logging


def run_serve(args: argparse.Namespace) -> int:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    uvicorn.run(
        "bot.server:serving_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=None,
        proxy_headers=True,
    )
    return 0
