"""The console's navigation: every section the console has or will have, by route name.

A section appears as a link once a page module registers a route with its name (for instance
`Route("/requests", …, name="requests")`); until then it is shown as not yet available. Adding a
page therefore needs no change here unless it is a new section."""

from __future__ import annotations

from dataclasses import dataclass

from bot.console.scope import ADMIN, ROLES
from storage.database import Database
from storage.handoffs import count_unread


@dataclass(frozen=True)
class NavItem:
    label: str
    route: str
    """Route name inside the console mount (without the "console:" prefix)."""
    description: str
    roles: tuple[str, ...] = ROLES


NAV: tuple[NavItem, ...] = (
    NavItem("仪表盘", "dashboard", "各页面入口与概况。"),
    NavItem("退考退费申请", "requests", "按状态、地区、职业筛选申请，审核、驳回、登记退费，导出名单与弃考声明。"),
    NavItem("转人工", "handoffs", "考生请求人工服务的会话：分配、回复、办结。"),
    NavItem("知识缺口", "gaps", "机器人未能回答的问题，按相似度归组，便于补充知识库。"),
    NavItem("通知管理", "notices", "粘贴或上传新通知，逐条核对自动提取的内容，发布后机器人即按新通知回答。"),
    NavItem("群发", "broadcasts", "按地区、职业、渠道向订阅考生群发通知，查看发送进度。"),
    NavItem("审计日志", "audit", "员工的每一项操作：谁、何时、做了什么、前后变化。只读。"),
    NavItem("账号管理", "accounts", "创建员工账号、分配角色与地区、停用、重置密码、解除锁定。", (ADMIN,)),
    NavItem("个人信息", "privacy", "按考生申请导出或删除其全部个人信息；查看保存期限。", (ADMIN,)),
)


async def nav_counts(db: Database, visible: frozenset[str] | None) -> dict[str, int]:
    """Numbers shown beside a section's link: handoffs with messages staff have not read (of the
    regions the staff member sees). One count per page view."""
    async with db.sessions() as session:
        return {"handoffs": await count_unread(session, regions=visible)}
