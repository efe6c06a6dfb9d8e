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
Every change is audited.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Message

from bot.channels.http_body import read_limited
from bot.console.auth import Staff, staff_page
from bot.console.forms import form_text
from bot.console.notice_review import (
    BOUND_LABELS,
    DECISION_LABELS,
    DIRECTION_LABELS,
    KIND_LABELS,
    UNIT_LABELS,
    apply_form,
    fact_views,
    problems_by_fact,
)
from bot.console.scope import ADMIN, WRITERS
from bot.console.state import database, knowledge, now, regions, runtime
from bot.console.templates import error_page, flash, redirect, render
from bot.knowledge_sync import KnowledgeSync
from knowledge.base import KnowledgeBase, citation
from knowledge.drafting import NotTextError, decode_notice, draft_notice
from knowledge.loader import LoadProblem
from knowledge.published import ACCEPT, PublishedNotice, check_candidate, fact_prefix, jsonable, reviewed_mapping
from knowledge.published import with_unique_prefix as unique_prefix
from storage import notices as store
from storage.audit import append_entry
from storage.models import NoticeDraft, NoticeVersion

MAX_NOTICE_BYTES = 512 * 1024
MAX_BODY = MAX_NOTICE_BYTES + 64 * 1024
"""The upload form's whole body: the notice plus the other fields and the multipart framing."""
PASTED = "粘贴的文本"
HEADER_KEYS = ("doc_no", "issuer", "title", "issued", "issued_year", "regions", "summary", "review", "problems")
STATUS_LABELS = {
    store.DRAFT: "草稿",
    store.PUBLISHED: "已发布",
    store.WITHDRAWN: "已撤回",
    store.DISCARDED: "已放弃",
}


# ── who may do what ───────────────────────────────────────────────────────────────────────────


def _may_edit(staff: Staff, draft_regions: list[str]) -> bool:
    """Writers, for notices of their regions: a reviewer of 广东省 edits 广州市's too. A draft whose
    region the drafting could not tell is editable until a region is set."""
    if not staff.can_write:
        return False
    return staff.visible is None or all(staff.can_see_region(r) for r in draft_regions)


def _may_see(staff: Staff, draft: NoticeDraft) -> bool:
    return (
        staff.visible is None
        or not draft.regions
        or draft.created_by == staff.name
        or any(staff.can_see_region(r) for r in draft.regions)
    )


def _sync(request: Request) -> KnowledgeSync:
    sync = runtime(request).knowledge_sync
    assert sync is not None, "the server starts it before taking requests"
    return sync


# ── validation ────────────────────────────────────────────────────────────────────────────────


async def _candidate(
    request: Request, session: AsyncSession, draft: NoticeDraft
) -> tuple[dict[str, Any], KnowledgeBase | None, list[LoadProblem]]:
    """The mapping the draft would publish (with its version number), and the knowledge base it
    would make or the problems that stop it: `kb check`'s, plus a summary for candidates."""
    mapping = reviewed_mapping(draft.data, draft.decisions)
    doc_no = str(mapping.get("doc_no") or "")
    version = await store.next_version(session, doc_no) if doc_no else 1
    mapping["version"] = version
    name = citation(doc_no or f"草稿 {draft.id}", version)
    live = [
        PublishedNotice.of(v.data, v.doc_no, v.version)
        for v in await store.live_versions(session)
        if v.doc_no != doc_no  # the version this one replaces
    ]
    sync = _sync(request)
    kb, problems = check_candidate(PublishedNotice(mapping, name), sync.shipped, live, sync.regions)
    if not str(mapping.get("summary") or "").strip():
        problems = [LoadProblem(name, "summary", "本文概要（summary）不能为空：用一两句话说明通知的内容"), *problems]
        kb = None
    return mapping, kb, problems


# ── the list and new drafts ──────────────────────────────────────────────────────────────────


