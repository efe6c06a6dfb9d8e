"""Questions the notices cannot answer although retrieval finds a fact that shares their words: the
content of a document the knowledge base does not hold (人社部发〔2017〕68号), a year no date of the
fact is in (2018年上半年统考哪天, when the notice is 2017's), an amount of money no notice states.
Each is a reason to abstain, said to the candidate, rather than an answer about something else."""

from __future__ import annotations

import re

from knowledge.base import Entry, KnowledgeBase
from knowledge.query import Query
from knowledge.schema import DateRange, Event, OnDate, Relative
from knowledge.search import Hit

_DOC_NO = re.compile(r"([\u4e00-\u9fff]{1,10})\s*[〔\[（(【]\s*(\d{4})\s*[〕\]）)】]\s*(\d{1,4})\s*号")
_RELATION = re.compile(r"依据|根据|落实|转发|引用|贯彻|哪个通知|哪份|哪个文件|什么文件|是不是")
"""How our notices stand to a document (145号是根据哪个文件): answered from the notices' headers."""
_YEAR = re.compile(r"(?<!\d)(20\d{2})\s*年")
_ASKS_DATE = re.compile(r"什么时候|啥时候|哪天|哪几天|哪一天|几号|几月|何时")
_YEAR_DONE = re.compile(
    r"(?<!\d)(20\d{2})\s*年(?:的时候|时|那次)?(?:没|参加|考的|考过|报的|报名的|取得|拿的|通过|不合格)"
)
"""A year something was done in (2016年没考过的): the candidate's past, not the year asked about."""
_ARRANGED = re.compile(r"怎么安排|如何安排|安排的|有什么安排|有啥安排")
"""How a year's work is arranged (2019年鉴定工作怎么安排的), which a notice of another year does not say."""
_WHEN_CUE = re.compile(
    rf"什么时候|啥时候|哪天|哪几天|哪一天|几号|几月|何时|截止|最晚|最迟|期限|多久|还能|还可以|来得及|{_ARRANGED.pattern}"
)
_YEARS_FROM_NOW = {"前年": -2, "去年": -1, "今年": 0, "明年": 1, "后年": 2}
_RELATIVE_YEAR = re.compile("|".join(_YEARS_FROM_NOW))
_CLAUSE = re.compile(r"[，。；？！,;?!\n]")
_FEE = r"(?:鉴定费|考试费|报名费|考务费|费用|收费|补贴|补助)"
AMOUNT = re.compile(
    r"多少钱|几块钱|多少元|几元|价格是|多贵"
    rf"|多少{_FEE}|{_FEE}(?:标准)?(?:是|要|大概|一般|大约|得){{0,2}}(?:多少|几)(?!天|个|分钟|工作日|号|月)"
)
_MONEY = re.compile(r"\d+(?:\.\d+)?\s*元")
_MEMBERS = re.compile(
    r"(?:名单|目录)[^，。？?]{0,4}(?:有哪些|有哪几|有啥|是哪些)|具体(?:是|有)?哪(?:些|几)"
    r"|(?:有|是|选了|选的)哪(?:些|几所|几家)[^，。？?]{0,6}(?:学校|学院|院校|技校|单位)"
    r"|(?:学校|学院|院校|技校|单位|机构)(?:都|分别)?(?:有|是)(?:哪些|哪几[所家个])"
    r"|有(?:没有)?名单|名单(?:呢|有吗|在哪)"
)
"""The members of a list asked for (试点院校名单里有哪些学校, 第一批具体是哪些职业)…"""
_INSTITUTIONS = re.compile(r"机构|学校|学院|院校|技校|单位|企业")
_CRITERIA = re.compile(r"可以|(?<!技)能|符合|条件|要求|哪类|什么样")
"""…not who may (哪些学校可以申请: the conditions answer that)."""
_ASKS_DAY = re.compile(r"几号|几日(?!内)|几月几|具体(?:是)?(?:哪天|哪一天|哪几天|日期|时间)")
"""A calendar day asked for (定期鉴定日是几号), which a rule with no date or a month alone does not
give; 哪一天 may be answered by a day the notice names otherwise (在定期鉴定日)."""
_DAY = re.compile(r"\d{1,2}\s*月\s*\d{1,2}\s*日")
_ASKS_HOW_LONG = re.compile(r"(?<!剩)(?<!还有)(?:多久|多长时间|多少天|几天|几个工作日|多少个工作日)")
"""How long something takes (退费多久能到账); not the days left before a deadline (还剩几天)."""
_UNTIL = re.compile(r"还有多久|多久(?:截止|到期|结束|开始|以后|之后)|还剩")
_PROCESS = re.compile(
    r"多久(?:才|能|可以|会|就|才能)?(?:退|到|拿|发|出|下来|办好|办完|收到|审|批)|多长时间(?:才|能)?(?:退|到|拿|发|出|收到)"
)
"""How long a step takes (多久能退回来, 多久才到账), which a deadline does not say."""
_SPAN = re.compile(
    r"(?:(?<!\d)\d{1,3}|[一二两三四五六七八九十半]+)\s*个?\s*(?:工作日|天|日内|个月|月内|周|小时|分钟|年)|当天|当场|即时"
    r"|季报|月报|年报|季度|每月|每年|每季|每周|每半年"
)
"""How long something takes or how often, as a notice says it (15个工作日内, 7天内, 120分钟, 季报)."""
_BODY_AFTER = re.compile(
    r"[市县区州盟]?的?(?:职业技能)?(?:鉴定(?:指导)?中心|人社局|人社厅|人力资源(?:和|与)?社会保障(?:局|厅)|鉴定站|鉴定所|考试院)"
)
"""A body of a named place (长春市职业技能鉴定中心), whose own contact a province's notice does not give."""
_SCHOOL = re.compile(r"[\u4e00-\u9fff]{2,12}?(?P<kind>高级技工学校|技师学院|技工学校|职业技术学院|职业学院)")
_GENERIC_SCHOOL = re.compile(
    r"一所|这所|那所|哪所|我们|我校|本校|该校|各类|所有|其他|其它|高级|高水平|部省属|省属|市属|厅属|普通|一般|民办|公办"
    r"|年|的|和|与|或|及|、"
)
"""Words of a school's description, not its name (我们这所高级技工学校)."""
_SERVICE = re.compile(
    r"(?:帮|替|给)(?:我|忙)(?:把[^，。？?]{0,10})?(?:报名|报个|报一下|报上|交|缴|付|预约|约个|代报|代缴|办理)"
)
_WHERE_IS = re.compile(
    r"(?P<body>[\u4e00-\u9fff]{0,8}(?:中心|局|厅|机构|站|所|命题部|窗口))[^，。？?]{0,3}(?:在哪(?![天一个年月号])|地址|位置|怎么走|在什么地方)"
)
_ADDRESS = re.compile(r"路\s*\d+\s*号|\d+\s*号|大厦|\d+\s*楼|地址|室")
_ASKS_CONTACT = re.compile(r"电话|联系|地址|邮箱|在哪|在什么地方|怎么走")


