"""From the bytes of a published notice to clean paragraphs.

Text extracted from a PDF or copied from a web page carries layout noise: the site's menus and
footer, markdown left by the converter, page breaks (`---`, an image marker, blank lines) in the
middle of a sentence, and hard line breaks inside a paragraph. Cleaning removes the noise and
rejoins what a page break split, keeping each paragraph's original line number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.drafting.docnumbers import header_doc_number
from knowledge.occupations import looks_like_occupation


class NotTextError(ValueError):
    """The file is not a text notice; the message says why, in Chinese, for the person drafting."""


def decode_notice(data: bytes) -> str:
    """The notice's text: UTF-8 (with or without BOM), else GB18030; anything else is refused."""
    if not data.strip():
        raise NotTextError("文件是空的：请提供通知正文的纯文本（.txt）")
    if b"\x00" in data[:65536]:
        raise NotTextError(
            "这不是文本文件（含有二进制内容，可能是 PDF、Word 或图片）：请先把通知正文另存为纯文本（.txt）"
        )
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        # GB18030 decodes many non-text byte runs; control characters betray them.
        controls = sum(1 for c in text if (ord(c) < 32 and c not in "\t\n\r\f") or 0x7F <= ord(c) < 0xA0)
        if controls <= max(2, len(text) // 200):
            return text
    raise NotTextError("无法识别文件编码（已尝试 UTF-8 和 GB18030）：请把通知正文另存为 UTF-8 编码的纯文本（.txt）")


@dataclass(frozen=True)
class Line:
    """One paragraph after cleaning, with the file line it starts on (1-based)."""

    number: int
    text: str


@dataclass(frozen=True)
class CleanText:
    lines: list[Line]
    dropped: list[Line]
    """Web-page chrome that was removed (menus, share buttons, licence numbers)."""


# Words of a government web page's frame, never of a notice.
_CHROME = re.compile(
    r"^(?:搜索|在此输入关键字|请输入关键字|首页|打印(?:当前页|本页|此页)?|关闭(?:当前页|本页|窗口)?|返回顶部|"
    r"上一篇|下一篇|分享到|扫一扫|字号|【?\s*大\s*中\s*小\s*】?|网站地图|无障碍|长者模式|收藏|"
    r"(?:当前位置|您的位置|您现在的位置)\s*[:：].*)$"
)
_CHROME_ANYWHERE = re.compile(r"ICP备|公网安备|网站标识码|网站主办单位|版权所有|技术支持\s*[:：]|未经授权禁止复制")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_IMAGE_MARK = re.compile(r"\[image:[^\]]*\]|!\[[^\]]*\]\([^)]*\)")
_BREADCRUMB = re.compile(r"^\S{1,10}(?:\s*[>＞»]\s*\S{1,10})+$")
_PAGE_BREAK = re.compile(r"^\s*(?:-{3,}|\*{3,}|={3,}|—{3,})\s*$|^\s*-\s*\d+\s*-\s*$|^\s*第\s*\d+\s*页.*$")
_MENU_WORD = re.compile(r"^[\u4e00-\u9fffA-Za-z ]{1,8}$")

ENUM_MARK = re.compile(
    r"^\s*(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十]+[）)]|\d{1,2}\s*[、.．](?!\d)|[（(]\d{1,2}[）)]|附件)"
)
_TOP_MARK = re.compile(r"^\s*[一二三四五六七八九十]+\s*[、.．]")
_TERMINAL = "。；;！!？?：:）)》」”"
_ORG_END = re.compile(r"(?:厅|局|中心|办公室|委员会|政府|部|处|站|所|院|会|室|司|委|组|科)$")
DATE_LINE = re.compile(
    r"^(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*(?:印发|发布|签发)?$"
    r"|^[〇零一二三四五六七八九]{4}年[一二三四五六七八九十]{1,2}月[一二三四五六七八九十]{1,3}日$"
)


def is_org_line(text: str) -> bool:
    """A line that is just an organisation's name: 广东省人力资源和社会保障厅."""
    t = re.sub(r"\s+", "", text)
    return 4 <= len(t) <= 30 and re.fullmatch(r"[\u4e00-\u9fff（）()]+", t) is not None and bool(_ORG_END.search(t))


def is_date_line(text: str) -> bool:
    return DATE_LINE.match(re.sub(r"\s+", "", text)) is not None


def is_field_line(text: str) -> bool:
    """`label：short value` lines of a form or a web page's metadata (索取号： 553612461/2020-00169)."""
    if ENUM_MARK.match(text):
        return False
    m = re.match(r"^([^：:，。；]{1,10})[:：](.*)$", text.strip())
    return m is not None and len(m.group(2).strip()) <= 30 and not re.search(r"[。；]", m.group(2))


def _markdown(line: str) -> tuple[str, bool]:
    """Strip markdown left by the converter; also says whether the line was only links."""
    text = line.replace("\\_", "_").replace("\\*", "*").replace("\\#", "#")
    text = _IMAGE_MARK.sub("", text)
    links = _LINK.findall(text)
    rest = _LINK.sub("", text)
    only_links = bool(links) and re.fullmatch(r"[\s|｜/·•,，、]*", rest) is not None
    text = _LINK.sub(lambda m: m.group(1), text)
    text = re.sub(r"^\s{0,3}#{1,6}\s+", "", text)
    text = re.sub(r"^\s*[-*+]\s+(?=\S)", "", text)
    # Only **bold**: runs of underscores are the blanks of a form, not markdown.
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", text)
    text = text.replace("\u3000", " ").replace("\xa0", " ").replace("\ufeff", "")
    text = re.sub(r"[\u200b-\u200f\u2060]", "", text)
    return text, only_links


def _is_noise(text: str, only_links: bool) -> bool:
    t = text.strip()
    return (
        only_links
        or _CHROME.match(t) is not None
        or _CHROME_ANYWHERE.search(t) is not None
        or _BREADCRUMB.match(t) is not None
        # An English masthead (HUMAN RESOURCES AND SOCIAL SECURITY …): three words, no digits.
        or re.fullmatch(r"[A-Za-z]+(?:[ &,.'-]+[A-Za-z]+){2,}", t) is not None
    )


def _menu_runs(items: list[tuple[int, str]]) -> set[int]:
    """Indexes of lines in runs of three or more one-word lines (a site's navigation menu)."""
    out: set[int] = set()
    run: list[int] = []
    for index, text in [*items, (-1, "。")]:
        t = text.strip()
        if not t:
            continue
        if _MENU_WORD.match(t) and not looks_like_occupation(t.replace(" ", "")) and not is_org_line(t):
            run.append(index)
            continue
        if len(run) >= 3:
            out.update(run)
        run = []
    return out


def _structural(text: str) -> bool:
    """Lines that stand on their own: a heading, a number, a date, a table row, a form field."""
    return (
        ENUM_MARK.match(text) is not None
        or "\t" in text
        or is_date_line(text)
        or header_doc_number(text) is not None
        or is_field_line(text)
    )


def _continues(prev: str, nxt: str) -> bool:
    """Whether `nxt` carries on the sentence `prev` left open across a page break."""
    p, n = prev.rstrip(), nxt.strip()
    if not p or not n or _structural(n) or is_org_line(n) or is_org_line(p) or p.endswith("文件"):
        return False
    if "\t" in p or is_date_line(p) or is_field_line(p) or header_doc_number(p) is not None:
        return False
    if re.match(r"^[\u4e00-\u9fff]{1,8}[:：]", n):  # a new labelled paragraph: 抄送：, 联系人：, 注：
        return False
    if p[-1] in "，,、":
        return True
    if p[-1] in _TERMINAL or re.search(r"(?:通知|公告|意见|决定|办法|规定|方案|通告|函|批复|报告)$", p):
        return False
    # Headings stand alone: a top-level 一、… line without a full stop (一、提高思想认识，不折不扣落实…),
    # or a short （一）报名日期. A sub-clause paragraph cut by a page break is long and goes on.
    # A 一、 line longer than any heading (seeds' longest is 31 characters) is a paragraph cut short.
    if _TOP_MARK.match(p) and not re.search(r"[。；;！？!?]", p) and len(re.sub(r"\s+", "", p)) <= 34:
        return False
    if ENUM_MARK.match(p) and len(p) <= 15:
        return False
    return len(re.sub(r"\s+", "", p)) >= 15


def _glue(a: str, b: str) -> str:
    a, b = a.rstrip(), b.lstrip()
    if a and b and a[-1].isascii() and a[-1].isalnum() and b[0].isascii() and b[0].isalnum():
        return f"{a} {b}"
    return a + b


def clean(text: str) -> CleanText:
    """Paragraphs of the notice without web chrome, with page breaks and hard breaks rejoined."""
    raw_lines = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n---\n").split("\n")
    items: list[tuple[int, str, bool, bool]] = []  # (line number, text, hard break, page break)
    dropped: list[Line] = []
    for number, line in enumerate(raw_lines, start=1):
        hard = line.endswith("  ") and bool(line.strip())
        if _PAGE_BREAK.match(line):
            items.append((number, "", False, True))
            continue
        content, only_links = _markdown(line)
        if content.strip() and _is_noise(content, only_links):
            dropped.append(Line(number, content.strip()))
            continue
        # Trailing tabs are kept: they are the empty cells of a table row.
        items.append((number, re.sub(r"[ ]+$", "", content), hard, False))
    menu = _menu_runs([(i, t) for i, (_, t, _, _) in enumerate(items)])
    dropped += [Line(items[i][0], items[i][1].strip()) for i in sorted(menu)]
    kept = [item for i, item in enumerate(items) if i not in menu]

    paragraphs: list[Line] = []
    open_number, open_text, open_hard = 0, "", False
    gap = False  # blank lines or a page break since the open paragraph's last line
    for number, content, hard, _page in kept:
        body = content.strip(" ")  # tabs at either end are a table row's empty cells
        if not body.strip():
            gap = gap or bool(open_text)
            continue
        if open_text and ((open_hard and not gap and not _structural(body)) or _continues(open_text, body)):
            open_text = _glue(open_text, body)
            open_hard = hard
            gap = False
            continue
        if open_text:
            paragraphs.append(Line(open_number, open_text))
        open_number, open_text, open_hard, gap = number, body, hard, False
    if open_text:
        paragraphs.append(Line(open_number, open_text))
    return CleanText([Line(p.number, re.sub(r"[ ]{2,}", " ", p.text)) for p in paragraphs], dropped)


SENTENCE_END = re.compile(r"(?<=[。！？!?；;])")


def sentences(paragraph: str) -> list[str]:
    """A paragraph cut after 。！？；, empty pieces dropped."""
    return [s for s in (p.strip() for p in SENTENCE_END.split(paragraph)) if s]
