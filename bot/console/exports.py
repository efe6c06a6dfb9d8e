"""The files the notices ask registration institutions to send: the list of withdrawal requests
(XLSX) and the candidates' confirmed 个人弃考声明 (PDF).

Builders only: the console's pages choose the requests, decide whether ID numbers are revealed
(`storage.declarations`), audit the export and send the bytes.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import itertools
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, KeepInFrame, PageBreak, Paragraph, SimpleDocTemplate, Spacer

from handlers.withdrawal_form import STATUS_TEXT
from knowledge.timezone import SHANGHAI
from storage.declarations import DeclarationDoc, ExportRow

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

__all__ = [
    "DECLARATION_TITLE",
    "HEADINGS",
    "declaration_pdf",
    "declarations_pdf",
    "requests_xlsx",
    "write_requests_xlsx",
]


# --- XLSX -----------------------------------------------------------------------------------------------------

HEADINGS = (
    "序号",
    "受理编号",
    "地区",
    "姓名",
    "身份证号",
    "报考职业",
    "申报等级",
    "原定考试日期",
    "原报考机构",
    "缴费票据号",
    "联系电话",
    "申请时间",
    "状态",
    "退费日期",
)
# Fixed widths (in characters; a CJK character counts about two): a streamed sheet cannot measure its
# contents before writing them.
_WIDTHS = (6, 19, 12, 10, 22, 16, 14, 13, 30, 20, 14, 17, 15, 12)
_SHEET_TITLE = "退考退费申请"
_DATE_FORMAT = "yyyy-mm-dd"
_DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
_TEXT_FORMAT = "@"
# Excel and LibreOffice start a formula with any of these (tab and CR too, per OWASP's CSV injection advice).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text_cell(ws: WriteOnlyWorksheet, value: str | None, *, number_format: str | None = None) -> Any:
    """A cell that holds `value` as a string, never as a formula or a number."""
    if value is None:
        return None
    # XML cannot hold most control characters and openpyxl raises on them: one odd row must not sink the export.
    value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    needs_guard = value.startswith(_FORMULA_START)
    if not needs_guard and number_format is None:
        return value  # a plain str is written as a string: no cell object, no style
    cell = WriteOnlyCell(ws, value=value)
    if needs_guard:
        # openpyxl would store "=…" as a formula; force a string, and quotePrefix keeps Excel from
        # turning it into one when somebody edits the cell. The value itself stays as the candidate typed it.
        cell.data_type = "s"
        cell.quotePrefix = True
    if number_format is not None:
        # Text format keeps an 18-digit ID number or a receipt number from being re-read as a number.
        cell.number_format = number_format
    return cell


def _date_cell(ws: WriteOnlyWorksheet, value: dt.date | dt.datetime | None, number_format: str) -> Any:
    if value is None:
        return None
    cell = WriteOnlyCell(ws, value=value)
    cell.number_format = number_format
    return cell


def _local(moment: dt.datetime) -> dt.datetime:
    # Excel has no time zones: write Beijing wall-clock time, which is what staff and candidates read.
    return moment.astimezone(SHANGHAI).replace(tzinfo=None)


def _title_line(title: str, institution: str | None, period: tuple[dt.date, dt.date] | None, *, masked: bool) -> str:
    parts = [title]
    if institution:
        parts.append(f"报考机构：{institution}")
    if period is not None:
        parts.append(f"申请时间：{period[0].isoformat()} 至 {period[1].isoformat()}")
    if masked:
        parts.append("（身份证号、联系电话已部分隐藏）")
    return "　".join(parts)


def _lay_out(ws: WriteOnlyWorksheet) -> None:
    """Views, column widths and page set-up, which write-only mode needs before the first row."""
    for index, width in enumerate(_WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A3"
    # Printed for the certification centre: landscape, one page wide, title and headings on every page.
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.print_title_rows = "1:2"


def _cells(ws: WriteOnlyWorksheet, number: int, row: ExportRow) -> list[Any]:
    """One request's line of the list, numbered."""
    return [
        number,
        _text_cell(ws, row.reference),
        _text_cell(ws, row.region),
        _text_cell(ws, row.name),
        _text_cell(ws, row.id_number, number_format=_TEXT_FORMAT),
        _text_cell(ws, row.occupation),
        _text_cell(ws, row.level),
        _date_cell(ws, row.exam_date, _DATE_FORMAT),
        _text_cell(ws, row.institution),
        _text_cell(ws, row.receipt_no, number_format=_TEXT_FORMAT),
        _text_cell(ws, row.phone, number_format=_TEXT_FORMAT),
        _date_cell(ws, _local(row.submitted_at), _DATETIME_FORMAT),
        STATUS_TEXT.get(row.status, row.status),
        _date_cell(ws, row.refunded_on, _DATE_FORMAT),
    ]


