"""The draft page edits each kind's own fields (a list's members and count, a contact's unit, address
and phones, a form's name and fields) and deletes a fact outright, for facts the draft found and
facts added by hand; what is published is what was typed."""

from __future__ import annotations

from starlette.applications import Starlette

from storage.database import Database
from tests.console.conftest import SignedIn, csrf_in
from tests.console.test_notices_page import draft_id_of, draft_row, flash_after, new_draft, review
from tests.knowledge.notice_samples import KEEP_A, NOTICE_A, REGISTER_A

LISTED = """\
某市人力资源和社会保障局
关于2027年职业技能等级认定的通知

一、本次认定职业：电工、焊工、车工。

二、报名截止时间为2027年3月15日。

三、报名时须填写《职业技能等级认定申报表》。

四、咨询电话：0755-12345678。

某市人力资源和社会保障局
2027年2月1日
"""


async def test_a_drafted_list_contact_and_form_are_edited_and_a_fact_is_deleted(
    app: Starlette, signed_in: SignedIn
) -> None:
    db: Database = app.state.runtime.db
    admin = await signed_in("admin", name="boss")
    created = await new_draft(admin, LISTED, region="深圳市")
    assert created.headers["location"] != "/admin/notices", (await flash_after(admin, created))[0]
    draft_id = draft_id_of(created)
    facts = (await draft_row(db, draft_id)).data["facts"]
    kinds = [f["kind"] for f in facts]
    at = {kind: kinds.index(kind) for kind in ("occupation_list", "contact", "form")}
    page = await admin.get(f"/admin/notices/drafts/{draft_id}")
    # Each kind shows its own fields, filled with what the draft found.
    assert f'name="f{at["occupation_list"]}_members"' in page.text and "电工、焊工、车工" in page.text
    assert f'name="f{at["contact"]}_phones" value="0755-12345678"' in page.text
    assert f'name="f{at["form"]}_form_name" value="职业技能等级认定申报表"' in page.text
    dated = kinds.index("deadline") if "deadline" in kinds else kinds.index("event")
    edits = {
        f"f{at['occupation_list']}_members": "电工、焊工、车工、钳工",
        f"f{at['occupation_list']}_stated_count": "4",
        f"f{at['contact']}_organization": "某市职业技能鉴定中心",
        f"f{at['contact']}_address": "某市福田区深南大道1号",
        f"f{at['contact']}_phones": "0755-12345678、0755-87654321",
        f"f{at['form']}_form_fields": "姓名、身份证号、报考职业",
        f"f{dated}_delete": "1",
    }
    keep = [f["id"] for f in facts]
    saved = await review(admin, db, draft_id, keep, **edits)
    message, _ = await flash_after(admin, saved)
    assert "已保存" in message, message
    after = (await draft_row(db, draft_id)).data["facts"]
    by_id = {f["id"]: f for f in after}
    assert facts[dated]["id"] not in by_id, "the deleted fact is gone from the draft"
    assert len(after) == len(facts) - 1
    listed = by_id[facts[at["occupation_list"]]["id"]]
    assert (listed["occupations"], listed["stated_count"]) == (["电工", "焊工", "车工", "钳工"], 4)
    contact = by_id[facts[at["contact"]]["id"]]
    assert contact["organization"] == "某市职业技能鉴定中心" and contact["address"] == "某市福田区深南大道1号"
    assert [p["number"] for p in contact["phones"]] == ["0755-12345678", "0755-87654321"]
    form = by_id[facts[at["form"]]["id"]]
    assert [f["label"] for f in form["fields"]] == ["姓名", "身份证号", "报考职业"]


async def test_a_fact_added_by_hand_can_be_deleted_again(app: Starlette, signed_in: SignedIn) -> None:
    db: Database = app.state.runtime.db
    admin = await signed_in("admin", name="boss")
    draft_id = draft_id_of(await new_draft(admin, NOTICE_A))
    added = {"new_kind": "rule", "new_title": "考试纪律", "new_answer": "考生须提前30分钟入场。"}
    await review(admin, db, draft_id, KEEP_A, **added)
    facts = (await draft_row(db, draft_id)).data["facts"]
    index = next(i for i, f in enumerate(facts) if ".added-" in f["id"])
    page = await admin.get(f"/admin/notices/drafts/{draft_id}")
    assert f'name="f{index}_delete"' in page.text and csrf_in(page.text)
    await review(admin, db, draft_id, KEEP_A, **{f"f{index}_delete": "1"})
    after = (await draft_row(db, draft_id)).data["facts"]
    assert not any(".added-" in f["id"] for f in after)
    published = await review(admin, db, draft_id, KEEP_A, publish=True, topic={REGISTER_A: "报名"})
    assert "已发布" in (await flash_after(admin, published))[0]
