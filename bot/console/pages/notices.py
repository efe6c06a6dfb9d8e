"""通知管理 at /admin/notices: new notices from their text, reviewed fact by fact, published
without a restart, withdrawn, revised as new versions.

- A reviewer or admin pastes a notice or uploads its .txt (UTF-8 or GB18030, at most 512 KiB);
  the drafting library (`kb draft`) makes one draft per document in it.
- The draft page shows each extracted fact beside the sentence it came from, the extracted pieces
  marked, with its fields editable and a decision: 采用 / 不采用 / 待审核.
- Only admins publish and withdraw. Publishing validates the draft as `kb check` does (a fact
  still to be reviewed, an unresolved drafting problem, a date that does not exist, an unknown
  region are refused, listed per fact) and makes it live at once in this process, and in the
  others within VARIANTS_POLL_SECONDS. A published version never changes: 修改 starts a new draft
  from it, and publishing that makes the next version.
- Reviewers prepare drafts of their own regions (nested ones included); viewers read.
Every change is audited. The workflows are `handlers.notice_drafts` and `handlers.notice_publishing`;
the pages (this module: the list and new drafts; `notice_drafts`: a draft; `notice_versions`: a
published version) read forms and show the outcome.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Message

from bot.channels.http_body import read_limited
from bot.console.auth import Staff, staff_page
from bot.console.forms import form_text
from bot.console.scope import WRITERS
from bot.console.state import database, knowledge, knowledge_sync, now, regions
from bot.console.templates import error_page, flash, redirect, render
from handlers import notice_drafts as drafts
from handlers.notice_drafts import DRAFT_LABELS, Editor
from handlers.notice_publishing import Baseline
from knowledge.drafting import NotTextError, decode_notice
from storage import notices as store

MAX_NOTICE_BYTES = 512 * 1024
MAX_BODY = MAX_NOTICE_BYTES + 64 * 1024
"""The upload form's whole body: the notice plus the other fields and the multipart framing."""
UPLOAD_TOO_LARGE = f"上传的内容过大：通知正文不能超过 {MAX_NOTICE_BYTES // 1024} KiB。"
PASTED = "粘贴的文本"


def editor(staff: Staff) -> Editor:
    return Editor(staff.name, staff.visible)


def may_edit(staff: Staff, notice_regions: list[str]) -> bool:
    """Writers, for notices of their regions (a reviewer of 广东省 edits 广州市's too)."""
    return staff.can_write and drafts.may_edit(staff.visible, notice_regions)


def baseline(request: Request) -> Baseline:
    """What a draft is validated against besides the live versions: the shipped notices, the regions."""
    sync = knowledge_sync(request)
    return Baseline(shipped=sync.shipped, regions=sync.regions)


@staff_page()
async def notice_list(request: Request, staff: Staff) -> Response:
    me = editor(staff)
    async with database(request).sessions() as session:
        shown = [d for d in await store.list_drafts(session) if drafts.may_see(me, d)]
        versions = await store.list_versions(session)
    registry = regions(request)
    choices = [name for name in registry.main_regions if staff.can_see_region(name)]
    return render(
        request,
        "notices.html",
        {
            "drafts": shown,
            "versions": versions,
            "region_choices": choices,
            "max_kib": MAX_NOTICE_BYTES // 1024,
            "status_labels": DRAFT_LABELS,
        },
    )


async def _notice_text(form: Any) -> tuple[str, str] | str:
    """(text, where it came from), or why there is none, in Chinese."""
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        raw = await upload.read(MAX_NOTICE_BYTES + 1)
        if len(raw) > MAX_NOTICE_BYTES:
            return f"文件过大：通知正文不能超过 {MAX_NOTICE_BYTES // 1024} KiB。"
        try:
            return decode_notice(raw), upload.filename[:255]
        except NotTextError as exc:
            return f"无法读取文件 {upload.filename}：{exc}。"
    pasted = form.get("text")
    pasted = pasted.strip() if isinstance(pasted, str) else ""
    if not pasted:
        return "请粘贴通知全文，或选择通知的 .txt 文件。"
    if len(pasted.encode()) > MAX_NOTICE_BYTES:
        return f"粘贴的内容过长：通知正文不能超过 {MAX_NOTICE_BYTES // 1024} KiB。"
    return pasted, PASTED


@staff_page(roles=WRITERS)
async def _create_draft(request: Request, staff: Staff) -> Response:
    form = await request.form()
    back = redirect(request, "notices")
    got = await _notice_text(form)
    if isinstance(got, str):
        return flash(back, got, kind="error")
    text, source = got
    region = form_text(form, "region", limit=32) or None
    try:
        datas = drafts.prepare_drafts(text, region=region, registry=regions(request), visible=staff.visible)
        async with database(request).transaction() as session:
            created = await drafts.create_drafts(
                session,
                datas=datas,
                text=text,
                source=source,
                editor=editor(staff),
                kb=knowledge(request).kb,
                now=now(request),
            )
    except drafts.NoticeRefused as exc:
        return flash(back, exc.message, kind="error")
    facts = sum(len(d.data.get("facts") or []) for d in created)
    problems = sum(len(d.data.get("problems") or []) for d in created)
    done = f"已生成 {len(created)} 份草稿，共 {facts} 条待审核条目、{problems} 个待解决问题。"
    if len(created) > 1:
        done += "（原文是转发通知，每份文件各成一份草稿，见通知管理列表。）"
    return flash(redirect(request, "notice_draft", draft_id=created[0].id), done)


async def create_draft(request: Request) -> Response:
    """The body is read under a cap before anything parses it (the CSRF check reads the form),
    so an oversized upload costs neither memory nor a temporary file."""
    body = await read_limited(request, MAX_BODY)
    if body is None:
        return error_page(request, 413, UPLOAD_TOO_LARGE)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return await _create_draft(Request(request.scope, replay))


routes: list[BaseRoute] = [
    Route("/notices", notice_list, methods=["GET", "HEAD"], name="notices"),
    Route("/notices/drafts", create_draft, methods=["POST"], name="notice_draft_create"),
]
