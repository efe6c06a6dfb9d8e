"""Document numbers (文号): 粤人社职鉴〔2017〕70号, 粤人社函(2017)248号, 苏人社函﹝2020﹞150号.

Every bracket variant is normalised to 〔〕 so that the same document is recognised however a
notice typed it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.drafting.view import View

# On the normalised view: NFKC has already turned （）﹝﹞ into ()〔〕.
_DOC_NO = re.compile(
    r"(?P<prefix>[\u4e00-\u9fff]{2,16}?)\s*[〔\[(【]\s*(?P<year>(?:19|20)\d{2})\s*[〕\])】]\s*(?P<num>\d{1,5})\s*号"
)
# Words that lead into a citation (参照粤人社函…, 根据人社部发…) end before the prefix starts; a
# prefix never contains these characters.
_LEAD_IN = re.compile(r".*[的照据见及和与在按依附为于是即由将对从向经把被知神件告]")
_HEADER = re.compile(r"^(?:(?:文件编号|发文字号|文号|发文编号)\s*:\s*)?(?P<no>.+?号)$")


@dataclass(frozen=True)
class DocNumber:
    """A document number as written (`text`) and normalised (`number`)."""

    number: str
    text: str
    year: int
    start: int
    end: int


def normalise_doc_number(text: str) -> str | None:
    """The canonical form, 粤人社函〔2017〕248号, of a document number typed any way."""
    found = find_doc_numbers(View.of(text))
    return found[0].number if found else None


def find_doc_numbers(view: View) -> list[DocNumber]:
    """Every document number in the text, with its span in the view."""
    out: list[DocNumber] = []
    for m in _DOC_NO.finditer(view.text):
        prefix = m.group("prefix")
        lead = _LEAD_IN.match(prefix)
        start = m.start("prefix")
        if lead:
            start += lead.end()
            prefix = prefix[lead.end() :]
        if len(prefix) < 2 or len(prefix) > 10:
            continue
        number = f"{prefix}〔{m.group('year')}〕{int(m.group('num'))}号"
        out.append(DocNumber(number, view.original(start, m.end()), int(m.group("year")), start, m.end()))
    return out


def header_doc_number(line: str) -> DocNumber | None:
    """The document number when a line is nothing else (the number under a notice's masthead,
    or 文件编号： on a web page); a number cited inside a sentence is not a header."""
    view = View.of(line.strip())
    compact = re.sub(r"\s+", "", view.text)
    m = _HEADER.match(compact)
    if not m:
        return None
    found = find_doc_numbers(view)
    if len(found) != 1:
        return None
    only = re.sub(r"\s+", "", view.text[found[0].start : found[0].end])
    return found[0] if m.group("no") == only else None
