"""A candidate's question once analysed: what retrieval, the occupation rules and the wording read."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from knowledge.datetext import FoundDate
from knowledge.occupation_categories import Category
from knowledge.occupations import OccupationMatch

# "Which ones" about occupations: the answer is a list, so the lists rank first.
_WANTS_LIST = re.compile(
    r"(?:职业|工种|项目)[^，。？?]{0,4}(?:有哪些|哪些|哪几|名单|清单|目录|都有|有什么|有啥)|(?:哪些|哪几个?)(?:职业|工种)"
    # How many: the list states its count (42个职业, 22项职业资格).
    r"|(?:多少|几)(?:个|项|种)(?:职业|工种|职业资格)|(?:职业|工种|职业资格)[^，。？?]{0,4}(?:多少|几)(?:个|项|种)"
)

# "When": the answer is a date or a period, so facts that hold one rank first (证书什么时候 is
# about the day certificates stop, not about how a lost one is replaced).
_ASKS_WHEN = re.compile(
    r"什么时候|啥时候|哪天|哪几天|哪一天|几号|几月|何时|截止|最晚|最迟|多久|多长时间|期限"
    # Whether it is still possible asks whether a deadline has passed.
    r"|还能|还可以|来得及|晚不晚|过了没|过期|还有机会"
)

# "Whom": the answer is a body to contact, so contact facts rank first (有问题该找哪个部门).
_ASKS_WHOM = re.compile(
    r"联系谁|找谁|问谁|咨询谁|找哪个|哪个部门|哪个单位|哪个机构|怎么联系|联系方式|联系电话|咨询电话|打谁|打哪个|电话多少|电话是多少"
)

# 11月几号: a month named, the day asked.
_PROVINCE_LEVEL = re.compile(r"省里|省上|省厅|省级|省人社厅|省(?:职业技能)?鉴定(?:指导)?中心|省中心|省指导中心")
_BEYOND_STATUS = re.compile(
    r"材料|带什么|带哪些|带啥|准备什么|准备哪些|去哪家|哪家|哪个机构|找哪个|已受理报名|不合格|补考"
)
"""What a question about an occupation asks besides its status (考等级证要带哪些材料, 去哪家机构考)
or the situation it asks about (已经报了名的, 没考过的: the rules for them, after the list's line)."""
_MONTH_NAMED = re.compile(r"(?<!\d)(1[0-2]|[1-9])月(?:份)?(?!\s*\d|底|初|中|末)")
_MONTH_ASKED = re.compile(r"(?<!\d)(1[0-2]|[1-9])月(?:份)?(?:的)?(?:几号|哪天|哪一天|几日|多少号)")

# "Who does it": the answer names a body and what it is responsible for (技师归哪里鉴定).
_ASKS_WHO_DOES = re.compile(r"归哪|归谁|谁负责|由谁|谁来|谁组织|谁发证|哪里鉴定|哪儿鉴定|哪个部门负责|哪级|哪一级")

# "Where": the answer names a place to go (5楼窗口, an address); 截止到哪天 asks when.
_ASKS_WHERE = re.compile(r"(?:去哪|在哪|到哪)(?![天年月]|一天|个月|号)|哪里办|哪儿办|地址|地点|哪个窗口")


def asks_province_level(text: str) -> bool:
    """Whether `text` asks for the province's rule or notice (找省里谁, 省里那个)."""
    return bool(_PROVINCE_LEVEL.search(text))


def asks_where(text: str) -> bool:
    """Whether `text` asks where to go (去哪办, 交到哪): a question's or a follow-up's."""
    return bool(_ASKS_WHERE.search(text))


@dataclass(frozen=True)
class Query:
    text: str
    """The question normalised and with its typos repaired."""
    words: list[str]
    region: str | None
    dates: list[FoundDate]
    now: dt.date
    occupation: OccupationMatch | None
    docs: frozenset[str] = frozenset()
    """Notices the question names by number (145号文)."""
    plain_words: tuple[str, ...] = ()
    """The words as segmented, before an unknown occupation is kept whole: what variants compare."""
    category: Category | None = None
    """A group of occupations the question asks about (建筑类工种有哪些)."""
    exam_kinds: frozenset[str] = frozenset()
    """The kinds of exam the occupation named is examined in, by the lists holding it (电子商务师:
    全国统一鉴定), when the question names none itself."""

    @property
    def wants_list(self) -> bool:
        """The question asks which occupations (福建退出目录的职业有哪些, 名单, 哪几个工种)."""
        return self.category is not None or bool(_WANTS_LIST.search(self.text))

    @property
    def asks_when(self) -> bool:
        """The question asks for a date or a period (什么时候, 最晚哪天, 多久)."""
        return bool(_ASKS_WHEN.search(self.text))

    @property
    def month_asked(self) -> int | None:
        """The month a question names when it asks which day of it (下半年统考是11月几号)."""
        m = _MONTH_ASKED.search(self.text)
        return int(m.group(1)) if m else None

    @property
    def asks_province_level(self) -> bool:
        """The province's rule asked for, of the regions' (找省里谁)."""
        return asks_province_level(self.text)

    @property
    def asks_beyond_status(self) -> bool:
        """Something of an occupation besides whether it is still examined (see `_BEYOND_STATUS`)."""
        return bool(_BEYOND_STATUS.search(self.text))

    @property
    def month_named(self) -> int | None:
        """A month the question names without a day (2017年11月育婴员鉴定), if any."""
        m = _MONTH_NAMED.search(self.text)
        return int(m.group(1)) if m else None

    @property
    def asks_where(self) -> bool:
        """The question asks where to go (去哪办, 交到哪)."""
        return asks_where(self.text)

    @property
    def asks_who_does(self) -> bool:
        """The question asks which body is responsible (技师归哪里鉴定, 证书由谁发)."""
        return bool(_ASKS_WHO_DOES.search(self.text))

    @property
    def asks_whom(self) -> bool:
        """The question asks whom to contact (有问题找谁, 联系哪个部门)."""
        return bool(_ASKS_WHOM.search(self.text))

    @property
    def known_occupation(self) -> str | None:
        """The occupation named, when some list of the knowledge base names it too."""
        return self.occupation.name if self.occupation and self.occupation.known else None