_DETAILS = (
    # A pass mark (多少分及格), an age limit (要满多少岁), a web address (网址), a fee waiver (能减免吗):
    # each asked, and the fact does not state one (no score, no age, no address, no waiver).
    (
        re.compile(r"多少分|几分(?:及格|合格|算过)|及格线|合格线|分数线|及格分|合格分"),
        re.compile(r"\d+\s*分(?!钟)"),
        "及格分数",
    ),
    (re.compile(r"多少岁|几岁|多大年龄|年龄(?:要求|限制|条件)|多大(?:才|可以|能)"), re.compile(r"岁"), "年龄要求"),
    (
        re.compile(r"网址|网站|官网|链接|网页|小程序|公众号|app|APP|下载"),
        re.compile(r"https?://|www\.|网站|网址"),
        "网址",
    ),
    (re.compile(r"减免|免费|免收|优惠|打折|报销"), re.compile(r"减免|免费|免收|优惠|报销|不收"), "减免政策"),
    (
        re.compile(r"报名材料|什么材料|哪些材料|啥材料|带什么|带哪些|带啥|准备什么|准备哪些"),
        re.compile(r"材料|复印件|身份证|申报表|申请表|登记表|照片|相片|证明|个人弃考声明|统计表"),
        "所需材料",
    ),
    (
        re.compile(r"收费吗|收不收费|要钱吗|要不要钱|收钱吗|免费吗|花钱吗"),
        re.compile(r"收费|免费|费用|\d+\s*元"),
        "收费规定",
    ),
    (
        re.compile(r"(?:在哪|去哪|哪里|怎么|如何|到哪)查|查询(?:方式|入口|渠道)"),
        re.compile(r"查询|网站|网址|系统"),
        "查询方式",
    ),
    (
        re.compile(r"几点|上班时间|办公时间|工作时间|周末|节假日"),
        re.compile(r"\d{1,2}\s*[:：点]|上午|下午|工作日"),
        "办公时间",
    ),
    (
        re.compile(r"考(?:哪|什么|啥)(?:几道|几个|些)?(?:菜|题|内容)|考试内容|考核内容|考题|出什么题|题型|题库里"),
        re.compile(r"考核内容|考试内容|考试科目"),
        "考试内容",
    ),
)
"""What a question asks a detail of, what a fact stating it contains, and what to call it."""


