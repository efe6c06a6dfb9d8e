"""知识缺口 at /admin/gaps: questions the bot abstained on (asked through the engine) grouped with
counts and times, marked handled, and question variants added from a group, which this process
answers with at once, and withdrawn again; reviewers only for facts of their regions; audited."""

from __future__ import annotations

import datetime as dt
import re

import httpx
from sqlalchemy import select
from starlette.applications import Starlette

from handlers.messages import ConversationKey, Inbound
from storage.database import Database
from storage.models import AuditEntry, GapGroup, QuestionVariant
from tests.console.conftest import SQLITE_ONLY, MovableClock, SignedIn, csrf_in

QUESTION = "鉴定费几号前得打过去"
FACT = "gz145.fee-daily"


async def ask(app: Starlette, user: str, text: str) -> str:
    key = ConversationKey("web", user)
    replies = await app.state.runtime.engine.handle(Inbound(key=key, text=text, message_id=f"{user}:{text}"))
    return "\n".join(r.text for r in replies)


async def groups(db: Database) -> list[GapGroup]:
    async with db.sessions() as session:
        return list((await session.execute(select(GapGroup).order_by(GapGroup.id))).scalars())


async def post_on(c: httpx.AsyncClient, page: str, path: str, data: dict[str, str]) -> httpx.Response:
    return await c.post(path, data={"csrf": csrf_in((await c.get(page)).text), **data})


