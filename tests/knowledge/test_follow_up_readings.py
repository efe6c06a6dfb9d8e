"""Follow-ups read with the previous question, one case per way a reading goes right: each is
phrased apart from the dialog sets, so that it tests the reading, not a remembered conversation.
Cases that need more than "answered, and says these facts" stay in test_follow_ups.py."""

from __future__ import annotations

import datetime as dt

import pytest

from knowledge.qa import PolicyQA

CASES = [
    # why, after a rule: the same rule, which gives its reason
    ("福建能不能到外地集中组织鉴定", "为啥不让", "2020-09-10", ["疫情防控"]),
    # the make-up date of the kind asked, from the clause of the make-up rule (not its exam dates);
    # the year the candidate failed in is their past, not a year asked about
    ("吉林2016年没考过的还能补考吗", "那日常鉴定职业的补考在哪天", "2017-04-10", ["4月22日"]),
    # a consequence asked after a deadline is the deadline's consequence
    ("广州竞赛类鉴定什么时候要完成缴费？", "不交会咋样", "2017-10-10", ["不予出证"]),
    # where to go after a deadline is answered with the place
    ("广州以前没满16周岁没出证的，补办截至哪天", "去哪办", "2017-10-10", ["5楼"]),
    # whom to ask after a deadline is answered with the contact
    ("厦门电工现在还能报名吗", "有问题找谁问", "2020-09-20", ["叶沅宁"]),
    # a still question naming something new is not the deadline again: 还能反悔吗 after a deadline asks
    # whether the choice can be undone (变更), which the deadline fact does not speak of: the
    # declaration that says it cannot be changed answers.
    ("广州退考退费登记截止到哪天", "登记了还能反悔吗", "2017-09-27", ["不可变更"]),
    # a correction naming another region drops words that region never uses: 福建's notices have no
    # batches: the previous question less 第二批, asked of 厦门.
    ("江苏第二批退出目录的鉴定还来得及吗", "不对，我说的是厦门", "2020-09-15", ["9月30日", "厦人社〔2020〕141号"]),
    # already registered after whether one can still register
    ("厦门还能报考育婴员吗", "那已经报了名的呢", "2020-10-08", ["12月31日"]),
    # a follow up stays in the notice the previous answer came from: 广东 has a 2017 contact with a
    # mailbox too; the conversation is about the 2020 pilot.
    ("广东技工院校申请等级认定试点需要满足哪些条件", "那邮箱是啥", "2020-03-20", ["jnzx_ydd@gd.gov.cn"]),
    # a topic taken out of the previous question leaves longer words whole: 证书 is a topic, but 双证书 is
    # a word of its own: the contact of the dual-certificate table.
    ("部省属院校的双证书统计表什么时候交", "有事打谁电话", "2017-09-28", ["83313432"]),
    # a correction the previous answer already covers is answered from it
    ("吉林统一鉴定成绩多久能出", "不是，我问的是日常鉴定", "2017-07-01", ["15个工作日"]),
    # whom to go to after a step is the body that step names
    ("广州目录外的工种现在还能退考吗", "找谁办", "2017-09-27", ["原报考机构"]),
    # the same for something else leans on the previous question: 补考也一样吗: the cut-off of the previous
    # answer, asked of make-up applications (含补考申请).
    ("江苏第二批收尾工作什么时候结束", "那补考是不是也一样", "2020-09-16", ["补考申请", "苏人社函〔2020〕239号"]),
    # what kind of the thing just talked about leans on the previous question
    ("广东技工院校等级认定试点是对谁开展的", "那发啥证", "2020-05-10", ["职业技能等级证书", "粤人社函〔2020〕61号"]),
    # a topic written as one character gives way to the new one: 啥时候考 then 报名呢: the registration of
    # the same (national unified) exam, not the exam again.
    ("吉林心理咨询师是全国统一鉴定，下半年啥时候考", "那报名呢", "2017-08-20", ["9月5日", "10月10日"]),
    # a correction without i meant names what replaces the subject
    ("吉林全国统一鉴定有哪些职业", "不对不对，是全省统一的", "2017-04-05", ["理财规划师"]),
    # a one character form of a word does not make a fact speak of it: 报 (of 报名) is in every 报送: the
    # plan-filing fact does not answer when results are reported.
    ("广东试点院校组织认定前要提前多久报实施计划", "认定结束后多久报结果", "2020-06-01", ["20个工作日"]),
    # whom to report to after a filing step is the body it names
    ("广东试点技工院校认定前多少天要把实施计划报上去", "交给谁", "2020-06-01", ["属地鉴定中心"]),
    # whom to report to and a phone number needs the contact too
    ("广州报考机构的退考退费情况最晚哪天报送", "报给谁，电话是多少", "2017-09-26", ["83829402"]),
    # a registration stop asked of a region that words it as a cut off: 江苏 says no registration stops;
    # it says applications are not accepted after each batch's end.
    ("福建电工的报名截止到哪天", "那江苏的呢", "2020-09-18", ["第一批", "苏人社函〔2020〕239号"]),
    # where to hand it in after a deadline is the place its rule names
    ("广州报了成绩没交纸质相片的单位最晚哪天补交", "送到哪", "2017-10-10", ["5楼窗口"]),
    # which department to report to is the body the report rule names
    ("广州报考机构的考生退费情况哪天前报上去", "报哪个部门", "2017-09-26", ["命题部"]),
    # whom to ask after an occupation status is the regions contact
    ("厦门美容师现在还能报名吗", "有事找谁咨询", "2020-09-20", ["5320155"]),
    # the rest of a province after its city
    ("厦门什么时候不再受理报名", "那福建别的地方呢", "2020-09-01", ["9月30日", "闽人社办〔2020〕143号"]),
    # whom to hand it to needs an answer naming a body: The deadline fact names none; the filing rule
    # says to whom each kind of school applies.
    ("我们技师学院想申请广东的等级认定试点，还来得及吗", "申请交给谁", "2020-03-15", ["属地鉴定中心"]),
    # the previous fact is no answer unless it speaks of the follow-up's informative new word:
    # 开始, not just 试点, which the 公布 fact names too
    ("广东等级认定试点名单什么时候公布", "那试点啥时候开始", "2020-03-25", ["5月"]),
]


@pytest.mark.parametrize(("previous", "follow_up", "day", "expected"), CASES)
def test_a_follow_up_is_read_with_the_previous_question(
    qa: PolicyQA, previous: str, follow_up: str, day: str, expected: list[str]
) -> None:
    answer = qa.answer(follow_up, now=dt.date.fromisoformat(day), previous=previous)
    assert answer.matched, (previous, follow_up)
    said = answer.text + "".join(answer.sources)
    for fact in expected:
        assert fact in said, (previous, follow_up, fact, answer.text)