def asks_members(text: str) -> bool:
    """Whether a question asks for the members of a list (试点院校有哪些, 有名单吗), not who may."""
    return bool(_MEMBERS.search(text)) and not _CRITERIA.search(text)


def asks_detail(text: str) -> bool:
    """Whether a question asks one of the details of `_DETAILS` (a pass mark, a fee, an address…)."""
    return any(asked.search(text) for asked, _, _ in _DETAILS)


def unstated_detail(query: Query, text: str) -> str | None:
    """The kind of detail the question asks that `text` does not state, if any."""
    for asked, stated, name in _DETAILS:
        if asked.search(query.text) and not stated.search(text):
            return name
    return None


def _years_asked(query: Query) -> set[int]:
    """The years of the clauses that ask when (吉林2018年上半年统考哪天), less those inside a full
    date the question gives; a year in another clause is context (2016年没考过的，补考在哪天)."""
    in_dates = {int(y) for d in query.dates for y in _YEAR.findall(query.text[d.span[0] : d.span[1]])}
    clauses = [c for c in _CLAUSE.split(query.text) if _WHEN_CUE.search(c)]
    named = {int(y) for c in clauses for y in _YEAR.findall(c)} - {int(y) for y in _YEAR_DONE.findall(query.text)}
    # 明年的呢, 今年下半年: years counted from the day of the question.
    named |= {query.now.year + _YEARS_FROM_NOW[w] for c in clauses for w in _RELATIVE_YEAR.findall(c)}
    return named - in_dates


def _key(prefix: str, year: str, number: str) -> tuple[str, int, int]:
    return prefix, int(year), int(number)


