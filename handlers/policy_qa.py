"""Policy questions, answered from the knowledge base with their sources."""

from __future__ import annotations

from handlers.context import Context
from handlers.messages import Reply

WITHDRAWAL_TOPICS = frozenset({"退考退费"})


def answer_reply(ctx: Context, text: str, *, offer_withdrawal: bool = True) -> Reply:
    """Answers with the region the conversation already knows, remembering a region it names."""
    qa = ctx.services.qa
    answer = qa.answer(text, region=ctx.state.get("region"), now=ctx.today)
    if answer.region:
        ctx.state["region"] = answer.region
    choices: tuple[str, ...] = ()
    if not answer.matched:
        choices = ("转人工", "帮助")
    elif offer_withdrawal and any(
        ctx.services.kb.by_id[f].fact.topic in WITHDRAWAL_TOPICS for f in answer.fact_ids if f in ctx.services.kb.by_id
    ):
        choices = ("退考退费",)
    return Reply(answer.text, choices, sources=answer.sources, kind="answer" if answer.matched else "abstain")
