"""Command line: `python -m bot COMMAND …`.

Each module of `bot.commands` listed in COMMANDS adds its own subcommand (`register`) and the
function that runs it (`set_defaults(run=…)`). Command modules import nothing heavy until they
run, so that `--help` and a one-shot `ask` do not pay for the server, the database or the console.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMANDS = (
    "ask",
    "kb",
    "serve",
    "doctor",
    "migrate",
    "backup",
    "chat",
    "requests",
    "reminders",
    "staff",
    "privacy",
    "wechat",
)
"""Modules of `bot.commands`, in the order `--help` lists their commands (reminders adds broadcast too,
backup adds restore)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="职业技能鉴定考生自助机器人（政策问答、退考退费登记、截止提醒）",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"bot.commands.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except Exception as exc:
        problem = _config_problem(exc)
        if problem is None:
            raise
        # A mistyped environment variable: say which, without a traceback (values may be secrets).
        print(f"配置有误（环境变量或 .env）：{problem}", file=sys.stderr)
        return 2


def _config_problem(exc: Exception) -> str | None:
    """What is wrong with the settings, when `exc` is a settings error; None for anything else."""
    # Imported here rather than at start-up: a command that read its settings has imported them.
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    if isinstance(exc, ValidationError):
        return "；".join(f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
    if isinstance(exc, SettingsError):
        return str(exc)
    return None


if __name__ == "__main__":
    sys.exit(main())
