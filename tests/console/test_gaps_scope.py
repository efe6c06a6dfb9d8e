"""知识缺口 as a reviewer sees it: only the gaps asked about their regions (or about no region), and
never messages meant for people: a handoff thread, small talk."""

from __future__ import annotations

from sqlalchemy import select
from starlette.applications import Starlette

from storage.models import UnansweredQuestion
from tests.console.conftest import SignedIn
from tests.console.test_gaps_page import ask, groups


async def test_a_reviewer_sees_their_regions_gaps_and_people_talk_is_no_gap(
    app: Starlette, signed_in: SignedIn
) -> None:
    await ask(app, "u-gz", "广州鉴定费几号前得打过去")
    await ask(app, "u-fj", "福建鉴定费几号前得打过去呀")
    await ask(app, "u-none", "公务员考试几月报名")
    # Small talk and a candidate writing to staff in a handoff are not questions the bot failed.
    for text in ("你好", "谢谢你", "好的"):
        await ask(app, "u-talk", text)
    await ask(app, "u-human", "转人工")
    await ask(app, "u-human", "我想问一下退费大概多久能到账，银行卡号变了怎么办")
    db = app.state.runtime.db
    async with db.sessions() as session:
        asked = [(q.region, q.text) for q in (await session.execute(select(UnansweredQuestion))).scalars()]
    texts = [t for _, t in asked]
    assert not any("银行卡号" in t for t in texts), "a handoff thread is for staff, not a gap"
    assert not any(t in ("你好", "谢谢你", "好的") for t in texts), "small talk is no gap"
    regions = {t: r for r, t in asked}
    assert regions["广州鉴定费几号前得打过去"] == "广州市" and regions["公务员考试几月报名"] is None

    reviewer = await signed_in("reviewer", regions=["广东省"])
    page = (await reviewer.get("/admin/gaps")).text
    assert "广州鉴定费几号前得打过去" in page and "公务员考试几月报名" in page
    assert "福建鉴定费几号前得打过去" not in page
    fujian = next(g for g in await groups(db) if "福建" in g.representative)
    assert (await reviewer.get(f"/admin/gaps/{fujian.id}")).status_code == 404
    admin = await signed_in("admin")
    assert "福建鉴定费几号前得打过去" in (await admin.get("/admin/gaps")).text
