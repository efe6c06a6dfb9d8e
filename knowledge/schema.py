"""Schema of a notice data file: one published document and the typed facts it states.

Every fact carries the clause it comes from, quoted, so that an answer can cite it.
The models are frozen: a loaded knowledge base is never mutated in place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

ExamKind = Literal[
    "日常鉴定",
    "全国统一鉴定",
    "全省统一鉴定",
    "全省统考",
    "补考",
    "等级认定",
    "竞赛",
    "高级技师统考",
]
Level = Literal["初级工", "中级工", "高级工", "技师", "高级技师"]
Audience = Literal["考生", "报考机构", "鉴定机构", "鉴定中心", "院校", "单位", "人社部门", "评价机构"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Model):
    """Where in the document a fact is stated."""

    clause: str = Field(min_length=1, description="条款位置，如 '二'、'五（一）'、'附件2'")
    quote: str = Field(min_length=4, description="通知原文（逐字摘录）")
    found: list[str] = Field(
        default=[], description="起草时从 quote 中提取的原文片段（如 '9月22日前'），审核页面据此高亮"
    )


TIME_OF_DAY = r"^(?:[01]\d|2[0-3]):[0-5]\d$"


class OnDate(_Model):
    """A single day: the day something happens (`on`) or the last day to do it (`by`)."""

    kind: Literal["date"]
    date: dt.date
    bound: Literal["on", "by"] = "by"
    time: str | None = Field(default=None, pattern=TIME_OF_DAY, description="HH:MM，原文写明钟点时")
    label: str | None = None


class DateRange(_Model):
    """A period; `precision: month` when the notice names only months (2020年5月至12月)."""

    kind: Literal["range"]
    start: dt.date
    end: dt.date
    precision: Literal["day", "month"] = "day"
    start_time: str | None = Field(default=None, pattern=TIME_OF_DAY, description="开始的钟点 HH:MM")
    end_time: str | None = Field(default=None, pattern=TIME_OF_DAY, description="结束的钟点 HH:MM")
    label: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        if self.end < self.start:
            raise ValueError("end is before start")
        return self


class Relative(_Model):
    """A date defined from another one: '考前7个工作日', '考后15个工作日内'."""

    kind: Literal["relative"]
    amount: int = Field(ge=0)
    unit: Literal["working_days", "days"]
    direction: Literal["before", "after"]
    anchor: str = Field(description="相对的日期是什么，如 '考试日'、'成绩发布'")
    anchor_kind: Literal["exam_date", "exam_end", "results", "other"] = "other"
    label: str | None = None


When = Annotated[OnDate | DateRange | Relative, Field(discriminator="kind")]


class Applies(_Model):
    """Who and what a fact concerns; empty lists mean 'not restricted'."""

    audience: list[Audience] = []
    exam_kinds: list[ExamKind] = []
    levels: list[Level] = []
    occupation_lists: list[str] = Field(default=[], description="ids of occupation_list facts")
    occupations_note: str | None = Field(default=None, description="范围说明，如 '《国家职业资格目录》之外的职业'")


class Count(_Model):
    value: int
    unit: str = Field(description="个职业、项职业资格、张、份 …")
    what: str


class _Fact(_Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    title: str
    topic: str
    answer: str = Field(min_length=4, description="面向考生的回答，忠实于原文")
    questions: list[str] = Field(default=[], description="考生可能的问法，用于检索")
    keywords: list[str] = []
    regions: list[str] | None = Field(default=None, description="覆盖文件的 regions，仅当条款只适用于部分地区")
    applies: Applies = Applies()
    counts: list[Count] = []
    source: Source
    # Set on every fact `kb draft` extracts; the loader refuses a file that still has one, so a
    # machine-extracted fact is never published before someone has read it against its source.
    review: bool = Field(default=False, description="起草时自动提取、尚待人工核对（核对后删除或设为 false）")


class Event(_Fact):
    """Something that happens on a date, in a period, or relative to another date."""

    kind: Literal["event", "deadline"]
    dates: list[When] = Field(min_length=1)
    action: str
    if_missed: str | None = None
    recurs: Literal["yearly"] | None = Field(
        default=None, description="每年同月同日重复（如每年的统一鉴定报名期）；提醒按当年推算并提示以当年通知为准"
    )


class OccupationList(_Fact):
    kind: Literal["occupation_list"]
    status: Literal["exiting_catalog", "national_unified", "provincial_unified", "makeup_unified", "other"]
    occupations: list[str] = Field(min_length=1)
    stated_count: int | None = None
    batch: str | None = None

    @field_validator("occupations")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        twice = sorted({o for o in v if v.count(o) > 1})
        if twice:
            raise ValueError(f"listed twice: {', '.join(twice)}")
        return v

    @field_validator("stated_count")
    @classmethod
    def _count_matches(cls, v: int | None, info: ValidationInfo) -> int | None:
        listed = info.data.get("occupations")
        if v is not None and listed is not None and v != len(listed):
            raise ValueError(f"stated_count is {v} but {len(listed)} occupations are listed")
        return v


class Duration(_Model):
    subject: str = Field(description="科目，如 '理论知识'")
    levels: list[Level] = []
    minutes: int | None = None
    text: str | None = Field(default=None, description="时长不是分钟数时的原文，如 '视工种不同分别确定'")


class Authority(_Model):
    body: str = Field(description="负责机构，如 '县级鉴定中心'")
    levels: list[Level] = []
    scope: str = Field(description="负责什么，如 '本县（市）初级工、中级工鉴定'")


class Rule(_Fact):
    """A standing rule: who certifies what, exam formats, materials, turnaround, eligibility."""

    kind: Literal["rule"]
    durations: list[Duration] = []
    authorities: list[Authority] = []
    materials: list[str] = []
    periods: list[Relative] = Field(default=[], description="时限，如 '考后15个工作日内发布成绩'")


class Phone(_Model):
    number: str = Field(pattern=r"^[0-9()（） -]{5,20}$")
    label: str | None = Field(default=None, description="如 '传真'、'报名咨询'")


class Contact(_Fact):
    kind: Literal["contact"]
    organization: str
    department: str | None = None
    person: str | None = None
    phones: list[Phone] = []
    emails: list[str] = []
    address: str | None = None
    postcode: str | None = None

    @field_validator("emails")
    @classmethod
    def _emails(cls, v: list[str]) -> list[str]:
        for e in v:
            if "@" not in e:
                raise ValueError(f"not an e-mail address: {e}")
        return v


class FormField(_Model):
    label: str
    kind: Literal["text", "date", "id_number", "phone", "signature", "occupation", "level", "photo", "table"] = "text"
    required: bool = True


class Form(_Fact):
    """An attached form: its field labels, table columns and, for declarations, the wording."""

    kind: Literal["form"]
    name: str
    fields: list[FormField] = []
    columns: list[str] = []
    template: str | None = Field(default=None, description="声明正文，占位符用 {字段名}")
    notes: list[str] = []


Fact = Annotated[Event | OccupationList | Rule | Contact | Form, Field(discriminator="kind")]


class WithdrawalPolicy(_Model):
    """How a candidate withdraws with a refund under this notice. Every part names the fact that
    states it, so the request flow cites the notice instead of hard-coding a rule."""

    grant: str = Field(description="允许退考退费的条款（fact id）")
    deadline: str | None = Field(default=None, description="登记截止（fact id，取其第一个 by 日期）")
    exam_by: str | None = Field(default=None, description="考试须在此日期前完成（fact id）")
    occupation_list: str | None = Field(default=None, description="可退考的职业名单（fact id）；无则由工作人员核实")
    scope_question: str | None = Field(
        default=None, description="无名单时请考生确认是否属于适用范围（正面提问，回答“是”即属于）"
    )
    unsure_template: str | None = Field(
        default=None,
        description="考生不确定是否属于适用范围时的声明正文：不写明其未说过的理由，写明由报考机构核实",
    )
    declaration: str | None = Field(default=None, description="声明表格（form fact id，含 template）")
    template: str | None = Field(default=None, description="通知未附声明样式时，依通知原文拟定的声明正文")
    template_note: str | None = None
    refund: str | None = Field(default=None, description="费用退还方式（fact id）")
    report: str | None = Field(default=None, description="报考机构报送名单的期限（fact id），用于说明后续流程")
    register_with: str = "原报考机构"

    @model_validator(mode="after")
    def _declaration_or_template(self) -> WithdrawalPolicy:
        if (self.declaration is None) == (self.template is None):
            raise ValueError("exactly one of declaration and template is required")
        if self.occupation_list is None and self.scope_question is None:
            raise ValueError("scope_question is required when there is no occupation_list")
        return self


def citation_of(data: Mapping[str, Any]) -> str | None:
    """How a notice mapping is cited: its document number, else 发文单位《标题》（日期）; None when
    neither can be made (the missing fields are reported where they are checked)."""
    if data.get("doc_no"):
        return str(data["doc_no"])
    issuer, title = data.get("issuer"), data.get("title")
    issued = data.get("issued")
    if isinstance(issued, str):
        try:
            issued = dt.date.fromisoformat(issued)
        except ValueError:
            issued = None
    when = (
        f"{issued.year}年{issued.month}月{issued.day}日"
        if isinstance(issued, dt.date)
        else (f"{data['issued_year']}年" if data.get("issued_year") else None)
    )
    return f"{issuer}《{title}》（{when}）" if issuer and title and when else None


class Notice(_Model):
    """One published document (通知/公告) and the facts it states."""

    doc_no: str = Field(
        min_length=4,
        description="文号；公告等没有文号时留空（null），以“发文单位《标题》（日期）”作为出处",
    )
    numbered: bool = Field(default=True, description="原文有文号（由 doc_no 是否留空决定，无需填写）")
    issuer: str
    issued: dt.date | None = None
    issued_year: int | None = Field(default=None, description="只知道年份时填写")
    title: str
    regions: list[str] = Field(min_length=1)
    seed: str | None = Field(default=None, description="原文文件名（../shared/seeds/）")
    forwards: list[str] = Field(default=[], description="本文转发或落实的文件号")
    cites: list[str] = Field(default=[], description="文中引用的其他文件号")
    attachments: list[str] = Field(default=[], description="附件名称，按原文顺序；没有附件时留空")
    version: int = 1
    supersedes: list[str] = []
    summary: str
    facts: list[Fact] = Field(min_length=1)
    withdrawal: WithdrawalPolicy | None = Field(default=None, description="退考退费办理规则")
    review: bool = Field(default=False, description="文头（文号、发文单位、日期、标题、地区）为自动提取、尚待核对")
    problems: list[str] = Field(default=[], description="起草时无法确定的事项；逐条解决并删除后才能发布")

    @model_validator(mode="before")
    @classmethod
    def _cited_without_a_number(cls, data: Any) -> Any:
        """Most announcements (公告) have no document number: such a notice is cited, and known, by
        its issuer, title and date, which is what `doc_no` then holds."""
        if not isinstance(data, dict) or data.get("doc_no") not in (None, ""):
            return data
        cited = citation_of(data)
        return data if cited is None else {**data, "doc_no": cited, "numbered": False}

    @model_validator(mode="after")
    def _consistent(self) -> Notice:
        if self.issued is None and self.issued_year is None:
            raise ValueError("either issued or issued_year is required")
        ids = [f.id for f in self.facts]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate fact ids: {', '.join(dupes)}")
        return self

    @property
    def year(self) -> int:
        return self.issued.year if self.issued else int(self.issued_year or 0)

    def issued_by(self, day: dt.date) -> bool:
        """Whether the notice had been issued on `day`: it governs nothing before. A notice known
        only by its year counts from the first day of that year."""
        if self.issued is not None:
            return self.issued <= day
        return self.year <= day.year
