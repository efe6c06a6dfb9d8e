"""What a candidate coming back to a conversation sees: its recent lines (masked, as staff read them),
the question an open form is waiting on, and their requests with each one's steps so far.

Read-only: nothing here changes a conversation, so a page may ask as often as it is reloaded."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.messages import ConversationKey
from knowledge.workdays import format_date
from storage.conversations import transcript
from storage.request_queries import history
from storage.requests import requests_of_user
from storage.statuses import RequestStatus

RECENT_LINES = 40


@dataclass(frozen=True)
class Line:
    """One line of the conversation: 'in' from the candidate, 'out' from the bot."""

    direction: str
    text: str
    at: dt.datetime


async def recent_lines(session: AsyncSession, key: ConversationKey, *, limit: int = RECENT_LINES) -> list[Line]:
    """The conversation's last lines, oldest first, personal numbers masked. A staff member's reply is
    left out: it reaches the candidate as a message of its own (the web page's inbox)."""
    rows = await transcript(session, channel=key.channel, user_id=key.user_id, limit=limit)
    return [Line(row.direction, row.text, row.at) for row in rows if row.staff is None]


@dataclass(frozen=True)
class Step:
    label: str
    at: str = ""
    """The day it happened (2027年3月2日), empty while it has not."""
    done: bool = False
    note: str = ""


@dataclass(frozen=True)
class Timeline:
    """One request as its candidate follows it: 已提交 → 审核中 → 已通过/未通过 → 已退费."""

    reference: str
    title: str
    status: str
    steps: list[Step] = field(default_factory=list)


async def request_timelines(session: AsyncSession, key: ConversationKey) -> list[Timeline]:
    """The candidate's requests, newest first, each with its steps. Nothing personal but the reference:
    the page may be open on a shared screen."""
    out = []
    for request in await requests_of_user(session, channel=key.channel, user_id=key.user_id):
        events = await history(session, request_id=request.id)
        reached = {e.to_status: e for e in events}
        status = RequestStatus(request.status)
        steps = [Step("已提交", format_date(request.confirmed_at.date()), True)]
        decided = status in (RequestStatus.APPROVED, RequestStatus.REJECTED, RequestStatus.REFUNDED)
        steps.append(
            Step("审核中", format_date(request.confirmed_at.date()), True, "" if decided else "等待工作人员审核")
        )
        if status is RequestStatus.REJECTED:
            event = reached.get(RequestStatus.REJECTED)
            when = format_date(event.at.date()) if event else ""
            steps.append(Step("未通过", when, True, f"原因：{request.status_reason}" if request.status_reason else ""))
        else:
            approved = reached.get(RequestStatus.APPROVED)
            steps.append(Step("已通过", format_date(approved.at.date()) if approved else "", approved is not None))
            refunded = request.refunded_on or (
                reached[RequestStatus.REFUNDED].at.date() if RequestStatus.REFUNDED in reached else None
            )
            steps.append(Step("已退费", format_date(refunded) if refunded else "", status is RequestStatus.REFUNDED))
        title = f"{request.occupation} {request.level}｜原定考试{format_date(request.exam_date)}"
        out.append(Timeline(request.reference, title, status.label, steps))
    return out
