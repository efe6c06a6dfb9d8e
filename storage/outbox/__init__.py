"""The outbox of proactive messages: idempotent planning, claiming by dispatchers, recording outcomes.

Planning inserts rows under a unique key, so planning the same thing twice, at once, or on two hosts
creates one row. Dispatchers claim due rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one
writer at a time) for a limited time: a dispatcher that dies leaves its claims to expire, and the
next one sends them. Only messages handed to the channel API but not yet recorded as sent at the
moment of a crash can go out twice.

`queue` holds the mechanics (the rows, the statements), `policy` the decisions (quiet hours, the
daily cap, retries), `lookups` the read-only questions, `delivery` what became of one send (the type
every channel's sender returns); everything is imported from here.
"""

from storage.outbox.delivery import Delivery
from storage.outbox.lookups import broadcast_counts, next_due, next_pending_for, status_counts
from storage.outbox.policy import ANYTIME_KINDS, Rules, backoff
from storage.outbox.queue import ENQUEUE_BATCH, Attempt, Claimed, ClaimStats, Planned, claim, enqueue, record

__all__ = [
    "ANYTIME_KINDS",
    "ENQUEUE_BATCH",
    "Attempt",
    "ClaimStats",
    "Claimed",
    "Delivery",
    "Planned",
    "Rules",
    "backoff",
    "broadcast_counts",
    "claim",
    "enqueue",
    "next_due",
    "next_pending_for",
    "record",
    "status_counts",
]
