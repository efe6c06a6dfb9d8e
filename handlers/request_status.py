"""What a candidate is told when staff approve, reject or refund their request: the message sent
through their channel (the outbox), worded like 我的申请, which shows the same status afterwards."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from knowledge.timezone import beijing_date
from knowledge.workdays import format_date
from storage.statuses import RequestStatus

if TYPE_CHECKING:  # handlers.request_review words its notices with this module
    from handlers.request_review import StatusChange

TITLES = {"approve": "退考退费申请已通过", "reject": "退考退费申请未通过", "refund": "退考退费已退费"}


@dataclass(frozen=True)
class Notice:
    """What the candidate is told: the text, and the fields a WeChat template shows."""

    text: str
    fields: dict[str, str]


def status_notice(change: StatusChange) -> Notice:
    """The candidate's notice for `change`. Staff's refund note stays internal: it is not sent."""
    day = change.refunded_on or beijing_date(change.at)
    head = f"您的退考退费申请（受理编号：{change.reference}）"
    if change.action == "approve":
        text = f"{head}已审核通过，报考机构将按原路退回的方式办理退费。"
    elif change.action == "reject":
        text = f"{head}未通过审核。\n原因：{change.reason}\n如有疑问，请回复“转人工”。"
    else:
        text = f"{head}已于{format_date(day)}办理退费（{change.refund_method}），请留意原缴费账户的到账情况。"
    text += "\n回复“我的申请”可查看进度。"
    fields = {
        "title": TITLES[change.action],
        "reference": change.reference,
        "status": RequestStatus(change.status).label,
        "reason": change.reason or "",
        "date": format_date(day),
    }
    return Notice(text=text, fields=fields)
