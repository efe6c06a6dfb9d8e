"""`python -m bot doctor`: checks the configuration before start and says how to fix each finding."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.commands.common import Subparsers


def register(subparsers: Subparsers) -> None:
    doctor = subparsers.add_parser(
        "doctor", help="启动前检查配置：数据库、个人信息密钥、微信与 Telegram、域名与代理、时区、磁盘"
    )
    doctor.set_defaults(run=run_doctor)


def run_doctor(args: argparse.Namespace) -> int:
    from bot.config import Settings
    from bot.doctor import diagnose, fatal

    findings = diagnose(Settings())
    for finding in findings:
        print(finding.line())
    blocking = fatal(findings)
    print(
        f"\n共 {len(findings)} 项；{len(blocking)} 项会使服务无法启动。"
        if blocking
        else f"\n共 {len(findings)} 项；可以启动。"
    )
    return 1 if blocking else 0
