"""A draft knowledge-base entry from a notice's plain text.

`draft_notice(text)` finds the documents in the text (a forwarding notice carries the one it
forwards), and for each: document number, issuer, issue date (the date line under the issuer at
the end), title, regions, the numbers it forwards and cites, and every fact that can be
extracted mechanically, each marked `review: true` with its source sentence. What could not be
determined is listed in `problems`, never filled in with a guess.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from knowledge.drafting.dates import YearContext, find_dates
from knowledge.drafting.docnumbers import find_doc_numbers
from knowledge.drafting.facts import (
    Fact,
    Flow,
    FlowList,
    Numbering,
    contact_fact,
    form_fact,
    list_fact,
    sentence_facts,
    strip_enumeration,
)
from knowledge.drafting.forms import FoundForm, listed_form, mentioned_forms, read_form
from knowledge.drafting.layout import Document, Passage, passages, signature_index, split_documents, title_span
from knowledge.drafting.occupations import FoundList, find_table_list
from knowledge.drafting.rule_sentences import merge_adjacent_rules
from knowledge.drafting.text import Line, clean, decode_notice, is_date_line, is_org_line, sentences
from knowledge.drafting.view import View
from knowledge.regions import RegionRegistry

_BARE_PHONE = re.compile(r"^[\s\u3000]*(?:\(?0\d{2,3}\)?|1[3-9]\d)")
"""A line that starts with a phone number (its label was on the line before)."""
_PHONE_HEADING = re.compile(r"[\u4e00-\u9fff（）()]{0,8}(?:电话|联系方式|联系人及电话|咨询方式)[:：]?")
"""A heading line whose section lists phone numbers without saying 电话 on each line."""


@dataclass
class DraftNotice:
    """One document's draft, in the shape of a knowledge/notices/*.yaml file."""

    doc_no: str | None
    issuer: str | None
    issued: dt.date | None
    issued_year: int | None
    title: str | None
    regions: list[str]
    seed: str | None
    forwards: list[str]
    cites: list[str]
    facts: list[Fact]
    problems: list[str]
    line: int
    """The file line where the document starts."""

    def to_data(self) -> dict[str, Any]:
        """The knowledge-base mapping, header first, as `kb check` reads it."""
        data: dict[str, Any] = {"doc_no": self.doc_no, "issuer": self.issuer}
        if self.issued is not None:
            data["issued"] = self.issued
        else:
            data["issued_year"] = self.issued_year
        data["title"] = self.title
        data["regions"] = FlowList(self.regions)
        if self.seed:
            data["seed"] = self.seed
        if self.forwards:
            data["forwards"] = FlowList(self.forwards)
        if self.cites:
            data["cites"] = FlowList(self.cites)
        data["summary"] = ""
        data["review"] = True
        data["problems"] = list(self.problems)
        data["facts"] = self.facts
        return data

    @property
    def suggested_file(self) -> str:
        """A file name in the style of the shipped ones: <prefix>-<year>-<number>.yaml."""
        m = re.match(r"(.+)〔(\d{4})〕(\d+)号", self.doc_no or "")
        if not m:
            return "draft.yaml"
        return f"{_pinyin_prefix(m.group(1))}-{m.group(2)}-{m.group(3)}.yaml"


@dataclass
class Draft:
    """Every document found in one notice file."""

    notices: list[DraftNotice]
    dropped: list[Line] = field(default_factory=list)
    """Web-page lines left out (menus, footers)."""

    def to_yaml(self) -> str:
        """One YAML document per notice, each headed by a comment saying where to save it."""
        parts = []
        for k, notice in enumerate(self.notices, start=1):
            head = (
                f"# 草稿 {k}/{len(self.notices)}：{notice.doc_no or '（未找到文号）'}，"
                f"原文第 {notice.line} 行起；核对后存为 knowledge/notices/{notice.suggested_file}\n"
                "# 每条 review: true 的条目须对照 source.quote 核对后删除该行；problems 逐条解决后删除。\n"
            )
            body = yaml.dump(notice.to_data(), Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=4096)
            parts.append(head + body)
        return "---\n".join(parts)


