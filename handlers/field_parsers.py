"""Parsers for the fields of the withdrawal/refund form (退考退费登记).

Each parser takes what a candidate typed in a chat and returns `Ok` or `Invalid` (see `handlers.parsing`).
They are pure: no I/O, no clock; `today` is passed in. Messages never repeat a full ID or phone number.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from handlers.parsing import Confirm, Invalid, Ok
from handlers.person_names import NOT_NAMES, parse_name
from handlers.text import compact
from knowledge.datetext import find_dates
from storage.masking import mask_id_number, mask_phone
from storage.personal_numbers import Number, find_numbers

__all__ = [
    "LEVELS",
    "LEVEL_UNSURE",
    "looks_like_question",
    "find_id_number",
    "find_phone",
    "parse_exam_date",
    "parse_id_number",
    "parse_institution",
    "parse_level",
    "parse_name",
    "parse_phone",
    "parse_receipt_no",
    "parse_yes_no",
]

# Characters trimmed from the end of an answer: people finish chat messages with them.
_TRAILING_PUNCT = "。．.！!，,；;、~…"
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"


def _nfkc(text: str) -> str:
    """Full-width digits, letters and punctuation become ASCII; U+3000 becomes a space."""
    return unicodedata.normalize("NFKC", text)


def _trim(text: str) -> str:
    return text.strip().rstrip(_TRAILING_PUNCT).strip()


# --- ID number --------------------------------------------------------------------------------------------

_PROVINCE_CODES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
    | {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83}
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_EARLIEST_BIRTH = dt.date(1900, 1, 1)
MIN_AGE = 12
"""Younger than this, the number is not a candidate's (a newborn's, a child's typed by mistake).
The notices provide for certificates of candidates under 16, so the bound is well below that."""
_ID_HINT = "请输入18位居民身份证号码（最后一位可能是X）"


def id_check_char(first17: str) -> str:
    """The GB 11643-1999 check character for the first 17 digits."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def parse_id_number(text: str, *, today: dt.date) -> Ok | Invalid:
    """An 18-character resident ID number, checked for area, birth date (a candidate's age) and
    check digit, typed in any way (see storage.personal_numbers)."""
    numbers = find_numbers(text)
    ids = sorted({n.digits for n in numbers if n.kind == "id"})
    if len(ids) > 1:
        return Invalid(f"您的消息里有{len(ids)}个18位号码，请一次只输入一个身份证号码。")
    if not ids:
        return Invalid(_not_an_id(numbers))
    number = ids[0]
    if int(number[:2]) not in _PROVINCE_CODES:
        return Invalid(f"身份证号码的前两位（{number[:2]}）不是有效的省份代码，请核对后重新输入。")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return Invalid("身份证号码第7至14位的出生日期不是一个存在的日期，请核对后重新输入。")
    if birth > today:
        return Invalid("身份证号码第7至14位的出生日期晚于今天，请核对后重新输入。")
    if birth < _EARLIEST_BIRTH:
        return Invalid("身份证号码第7至14位的出生日期早于1900年，请核对后重新输入。")
    if id_check_char(number[:17]) != number[17]:
        return Invalid("身份证号码未通过校验（最后一位校验码不符），请核对后重新输入。")
    if _age(birth, today) < MIN_AGE:
        return Invalid(
            f"这个身份证号码的出生日期是{birth.year}年{birth.month}月{birth.day}日，不满{MIN_AGE}周岁，"
            "不像是考生本人的号码。请输入考生本人的身份证号码。"
        )
    return Ok(number, mask_id_number(number))


def find_id_number(text: str, *, today: dt.date) -> tuple[Ok | Invalid, tuple[int, int]] | None:
    """The ID number in a message typed for another question, with its span; None when it has none."""
    found = [n for n in find_numbers(text) if n.kind == "id"]
    if len(found) != 1:
        return None
    return parse_id_number(found[0].digits, today=today), (found[0].start, found[0].end)


def find_phone(text: str) -> tuple[Ok | Invalid, tuple[int, int]] | None:
    """The mobile number in a message typed for another question, with its span."""
    found = [n for n in find_numbers(text) if n.kind == "phone"]
    if len(found) != 1:
        return None
    return parse_phone(found[0].digits), (found[0].start, found[0].end)


