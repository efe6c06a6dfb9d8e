"""个人信息 at /admin/privacy (admins): everything stored about one person, found by ID number, given
to them as a file or erased on their request (个人信息保护法 art. 45, 47), each audited with the number
masked. The ID number travels only in POST bodies, never in a URL or a log line."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.console.auth import Staff, staff_page
from bot.console.forms import form_text
from bot.console.scope import ADMIN
from bot.console.state import database, now, runtime
from bot.console.templates import flash, redirect, render
from storage import person_data
from storage.audit import append_entry

ID_FIELD = "id_number"


def _page(request: Request, **context: object) -> Response:
    return render(request, "privacy.html", {"person": None, "id_number": "", "error": None, **context})


@staff_page(roles=[ADMIN])
async def privacy(request: Request, staff: Staff) -> Response:
    return _page(request)


async def _person(request: Request, staff: Staff) -> tuple[person_data.Person | None, str | None]:
    """The person the form names, or why not (Chinese)."""
    form = await request.form()
    id_number = form_text(form, ID_FIELD, limit=32).upper()
    if not id_number:
        return None, "请输入身份证号。"
    async with database(request).sessions() as session:
        person = await person_data.find_person(session, runtime(request).services.cipher, id_number)
    if not person.found:
        return None, f"没有身份证号为 {person.masked} 的申请（或其个人信息已删除）。"
    if any(not staff.can_see_region(r.region) for r in person.requests):
        return None, "此人有您负责地区以外的申请，请由负责全部地区的管理员处理。"
    return person, None


@staff_page(roles=[ADMIN])
async def find(request: Request, staff: Staff) -> Response:
    person, problem = await _person(request, staff)
    if person is None:
        return _page(request, error=problem)
    return _page(request, person=person, id_number=person.id_number)


@staff_page(roles=[ADMIN])
async def export(request: Request, staff: Staff) -> Response:
    person, problem = await _person(request, staff)
    if person is None:
        return flash(redirect(request, "privacy"), problem or "", kind="error")
    async with database(request).transaction() as session:
        data = await person_data.export_person(session, runtime(request).services.cipher, person)
        await append_entry(
            session, at=now(request), actor=staff.name, action="privacy.export", note=f"导出 {person.masked} 的全部信息"
        )
    body = json.dumps(data, ensure_ascii=False, indent=2)
    filename = f"personal-data-{person.requests[0].reference}.json"
    return Response(
        body,
        media_type="application/json; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


@staff_page(roles=[ADMIN])
async def erase(request: Request, staff: Staff) -> Response:
    form = await request.form()
    if form_text(form, "confirm") != "yes":
        return flash(redirect(request, "privacy"), "请勾选确认后再删除。", kind="error")
    person, problem = await _person(request, staff)
    if person is None:
        return flash(redirect(request, "privacy"), problem or "", kind="error")
    async with database(request).transaction() as session:
        fresh = await person_data.find_person(session, runtime(request).services.cipher, person.id_number)
        counts = await person_data.erase_person(session, runtime(request).services.cipher, fresh, now=now(request))
        note = f"删除 {person.masked} 的个人信息：" + "，".join(f"{k} {v}" for k, v in counts.items())
        await append_entry(session, at=now(request), actor=staff.name, action="privacy.erase", note=note)
    return flash(
        redirect(request, "privacy"),
        f"已删除 {person.masked} 的个人信息：{counts['requests']} 份申请已脱敏保留，相关对话与订阅已删除。",
    )


routes: list[BaseRoute] = [
    Route("/privacy", privacy, methods=["GET", "HEAD"], name="privacy"),
    Route("/privacy/find", find, methods=["POST"], name="privacy_find"),
    Route("/privacy/export", export, methods=["POST"], name="privacy_export"),
    Route("/privacy/erase", erase, methods=["POST"], name="privacy_erase"),
]
