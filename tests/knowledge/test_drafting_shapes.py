"""Shapes of real notices the drafter reads since the second blind corpus: rules stated in a sentence,
lists of levels, places, schools and industries, one-day periods written with a weekday, years read
from the order of dates, corrected dates, phone extensions. Sentences are made up here, in the
wording bureaus use, not copied from a corpus."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from knowledge.drafting import draft_notice
from knowledge.drafting.contacts import find_contact
from knowledge.drafting.corpus_score import score
from knowledge.drafting.dates import YearContext, find_dates
from knowledge.drafting.occupations import find_enumerations
from knowledge.drafting.view import View

NOTICE = """\
某市人力资源和社会保障局
关于开展2025年度第五批次职业技能等级认定工作的通知

各县（区）人力资源和社会保障局：

一、认定职业

本批次认定职业共9个，主要有：电工、焊工、农业经理人、保育师等，具体见附件。认定等级：设（五级/初级工、四级/中级工）2个等级。

二、报名条件

（一）年满16周岁，身体健康；
（二）已取得同职业同等级证书的，不得重复报名。

三、时间安排

（一）报名时间：12月15日至12月26日。
（二）理论知识考试：1月10日（星期六）9:00-10:30，采用计算机考试方式。
（三）成绩于1月下旬公布。

四、联系方式

咨询电话：0716-8881234转305