@staff_page()
async def notice_list(request: Request, staff: Staff) -> Response:
    async with database(request).sessions() as session:
        drafts = [d for d in await store.list_drafts(session) if _may_see(staff, d)]
        versions = await store.list_versions(session)
    registry = regions(request)
    choices = [name for name in registry.regions if staff.visible is None or staff.can_see_region(name)]
    return render(
        request,
        "notices.html",
        {
            "drafts": drafts,
            "versions": versions,
            "region_choices": choices,
            "max_kib": MAX_NOTICE_BYTES // 1024,
            "status_labels": STATUS_LABELS,
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
    registry = regions(request)
    region = form_text(form, "region", limit=32) or None
    if region is not None and (region not in registry.regions or not staff.can_see_region(region)):
        return flash(back, "请从列表中选择您负责的地区。", kind="error")
    drafted = draft_notice(text, region=region, registry=registry)
    datas = [jsonable(n.to_data()) for n in drafted.notices]
    outside = sorted({r for d in datas for r in d.get("regions") or [] if not staff.can_see_region(r)})
    if outside:
        message = f"该通知的地区（{'、'.join(outside)}）不在您负责的范围内，请联系管理员或负责该地区的审核员。"
        return flash(back, message, kind="error")
    at = now(request)
    kb = knowledge(request).kb
    created: list[NoticeDraft] = []
    async with database(request).transaction() as session:
        open_drafts = await store.list_drafts(session)
        for data in datas:
            # Fact ids must be unique across the knowledge base: a prefix another notice uses
            # (two bureaus' 5号 both draft as yue5.*) is made unique before anyone refers to it.
            doc_no = data.get("doc_no")
            taken = {e.fact.id.split(".", 1)[0] for e in kb.entries if e.doc_no != doc_no}
            taken |= {fact_prefix(d.data) or "" for d in open_drafts if d.doc_no != doc_no} | {
                fact_prefix(c.data) or "" for c in created
            }
            draft = await store.create_draft(
                session, source_name=source, source_text=text, data=unique_prefix(data, taken), by=staff.name, now=at
            )
            created.append(draft)
            await append_entry(
                session,
                at=at,
                actor=staff.name,
                action="notice.draft_create",
                target_type="notice_draft",
                target_id=draft.id,
                after={"doc_no": draft.doc_no, "title": draft.title, "regions": draft.regions},
                note=source,
            )
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
        return error_page(request, 413, f"上传的内容过大：通知正文不能超过 {MAX_NOTICE_BYTES // 1024} KiB。")
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return await _create_draft(Request(request.scope, replay))


# ── a draft ──────────────────────────────────────────────────────────────────────────────────


def _supersede_choices(kb: KnowledgeBase, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Live notices of the draft's regions (or around or inside them) that it may supersede."""
    own = data.get("regions") or []
    chosen = list(data.get("supersedes") or [])
    out = []
    for notice in kb.notices.values():
        if notice.doc_no == data.get("doc_no"):
            continue
        near = any(kb.regions.contains(a, b) or kb.regions.contains(b, a) for a in own for b in notice.regions)
        if near or notice.doc_no in chosen:
            out.append(
                {
                    "doc_no": notice.doc_no,
                    "label": f"{citation(notice.doc_no, notice.version)} {notice.title}（{'、'.join(notice.regions)}）",
                    "checked": notice.doc_no in chosen,
                }
            )
    known = {c["doc_no"] for c in out}
    out += [{"doc_no": d, "label": f"{d}（已不在知识库中）", "checked": True} for d in chosen if d not in known]
    return out


@staff_page()
async def draft_page(request: Request, staff: Staff) -> Response:
    draft_id = int(request.path_params["draft_id"])
    async with database(request).sessions() as session:
        draft = await store.get_draft(session, draft_id)
        if draft is None or not _may_see(staff, draft):
            return error_page(request, 404, "没有这份草稿。")
        mapping, _, problems = await _candidate(request, session, draft)
        version = await store.version_of_draft(session, draft.id)
    header_problems, fact_problems = problems_by_fact(problems, mapping)
    data = draft.data
    decisions = draft.decisions
    counts = dict.fromkeys(DECISION_LABELS.values(), 0)
    for fact in data.get("facts") or []:
        counts[DECISION_LABELS[decisions.get(str(fact.get("id")), "")]] += 1
    editable = draft.status == store.DRAFT and _may_edit(staff, draft.regions)
    return render(
        request,
        "notice_draft.html",
        {
            "draft": draft,
            "header": {key: data.get(key) for key in HEADER_KEYS},
            "facts": fact_views(data, decisions, fact_problems),
            "header_problems": header_problems,
            "problem_count": len(problems),
            "counts": counts,
            "next_version": mapping["version"],
            "supersede_choices": _supersede_choices(knowledge(request).kb, data),
            "editable": editable,
            "can_publish": editable and staff.role == ADMIN,
            "version": version,
            "status_labels": STATUS_LABELS,
            "decision_labels": DECISION_LABELS,
            "kind_labels": KIND_LABELS,
            "bound_labels": BOUND_LABELS,
            "unit_labels": UNIT_LABELS,
            "direction_labels": DIRECTION_LABELS,
        },
    )


async def _save(request: Request, staff: Staff, draft_id: int) -> Response | None:
    """Applies the submitted form to the draft; a response when it could not (else None)."""
    form = await request.form()
    back = redirect(request, "notice_draft", draft_id=draft_id)
    revision = form_text(form, "revision", limit=12)
    at = now(request)
    async with database(request).transaction() as session:
        draft = await store.get_draft(session, draft_id, lock=True)
        if draft is None or not _may_see(staff, draft):
            return error_page(request, 404, "没有这份草稿。")
        if draft.status != store.DRAFT:
            return flash(back, f"这份草稿{STATUS_LABELS[draft.status]}，不能再修改。", kind="error")
        if not _may_edit(staff, draft.regions):
            return flash(back, "这份草稿的地区不在您负责的范围内。", kind="error")
        data, decisions = apply_form(draft.data, draft.decisions, form, regions(request))
        outside = [r for r in data.get("regions") or [] if not staff.can_see_region(r)]
        if outside:
            return flash(back, f"不能把地区设为您负责范围以外的 {'、'.join(outside)}，未保存。", kind="error")
        if not revision.isdigit() or int(revision) != draft.revision:
            message = f"这份草稿已被 {draft.updated_by} 于您打开页面之后修改，您这次的修改未保存。请核对后重新修改。"
            return flash(back, message, kind="error")
        before = _draft_snapshot(draft)
        await store.save_draft(
            session, draft, data=data, decisions=decisions, by=staff.name, now=at, expected_revision=draft.revision
        )
        await append_entry(
            session,
            at=at,
            actor=staff.name,
            action="notice.draft_save",
            target_type="notice_draft",
            target_id=draft.id,
            before=before,
            after=_draft_snapshot(draft),
        )
    return None


def _draft_snapshot(draft: NoticeDraft) -> dict[str, Any]:
    facts = [str(f.get("id")) for f in draft.data.get("facts") or []]
    return {
        "doc_no": draft.doc_no,
        "title": draft.title,
        "regions": list(draft.regions),
        "status": STATUS_LABELS.get(draft.status, draft.status),
        "accepted": sum(draft.decisions.get(f) == ACCEPT for f in facts),
        "rejected": sum(draft.decisions.get(f) == "reject" for f in facts),
    }


@staff_page(roles=WRITERS)
async def save_draft(request: Request, staff: Staff) -> Response:
    draft_id = int(request.path_params["draft_id"])
    refused = await _save(request, staff, draft_id)
    return refused or flash(redirect(request, "notice_draft", draft_id=draft_id), "已保存。")


@staff_page(roles=[ADMIN])
async def publish_draft(request: Request, staff: Staff) -> Response:
    """Saves the form, then publishes if the draft passes validation; otherwise the draft page
    lists what stops it, per fact."""
    draft_id = int(request.path_params["draft_id"])
    refused = await _save(request, staff, draft_id)
    if refused is not None:
        return refused
    back = redirect(request, "notice_draft", draft_id=draft_id)
    at = now(request)
    async with database(request).transaction() as session:
        await store.lock_publishing(session)
        draft = await store.get_draft(session, draft_id, lock=True)
        assert draft is not None  # _save found it, and drafts are never deleted
        if draft.status != store.DRAFT:  # another admin published it between the save and the lock
            return flash(back, f"这份草稿{STATUS_LABELS[draft.status]}。", kind="error")
        mapping, kb, problems = await _candidate(request, session, draft)
        if kb is None:
            message = f"未能发布：还有 {len(problems)} 个问题，已在下方各条目旁列出。已保存您的修改。"
            return flash(back, message, kind="error")
        doc_no = str(mapping["doc_no"])
        data = jsonable(mapping)
        version = await store.publish(session, draft=draft, doc_no=doc_no, data=data, by=staff.name, now=at)
        await append_entry(
            session,
            at=at,
            actor=staff.name,
            action="notice.publish",
            target_type="notice",
            target_id=f"{doc_no}#{version.version}",
            after={
                "doc_no": doc_no,
                "version": version.version,
                "title": version.title,
                "regions": list(version.regions),
                "facts": len(mapping["facts"]),
                "supersedes": list(mapping.get("supersedes") or []),
            },
            note=f"草稿 {draft.id}" + (f"，取代第 {version.version - 1} 版" if version.supersedes_id else ""),
        )
        name = citation(doc_no, version.version)
        version_id = version.id
    sync = _sync(request)
    await sync.refresh()  # this process answers from it at once
    done = f"已发布 {name}，机器人已开始使用；其他服务进程将在 {int(sync.interval)} 秒内更新。"
    return flash(redirect(request, "notice_version", version_id=version_id), done)


@staff_page(roles=WRITERS)
async def discard_draft(request: Request, staff: Staff) -> Response:
    draft_id = int(request.path_params["draft_id"])
    at = now(request)
    async with database(request).transaction() as session:
        draft = await store.get_draft(session, draft_id, lock=True)
        if draft is None or not _may_see(staff, draft):
            return error_page(request, 404, "没有这份草稿。")
        back = redirect(request, "notice_draft", draft_id=draft_id)
        if draft.status != store.DRAFT:
            return flash(back, f"这份草稿{STATUS_LABELS[draft.status]}，不能放弃。", kind="error")
        if not _may_edit(staff, draft.regions):
            return flash(back, "这份草稿的地区不在您负责的范围内。", kind="error")
        before = _draft_snapshot(draft)
        await store.discard_draft(session, draft, by=staff.name, now=at)
        await append_entry(
            session,
            at=at,
            actor=staff.name,
            action="notice.draft_discard",
            target_type="notice_draft",
            target_id=draft.id,
            before=before,
            after=_draft_snapshot(draft),
        )
    return flash(redirect(request, "notices"), "已放弃这份草稿（记录保留）。")


# ── published versions ───────────────────────────────────────────────────────────────────────


def _version_status(version: NoticeVersion) -> str:
    if version.withdrawn_at is not None:
        return "已撤回"
    if version.superseded_at is not None:
        return "已被新版本取代"
    return "生效中"


@staff_page()
async def version_page(request: Request, staff: Staff) -> Response:
    version_id = int(request.path_params["version_id"])
    async with database(request).sessions() as session:
        version = await store.get_version(session, version_id)
        if version is None:
            return error_page(request, 404, "没有这个已发布的版本。")
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
            "status": _version_status(version),
            "live": live,
            "facts": fact_views(version.data, {}, {}),
            "others": [{"v": v, "name": citation(v.doc_no, v.version), "status": _version_status(v)} for v in others],
            "successors": successors,
            "in_kb": live and version.doc_no in kb.notices,
            "can_withdraw": live and staff.role == ADMIN,
            "can_revise": _may_edit(staff, list(version.regions)),
            "kind_labels": KIND_LABELS,
        },
    )


@staff_page(roles=[ADMIN])
async def withdraw_version(request: Request, staff: Staff) -> Response:
    version_id = int(request.path_params["version_id"])
    form = await request.form()
    reason = form_text(form, "reason", limit=500)
    back = redirect(request, "notice_version", version_id=version_id)
    if not reason:
        return flash(back, "请填写撤回原因。", kind="error")
    at = now(request)
    async with database(request).transaction() as session:
        await store.lock_publishing(session)
        version = await store.get_version(session, version_id)
        if version is None:
            return error_page(request, 404, "没有这个已发布的版本。")
        if version.withdrawn_at is not None or version.superseded_at is not None:
            return flash(back, f"这个版本{_version_status(version)}，无需撤回。", kind="error")
        await store.withdraw(session, version, by=staff.name, now=at, reason=reason)
        name = citation(version.doc_no, version.version)
        await append_entry(
            session,
            at=at,
            actor=staff.name,
            action="notice.withdraw",
            target_type="notice",
            target_id=f"{version.doc_no}#{version.version}",
            before={"status": "生效中"},
            after={"status": "已撤回"},
            note=reason,
        )
    sync = _sync(request)
    await sync.refresh()
    return flash(back, f"已撤回 {name}：机器人不再按它回答（其他服务进程将在 {int(sync.interval)} 秒内更新）。")


@staff_page(roles=WRITERS)
async def revise_version(request: Request, staff: Staff) -> Response:
    """修改: a new draft from a published version, its facts already accepted. The version itself
    never changes; publishing the draft makes the next version."""
    version_id = int(request.path_params["version_id"])
    at = now(request)
    async with database(request).transaction() as session:
        version = await store.get_version(session, version_id)
        if version is None:
            return error_page(request, 404, "没有这个已发布的版本。")
        if not _may_edit(staff, list(version.regions)):
            return flash(
                redirect(request, "notice_version", version_id=version_id),
                "这份通知的地区不在您负责的范围内。",
                kind="error",
            )
        source = await store.get_draft(session, version.draft_id) if version.draft_id else None
        data = copy.deepcopy(version.data)
        data.pop("version", None)  # set again when the draft is published
        decisions = {str(f.get("id")): ACCEPT for f in data.get("facts") or []}
        draft = await store.create_draft(
            session,
            source_name=source.source_name if source else citation(version.doc_no, version.version),
            source_text=source.source_text if source else "",
            data=data,
            decisions=decisions,
            by=staff.name,
            now=at,
            base=version,
        )
        await append_entry(
            session,
            at=at,
            actor=staff.name,
            action="notice.revise",
            target_type="notice_draft",
            target_id=draft.id,
            after={"doc_no": draft.doc_no, "title": draft.title, "regions": draft.regions},
            note=f"据 {citation(version.doc_no, version.version)} 修改",
        )
    message = "已据此版本创建新草稿。修改后发布，即成为新版本；原版本保持不变。"
    return flash(redirect(request, "notice_draft", draft_id=draft.id), message)


routes: list[BaseRoute] = [
    Route("/notices", notice_list, methods=["GET", "HEAD"], name="notices"),
    Route("/notices/drafts", create_draft, methods=["POST"], name="notice_draft_create"),
    Route("/notices/drafts/{draft_id:int}", draft_page, methods=["GET", "HEAD"], name="notice_draft"),
    Route("/notices/drafts/{draft_id:int}", save_draft, methods=["POST"], name="notice_draft_save"),
    Route("/notices/drafts/{draft_id:int}/publish", publish_draft, methods=["POST"], name="notice_publish"),
    Route("/notices/drafts/{draft_id:int}/discard", discard_draft, methods=["POST"], name="notice_draft_discard"),
    Route("/notices/published/{version_id:int}", version_page, methods=["GET", "HEAD"], name="notice_version"),
    Route("/notices/published/{version_id:int}/withdraw", withdraw_version, methods=["POST"], name="notice_withdraw"),
    Route("/notices/published/{version_id:int}/revise", revise_version, methods=["POST"], name="notice_revise"),
]
