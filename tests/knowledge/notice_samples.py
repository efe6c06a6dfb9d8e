"""Synthetic notices of our own (a bureau, numbers and dates that no shipped notice uses), for the
tests of publishing notices from the console: the text as staff would paste it, and the mapping a
reviewer would publish from its draft."""

from __future__ import annotations

from typing import Any

from knowledge.drafting import draft_notice
from knowledge.published import ACCEPT, REJECT, jsonable, reviewed_mapping

NOTICE_A = """广东省职业技能鉴定指导中心文件

粤人社职鉴〔2027〕5号

关于2027年上半年职业技能等级认定考试安排的通知

各地级以上市人力资源社会保障局，各有关单位：

现将2027年上半年职业技能等级认定考试有关事项通知如下：

一、考生须于2027年3月15日前登录报名系统完成网上报名，逾期不再受理。

二、笔试定于2027年4月10日举行，考试时间为90分钟。

三、因故不能参加考试的考生，须在考前5个工作日向报考机构申请退考，鉴定费按原渠道退回。

四、咨询电话：020-83331234。

广东省职业技能鉴定指导中心
2026年2月20日
"""
DOC_A = "粤人社职鉴〔2027〕5号"
REGISTER_A = "yue5.date-1"
"""The fact 'register online by 15 March 2027'; the others: the exam day, withdrawal, the phone."""
KEEP_A = ("yue5.date-1", "yue5.date-2", "yue5.date-3", "yue5.contact-1")

NOTICE_B = """广东省职业技能鉴定指导中心文件

粤人社职鉴〔2027〕9号

关于调整2027年上半年职业技能等级认定网上报名时间的通知

各地级以上市人力资源社会保障局，各有关单位：

因报名系统升级，现将2027年上半年职业技能等级认定网上报名时间调整如下：

一、考生须于2027年3月25日前登录报名系统完成网上报名，逾期不再受理。

广东省职业技能鉴定指导中心
2026年3月1日
"""
DOC_B = "粤人社职鉴〔2027〕9号"
REGISTER_B = "yue9.date-1"

REGISTER_QUESTION = "广东网上报名最晚什么时候"


def drafted(text: str) -> dict[str, Any]:
    """The draft's mapping as the console stores it (JSON)."""
    return jsonable(draft_notice(text).notices[0].to_data())


def reviewed(
    text: str,
    keep: tuple[str, ...],
    *,
    topic: str = "报名",
    topical: tuple[str, ...] = (),
    **header: Any,
) -> dict[str, Any]:
    """The mapping a reviewer publishes: header checked, problems resolved, a summary written, the
    facts in `keep` accepted (those in `topical` given `topic`) and the others rejected."""
    data = drafted(text)
    data.update(review=False, problems=[], summary="2027年上半年职业技能等级认定考试安排。", **header)
    for fact in data["facts"]:
        if fact["id"] in topical:
            fact["topic"] = topic
    decisions = {f["id"]: ACCEPT if f["id"] in keep else REJECT for f in data["facts"]}
    return reviewed_mapping(data, decisions)
