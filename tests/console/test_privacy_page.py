"""个人信息 at /admin/privacy: an admin finds a person by ID number, downloads everything stored about
them and erases it; both audited with the number masked; other roles and other regions kept out."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select
from starlette.applications import Starlette

from storage.conversations import append_transcript
from storage.models import AuditEntry, TranscriptLine
from tests.console.conftest import SignedIn, post_form
from tests.console.request_helpers import db_of, store_request, stored
from tests.dialogs import make_id_number

PERSON = make_id_number("440106", dt.date(1988, 8, 8), 41)


async def test_an_admin_exports_then_erases_one_person(app: Starlette, signed_in: SignedIn) -> None:
    mine = await store_request(app, id_number=PERSON, user_id="p1", name="陈七")
    other = await store_request(app, user_id="p2", name="周八")
    async with db_of(app).transaction() as session:
        await append_transcript(
            session, channel="test", user_id="p1", lines=[("in", "陈七的提问")], now=mine.confirmed_at
        )
        await append_transcript(
            session, channel="test", user_id="p2", lines=[("in", "周八的提问")], now=mine.confirmed_at
        )
    admin = await signed_in("admin", name="boss")

    assert "个人信息查阅与删除" in (await admin.get("/admin/privacy")).text
    found = await post_form(admin, "/admin/privacy/find", {"id_number": PERSON.lower()})
    assert mine.reference in found.text and other.reference not in found.text
    download = await post_form(admin, "/admin/privacy/export", {"id_number": PERSON})
    assert download.headers["content-disposition"].startswith("attachment")
    copy = json.loads(download.text)
    assert copy["requests"][0]["id_number"] == PERSON and copy["requests"][0]["name"] == "陈七"
    assert copy["accounts"][0]["transcript"][0]["text"] == "陈七的提问"

    unconfirmed = await post_form(admin, "/admin/privacy/erase", {"id_number": PERSON})
    assert unconfirmed.status_code == 303 and not (await stored(app, mine.id)).erased
    await post_form(admin, "/admin/privacy/erase", {"id_number": PERSON, "confirm": "yes"})
    assert (await stored(app, mine.id)).erased and not (await stored(app, other.id)).erased
    async with db_of(app).sessions() as session:
        texts = list((await session.execute(select(TranscriptLine.text))).scalars())
        notes = [
            e.note or ""
            for e in (await session.execute(select(AuditEntry).where(AuditEntry.action.like("privacy.%")))).scalars()
        ]
    assert texts == ["周八的提问"]
    assert len(notes) == 2 and all(PERSON not in n and "4401" in n for n in notes)


async def test_only_admins_of_the_persons_regions(app: Starlette, signed_in: SignedIn) -> None:
    await store_request(app, id_number=PERSON, user_id="p1", region="吉林省")
    reviewer = await signed_in("reviewer", regions=["吉林省"], name="jl")
    assert (await reviewer.get("/admin/privacy")).status_code == 403
    gd_admin = await signed_in("admin", regions=["广东省"], name="gdboss")
    refused = await post_form(gd_admin, "/admin/privacy/find", {"id_number": PERSON})
    assert "负责地区以外" in refused.text