class _Dumper(yaml.SafeDumper):
    """Block style, with dates and short lists on one line as in the hand-made files."""


_Dumper.add_representer(Flow, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v, flow_style=True))
_Dumper.add_representer(FlowList, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))


def _pinyin_prefix(prefix: str) -> str:
    from pypinyin import lazy_pinyin

    first = next((c for c in prefix if "\u4e00" <= c <= "\u9fff"), "")
    word = lazy_pinyin(first)[0] if first else "doc"
    return re.sub(r"[^a-z]", "", word.lower()) or "doc"


def read_notice_file(path: Path) -> str:
    """The text of a notice file; raises NotTextError (Chinese message) for anything else."""
    return decode_notice(path.read_bytes())


def draft_notice(
    text: str, *, region: str | None = None, seed: str | None = None, registry: RegionRegistry | None = None
) -> Draft:
    """Draft every document in `text`. `region` (a name or alias) is the first document's region;
    the others' are taken from their issuers."""
    registry = registry or RegionRegistry.load()
    cleaned = clean(text)
    docs = split_documents(cleaned.lines)
    own_numbers = [d.header.number for d in docs if d.header is not None]
    notices = [
        _draft_document(doc, region if k == 0 else None, seed, registry, own_numbers) for k, doc in enumerate(docs)
    ]
    return Draft(notices, cleaned.dropped)


def _compact(text: str) -> str:
    """Spaces between Chinese characters come from line wrapping: 关于做好 水平评价类 → 关于做好水平评价类."""
    text = re.sub(r"(?<=[^\x00-\x7f])\s+(?=[^\x00-\x7f])", "", text.strip())
    return re.sub(r"\s+", " ", text)


def _header(doc: Document) -> tuple[str | None, str | None, dt.date | None, list[int]]:
    """Title, issuer, issue date and the years the title names."""
    span = title_span(doc)
    t = span[1] if span is not None else None
    title = "".join(_compact(line.text) for line in doc.lines[span[0] : span[1] + 1]) if span else None
    sign = signature_index(doc)
    issuer = issued = None
    if sign is not None:
        org, date_line = doc.lines[sign], doc.lines[sign + 1] if sign + 1 < len(doc.lines) else None
        if is_org_line(org.text):
            issuer = _compact(org.text)
        else:
            date_line = org
        if date_line is not None and is_date_line(date_line.text):
            found = find_dates(View.of(date_line.text), YearContext(None))
            issued = found[0].start if found else None
    if issuer is None:
        head = doc.lines[: (doc.header_index if doc.header_index is not None else t or 0) + 1]
        for line in head:
            text = _compact(line.text)
            if text.endswith("文件") and is_org_line(text[:-2]):
                issuer = text[:-2]
            elif is_org_line(text) and issuer is None:
                issuer = text
    if issuer is None and title and "关于" in title and is_org_line(title.split("关于")[0]):
        issuer = title.split("关于")[0]
    years = [int(y) for y in re.findall(r"((?:19|20)\d{2})\s*年", title or "")]
    return title, issuer, issued, years


def _regions(
    option: str | None, issuer: str | None, title: str | None, registry: RegionRegistry
) -> tuple[list[str], str | None]:
    if option:
        name = registry.resolve(option)
        return ([name], None) if name else ([], f"未知地区：{option}（请先加入 knowledge/regions.yaml，或用别名）")
    for text in (issuer, title):
        found = registry.detect(text or "")
        if found:
            return [found[0]], None
    return [], "无法从发文单位确定适用地区：请用 --region 指定，或在 regions 中填写"


