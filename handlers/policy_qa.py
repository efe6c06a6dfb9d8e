"""Policy questions, answered from the knowledge base with their sources; the questions it
abstains on are recorded as knowledge gaps for staff. The fallback feature: text no other route
took is a question. Inside a form, a question is answered for the form's region and the form goes on."""

from __future__ import annotations

import datetime as dt
import logging
import re

from handlers.context import Context
from handlers.form_questions import answer_in_form
from handlers.messages import Command, Inbound, Reply
from handlers.region_words import region_only
from handlers.routing import Router
from handlers.text import compact
from knowledge.analyzer import normalize
from knowledge.answer import Answer
from knowledge.qa import MAX_QUESTION, PolicyQA
from knowledge.timezone import SHANGHAI
from knowledge.withdrawal import withdrawal_rules
from knowledge.wording import quote_line, source_line
from storage.gaps import record_unanswered
from storage.masking import mask_text

log = logging.getLogger(__name__)

WITHDRAWAL_TOPICS = frozenset({"退考退费"})
GAP_KINDS = frozenset({"abstain", "unanswerable", "region_not_covered"})
"""Abstentions that say the knowledge base lacks something. Empty text, small talk and an
impossible date are the candidate's input, not a gap, and are not recorded."""
_NOT_WORD = re.compile(r"[\W_]+")
_HAS_CHINESE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
QA_WORDS = ("问答", "咨询")
NO_CHINESE = "请用中文描述您想咨询的问题，例如：“广州退考退费登记截止到哪天？”“钳工还能报名吗？”"

router = Router("policy_qa")


@router.command(Command.QA, words=QA_WORDS)
async def how_to_ask(inbound: Inbound, ctx: Context) -> list[Reply]:
    return [Reply("请直接输入您的问题，例如：“广州退考退费登记截止到哪天？”“钳工还能报名吗？”")]


def _names_only_a_region(inbound: Inbound, ctx: Context) -> bool:
    return ctx.state.form is None and region_only(inbound.text, ctx) is not None


@router.text(_names_only_a_region)
async def take_region(inbound: Inbound, ctx: Context) -> list[Reply]:
    region = region_only(inbound.text, ctx)
    assert region is not None
    if not ctx.kb.covers(region):
        return [await answer_reply(ctx, inbound.text, region=region)]
    ctx.state.region = region
    previous = _recent_question(ctx)
    if previous is not None:
        # 广州 right after a question (or its region button): that question, for 广州, when the
        # notices answer it there (a miss is no gap: the candidate only said where they are).
        answer = ctx.qa.answer(inbound.text, region=region, now=ctx.today, previous=previous)
        if answer.matched:
            ctx.remember_question(answer.asked or previous)
            return [await _reply_for(ctx, inbound.text, answer)]
    short = ctx.kb.regions.short_name(region)
    choices = (f"{short}退考退费",) if withdrawal_rules(ctx.kb, region) is not None else ()
    return [
        Reply(
            f"好的，之后按{region}的通知为您解答。请问您想了解什么？例如：“{short}退考退费截止到哪天？”“证书什么时候发？”",
            choices,
        )
    ]


QUOTE_WORDS = frozenset({"原文", "看原文", "查看原文", "原文是什么", "通知原文", "出处"})
MORE_WORDS = frozenset({"更多", "详细", "详细点", "详细一点", "说详细点", "展开"})


def _asks_quote_or_more(inbound: Inbound, ctx: Context) -> bool:
    return ctx.state.form is None and compact(inbound.text) in QUOTE_WORDS | MORE_WORDS


@router.text(_asks_quote_or_more)
async def quote_or_more(inbound: Inbound, ctx: Context) -> list[Reply]:
    """原文: the verbatim text the last answer relies on; 更多: the related facts it left out."""
    quote = compact(inbound.text) in QUOTE_WORDS
    ids = ctx.state.last_facts if quote else ctx.state.more_facts
    entries = [ctx.kb.by_id[f] for f in ids if f in ctx.kb.by_id]
    if not entries:
        what = "原文" if quote else "更多内容"
        return [Reply(f"上一个回答没有可以展开的{what}。请直接输入您的问题。")]
    if quote:
        return [
            Reply("\n".join(quote_line(e) for e in entries), sources=tuple(dict.fromkeys(e.doc_no for e in entries)))
        ]
    ctx.state.last_facts, ctx.state.more_facts = [e.fact.id for e in entries], []
    lines = [f"【{'、'.join(e.regions)}】{e.fact.answer.strip()}" for e in entries]
    lines += [source_line(e) for e in entries]
    return [Reply("\n".join(lines), ("原文",), sources=tuple(dict.fromkeys(e.doc_no for e in entries)), kind="answer")]


