"""What helps a reviewer decide: the candidate's answer to the scope question (不确定 stands out as
需核实), a confirmation before 通过 or 驳回 that the server enforces too, and ready-made rejection
reasons (editable per deployment)."""

from __future__ import annotations

import datetime as dt
import re

from starlette.applications import Starlette

from bot.console.canned import DEFAULT_REJECTION_REASONS
from handlers.engine import ConversationEngine
from storage.models import WithdrawalRequest
from storage.requests import requests_of_user
from tests.console.conftest import SignedIn
from tests.console.test_handoffs import flash_after, post_on
from tests.dialogs import Chat, SettableClock, dialog, make_id_number


async def filed(app: Starlette, user: str, scope: str, seq: int) -> WithdrawalRequest:
    runtime = app.state.runtime
    chat = Chat(ConversationEngine(runtime.db, runtime.services, SettableClock(dt.date(2017, 9, 27))), user=user)
    for line in [*dialog("广州", "秘书", "2017年10月15日", make_id_number(seq=seq), scope=scope), "确认弃考"]:
        reply = await chat.say(line)
    assert "已提交" in reply
    async with runtime.db.sessions() as session:
        [request] = await requests_of_user(session, channel="test", user_id=user)
    return request


async def test_an_unsure_scope_answer_stands_out_and_decisions_need_confirming(
    app: Starlette, signed_in: SignedIn
) -> None:
    unsure = await filed(app, "cand-unsure", "不确定", 41)
    sure = await filed(app, "cand-sure", "是", 42)
    assert (unsure.scope_answer, sure.scope_answer) == ("不确定，由报考机构核实", "是")
    admin = await signed_in("admin")
    listing = (await admin.get("/admin/requests")).text
    row = re.search(rf"<tr>(?:(?!</tr>).)*{unsure.reference}(?:(?!</tr>).)*</tr>", listing, re.S)
    assert row and "需核实" in row.group(0)
    other = re.search(rf"<tr>(?:(?!</tr>).)*{sure.reference}(?:(?!</tr>).)*</tr>", listing, re.S)
    assert other and "需核实" not in other.group(0)
    page = f"/admin/requests/{unsure.id}"
    detail = (await admin.get(page)).text
    assert '<strong class="badge bad">需核实</strong> 考生回答“不确定，由报考机构核实”' in detail

    # Without the confirmation, nothing changes and the reviewer is told why.
    refused = await post_on(admin, page, f"{page}/approve", {})
    assert "请先勾选“确认通过”" in await flash_after(admin, refused)
    refused = await post_on(admin, page, f"{page}/reject", {"reason": "材料不全"})
    assert "请先勾选“确认驳回”" in await flash_after(admin, refused)
    assert "已提交，待审核" in (await admin.get(page)).text

    # A ready-made reason, chosen rather than typed, is the one the candidate is sent.
    assert all(reason in detail for reason in DEFAULT_REJECTION_REASONS)
    rejected = await post_on(admin, page, f"{page}/reject", {"confirmed": "1", "reason_choice": "1"})
    assert "已驳回" in await flash_after(admin, rejected)
    assert f"驳回原因：{DEFAULT_REJECTION_REASONS[1]}" in (await admin.get(page)).text


async def test_the_region_filter_lists_only_regions_with_requests_or_notices(
    app: Starlette, signed_in: SignedIn
) -> None:
    await filed(app, "cand-region", "是", 43)
    admin = await signed_in("admin")
    page = (await admin.get("/admin/requests")).text
    select = re.search(r'<select name="region">(.*?)</select>', page, re.S)
    assert select
    offered = re.findall(r'<option value="([^"]+)"', select.group(1))
    assert "广州市" in offered and "广东省" in offered, "a request's region and the province above it"
    assert "西藏自治区" not in offered and "拉萨市" not in offered, "nothing there: not offered"
    assert len(offered) < 40
