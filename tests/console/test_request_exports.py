"""The exports of /admin/requests over HTTP: the XLSX list (read back with openpyxl) and the
declaration PDFs (read back with pypdf), with the list's filters, region scoping, full numbers for
admins only, the batch cap, and an audit entry for every export."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from starlette.applications import Starlette

from bot.console.exports import HEADINGS
from bot.console.pages import request_exports
from knowledge.timezone import SHANGHAI
from storage.declarations import verification_code
from tests.console.conftest import SQLITE_ONLY, SignedIn
from tests.console.request_helpers import audit_entries, cipher_of, flash_after, store_request
from tests.dialogs import make_id_number

LI = make_id_number("440103", dt.date(1990, 1, 1), 501)
WANG = make_id_number("440106", dt.date(1985, 6, 30), 502)
CHEN = make_id_number("350102", dt.date(1992, 3, 3), 503)


def sheet_rows(response: httpx.Response) -> list[list[Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert int(response.headers["content-length"]) == len(response.content)
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    return [[c.value for c in row] for row in sheet.iter_rows()]


def pdf_text(response: httpx.Response) -> list[str]:
    from pypdf import PdfReader

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    return ["".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(response.content)).pages]


@pytest.fixture
async def three(app: Starlette) -> dict[str, Any]:
    """李四 (Guangzhou, school A, submitted 2026-02-03), 王五 (Guangzhou, school B, approved, 02-10),
    陈七 (Fujian, school A, 02-20)."""
    when = lambda day: dt.datetime(2026, 2, day, 10, 0, tzinfo=SHANGHAI)  # noqa: E731
    return {
        "li": await store_request(app, name="李四", id_number=LI, institution="学校甲", confirmed=when(3)),
        "wang": await store_request(
            app, name="王五", id_number=WANG, institution="学校乙", confirmed=when(10), status="approved"
        ),
        "chen": await store_request(
            app, name="陈七", id_number=CHEN, region="福建省", institution="学校甲", confirmed=when(20)
        ),
    }


async def test_an_admin_exports_full_numbers_for_an_institution_and_period(
    app: Starlette, signed_in: SignedIn, three: dict[str, Any]
) -> None:
    admin = await signed_in("admin", name="boss")
    params = {"institution": "学校甲", "from": "2026-02-01", "to": "2026-02-28", "full": "1"}
    response = await admin.get("/admin/requests/export.xlsx", params=params)
    rows = sheet_rows(response)
    assert "attachment" in response.headers["content-disposition"]
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    assert rows[0][0] == "退考退费申请名单　报考机构：学校甲　申请时间：2026-02-01 至 2026-02-28"
    assert tuple(rows[1]) == HEADINGS
    # Oldest first, numbered; only school A.
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in rows[2:]] == [
        (1, three["li"].reference, "广州市", "李四", LI),
        (2, three["chen"].reference, "福建省", "陈七", CHEN),
    ]
    assert rows[2][10] == "13812345678" and rows[2][12] == "已提交，待审核"
    assert rows[2][11] == dt.datetime(2026, 2, 3, 10, 0)  # Beijing wall-clock time

    [entry] = await audit_entries(app, "request.export_xlsx")
    assert entry.actor == "boss" and entry.after is not None
    assert entry.after["rows"] == 2 and entry.after["full_numbers"] is True
    assert "报考机构：学校甲" in entry.after["filters"] and "提交日期起：2026-02-01" in entry.after["filters"]
    assert LI not in str(entry.after) + (entry.note or "")


async def test_others_get_masked_numbers_of_their_regions_only(
    app: Starlette, signed_in: SignedIn, three: dict[str, Any]
) -> None:
    reviewer = await signed_in("reviewer", regions=["广州市"])
    rows = sheet_rows(await reviewer.get("/admin/requests/export.xlsx", params={"full": "1"}))
    assert "已部分隐藏" in rows[0][0]
    assert [r[3] for r in rows[2:]] == ["李四", "王五"]  # no Fujian row
    content = str(rows)
    assert LI not in content and WANG not in content and "13812345678" not in content
    assert rows[2][4] == three["li"].id_number_masked and rows[2][10] == "138****5678"
    [entry] = await audit_entries(app, "request.export_xlsx")
    assert entry.after is not None and entry.after["full_numbers"] is False and entry.after["rows"] == 2

    viewer = await signed_in("viewer")
    rows = sheet_rows(await viewer.get("/admin/requests/export.xlsx", params={"status": "approved", "full": "1"}))
    assert [r[3] for r in rows[2:]] == ["王五"] and WANG not in str(rows)


@SQLITE_ONLY
async def test_the_xlsx_is_read_in_chunks(
    app: Starlette, signed_in: SignedIn, three: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(request_exports, "CHUNK_ROWS", 2)
    for i in range(4):
        await store_request(app, name=f"张{i}", confirmed=dt.datetime(2026, 2, 25, 10, i, tzinfo=SHANGHAI))
    admin = await signed_in("admin")
    rows = sheet_rows(await admin.get("/admin/requests/export.xlsx"))
    assert [r[3] for r in rows[2:]] == ["李四", "王五", "陈七", "张0", "张1", "张2", "张3"]
    assert [r[0] for r in rows[2:]] == list(range(1, 8))


async def test_an_empty_export_is_still_a_workbook(app: Starlette, signed_in: SignedIn) -> None:
    admin = await signed_in("admin")
    rows = sheet_rows(await admin.get("/admin/requests/export.xlsx", params={"q": "没有这个人"}))
    assert tuple(rows[1]) == HEADINGS and len(rows) == 2


async def test_a_declaration_pdf_prints_the_confirmed_text_and_code(
    app: Starlette, signed_in: SignedIn, three: dict[str, Any]
) -> None:
    li = three["li"]
    code = verification_code(cipher_of(app), li)
    admin = await signed_in("admin")
    [page] = pdf_text(await admin.get(f"/admin/requests/{li.id}/declaration.pdf"))
    assert "个人弃考声明" in page and f"受理编号：{li.reference}" in page and f"校验码：{code}" in page
    assert li.id_number_masked in page and LI not in page and "本人清楚选择弃考后不可变更" in page
    [full] = pdf_text(await admin.get(f"/admin/requests/{li.id}/declaration.pdf", params={"full": "1"}))
    assert LI in full and f"校验码：{code}" in full

    reviewer = await signed_in("reviewer", regions=["广东省"])
    [masked] = pdf_text(await reviewer.get(f"/admin/requests/{li.id}/declaration.pdf", params={"full": "1"}))
    assert LI not in masked
    assert (await reviewer.get(f"/admin/requests/{three['chen'].id}/declaration.pdf")).status_code == 404
    entries = await audit_entries(app, "request.declaration_pdf")
    assert [(e.target_id, (e.after or {}).get("full_numbers")) for e in entries] == [
        (str(li.id), False),
        (str(li.id), True),
        (str(li.id), False),
    ]


async def test_the_batch_pdf_has_one_page_per_filtered_declaration(
    app: Starlette, signed_in: SignedIn, three: dict[str, Any]
) -> None:
    admin = await signed_in("admin")
    pages = pdf_text(await admin.get("/admin/requests/declarations.pdf", params={"institution": "学校甲"}))
    assert [bool(re.search(three[k].reference, p)) for k, p in zip(("li", "chen"), pages, strict=True)] == [True, True]
    assert len(pages) == 2 and "第1页/共2页" in pages[0]
    [entry] = await audit_entries(app, "request.export_pdf")
    assert entry.after is not None and entry.after["rows"] == 2 and "报考机构：学校甲" in entry.after["filters"]

    reviewer = await signed_in("reviewer", regions=["福建省"])
    [page] = pdf_text(await reviewer.get("/admin/requests/declarations.pdf"))
    assert three["chen"].reference in page and CHEN not in page

    empty = await admin.get("/admin/requests/declarations.pdf", params={"q": "没有这个人"})
    assert "没有符合条件的申请" in await flash_after(admin, empty)


@SQLITE_ONLY
async def test_a_batch_over_the_cap_is_refused_with_a_way_forward(
    app: Starlette, signed_in: SignedIn, three: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(request_exports, "PDF_CAP", 2)
    admin = await signed_in("admin")
    response = await admin.get("/admin/requests/declarations.pdf", params={"region": "广东省"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"  # 2: at the cap
    over = await admin.get("/admin/requests/declarations.pdf")
    assert over.headers["location"] == "/admin/requests"
    shown = await flash_after(admin, over)
    assert "符合条件的申请有 3 份，超过单个 PDF 的上限 2 份" in shown and "缩小筛选范围" in shown
    assert len(await audit_entries(app, "request.export_pdf")) == 1


async def test_rejected_requests_stay_out_unless_asked_and_the_two_prints_have_their_own_names(
    app: Starlette, signed_in: SignedIn, three: dict[str, Any]
) -> None:
    rejected = await store_request(
        app, name="赵六", confirmed=dt.datetime(2026, 2, 26, 10, tzinfo=SHANGHAI), status="rejected"
    )
    admin = await signed_in("admin")
    names = [r[3] for r in sheet_rows(await admin.get("/admin/requests/export.xlsx"))[2:]]
    assert "赵六" not in names and "李四" in names
    asked = [r[3] for r in sheet_rows(await admin.get("/admin/requests/export.xlsx", params={"rejected": "1"}))[2:]]
    assert "赵六" in asked
    only = [r[3] for r in sheet_rows(await admin.get("/admin/requests/export.xlsx", params={"status": "rejected"}))[2:]]
    assert only == ["赵六"], "the 未通过 filter itself lists them"
    pages = pdf_text(await admin.get("/admin/requests/declarations.pdf"))
    assert not any(rejected.reference in p for p in pages)
    assert all("办理状态：" in p for p in pages), "each page says its status"
    # The export form leaves full numbers and rejected requests unticked.
    listing = (await admin.get("/admin/requests")).text
    assert 'name="full" value="1" checked' not in listing and 'name="rejected" value="1" checked' not in listing
    li = three["li"]
    masked = await admin.get(f"/admin/requests/{li.id}/declaration.pdf")
    full = await admin.get(f"/admin/requests/{li.id}/declaration.pdf", params={"full": "1"})
    assert f"{li.reference}-masked.pdf" in masked.headers["content-disposition"]
    assert f"{li.reference}-full.pdf" in full.headers["content-disposition"]