@router.text()
async def answer_question(inbound: Inbound, ctx: Context) -> list[Reply]:
    form = ctx.state.form
    if form is not None:
        own = answer_in_form(ctx, inbound.text)
        if own is not None:
            return [Reply(own)]
        # Asked inside a form: about the form's region, without offering to start another form.
        region = form.shown_value("region")
        return [await answer_reply(ctx, inbound.text, region=region if isinstance(region, str) else None, in_form=True)]
    reply, asked = await answer_with_context(ctx, inbound.text, region=ctx.state.region, previous=_recent_question(ctx))
    if inbound.text.strip():
        ctx.remember_question(asked or inbound.text)
    return [reply]


FOLLOW_UP_WINDOW = dt.timedelta(minutes=30)
"""How long a question stays the context of the next one."""


def _recent_question(ctx: Context) -> str | None:
    asked, when = ctx.state.last_question, ctx.state.last_asked
    if not asked or not when:
        return None
    try:
        at = dt.datetime.fromisoformat(when)
    except ValueError:
        return None
    return asked if dt.timedelta(0) <= ctx.now - at <= FOLLOW_UP_WINDOW else None


async def answer_reply(ctx: Context, text: str, *, region: str | None, in_form: bool = False) -> Reply:
    """Answers for `region` unless the question names another; outside a form, remembers the
    region a question names for the questions after it."""
    reply, _ = await answer_with_context(ctx, text, region=region, in_form=in_form)
    return reply


async def answer_with_context(
    ctx: Context, text: str, *, region: str | None, in_form: bool = False, previous: str | None = None
) -> tuple[Reply, str]:
    """The reply, and the question as understood when it was read with `previous` (else "")."""
    if not _HAS_CHINESE.search(text):
        # Markup, code, stray symbols or another language (<script>…): no question the notices could
        # answer was asked; the candidate is asked to write it in Chinese. Not counted, not a gap.
        return Reply(NO_CHINESE, () if in_form else ("帮助",), kind="abstain"), ""
    answer = ctx.qa.answer(text, region=region, now=ctx.today, previous=previous)
    return await _reply_for(ctx, text, answer, in_form=in_form), answer.asked


async def _reply_for(ctx: Context, text: str, answer: Answer, *, in_form: bool = False) -> Reply:
    """The reply to `text` from its answer; outside a form, the conversation remembers what the
    answer was about. Counted for the dashboard, and an abstention recorded as a gap."""
    if answer.region and not in_form:
        ctx.state.region = answer.region
    if answer.matched or answer.kind in GAP_KINDS:
        # For the dashboard, in the message's own transaction: a retried message counts once.
        ctx.answers.add(day=ctx.today, channel=ctx.channel, user_id=ctx.user_id, answered=answer.matched)
    choices: tuple[str, ...] = ()
    if not answer.matched:
        choices = () if in_form else ("转人工", "帮助")
        if answer.kind in GAP_KINDS:
            await _record_gap(ctx, text, answer.region)
    elif not in_form and answer.asks_region:
        # Regions differ and none was named: a button per region answers the question there.
        choices = tuple(ctx.kb.regions.short_name(r) for r in answer.regions[:4])
    elif not in_form and _about_withdrawal(ctx, answer.fact_ids):
        choices = ("退考退费", "原文")
    elif not in_form:
        choices = ("原文", "更多") if answer.more else ("原文",)
    if answer.matched and not in_form:
        ctx.state.topic = "退考退费" if _about_withdrawal(ctx, answer.fact_ids) else None
        ctx.state.last_facts = list(answer.fact_ids)
        ctx.state.more_facts = list(answer.more)
    return Reply(answer.text, choices, sources=answer.sources, kind="answer" if answer.matched else "abstain")


def _about_withdrawal(ctx: Context, fact_ids: tuple[str, ...]) -> bool:
    return any(ctx.kb.by_id[f].fact.topic in WITHDRAWAL_TOPICS for f in fact_ids if f in ctx.kb.by_id)


def gap_key(qa: PolicyQA, text: str) -> str:
    """The question as grouping compares it: simplified, half-width, typos repaired, no punctuation."""
    return _NOT_WORD.sub("", qa.analyzer.repair(normalize(text)[:MAX_QUESTION]))


async def _record_gap(ctx: Context, text: str, region: str | None) -> None:
    key = gap_key(ctx.qa, text)
    if not key:
        return
    day = ctx.now.astimezone(SHANGHAI).date().isoformat()
    if ctx.state.gaps_day != day:
        ctx.state.gaps_day, ctx.state.gaps_recorded = day, 0
    if ctx.state.gaps_recorded >= ctx.services.gaps_per_user_day:
        return  # the reply still abstains; the staff's list is spared the rest of the day's
    ctx.state.gaps_recorded += 1
    try:
        # A savepoint: should the insert fail, the message's transaction (the conversation, the
        # transcript) carries on and the candidate still gets the reply.
        async with ctx.session.begin_nested():
            await record_unanswered(
                ctx.session,
                channel=ctx.channel,
                user_id=ctx.user_id,
                text=text,
                normalized=key,
                region=region,
                now=ctx.now,
            )
    except Exception as exc:  # noqa: BLE001 - a lost gap record must never cost the reply
        log.warning("unanswered question not recorded: %s %s", type(exc).__name__, mask_text(str(exc))[:300])
