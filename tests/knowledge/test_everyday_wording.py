"""Everyday wording the notices never use, read as what it means: filler (另外还要, 我是干…的, 当时),
aspect particles inside a verb (报了名), failing said as 没过, a certificate with an error said as
名字错了, and a rule whose deadline is stated in the same clause. Each case is phrased apart from
the question sets, so that it tests the reading, not a remembered question."""

from __future__ import annotations

import datetime as dt

import pytest

from knowledge.qa import PolicyQA

CASES = [
    # filler: 另外 / 还要 do not count as a subject of their own
    ("吉林补考报名时另外还要交什么表", "2017-06-01", ["补考人员汇总表"]),
    # 我是干…的 names the job; the verb is not a word to match
    ("我是干保育员的，福建没考过的现在还能补考吗", "2020-10-10", ["12月31日"]),
    # 又没过 is failing (不合格); the conjunction 不过 is left alone
    ("福建补考又没过怎么办", "2020-10-10", ["不再办理"]),
    ("不过我想问一下吉林统一鉴定哪天考", "2017-06-01", ["5月20日"]),
    # 报过名 is 已受理报名; 还会考吗 is not the school 会考
    ("福建已经报过名的育婴员还会考吗", "2020-08-20", ["意愿"]),
    # 要注意什么 asks what the candidate must do (the declaration to sign)
    ("福建报名鉴定要注意些什么", "2020-08-20", ["自愿书"]),
    # a child, back then, a chance: filler around the under-16 certificate rule
    ("我儿子2013年在广州考过鉴定，当时不满16岁没发证，现在还有机会补办吗", "2017-11-01", ["12月31日"]),
    # 按省里的规定 says where the rule comes from, not what it is about
    ("按省里的规定，吉林定期鉴定日是2017年10月14日的话日常鉴定报名几号截止", "2017-09-01", ["9月26日"]),
    # any detail printed wrong on a certificate is a 错证
    ("江苏证书上身份证号印错了怎么办", "2020-11-10", ["证明"]),
    # a rule to continue and its deadline are one clause: both are the answer to "still?"
    ("福建已受理报名的考生还能继续考吗", "2020-10-08", ["意愿", "12月31日"]),
    # whether a certificate one holds still counts is the rule on issued certificates, not the
    # occupation's exam status
    ("我手上有张福建的美容师证，退出目录后还管用吗", "2020-10-15", ["继续有效"]),
    # 上学 / 读书 is being a student of the school (在校学生)
    ("我儿子在广东一所技师学院上学，能参加等级认定试点吗", "2020-05-10", ["本校学籍"]),
    # 考试没过: failing, after 试 as after 考
    ("广州目录外的职业考试没过的还能补考吗", "2017-10-05", ["3月31日"]),
    # an occupation of the national unified exam registers in its registration period, not by the
    # daily exam's deadline rule
    ("吉林企业培训师报名截止到哪天", "2017-09-01", ["10月10日"]),
    # 网上 is the notices' 联网 (查询系统)
    ("广东技工院校发的等级证书能在网上查吗", "2020-06-01", ["全国联网查询"]),
    # a rare compound (身份证复印件) found where a fact says it in two words (身份证及复印件)
    ("吉林报名时身份证复印件交几份", "2017-06-01", ["身份证及复印件1份"]),
    # 包含 is the notices' 包括
    ("广东试点院校报备的认定实施计划都包含哪些内容", "2020-06-01", ["参加认定人员"]),
    # 到手: the certificate issued
    ("江苏退出目录的职业资格证书最晚什么时候能到手", "2020-11-10", ["2021年2月1日"]),
    # 除了X还有啥: X is known; the answer is the rest (the 技师's 综合评审 besides the written and
    # practical exams)
    ("吉林考高级技师，除了理论笔试和操作考试以外还要考啥", "2017-05-01", ["综合评审"]),
    # 没有国家职业技能标准 is the notices' 尚未颁布
    ("试点的工种要是没出台国家职业技能标准怎么弄", "2020-04-10", ["评价规范"]),
    # 文件里说: which notice says it is no part of what is asked
    ("文件里说广东试点院校要签个什么承诺书", "2020-04-01", ["质量承诺书"]),
    # 从哪天开始不再受理 / 开始不给报名: the day the stop begins is the stop's day
    ("厦门退出目录的职业从哪天开始不再受理报名", "2020-08-20", ["9月30日"]),
    ("福建什么时候开始不给报名了", "2020-08-20", ["9月30日"]),
    # 自己出卷子 is the notices' 私自命制 (试题)
    ("江苏鉴定机构能不能自己出卷子", "2020-10-01", ["严禁"]),
    # what is reported (作弊) is no topic: the supervision hotline takes any report; 打哪个 asks a number
    ("江苏发现鉴定作弊要举报打哪个", "2020-10-01", ["83201683"]),
    # 失效 asks whether a held certificate still counts
    ("厦门的老证退出目录后会不会失效", "2020-10-01", ["继续有效"]),
    # 改回来 is changing one's mind (变更)
    ("在广州弃考以后还能改回来吗", "2017-10-01", ["不可变更"]),
    # 坚定 beside a domain term is a slip for 鉴定; 一式几份 asks how many copies, not a slip for 遗失
    ("吉林的坚定申报表一式几份", "2017-06-01", ["1份"]),
    # a day named that a fact holds is what the question is about (not a date to count from)
    ("江苏12月31日那天在线考务平台会怎样", "2020-11-01", ["截止功能"]),
    # 过了这个日子 is missing the deadline (逾期)
    ("广州的鉴定站合格考生相片过了这个日子还没交会怎样", "2017-10-10", ["放弃办理证书"]),
    # 外地 / 集中 are the notices' 跨区域 / 规模化; 集中考 holds no 中考 (the school exam)
    ("福建可以组织考生到外地集中鉴定吗", "2020-09-03", ["严禁"]),
    # 听说 / 有人 are filler; 允许吗 is how it asks, not what about
    ("听说江苏有鉴定机构突击发证，这允许吗", "2020-10-01", ["严禁"]),
    # 证书编号 is the notices' 证书号段
    ("广东试点的证书编号是怎么来的", "2020-05-01", ["号段"]),
    # 打措了: a slip for 打错了, an error on the certificate (错证)
    ("江苏证书名字打措了还能改吗", "2020-11-10", ["证明"]),
    # 没考上 is failing (不合格)
    ("福建育婴员鉴定没考上，可以补考吗", "2020-10-10", ["12月31日"]),
    # 不在国家目录里 is the notices' 目录外
    ("广州报的工种不在国家目录里，退考登记截止哪天", "2017-09-27", ["9月30日"]),
    # 一年考几次 asks when the exams are held
    ("吉林心理咨询师一年考几次", "2017-03-01", ["11月18日"]),
    # 跨区 is the notices' 跨区域
    ("厦门能不能跨区组织鉴定", "2020-09-03", ["严禁"]),
    # 盖章 is the notices' 加盖公章
    ("广州市属院校的双证书统计表要盖章吗", "2017-11-01", ["公章"]),
    # 已经报了 an occupation is registered for it; 还给考不 asks whether one may still sit it: the rule
    # for those already registered, after the list's line
    ("福建的，我已经报了育婴员还没考，还给考不", "2020-09-10", ["育婴员", "意愿"]),
    # 升级 is the notices' 晋升 (a level)
    ("江苏以前的职业资格证退出目录后还能拿来升级吗", "2020-10-01", ["晋升"]),
]


@pytest.mark.parametrize(("question", "day", "expected"), CASES)
def test_everyday_wording_is_read_as_what_it_means(qa: PolicyQA, question: str, day: str, expected: list[str]) -> None:
    answer = qa.answer(question, now=dt.date.fromisoformat(day))
    assert answer.matched, question
    for fact in expected:
        assert fact in answer.text, (question, fact, answer.text)
