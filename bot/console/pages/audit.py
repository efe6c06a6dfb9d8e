"""The audit log at /admin/audit: newest first, filtered by actor and action, read-only.

Admins and viewers of every region see all entries; everyone else sees only their own actions,
since entries about other regions' requests are not theirs to read."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.console.auth import Staff, staff_page
from bot.console.scope import ROLE_LABELS, VIEWER
from bot.console.state import database
from bot.console.templates import render
from handlers.channel_names import CHANNEL_LABELS
from storage import audit
from storage.models import AuditEntry
from storage.statuses import BroadcastStatus, GapStatus, HandoffStatus, LabelledStatus, RequestStatus

PER_PAGE = 50
ACTION_LABELS = {
    "login": "登录",
    "login_failed": "登录失败",
    "logout": "退出登录",
    "staff.locked": "账号被锁定",
    "staff.create": "创建账号",
    "staff.update": "修改角色与地区",
    "staff.deactivate": "停用账号",
    "staff.activate": "启用账号",
    "staff.password_reset": "重置密码",
    "staff.unlock": "解除锁定",
    "staff.two_step": "设置两步验证",
    "request.approve": "通过申请",
    "request.reject": "驳回申请",
    "request.refund": "登记退费",
    "request.reveal": "查看完整身份证号",
    "request.export_xlsx": "导出申请名单 XLSX",
    "request.export_pdf": "导出弃考声明 PDF",
    "request.declaration_pdf": "下载弃考声明 PDF",
    "privacy.retention": "按保存期限清理个人信息",
    "privacy.export": "导出个人的全部信息",
    "privacy.erase": "删除个人的全部信息",
    "handoff.open": "开始处理转人工",
    "handoff.assign": "分配转人工",
    "handoff.reply": "回复考生",
    "handoff.resolve": "办结转人工",
    "gap.handled": "标记知识缺口已处理",
    "gap.variant_add": "添加问法",
    "gap.variant_deactivate": "停用问法",
    "broadcast.create": "创建群发",
    "broadcast.cancel": "取消群发",
    "notice.draft_create": "新建通知草稿",
    "notice.draft_save": "修改通知草稿",
    "notice.draft_discard": "放弃通知草稿",
    "notice.submit": "提交通知草稿待发布",
    "notice.publish": "发布通知",
    "notice.withdraw": "撤回通知",
    "notice.revise": "据已发布通知创建新版本草稿",
}
"""Chinese names of actions; a page that audits a new action adds its label here (else the raw name shows)."""
FIELD_LABELS = {
    "name": "账号",
    "role": "角色",
    "regions": "地区",
    "active": "启用",
    "failed_logins": "失败次数",
    "locked_until": "锁定至",
    "status": "状态",
    "status_reason": "原因",
    "refunded_on": "退费日期",
    "refund_method": "退费方式",
    "note": "备注",
    "filters": "筛选条件",
    "rows": "行数",
    "full_numbers": "完整身份证号",
    "assigned_to": "负责人",
    "region": "地区",
    "question": "问法",
    "entry_id": "知识条目",
    "handled_by": "处理人",
    "occupation": "职业",
    "channel": "渠道",
    "text": "内容",
    "send_at": "发送时间",
    "audience": "受众人数",
    "cancelled": "取消条数",
    "doc_no": "文号",
    "version": "版本",
    "title": "标题",
    "facts": "条目数",
    "supersedes": "取代的文件",
    "accepted": "已采用",
    "rejected": "不采用",
}
"""Chinese names of snapshot fields; unknown fields show their own name."""
TARGET_LABELS = {
    "staff": "员工账号",
    "request": "申请",
    "handoff": "转人工",
    "broadcast": "群发",
    "gap": "知识缺口",
    "variant": "问法",
    "notice": "通知",
    "notice_draft": "通知草稿",
}

STATUSES: dict[str, type[LabelledStatus]] = {
    "request": RequestStatus,
    "handoff": HandoffStatus,
    "gap": GapStatus,
    "broadcast": BroadcastStatus,
}
"""Target type → the statuses its snapshots hold, shown by their Chinese labels (notice drafts record
theirs in Chinese already)."""
VALUE_LABELS: dict[str, dict[str, str]] = {"role": ROLE_LABELS, "channel": CHANNEL_LABELS}
"""Snapshot field → Chinese names of its stored values."""


def shown_value(target_type: str | None, field: str, value: Any) -> Any:
    """A snapshot value as staff read it: a status, role or channel by its Chinese name; anything
    else, or a value without a name, as stored."""
    if not isinstance(value, str):
        return value
    statuses = STATUSES.get(target_type or "") if field == "status" else None
    if statuses is not None:
        try:
            return statuses(value).label
        except ValueError:
            return value
    return VALUE_LABELS.get(field, {}).get(value, value)


def changes(entry: AuditEntry) -> list[dict[str, Any]]:
    """The fields that differ between `before` and `after` (all of them for a creation), their values
    as staff read them."""
    before, after = entry.before or {}, entry.after or {}
    keys = sorted(set(before) | set(after))
    return [
        {
            "field": key,
            "before": shown_value(entry.target_type, key, before.get(key)),
            "after": shown_value(entry.target_type, key, after.get(key)),
        }
        for key in keys
        if before.get(key) != after.get(key)
    ]


def _page_number(value: str | None) -> int:
    return int(value) if value and value.isdigit() and 0 < int(value) < 100_000 else 1


@staff_page()
async def audit_log(request: Request, staff: Staff) -> Response:
    sees_all = staff.is_admin or (staff.role == VIEWER and staff.visible is None)
    actor = (request.query_params.get("actor") or "").strip()[:64] or None
    action = (request.query_params.get("action") or "").strip()[:64] or None
    if not sees_all:
        actor = staff.name
    page = _page_number(request.query_params.get("page"))
    async with database(request).sessions() as session:
        total = await audit.count_entries(session, actor=actor, action=action)
        entries = await audit.list_entries(
            session, actor=actor, action=action, limit=PER_PAGE, offset=(page - 1) * PER_PAGE
        )
        actors = await audit.entry_actors(session) if sees_all else [staff.name]
        actions = await audit.entry_actions(session)
    pages = max(1, -(-total // PER_PAGE))
    return render(
        request,
        "audit.html",
        {
            "entries": [{"entry": e, "changes": changes(e)} for e in entries],
            "total": total,
            "page": page,
            "pages": pages,
            "actor": actor or "",
            "action": action or "",
            "actors": actors,
            "actions": actions,
            "sees_all": sees_all,
            "action_labels": ACTION_LABELS,
            "target_labels": TARGET_LABELS,
            "field_labels": FIELD_LABELS,
        },
    )


routes: list[BaseRoute] = [Route("/audit", audit_log, methods=["GET", "HEAD"], name="audit")]
