"""The files the notices ask for, from the request list's filters: the XLSX list of requests and the
confirmed declarations as PDF (all of a filtered batch, or one request's).

Full ID numbers and phones only for admins who ask for them (`full=1`); everyone else gets the
masked forms. Every export is audited with its filters and row count before a byte is sent.

The XLSX is written by openpyxl in a worker thread into a spooled temporary file while the rows come
from the database a chunk at a time, then streamed with its length (so the browser shows progress):
memory holds one chunk of rows, whatever the size of the export."""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import IO
from urllib.parse import quote

import anyio.from_thread
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from bot.console.auth import Staff, staff_page
from bot.console.exports import DECLARATION_TITLE, declaration_pdf, declarations_pdf, write_requests_xlsx
from bot.console.request_filters import ListQuery, parse_filters
from bot.console.state import database, now, regions, runtime
from bot.console.templates import error_page, flash, redirect
from knowledge.timezone import SHANGHAI
from storage import request_queries as queries
from storage.audit import append_entry
from storage.declarations import DeclarationDoc, ExportRow
from storage.models import WithdrawalRequest

XLSX_TITLE = "退考退费申请名单"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK_ROWS = 500
SPOOL_MEMORY = 4 * 1024 * 1024
"""Bytes of XLSX kept in memory before the spooled file moves to disk."""
SEND_BYTES = 64 * 1024
PDF_CAP = 2_000
"""Declarations per PDF: one page each, built in memory; beyond this staff split the batch."""
NOT_FOUND = "没有找到这份申请：它不存在，或不在您负责的地区。"


def _full(request: Request, staff: Staff) -> bool:
    """Full numbers only for admins, and only when asked: a masked copy is the safer default to pass on."""
    return staff.is_admin and request.query_params.get("full") == "1"


def _attachment(filename: str, fallback: str) -> str:
    # filename* (RFC 6266/5987) carries the Chinese name; old clients fall back to the ASCII one.
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


def _stamp(request: Request) -> str:
    return now(request).astimezone(SHANGHAI).strftime("%Y%m%d-%H%M")


async def _audit_export(
    request: Request, staff: Staff, *, action: str, query: ListQuery | None, rows: int, full: bool, note: str
) -> None:
    async with database(request).transaction() as session:
        await append_entry(
            session,
            at=now(request),
            actor=staff.name,
            action=action,
            target_type="request",
            after={
                "filters": query.description() if query else None,
                "rows": rows,
                "full_numbers": full,
            },
            note=note,
        )


async def _write_xlsx(request: Request, query: ListQuery, *, full: bool) -> tuple[IO[bytes], int]:
    """The XLSX of every request matching `query`, in a spooled file positioned at its start."""
    cipher = runtime(request).services.cipher
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)  # noqa: SIM115 - closed by the caller
    try:
        async with database(request).sessions() as session:
            chunks = queries.stream_requests(session, query.filter, chunk=CHUNK_ROWS)

            async def next_chunk() -> Sequence[WithdrawalRequest] | None:
                return await anext(chunks, None)

            def rows() -> Iterator[ExportRow]:
                # Runs in the worker thread: each chunk is fetched on the event loop, decrypted here.
                while (chunk := anyio.from_thread.run(next_chunk)) is not None:
                    for wr in chunk:
                        yield ExportRow.from_request(wr, cipher, reveal=full)

            def write() -> int:
                return write_requests_xlsx(
                    rows(), spool, title=XLSX_TITLE, institution=query.filter.institution, period=query.period
                )

            try:
                count = await anyio.to_thread.run_sync(write)
            finally:
                await chunks.aclose()
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spool, count


