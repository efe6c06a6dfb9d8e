"""`kb draft` extraction by rules on text: each extractor, then whole notices of our own (other
bureaus, other dates) that the seed files never showed the rules."""

from __future__ import annotations

import datetime as dt

import pytest

from knowledge.drafting import NotTextError, decode_notice, draft_notice
from knowledge.drafting.contacts import find_contact
from knowledge.drafting.dates import YearContext, find_dates
from knowledge.drafting.docnumbers import normalise_doc_number
from knowledge.drafting.occupations import find_enumerations
from knowledge.drafting.relative import find_relatives
from knowledge.drafting.text import clean
from knowledge.drafting.view import View
from knowledge.schema import DateRange, OnDate
from knowledge.timeline import describe_when

D = dt.date
ISSUED_2017 = YearContext.of(D(2017, 9, 20), 2017, [])


def dates_in(text: str, ctx: YearContext = ISSUED_2017) -> list[tuple[D | None, D | None, str]]:
    return [(f.start, f.end, f.bound) for f in find_dates(View.of(text), ctx)]


# ── decoding ────────────────────────────────────────────────────────────────


def test_utf8_and_gb18030_decode_and_binary_is_refused():
    text = "关于做好2020年职业技能鉴定工作的通知"
    assert decode_notice(text.encode("utf-8")) == text
    assert decode_notice(b"\xef\xbb\xbf" + text.encode("utf-8")) == text
    assert decode_notice(text.encode("gb18030")) == text
    with pytest.raises(NotTextError, match="不是文本文件"):
        decode_notice(b"%PDF-1.4\x00\x01\x02binary")
    with pytest.raises(NotTextError, match="空"):
        decode_notice(b"  \n")
    with pytest.raises(NotTextError, match="编码"):
        decode_notice(bytes(range(0x80, 0x100)) * 20)


# ── document numbers ───────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("written", "number"),
    [
        ("粤人社职鉴〔2017〕70号", "粤人社职鉴〔2017〕70号"),
        ("苏人社函﹝2020﹞150号", "苏人社函〔2020〕150号"),
        ("参照粤人社函(2017)248号文件", "粤人社函〔2017〕248号"),
        ("（粤人社职鉴（2017）15号）", "粤人社职鉴〔2017〕15号"),
        ("浙人社发[2023]12 号", "浙人社发〔2023〕12号"),
        ("根据人社部发【2017】68号", "人社部发〔2017〕68号"),
    ],
)
def test_document_number_variants_are_normalised(written, number):
    assert normalise_doc_number(written) == number


# ── dates ───────────────────────────────────────────────────────────────────


def test_the_issue_examples_with_year_inference():
    assert dates_in("须于2017年12月31日之前完成鉴定考试") == [(D(2017, 12, 31), D(2017, 12, 31), "by")]
    assert dates_in("请于9月22日前向原报考机构作好退考退费登记") == [(D(2017, 9, 22), D(2017, 9, 22), "by")]
    assert dates_in("下半年为9月5日至10月10日") == [(D(2017, 9, 5), D(2017, 10, 10), "on")]
    assert dates_in("下半年为 11 月 18、19 日") == [(D(2017, 11, 18), D(2017, 11, 19), "on")]
    assert dates_in("可在2018年3月31日前，安排一次补考") == [(D(2018, 3, 31), D(2018, 3, 31), "by")]


def test_year_of_a_dated_expression_in_the_same_sentence_wins():
    ctx = YearContext.of(D(2020, 7, 31), 2020, [])
    found = dates_in("各鉴定机构应在 10 月 31 日前提出申请，并在 2021 年 1 月 31 日前完成鉴定", ctx)
    assert found == [(D(2021, 10, 31), D(2021, 10, 31), "by"), (D(2021, 1, 31), D(2021, 1, 31), "by")]


