"""Policy questions, answered from the knowledge base with their sources; the questions it
abstains on are recorded as knowledge gaps for staff."""

from __future__ import annotations

import logging
import re

from handlers.context import Context
from handlers.messages import Reply
from knowledge.analyzer import normalize
from knowledge.qa import MAX_QUESTION, PolicyQA
from storage.gaps import record_unanswered
from storage.masking import mask_text

log = logging.getLogger(__name__)

WITHDRAWAL_TOPICS = frozenset({"退考退费"})
GAP_KINDS = frozenset({"abstain", "region_not_covered"})
"""Abstentions that say the knowledge base lacks something. Empty text, small talk and an
impossible date are the candidate's input, not a gap, and are not recorded."""
_NOT_WORD = re.compile(r"[\W_]+")


async def answer_reply(ctx: Context, text: str, *, offer_withdrawal: bool = True) -> Reply:
    """Answers with the region the conversation already knows, remembering a region it names."""
    qa = ctx.services.qa
    answer = qa.answer(text, region=ctx.state.get("region"), now=ctx.today)
    if answer.region:
        ctx.state["region"] = answer.region
    if answer.matched or answer.kind in GAP_KINDS:
        # For the dashboard, in the message's own transaction: a retried message counts once.
        ctx.answers.add(day=ctx.today, channel=ctx.channel, user_id=ctx.user_id, answered=answer.matched)
    choices: tuple[str, ...] = ()
    if not answer.matched:
        choices = ("转人工", "帮助")
        if answer.kind in GAP_KINDS:
            await _record_gap(ctx, text, answer.region)
    elif offer_withdrawal and any(
        ctx.services.kb.by_id[f].fact.topic in WITHDRAWAL_TOPICS for f in answer.fact_ids if f in ctx.services.kb.by_id
    ):
        choices = ("退考退费",)
    return Reply(answer.text, choices, sources=answer.sources, kind="answer" if answer.matched else "abstain")


def gap_key(qa: PolicyQA, text: str) -> str:
    """The question as grouping compares it: simplified, half-width, typos repaired, no punctuation."""
    return _NOT_WORD.sub("", qa.analyzer.repair(normalize(text)[:MAX_QUESTION]))


async def _record_gap(ctx: Context, text: str, region: str | None) -> None:
    key = gap_key(ctx.services.qa, text)
    if not key:
        return
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
