"""`python -m bot wechat menu`: checks the configured custom menu and creates it through the API."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import TYPE_CHECKING, Any

from bot.commands.common import open_database

if TYPE_CHECKING:
    from bot.commands.common import Subparsers
    from bot.config import Settings


def register(subparsers: Subparsers) -> None:
    wechat = subparsers.add_parser("wechat", help="微信公众号管理")
    wechat_sub = wechat.add_subparsers(dest="wechat_command", metavar="WECHAT", required=True)
    menu = wechat_sub.add_parser("menu", help="按配置（WECHAT_MENU，默认内置菜单）创建自定义菜单")
    menu.add_argument("--dry-run", action="store_true", help="只校验并打印菜单 JSON，不调用接口")
    menu.set_defaults(run=run_wechat)


async def _create_menu(settings: Settings, menu: dict[str, Any]) -> None:
    from bot.app import open_cipher
    from bot.channels.wechat_api import WeChatApi, new_http_session
    from storage.api_tokens import SharedToken

    async with open_database(settings) as db:
        # The same shared token as the running server, so creating the menu does not revoke its token.
        token = SharedToken(db, await open_cipher(db, settings), f"wechat:{settings.wechat_app_id}")
        async with new_http_session() as client:
            await WeChatApi(settings, client, token).create_menu(menu)


def run_wechat(args: argparse.Namespace) -> int:
    from bot.channels.wechat_api import WeChatApiError, WeChatHttpError
    from bot.channels.wechat_menu import menu_problems
    from bot.config import Settings
    from bot.logs import configure_logging
    from storage.api_tokens import TokenUnavailable
    from storage.masking import mask_text

    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    menu = settings.wechat_menu
    problems = menu_problems(menu)
    if problems:
        print("菜单配置（WECHAT_MENU）有误：", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    if args.dry_run:
        print(json.dumps(menu, ensure_ascii=False, indent=2))
        return 0
    if not settings.wechat_app_id or not settings.wechat_app_secret:
        print("需要先配置 WECHAT_APP_ID 与 WECHAT_APP_SECRET。", file=sys.stderr)
        return 2
    try:
        asyncio.run(_create_menu(settings, menu))
    except WeChatApiError as exc:
        print(f"微信接口拒绝了菜单：错误码 {exc.errcode} {exc.errmsg}", file=sys.stderr)
        return 1
    except (WeChatHttpError, TokenUnavailable) as exc:
        print(f"无法调用微信接口（{settings.wechat_api_base_url}）：{mask_text(str(exc))}", file=sys.stderr)
        return 1
    buttons = "、".join(str(b.get("name")) for b in menu["button"])
    print(f"自定义菜单已创建：{buttons}")
    return 0