async def flash_after(c: httpx.AsyncClient, response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    page = await c.get(response.headers["location"])
    found = re.search(r'<p class="flash (?:ok|error)"[^>]*>([^<]*)</p>', page.text)
    assert found, "no message shown"
    return found.group(1)


def answers(app: Starlette, text: str) -> tuple[str, ...]:
    """The facts this process's question answering now answers `text` with (none: it abstains)."""
    answer = app.state.runtime.knowledge.current.qa.answer(text, region="广州市", now=dt.date(2026, 3, 2))
    return answer.fact_ids if answer.matched else ()


@SQLITE_ONLY
async def test_the_list_shows_groups_with_counts_and_times_and_filters_them(
    app: Starlette, signed_in: SignedIn, clock: MovableClock
) -> None:
    await ask(app, "u1", QUESTION)
    clock.advance(minutes=5)
    await ask(app, "u2", "我的鉴定费几号前得打过去啊")  # the same gap, asked differently
    clock.advance(minutes=5)
    await ask(app, "u3", "公务员考试几月报名")
    fee, civil = await groups(app.state.runtime.db)
    assert (fee.count, civil.count) == (2, 1)

    viewer = await signed_in("viewer")
    page = await viewer.get("/admin/gaps")
    assert page.status_code == 200 and "未处理 <strong>2</strong> 组" in page.text
    assert page.text.index(QUESTION) < page.text.index("公务员考试几月报名"), "the most asked first"
    assert "2026-03-02 09:05" in page.text and "2026-03-02 09:10" in page.text  # last asked, Beijing time
    recent = await viewer.get("/admin/gaps?order=recent")
    assert recent.text.index("公务员考试几月报名") < recent.text.index(QUESTION)
    assert QUESTION not in (await viewer.get("/admin/gaps?status=handled")).text

    detail = await viewer.get(f"/admin/gaps/{fee.id}")
    assert "我的鉴定费几号前得打过去啊" in detail.text and "网页" in detail.text
    assert "标记为已处理" not in detail.text and "添加问法" not in detail.text  # a viewer only reads
    for path in (f"/admin/gaps/{fee.id}/handled", f"/admin/gaps/{fee.id}/variants"):
        refused = await post_on(viewer, "/admin/gaps", path, {"question": QUESTION, "entry_id": FACT})
        assert refused.status_code == 403
    assert (await viewer.get("/admin/gaps/9999")).status_code == 404


async def test_a_variant_added_from_a_group_answers_at_once_and_can_be_withdrawn(
    app: Starlette, signed_in: SignedIn
) -> None:
    db: Database = app.state.runtime.db
    await ask(app, "u1", f"广州{QUESTION}")
    (group,) = await groups(db)
    assert answers(app, QUESTION) == ()
    path = f"/admin/gaps/{group.id}"

    # A reviewer of Jilin does not see a gap asked about Guangzhou only; once someone asks it without
    # naming a region, they do, and are offered Jilin's facts, not Guangzhou's, and cannot add one by hand.
    jilin = await signed_in("reviewer", regions=["吉林省"], name="jl")
    assert (await jilin.get(path)).status_code == 404
    await ask(app, "u0", QUESTION)
    assert [g.id for g in await groups(db)] == [group.id], "the same gap, asked again"
    offered = (await jilin.get(path)).text
    assert "jl11." in offered and FACT not in offered and "吉人社办字〔2017〕11号（吉林省）" in offered
    refused = await flash_after(
        jilin, await post_on(jilin, path, f"{path}/variants", {"question": QUESTION, "entry_id": FACT})
    )
    assert "不适用于您负责的地区" in refused

    admin = await signed_in("admin")
    assert f'<option value="{FACT}">' in (await admin.get(path)).text
    for entry_id in ("gz145.no-such-fact", ""):
        unknown = await post_on(admin, path, f"{path}/variants", {"question": QUESTION, "entry_id": entry_id})
        assert "知识库里已有的条目" in await flash_after(admin, unknown)
    empty = await post_on(admin, path, f"{path}/variants", {"question": "  ", "entry_id": FACT})
    assert "请填写问法" in await flash_after(admin, empty)

    added = await post_on(admin, path, f"{path}/variants", {"question": QUESTION, "entry_id": FACT, "handled": "1"})
    message = await flash_after(admin, added)
    assert "已添加问法，并标记为已处理" in message and "试答（广州市）：已能用所选条目回答" in message
    assert answers(app, QUESTION) == (FACT,), "this process answers with the variant at once"
    assert "没有找到可靠的答案" in await ask(app, "u4", "公务员考试几月报名")
    assert "没有找到可靠的答案" not in await ask(app, "u5", f"广州{QUESTION}"), "a candidate now gets the answer"
    handled = (await groups(db))[0]
    assert (handled.id, handled.status, handled.handled_by) == (group.id, "handled", "admin1")

    listed = await admin.get("/admin/gaps/variants")
    assert QUESTION in listed.text and "生效中" in listed.text and f"来自知识缺口 {group.id}" in listed.text
    async with db.sessions() as session:
        (variant,) = (await session.execute(select(QuestionVariant))).scalars()
    deactivate = f"/admin/gaps/variants/{variant.id}/deactivate"
    assert "不能停用" in await flash_after(jilin, await post_on(jilin, "/admin/gaps/variants", deactivate, {}))
    assert "已停用" in await flash_after(admin, await post_on(admin, "/admin/gaps/variants", deactivate, {}))
    assert answers(app, QUESTION) == ()
    assert "没有问法。" in (await admin.get("/admin/gaps/variants")).text  # only active ones by default
    assert QUESTION in (await admin.get("/admin/gaps/variants?all=1")).text

    async with db.sessions() as session:
        entries = (
            await session.execute(
                select(AuditEntry.actor, AuditEntry.action, AuditEntry.target_type).where(
                    AuditEntry.action.like("gap.%")
                )
            )
        ).all()
    assert [tuple(e) for e in entries] == [
        ("admin1", "gap.variant_add", "variant"),
        ("admin1", "gap.handled", "gap"),
        ("admin1", "gap.variant_deactivate", "variant"),
    ]


@SQLITE_ONLY
async def test_marking_a_group_handled_is_audited_once(app: Starlette, signed_in: SignedIn) -> None:
    db: Database = app.state.runtime.db
    await ask(app, "u1", "公务员考试几月报名")
    (group,) = await groups(db)
    reviewer = await signed_in("reviewer", regions=["广东省"])
    path = f"/admin/gaps/{group.id}"
    assert "已标记为已处理" in await flash_after(reviewer, await post_on(reviewer, path, f"{path}/handled", {}))
    assert "已标记为已处理" in await flash_after(reviewer, await post_on(reviewer, path, f"{path}/handled", {}))
    async with db.sessions() as session:
        actions = (await session.execute(select(AuditEntry.action).where(AuditEntry.action == "gap.handled"))).all()
    assert len(actions) == 1
    assert "标记知识缺口已处理" in (await reviewer.get("/admin/audit")).text
    # The same question again starts a new open group pointing back at the handled one.
    await ask(app, "u2", "公务员考试几月报名")
    handled, again = await groups(db)
    assert (handled.status, again.status, again.previous_id) == ("handled", "open", handled.id)
    assert f'href="/admin/gaps/{handled.id}"' in (await reviewer.get(f"/admin/gaps/{again.id}")).text