def _not_an_id(numbers: list[Number]) -> str:
    if any(len(n.digits) == 18 and "X" in n.digits[:17] for n in numbers):
        return "身份证号码的前17位都应是数字，只有最后一位可能是X，请核对后重新输入。"
    if any(n.kind == "id15" for n in numbers):
        return "旧的15位身份证号码已不再受理，请输入您现行居民身份证上的18位号码。"
    if any(n.kind == "phone" for n in numbers):
        return f"这看起来是手机号码，不是身份证号码。{_ID_HINT}。"
    if not numbers:
        return f"没有识别到身份证号码，{_ID_HINT}。"
    longest = max(numbers, key=lambda n: len(n.digits))
    return f"您输入的号码是{len(longest.digits)}位，身份证号码应为18位，{_ID_HINT}。"


def _age(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


# --- phone ------------------------------------------------------------------------------------------------

_PHONE_HINT = "请输入11位手机号码，例如 138 1234 5678"
_LANDLINE = re.compile(r"(?<![0-9])0[0-9]{2,3}[\s\-)）]*[0-9]{7,8}(?![0-9])")


def parse_phone(text: str) -> Ok | Invalid:
    """An 11-digit mainland mobile number, typed in any way (spaces, dashes, dots, +86, inside a sentence)."""
    numbers = find_numbers(text)
    mobiles = sorted({n.digits for n in numbers if n.kind == "phone"})
    if len(mobiles) > 1:
        return Invalid(f"您的消息里有{len(mobiles)}个手机号码，请只输入一个能联系到您的手机号码。")
    if mobiles:
        return Ok(mobiles[0], mask_phone(mobiles[0]))
    if any(n.kind in ("id", "id15") for n in numbers):
        return Invalid(f"这看起来是身份证号码，不是手机号码。{_PHONE_HINT}。")
    if not numbers:
        return Invalid(f"没有识别到手机号码，{_PHONE_HINT}。")
    longest = max(numbers, key=lambda n: len(n.digits)).digits
    if _LANDLINE.search(_nfkc(text)) or "座机" in text or "固话" in text:
        return Invalid(f"这看起来是座机号码。为了能及时联系到您，{_PHONE_HINT}。")
    if len(longest) == 11:
        return Invalid(f"这不是有效的手机号码（手机号码以13至19开头），{_PHONE_HINT}。")
    return Invalid(f"您输入的号码是{len(longest)}位，{_PHONE_HINT}。")


# --- exam date --------------------------------------------------------------------------------------------

_DATE_EXAMPLES = "例如：2017年10月15日、10月15日、10.15 或 2017-10-15"


def _show_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _next_occurrence(month: int, day: int, today: dt.date) -> dt.date | None:
    """The first `month`/`day` on or after `today`; 2月29日 may be up to four years away."""
    for year in range(today.year, today.year + 9):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


def parse_exam_date(
    text: str, *, today: dt.date, latest: dt.date | None = None, latest_reason: str = ""
) -> Ok | Invalid:
    """The exam date originally scheduled; without a year, its next occurrence on or after `today`."""
    # Spaces go only around date punctuation: removing all of them would glue two dates into one number.
    s = re.sub(r"\s*([年月日号./\-])\s*", r"\1", _nfkc(text).strip())
    # find_dates knows neither two-digit years (17年10月15日) nor a bare day after 月 (10月15);
    # candidates type both, and in this form a year can only be 20xx.
    s = re.sub(r"(?<![0-9])([0-9]{2})年(?=[0-9]{1,2}月)", r"20\1年", s)
    s = re.sub(r"(月[0-9]{1,2})(?![0-9日号])", r"\1日", s)
    found = find_dates(s, today, future=False)
    if not found:
        return Invalid(f"没有识别到考试日期，请输入原定的考试日期，{_DATE_EXAMPLES}。")
    dates: set[dt.date] = set()
    for item in found:
        if item.date is None:
            # find_dates takes a yearless date in today's year, so 2月29日 is None in a non-leap year
            # although it exists; probe a leap year before calling it impossible.
            leap = None if item.year_given else find_dates(item.text, dt.date(2000, 1, 1), future=False)
            if not leap or leap[0].date is None:
                return Invalid(f"{item.text}不存在，请核对考试日期后重新输入，{_DATE_EXAMPLES}。")
            day = _next_occurrence(2, 29, today)
        elif item.year_given:
            day = item.date
        else:
            # future=True only moves days more than a month past to next year; the form wants the next
            # occurrence, so the year is chosen here.
            day = _next_occurrence(item.date.month, item.date.day, today)
        if day is not None:
            dates.add(day)
    if not dates:
        return Invalid(f"没有识别到考试日期，请输入原定的考试日期，{_DATE_EXAMPLES}。")
    if len(dates) > 1:
        shown = "、".join(_show_date(d) for d in sorted(dates))
        return Invalid(f"您的消息里有多个日期（{shown}），请只输入原定的考试日期。")
    exam = dates.pop()
    if exam < today:
        return Invalid(
            f"考试日期已过：{_show_date(exam)}早于今天（{_show_date(today)}），已经考过的考试无法办理退考。"
            "如果日期输错了，请重新输入原定的考试日期。"
        )
    if latest is not None and exam > latest:
        reason = f"{latest_reason.rstrip('。')}。" if latest_reason else ""
        return Invalid(
            f"{_show_date(exam)}晚于可登记的最晚考试日期{_show_date(latest)}。{reason}请核对后重新输入考试日期。"
        )
    return Ok(exam, _show_date(exam))


# --- level ------------------------------------------------------------------------------------------------

LEVELS = ("五级/初级工", "四级/中级工", "三级/高级工", "二级/技师", "一级/高级技师")
LEVEL_UNSURE = "不确定（由报考机构核实）"
_UNSURE = frozenset(
    {"不知道", "不清楚", "不确定", "忘了", "不记得了", "不记得", "记不清了", "记不清", "不太清楚", "不晓得"}
)
_LEVEL_BY_NUMBER = {"五": 0, "5": 0, "四": 1, "4": 1, "三": 2, "3": 2, "二": 3, "2": 3, "一": 4, "1": 4}
_LEVEL_BY_WORD = {
    "高级技师": 4,
    "技师": 3,
    "高级工": 2,
    "高级": 2,
    "中级工": 1,
    "中级": 1,
    "初级工": 0,
    "初级": 0,
}
# Longest words first so 高级技师 is never read as 高级 or 技师; 高级工程师 is a title, not a skill level;
# the numeral must not be the tail of a longer number (十二级, 15级).
_LEVEL = re.compile(
    r"(?P<word>高级技师|技师|高级工(?!程)|高级(?!工程)|中级工(?!程)|中级(?!工程)|初级工(?!程)|初级(?!工程))"
    r"|(?<![\d〇零一二两三四五六七八九十])(?P<num>[一二三四五1-5])级"
)
_LEVEL_OPTIONS = "、".join(LEVELS)


def parse_level(text: str) -> Ok | Invalid:
    """申报等级, returned as one of `LEVELS`, or LEVEL_UNSURE for a candidate who does not know it
    (the institution they registered with does)."""
    s = re.sub(r"\s+", "", _nfkc(text))
    if compact(s) in _UNSURE:
        return Ok(LEVEL_UNSURE, LEVEL_UNSURE)
    chosen = {_LEVEL_BY_WORD[m["word"]] if m["word"] else _LEVEL_BY_NUMBER[m["num"]] for m in _LEVEL.finditer(s)}
    if len(chosen) > 1:
        shown = "、".join(LEVELS[i] for i in sorted(chosen))
        return Invalid(f"您的消息里有多个等级（{shown}），请只选择一个：{_LEVEL_OPTIONS}。")
    if not chosen:
        return Invalid(f"没有识别到申报等级，请从以下五个等级中选择一个：{_LEVEL_OPTIONS}。")
    level = LEVELS[chosen.pop()]
    return Ok(level, level)


# --- institution ------------------------------------------------------------------------------------------

_INSTITUTION_PREFIX = re.compile(r"^(?:原报考机构|报考机构|机构名称)\s*(?:是|为|:|：)?\s*")
_NAME_LETTER = re.compile(rf"[{_CJK}A-Za-z]")
_INSTITUTION_EXAMPLE = "例如：广州市职业技能鉴定指导中心、某某职业技术学校"
_ORGANISATION = re.compile(
    r"学校|学院|大学|中学|技校|技工|职校|中专|中心|站|所|公司|机构|协会|学会|局|院|培训|鉴定|集团|部|处|厂|店|社|馆|会|办"
)


def parse_institution(text: str) -> Ok | Invalid | Confirm:
    """原报考机构: the school, training centre or 鉴定所/站 the candidate registered with. A name that
    does not read like an organisation is asked back rather than taken."""
    # The value keeps the candidate's own characters (full-width brackets are normal in these names).
    s = _trim(_INSTITUTION_PREFIX.sub("", text.strip()))
    if not s:
        return Invalid(f"请输入您原来报考的机构名称（学校、培训中心或鉴定所/站），{_INSTITUTION_EXAMPLE}。")
    if compact(s) in NOT_NAMES or len(_NAME_LETTER.findall(_nfkc(s))) < 2:
        return Invalid(f"这看起来不像机构名称，请输入报考机构的名称（至少包含两个汉字），{_INSTITUTION_EXAMPLE}。")
    if len(s) > 60:
        return Invalid(f"机构名称最多60个字，您输入了{len(s)}个字，请只输入机构名称。")
    if any(n.personal for n in find_numbers(s)):
        return Invalid(f"机构名称里不应有身份证号或手机号，请只输入机构名称，{_INSTITUTION_EXAMPLE}。")
    if not _ORGANISATION.search(s):
        return Confirm(s, s, f"“{s}”是您报考机构的名称吗？请回复“是”或“否”（机构名称一般以学校、中心、站、所等结尾）。")
    return Ok(s, s)


# --- receipt number ---------------------------------------------------------------------------------------

_RECEIPT_SKIPS = frozenset(
    {"无", "没有", "跳过", "不知道", "暂无", "忘了", "-", "没", "忘记了", "不清楚", "没有票据", "skip", "none"}
    | {"不记得", "不记得了", "记不得了", "丢了", "弄丢了", "票据丢了", "找不到了", "没有了", "没票", "没拿到", "不需要"}
)
_RECEIPT_PREFIX = re.compile(r"^(?:票据号码|票据号|票号|编号)\s*[:：]?\s*|^no[.:]?\s*(?=\d)", re.IGNORECASE)
_RECEIPT = re.compile(r"[A-Za-z0-9\-]{4,40}")
_RECEIPT_HINT = "请照票据上的号码输入；没有票据或不记得号码，可以回复“跳过”。"


def parse_receipt_no(text: str) -> Ok | Invalid:
    """缴费票据号 (optional): Ok(None, "未提供") when the candidate has none. A phone or ID number is
    never taken for one (and so never stored in clear)."""
    s = _trim(_nfkc(text))
    if compact(s) in _RECEIPT_SKIPS or s.lower() in _RECEIPT_SKIPS:
        return Ok(None, "未提供")
    found = find_numbers(s)
    if any(n.kind == "phone" for n in found):
        return Invalid(
            "这看起来是手机号码，不是缴费票据号。请照票据上的号码输入；没有票据或不记得号码，可以回复“跳过”。"
        )
    if any(n.kind in ("id", "id15") for n in found):
        return Invalid(
            "这看起来是身份证号码，不是缴费票据号。请照票据上的号码输入；没有票据或不记得号码，可以回复“跳过”。"
        )
    number = re.sub(r"\s+", "", _RECEIPT_PREFIX.sub("", s))
    # Receipt numbers always carry digits; requiring one keeps words such as "unknown" out.
    if _RECEIPT.fullmatch(number) and any(c.isdigit() for c in number):
        return Ok(number, number)
    return Invalid(
        "缴费票据号应为4至40位的字母、数字或短横线，请照票据上的号码输入。如果没有票据或不知道号码，可以回复“跳过”。"
    )


# --- yes/no and questions ---------------------------------------------------------------------------------

_YES = frozenset(
    {"是", "是的", "是啊", "对", "对的", "对啊", "嗯", "嗯嗯", "好", "好的", "没错", "确认", "确定", "yes", "y", "ok"}
)
_NO = frozenset({"否", "不是", "不是的", "不对", "不", "没有", "错", "错了", "no", "n"})
# Question marks are not trimmed: "是？" asks back rather than confirms.
_YES_NO_TRIM = " 。.！!，,~…、'\"“”"


def parse_yes_no(text: str) -> bool | None:
    """True for 是/对/好/确认…, False for 否/不是/不对…, None for anything else."""
    s = re.sub(r"\s+", "", _nfkc(text)).strip(_YES_NO_TRIM).lower()
    if s in _YES:
        return True
    if s in _NO:
        return False
    return None


_QUESTION_WORDS = re.compile(
    r"[?吗哪啥谁咋]|怎么|什么|多少|几时|几号|几天|几月|能不能|可不可以|是否|为什么|如何|何时|多久|多长"
    # 么 and 呢 ask only at the end of a clause: 么 is also a surname and 呢 a word in 呢绒厂.
    r"|[么呢](?=$|[\s.,!;:~…。、])"
)


def looks_like_question(text: str) -> bool:
    """True when the text reads as a question to answer rather than a value for the current field."""
    return _QUESTION_WORDS.search(_nfkc(text).strip()) is not None


_OCCUPATION_FILLER = re.compile(r"^(我|本人)?(报的是|报考的是|报考|报的|报了|考的是|是|关心)|(职业|工种|专业|证|考试)$")


def occupation_name(text: str) -> str:
    """The occupation in '我报的是电工' / '电工职业' / '关心电工考试': the words around it dropped."""
    word = compact(text)
    return _OCCUPATION_FILLER.sub("", word) or word