class Unanswerable:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        held = (_DOC_NO.search(doc) for doc in kb.notices)
        self._held = {_key(*m.groups()) for m in held if m}
        # The clauses that state a day: a rule there is answered with the dated fact beside it.
        self._dated_clauses = {(e.doc_no, e.fact.source.clause) for e in kb.entries if _holds_day(e)}

    def reason(self, query: Query, entry: Entry) -> str | None:
        """Why `entry`, the best fact found, cannot answer the question, or None when it can."""
        return (
            self._unheld_document(query)
            or self._other_year(query, entry)
            or self._no_amount(query, entry)
            or self._no_list(query, entry)
            or self._no_day(query, entry)
            or self._no_detail(query, entry)
            or self._other_month(query, entry)
            or self._no_span(query, entry)
            or self._other_body(query, entry)
            or self._named_school(query, entry)
            or self._service(query, entry)
            or self._body_location(query, entry)
        )

    def _no_day(self, query: Query, entry: Entry) -> str | None:
        """A day asked, and the fact found, and its clause, state none: a rule on when (定期鉴定日),
        or a period named by months alone (2020年5月至12月)."""
        if not _ASKS_DAY.search(query.text) or _holds_day(entry) or _SPAN.search(entry.fact.answer):
            return None  # a span (考后15个工作日内) gives the day, counted from one the candidate names
        if (entry.doc_no, entry.fact.source.clause) in self._dated_clauses:
            return None
        fact = entry.fact
        if isinstance(fact, Event) and fact.dates:
            return f"{entry.citation}只写到月份（{fact.answer.strip()}），没有写具体哪一天"
        return f"{entry.citation}没有写明具体日期"

    def stating_first(self, query: Query, good: list[Hit]) -> list[Hit]:
        """`good` with the first of its top three facts that states the detail asked (a fee, an
        address) moved first, when the top one does not state it."""
        if not asks_detail(query.text):
            return good
        for i, h in enumerate(good[:3]):
            entry = self.kb.entries[h.index]
            if unstated_detail(query, f"{entry.fact.answer}{entry.fact.source.quote}") is None:
                return [h, *good[:i], *good[i + 1 :]]
        return good

    @staticmethod
    def _no_detail(query: Query, entry: Entry) -> str | None:
        detail = unstated_detail(query, f"{entry.fact.answer}{entry.fact.source.quote}")
        return f"{entry.citation}没有写明{detail}" if detail else None

    @staticmethod
    def _other_month(query: Query, entry: Entry) -> str | None:
        """A day of a named month asked (11月…具体是几号), and the fact found has no day in that month
        (a December deadline does not say which November day an exam is)."""
        month = query.month_named
        fact = entry.fact
        if month is None or not _ASKS_DAY.search(query.text) or not isinstance(fact, Event):
            return None
        days = [w.date for w in fact.dates if isinstance(w, OnDate)]
        days += [d for w in fact.dates if isinstance(w, DateRange) for d in (w.start, w.end)]
        if not days or len(days) < len(fact.dates) or any(d.month == month for d in days):
            return None
        return f"{entry.citation}没有写{month}月的具体日期"

    @staticmethod
    def _no_span(query: Query, entry: Entry) -> str | None:
        """How long something takes, asked of a fact that states neither a span nor a date (退费多久
        能到账: the refund rule says how, not how long)."""
        if not _ASKS_HOW_LONG.search(query.text):
            return None
        # 还有多久截止: a date answers that; 多久能退回来 asks how long a step takes, which it does not.
        if _holds_day(entry) and (_UNTIL.search(query.text) or not _PROCESS.search(query.text)):
            return None
        fact = entry.fact
        if _SPAN.search(f"{fact.answer}{fact.source.quote}") or getattr(fact, "durations", None):
            return None
        return f"{entry.citation}没有写明需要多长时间"

    @staticmethod
    def _service(query: Query, entry: Entry) -> str | None:
        """帮我报个名, 帮我把鉴定费交了: something done for the candidate, which this service does not do."""
        if _SERVICE.search(query.text):
            return "本服务只解答通知中的规定，不能代为报名或缴费；请向报考机构办理"
        return None

    @staticmethod
    def _body_location(query: Query, entry: Entry) -> str | None:
        """Where a body is (市职业技能鉴定中心在哪个位置), asked of a fact that gives no address."""
        m = _WHERE_IS.search(query.text)
        if m and not _ADDRESS.search(f"{entry.fact.answer}{entry.fact.source.quote}"):
            return f"{entry.citation}没有写明{m.group('body')}的地址"
        return None

    def _named_school(self, query: Query, entry: Entry) -> str | None:
        """Whether a school named by its own name (广州市工贸技师学院) qualifies: the notices set
        conditions and name no school."""
        for m in _SCHOOL.finditer(query.text):
            name = m.group(0)
            rest = name[: -len(m.group("kind"))]
            places = self.kb.regions.spans(rest)
            if not places:
                continue  # a school's own name starts with its place (广州市工贸技师学院)
            start, end = places[0]
            place = self.kb.regions.detect(rest[start:end])
            # 南京技师学院: a city's name alone before the kind names one school; a province's does not.
            in_city = bool(place) and len(self.kb.regions.lineage(place[0])) > 1
            name, rest = name[start:], rest[end:].lstrip("市县区省")
            fits = 2 <= len(rest) <= 6 or (in_city and not rest)
            if fits and not _GENERIC_SCHOOL.search(rest) and name not in entry.fact.answer:
                return f"通知没有点名具体学校，无法确认{name}是否符合；{entry.citation}只规定了条件"
        return None

    def _other_body(self, query: Query, entry: Entry) -> str | None:
        """The contact of a place's own body (长春市职业技能鉴定中心电话) asked, and the fact found is an
        enclosing region's (吉林省's centre): the notices do not give that body's contact."""
        if query.region is None or query.region in entry.regions or not _ASKS_CONTACT.search(query.text):
            return None
        for start, end in self.kb.regions.spans(query.text):
            place = query.text[start:end]
            body = _BODY_AFTER.match(query.text, end)
            if body and place not in f"{entry.fact.answer}{entry.fact.source.quote}":
                return f"通知没有给出{place}{body.group(0)}的联系方式（{entry.citation}只有{entry.regions[0]}的）"
        return None

    def _unheld_document(self, query: Query) -> str | None:
        if _RELATION.search(query.text):
            return None
        for m in _DOC_NO.finditer(query.text):
            prefix, year, number = m.groups()
            # The prefix may carry words before the issuer's abbreviation (看人社部发): its tail counts.
            if not any(_key(prefix[i:], year, number) in self._held for i in range(len(prefix))):
                return f"您问的是{m.group(0).strip()}的内容，本服务只收录了各地的鉴定通知，没有这份文件的原文"
        return None

    def _other_year(self, query: Query, entry: Entry) -> str | None:
        fact = entry.fact
        if not isinstance(fact, Event):
            return self._undated(query, entry)
        # A yearly event too: that it recurs is what reminders assume, not what a notice of 2017
        # says about 2018.
        if not (query.asks_when or _ARRANGED.search(query.text)):
            return None
        absolute = [w for w in fact.dates if isinstance(w, OnDate | DateRange)]
        if len(absolute) < len(fact.dates):
            return None  # a rule counted from a date the candidate gives holds in any year
        asked = _years_asked(query)
        if not asked:
            return None
        covered = {w.date.year for w in absolute if isinstance(w, OnDate)}
        covered |= {y for w in absolute if isinstance(w, DateRange) for y in range(w.start.year, w.end.year + 1)}
        covered |= {int(y) for y in _YEAR.findall(f"{fact.title}{fact.answer}")}
        missing = sorted(asked - covered)
        if not missing:
            return None
        known = "、".join(str(y) for y in sorted(covered))
        return f"现有通知只有{known}年的{fact.title}，没有{'、'.join(map(str, missing))}年的安排"

    @staticmethod
    def _undated(query: Query, entry: Entry) -> str | None:
        """A date asked for a year (2021年…什么时候申报) and found only a standing rule with no date,
        from a notice of another year that does not speak of that year."""
        if not (_ASKS_DATE.search(query.text) or _ARRANGED.search(query.text)):
            return None
        asked = _years_asked(query)
        spoken = {int(y) for y in _YEAR.findall(f"{entry.fact.title}{entry.fact.answer}")} | {entry.notice.year}
        missing = sorted(asked - spoken)
        if not missing:
            return None
        return f"现有通知没有{'、'.join(map(str, missing))}年的安排（{entry.citation}是{entry.notice.year}年的通知）"

    @staticmethod
    def _no_amount(query: Query, entry: Entry) -> str | None:
        if AMOUNT.search(query.text) and not _MONEY.search(f"{entry.fact.answer}{entry.fact.source.quote}"):
            return "现有通知没有写明具体金额"
        return None

    @staticmethod
    def _no_list(query: Query, entry: Entry) -> str | None:
        """The members of a list asked for, and the best fact is no list: the notice does not name
        them (广东首批试点院校 are published by the 省人社厅 later; 江苏 names no occupations)."""
        if not asks_members(query.text):
            return None
        if entry.fact.kind == "occupation_list" and not _INSTITUTIONS.search(query.text):
            return None  # the occupations of a list are its members; institutions are not
        return f"{entry.citation}没有列出您问的具体名单"


def _holds_day(entry: Entry) -> bool:
    """Whether a fact states a day: a dated event, one counted from a date, or a day in its text."""
    fact = entry.fact
    if isinstance(fact, Event) and any(
        isinstance(w, OnDate | Relative) or (isinstance(w, DateRange) and w.precision == "day") for w in fact.dates
    ):
        return True
    return bool(_DAY.search(fact.answer))
