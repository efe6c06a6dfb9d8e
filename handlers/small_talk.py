"""Small talk: greetings, thanks, goodbyes and acknowledgements get a short, friendly reply.

Never the abstention (nothing was asked), never the whole menu (it was not asked for either), and
never a knowledge gap. A message is small talk only when it is nothing else: 谢谢，退考截止哪天
is a question with thanks in front, and goes on to the answerer."""

from __future__ import annotations

import re

from handlers.context import Context
from handlers.messages import Inbound, Reply
from handlers.routing import Router
from knowledge.analyzer import normalize

router = Router("small_talk")

# Longest first within the alternation, so that 谢谢你 is one token, not 谢谢 and 你.
_KINDS = {
    "bye": "再见 拜拜 拜 88 bye byebye 下次聊 先这样 没事了 没有了 没别的了",
    "thanks": "非常感谢 谢谢您 谢谢你 谢谢啦 谢啦 谢谢 多谢 感谢 辛苦了 辛苦 好人 你真好 太好了 麻烦了 麻烦你了 "
    "thanks thank you thx 3q",
    "greeting": "你好呀 你好啊 你好 您好 哈喽 hello hi 嗨 在吗 在不在 早上好 下午好 晚上好 早",
    "ack": "好的呢 好的 好滴 好哒 好嘞 好吧 好 嗯嗯 嗯 哦哦 哦 噢 行吧 行 成 妥 ok okay 明白了 明白 知道了 晓得了 晓得 "
    "收到 了解 懂了 清楚了 可以了 没问题",
}
_FILLER = "啊呀啦哈呢吧哦了的你您嘛么 "
_TOKEN = re.compile(
    "|".join(sorted((re.escape(w) for words in _KINDS.values() for w in words.split()), key=len, reverse=True))
)
_KIND_OF = {w: kind for kind, words in _KINDS.items() for w in words.split()}
_PUNCT = re.compile(r"[^\w]+|_+")  # punctuation, spaces, emoji and other symbols

REPLIES = {
    "bye": "再见！祝您考试顺利。有问题随时来问我。",
    "thanks": "不客气！还有其他问题随时问我。",
    "greeting": "您好！请直接输入您的问题，例如：“广州退考退费登记截止到哪天？”",
    "ack": "好的。还有其他问题随时问我。",
}


def small_talk_kind(text: str) -> str | None:
    """The kind of small talk `text` is wholly made of (the most telling kind when mixed: a goodbye
    with thanks is a goodbye), or None when it says anything else."""
    bare = _PUNCT.sub(" ", normalize(text)).strip()
    if not bare:
        return None
    found = [_KIND_OF[m.group(0)] for m in _TOKEN.finditer(bare)]
    rest = _TOKEN.sub("", bare).strip(_FILLER)
    if not found or rest:
        return None
    for kind in ("bye", "thanks", "greeting", "ack"):
        if kind in found:
            return kind
    return None


def _is_small_talk(inbound: Inbound, ctx: Context) -> bool:
    return ctx.state.form is None and small_talk_kind(inbound.text) is not None


@router.text(_is_small_talk)
async def chat_back(inbound: Inbound, ctx: Context) -> list[Reply]:
    kind = small_talk_kind(inbound.text)
    assert kind is not None
    return [Reply(REPLIES[kind])]