def test_periods_lists_months_and_web_dates():
    ctx = YearContext.of(D(2020, 3, 9), 2020, [])
    assert dates_in("2020年5月至12月，组织开展试点工作", ctx) == [(D(2020, 5, 1), D(2020, 12, 31), "on")]
    assert dates_in("2020年下半年，由各设区市组织", ctx) == [(D(2020, 7, 1), D(2020, 12, 31), "on")]
    assert dates_in("考试定于6月8、15日", ctx) == [
        (D(2020, 6, 8), D(2020, 6, 8), "on"),
        (D(2020, 6, 15), D(2020, 6, 15), "on"),
    ]
    assert dates_in("发布时间： 2020-03-12 11:15:49", ctx) == [(D(2020, 3, 12), D(2020, 3, 12), "on")]
    assert dates_in("二〇二〇年七月三十一日", ctx) == [(D(2020, 7, 31), D(2020, 7, 31), "on")]
    assert dates_in("2017年12月25日至1月5日报名", ctx) == [(D(2017, 12, 25), D(2018, 1, 5), "on")]


def test_a_day_that_cannot_exist_is_reported_never_adjusted():
    for text in ("请于2月30日前报名", "2021年2月29日考试", "4月31日截止", "13月5日"):
        found = find_dates(View.of(text), ISSUED_2017)
        assert found and found[0].start is None, text
        assert "不存在" in (found[0].problem or ""), text


def test_an_ambiguous_year_is_stated_as_undetermined():
    late = YearContext.of(D(2023, 12, 20), 2023, [])
    (found,) = find_dates(View.of("请于1月10日前提交材料"), late)
    assert found.start is None and found.year == "undetermined"
    assert "2023年或2024年" in (found.problem or "")
    (none,) = find_dates(View.of("3月5日考试"), YearContext.of(None, None, []))
    assert none.start is None and "没有年份" in (none.problem or "")
    (clash,) = find_dates(View.of("3月5日考试"), YearContext.of(None, 2017, [2018]))
    assert clash.start is None and "不一致" in (clash.problem or "")


# ── relative deadlines ─────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("text", "amount", "unit", "direction", "anchor"),
    [
        ("日常鉴定须于考前7个工作日完成缴费", 7, "working_days", "before", "考试"),
        ("日常鉴定成绩须在考后15个工作日内发布", 15, "working_days", "after", "考试"),
        ("要在成绩发布后15个工作日内向考生发放证书", 15, "working_days", "after", "成绩发布"),
        ("实施认定前，须提前10个工作日将计划报备", 10, "working_days", "before", "实施认定"),
        ("报名截止日期为定期鉴定日前十个工作日", 10, "working_days", "before", "定期鉴定日"),
        ("考试结束后30天内公布成绩", 30, "days", "after", "考试结束"),
    ],
)
def test_relative_deadlines(text, amount, unit, direction, anchor):
    (found,) = find_relatives(View.of(text))
    assert (found.amount, found.unit, found.direction, found.anchor) == (amount, unit, direction, anchor)


def test_a_range_of_days_is_a_count_not_a_deadline():
    assert find_relatives(View.of("各地可结合实际适当延长1—2个工作日。")) == []


# ── occupations, contacts ──────────────────────────────────────────────────


def test_enumerations_with_and_without_a_count():
    (counted,) = find_enumerations(View.of("全国统一鉴定职业：企业人力资源管理师、心理咨询师、电子商务师 3 个职业。"))
    assert counted.occupations == ("企业人力资源管理师", "心理咨询师", "电子商务师") and not counted.mismatch
    (wrong,) = find_enumerations(View.of("本批包括：焊工、电工、车工、钳工等5个职业。"))
    assert wrong.stated == 5 and len(wrong.occupations) == 4 and wrong.mismatch
    (open_list,) = find_enumerations(View.of("育婴员、保育员等职业另行安排。"))
    assert open_list.stated is None and not open_list.complete
    assert find_enumerations(View.of("需提交身份证、学历证书等材料。")) == []


