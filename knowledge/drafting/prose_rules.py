"""Rules a notice writes as prose, which candidates act on: withdrawal and refund, fees, venues.

Each becomes a fact with the sentence as its answer and source, marked for review like every
drafted fact; what it says is left to the reviewer to summarise."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from knowledge.drafting.view import View

if TYPE_CHECKING:
    from knowledge.drafting.facts import Fact, Numbering

_REFUND = re.compile(r"退费|退考|弃考|退还|不予退|原路退回|原渠道退回|撤销报名")
_REFUND_RULE = re.compile(r"申请|须|应|可|视为|不予|逾期|未在|办理|联系|退回|退还")
_FEE = re.compile(r"(?P<amount>\d+(?:\.\d+)?)\s*元(?:\s*/\s*(?:人|科|次)[·.]?(?:科|次|科次)?)?")
_FEE_WORD = re.compile(r"收费|费用|缴费|缴纳|标准|考试费|鉴定费|认定费|考核费|报名费")
_VENUE = re.compile(
    r"(?:考点[一二三四五六七八九十\d]{0,2}|考试地点|考核地点|认定地点|考场|报名地点|办理地点|现场确认地点)"
    r"(?:设在|为|在)?\s*[:：]?\s*"
    r"(?P<org>[\u4e00-\u9fffA-Za-z0-9]{4,40}?)\s*[（(](?P<address>[^（()）]{6,80})[)）]"
)
_PLACE = re.compile(
    r"(?:到|在|至|赴)(?P<org>[\u4e00-\u9fff]{4,30}?(?:中心|学校|学院|大学|技校|鉴定所|鉴定站|考点|大厅|窗口|基地|公司))"
    r"\s*[（(](?P<address>[^（()）]{4,80}(?:路|街|道|号|区|镇|乡|村|园|楼|室|巷)[^（()）]{0,20})[)）]"
)
"""到霍山县就业服务中心（霍山县衡山镇迎驾大道168号）: a place named with its address in brackets."""
_BARE_VENUE = re.compile(r"^(?P<org>[\u4e00-\u9fffA-Za-z0-9]{4,40}?)\s*[（(](?P<address>[^（()）]{6,80})[)）]")
"""A line under a 考试地点 heading that is a place and its address, with no label of its own."""
_PLACE_HEADING = re.compile(r"地点|考点|考场|地址")


def prose_rule_facts(
    view: View, quote: str, clause: str, ids: Numbering, source: Callable[[list[str]], Fact], heading: str
) -> list[Fact]:
    """The rules of one sentence written as prose that candidates act on: withdrawal and refund
    (须在缴费截止日期前联系…，未在规定时间内申请的视为参加考试，费用不予退还), fees (理论考试80元/人, or bare
    amounts under a 收费标准 heading), venues with their address (考点一：某学院（某路18号）)."""
    out: list[Fact] = []
    text = view.text
    topic = None
    if _REFUND.search(text) and _REFUND_RULE.search(text):
        topic, title = "退考退费", "退考退费规定"
    elif _FEE.search(text) and (_FEE_WORD.search(text) or _FEE_WORD.search(heading)):
        topic, title = "收费标准", "收费标准"
    seen: set[str] = set()
    bare = [_BARE_VENUE.match(text)] if _PLACE_HEADING.search(heading) else []
    for venue in [*_VENUE.finditer(text), *_PLACE.finditer(text), *(m for m in bare if m is not None)]:
        org, address = view.original(*venue.span("org")), view.original(*venue.span("address"))
        if address in seen:
            continue
        seen.add(address)
        out.append(
            {
                "id": ids.next("contact"),
                "kind": "contact",
                "review": True,
                "title": f"地点：{org}",
                "topic": "考试地点",
                "organization": org,
                "address": address,
                "answer": quote,
                "source": source([org, address]),
            }
        )
    if topic is None:
        return out
    out.append(
        {
            "id": ids.next("rule"),
            "kind": "rule",
            "review": True,
            "title": f"{title}（{clause}）",
            "topic": topic,
            "answer": quote,
            "source": source([m.group(0) for m in _FEE.finditer(text)] if topic == "收费标准" else []),
        }
    )
    return out
