"""Account management by an admin: create, change, deactivate, reset a password, unlock; each audited
with before and after, never with a password hash."""

from __future__ import annotations

import json

import httpx
from sqlalchemy import select
from starlette.applications import Starlette

from storage.database import Database
from storage.models import AuditEntry, StaffAccount
from tests.console.conftest import SQLITE_ONLY, MakeAccount, MakeClient, MovableClock, SignedIn, login, post_form

NEW_PASSWORD = "brand-new-secret-7"


async def account(db: Database, name: str) -> StaffAccount:
    async with db.sessions() as session:
        return (await session.execute(select(StaffAccount).where(StaffAccount.name == name))).scalar_one()


async def audit(db: Database, action: str) -> list[AuditEntry]:
    async with db.sessions() as session:
        stmt = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        return list((await session.execute(stmt)).scalars())


def flash_of(page: httpx.Response) -> str:
    return page.text.split('class="flash')[1].split(">", 1)[1].split("<")[0]


async def test_an_admin_creates_a_reviewer_who_can_then_log_in(
    app: Starlette, signed_in: SignedIn, client: MakeClient
) -> None:
    admin = await signed_in("admin", name="boss")
    db: Database = app.state.runtime.db
    response = await post_form(
        admin,
        "/admin/accounts",
        {"name": "li.si", "role": "reviewer", "regions": "广东, 吉林", "password": NEW_PASSWORD},
    )
    assert response.status_code == 303
    page = await admin.get(response.headers["location"])
    assert flash_of(page) == "已创建账号 li.si（审核员）。"
    assert "广东省、吉林省" in page.text
    assert "已创建账号" not in (await admin.get("/admin/accounts")).text  # a flash shows once

    created = await account(db, "li.si")
    assert (created.role, created.regions, created.active) == ("reviewer", ["广东省", "吉林省"], True)
    assert created.password_hash.startswith("$argon2id$")
    [entry] = await audit(db, "staff.create")
    assert (entry.actor, entry.target_type, entry.target_id, entry.before) == ("boss", "staff", str(created.id), None)
    assert entry.after is not None and entry.after["regions"] == ["广东省", "吉林省"]
    assert "argon2" not in json.dumps(entry.after) and NEW_PASSWORD not in json.dumps(entry.after)

    assert (await login(client(), "li.si", NEW_PASSWORD)).status_code == 303


@SQLITE_ONLY
async def test_bad_account_forms_are_refused_with_the_reason(
    app: Starlette, signed_in: SignedIn, make_account: MakeAccount
) -> None:
    admin = await signed_in("admin", name="boss")
    await make_account("taken", "viewer")
    cases = [
        ({"name": "wang", "role": "reviewer", "regions": "", "password": NEW_PASSWORD}, "审核员至少需要一个负责地区"),
        ({"name": "wang", "role": "reviewer", "regions": "火星", "password": NEW_PASSWORD}, "不认识的地区：火星"),
        ({"name": "wang", "role": "viewer", "regions": "", "password": "short"}, "密码至少需要 10 个字符"),
        ({"name": "wang", "role": "viewer", "regions": "", "password": "password12"}, "密码太容易被猜到"),
        ({"name": "wang", "role": "viewer", "regions": "", "password": "aaaaaaaaaa"}, "密码太容易被猜到"),
        ({"name": "wang", "role": "viewer", "regions": "", "password": "qwertyuiop"}, "密码太容易被猜到"),
        ({"name": "wang", "role": "viewer", "regions": "", "password": "Zhang-WANG-2026x"}, "不能包含账号名"),
        ({"name": "a b", "role": "viewer", "regions": "", "password": NEW_PASSWORD}, "账号名应为"),
        ({"name": "cli", "role": "viewer", "regions": "", "password": NEW_PASSWORD}, "系统保留"),
        ({"name": "wang", "role": "root", "regions": "", "password": NEW_PASSWORD}, "角色应为"),
        ({"name": "taken", "role": "viewer", "regions": "", "password": NEW_PASSWORD}, "已被使用"),
    ]
    for form, reason in cases:
        response = await post_form(admin, "/admin/accounts", form)
        assert response.status_code == 400, form
        assert reason in response.text, form
        assert NEW_PASSWORD not in response.text  # the password is not echoed back into the page
    assert await audit(app.state.runtime.db, "staff.create") == []


