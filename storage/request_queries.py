"""What staff read of withdrawal requests: the console list's filters, counts per status, pages and
export batches, one request, its history and the conversation that produced it. The status changes
themselves are workflows in `handlers.request_review`.

Every function takes the staff member's visible regions (`visible`, None for all): a request
outside them is treated exactly like a missing one."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from storage.models import RequestEvent, TranscriptLine, WithdrawalRequest
from storage.requests import STATUSES
from storage.statuses import RequestStatus

__all__ = [
    "RequestFilter",
    "conversation",
    "count_requests",
    "distinct_values",
    "find_request",
    "history",
    "list_requests",
    "status_counts",
    "stream_requests",
]

_TOP = "\U0010ffff"  # the highest code point: q ≤ s < q + _TOP holds exactly for the strings s starting with q
_REFERENCE_DIGITS = re.compile(r"\d{8}(-\d{0,4})?")


@dataclass(frozen=True)
class RequestFilter:
    """The list's filters. Regions are canonical names with their nested regions already included."""

    visible: frozenset[str] | None = None
    """The staff member's regions; None means every region."""
    regions: frozenset[str] | None = None
    """The region filter; None means no filter."""
    status: str | None = None
    occupation: str | None = None
    institution: str | None = None
    exam_date: dt.date | None = None
    submitted_since: dt.datetime | None = None
    """Submitted at or after this aware instant (the start of a Beijing day, as the caller reckons it)."""
    submitted_before: dt.datetime | None = None
    """Submitted before this aware instant (exclusive)."""
    query: str | None = None
    """The start of a reference (QK-20170925-0001, or 20170925-0001) or of a name."""
    without_rejected: bool = False
    """Leaves out rejected requests (the lists sent to the guidance centre), unless `status` asks for them."""

    def without_status(self) -> RequestFilter:
        return dataclasses.replace(self, status=None)


def _prefix(column: InstrumentedAttribute[str], text: str, dialect: str) -> ColumnElement[bool]:
    if dialect == "sqlite":
        # A range on the column's index; SQLite's LIKE is case-insensitive and never uses a plain index.
        return (column >= text) & (column < text + _TOP)
    # PostgreSQL compares by the database's collation, where a range can miss matches: LIKE is right.
    return column.startswith(text, autoescape=True)


def _search(query: str, dialect: str) -> ColumnElement[bool]:
    r = WithdrawalRequest
    reference = query.upper()
    if _REFERENCE_DIGITS.fullmatch(reference):
        reference = "QK-" + reference
    return _prefix(r.reference, reference, dialect) | _prefix(r.name, query, dialect)


def _regions(f: RequestFilter) -> frozenset[str] | None:
    """The regions `f` reaches: the staff member's, narrowed by the region filter; None for all."""
    if f.regions is None or f.visible is None:
        return f.visible if f.regions is None else f.regions
    return f.visible & f.regions


def _conditions(f: RequestFilter, dialect: str) -> list[ColumnElement[bool]]:
    r = WithdrawalRequest
    out: list[ColumnElement[bool]] = []
    regions = _regions(f)
    if regions is not None:
        out.append(r.region.in_(sorted(regions)) if regions else false())
    if f.status is not None:
        narrower = any((f.occupation, f.institution, f.exam_date, f.submitted_since, f.submitted_before, f.query))
        # Alongside a narrower filter, SQLite (without statistics) would walk the status index, whose
        # order matches the list's, and visit the table for every row of that status. `status || ''`
        # cannot use an index, so the narrower filter's index is read; it holds the status anyway.
        out.append((r.status.concat("") if narrower else r.status) == f.status)
    if f.without_rejected and f.status is None:
        out.append(r.status != RequestStatus.REJECTED)
    if f.occupation:
        out.append(r.occupation == f.occupation)
    if f.institution:
        out.append(r.institution == f.institution)
    if f.exam_date is not None:
        out.append(r.exam_date == f.exam_date)
    if f.submitted_since is not None:
        out.append(r.created_at >= f.submitted_since)
    if f.submitted_before is not None:
        out.append(r.created_at < f.submitted_before)
    if f.query:
        out.append(_search(f.query, dialect))
    return out


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name


def _newest_first(stmt: Select[Any]) -> Select[Any]:
    return stmt.order_by(WithdrawalRequest.created_at.desc(), WithdrawalRequest.id.desc())


async def list_requests(
    session: AsyncSession, f: RequestFilter, *, limit: int = 50, offset: int = 0
) -> list[WithdrawalRequest]:
    """One page of matching requests, newest first."""
    if _regions(f) == frozenset():
        return []  # only regions the staff member may not see: nothing to ask the database
    # Ids first, then the rows: the page is chosen from an index alone, and only its rows (with their
    # kilobytes of ciphertext) are read from the table, not those of every match a sort would need.
    ids_stmt = _newest_first(select(WithdrawalRequest.id).where(*_conditions(f, _dialect(session))))
    ids = list((await session.execute(ids_stmt.limit(limit).offset(offset))).scalars())
    if not ids:
        return []
    rows = await session.execute(_newest_first(select(WithdrawalRequest).where(WithdrawalRequest.id.in_(ids))))
    return list(rows.scalars())


