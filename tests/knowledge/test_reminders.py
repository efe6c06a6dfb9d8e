"""Which dates the reminder planner learns for a subscriber, against the real notices."""

import datetime as dt
import typing

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from knowledge.base import KnowledgeBase
from knowledge.reminders import DueDate, Interest, due_dates
from knowledge.schema import Event, ExamKind, Notice

D = dt.date
GZ = "穗人社职鉴函〔2017〕145号"
GD = "粤人社职鉴〔2017〕70号"
JL = "吉人社办字〔2017〕11号"


def by_id(found: list[DueDate]) -> dict[str, DueDate]:
    return {d.key: d for d in found}


def facts(found: list[DueDate]) -> set[str]:
    return {d.fact_id for d in found}


# ── fixed dates ──────────────────────────────────────────────────────────────────────────


def test_guangzhou_candidate_is_reminded_of_the_withdrawal_deadline(kb):
    found = due_dates(kb, Interest("广州市"), today=D(2017, 9, 1))
    withdraw = [d for d in found if d.fact_id == "gz145.withdraw-register"]
    assert len(withdraw) == 1
    due = withdraw[0]
    assert (due.day, due.kind, due.doc_no) == (D(2017, 9, 30), "deadline", GZ)
    assert "2017年9月30日" in due.text and "退考退费登记" in due.text
    assert "逾期未登记退考退费的视为选择继续参加考试" in due.text
    assert not due.personal and not due.recurring and due.exact


def test_guangzhou_gets_only_candidate_facing_dates_and_its_own_over_the_provinces(kb):
    found = due_dates(kb, Interest("广州市"), today=D(2017, 9, 1))
    # Institution-only deadlines (报考机构 refund report, 单位 photos, 院校 statistics) are not for
    # candidates; 广东's 9月22日 is replaced by 广州's own 9月30日 (145号 implements 70号).
    assert facts(found) == {"gz145.withdraw-register", "gz145.exam-deadline", "gz145.makeup"}
    assert all(d.doc_no == GZ for d in found)
    assert D(2017, 9, 22) not in {d.day for d in found}


def test_other_guangdong_cities_follow_the_province(kb):
    found = due_dates(kb, Interest("深圳市"), today=D(2017, 9, 1))
    assert ("gd70.withdraw-register", D(2017, 9, 22), GD) in {(d.fact_id, d.day, d.doc_no) for d in found}
    # A notice for a city inside the candidate's province does not bind someone who said 广东.
    assert GZ not in {d.doc_no for d in due_dates(kb, Interest("广东省"), today=D(2017, 9, 1))}


def test_a_passed_deadline_is_not_returned(kb):
    found = due_dates(kb, Interest("广州市"), today=D(2017, 10, 1))
    assert "gz145.withdraw-register" not in facts(found)
    assert all(d.day >= D(2017, 10, 1) for d in found)
    assert due_dates(kb, Interest("广州市"), today=D(2026, 5, 1)) == []


def test_the_deadline_day_itself_is_still_returned(kb):
    found = due_dates(kb, Interest("广州市"), today=D(2017, 9, 30))
    assert "gz145.withdraw-register" in facts(found)


def test_horizon_limits_how_far_ahead(kb):
    found = due_dates(kb, Interest("广州市"), today=D(2017, 9, 1), horizon_days=29)
    assert [d.day for d in found] == [D(2017, 9, 30)]
    assert due_dates(kb, Interest("广州市"), today=D(2017, 9, 1), horizon_days=28) == []


def test_jilin_exam_and_makeup_days_are_exams(kb):
    found = due_dates(kb, Interest("吉林省"), today=D(2017, 1, 1))
    exams = {(d.fact_id, d.day) for d in found if d.kind == "exam"}
    assert exams == {
        ("jl11.makeup-dates", D(2017, 4, 22)),
        ("jl11.makeup-dates", D(2017, 5, 20)),
        ("jl11.unified-exam-dates", D(2017, 5, 20)),
        ("jl11.unified-exam-dates", D(2017, 11, 18)),
    }
    # Registration (报名参加…) is a window, not an exam.
    reg = {(d.day, d.kind) for d in found if d.fact_id == "jl11.unified-registration"}
    assert reg == {
        (D(2017, 3, 15), "opens"),
        (D(2017, 4, 14), "deadline"),
        (D(2017, 9, 5), "opens"),
        (D(2017, 10, 10), "deadline"),
    }


