"""The console's exports: the request list as XLSX and the confirmed declarations as PDF, built from
requests stored in a real database with real encryption, and read back with openpyxl and pypdf."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.console.exports import (
    DECLARATION_TITLE,
    HEADINGS,
    declaration_pdf,
    declarations_pdf,
    requests_xlsx,
)
from knowledge.base import KnowledgeBase
from knowledge.timezone import SHANGHAI
from knowledge.withdrawal import withdrawal_rules
from knowledge.workdays import format_date
from storage.database import Database
from storage.declarations import CODE_ALPHABET, DeclarationDoc, ExportRow, verification_code, verify
from storage.masking import mask_id_number, mask_phone
from storage.models import WithdrawalRequest
from storage.pii import PiiCipher
from storage.requests import NewRequest, create_request
from tests.dialogs import make_id_number

CIPHER = PiiCipher(bytes(range(32)))
# 10:30:15 in Beijing; the microseconds check that the code survives the database round trip.
CONFIRMED = dt.datetime(2017, 9, 25, 2, 30, 15, 123456, tzinfo=dt.UTC)
EXAM = dt.date(2017, 10, 15)
ZHANG = make_id_number("110105", dt.date(1949, 12, 31), 2)
LI = make_id_number("440103", dt.date(1990, 1, 1), 123)
WANG = make_id_number("440106", dt.date(1985, 6, 30), 77)
CODE = re.compile(rf"[{CODE_ALPHABET}]{{4}}-[{CODE_ALPHABET}]{{4}}-[{CODE_ALPHABET}]{{4}}")


async def store(
    db: Database,
    kb: KnowledgeBase,
    *,
    name: str,
    id_number: str,
    phone: str = "13812345678",
    occupation: str = "电工",
    institution: str = "广州市第一技工学校",
    receipt_no: str | None = "00012345678901234567",
    confirmed: dt.datetime = CONFIRMED,
) -> WithdrawalRequest:
    """Stores a request the way the withdrawal form does, with Guangzhou's declaration wording."""
    rules = withdrawal_rules(kb, "广州市")
    assert rules is not None
    values = {"姓名": name, "身份证号": id_number, "原定考试日期": format_date(EXAM), "职业": occupation}
    new = NewRequest(
        channel="test",
        user_id=f"u-{id_number}",
        name=name,
        id_number=id_number,
        phone=phone,
        region="广州市",
        doc_no=rules.doc_no,
        occupation=occupation,
        occupation_listed=False,
        level="四级/中级工",
        exam_date=EXAM,
        institution=institution,
        receipt_no=receipt_no,
        deadline=rules.deadline,
        declaration=rules.declaration(values),
    )
    today = confirmed.astimezone(SHANGHAI).date()
    async with db.transaction() as session:
        return await create_request(session, new, cipher=CIPHER, now=confirmed, today=today)


async def set_status(db: Database, request_id: int, status: str, refunded_on: dt.date | None = None) -> None:
    async with db.transaction() as session:
        request = await session.get(WithdrawalRequest, request_id)
        assert request is not None
        request.status, request.refunded_on = status, refunded_on


async def load(db: Database) -> list[WithdrawalRequest]:
    async with db.sessions() as session:
        return list((await session.execute(select(WithdrawalRequest).order_by(WithdrawalRequest.id))).scalars())


@pytest.fixture
async def three(db: Database, kb: KnowledgeBase) -> list[WithdrawalRequest]:
    """张三 submitted, 李四 approved (no receipt number), 王五 refunded on 2017-11-02."""
    await store(db, kb, name="张三", id_number=ZHANG)
    li = await store(db, kb, name="李四", id_number=LI, phone="13900001111", receipt_no=None, occupation="秘书")
    wang = await store(db, kb, name="王五", id_number=WANG, phone="13700002222", receipt_no="0088")
    await set_status(db, li.id, "approved")
    await set_status(db, wang.id, "refunded", dt.date(2017, 11, 2))
    return await load(db)


def export(requests: list[WithdrawalRequest], *, reveal: bool = True) -> bytes:
    """The XLSX of `requests` without title details."""
    rows = [ExportRow.from_request(r, CIPHER, reveal=reveal) for r in requests]
    return requests_xlsx(rows, title="名单", institution=None, period=None)


def read_xlsx(data: bytes) -> list[list[object]]:
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    return [[c.value for c in row] for row in sheet.iter_rows()]


def pdf_pages(data: bytes) -> list[str]:
    # pypdf is a dev dependency; imported here so that the XLSX tests run without it.
    from pypdf import PdfReader

    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def squash(text: str) -> str:
    """Text without whitespace: the PDF wraps lines wherever the page width says."""
    return "".join(text.split())


