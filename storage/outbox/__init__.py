"""The outbox of proactive messages: idempotent planning, claiming by dispatchers, recording outcomes.

Planning inserts rows under a unique key, so planning the same thing twice, at once, or on two hosts
creates one row. Dispatchers claim due rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one
writer at a time) for a limited time: a dispatcher that dies leaves its claims to expire, and the
next one sends them. Only messages handed to the channel API but not yet recorded as sent at the
moment of a crash can go out twice.

`queue` holds the claiming (the rows, the statements), `outcomes` the recording of what became of each
send, `policy` the decisions (priorities, quiet hours, the daily cap, retries), `quotas` a channel's
daily quotas, `lookups` the read-only questions, `delivery` what became of one send (the type every
channel's sender returns); everything is imported from here.
"""

from storage.outbox.delivery import Delivery
from storage.outbox.lookups import broadcast_counts, last_seen, next_due, next_pending_for, status_counts
from storage.outbox.outcomes import Attempt, record
from storage.outbox.outlook import (
    ChannelOutlook,
    cost_lines,
    outlook_lines,
    quota_outlook,
    usage_lines,
    warning_lines,
)
from storage.outbox.policy import ANYTIME_KINDS, PASSED, SUPERSEDED, Rules, backoff, priority_of, shortfall
from storage.outbox.queue import ENQUEUE_BATCH, Claimed, ClaimStats, Planned, Router, claim, enqueue, expire_passed

__all__ = [
    "ANYTIME_KINDS",
    "ENQUEUE_BATCH",
    "PASSED",
    "SUPERSEDED",
    "Attempt",
    "ChannelOutlook",
    "ClaimStats",
    "Claimed",
    "Delivery",
    "Planned",
    "Router",
    "Rules",
    "backoff",
    "broadcast_counts",
    "claim",
    "cost_lines",
    "enqueue",
    "expire_passed",
    "last_seen",
    "next_due",
    "next_pending_for",
    "outlook_lines",
    "priority_of",
    "quota_outlook",
    "record",
    "shortfall",
    "status_counts",
    "usage_lines",
    "warning_lines",
]
