"""Roles and region scoping as the console speaks of them: labels, what an account may be named and
given, region names as typed. The rules themselves (`WRITERS`, `visible_regions`) are
`handlers.staff_scope`'s, named here too for the console's modules."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from handlers.staff_scope import ADMIN, REVIEWER, VIEWER, WRITERS, visible_regions
from knowledge.regions import RegionRegistry
from storage.handoffs import CANDIDATE
from storage.staff import ROLES

__all__ = [
    "ADMIN",
    "REVIEWER",
    "ROLES",
    "ROLE_LABELS",
    "VIEWER",
    "WRITERS",
    "UnknownRegionError",
    "name_problem",
    "normalize_regions",
    "role_problem",
    "split_regions",
    "visible_regions",
]

ROLE_LABELS = {ADMIN: "管理员", REVIEWER: "审核员", VIEWER: "只读"}

ACCOUNT_NAME = re.compile(r"[\w.@-]{2,32}")
"""Letters (Chinese included), digits and . _ @ -: a name that reads well in the audit log."""
RESERVED_NAMES = frozenset({"cli", "anonymous", "system", CANDIDATE})
"""Actors the audit log uses for the command line and for not-signed-in visitors; who resolved a handoff
the candidate ended themselves."""
_SEPARATORS = re.compile(r"[,，、;；\s]+")


class UnknownRegionError(ValueError):
    """Region names that are neither a canonical name nor an alias; the message is Chinese."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        super().__init__(f"不认识的地区：{'、'.join(self.names)}。请使用地区全称或常用简称，如 广东省、广州、吉林。")


def split_regions(values: Iterable[str]) -> list[str]:
    """`["广东,吉林", "江苏"]` → `["广东", "吉林", "江苏"]`: options may repeat or hold lists."""
    return [part for value in values for part in _SEPARATORS.split(value) if part]


def normalize_regions(values: Iterable[str], registry: RegionRegistry) -> list[str]:
    """Canonical names for what was typed (广东 → 广东省), without duplicates, in the order given.

    Only a whole name or alias counts: "广东某地" is refused rather than guessed."""
    out: list[str] = []
    unknown: list[str] = []
    for value in split_regions(values):
        canonical = registry.named(value)
        if canonical is None:
            unknown.append(value)
        elif canonical not in out:
            out.append(canonical)
    if unknown:
        raise UnknownRegionError(unknown)
    return out


def role_problem(role: str, regions: Sequence[str]) -> str | None:
    """Why a role and region list do not go together, in Chinese; None when they do."""
    if role not in ROLES:
        return f"角色应为 {'、'.join(ROLES)} 之一。"
    if role == REVIEWER and not regions:
        return "审核员至少需要一个负责地区。"
    return None


def name_problem(name: str) -> str | None:
    """Why an account name is refused, in Chinese; None when it is acceptable."""
    if not ACCOUNT_NAME.fullmatch(name):
        return "账号名应为 2–32 个字母、汉字、数字或 . _ @ - 字符。"
    if name.lower() in RESERVED_NAMES:
        return f"账号名 {name} 为系统保留（审计日志用它标记命令行或未登录的操作），请换一个。"
    return None