# --- XLSX -----------------------------------------------------------------------------------------------------


async def test_xlsx_lists_the_requests_under_the_chinese_headings(three: list[WithdrawalRequest]) -> None:
    rows = [ExportRow.from_request(r, CIPHER, reveal=True) for r in three]
    data = requests_xlsx(
        rows,
        title="退考退费申请名单",
        institution="广州市第一技工学校",
        period=(dt.date(2017, 9, 1), dt.date(2017, 9, 30)),
    )
    wb = load_workbook(io.BytesIO(data))
    sheet = wb.active
    assert sheet is not None

    title = sheet["A1"].value
    assert isinstance(title, str)
    assert "退考退费申请名单" in title and "广州市第一技工学校" in title and "2017-09-01 至 2017-09-30" in title
    assert "隐藏" not in title
    assert [c.value for c in sheet[2]] == list(HEADINGS)
    assert [c.value for c in sheet[3]] == [
        1,
        three[0].reference,
        "广州市",
        "张三",
        ZHANG,
        "电工",
        "四级/中级工",
        dt.datetime(2017, 10, 15),
        "广州市第一技工学校",
        "00012345678901234567",
        "13812345678",
        dt.datetime(2017, 9, 25, 10, 30, 15, 123000),  # Beijing time; Excel keeps milliseconds
        "已提交，待审核",
        None,
    ]
    assert [c.value for c in sheet[4]][:5] == [2, three[1].reference, "广州市", "李四", LI]
    assert sheet["J4"].value is None and sheet["M4"].value == "已通过"
    assert sheet["M5"].value == "已退费" and sheet["N5"].value == dt.datetime(2017, 11, 2)
    assert sheet.max_row == 5

    # Numbers that look numeric stay text, so an 18-digit ID never becomes 1.1E+17 and "0088" keeps its zeros.
    for ref in ("E3", "J3", "K3", "E5", "J5"):
        assert sheet[ref].data_type == "s" and sheet[ref].number_format == "@", ref
    assert sheet["J5"].value == "0088"
    assert sheet["H3"].is_date and sheet["H3"].number_format == "yyyy-mm-dd"
    assert sheet["L3"].is_date and sheet["L3"].number_format == "yyyy-mm-dd hh:mm"
    assert sheet["N5"].is_date and sheet["N5"].number_format == "yyyy-mm-dd"

    assert sheet.freeze_panes == "A3"
    assert sheet.print_title_rows == "$1:$2" and sheet.page_setup.orientation == "landscape"
    assert sheet.auto_filter.ref == "A2:N5"
    assert "A1:N1" in {str(r) for r in sheet.merged_cells.ranges}
    assert sheet.column_dimensions["B"].width >= 18 and sheet.column_dimensions["E"].width >= 20
    assert sheet.column_dimensions["I"].width >= 20


async def test_masked_xlsx_holds_no_full_number_anywhere(three: list[WithdrawalRequest]) -> None:
    data = export(three, reveal=False)
    values = read_xlsx(data)
    assert "已部分隐藏" in str(values[0][0])
    assert [row[4] for row in values[2:]] == [mask_id_number(i) for i in (ZHANG, LI, WANG)]
    assert [row[10] for row in values[2:]] == [mask_phone(p) for p in ("13812345678", "13900001111", "13700002222")]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = "".join(archive.read(name).decode("utf-8") for name in archive.namelist())
    for secret in (ZHANG, LI, WANG, "13812345678", "13900001111"):
        assert secret not in xml


async def test_a_masked_row_never_decrypts(three: list[WithdrawalRequest]) -> None:
    # A cipher with another key could not decrypt anything: masked rows come from the masked columns alone.
    stranger = PiiCipher(bytes(range(1, 33)))
    row = ExportRow.from_request(three[0], stranger, reveal=False)
    assert (row.id_number, row.phone) == (mask_id_number(ZHANG), mask_phone("13812345678"))


@pytest.mark.parametrize("name", ['=HYPERLINK("http://evil.example","点击")', "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1+1"])
async def test_a_formula_typed_by_a_candidate_stays_text(db: Database, kb: KnowledgeBase, name: str) -> None:
    await store(db, kb, name=name, id_number=ZHANG, institution="=cmd|' /C calc'!A0")
    data = export(await load(db))
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    for ref, typed in (("D3", name), ("I3", "=cmd|' /C calc'!A0")):
        cell = sheet[ref]
        assert (cell.value, cell.data_type, cell.quotePrefix) == (typed, "s", True), ref
    assert sheet["F3"].quotePrefix is False  # ordinary text is left alone
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode("utf-8")


