"""A message that only says where the candidate is (江苏的, 我在广州报的名, 那广州呢)."""

from __future__ import annotations

import re

from handlers.context import Context

# What a message that only says where the candidate is may hold besides the region: 哦 不过我自己是江苏的,
# 我是在广州报的名, 那广州呢.
_AROUND_REGION = re.compile(
    r"(?:哦|噢|嗯|啊|呀|对|不过|但是|其实|那|那么|另外|我|我们|自己|本人|是|在|的|人|这边|那边|那里|地区|考生|考区"
    r"|报的名|报名的|报的|考的|报名|报考|呢)*"
)


def region_only(text: str, ctx: Context) -> str | None:
    """The region a message names when it says nothing else (江苏的, 我在广州, 广东省深圳市)."""
    if len(text) > 20:
        return None
    region, rest = ctx.region_and_rest(text)
    return region if region is not None and _AROUND_REGION.fullmatch(rest) else None