def _draft_document(
    doc: Document, region: str | None, seed: str | None, registry: RegionRegistry, own_numbers: list[str]
) -> DraftNotice:
    title, issuer, issued, title_years = _header(doc)
    doc_no = doc.header.number if doc.header else None
    body_years = [int(y) for line in doc.lines for y in re.findall(r"((?:19|20)\d{2})\s*年", View.of(line.text).text)]
    ctx = YearContext.of(issued, doc.header.year if doc.header else None, title_years, body_years)
    m = re.match(r"(.+)〔\d{4}〕(\d+)号", doc_no or "")
    ids = Numbering(f"{_pinyin_prefix(m.group(1))}{m.group(2)}" if m else "draft")
    problems: list[str] = []
    facts: list[Fact] = []
    mentioned: list[str] = []
    dated = False
    stated_counts: list[tuple[int, bool]] = []  # (count, the sentence points at an attachment)
    all_passages = passages(doc)
    phone_heading: str | None = None  # the clause whose heading says its lines are phones (八、咨询电话)
    named_forms: set[str] = set()
    after_phones = False
    headings: dict[str, str] = {}
    mentioned_form_facts: list[Fact] = []
    for passage in all_passages:
        text = passage.line.text
        if _PHONE_HEADING.fullmatch(strip_enumeration(text).strip()):
            phone_heading = passage.clause
        if len(strip_enumeration(text).strip()) <= 16 and not re.search(r"[。；;]", text):
            headings[passage.clause] = strip_enumeration(text).strip()  # 五、收费标准: what its lines are about
        mentioned += [n.number for n in find_doc_numbers(View.of(text))]
        # A line that is only another number under a 联系电话 line carries on that line's phones.
        follows_phones = after_phones and _BARE_PHONE.match(text) is not None
        contact = contact_fact(
            text,
            clause=passage.clause,
            issuer=issuer,
            ids=ids,
            in_phone_section=phone_heading == passage.clause or follows_phones,
        )
        after_phones = contact is not None and bool(contact.get("phones"))
        if contact is not None:
            facts.append(contact)
        line_facts: list[Fact] = []
        line_sentences = sentences(text)
        sentence_of: dict[int, int] = {}
        for k, sentence in enumerate(line_sentences):
            if passage.part == "attachment" and passage.line is doc.attachments[passage.attachment or 0].title_line:
                break
            got = sentence_facts(
                sentence,
                clause=passage.clause,
                line=passage.line.number,
                ctx=ctx,
                ids=ids,
                signature=passage.part == "sign",
                heading=headings.get(passage.clause) or headings.get(passage.clause.split("（")[0]),
                previous=line_sentences[k - 1] if k else "",
            )
            line_facts += got.facts
            sentence_of.update((id(f), k) for f in got.facts)
            ctx = ctx.after(got.days)
            problems += got.problems
            for name in mentioned_forms(sentence):
                if name not in named_forms:
                    named_forms.add(name)
                    mention = FoundForm(name, (), (), ("正文提到的表格，原文未附：如有样表，请补充其栏目",), 0)
                    mentioned_form_facts.append(form_fact(mention, clause=passage.clause, quote=sentence, ids=ids))
            dated = dated or got.dated
            stated_counts += [(n, "附件" in sentence) for n in got.stated_counts]
        facts += merge_adjacent_rules(line_facts, sentence_of)
    facts += _attachment_facts(doc, all_passages, ids, stated_counts, problems)
    attached = {f.get("name") for f in facts if f["kind"] == "form"}
    facts += [f for f in mentioned_form_facts if f["name"] not in attached]
    regions, region_problem = _regions(region, issuer, title, registry)
    problems = _header_problems(doc_no, title, issuer, issued, ctx, dated, region_problem) + problems
    own = {doc_no} if doc_no else set()
    forwards = [n for n in dict.fromkeys(mentioned) if n in own_numbers and n not in own]
    cites = [n for n in dict.fromkeys(mentioned) if n not in own and n not in forwards]
    issued_year = None if issued else (ctx.year if ctx.doubt is None else None)
    facts.sort(key=_fact_order(all_passages))
    return DraftNotice(
        doc_no, issuer, issued, issued_year, title, regions, seed, forwards, cites, facts, problems, doc.lines[0].number
    )