某市人力资源和社会保障局
2025年12月8日
"""


def test_rules_lists_weekday_periods_and_years_in_reading_order() -> None:
    (notice,) = draft_notice(NOTICE).notices
    rules = [f for f in notice.facts if f["kind"] == "rule"]
    # A sentence under 报名条件 is a rule even without 须/应; one with 不得 is a rule anywhere.
    assert any("年满16周岁" in f["answer"] and f["topic"] == "报名条件" for f in rules)
    assert any("不得重复报名" in f["answer"] for f in rules)
    # The exam's sentence gives a dated fact and, for its non-dated clause, a rule.
    assert any("采用计算机考试方式" in f["answer"] and f["topic"] == "考试安排" for f in rules)
    lists = {tuple(f["occupations"]): f.get("stated_count") for f in notice.facts if f["kind"] == "occupation_list"}
    assert lists[("电工", "焊工", "农业经理人", "保育师")] == 9
    assert lists[("五级/初级工", "四级/中级工")] == 2
    whens = [w for f in notice.facts for w in f.get("dates", [])]
    exam = next(w for w in whens if w.get("start") == dt.date(2026, 1, 10))
    assert (exam["kind"], exam["end"], exam["start_time"], exam["end_time"]) == (
        "range",
        dt.date(2026, 1, 10),
        "09:00",
        "10:30",
    )
    assert any("年份推断" in p and "2026年" in p for p in notice.problems), "the reviewer is told the year was inferred"
    late_january = next(w for w in whens if w.get("precision") == "month")
    assert (late_january["start"], late_january["end"]) == (dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    assert "1月下旬" in late_january["label"], "the notice's words are kept beside the month"
    phones = [p["number"] for f in notice.facts for p in f.get("phones", [])]
    assert phones == ["0716-8881234转305"]


def test_a_date_long_before_the_issue_date_with_nothing_before_it_is_left_to_the_reviewer() -> None:
    ctx = YearContext(2025, dt.date(2025, 12, 8))
    (found,) = find_dates(View.of("成绩于1月20日公布"), ctx)
    assert found.start is None and found.problem is not None and "年份无法确定" in found.problem
    (found,) = find_dates(View.of("成绩于1月20日公布"), ctx.after([dt.date(2025, 12, 26)]))
    assert found.start == dt.date(2026, 1, 20) and found.year == "order"


def test_a_corrected_date_keeps_only_the_new_day() -> None:
    text = (
        "关于调整考试时间的补充通知\n\n本批次理论知识考试时间由原定的9月13日调整为9月20日（星期六）。\n\n"
        "某市职业技能鉴定中心\n2025年8月20日\n"
    )
    (notice,) = draft_notice(text, region="南平").notices
    days = [w.get("date") or w.get("start") for f in notice.facts for w in f.get("dates", [])]
    assert dt.date(2025, 9, 20) in days and dt.date(2025, 9, 13) not in days
    assert any("原定日期" in p and "9月13日" in p for p in notice.problems)


def test_lists_of_places_schools_and_industries_and_lists_that_end_in_deng() -> None:
    def lists(sentence: str) -> list[tuple[tuple[str, ...], int | None, bool]]:
        return [(f.occupations, f.stated, f.complete) for f in find_enumerations(View.of(sentence))]

    assert lists("我市甲县、乙县、丙县3个县列为实施县。") == [(("甲县", "乙县", "丙县"), 3, True)]
    assert lists("全市11所技工院校（含市技师学院、东县技工学校、西区技工学校）的在校学生。") == [
        (("市技师学院", "东县技工学校", "西区技工学校"), 11, False)
    ]
    assert lists("重点支持化工、装备制造、船舶修造等产业领域。") == [(("化工", "装备制造", "船舶修造"), None, False)]
    assert lists("认定职业：农作物植保员、农机修理工、家政服务员等。") == [
        (("农作物植保员", "农机修理工", "家政服务员"), None, False)
    ]
    assert lists("评价职业以电工、焊工、农业经理人为主。") == [(("电工", "焊工", "农业经理人"), None, False)]
    # Materials are not a list (they are a rule), however they are written.
    assert lists("报名时须携带身份证、学历证书、照片等材料。") == []


def test_a_phone_extension_is_part_of_the_number() -> None:
    (phone,) = find_contact(View.of("联系电话：0717-6451234转302")).phones
    assert phone.number == "0717-6451234转302"


def test_rules_are_scored_by_what_they_say_not_by_the_exact_words(tmp_path: Path) -> None:
    draft = draft_notice(NOTICE)
    paraphrased = {"doc_no": None, "facts": [{"kind": "rule", "what": "已取得同职业同等级证书的不得重复报名。"}]}
    unrelated = {"doc_no": None, "facts": [{"kind": "rule", "what": "考生须自带黑色签字笔和橡皮擦参加考试。"}]}
    assert score(draft, paraphrased).count("rule", "correct") == 1
    assert score(draft, unrelated).count("rule", "missed") == 1


def test_a_short_rule_is_read_with_the_sentence_it_leans_on_and_said_once() -> None:
    text = (
        "关于认定计划备案的通知\n\n二、报名条件\n\n"
        "各评价组织须于每月5日前报送认定计划。未备案的，不得组织认定。已取得证书的人员不得重复报名。\n\n"
        "某市人力资源和社会保障局\n2025年3月1日\n"
    )
    (notice,) = draft_notice(text, region="南平").notices
    rules = [f["answer"] for f in notice.facts if f["kind"] == "rule"]
    lean = next(r for r in rules if "未备案的，不得组织认定" in r)
    assert lean.startswith("各评价组织须于每月5日前报送认定计划。"), "the short rule keeps what it is about"
    assert sum(r.count("未备案的") for r in rules) == 1
    for fact in notice.facts:
        assert fact["source"]["quote"].replace("\n", "") in text.replace("\n", ""), "quotes stay verbatim"


def test_hours_on_the_same_day_are_that_day() -> None:
    ctx = YearContext(2024, dt.date(2024, 3, 1))
    (first, same) = find_dates(View.of("理论知识考试定于5月18日9:00-10:30举行，技能操作考核安排在同日14:00-17:00"), ctx)
    assert (same.start, same.end, same.start_time, same.end_time) == (
        dt.date(2024, 5, 18),
        dt.date(2024, 5, 18),
        "14:00",
        "17:00",
    )
    # In the next sentence, 当日 is the last day the notice named.
    (later,) = find_dates(View.of("技能操作考核当日14:00-17:00进行"), ctx.after([first.start]))
    assert (later.start, later.start_time) == (dt.date(2024, 5, 18), "14:00")


def test_the_closing_hour_of_a_period_and_a_venue_line_under_its_heading() -> None:
    ctx = YearContext(2024, dt.date(2024, 12, 1))
    (period,) = find_dates(View.of("报名时间：12月16日至12月28日，报名截止当日16:00关闭系统"), ctx)
    assert (period.end, period.end_time) == (dt.date(2024, 12, 28), "16:00")
    text = (
        "关于冬季认定的公告\n\n五、考试地点\n\n某市职业技术学校（某市某镇东直路299号），各乡镇统一组织考生前往。\n\n"
        "某市人力资源和社会保障局\n2024年11月12日\n"
    )
    (notice,) = draft_notice(text, region="南平").notices
    venues = [(f.get("organization"), f.get("address")) for f in notice.facts if f["kind"] == "contact"]
    assert venues == [("某市职业技术学校", "某市某镇东直路299号")]


def test_dates_written_with_dots_and_slashes_and_their_periods() -> None:
    ctx = YearContext(2024, dt.date(2024, 3, 1))

    def read(text: str) -> list[tuple[object, ...]]:
        return [(f.kind, f.start, f.end, f.start_time, f.end_time) for f in find_dates(View.of(text), ctx)]

    assert read("报名时间：2024.7.8~2024.7.19") == [("range", dt.date(2024, 7, 8), dt.date(2024, 7, 19), None, None)]
    assert read("报名2025/02/17 09:00 － 2025/02/28 17:00") == [
        ("range", dt.date(2025, 2, 17), dt.date(2025, 2, 28), "09:00", "17:00")
    ]
    assert read("考试于2025/03/15（星期六）09:00－10:30") == [
        ("range", dt.date(2025, 3, 15), dt.date(2025, 3, 15), "09:00", "10:30")
    ]
    assert read("每人收费3.5元，系统版本2.3.1") == []
