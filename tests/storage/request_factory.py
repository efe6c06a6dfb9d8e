"""Withdrawal requests stored as the form stores them (real encryption), with a chosen status,
region and confirmation time: for the tests of the review workflows and of the list's queries."""

from __future__ import annotations

import datetime as dt

from handlers.context import Services
from knowledge.timezone import SHANGHAI
from storage.database import Database
from storage.models import WithdrawalRequest
from storage.requests import NewRequest, create_request
from tests.dialogs import make_id_number

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI).astimezone(dt.UTC)
_seq = iter(range(1, 10_000))


async def make(
    db: Database,
    services: Services,
    *,
    name: str = "张三",
    region: str = "广州市",
    status: str = "submitted",
    occupation: str = "电工",
    institution: str = "广州市第一技工学校",
    confirmed: dt.datetime = dt.datetime(2026, 3, 1, 10, 0, tzinfo=SHANGHAI),
) -> WithdrawalRequest:
    id_number = make_id_number("440103", dt.date(1990, 1, 1), next(_seq))
    new = NewRequest(
        channel="test",
        user_id=f"u{id_number}",
        name=name,
        id_number=id_number,
        phone="13812345678",
        region=region,
        doc_no="穗人社职鉴函〔2017〕145号",
        occupation=occupation,
        occupation_listed=True,
        level="中级",
        exam_date=dt.date(2026, 4, 18),
        institution=institution,
        receipt_no=None,
        deadline=None,
        declaration=f"本人{name}，身份证号{id_number}，自愿放弃考试。",
    )
    async with db.transaction() as session:
        request = await create_request(
            session, new, cipher=services.cipher, now=confirmed.astimezone(dt.UTC), today=confirmed.date()
        )
        request.status = status
    return request