def _fact_order(all_passages: list[Passage]) -> Any:
    """Facts in the order of the notice: by clause position, then as found."""
    order = {p.clause: i for i, p in reversed(list(enumerate(all_passages)))}
    position: dict[str, int] = {}

    def key(fact: Fact) -> tuple[int, int]:
        position.setdefault(fact["id"], len(position))
        return order.get(fact["source"]["clause"], len(all_passages)), position[fact["id"]]

    return key


def _header_problems(
    doc_no: str | None,
    title: str | None,
    issuer: str | None,
    issued: dt.date | None,
    ctx: YearContext,
    dated: bool,
    region_problem: str | None,
) -> list[str]:
    out = []
    if doc_no is None:
        out.append(
            "未找到文号（如 粤人社函〔2020〕61号）：公告常没有文号。原文确无文号时请保留 doc_no 为空，"
            "机器人将以“发文单位《标题》（日期）”注明出处；有文号则填写"
        )
    if title is None:
        out.append("未找到标题（“关于……的通知”）：title 须人工填写")
    if issuer is None:
        out.append("未找到发文单位：issuer 须人工填写")
    if issued is None:
        if ctx.from_body and ctx.year is not None:
            out.append(
                f"未找到落款日期，文号与标题也没有年份：未写年份的日期按正文中的{ctx.year}年理解，请核对；"
                "如知道发文日期请填写 issued"
            )
        elif ctx.doubt is None and ctx.year is not None:
            out.append(f"未找到落款日期：issued_year 取自文号或标题（{ctx.year}），如知道发文日期请改填 issued")
        else:
            out.append(f"未找到落款日期，年份也无法确定（{ctx.doubt}）：issued 或 issued_year 须人工填写")
    if not dated:
        out.append("正文中没有找到任何日期（年月日）：请核对原文是否确实没有日期")
    if region_problem:
        out.append(region_problem)
    out.append("summary（本文概要）待填写")
    return out


def _attachment_facts(
    doc: Document, all_passages: list[Passage], ids: Numbering, stated: list[tuple[int, bool]], problems: list[str]
) -> list[Fact]:
    """Occupation tables and forms of the attachments, and forms the 附件 list only names."""
    facts: list[Fact] = []
    attached_titles = [a.title for a in doc.attachments]
    for k, att in enumerate(doc.attachments):
        label = next(p.clause for p in all_passages if p.attachment == k)
        rows = [line.text for line in att.lines]
        names = find_table_list(rows)
        quote = att.title_line.text.strip()
        if names:
            count = _stated_for_table(stated)
            found = FoundList(names, count, quote)
            facts.append(list_fact(found, ids, label, quote, f"{quote} {doc.lines[0].text}", title=att.title))
            if found.mismatch:
                problems.append(
                    f"第{att.title_line.number}行（{label}）表格列出{len(names)}个职业，正文写{count}个：请核对"
                )
            continue
        facts.append(form_fact(read_form(att), clause=label, quote=quote, ids=ids))
    for number, title in doc.listed:
        if any(title == t or title in t or t in title for t in attached_titles):
            continue
        form = listed_form(title)
        if form is not None:
            clause = f"附件{number}" if number is not None else "附件"
            line = next((p.line.text for p in all_passages if p.clause == "附件" and title[:6] in p.line.text), title)
            facts.append(form_fact(form, clause=clause, quote=strip_enumeration(line), ids=ids))
    return facts


def _stated_for_table(stated: list[tuple[int, bool]]) -> int | None:
    """The count of occupations the body gives for an attached table: the one said next to
    附件, else the only one the document states."""
    pointing = {n for n, at_attachment in stated if at_attachment}
    if len(pointing) == 1:
        return pointing.pop()
    values = {n for n, _ in stated}
    return values.pop() if len(values) == 1 else None