def test_publication_dates_and_month_periods_are_not_reminders(kb):
    found = due_dates(kb, Interest("广东省"), today=D(2020, 1, 1))
    # 粤人社函〔2020〕61号: its 发文 dates and 2020年5月至12月 periods are no days to act on.
    assert found == []


# ── yearly recurrence ────────────────────────────────────────────────────────────────────


def test_jilin_unified_registration_is_projected_into_this_and_next_year(kb):
    found = due_dates(kb, Interest("吉林省", exam_kind="全国统一鉴定"), today=D(2026, 8, 1))
    keyed = by_id(found)
    opens = keyed["jl11.unified-registration#1:start:2026"]
    closes = keyed["jl11.unified-registration#1:end:2026"]
    assert (opens.day, opens.kind) == (D(2026, 9, 5), "opens")
    assert (closes.day, closes.kind) == (D(2026, 10, 10), "deadline")
    for due in (opens, closes):
        assert due.recurring and not due.personal
        assert due.doc_no == JL
        assert "推算" in due.text and "以2026年的通知为准" in due.text
        assert "2026年10月10日" in due.text
    assert "报名截止" in closes.title and len(closes.title) <= 20
    # Next year's windows too, and nothing of 2017.
    assert D(2027, 3, 15) in {d.day for d in found}
    assert all(d.day.year in (2026, 2027) for d in found)
    # The 2017 exam dates themselves are not recurring: they are not projected.
    assert "jl11.unified-exam-dates" not in facts(found)


def test_the_source_year_is_not_called_a_projection(kb):
    found = due_dates(kb, Interest("吉林省", exam_kind="全国统一鉴定"), today=D(2017, 8, 1))
    keyed = by_id(found)
    assert not keyed["jl11.unified-registration#1:end:2017"].recurring
    assert keyed["jl11.unified-registration#0:end:2018"].recurring


def test_recurs_field_is_loaded_and_validated(kb):
    fact = kb.by_id["jl11.unified-registration"].fact
    assert isinstance(fact, Event) and fact.recurs == "yearly"
    assert kb.by_id["jl11.unified-exam-dates"].fact.recurs is None  # type: ignore[union-attr]
    data = kb.notices[JL].model_dump()
    data["facts"] = [dict(f, recurs="monthly") if f["id"] == fact.id else f for f in data["facts"]]
    with pytest.raises(ValidationError):
        Notice.model_validate(data)


def test_29_february_is_projected_to_28_february(kb):
    data = kb.notices[JL].model_dump()
    for f in data["facts"]:
        if f["id"] == "jl11.unified-registration":
            f["dates"] = [{"kind": "date", "date": D(2024, 2, 29), "bound": "by"}]
    kb_leap = KnowledgeBase([Notice.model_validate(data)], kb.regions)
    found = due_dates(kb_leap, Interest("吉林省", exam_kind="全省统一鉴定"), today=D(2025, 1, 1), horizon_days=500)
    assert [(d.key, d.day) for d in found] == [
        ("jl11.unified-registration#0:by:2025", D(2025, 2, 28)),
        ("jl11.unified-registration#0:by:2026", D(2026, 2, 28)),
    ]


# ── dates from the candidate's own exam date ─────────────────────────────────────────────


def workdays_between(first: dt.date, exam: dt.date) -> int:
    """Working days from `first` to the day before the exam, on the official calendar."""
    return len(chinese_calendar.get_workdays(first, exam - dt.timedelta(days=1)))