def test_phone_numbers_only_where_the_text_says_so():
    found = find_contact(View.of("咨询电话：(0571) 87654321、87654322，传真：0571-87650000，邮箱：jdzx@hz.gov.cn"))
    assert [(p.number, p.label) for p in found.phones] == [
        ("(0571) 87654321", "咨询电话"),
        ("87654322", "咨询电话"),
        ("0571-87650000", "传真"),
    ]
    assert found.emails == ("jdzx@hz.gov.cn",)
    assert find_contact(View.of("许可证编号：浙ICP备 12345678-1")).phones == ()
    assert find_contact(View.of("邮编310000，共12345678人次")).phones == ()
    address = find_contact(View.of("地址：杭州市上城区解放路100号 电话:0571-12333"))
    assert address.address == "杭州市上城区解放路100号" and address.phones[0].number == "0571-12333"


# ── whole notices of our own ───────────────────────────────────────────────

HANGZHOU = """\
杭州市人力资源和社会保障局文件

杭人社发[2023]45号

关于做好2024年上半年职业技能等级认定工作的通知

各区、县（市）人力资源和社会保障局，各有关单位：

现将有关事项通知如下：

一、报名时间

（一）2024年3月1日至3月20日，考生通过网上报名；逾期不再受理。

（二）补考报名截止至4月10日前。

二、认定职业

本次认定职业：焊工、电工、育婴员、保育员 4 个职业。

三、成绩发布

成绩于考后10个工作日内发布，证书在成绩发布后20个工作日内发放。

四、联系方式

咨询电话：(0571) 87654321、87654322，邮箱：jdzx@hz.gov.cn。

杭州市人力资源和社会保障局

2023年12月20日
"""


def test_a_notice_from_another_bureau():
    (notice,) = draft_notice(HANGZHOU).notices
    assert notice.doc_no == "杭人社发〔2023〕45号"
    assert notice.issuer == "杭州市人力资源和社会保障局"
    assert notice.issued == D(2023, 12, 20)
    assert notice.title == "关于做好2024年上半年职业技能等级认定工作的通知"
    assert notice.regions == ["杭州市"]  # the city of the issuer, from the administrative divisions
    whens = [w for f in notice.facts for w in f.get("dates", [])]
    ranges = [(w["start"], w["end"]) for w in whens if w["kind"] == "range"]
    assert (D(2024, 3, 1), D(2024, 3, 20)) in ranges
    relatives = sorted((w["amount"], w["direction"], w["anchor"]) for w in whens if w["kind"] == "relative")
    assert relatives == [(10, "after", "考试"), (20, "after", "成绩发布")]
    (listed,) = [f for f in notice.facts if f["kind"] == "occupation_list"]
    assert list(listed["occupations"]) == ["焊工", "电工", "育婴员", "保育员"] and listed["stated_count"] == 4
    phones = [p["number"] for f in notice.facts for p in f.get("phones", [])]
    assert phones == ["(0571) 87654321", "87654322"]
    assert all(f["review"] is True for f in notice.facts)
    # 4月10日 without a year, in a notice issued on 2023-12-20: after 2024年3月1日至3月20日 in reading
    # order, it is 2024, and the reviewer is told the year was inferred.
    assert any("4月10日" in p and "年份推断" in p and "2024年" in p for p in notice.problems)
    assert dt.date(2024, 4, 10) in [w.get("date") for w in whens]
    assert not [w for w in whens if w["kind"] == "date" and w["date"] is None]


def test_a_date_without_a_year_long_before_the_issue_date_and_no_date_before_it_stays_undetermined():
    text = HANGZHOU.replace("（一）2024年3月1日至3月20日，考生通过网上报名；逾期不再受理。\n\n", "")
    (notice,) = draft_notice(text).notices
    assert any("4月10日前" in p and "年份无法确定" in p for p in notice.problems)


NO_NUMBER_NO_DATES = """\
关于加强职业技能鉴定考务管理的通知

各鉴定所：

一、考评人员实行轮换、回避制度。

二、严禁组织跨区域规模化鉴定。

联系人：王明，联系电话：0351-4567890。
"""


def test_a_notice_with_no_document_number_and_no_dates_says_so():
    (notice,) = draft_notice(NO_NUMBER_NO_DATES, region="山西").notices
    assert notice.doc_no is None and notice.issued is None and notice.issued_year is None
    problems = "\n".join(notice.problems)
    assert "未找到文号" in problems
    assert "没有找到任何日期" in problems
    assert "年份也无法确定" in problems
    assert notice.regions == ["山西省"]
    assert [p["number"] for f in notice.facts for p in f.get("phones", [])] == ["0351-4567890"]


