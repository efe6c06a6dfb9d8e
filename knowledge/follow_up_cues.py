"""How a question leans on the one before it or divides into several: follow-up cues (那…呢,
签了以后…, a bare 多久), whether it asks if something still holds, and its parts."""

from __future__ import annotations

import re

# A follow-up leans on the previous question: 那…/还有…/另外… or …呢, or a bare question word with
# at most a short subject (成绩多久出来, 电话多少, 找谁).
FOLLOW_UP_LEAD = re.compile(
    r"^(?:那么|那|还有|另外|再问一下|再问下|如果是|要是"
    # 里面…哪几个: among what the previous answer listed.
    r"|(?:这|那)?(?:里面|里头|其中|当中|中间)"
    # A correction (不对，我是问报名; 不对不对，是全国统一的) re-asks the previous question about what
    # it names.
    r"|(?:(?:不对|不是|错了|搞错了|说错了|弄错了)[,，\s]*)+(?:我是问|我问的是|我是说|我说的是|我想问的是|应该是|是)?"
    r"|(?:我是问|我问的是|我是说|我说的是|我想问的是))"
)
CORRECTION = re.compile(r"^(?:不对|不是|错了|搞错了|说错了|弄错了)|^(?:我是问|我问的是|我想问的是)")
"""The previous answer was not what was asked: its facts are not the answer this time."""
AFTER_THAT = re.compile(r"^[\u4e00-\u9fff]{1,4}(?:了|完)(?:以后|之后|后)")
"""签了以后…, 交完之后…: what comes after the step the previous question was about."""
BARE_ASK = re.compile(
    r"多久|多长|多少|哪天|几号|几月|什么时候|啥时候|找谁|谁|电话|在哪|哪里|去哪|哪办|交什么|要什么|什么材料|怎么办|来得及"
    r"|几个|几项|咋样|怎么样|会怎样|后果|到哪|交哪|送哪|报哪|找哪|哪个部门|哪个单位|给谁"
    # 补考也一样吗: the same rule, asked of something else.
    r"|一样|同样|也这样|也是这样"
    # 为啥不行: the reason, which the previous answer's fact gives.
    r"|为啥|为什么|什么原因|啥原因|凭什么"
    # 发的是啥证, 照片要啥样的: what kind, of the thing just talked about.
    r"|(?:啥|什么)(?:证|表|材料|手续|条件|要求|样)|是啥|要啥|带啥|交啥|填啥"
)


STILL = re.compile(r"还能|还可以|还来得及|来得及|还行吗|晚不晚|过了吗|截止了吗|还有效")
"""A follow-up asking whether the previous answer still holds today (现在还能申请吗)."""
PARTS = re.compile(r"[？?；;]")
_ASKS = re.compile(r"吗|呢|谁|哪|什么|啥|几|多少|多久|怎么|咋|如何")
"""A clause that asks something of its own."""
"""Where a question in several parts divides."""
EACH = re.compile(
    r"^(?P<head>.*?)(?P<a>[^，,。\s和与跟及、]{2,12})(?:和|与|跟|及|、)(?P<b>[^，,。\s和与跟及、]{2,12})(?:分别|各自|各)(?P<ask>.+)$"
)
"""A和B分别…: one question about two things, asked of each."""


def is_elliptical(rest: str) -> bool:
    """Whether a question, without its region names, leans on the previous one."""
    unpunctuated = re.sub(r"[\s,.!?;:，。！？；：、]+", "", rest)
    bare = re.sub(r"[的吗啊呀]+", "", unpunctuated)
    if not bare or FOLLOW_UP_LEAD.match(unpunctuated) or AFTER_THAT.match(bare) or bare.endswith("呢"):
        return True
    # 第二批, 证书, 二级: a few characters alone name only what changes from the previous question.
    return len(bare) <= 3 or (len(bare) <= 7 and bool(BARE_ASK.search(bare)))


def comma_parts(question: str) -> list[str]:
    """找谁退啊，要啥材料: two asks joined by a comma, each asking on its own (else [])."""
    pieces = [p for p in re.split(r"[，,]", question) if p.strip()]
    return pieces if len(pieces) == 2 and all(len(p) >= 3 and _ASKS.search(p) for p in pieces) else []


def split_parts(question: str) -> list[str]:
    """The parts of a question asked in several (证书谁来发？补考最晚哪天？; A和B分别哪天), or the
    question alone."""
    parts = [p for p in PARTS.split(question) if len(p.strip()) >= 4]
    each = EACH.match(question.strip())
    if len(parts) < 2 and each:
        head, ask = each["head"], each["ask"]
        return [f"{head}{each['a']}{ask}", f"{head}{each['b']}{ask}"]
    return parts
