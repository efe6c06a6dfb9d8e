"""The request list's filters as they arrive in a URL: checked, turned into a `RequestFilter` limited
to what the staff member may see, and written back into links (pages, status counts, exports).

The list, its exports and the bulk action's way back share this one reading of the query string."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from bot.console.auth import Staff
from bot.console.forms import EARLIEST, LATEST, typed_date
from bot.console.scope import visible_regions
from handlers.withdrawal_form import STATUS_TEXT
from knowledge.regions import RegionRegistry
from knowledge.timezone import SHANGHAI
from storage.request_queries import RequestFilter
from storage.requests import STATUSES

FIELDS = ("q", "status", "region", "occupation", "institution", "exam_date", "from", "to")
"""Query parameters, in the order links write them."""
LABELS = {
    "q": "搜索",
    "status": "状态",
    "region": "地区",
    "occupation": "报考职业",
    "institution": "报考机构",
    "exam_date": "考试日期",
    "from": "提交日期起",
    "to": "提交日期止",
}
MAX_LENGTH = 120
MAX_PAGE = 100_000


@dataclass(frozen=True)
class ListQuery:
    """The filters as understood: the storage filter, the values to show in the form, and what was
    ignored and why (Chinese)."""

    filter: RequestFilter
    values: dict[str, str]
    problems: tuple[str, ...]
    page: int
    period: tuple[dt.date, dt.date] | None = None
    """The submission days (Beijing time, inclusive) when both ends are given: the export's heading."""

    def query_string(self, **override: str | int | None) -> str:
        """The filters (and `override`, e.g. page=3 or status=None) as a query string."""
        merged: dict[str, str | int | None] = {**self.values, **override}
        return urlencode([(k, merged[k]) for k in (*FIELDS, "page") if merged.get(k) not in (None, "")])

    def description(self) -> str:
        """The filters in words, for the audit log: 状态：已通过；地区：广东省 (or 全部申请)."""
        parts = []
        for key in FIELDS:
            value = self.values.get(key)
            if value:
                parts.append(f"{LABELS[key]}：{STATUS_TEXT.get(value, value) if key == 'status' else value}")
        return "；".join(parts) or "全部申请"


def day_start(day: dt.date) -> dt.datetime:
    """The instant a Beijing-time day begins: the submission filter's days are staff's days."""
    return dt.datetime.combine(day, dt.time(0), SHANGHAI).astimezone(dt.UTC)


def _date(value: str, label: str, problems: list[str]) -> dt.date | None:
    if not value:
        return None
    day = typed_date(value)
    if day is None:
        problems.append(
            f"{label}“{value}”不是有效日期，已忽略（格式如 2026-03-02，{EARLIEST.year}–{LATEST.year} 年之间）。"
        )
    return day


def parse_filters(params: Mapping[str, str], staff: Staff, registry: RegionRegistry) -> ListQuery:
    """Reads the filters from `params`. Whatever does not make sense is ignored and reported; the
    staff member's regions always apply."""
    problems: list[str] = []
    values = {key: " ".join((params.get(key) or "").split())[:MAX_LENGTH] for key in FIELDS}
    status = values["status"] or None
    if status is not None and status not in STATUSES:
        problems.append("未知的状态，已忽略。")
        status, values["status"] = None, ""
    regions: frozenset[str] | None = None
    if values["region"]:
        if values["region"] not in registry.regions:
            problems.append(f"未知的地区“{values['region']}”，已忽略。")
            values["region"] = ""
        else:
            # 广东省 means the province and its cities, as it does for a reviewer's regions.
            regions = visible_regions([values["region"]], registry)
    exam_date = _date(values["exam_date"], LABELS["exam_date"], problems)
    start = _date(values["from"], LABELS["from"], problems)
    end = _date(values["to"], LABELS["to"], problems)
    for key, parsed in (("exam_date", exam_date), ("from", start), ("to", end)):
        if parsed is None:
            values[key] = ""
    if start and end and start > end:
        problems.append("提交日期的起始晚于截止，已对调。")
        start, end = end, start
        values["from"], values["to"] = start.isoformat(), end.isoformat()
    raw_page = params.get("page") or ""
    page = int(raw_page) if raw_page.isascii() and raw_page.isdigit() and 0 < int(raw_page) <= MAX_PAGE else 1
    request_filter = RequestFilter(
        visible=staff.visible,
        regions=regions,
        status=status,
        occupation=values["occupation"] or None,
        institution=values["institution"] or None,
        exam_date=exam_date,
        submitted_since=day_start(start) if start else None,
        submitted_before=day_start(end + dt.timedelta(days=1)) if end else None,
        query=values["q"] or None,
    )
    period = (start, end) if start and end else None
    return ListQuery(filter=request_filter, values=values, problems=tuple(problems), page=page, period=period)


def region_choices(staff: Staff, registry: RegionRegistry, present: Iterable[str], chosen: str = "") -> list[str]:
    """The regions the staff member may filter by that hold something (`present`: the regions of the
    requests and of the notices), each with the province or city above it, provinces before their
    cities (a county is filtered by its city); the region already chosen stays."""
    wanted = {outer for name in present for outer in registry.lineage(name)} | ({chosen} if chosen else set())
    return [name for name in registry.main_regions if name in wanted and staff.can_see_region(name)]