WRONG_COUNT_AND_BAD_DAY = """\
成都市职业技能鉴定指导中心

成人社鉴〔2022〕8号

关于2022年补考安排的通知

一、补考职业：车工、铣工、磨工 4 个职业。

二、补考报名请于2月30日前完成，考试定于3月12日。

成都市职业技能鉴定指导中心

2022年1月5日
"""


def test_count_mismatch_and_impossible_date_are_problems_not_guesses():
    (notice,) = draft_notice(WRONG_COUNT_AND_BAD_DAY).notices
    problems = "\n".join(notice.problems)
    assert "列出3个职业，原文写4个" in problems
    assert "2月30日前" in problems and "不存在" in problems
    days = {w.get("date") for f in notice.facts for w in f.get("dates", [])}
    assert D(2022, 3, 12) in days
    assert not any(d is not None and d.month == 2 and d.day in (28, 29, 30) for d in days)
    assert notice.regions == ["成都市"]  # the issuer's city, not its province


def test_cleaning_rejoins_a_sentence_split_by_a_page_break_or_an_image():
    text = (
        "一、工作要求\n\n（一）请各单位于9月30日前将本单位考生名单报送\n\n---\n\n市鉴定中心，逾期不再受理。\n\n"
        "各地要深刻理解取消水平评价类职业资格的重要意义，破\n\n[image: a.wmf]除思想藩篱。\n\n"
        "二、提高思想认识，落实国家有关工作部署\n\n各地要主动对接。\n"
    )
    assert [line.text for line in clean(text).lines] == [
        "一、工作要求",
        "（一）请各单位于9月30日前将本单位考生名单报送市鉴定中心，逾期不再受理。",
        "各地要深刻理解取消水平评价类职业资格的重要意义，破除思想藩篱。",
        "二、提高思想认识，落实国家有关工作部署",  # a heading, however long, is not continued
        "各地要主动对接。",
    ]


BODY_YEAR = """\
关于做好上半年专项职业能力考核工作的公告

各考生：

为保证2025年我州专项职业能力考核顺利进行，现将有关事项公告如下：

一、报名时间为3月10日至3月21日。

二、考试于4月12日举行，成绩在考后20个工作日内公布。

黔东南州职业技能鉴定指导中心
"""


def test_a_year_named_only_in_the_body_dates_the_rest_and_says_so():
    (notice,) = draft_notice(BODY_YEAR, region="凯里市").notices
    whens = [w for f in notice.facts for w in f.get("dates", [])]
    assert {"kind": "range", "start": D(2025, 3, 10), "end": D(2025, 3, 21)}.items() <= next(
        w for w in whens if w["kind"] == "range"
    ).items()
    assert any(w["kind"] == "date" and w["date"] == D(2025, 4, 12) for w in whens)
    assert any("按正文中的2025年理解" in p for p in notice.problems)
    two_years = BODY_YEAR.replace("考试于4月12日", "2024年考试于4月12日")
    (doubtful,) = draft_notice(two_years, region="凯里市").notices
    assert not any("按正文中的" in p for p in doubtful.problems), "two years named as often: no guess"


@pytest.mark.parametrize(
    ("text", "start", "start_time", "end", "end_time"),
    [
        ("报名时间：1月8日9:00-2月13日16:00", D(2018, 1, 8), "09:00", D(2018, 2, 13), "16:00"),
        ("3月1日8：30至3月5日17：30", D(2018, 3, 1), "08:30", D(2018, 3, 5), "17:30"),
        ("2019年5月6日9时30分至5月9日12时", D(2019, 5, 6), "09:30", D(2019, 5, 9), "12:00"),
        ("4月10日—4月12日", D(2018, 4, 10), None, D(2018, 4, 12), None),
        ("5月6日～5月9日", D(2018, 5, 6), None, D(2018, 5, 9), None),
    ],
)
def test_periods_keep_their_times_of_day(
    text: str, start: D, start_time: str | None, end: D, end_time: str | None
) -> None:
    ctx = YearContext(2018, D(2018, 1, 2))
    (found,) = find_dates(View.of(text), ctx)
    assert (found.kind, found.start, found.start_time, found.end, found.end_time) == (
        "range",
        start,
        start_time,
        end,
        end_time,
    )