def write_requests_xlsx(
    rows: Iterable[ExportRow],
    out: IO[bytes],
    *,
    title: str,
    institution: str | None = None,
    period: tuple[dt.date, dt.date] | None = None,
) -> int:
    """Writes the request list to `out` (a binary file; seekable, as zip needs) and returns the number of rows.

    Rows are streamed (openpyxl write-only mode): each is written to a temporary file as it comes, so
    memory does not grow with the export. `period` is only shown in the title; the caller filters."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_SHEET_TITLE)
    _lay_out(ws)
    last_col = get_column_letter(len(HEADINGS))

    # The title says whether the numbers are masked, which only the rows know: look at the first one.
    stream = iter(rows)
    first = next(stream, None)
    masked = first is not None and not first.reveal
    heading = _text_cell(ws, _title_line(title, institution, period, masked=masked), number_format=_TEXT_FORMAT)
    heading.font = Font(bold=True, size=14)
    ws.append([heading])
    header_font, header_align = Font(bold=True), Alignment(horizontal="center", vertical="center")
    header = []
    for name in HEADINGS:
        cell = WriteOnlyCell(ws, value=name)
        cell.font, cell.alignment = header_font, header_align
        header.append(cell)
    ws.append(header)

    count = 0
    for count, row in enumerate(itertools.chain([] if first is None else [first], stream), start=1):
        ws.append(_cells(ws, count, row))

    # The title spans the table; merged ranges and the filter are written after the rows, so they can be set last.
    ws.merged_cells.add(f"A1:{last_col}1")
    ws.auto_filter.ref = f"A2:{last_col}{count + 2}"
    wb.properties.creator = "jianding-bot"
    wb.properties.title = title
    wb.save(out)
    return count


def requests_xlsx(
    rows: Iterable[ExportRow],
    *,
    title: str,
    institution: str | None = None,
    period: tuple[dt.date, dt.date] | None = None,
) -> bytes:
    """The request list as XLSX bytes: a title row, then 序号, 姓名, 身份证号, … 退费日期 (`HEADINGS`)."""
    buffer = io.BytesIO()
    write_requests_xlsx(rows, buffer, title=title, institution=institution, period=period)
    return buffer.getvalue()


# --- PDF ------------------------------------------------------------------------------------------------------

DECLARATION_TITLE = "个人弃考声明"
_FALLBACK_FONT = "STSong-Light"
_EMBEDDED_FONT = "DeclarationCJK"
FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/truetype/arphic/uming.ttc"),
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
)
"""TrueType CJK fonts Debian packages install (fonts-wqy-microhei first); PDF_FONT_FILE names another."""
_font_file: list[Path | None] = [None]
_MARGIN = 25 * mm
_VERIFY_HINT = (
    "核验方法：在管理后台按受理编号打开该申请，系统依据登记记录重新计算校验码；"
    "与本页校验码一致，即本页声明与登记记录相符，记录被改动过则不符。"
)


def use_font_file(path: Path | None) -> Path | None:
    """Makes the PDFs embed `path` (PDF_FONT_FILE), or, when None, the first installed candidate;
    returns the font used, None when there is none: the PDFs then name the Adobe CID font
    STSong-Light without embedding it, and a viewer without it shows blanks (the operations guide
    says to install fonts-wqy-microhei)."""
    _font_file[0] = path
    _font.cache_clear()
    _styles.cache_clear()
    return _font_path()


def _font_path() -> Path | None:
    return _font_file[0] or next((c for c in FONT_CANDIDATES if c.exists()), None)


@functools.cache
def _font() -> str:
    """Registers the declaration font once: a TrueType CJK font, subset and embedded in each PDF so a
    printer or viewer without Chinese fonts shows every character."""
    path = _font_path()
    if path is not None:
        pdfmetrics.registerFont(TTFont(_EMBEDDED_FONT, str(path), subfontIndex=0))
        return _EMBEDDED_FONT
    pdfmetrics.registerFont(UnicodeCIDFont(_FALLBACK_FONT))
    return _FALLBACK_FONT


@functools.cache
def _styles() -> dict[str, ParagraphStyle]:
    font = _font()
    # wordWrap="CJK" breaks lines between any two CJK characters, where Latin rules would wait for a space.
    body = ParagraphStyle("body", fontName=font, fontSize=12, leading=21, wordWrap="CJK", firstLineIndent=0)
    return {
        "title": ParagraphStyle("title", fontName=font, fontSize=20, leading=28, alignment=TA_CENTER),
        "note": ParagraphStyle("note", fontName=font, fontSize=9, leading=13, alignment=TA_CENTER),
        "body": body,
        "meta": ParagraphStyle("meta", parent=body, fontSize=10.5, leading=17),
        "hint": ParagraphStyle("hint", parent=body, fontSize=8.5, leading=12),
        "sign": ParagraphStyle("sign", parent=body, alignment=TA_RIGHT),
    }


def _paragraph(text: str, style: ParagraphStyle) -> Paragraph:
    # Paragraph reads markup: the candidate's text must not be able to inject tags or break the parser.
    return Paragraph(escape(text), style)


def _beijing_time(moment: dt.datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") + "（北京时间）"


def _page(doc: DeclarationDoc, width: float, height: float) -> Flowable:
    s = _styles()
    story: list[Flowable] = [_paragraph(DECLARATION_TITLE, s["title"])]
    if not doc.reveal:
        story.append(_paragraph("（本件身份证号码已部分隐藏）", s["note"]))
    story.append(Spacer(0, 8 * mm))
    # One paragraph per line of the confirmed text: its line breaks are the notice's layout.
    for line in doc.text.splitlines():
        story.append(_paragraph(line, s["body"]) if line.strip() else Spacer(0, 4 * mm))
    # The notice's 附件 ends with the signature and the date, written by hand on the printed page.
    story.append(Spacer(0, 10 * mm))
    story.append(_paragraph("声明人（签名）：＿＿＿＿＿＿＿＿＿＿", s["sign"]))
    story.append(Spacer(0, 4 * mm))
    story.append(_paragraph("＿＿＿＿年＿＿月＿＿日", s["sign"]))
    story.append(Spacer(0, 10 * mm))
    for label, value in (
        ("受理编号", doc.reference),
        ("办理状态", STATUS_TEXT.get(doc.status, doc.status)),
        ("确认时间", _beijing_time(doc.confirmed_at)),
        ("文件依据", doc.doc_no),
        ("校验码", doc.verification_code),
    ):
        story.append(_paragraph(f"{label}：{value}", s["meta"]))
    story.append(Spacer(0, 2 * mm))
    story.append(_paragraph(_VERIFY_HINT, s["hint"]))
    # Shrinking an (unusually) long declaration keeps the promise of one page per declaration.
    return KeepInFrame(width, height, story, mode="shrink")


def _build_pdf(docs: Sequence[DeclarationDoc], *, title: str) -> bytes:
    buffer = io.BytesIO()
    template = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN,
        title=title,
        author="jianding-bot",
        creator="jianding-bot",
    )
    width, height = template.width, template.height - 1  # 1 pt slack: a full-height frame can spill over
    story: list[Flowable] = []
    for index, doc in enumerate(docs):
        if index:
            story.append(PageBreak())
        story.append(_page(doc, width, height))

    total = len(docs)

    def footer(canvas: Canvas, template: SimpleDocTemplate) -> None:
        number = canvas.getPageNumber()
        canvas.saveState()
        canvas.setFont(_font(), 8)
        canvas.drawCentredString(
            A4[0] / 2, _MARGIN / 2, f"{docs[number - 1].reference}　第 {number} 页 / 共 {total} 页"
        )
        canvas.restoreState()

    template.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def declaration_pdf(doc: DeclarationDoc) -> bytes:
    """One declaration on one A4 page: title, the text as confirmed, reference, time, notice, code."""
    return _build_pdf([doc], title=f"{DECLARATION_TITLE} {doc.reference}")


def declarations_pdf(docs: Iterable[DeclarationDoc]) -> bytes:
    """All declarations of an export batch in one PDF, one page each, in the order given."""
    batch = list(docs)
    if not batch:
        raise ValueError("no declarations to print")
    return _build_pdf(batch, title=f"{DECLARATION_TITLE}（{len(batch)}份）")