async def test_control_characters_do_not_break_the_export(db: Database, kb: KnowledgeBase) -> None:
    await store(db, kb, name="张三", id_number=ZHANG, institution="广州市\x0b第一技工学校")
    data = export(await load(db))
    assert read_xlsx(data)[2][8] == "广州市\ufffd第一技工学校"


def test_ten_thousand_rows_stream_into_a_file_that_opens() -> None:
    template = ExportRow(
        reference="QK-20170925-0001",
        name="张三",
        id_number=ZHANG,
        occupation="电工",
        level="四级/中级工",
        exam_date=EXAM,
        institution="广州市第一技工学校",
        receipt_no="0001",
        phone="13812345678",
        submitted_at=CONFIRMED,
        status="submitted",
        refunded_on=None,
        region="广州市",
        doc_no="穗人社职鉴函〔2017〕145号",
        reveal=True,
    )

    def rows() -> Iterator[ExportRow]:
        # A generator, as a database cursor would feed it: the exporter must not need a list.
        for i in range(10_000):
            yield dataclasses.replace(
                template,
                name=f"考生{i}",
                id_number=make_id_number("440103", dt.date(1990, 1, 1) + dt.timedelta(days=i % 9000), i % 1000),
                submitted_at=CONFIRMED + dt.timedelta(minutes=i),
            )

    data = requests_xlsx(rows(), title="名单", institution="广州市第一技工学校", period=None)
    # The normal (not read-only) reader: one pass over the sheet, where read-only mode would make two.
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    assert sheet.max_row == 10_002 and sheet.auto_filter.ref == "A2:N10002"
    last = [c.value for c in sheet[10_002]]
    assert last[:4] == [10_000, "QK-20170925-0001", "广州市", "考生9999"]
    assert sheet["E10002"].data_type == "s" and len(str(last[4])) == 18
    assert last[11] == dt.datetime(2017, 9, 25, 10, 30, 15, 123000) + dt.timedelta(minutes=9999)


async def test_an_empty_export_still_has_its_headings() -> None:
    values = read_xlsx(requests_xlsx([], title="名单", institution=None, period=None))
    assert values[1] == list(HEADINGS) and len(values) == 2


# --- verification code ----------------------------------------------------------------------------------------


async def test_the_code_is_stable_for_the_stored_record(db: Database, three: list[WithdrawalRequest]) -> None:
    codes = [verification_code(CIPHER, r) for r in three]
    assert all(CODE.fullmatch(c) for c in codes)
    assert len(set(codes)) == 3
    # Loaded again from the database, in a fresh session: same record, same code.
    assert [verification_code(CIPHER, r) for r in await load(db)] == codes
    # Re-encrypting the same ID number (a fresh nonce) is not a change of the record.
    request = three[0]
    request.id_number_cipher = CIPHER.encrypt(ZHANG, context="id_number")
    assert verification_code(CIPHER, request) == codes[0]
    # What changes by design after printing is not covered.
    request.status, request.refunded_on, request.phone_cipher = "refunded", dt.date(2018, 1, 1), "x"
    assert verification_code(CIPHER, request) == codes[0]


async def test_changing_any_covered_field_changes_the_code(three: list[WithdrawalRequest]) -> None:
    request = three[0]
    original = verification_code(CIPHER, request)
    declaration = CIPHER.decrypt(request.declaration_cipher, context="declaration")
    changes: dict[str, object] = {
        "reference": "QK-20170925-9999",
        "name": "张叁",
        "id_number_cipher": CIPHER.encrypt(LI, context="id_number"),
        "occupation": "焊工",
        "level": "三级/高级工",
        "exam_date": EXAM + dt.timedelta(days=1),
        "confirmed_at": CONFIRMED + dt.timedelta(microseconds=1),
        "declaration_cipher": CIPHER.encrypt(declaration.replace("自愿放弃", "放弃"), context="declaration"),
    }
    for field, value in changes.items():
        before = getattr(request, field)
        setattr(request, field, value)
        assert verification_code(CIPHER, request) != original, field
        assert not verify(CIPHER, request, original), field
        setattr(request, field, before)
    assert verification_code(CIPHER, request) == original


async def test_verify_accepts_the_code_as_typed_and_rejects_others(three: list[WithdrawalRequest]) -> None:
    request = three[0]
    code = verification_code(CIPHER, request)
    assert verify(CIPHER, request, code)
    assert verify(CIPHER, request, f"  {code.lower().replace('-', ' ')} ")
    wrong = code[:-1] + ("2" if code[-1] != "2" else "3")
    for typed in (wrong, "", code[:-1], code + "2", "校验码", verification_code(CIPHER, three[1])):
        assert not verify(CIPHER, request, typed), typed
    # Another key, another code: a code cannot be computed without the bot's key.
    other = PiiCipher(bytes(range(1, 33)))
    assert other.derive_key(b"jianding-bot declaration-code v1") != CIPHER.derive_key(
        b"jianding-bot declaration-code v1"
    )


