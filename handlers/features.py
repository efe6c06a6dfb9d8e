"""The conversation's features, in routing order: the one place a new feature is added.

A feature is a module with a `router` (see `handlers.routing`). Command words are matched across all
of them before any text route, so the order below matters only among text routes and among the
routes of one command: the policy answerer, which takes any text, comes last."""

from __future__ import annotations

from handlers import (
    awaiting,
    channel_events,
    form_filling,
    handoff,
    help,
    my_requests,
    policy_qa,
    privacy_requests,
    reminders,
    small_talk,
    withdrawal,
    withdrawal_intent,
)
from handlers.routing import Router

FEATURES = (
    channel_events,
    help,
    handoff,
    my_requests,
    privacy_requests,
    reminders,
    withdrawal,
    withdrawal_intent,
    form_filling,
    small_talk,
    policy_qa,
)


def build_router() -> Router:
    root = Router("root")
    for feature in FEATURES:
        root.include_router(feature.router)
    # Outermost first: while a handoff is open its messages go to staff before anything else.
    root.middleware(handoff.handoff_mode(root))
    root.middleware(form_filling.resume_interrupted_form)
    root.middleware(awaiting.expire_awaiting)
    return root
