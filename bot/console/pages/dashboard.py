"""The dashboard at /admin/: what waits for staff (handoffs, requests to review, knowledge gaps),
reminders sent and failed, what the channels' daily quotas leave unsent, and the policy questions
answered and abstained on per day.

Counts of records with a region (requests, handoffs) are those of the staff member's regions;
question and delivery counts and knowledge gaps have no region and are shown whole."""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.console.auth import Staff, staff_page
from bot.console.nav import NAV
from bot.console.state import database, now, runtime
from bot.console.templates import has_route, render, url
from handlers.channel_names import channel_label
from knowledge.timezone import SHANGHAI
from storage import gaps, handoffs
from storage import notices as notice_store
from storage.answer_stats import daily_counts
from storage.dashboard import reminder_deliveries, request_counts
from storage.outbox import quota_outlook, usage_lines, warning_lines
from storage.requests import STATUSES as REQUEST_STATUSES

DAYS = 14
WEEK = 7
REQUEST_LABELS = {"submitted": "待审核", "approved": "已通过", "rejected": "已驳回", "refunded": "已退费"}
WEEKDAYS = "一二三四五六日"


def width_class(value: int, largest: int) -> str:
    """A bar's width as one of the stylesheet's w0…w100 classes (5% steps; the CSP allows no
    inline style). A non-zero value gets at least the narrowest visible bar."""
    if value <= 0 or largest <= 0:
        return "w0"
    return f"w{max(5, round(value / largest * 20) * 5)}"


def answer_rows(counts: dict[dt.date, tuple[int, int]], today: dt.date) -> list[dict[str, Any]]:
    """One row per day of the last DAYS days, newest first, with bar widths relative to the busiest
    day (answered and abstained side by side in one bar)."""
    days = [today - dt.timedelta(days=n) for n in range(DAYS)]
    largest = max((sum(counts.get(d, (0, 0))) for d in days), default=0)
    rows = []
    for day in days:
        answered, abstained = counts.get(day, (0, 0))
        total = answered + abstained
        rows.append(
            {
                "day": f"{day:%m-%d} 周{WEEKDAYS[day.weekday()]}",
                "answered": answered,
                "abstained": abstained,
                "rate": f"{abstained / total:.0%}" if total else "—",
                "answered_width": width_class(answered, largest),
                # Rounded separately the two parts may add up to a little over 100%: the flex box shrinks them.
                "abstained_width": width_class(abstained, largest),
            }
        )
    return rows


@staff_page()
async def dashboard(request: Request, staff: Staff) -> Response:
    at = now(request)
    today = at.astimezone(SHANGHAI).date()
    regions = staff.visible
    async with database(request).sessions() as session:
        answers = await daily_counts(session, since=today - dt.timedelta(days=DAYS - 1), until=today)
        requests = await request_counts(session, regions=regions)
        waiting = await handoffs.status_counts(session, regions=regions)
        open_gaps = await gaps.count_groups(session, status="open", visible=staff.visible)
        submitted = await notice_store.count_submitted(session, regions=regions) if staff.is_admin else 0
        deliveries = await reminder_deliveries(session, since=today - dt.timedelta(days=WEEK - 1), today=today)
        outlooks = await quota_outlook(session, runtime(request).services.schedule.rules, now=at)
    rows = answer_rows(answers, today)
    sections = [
        {"item": item, "href": url(request, item.route) if has_route(request, item.route) else None}
        for item in NAV
        if item.route != "dashboard" and staff.role in item.roles
    ]
    return render(
        request,
        "dashboard.html",
        {
            "rows": rows,
            "answered_total": sum(r["answered"] for r in rows),
            "abstained_total": sum(r["abstained"] for r in rows),
            "requests": [(REQUEST_LABELS.get(s, s), requests.get(s, 0), s) for s in REQUEST_STATUSES],
            "requests_href": url(request, "requests") if has_route(request, "requests") else None,
            "handoffs_pending": waiting.get("pending", 0),
            "handoffs_open": waiting.get("open", 0),
            "handoffs_unread": getattr(request.state, "nav_counts", {}).get("handoffs", 0),
            "open_gaps": open_gaps,
            "notices_submitted": submitted,
            "deliveries": deliveries,
            "quota_usage": [line for o in outlooks for line in usage_lines(o, channel_name=channel_label(o.channel))],
            "quota_warnings": [line for o in outlooks for line in warning_lines(o)],
            "sections": sections,
            "today": today,
            "days": DAYS,
        },
    )


routes: list[BaseRoute] = [Route("/", dashboard, methods=["GET", "HEAD"], name="dashboard")]