def test_derived_keys_are_separate_per_purpose() -> None:
    a, b = CIPHER.derive_key(b"purpose a"), CIPHER.derive_key(b"purpose b")
    assert len(a) == 32 and a != b and a == CIPHER.derive_key(b"purpose a")
    with pytest.raises(ValueError):
        CIPHER.derive_key(b"")


# --- PDF ------------------------------------------------------------------------------------------------------


async def test_a_declaration_prints_as_confirmed(three: list[WithdrawalRequest]) -> None:
    request = three[0]
    doc = DeclarationDoc.from_request(request, CIPHER, reveal=True)
    data = declaration_pdf(doc)
    assert data.startswith(b"%PDF-")
    [page] = pdf_pages(data)
    text = squash(page)
    declaration = CIPHER.decrypt(request.declaration_cipher, context="declaration")
    assert ZHANG in declaration and "电工" in declaration and "2017年10月15日" in declaration
    assert squash(DECLARATION_TITLE) in text
    assert squash(declaration) in text
    assert "受理编号：" + request.reference in text
    assert squash("确认时间：2017-09-25 10:30:15（北京时间）") in text
    assert "文件依据：" + request.doc_no in text
    assert "校验码：" + verification_code(CIPHER, request) in text
    assert "核验方法" in text
    assert "隐藏" not in text


async def test_a_masked_declaration_shows_no_full_id_number(three: list[WithdrawalRequest]) -> None:
    request = three[0]
    doc = DeclarationDoc.from_request(request, CIPHER, reveal=False)
    [page] = pdf_pages(declaration_pdf(doc))
    text = squash(page)
    assert ZHANG not in text and mask_id_number(ZHANG) in text
    assert squash(request.declaration_masked) in text
    # The same record, so the same code as the full print.
    assert "校验码：" + verification_code(CIPHER, request) in text


async def test_the_pdf_embeds_its_cjk_font_on_a4_with_the_signature_lines(three: list[WithdrawalRequest]) -> None:
    from pypdf import PdfReader

    data = declaration_pdf(DeclarationDoc.from_request(three[0], CIPHER, reveal=True))
    reader = PdfReader(io.BytesIO(data))
    page = reader.pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    resources: Any = page["/Resources"]
    fonts = [f.get_object() for f in resources["/Font"].values()]
    # A printer or viewer without Chinese fonts still shows every character: the glyphs are in the file.
    assert all("/STSong-Light" not in str(f.get("/BaseFont")) for f in fonts)
    descriptors = [f["/FontDescriptor"].get_object() for f in fonts if "/FontDescriptor" in f]
    assert descriptors and all("/FontFile2" in d for d in descriptors), "a TrueType subset embedded"
    text = squash(page.extract_text())
    assert "声明人（签名）" in text and "年＿＿月＿＿日" in text, "the 附件's signature and date lines"
    assert "办理状态：已提交，待审核" in text
    assert reader.metadata is not None and reader.metadata.title == f"{DECLARATION_TITLE} {three[0].reference}"


async def test_a_batch_prints_one_page_per_declaration(three: list[WithdrawalRequest]) -> None:
    docs = [DeclarationDoc.from_request(r, CIPHER, reveal=True) for r in three]
    pages = [squash(p) for p in pdf_pages(declarations_pdf(docs))]
    assert len(pages) == 3
    for page, doc in zip(pages, docs, strict=True):
        assert "受理编号：" + doc.reference in page
        assert "校验码：" + doc.verification_code in page
        assert squash(doc.text) in page
    with pytest.raises(ValueError):
        declarations_pdf([])


async def test_a_long_declaration_with_markup_characters_still_takes_one_page(db: Database, kb: KnowledgeBase) -> None:
    # Characters that mean something to reportlab's paragraph markup must print as typed.
    odd = await store(db, kb, name="张<b>三&amp;", id_number=ZHANG)
    plain = await store(db, kb, name="李四", id_number=LI)
    long = dataclasses.replace(
        DeclarationDoc.from_request(odd, CIPHER, reveal=True),
        text="\n".join([CIPHER.decrypt(odd.declaration_cipher, context="declaration")] * 12),
    )
    pages = pdf_pages(declarations_pdf([long, DeclarationDoc.from_request(plain, CIPHER, reveal=True)]))
    assert len(pages) == 2
    assert "张<b>三&amp;" in pages[0]
    assert "受理编号：" + odd.reference in squash(pages[0]) and "受理编号：" + plain.reference in squash(pages[1])
