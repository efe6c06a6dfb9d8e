"""Requests stored the way the withdrawal form stores them (real encryption, the notice's declaration
wording), in a running console app's database, for the tests of the request pages and exports."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence

import httpx
from sqlalchemy import func, select
from starlette.applications import Starlette

from knowledge.timezone import SHANGHAI
from knowledge.withdrawal import withdrawal_rules
from knowledge.workdays import format_date
from storage.database import Database
from storage.models import AuditEntry, OutboxMessage, RequestEvent, WithdrawalRequest
from storage.pii import PiiCipher
from storage.requests import NewRequest, create_request
from tests.console.conftest import csrf_in
from tests.dialogs import make_id_number

EXAM = dt.date(2026, 4, 18)
_seq = itertools.count(100)


def cipher_of(app: Starlette) -> PiiCipher:
    cipher: PiiCipher = app.state.runtime.services.cipher
    return cipher


def db_of(app: Starlette) -> Database:
    database: Database = app.state.runtime.db
    return database


async def store_request(
    app: Starlette,
    *,
    name: str = "张三",
    region: str = "广州市",
    occupation: str = "电工",
    institution: str = "广州市第一技工学校",
    exam_date: dt.date = EXAM,
    confirmed: dt.datetime = dt.datetime(2026, 3, 1, 10, 0, tzinfo=SHANGHAI),
    status: str = "submitted",
    id_number: str | None = None,
    phone: str = "13812345678",
    channel: str = "test",
    user_id: str | None = None,
) -> WithdrawalRequest:
    """One stored request; `status` other than submitted is set directly, as if reviewed earlier."""
    runtime = app.state.runtime
    id_number = id_number or make_id_number("440103", dt.date(1990, 1, 1), next(_seq))
    rules = withdrawal_rules(runtime.knowledge.current.kb, region)
    values = {"姓名": name, "身份证号": id_number, "原定考试日期": format_date(exam_date), "职业": occupation}
    declaration = rules.declaration(values) if rules else f"本人{name}（身份证号{id_number}）自愿放弃{occupation}考试。"
    new = NewRequest(
        channel=channel,
        user_id=user_id or f"user-{id_number}",
        name=name,
        id_number=id_number,
        phone=phone,
        region=region,
        doc_no=rules.doc_no if rules else "测试文件",
        occupation=occupation,
        occupation_listed=True,
        level="四级/中级工",
        exam_date=exam_date,
        institution=institution,
        receipt_no="0001234",
        deadline=None,
        declaration=declaration,
    )
    async with db_of(app).transaction() as session:
        request = await create_request(
            session, new, cipher=cipher_of(app), now=confirmed.astimezone(dt.UTC), today=confirmed.date()
        )
        request.status = status
        if status == "refunded":
            request.refunded_on = confirmed.date()
    return request


async def stored(app: Starlette, request_id: int) -> WithdrawalRequest:
    async with db_of(app).sessions() as session:
        found = await session.get(WithdrawalRequest, request_id)
    assert found is not None
    return found


async def events_of(app: Starlette, request_id: int) -> list[RequestEvent]:
    async with db_of(app).sessions() as session:
        stmt = select(RequestEvent).where(RequestEvent.request_id == request_id).order_by(RequestEvent.id)
        return list((await session.execute(stmt)).scalars())


async def audit_entries(app: Starlette, action_prefix: str = "request.") -> list[AuditEntry]:
    async with db_of(app).sessions() as session:
        stmt = select(AuditEntry).where(AuditEntry.action.startswith(action_prefix)).order_by(AuditEntry.id)
        return list((await session.execute(stmt)).scalars())


async def outbox_rows(app: Starlette) -> list[OutboxMessage]:
    async with db_of(app).sessions() as session:
        return list((await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


async def count_rows(app: Starlette, model: type) -> int:
    async with db_of(app).sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def post_on(c: httpx.AsyncClient, page: str, path: str, data: dict[str, str | Sequence[str]]) -> httpx.Response:
    """Submits a form found on `page` (its CSRF token read from it), as the browser would."""
    token = csrf_in((await c.get(page)).text)
    return await c.post(path, data={"csrf": token, **data})


async def flash_after(c: httpx.AsyncClient, response: httpx.Response) -> str:
    """The page a POST redirected to, as the browser would show it (with its flash message)."""
    assert response.status_code == 303, response.text
    return (await c.get(response.headers["location"])).text