async def count_requests(session: AsyncSession, f: RequestFilter) -> int:
    stmt = select(func.count()).select_from(WithdrawalRequest).where(*_conditions(f, _dialect(session)))
    return int((await session.execute(stmt)).scalar_one())


async def status_counts(session: AsyncSession, f: RequestFilter) -> dict[str, int]:
    """How many requests match `f` in each status (its own status filter ignored), every status present."""
    if _regions(f) == frozenset():
        return dict.fromkeys(STATUSES, 0)
    r = WithdrawalRequest
    # Grouped by region too: every filter's index holds (…, region, status), so the groups come in index
    # order and SQLite needs no temporary B-tree; the regions are added up here (a few dozen rows).
    stmt = (
        select(r.status, func.count())
        .where(*_conditions(f.without_status(), _dialect(session)))
        .group_by(r.region, r.status)
    )
    found = dict.fromkeys(STATUSES, 0)
    for status, n in (await session.execute(stmt)).all():
        if status in found:
            found[status] += int(n)
    return found


async def distinct_values(
    session: AsyncSession, column: str, *, visible: frozenset[str] | None, limit: int = 500
) -> list[str]:
    """The occupations or institutions of the requests `visible` covers, for the filters' suggestions."""
    if column not in ("occupation", "institution", "region"):
        raise ValueError(column)
    r = WithdrawalRequest
    # Distinct (value, region) pairs, read in order from the value's index (which holds the region),
    # then narrowed here: a region condition in SQL would lead SQLite to the region index and the table.
    pairs = await session.execute(select(getattr(r, column), r.region).distinct())
    return sorted({value for value, region in pairs if visible is None or region in visible})[:limit]


async def stream_requests(
    session: AsyncSession, f: RequestFilter, *, chunk: int = 500
) -> AsyncGenerator[Sequence[WithdrawalRequest], None]:
    """Every matching request, oldest first, `chunk` at a time from a server-side cursor: an export of
    any size holds one chunk of rows in memory."""
    r = WithdrawalRequest
    stmt = (
        select(r)
        .where(*_conditions(f, _dialect(session)))
        .order_by(r.created_at, r.id)
        .execution_options(yield_per=chunk)
    )
    result = await session.stream(stmt)
    # The session's identity map holds unchanged rows weakly: a chunk the caller drops is freed.
    async for partition in result.scalars().partitions(chunk):
        yield partition


def _visible(request: WithdrawalRequest | None, visible: frozenset[str] | None) -> bool:
    return request is not None and (visible is None or request.region in visible)


async def find_request(
    session: AsyncSession, *, request_id: int, visible: frozenset[str] | None, for_update: bool = False
) -> WithdrawalRequest | None:
    """The request, or None when it does not exist or lies outside `visible`."""
    stmt = select(WithdrawalRequest).where(WithdrawalRequest.id == request_id)
    if for_update:
        stmt = stmt.with_for_update()
    request = (await session.execute(stmt)).scalar_one_or_none()
    return request if _visible(request, visible) else None


async def history(session: AsyncSession, *, request_id: int) -> list[RequestEvent]:
    stmt = select(RequestEvent).where(RequestEvent.request_id == request_id).order_by(RequestEvent.id)
    return list((await session.execute(stmt)).scalars())


async def conversation(session: AsyncSession, request: WithdrawalRequest, *, limit: int = 80) -> list[TranscriptLine]:
    """The conversation that produced `request`: the user's last `limit` transcript lines up to the
    confirmation (the confirming message and its reply carry the same time), and after the
    confirmation of the user's previous request, whose conversation that was. Already masked."""
    t, r = TranscriptLine, WithdrawalRequest
    previous = (
        select(func.max(r.confirmed_at))
        .where(r.channel == request.channel, r.user_id == request.user_id, r.confirmed_at < request.confirmed_at)
        .scalar_subquery()
    )
    stmt = (
        select(t)
        .where(
            t.channel == request.channel,
            t.user_id == request.user_id,
            t.at <= request.confirmed_at,
            or_(previous.is_(None), t.at > previous),
        )
        .order_by(t.id.desc())
        .limit(limit)
    )
    return list(reversed((await session.execute(stmt)).scalars().all()))


async def references_of_user(session: AsyncSession, request: WithdrawalRequest) -> dict[str, str]:
    """reference → region of every request the same user filed (this one included)."""
    r = WithdrawalRequest
    stmt = select(r.reference, r.region).where(r.channel == request.channel, r.user_id == request.user_id)
    return {row.reference: row.region for row in (await session.execute(stmt)).all()}