async def test_deactivating_signs_the_account_out_at_once(app: Starlette, signed_in: SignedIn) -> None:
    admin = await signed_in("admin", name="boss")
    reviewer = await signed_in("reviewer", regions=["江苏省"], name="zhao")
    db: Database = app.state.runtime.db
    target = await account(db, "zhao")
    assert (await reviewer.get("/admin/")).status_code == 200
    response = await post_form(admin, f"/admin/accounts/{target.id}/deactivate")
    assert flash_of(await admin.get(response.headers["location"])).startswith("已停用账号 zhao")
    assert (await reviewer.get("/admin/")).status_code == 303
    assert (await account(db, "zhao")).active is False
    [entry] = await audit(db, "staff.deactivate")
    assert entry.before is not None and entry.after is not None
    assert (entry.before["active"], entry.after["active"]) == (True, False)

    # Reactivated, the account may sign in again.
    await post_form(admin, f"/admin/accounts/{target.id}/activate")
    assert (await account(db, "zhao")).active is True


@SQLITE_ONLY
async def test_an_admin_cannot_deactivate_or_demote_themself(app: Starlette, signed_in: SignedIn) -> None:
    admin = await signed_in("admin", name="boss")
    me = await account(app.state.runtime.db, "boss")
    response = await post_form(admin, f"/admin/accounts/{me.id}/deactivate")
    assert "不能停用自己的账号" in flash_of(await admin.get(response.headers["location"]))
    response = await post_form(admin, f"/admin/accounts/{me.id}/update", {"role": "viewer", "regions": ""})
    assert "不能修改自己的角色" in flash_of(await admin.get(response.headers["location"]))
    assert (await account(app.state.runtime.db, "boss")).role == "admin"
    assert (await admin.get("/admin/accounts")).status_code == 200


async def test_changing_role_and_regions(app: Starlette, signed_in: SignedIn, make_account: MakeAccount) -> None:
    admin = await signed_in("admin", name="boss")
    target_id = await make_account("qian", "viewer")
    await post_form(admin, f"/admin/accounts/{target_id}/update", {"role": "reviewer", "regions": "广州"})
    changed = await account(app.state.runtime.db, "qian")
    assert (changed.role, changed.regions) == ("reviewer", ["广州市"])
    [entry] = await audit(app.state.runtime.db, "staff.update")
    assert entry.before is not None and entry.after is not None
    assert (entry.before["role"], entry.after["role"]) == ("viewer", "reviewer")
    page = await admin.get("/admin/audit?action=staff.update")
    assert "修改角色与地区" in page.text
    assert "<del>只读</del> → <ins>审核员</ins>" in page.text and "<del>（空）</del> → <ins>广州市</ins>" in page.text


async def test_resetting_a_password(app: Starlette, signed_in: SignedIn, client: MakeClient) -> None:
    admin = await signed_in("admin", name="boss")
    reviewer = await signed_in("reviewer", regions=["吉林省"], name="sun")
    target = await account(app.state.runtime.db, "sun")
    short = await post_form(admin, f"/admin/accounts/{target.id}/password", {"password": "short"})
    assert "至少需要 10 个字符" in flash_of(await admin.get(short.headers["location"]))
    named = await post_form(admin, f"/admin/accounts/{target.id}/password", {"password": "sun-sun-sun-2026"})
    assert "不能包含账号名" in flash_of(await admin.get(named.headers["location"]))
    await post_form(admin, f"/admin/accounts/{target.id}/password", {"password": NEW_PASSWORD})
    assert (await reviewer.get("/admin/")).status_code == 303  # signed out
    assert (await login(client(), "sun")).status_code == 400  # the old password no longer works
    assert (await login(client(), "sun", NEW_PASSWORD)).status_code == 303
    [entry] = await audit(app.state.runtime.db, "staff.password_reset")
    assert "argon2" not in json.dumps([entry.before, entry.after]) and NEW_PASSWORD not in (entry.note or "")


async def test_unlocking_a_locked_account(
    app: Starlette, signed_in: SignedIn, make_account: MakeAccount, client: MakeClient, clock: MovableClock
) -> None:
    admin = await signed_in("admin", name="boss")
    await make_account("zhou", "viewer")
    c = client(ip="10.1.1.1")
    for _ in range(5):
        await login(c, "zhou", "wrong-password-1")
    assert (await login(c, "zhou")).status_code == 429
    page = await admin.get("/admin/accounts")
    assert "锁定至" in page.text and "失败 5 次" in page.text
    target = await account(app.state.runtime.db, "zhou")
    await post_form(admin, f"/admin/accounts/{target.id}/unlock")
    assert (await login(c, "zhou")).status_code == 303
    [entry] = await audit(app.state.runtime.db, "staff.unlock")
    assert entry.before is not None and entry.after is not None
    assert entry.before["locked_until"] is not None and entry.after["locked_until"] is None


@SQLITE_ONLY
async def test_an_unknown_account_id(signed_in: SignedIn) -> None:
    admin = await signed_in("admin", name="boss")
    response = await post_form(admin, "/admin/accounts/999/deactivate")
    assert flash_of(await admin.get(response.headers["location"])) == "没有这个账号。"
