"""Delivery policy: when a proactive message may go out, how many a user gets a day, and when a failed
send is tried again. Pure decisions on values; storage.outbox.queue reads and writes the rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from storage.statuses import DeliveryStatus

ANYTIME_KINDS = frozenset({"staff_reply"})
"""Answers a candidate asked for (转人工) and is waiting for: sent in quiet hours too, and a retry
is not pushed to the morning. Reminders and broadcasts wait for quiet hours to end."""


PASSED = "日期已过"
"""Why a reminder was skipped: its day came before it could be sent."""
SUPERSEDED = "已有更新的提醒"
"""Why a reminder was skipped: a later reminder of the same date is due, and says more."""


def priority_of(kind: str) -> int:
    """Which messages a scarce daily quota is spent on first: what the user is waiting for (a staff
    reply, a request's new status), then reminders (the nearest date first), then broadcasts."""
    return {"reminder": 1, "broadcast": 2}.get(kind, 0)


@dataclass(frozen=True)
class Rules:
    """When a claimed message may go out (all times Beijing time)."""

    quiet_start: dt.time
    quiet_end: dt.time
    daily_cap: int
    zone: dt.tzinfo
    quotas: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    """channel → route (WeChat: template, custom) → sends allowed a Beijing day; unlisted: no limit."""

    def local(self, at: dt.datetime) -> dt.datetime:
        return at.astimezone(self.zone)

    def quiet(self, at: dt.datetime) -> bool:
        t = self.local(at).time()
        if self.quiet_start > self.quiet_end:  # spans midnight, e.g. 21:00–08:00
            return t >= self.quiet_start or t < self.quiet_end
        return self.quiet_start <= t < self.quiet_end

    def after_quiet(self, at: dt.datetime) -> dt.datetime:
        """The end of the quiet period `at` falls in (`at` itself when it is not quiet)."""
        if not self.quiet(at):
            return at
        local = self.local(at)
        end = dt.datetime.combine(local.date(), self.quiet_end, self.zone)
        if end <= local:
            end += dt.timedelta(days=1)
        return end.astimezone(dt.UTC)

    def next_morning(self, at: dt.datetime) -> dt.datetime:
        """The end of quiet hours on the next day: where a message over the daily cap goes."""
        local = self.local(at)
        return dt.datetime.combine(local.date() + dt.timedelta(days=1), self.quiet_end, self.zone).astimezone(dt.UTC)

    def retry_at(self, *, kind: str, attempts: int, retry_after: float | None, now: dt.datetime) -> dt.datetime:
        """When a message that failed its `attempts`-th try goes again: after the backoff (or the
        channel's `retry_after`, if longer), and not in quiet hours unless it is an answer."""
        wait = backoff(attempts)
        if retry_after:
            wait = max(wait, dt.timedelta(seconds=retry_after))
        return now + wait if kind in ANYTIME_KINDS else self.after_quiet(now + wait)


def backoff(attempts: int, *, base: float = 30.0, cap: float = 3600.0) -> dt.timedelta:
    """30 s, 1 min, 2 min, 4 min … up to an hour between tries."""
    return dt.timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def tries_again(status: str, attempts: int, max_attempts: int) -> bool:
    """Whether a send that came to `status` on its `attempts`-th try goes back to the queue; the
    others have reached their end (sent, or failed for good)."""
    return status == DeliveryStatus.RETRY and attempts < max_attempts


class DueRow(Protocol):
    """What triage reads of a due outbox row."""

    @property
    def id(self) -> int: ...
    @property
    def channel(self) -> str: ...
    @property
    def user_id(self) -> str: ...
    @property
    def event_day(self) -> dt.date | None: ...
    @property
    def capped(self) -> bool: ...


Row = TypeVar("Row", bound=DueRow)


@dataclass(frozen=True)
class RecipientState:
    """A recipient as locked for a claim: reachable or not, and the count of their day."""

    reachable: bool
    reason: str | None
    sent_day: dt.date | None
    sent_today: int


@dataclass
class Triage(Generic[Row]):
    """Where each due row goes: out now, or not yet, or never (and why)."""

    send: list[Row] = field(default_factory=list)
    cancelled: dict[str, list[int]] = field(default_factory=dict)
    """Reason → ids: the user cannot be reached."""
    skipped: list[int] = field(default_factory=list)
    """The day reminded of has passed."""
    deferred: list[int] = field(default_factory=list)
    """Over the user's daily cap: they go out the next morning."""
    superseded: list[int] = field(default_factory=list)
    """A later reminder of the same date is due: this one would only repeat it, a day late."""
    held: int = 0
    """Left pending, untouched: the channel's daily quota for their route is spent."""
    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    """(channel, user) → their count for today, with the capped rows in `send`."""


def triage(
    rows: Iterable[Row],
    recipients: Mapping[tuple[str, str], RecipientState],
    *,
    today: dt.date,
    daily_cap: int,
    superseded: Collection[int] = frozenset(),
    admit: Callable[[Row], bool] | None = None,
) -> Triage[Row]:
    """Sorts due rows in their order: a message to an unreachable user is cancelled, one whose day
    has passed or that a later reminder supersedes is skipped, one over the user's daily cap is
    deferred, one `admit` refuses (no quota left for it) is held; the rest go out. Nothing that is
    not sent spends quota or the user's daily count."""
    out: Triage[Row] = Triage()
    for row in rows:
        who = (row.channel, row.user_id)
        recipient = recipients[who]
        if not recipient.reachable:
            out.cancelled.setdefault(recipient.reason or "unreachable", []).append(row.id)
            continue
        if row.event_day is not None and row.event_day < today:
            out.skipped.append(row.id)
            continue
        if row.id in superseded:
            out.superseded.append(row.id)
            continue
        count = out.counts.get(who, recipient.sent_today if recipient.sent_day == today else 0)
        if row.capped and count >= daily_cap:
            out.deferred.append(row.id)
            continue
        if admit is not None and not admit(row):
            out.held += 1
            continue
        if row.capped:
            out.counts[who] = count + 1
        out.send.append(row)
    return out


def shortfall(
    demand: Iterable[tuple[dt.date, int]], *, today: dt.date, left_today: int, daily: int
) -> dict[dt.date, int]:
    """Date → how many of its reminders the quota alone cannot carry before the date passes, when the
    nearest dates go first (earliest deadline first is the order that leaves the fewest behind): the
    dates up to D can use what is left today and `daily` for each day after, through D itself."""
    out: dict[dt.date, int] = {}
    spent = 0
    for day, count in sorted(demand):
        if day < today:
            out[day] = count  # its day is over: skipped at the next claim, never sent
            continue
        capacity = left_today + daily * max(0, (day - today).days)
        sendable = max(0, min(count, capacity - spent))
        spent += sendable
        if count > sendable:
            out[day] = count - sendable
    return out