def test_a_deadline_with_an_hour_is_one_day_with_its_time_and_reads_back():
    (found,) = find_dates(View.of("材料请于3月5日下午5点前寄出"), YearContext(2018, D(2018, 1, 2)))
    assert (found.kind, found.start, found.start_time, found.bound) == ("date", D(2018, 3, 5), "17:00", "by")
    assert describe_when(OnDate(kind="date", date=D(2018, 3, 5), time="17:00", bound="by")) == "2018年3月5日17:00前"
    period = DateRange(kind="range", start=D(2018, 1, 8), end=D(2018, 2, 13), start_time="09:00", end_time="16:00")
    assert describe_when(period) == "2018年1月8日9:00至2018年2月13日16:00"


def test_months_without_a_year_take_the_notices_year_and_are_never_dropped():
    ctx = YearContext(2018, D(2018, 1, 2))

    def months(text: str) -> list[tuple[D | None, D | None, str]]:
        return [(f.start, f.end, f.precision) for f in find_dates(View.of(text), ctx)]

    assert months("7月至9月组织考试；10月公布成绩") == [
        (D(2018, 7, 1), D(2018, 9, 30), "month"),
        (D(2018, 10, 1), D(2018, 10, 31), "month"),
    ]
    assert months("下半年（9-11月）组织补考") == [(D(2018, 9, 1), D(2018, 11, 30), "month")]
    assert months("3月份开始报名") == [(D(2018, 3, 1), D(2018, 3, 31), "month")]
    assert months("培训满6个月，婴儿18月龄") == [], "durations and ages are not months of the year"
    (unsure,) = find_dates(View.of("10月公布成绩"), YearContext(None, None, "通知中没有年份"))
    assert unsure.start is None and unsure.problem and "年份无法确定" in unsure.problem


PHONES_UNDER_A_HEADING = """\
关于做好补考报名工作的通知

一、补考报名时间为2022年3月1日至3月5日。

二、需填写《职业技能等级认定补考申请表》，交报名点。

三、咨询电话

市职业技能鉴定中心考务科：0938-8213456
县人社局职业能力建设股 0355－7221234
市技工学校鉴定所（0477）8581234；联系人王海军13847712345

某市人力资源和社会保障局
2022年2月20日
"""


def test_phones_listed_under_a_phone_heading_with_any_separator():
    (notice,) = draft_notice(PHONES_UNDER_A_HEADING, region="天水").notices
    phones = [p["number"] for f in notice.facts for p in f.get("phones", [])]
    assert phones == ["0938-8213456", "0355-7221234", "(0477)8581234", "13847712345"]
    (form,) = [f for f in notice.facts if f["kind"] == "form"]
    assert form["name"] == "职业技能等级认定补考申请表" and "原文未附" in form["notes"][0]


@pytest.mark.parametrize(
    ("text", "names", "stated"),
    [
        ("本次集中考试职业：电工、焊工、车工、保育师。", ("电工", "焊工", "车工", "保育师"), None),
        ("家政服务类职业（保育师、家政服务员、养老护理员）由各区组织", ("保育师", "家政服务员", "养老护理员"), None),
        ("本年度全市统一组织中式面点师、农产品食品检验员等8个职业", ("中式面点师", "农产品食品检验员"), 8),
        ("扎染、白族刺绣、木雕等12个专项职业能力项目", ("扎染", "白族刺绣", "木雕"), 12),
    ],
)
def test_lists_with_a_label_in_brackets_or_after_a_verb(text: str, names: tuple[str, ...], stated: int | None):
    (found,) = find_enumerations(View.of(text))
    assert (found.occupations, found.stated) == (names, stated)


def test_materials_are_not_a_list_of_occupations():
    assert find_enumerations(View.of("报名时需携带身份证、学历证书、照片等材料。")) == []
    assert find_enumerations(View.of("所需材料：身份证、学历证书、近期照片。")) == []