def test_jilin_daily_registration_deadline_is_10_working_days_before_the_exam(kb):
    exam = D(2026, 6, 22)
    found = due_dates(kb, Interest("长春市", exam_kind="日常鉴定", exam_date=exam), today=D(2026, 5, 1))
    reg = by_id(found)["jl11.daily-registration-deadline#0:before@2026-06-22"]
    # Dragon Boat Festival (Friday 19 June) does not count.
    assert reg.day == D(2026, 6, 5)
    assert chinese_calendar.is_workday(reg.day) and workdays_between(reg.day, exam) == 10
    assert reg.kind == "deadline" and reg.personal and reg.exact and not reg.recurring
    assert reg.doc_no == JL and reg.title == "日常鉴定报名截止"
    assert "2026年6月5日" in reg.text and "10个工作日" in reg.text and "延长1—2个工作日" in reg.text
    day = by_id(found)["jl11.notice-card#exam@2026-06-22"]
    assert (day.day, day.kind, day.personal, day.doc_no) == (exam, "exam", True, JL)
    assert "2026年6月22日" in day.text
    assert [d.day for d in found] == [D(2026, 6, 5), exam]


def test_guangzhou_fee_deadline_is_7_working_days_before_the_exam(kb):
    exam = D(2026, 10, 12)
    found = due_dates(kb, Interest("广州市", exam_kind="日常鉴定", exam_date=exam), today=D(2026, 9, 1))
    fee = [d for d in found if d.fact_id == "gz145.fee-daily"]
    assert len(fee) == 1
    # Mid-Autumn (25 Sept) and National Day (1–7 Oct) do not count; the adjusted Saturday 10 Oct does.
    assert fee[0].day == D(2026, 9, 24)
    assert workdays_between(fee[0].day, exam) == 7
    assert fee[0].personal and fee[0].doc_no == GZ and fee[0].exact
    # The fee is paid by the registering body: the candidate is told to check with it.
    assert "请向您的" in fee[0].text and "不予出证" in fee[0].text
    assert {d.kind for d in found} == {"deadline", "exam"}


def test_working_days_without_calendar_data_are_not_exact(kb):
    found = due_dates(kb, Interest("吉林省", exam_kind="日常鉴定", exam_date=D(2031, 3, 10)), today=D(2031, 1, 1))
    reg = next(d for d in found if d.fact_id == "jl11.daily-registration-deadline")
    assert reg.day == D(2031, 2, 24)  # ten weekdays back from Monday 10 March
    assert not reg.exact
    assert "2031年的法定节假日安排尚未收录" in reg.text


def test_a_unified_exam_candidate_gets_no_daily_exam_deadlines(kb):
    found = due_dates(kb, Interest("吉林省", exam_kind="全国统一鉴定", exam_date=D(2026, 11, 21)), today=D(2026, 11, 1))
    personal = [d for d in found if d.personal]
    assert [(d.kind, d.day) for d in personal] == [("exam", D(2026, 11, 21))]
    assert personal[0].title == "全国统一鉴定考试日"


def test_own_exam_date_in_the_past_gives_nothing_personal(kb):
    found = due_dates(kb, Interest("吉林省", exam_kind="日常鉴定", exam_date=D(2026, 6, 22)), today=D(2026, 7, 1))
    assert not any(d.personal for d in found)


# ── filtering by exam kind and occupation ────────────────────────────────────────────────


def test_exam_kind_filter_excludes_facts_of_another_kind(kb):
    daily = due_dates(kb, Interest("吉林省", exam_kind="日常鉴定"), today=D(2026, 8, 1))
    assert "jl11.unified-registration" not in facts(daily)
    contest = due_dates(kb, Interest("广州市", exam_kind="竞赛"), today=D(2017, 9, 1))
    # Unrestricted facts stay; the 补考 one goes.
    assert facts(contest) == {"gz145.withdraw-register", "gz145.exam-deadline"}


