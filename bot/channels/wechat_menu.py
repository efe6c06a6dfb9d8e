"""The Official Account's custom menu: what each click key means, and checks of a configured menu
against WeChat's limits before it is sent (`python -m bot wechat menu`)."""

from __future__ import annotations

from typing import Any

from handlers.messages import Command

MENU_COMMANDS = {
    "QA": Command.QA,
    "WITHDRAW": Command.WITHDRAW,
    "MY_REQUESTS": Command.MY_REQUESTS,
    "REMIND": Command.REMIND,
    "HUMAN": Command.HUMAN,
}
"""Click keys → the command the conversation engine runs."""

MAX_BUTTONS, MAX_SUB_BUTTONS = 3, 5
MAX_NAME_BYTES, MAX_SUB_NAME_BYTES = 16, 60


def menu_problems(menu: dict[str, Any]) -> list[str]:
    """Everything wrong with `menu`, in Chinese for the operator; empty when it can be sent."""
    buttons = menu.get("button")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
        return [f"菜单应有 1–{MAX_BUTTONS} 个一级按钮（button 列表）"]
    problems: list[str] = []
    for i, button in enumerate(buttons, 1):
        where = f"第 {i} 个一级按钮"
        if not isinstance(button, dict):
            problems.append(f"{where}不是对象")
            continue
        problems += _name_problems(button, where, MAX_NAME_BYTES)
        subs = button.get("sub_button")
        if subs:
            if not isinstance(subs, list) or len(subs) > MAX_SUB_BUTTONS:
                problems.append(f"{where}的子菜单最多 {MAX_SUB_BUTTONS} 个")
                continue
            for j, sub in enumerate(subs, 1):
                sub_where = f"{where}的第 {j} 个子按钮"
                if not isinstance(sub, dict):
                    problems.append(f"{sub_where}不是对象")
                    continue
                problems += _name_problems(sub, sub_where, MAX_SUB_NAME_BYTES)
                problems += _action_problems(sub, sub_where)
        else:
            problems += _action_problems(button, where)
    return problems


def _name_problems(button: dict[str, Any], where: str, limit: int) -> list[str]:
    name = button.get("name")
    if not isinstance(name, str) or not name.strip():
        return [f"{where}缺少名称"]
    if len(name.encode("utf-8")) > limit:
        return [f"{where}“{name}”过长（最多 {limit} 字节）"]
    return []


def _action_problems(button: dict[str, Any], where: str) -> list[str]:
    kind = button.get("type")
    if kind == "click":
        key = button.get("key")
        if key not in MENU_COMMANDS:
            return [f"{where}的 key “{key}” 未知，可用：{'、'.join(MENU_COMMANDS)}"]
        return []
    if kind == "view":
        url = str(button.get("url") or "")
        if not url.startswith(("http://", "https://")) or len(url.encode()) > 1024:
            return [f"{where}的网址无效（须以 http:// 或 https:// 开头，最多 1024 字节）"]
        return []
    return [f"{where}的类型“{kind}”不受支持（可用 click、view）"]
