"""退考退费申请 at /admin/requests over HTTP against the real app and database: the list with its
filters and counts, the detail page, an admin's audited reveal, the review actions with their
history, audit entries and candidate notices, and region scoping for every one of them."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from starlette.applications import Starlette

from bot.console.pages import requests as requests_page
from handlers.engine import ConversationEngine
from knowledge.timezone import SHANGHAI
from storage.models import AuditEntry, OutboxMessage, RequestEvent
from tests.console.conftest import SQLITE_ONLY, MakeClient, MovableClock, SignedIn, csrf_in
from tests.console.request_helpers import (
    audit_entries,
    cipher_of,
    count_rows,
    db_of,
    events_of,
    flash_after,
    outbox_rows,
    post_on,
    store_request,
    stored,
)
from tests.dialogs import Chat, SettableClock, dialog, make_id_number

REFERENCE = re.compile(r"QK-\d{8}-\d{4}")


def references(html: str) -> list[str]:
    """The references on a list page, in the order shown (each appears once, as its link)."""
    return re.findall(r">(QK-\d{8}-\d{4})</a>", html)


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 2, day, hour, 0, tzinfo=SHANGHAI)


# --- the list ---------------------------------------------------------------------------------------------------


async def test_the_list_shows_the_newest_first_with_counts_per_status(app: Starlette, signed_in: SignedIn) -> None:
    old = await store_request(app, name="李四", confirmed=at(1))
    mid = await store_request(app, name="王五", confirmed=at(2), status="approved")
    new = await store_request(app, name="赵六", confirmed=at(3), status="rejected")
    admin = await signed_in("admin")
    page = await admin.get("/admin/requests")
    assert page.status_code == 200
    assert references(page.text) == [new.reference, mid.reference, old.reference]
    counts = dict(re.findall(r'status-(\w+)" href="[^"]*"[^>]*>[^<]*<b>(\d+)</b>', page.text))
    assert counts == {"submitted": "1", "approved": "1", "rejected": "1", "refunded": "0"}
    assert "全部 <b>3</b>" in page.text
    assert "2026-02-03 10:00" in page.text  # Beijing time
    # The navigation now links the section.
    assert 'href="/admin/requests"' in (await admin.get("/admin/")).text


async def test_filters_narrow_the_list_and_the_counts(app: Starlette, signed_in: SignedIn) -> None:
    gz = await store_request(app, name="李四", region="广州市", confirmed=at(1), occupation="秘书")
    sz = await store_request(app, name="王五", region="深圳市", confirmed=at(5), institution="深圳技师学院")
    fj = await store_request(
        app, name="李明", region="福建省", confirmed=at(10), exam_date=dt.date(2026, 5, 9), status="approved"
    )
    admin = await signed_in("admin")

    async def shown(**params: str) -> list[str]:
        page = await admin.get("/admin/requests", params=params)
        assert page.status_code == 200
        return references(page.text)

    assert await shown(region="广东省") == [sz.reference, gz.reference]  # the province covers its cities
    assert await shown(region="广州市") == [gz.reference]
    assert await shown(status="approved") == [fj.reference]
    assert await shown(occupation="秘书") == [gz.reference]
    assert await shown(institution="深圳技师学院") == [sz.reference]
    assert await shown(exam_date="2026-05-09") == [fj.reference]
    assert await shown(**{"from": "2026-02-02", "to": "2026-02-09"}) == [sz.reference]
    assert await shown(**{"from": "2026-02-05"}) == [fj.reference, sz.reference]
    assert await shown(q="李") == [fj.reference, gz.reference]  # name prefix
    assert await shown(q=gz.reference.lower()) == [gz.reference]  # reference, any case
    assert await shown(q=gz.reference[3:]) == [gz.reference]  # without the QK- prefix
    assert await shown(q="不存在") == []
    assert await shown(region="广东省", status="approved") == []

    # The counts follow every filter but the status, so the status links say what each would show.
    page = await admin.get("/admin/requests", params={"region": "广东省", "status": "approved"})
    assert "全部 <b>2</b>" in page.text and "没有符合条件的申请" in page.text
    # Nonsense is ignored and said so, never an error page.
    page = await admin.get(
        "/admin/requests", params={"status": "paid", "region": "火星", "exam_date": "2026-13-01", "page": "²"}
    )
    assert page.status_code == 200 and len(references(page.text)) == 3
    assert "未知的状态" in page.text and "未知的地区" in page.text and "不是有效日期" in page.text


async def test_the_filters_suggest_what_the_visible_requests_hold_for_a_while(
    app: Starlette, signed_in: SignedIn
) -> None:
    await store_request(app, region="广州市", occupation="秘书", institution="广州市第一技工学校")
    await store_request(app, region="福建省", occupation="焊工", institution="福州技师学院")
    reviewer = await signed_in("reviewer", regions=["广东省"])

    def suggested(html: str) -> list[str]:
        return re.findall(
            r'<option value="([^"]*)">', html.split('<datalist id="occupations">')[1].split("</datalist>")[0]
        )

    assert suggested((await reviewer.get("/admin/requests")).text) == ["秘书"]
    await store_request(app, region="广州市", occupation="电工")
    # Kept a while per set of regions: a hint may be a minute old, and reading it costs two index scans.
    assert suggested((await reviewer.get("/admin/requests")).text) == ["秘书"]
    admin = await signed_in("admin")
    assert suggested((await admin.get("/admin/requests")).text) == ["焊工", "电工", "秘书"]


@SQLITE_ONLY
async def test_the_list_is_paginated(app: Starlette, signed_in: SignedIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(requests_page, "PER_PAGE", 2)
    made = [await store_request(app, name=f"张{i}", confirmed=at(i + 1)) for i in range(5)]
    newest_first = [r.reference for r in reversed(made)]
    admin = await signed_in("admin")
    first = await admin.get("/admin/requests", params={"q": "张"})
    assert references(first.text) == newest_first[:2]
    assert "第 1 / 3 页" in first.text and "page=2" in first.text and "q=%E5%BC%A0" in first.text
    third = await admin.get("/admin/requests", params={"q": "张", "page": "3"})
    assert references(third.text) == newest_first[4:]
    beyond = await admin.get("/admin/requests", params={"q": "张", "page": "99"})
    assert references(beyond.text) == newest_first[4:]  # the last page, not an empty one


# --- region scoping ---------------------------------------------------------------------------------------------


async def test_a_reviewer_never_reaches_another_regions_request(app: Starlette, signed_in: SignedIn) -> None:
    mine = await store_request(app, name="李四", region="广州市")
    theirs = await store_request(app, name="王五", region="福建省")
    reviewer = await signed_in("reviewer", regions=["广东省"])

    page = await reviewer.get("/admin/requests")
    assert references(page.text) == [mine.reference]
    assert "全部 <b>1</b>" in page.text and "福建省" not in page.text.split('<select name="region">')[1][:2000]
    assert references((await reviewer.get("/admin/requests", params={"region": "福建省"})).text) == []
    assert references((await reviewer.get("/admin/requests", params={"q": "王五"})).text) == []

    missing = await reviewer.get("/admin/requests/999999")
    other = await reviewer.get(f"/admin/requests/{theirs.id}")
    assert missing.status_code == other.status_code == 404
    main = re.compile(r"<main>.*</main>", re.S)
    assert main.findall(missing.text) == main.findall(other.text)  # indistinguishable
    assert (await reviewer.get(f"/admin/requests/{theirs.id}/declaration.pdf")).status_code == 404

    token = csrf_in(page.text)
    for action, data in (
        ("approve", {"confirmed": "1"}),
        ("reject", {"confirmed": "1", "reason": "材料不全"}),
        ("refund", {"refunded_on": "2026-03-02", "method": "原路退回"}),
    ):
        response = await reviewer.post(f"/admin/requests/{theirs.id}/{action}", data={"csrf": token, **data})
        assert response.status_code == 404, action
    bulk = await reviewer.post("/admin/requests/approve", data={"csrf": token, "ids": [str(theirs.id)]})
    assert "跳过 1 份" in await flash_after(reviewer, bulk)
    assert (await stored(app, theirs.id)).status == "submitted"
    assert await count_rows(app, OutboxMessage) == 0
    assert [e.action for e in await events_of(app, theirs.id)] == ["submit"]


# --- the detail page --------------------------------------------------------------------------------------------


async def test_the_detail_shows_the_declaration_fields_conversation_history_and_code(
    app: Starlette, signed_in: SignedIn
) -> None:
    from storage.declarations import verification_code

    id_number = make_id_number("440106", dt.date(1985, 6, 30), 77)
    r = await store_request(app, name="王五", id_number=id_number, phone="13700002222", user_id="wang")
    async with db_of(app).transaction() as session:
        from storage.conversations import append_transcript

        await append_transcript(
            session,
            channel="test",
            user_id="wang",
            lines=[("in", f"我的身份证号是{id_number}"), ("out", "请确认声明")],
            now=r.confirmed_at,
        )
        await append_transcript(
            session,
            channel="test",
            user_id="wang",
            lines=[("in", "谢谢，后来的话")],
            now=r.confirmed_at + dt.timedelta(minutes=5),
        )
    viewer = await signed_in("viewer")
    page = await viewer.get(f"/admin/requests/{r.id}")
    assert page.status_code == 200
    html = page.text
    assert id_number not in html and "13700002222" not in html
    assert r.id_number_masked in html and "137****2222" in html
    assert r.declaration_masked.split("\n")[0] in html and "本人清楚选择弃考后不可变更" in html
    assert verification_code(cipher_of(app), r) in html
    assert "我的身份证号是4401" in html and "请确认声明" in html  # the conversation, masked
    assert "后来的话" not in html  # said after the request: not part of what produced it
    assert "考生提交" in html  # history
    assert "查看完整身份证号" not in html and "审核</h2>" not in html  # a viewer neither reveals nor acts


async def test_an_admin_reveals_the_numbers_and_the_reveal_is_audited(app: Starlette, signed_in: SignedIn) -> None:
    id_number = make_id_number("440106", dt.date(1985, 6, 30), 78)
    r = await store_request(app, id_number=id_number, phone="13700003333")
    admin = await signed_in("admin", name="boss")
    page = await admin.get(f"/admin/requests/{r.id}")
    assert id_number not in page.text and "查看完整身份证号" in page.text
    revealed = await admin.post(f"/admin/requests/{r.id}/reveal", data={"csrf": csrf_in(page.text)})
    assert revealed.status_code == 200
    assert id_number in revealed.text and "13700003333" in revealed.text
    [entry] = await audit_entries(app, "request.reveal")
    assert (entry.actor, entry.target_type, entry.target_id) == ("boss", "request", str(r.id))
    assert r.reference in (entry.note or "") and id_number not in str(entry.before) + str(entry.after)
    # Reviewers and viewers cannot, even by posting the form themselves.
    for role in ("reviewer", "viewer"):
        other = await signed_in(role, regions=["广东省"] if role == "reviewer" else [])
        response = await post_on(other, f"/admin/requests/{r.id}", f"/admin/requests/{r.id}/reveal", {})
        assert response.status_code == 403 and id_number not in response.text
    assert len(await audit_entries(app, "request.reveal")) == 1


# --- actions ----------------------------------------------------------------------------------------------------


async def test_approving_records_history_audit_and_one_notice(
    app: Starlette, signed_in: SignedIn, clock: MovableClock
) -> None:
    r = await store_request(app, name="李四", region="广州市")
    reviewer = await signed_in("reviewer", regions=["广东省"], name="li")
    page = f"/admin/requests/{r.id}"
    response = await post_on(reviewer, page, f"{page}/approve", {"confirmed": "1"})
    assert "已通过该申请" in await flash_after(reviewer, response)
    assert (await stored(app, r.id)).status == "approved"
    [_, event] = await events_of(app, r.id)
    assert (event.actor, event.action, event.from_status, event.to_status, event.at) == (
        "li",
        "approve",
        "submitted",
        "approved",
        clock(),
    )
    [entry] = await audit_entries(app)
    assert (entry.action, entry.actor, entry.target_id) == ("request.approve", "li", str(r.id))
    assert entry.before == {"status": "submitted", "status_reason": None, "refunded_on": None}
    assert entry.after == {"status": "approved", "status_reason": None, "refunded_on": None}
    [notice] = await outbox_rows(app)
    assert (notice.channel, notice.user_id, notice.kind, notice.status) == (
        "test",
        r.user_id,
        "request_status",
        "pending",
    )
    assert notice.key == f"request:{r.id}:approve:{event.id}" and not notice.capped
    assert r.reference in notice.text and "已审核通过" in notice.text
    assert notice.fields["title"] == "退考退费申请已通过" and notice.fields["status"] == "已通过"

    # A second click (or a second reviewer) is refused politely, and nothing more happens.
    again = await post_on(reviewer, page, f"{page}/approve", {"confirmed": "1"})
    shown = await flash_after(reviewer, again)
    assert "当前状态为“已通过”，不能通过" in shown and "未做任何更改" in shown
    assert len(await events_of(app, r.id)) == 2 and len(await outbox_rows(app)) == 1
    assert len(await audit_entries(app)) == 1


async def test_rejecting_needs_a_reason_which_the_candidate_is_sent(app: Starlette, signed_in: SignedIn) -> None:
    r = await store_request(app)
    admin = await signed_in("admin")
    page = f"/admin/requests/{r.id}"
    for reason in ("", "   "):
        response = await post_on(admin, page, f"{page}/reject", {"confirmed": "1", "reason": reason})
        assert "请填写驳回原因" in await flash_after(admin, response)
    too_long = await post_on(admin, page, f"{page}/reject", {"confirmed": "1", "reason": "长" * 501})
    assert "最多 500 个字" in await flash_after(admin, too_long)
    assert (await stored(app, r.id)).status == "submitted"
    assert await outbox_rows(app) == [] and await audit_entries(app) == []

    response = await post_on(
        admin, page, f"{page}/reject", {"confirmed": "1", "reason": "  考试日期已过，不符合退费条件  "}
    )
    shown = await flash_after(admin, response)
    assert "已驳回该申请" in shown and "驳回原因：考试日期已过，不符合退费条件" in shown
    after = await stored(app, r.id)
    assert (after.status, after.status_reason) == ("rejected", "考试日期已过，不符合退费条件")
    [entry] = await audit_entries(app)
    assert entry.after == {"status": "rejected", "status_reason": "考试日期已过，不符合退费条件", "refunded_on": None}
    [notice] = await outbox_rows(app)
    assert "未通过审核" in notice.text and "原因：考试日期已过，不符合退费条件" in notice.text
    assert (await events_of(app, r.id))[-1].note == "考试日期已过，不符合退费条件"
    # A rejected request is final here.
    refused = await post_on(admin, page, f"{page}/approve", {"confirmed": "1"})
    assert "不能通过" in await flash_after(admin, refused)


async def test_marking_refunded_takes_a_date_the_method_and_a_note(app: Starlette, signed_in: SignedIn) -> None:
    submitted = await store_request(app, name="李四")
    approved = await store_request(app, name="王五", status="approved")
    admin = await signed_in("admin")
    page = f"/admin/requests/{approved.id}"
    good = {"refunded_on": "2026-03-02", "method": "原路退回", "note": "财务流水 8848"}
    for data, problem in (
        ({**good, "refunded_on": "2026-03-03"}, "不能晚于今天"),
        ({**good, "refunded_on": "2026-02-28"}, "不能早于申请提交日期（2026-03-01）"),
        ({**good, "refunded_on": "昨天"}, "请填写有效的退费日期"),
        ({**good, "method": "现金"}, "退费方式只能是：原路退回"),
    ):
        response = await post_on(admin, page, f"{page}/refund", data)
        assert problem in await flash_after(admin, response), data
    assert (await stored(app, approved.id)).status == "approved" and await outbox_rows(app) == []

    not_yet = await post_on(admin, page, f"/admin/requests/{submitted.id}/refund", good)
    assert "只有“已通过”的申请可以登记退费" in await flash_after(admin, not_yet)

    response = await post_on(admin, page, f"{page}/refund", good)
    assert "已登记退费" in await flash_after(admin, response)
    after = await stored(app, approved.id)
    assert (after.status, after.refunded_on) == ("refunded", dt.date(2026, 3, 2))
    [entry] = await audit_entries(app)
    assert entry.before == {"status": "approved", "status_reason": None, "refunded_on": None}
    assert entry.after == {
        "status": "refunded",
        "status_reason": None,
        "refunded_on": "2026-03-02",
        "refund_method": "原路退回",
        "note": "财务流水 8848",
    }
    assert (await events_of(app, approved.id))[-1].note == "原路退回；财务流水 8848"
    [notice] = await outbox_rows(app)
    assert "已于2026年3月2日办理退费（原路退回）" in notice.text and "8848" not in notice.text
    assert notice.fields["date"] == "2026年3月2日"


async def test_bulk_approval_approves_only_requests_awaiting_review_in_visible_regions(
    app: Starlette, signed_in: SignedIn
) -> None:
    waiting = [await store_request(app, name=f"张{i}", confirmed=at(i + 1)) for i in range(3)]
    done = await store_request(app, name="李四", status="rejected")
    elsewhere = await store_request(app, name="王五", region="江苏省")
    reviewer = await signed_in("reviewer", regions=["广东省"])
    listing = await reviewer.get("/admin/requests", params={"q": "张"})
    assert listing.text.count('name="ids"') == 3
    ids = [str(r.id) for r in (*waiting, done, elsewhere)] + ["nonsense", "²", "999999"]
    response = await reviewer.post(
        "/admin/requests/approve", data={"csrf": csrf_in(listing.text), "ids": ids, "back": "q=张&page=1&evil=x"}
    )
    assert response.headers["location"] == "/admin/requests?q=%E5%BC%A0&page=1"  # back to the same filters only
    shown = await flash_after(reviewer, response)
    assert "已批量通过 3 份申请" in shown and "跳过 3 份" in shown
    assert [(await stored(app, r.id)).status for r in waiting] == ["approved"] * 3
    assert (await stored(app, done.id)).status == "rejected" and (await stored(app, elsewhere.id)).status == "submitted"
    entries = await audit_entries(app)
    assert [e.action for e in entries] == ["request.approve"] * 3 and all("批量通过" in (e.note or "") for e in entries)
    assert len(await outbox_rows(app)) == 3

    empty = await reviewer.post("/admin/requests/approve", data={"csrf": csrf_in(listing.text)})
    assert "请先勾选" in await flash_after(reviewer, empty)


@SQLITE_ONLY
async def test_viewers_and_anonymous_visitors_cannot_act(
    app: Starlette, signed_in: SignedIn, client: MakeClient
) -> None:
    r = await store_request(app)
    viewer = await signed_in("viewer")
    page = f"/admin/requests/{r.id}"
    for path, data in (
        (f"{page}/approve", {"confirmed": "1"}),
        (f"{page}/reject", {"confirmed": "1", "reason": "x"}),
        (f"{page}/refund", {"refunded_on": "2026-03-02", "method": "原路退回"}),
        ("/admin/requests/approve", {"ids": [str(r.id)]}),
    ):
        assert (await post_on(viewer, page, path, data)).status_code == 403, path
        assert (await client().post(path, data=data)).status_code == 403, path
    assert (await stored(app, r.id)).status == "submitted"
    assert await count_rows(app, RequestEvent) == 1 and await count_rows(app, AuditEntry) == 1  # viewer's login


# --- what the candidate sees --------------------------------------------------------------------------------------


async def test_my_requests_shows_what_staff_decided(app: Starlette, signed_in: SignedIn) -> None:
    """Two real requests filed through the conversation engine; staff approve and refund one and
    reject the other; 我的申请 tells the candidate each outcome."""
    runtime = app.state.runtime
    engine = ConversationEngine(runtime.db, runtime.services, SettableClock(dt.date(2017, 9, 27)))
    chat = Chat(engine, user="cand-1")
    for exam, seq in (("2017年10月15日", 1), ("2017年10月22日", 2)):
        for line in [*dialog("广州", "秘书", exam, make_id_number(seq=seq)), "确认弃考"]:
            reply = await chat.say(line)
        assert "已提交" in reply
    assert await outbox_rows(app) == []  # filing queues nothing: the reply said it all
    refs = REFERENCE.findall(await chat.say("我的申请"))
    assert len(refs) == 2

    admin = await signed_in("admin")
    listing = await admin.get("/admin/requests", params={"q": refs[0]})
    detail = re.search(r'href="(/admin/requests/\d+)"', listing.text)
    assert detail is not None
    approved_page = detail.group(1)
    rejected_page = re.search(
        r'href="(/admin/requests/\d+)"', (await admin.get("/admin/requests", params={"q": refs[1]})).text
    )
    assert rejected_page is not None
    await post_on(admin, approved_page, f"{approved_page}/approve", {"confirmed": "1"})
    await post_on(admin, approved_page, f"{approved_page}/refund", {"refunded_on": "2026-03-02", "method": "原路退回"})
    await post_on(
        admin, rejected_page.group(1), f"{rejected_page.group(1)}/reject", {"confirmed": "1", "reason": "已参加考试"}
    )

    mine = await chat.say("我的申请")
    lines = {ref: line for line in mine.splitlines() for ref in refs if ref in line}
    assert "已退费（退费日期：2026年3月2日）" in lines[refs[0]]
    assert "未通过（原因：已参加考试）" in lines[refs[1]]
    notices = await outbox_rows(app)
    assert [n.user_id for n in notices] == ["cand-1"] * 3
    assert [n.fields["title"] for n in notices] == ["退考退费申请已通过", "退考退费已退费", "退考退费申请未通过"]


async def test_the_conversation_starts_after_the_users_previous_request_and_hides_other_regions(
    app: Starlette, signed_in: SignedIn
) -> None:
    from storage.conversations import append_transcript

    first = await store_request(
        app, region="吉林省", institution="吉林省职业技能鉴定中心", user_id="two", confirmed=at(1)
    )
    second = await store_request(app, region="广州市", user_id="two", confirmed=at(3))
    async with db_of(app).transaction() as session:
        for when, lines in (
            (at(1, 9), [("in", "吉林的退考怎么办"), ("out", "请填写吉林省职业技能鉴定中心的声明")]),
            (at(1), [("in", "确认"), ("out", f"已受理，编号 {first.reference}")]),
            (at(2), [("in", "我的申请"), ("out", f"{first.reference} 吉林省职业技能鉴定中心 审核中")]),
            (at(3, 9), [("in", "广州的也要退"), ("out", "请确认声明")]),
            (at(3), [("in", "确认"), ("out", f"已受理，编号 {second.reference}")]),
        ):
            await append_transcript(session, channel="test", user_id="two", lines=lines, now=when)

    reviewer = await signed_in("reviewer", regions=["广东省"], name="gd")
    html = (await reviewer.get(f"/admin/requests/{second.id}")).text
    assert "广州的也要退" in html and second.reference in html
    assert "吉林" not in html and first.reference not in html, "the other region's request stays out of sight"
    assert requests_page.HIDDEN in html, "the 我的申请 listing is there, its content hidden"

    admin = await signed_in("admin", name="boss")
    html = (await admin.get(f"/admin/requests/{second.id}")).text
    assert f"{first.reference} 吉林省职业技能鉴定中心 审核中" in html, "an admin of every region sees it"
    assert "吉林的退考怎么办" not in html, "the first request's own conversation belongs to the first request"
    html = (await admin.get(f"/admin/requests/{first.id}")).text
    assert "吉林的退考怎么办" in html and "广州的也要退" not in html
