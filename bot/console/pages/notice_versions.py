"""A published notice version at /admin/notices/published/N: its facts, its other versions, and
what admins and reviewers may do with it: withdraw it (admins), or start a new draft from it (修改).
The workflows are `handlers.notice_publishing` and `handlers.notice_drafts`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.console.auth import Staff, staff_page
from bot.console.forms import form_text
from bot.console.notice_review import KIND_LABELS, fact_views
from bot.console.pages.notices import editor, may_edit
from bot.console.scope import ADMIN, WRITERS
from bot.console.state import database, knowledge, knowledge_sync, now
from bot.console.templates import error_page, flash, redirect, render
from handlers import notice_drafts as drafts
from handlers import notice_publishing as publishing
from handlers.notice_publishing import version_status
from knowledge.base import citation
from storage import notices as store

NOT_FOUND = "没有这个已发布的版本。"


@staff_page()
async def version_page(request: Request, staff: Staff) -> Response:
    version_id = int(request.path_params["version_id"])
    async with database(request).sessions() as session:
        version = await store.get_version(session, version_id)
        if version is None:
            return error_page(request, 404, NOT_FOUND)
        others = await store.versions_of(session, version.doc_no)
    kb = knowledge(request).kb
    live = version.withdrawn_at is None and version.superseded_at is None
    successors = [citation(n.doc_no, n.version) for n in kb.successors.get(version.doc_no, ())] if live else []
    return render(
        request,
        "notice_version.html",
        {
            "version": version,
            "name": citation(version.doc_no, version.version),
            "status": version_status(version),
            "live": live,
            "facts": fact_views(version.data, {}, {}),
            "others": [{"v": v, "name": citation(v.doc_no, v.version), "status": version_status(v)} for v in others],
            "successors": successors,
            "in_kb": live and version.doc_no in kb.notices,
            "can_withdraw": live and staff.role == ADMIN,
            "can_revise": may_edit(staff, list(version.regions)),
            "kind_labels": KIND_LABELS,
        },
    )


@staff_page(roles=[ADMIN])
async def withdraw_version(request: Request, staff: Staff) -> Response:
    version_id = int(request.path_params["version_id"])
    form = await request.form()
    reason = form_text(form, "reason", limit=500)
    back = redirect(request, "notice_version", version_id=version_id)
    try:
        async with database(request).transaction() as session:
            name = await publishing.withdraw_version(
                session, version_id=version_id, reason=reason, actor=staff.name, now=now(request)
            )
    except drafts.NoticeNotFound:
        return error_page(request, 404, NOT_FOUND)
    except drafts.NoticeRefused as exc:
        return flash(back, exc.message, kind="error")
    sync = knowledge_sync(request)
    await sync.refresh()
    return flash(back, f"已撤回 {name}：机器人不再按它回答（其他服务进程将在 {int(sync.interval)} 秒内更新）。")


@staff_page(roles=WRITERS)
async def revise_version(request: Request, staff: Staff) -> Response:
    """修改: a new draft from a published version, its facts already accepted."""
    version_id = int(request.path_params["version_id"])
    try:
        async with database(request).transaction() as session:
            draft = await drafts.revise_version(session, version_id=version_id, editor=editor(staff), now=now(request))
    except drafts.NoticeNotFound:
        return error_page(request, 404, NOT_FOUND)
    except drafts.NoticeRefused as exc:
        return flash(redirect(request, "notice_version", version_id=version_id), exc.message, kind="error")
    message = "已据此版本创建新草稿。修改后发布，即成为新版本；原版本保持不变。"
    return flash(redirect(request, "notice_draft", draft_id=draft.id), message)


routes: list[BaseRoute] = [
    Route("/notices/published/{version_id:rowid}", version_page, methods=["GET", "HEAD"], name="notice_version"),
    Route("/notices/published/{version_id:rowid}/withdraw", withdraw_version, methods=["POST"], name="notice_withdraw"),
    Route("/notices/published/{version_id:rowid}/revise", revise_version, methods=["POST"], name="notice_revise"),
]
