"""What a message typed at a form's prompt is, before it is taken as the answer.

A value is stored only when it answers the question asked. Commands and acknowledgements (好的,
确认), 跳过 where skipping is not offered, doubts (不知道, 忘了) and small talk are not answers: the
form says so and asks again, or applies what the field declares such a word means. A message may
also carry more than the question asked (姓名、身份证、手机 together) or change an earlier answer in
one step (手机号改成139…)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from handlers.forms import Field, Form, FormContext
from handlers.parsing import Ok, Parsed
from handlers.small_talk import small_talk_kind
from handlers.text import compact

BACK_WORDS = frozenset({"返回", "上一步", "后退", "上一项", "返回上一步"})
RESTART_WORDS = frozenset({"重新开始", "重来", "从头开始", "重新填", "重新填写", "重新办理", "从头再来", "全部重填"})
ACK_WORDS = frozenset(
    "好的 好 好吧 好滴 嗯 嗯嗯 哦 噢 行 行吧 可以 收到 知道了 明白 明白了 ok okay".split()
    + "确认 确定 是的 是 对 对的 没问题".split()
)
SKIP_WORDS = frozenset({"跳过", "略过", "不填", "下一个", "下一项", "先跳过", "skip"})
IN_FORM_SMALL_TALK = {"greeting": "您好！", "thanks": "不客气！", "bye": "登记还没有完成。"}
"""Said before the form's question when a candidate greets, thanks or says goodbye mid-form."""
_DOUBT = re.compile(r"不知道|不清楚|忘了|忘记了?|不记得|记不清|不确定|不晓得|搞不清|没印象")
_LATER_EDIT = re.compile(r"修改|更改|重新填写|重填")
_EDIT_CONNECTOR = re.compile(r"^(?:改成|改为|换成|更正为|更改为|修改为|改|换|为|是|成)")


@dataclass(frozen=True)
class NotAnAnswer:
    """Why the message is not an answer, said before the question is asked again."""

    message: str


def is_doubt(text: str) -> bool:
    """不知道/忘了/不清楚…: a remark about the question asked, not a question to answer."""
    return _DOUBT.search(compact(text)) is not None


def interpret(text: str, field: Field, fctx: FormContext) -> NotAnAnswer | Parsed | None:
    """None: take `text` as the answer. A Parsed: what the field says such a word means (不知道 as
    a level staff verify). NotAnAnswer: nothing is stored, the question is asked again."""
    word = compact(text)
    takes_yes_no = "是" in field.choices_for(fctx)
    kind = small_talk_kind(text)
    if kind in IN_FORM_SMALL_TALK:
        return NotAnAnswer(IN_FORM_SMALL_TALK[kind])
    if word in ACK_WORDS and not takes_yes_no:
        return NotAnAnswer(f"请直接输入{field.label}。")
    if word in SKIP_WORDS and not field.skippable:
        return NotAnAnswer(f"{field.label}需要填写，不能跳过。")
    if _DOUBT.search(word):
        if field.unknown is not None:
            return field.unknown(fctx)
        hint = f"{field.help}" if field.help else ""
        return NotAnAnswer(f"{hint}如果实在不清楚，可以回复“转人工”请工作人员协助，或回复“取消”结束办理。")
    return None


def take_others(text: str, current: Field, fctx: FormContext) -> tuple[list[tuple[Field, Ok]], str]:
    """Values of other, unanswered fields found in `text` (an ID and a phone number typed with the
    name), and what is left of the text for the field asked, their labels taken out."""
    taken: list[tuple[Field, Ok]] = []
    rest = text
    for field in fctx.form.fields:
        if field is current or field.find is None or field.name in fctx.values:
            continue
        # A field validated against another one waits for it (the occupation for the region).
        if any(dep not in fctx.values for dep in field.depends_on) or not field.asked(fctx):
            continue
        found = field.find(rest, fctx)
        if found is None:
            continue
        parsed, (start, end) = found
        if not isinstance(parsed, Ok):
            continue
        taken.append((field, parsed))
        rest = rest[:start] + " " + rest[end:]
    if taken:
        labels = sorted({w for f, _ in taken for w in (f.label, *f.aliases) if w}, key=len, reverse=True)
        rest = re.sub("|".join(re.escape(w) + r"(?:号码|号)?(?:是|为|:|：)?" for w in labels), " ", rest)
        rest = re.sub(r"^[\s,，、;；。:：]+|[\s,，、;；。:：]+$", "", rest)
    return taken, rest


def edit_request(form: Form, text: str) -> tuple[Field, str | None] | None:
    """A request to change an answer: 修改手机号 (the field), 修改手机号为139… or 手机号改成139…
    (the field and its new value)."""
    word = compact(text)
    field = form.edit_target(word)
    if field is None:
        # 身份证输错了，修改身份证号为…: the request after a remark.
        later = _LATER_EDIT.search(word, 1)
        if later is not None:
            return edit_request(form, word[later.start() :])
    if field is not None:
        named = form.labelled(_after_edit_prefix(word))
        value = _value_after_connector(named[1], required=False) if named else None
        return field, value or None
    named = form.labelled(word)
    if named is None:
        return None
    value = _value_after_connector(named[1], required=True)
    return (named[0], value) if value else None


def _after_edit_prefix(word: str) -> str:
    for prefix in ("修改", "更改", "改一下", "重填", "重新填写", "改"):
        if word.startswith(prefix):
            return word[len(prefix) :]
    return word


def _value_after_connector(rest: str, *, required: bool) -> str | None:
    """The new value after 改成/为/…; with `required`, only when a word of change comes first (so
    that 手机13812345678, typed at the phone prompt, stays an answer)."""
    match = _EDIT_CONNECTOR.match(rest)
    if match is None:
        return None if required else rest or None
    if required and not re.match(r"改|换|更正|更改|修改", match.group(0)):
        return None
    return rest[match.end() :] or None