async def _send(spool: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        while chunk := await anyio.to_thread.run_sync(spool.read, SEND_BYTES):
            yield chunk
    finally:
        spool.close()


@staff_page()
async def export_xlsx(request: Request, staff: Staff) -> Response:
    query = _for_export(request, parse_filters(request.query_params, staff, regions(request)))
    full = _full(request, staff)
    spool, count = await _write_xlsx(request, query, full=full)
    try:
        await _audit_export(
            request,
            staff,
            action="request.export_xlsx",
            query=query,
            rows=count,
            full=full,
            note=f"导出 XLSX {count} 行{'（含完整身份证号）' if full else '（身份证号已隐藏）'}",
        )
        size = spool.seek(0, 2)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    headers = {
        "content-disposition": _attachment(f"{XLSX_TITLE}-{_stamp(request)}.xlsx", "requests.xlsx"),
        "content-length": str(size),
    }
    return StreamingResponse(_send(spool), media_type=XLSX_TYPE, headers=headers)


def _for_export(request: Request, query: ListQuery) -> ListQuery:
    """Rejected requests stay out of what is sent to the guidance centre unless the form asks for them
    (包含未通过的申请) or the status filter is 未通过 itself."""
    if request.query_params.get("rejected") == "1":
        return query
    return dataclasses.replace(query, filter=dataclasses.replace(query.filter, without_rejected=True))


def _pdf(data: bytes, filename: str, fallback: str) -> Response:
    return Response(
        data, media_type="application/pdf", headers={"content-disposition": _attachment(filename, fallback)}
    )


@staff_page()
async def export_declarations(request: Request, staff: Staff) -> Response:
    """One PDF of the declarations of every request the filters match, one page each, oldest first."""
    query = _for_export(request, parse_filters(request.query_params, staff, regions(request)))
    full = _full(request, staff)
    back = redirect(request, "requests", query=query.query_string())
    cipher = runtime(request).services.cipher
    docs: list[DeclarationDoc] = []
    async with database(request).sessions() as session:
        count = await queries.count_requests(session, query.filter)
        if count > PDF_CAP:
            return flash(
                back,
                f"符合条件的申请有 {count:,} 份，超过单个 PDF 的上限 {PDF_CAP:,} 份。"
                "请缩小筛选范围（例如按报考机构或提交日期分批）后再导出弃考声明。",
                kind="error",
            )
        async for chunk in queries.stream_requests(session, query.filter, chunk=CHUNK_ROWS):
            docs.extend(DeclarationDoc.from_request(wr, cipher, reveal=full) for wr in chunk)
    if not docs:
        return flash(back, "没有符合条件的申请，无法生成弃考声明 PDF。", kind="error")
    data = await anyio.to_thread.run_sync(declarations_pdf, docs)
    await _audit_export(
        request,
        staff,
        action="request.export_pdf",
        query=query,
        rows=len(docs),
        full=full,
        note=f"导出弃考声明 PDF {len(docs)} 份{'（含完整身份证号）' if full else '（身份证号已隐藏）'}",
    )
    return _pdf(data, f"{DECLARATION_TITLE}-{_stamp(request)}.pdf", "declarations.pdf")


@staff_page()
async def declaration(request: Request, staff: Staff) -> Response:
    """One request's declaration as the candidate confirmed it, with its verification code."""
    full = _full(request, staff)
    request_id = int(request.path_params["request_id"])
    async with database(request).sessions() as session:
        wr = await queries.find_request(session, request_id=request_id, visible=staff.visible)
    if wr is None:
        return error_page(request, 404, NOT_FOUND)
    doc = DeclarationDoc.from_request(wr, runtime(request).services.cipher, reveal=full)
    data = await anyio.to_thread.run_sync(declaration_pdf, doc)
    async with database(request).transaction() as session:
        await append_entry(
            session,
            at=now(request),
            actor=staff.name,
            action="request.declaration_pdf",
            target_type="request",
            target_id=wr.id,
            after={"full_numbers": full},
            note=f"{wr.reference} 下载弃考声明 PDF{'（含完整身份证号）' if full else ''}",
        )
    # The two prints of one request must not overwrite each other in a downloads folder.
    kind, ascii_kind = ("完整", "full") if full else ("已隐藏身份证号", "masked")
    return _pdf(data, f"{DECLARATION_TITLE}-{wr.reference}-{kind}.pdf", f"{wr.reference}-{ascii_kind}.pdf")


routes: list[BaseRoute] = [
    Route("/requests/export.xlsx", export_xlsx, methods=["GET", "HEAD"], name="requests_export"),
    Route("/requests/declarations.pdf", export_declarations, methods=["GET", "HEAD"], name="requests_declarations"),
    Route(
        "/requests/{request_id:rowid}/declaration.pdf", declaration, methods=["GET", "HEAD"], name="request_declaration"
    ),
]