def test_provincial_unified_exam_names_are_one_kind(kb):
    jilin = due_dates(kb, Interest("吉林省", exam_kind="全省统考"), today=D(2026, 8, 1))
    assert "jl11.unified-registration" in facts(jilin)
    guangdong = due_dates(kb, Interest("深圳市", exam_kind="全省统一鉴定"), today=D(2017, 9, 1))
    assert "gd70.makeup" in facts(guangdong)  # 70号 says 全省统考


def test_occupation_filter_for_a_list_restricted_fact(kb):
    today = D(2020, 8, 1)
    listed = due_dates(kb, Interest("福建省", occupation="电工"), today=today)
    assert "fj143.registration-stop" in facts(listed)
    leniently = due_dates(kb, Interest("福建省", occupation="中式烹调"), today=today)
    assert "fj143.registration-stop" in facts(leniently)
    unlisted = due_dates(kb, Interest("福建省", occupation="心理咨询师"), today=today)
    assert "fj143.registration-stop" not in facts(unlisted)
    unknown = due_dates(kb, Interest("福建省"), today=today)
    assert "fj143.registration-stop" in facts(unknown)


def test_unrestricted_facts_ignore_the_occupation(kb):
    found = due_dates(kb, Interest("广州市", occupation="心理咨询师"), today=D(2017, 9, 1))
    assert "gz145.withdraw-register" in facts(found)


# ── keys and coverage ────────────────────────────────────────────────────────────────────


def test_keys_are_stable_and_unique(kb):
    interest = Interest("长春市", exam_kind="日常鉴定", exam_date=D(2026, 6, 22))
    first = due_dates(kb, interest, today=D(2026, 1, 1))
    assert first == due_dates(kb, interest, today=D(2026, 1, 1))
    assert [d.key for d in first] == [d.key for d in due_dates(KnowledgeBase.load(), interest, today=D(2026, 1, 1))]
    # A later run sees the same key for the same date.
    later = by_id(due_dates(kb, interest, today=D(2026, 6, 1)))
    assert all(later[d.key] == d for d in first if d.day >= D(2026, 6, 1))
    everything = due_dates(kb, Interest("吉林省", exam_date=D(2017, 6, 30)), today=D(2017, 1, 1))
    assert len({d.key for d in everything}) == len(everything)


def test_region_without_a_notice_gets_nothing(kb):
    assert due_dates(kb, Interest("北京市", exam_kind="日常鉴定", exam_date=D(2026, 6, 22)), today=D(2026, 5, 1)) == []
    assert due_dates(kb, Interest("火星"), today=D(2017, 9, 1)) == []


REGIONS = ["广州市", "深圳市", "广东省", "福建省", "厦门市", "吉林省", "长春市", "江苏省", "苏州市", "北京市"]
KINDS: list[str | None] = [None, *typing.get_args(ExamKind)]


@settings(max_examples=150, deadline=None)
@given(
    region=st.sampled_from(REGIONS),
    today=st.dates(D(2016, 6, 1), D(2028, 12, 31)),
    horizon=st.integers(0, 500),
    kind=st.sampled_from(KINDS),
    occupation=st.sampled_from([None, "电工", "心理咨询师", "物流师"]),
    exam_in=st.none() | st.integers(-30, 400),
)
def test_every_due_date_is_in_the_window_sorted_and_cited(kb, region, today, horizon, kind, occupation, exam_in):
    exam = None if exam_in is None else today + dt.timedelta(days=exam_in)
    found = due_dates(kb, Interest(region, occupation, kind, exam), today=today, horizon_days=horizon)
    last = today + dt.timedelta(days=horizon)
    assert all(today <= d.day <= last for d in found)
    assert [d.day for d in found] == sorted(d.day for d in found)
    assert len({d.key for d in found}) == len(found)
    for d in found:
        assert d.doc_no in kb.notices and d.fact_id in kb.by_id
        assert d.kind in ("deadline", "opens", "exam")
        assert 0 < len(d.title) <= 20 and "\n" not in d.title
        assert str(d.day.year) in d.text