TITLE_OVER_LINES = """\
凉山彝族自治州职业技能鉴定指导中心
关于做好上半年全州职业技能等级认定
统一考试工作的通知

凉人社鉴字〔2027〕2号

各县（市）人力资源和社会保障局：

一、为做好2027年上半年全州职业技能等级认定统一考试工作，现将有关事项通知如下。

二、考点一：西昌职业技术学院（西昌市航天大道三段88号）。

三、收费标准

理论知识80元/人，技能操作200元/人·次。

四、已缴费考生因故不能参加考试的，须在4月1日前向报名点申请退费；逾期未申请的，视为参加考试，费用不予退还。

凉山彝族自治州职业技能鉴定指导中心
2027年1月28日
"""


def test_a_title_broken_over_lines_with_its_issuer_and_prose_rules():
    (notice,) = draft_notice(TITLE_OVER_LINES, region="凉山州").notices
    assert notice.title == "凉山彝族自治州职业技能鉴定指导中心关于做好上半年全州职业技能等级认定统一考试工作的通知"
    assert notice.doc_no == "凉人社鉴字〔2027〕2号"
    by_topic = {f.get("topic"): f for f in notice.facts}
    assert by_topic["考试地点"]["organization"] == "西昌职业技术学院"
    assert by_topic["考试地点"]["address"] == "西昌市航天大道三段88号"
    assert "80元/人" in by_topic["收费标准"]["answer"], "bare amounts under a 收费标准 heading are fees"
    assert "不予退还" in by_topic["退考退费"]["answer"]
    halves = [w for f in notice.facts for w in f.get("dates", []) if w.get("precision") == "month"]
    assert halves == [], "2027年上半年全州…工作 names the round; it is not a period of dates"


PLACES_AND_PHONES = """\
关于开展专项职业能力考核报名工作的公告

一、自本公告发布之日起15日内，考生到霍山县就业服务中心（霍山县衡山镇迎驾大道168号）报名。

二、联系电话：0891-6321234（市人社局职业能力建设科）
　　　　　0891—6325678（拉萨市就业服务中心）

三、联系人：汪老师　158-5641-2345

霍山县人力资源和社会保障局
2027年2月20日
"""


def test_a_place_with_its_address_and_phones_carried_to_the_next_line():
    (notice,) = draft_notice(PLACES_AND_PHONES, region="霍山县").notices
    (place,) = [f for f in notice.facts if f.get("topic") == "考试地点"]
    assert (place["organization"], place["address"]) == ("霍山县就业服务中心", "霍山县衡山镇迎驾大道168号")
    phones = [p["number"] for f in notice.facts for p in f.get("phones", [])]
    assert phones == ["0891-6321234", "0891-6325678", "158-5641-2345"], "dashes as the knowledge base stores them"


def test_parts_of_months_and_a_date_like_phrase_nothing_reads_is_a_problem_not_silence():
    ctx = YearContext(2024, D(2024, 1, 2))
    found = find_dates(View.of("考试安排在5月中下旬，成绩12月底前公布，3月初开始报名"), ctx)
    # A part of a month is the month with the notice's words kept (the bureau fixes the days); 月底 is
    # the month's last day, a deadline.
    assert [(f.kind, f.start, f.end, f.bound, f.precision, f.part_of_month) for f in found] == [
        ("range", D(2024, 5, 1), D(2024, 5, 31), "on", "month", "中下旬"),
        ("date", D(2024, 12, 31), D(2024, 12, 31), "by", "day", None),
        ("range", D(2024, 3, 1), D(2024, 3, 31), "on", "month", "初"),
    ]
    text = (
        "关于认定安排的通知\n\n一、各机构每月15日前报送考务材料。\n\n二、按粤人社函〔2020〕61号执行，地址为某路18号。\n"
    )
    (notice,) = draft_notice(text, region="广州").notices
    unread = [p for p in notice.problems if "未能识别的日期或期限" in p]
    assert len(unread) == 1 and "15日" in unread[0], "document and street numbers are not dates"
