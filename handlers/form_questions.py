"""Questions asked inside a form are answered in the form's context first: why a field is asked
(为啥要手机号), what happens to personal data (会泄露吗), and the form's own questions (截止到哪天
during a withdrawal is its deadline, 交给谁 its institution). Anything else goes to the policy
answerer with the form's region."""

from __future__ import annotations

import re

from handlers.context import Context
from handlers.forms import Field, Form, current, form_context

# 为什么要/为啥要/干嘛要/凭什么要 + what is asked for, or 要X干什么/有什么用.
_WHY = re.compile(r"为什么|为啥|干嘛|干什么|凭什么|有什么用|做什么用|用来干|用途|必须")
# What a field is or where to find it: 报考机构是指啥, 考试日期在哪里能看到, 收据号又是什么东西.
_WHAT_OR_WHERE = re.compile(
    r"在哪|哪里|哪儿|去哪|怎么查|怎么找|查不到|找不到|是什么|是啥|是指|指的是|什么意思|啥意思|什么东西|啥东西|指啥|啥玩意|不懂"
)
_PRIVACY = re.compile(r"泄露|泄漏|安全|保密|隐私|骗|外泄|卖|倒卖|个人信息|实名")

PRIVACY = (
    "您的身份证号和手机号加密保存，在聊天记录、日志和工作人员后台中只显示部分号码；"
    "只用于办理本次登记（报考机构核对报名信息、联系您退费），不会用于其他用途。"
)


def answer_in_form(ctx: Context, text: str) -> str | None:
    """The form's own answer to a question asked while it is in progress, or None."""
    found = current(ctx)
    if found is None:
        return None
    state, form = found
    fctx = form_context(ctx, state, form)
    # At the final confirmation the form asks no field.
    asked = next((f for f in form.fields if f.name == state.asking), None)
    if _WHY.search(text):
        field = _named_field(form, text) or asked
        if field is not None and field.why:
            return field.why + (PRIVACY if field.sensitive else "")
    if _PRIVACY.search(text):
        return PRIVACY
    if _WHAT_OR_WHERE.search(text):
        field = _named_field(form, text) or asked
        if field is not None and field.help:
            return field.help
    for question in form.questions:
        if question.answers(text):
            answer = question.answer(fctx)
            if answer:
                return answer
    return None


def _named_field(form: Form, text: str) -> Field | None:
    return form.find_field(text)
