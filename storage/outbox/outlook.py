"""What a channel's daily quota means for the reminders queued: what was used today, which reminders
could not be sent before their date (skipped once the date passed), and which will not be at the
quota alone (earliest deadline first, storage.outbox.policy.shortfall). Staff read it on the console's
dashboard and in `python -m bot reminders status`; a broadcast's dry run reads what it would cost."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage
from storage.outbox.policy import PASSED, Rules, priority_of, shortfall
from storage.outbox.quotas import QuotaDay, read_day
from storage.statuses import OutboxStatus

QUEUED = (OutboxStatus.PENDING, OutboxStatus.SENDING)


@dataclass
class ChannelOutlook:
    channel: str
    quota: dict[str, QuotaDay]
    """Route → today's use (WeChat: template, custom)."""
    queued: dict[str, int] = field(default_factory=dict)
    """Kind → messages waiting (reminder, broadcast …)."""
    missed: list[tuple[dt.date, int]] = field(default_factory=list)
    """(date, reminders skipped because it passed before they could go), the latest first."""
    at_risk: list[tuple[dt.date, int]] = field(default_factory=list)
    """(date, reminders the quota alone cannot carry before it), the nearest first."""

    @property
    def scarcest(self) -> tuple[str, QuotaDay]:
        """The route with the smallest daily quota (WeChat: templates), which decides what waits."""
        return min(self.quota.items(), key=lambda item: item[1].limit)


async def quota_outlook(
    session: AsyncSession, rules: Rules, *, now: dt.datetime, missed_days: int = 30
) -> list[ChannelOutlook]:
    """One outlook per channel with a daily quota. The forecast assumes each waiting reminder takes
    the channel's scarcest route (a template, on WeChat): users who wrote within 48 hours take a
    customer-service message instead, so the forecast errs towards warning."""
    today = rules.local(now).date()
    out = []
    for channel, limits in sorted(rules.quotas.items()):
        if not limits:
            continue
        o = OutboxMessage
        outlook = ChannelOutlook(channel, await read_day(session, channel, limits, day=today))
        kinds = select(o.kind, func.count()).where(o.channel == channel, o.status.in_(QUEUED)).group_by(o.kind)
        outlook.queued = {kind: int(n) for kind, n in (await session.execute(kinds)).all()}
        reminders = o.channel == channel, o.priority == priority_of("reminder")
        missed = (
            select(o.event_day, func.count())
            .where(*reminders, o.status == OutboxStatus.SKIPPED, o.last_error == PASSED)
            .where(o.event_day >= today - dt.timedelta(days=missed_days))
            .group_by(o.event_day)
            .order_by(o.event_day.desc())
        )
        outlook.missed = [(day, int(n)) for day, n in (await session.execute(missed)).all()]
        # A subscription's reminders of one date count once: the later one supersedes the earlier.
        messages = func.count(func.distinct(o.subscription_id)) + func.count() - func.count(o.subscription_id)
        waiting = select(o.event_day, messages).where(*reminders, o.status.in_(QUEUED)).group_by(o.event_day)
        demand = [(day, int(n)) for day, n in (await session.execute(waiting)).all() if day is not None]
        # Still queued though their date is over (the dispatcher skips them at its next run): missed.
        late = Counter({day: n for day, n in demand if day < today}) + Counter(dict(outlook.missed))
        outlook.missed = sorted(late.items(), reverse=True)
        demand = [(day, n) for day, n in demand if day >= today]
        _, scarcest = outlook.scarcest
        short = shortfall(demand, today=today, left_today=scarcest.left, daily=scarcest.limit)
        outlook.at_risk = sorted(short.items())
        out.append(outlook)
    return out


def outlook_lines(outlook: ChannelOutlook, *, channel_name: str | None = None) -> list[str]:
    """The outlook in staff's words, one finding a line: today's use, then the warnings."""
    return usage_lines(outlook, channel_name=channel_name) + warning_lines(outlook)


def usage_lines(outlook: ChannelOutlook, *, channel_name: str | None = None) -> list[str]:
    """Today's use of each route's quota."""
    lines = []
    for route, quota in sorted(outlook.quota.items()):
        state = "，平台已答复今日额度用完（45009），明日 0 点恢复" if quota.exhausted_at is not None else ""
        name = f"{channel_name or outlook.channel} {ROUTE_NAMES.get(route, route)}"
        lines.append(f"{name}：今日已用 {quota.used:,} / {quota.limit:,}{state}")
    return lines


def warning_lines(outlook: ChannelOutlook) -> list[str]:
    """The reminders the quota will leave, or has left, behind their date."""
    lines = [
        f"按当前配额，截止日 {day:%Y-%m-%d} 的 {count:,} 条提醒将无法在截止前发出" for day, count in outlook.at_risk
    ]
    lines += [f"截止日 {day:%Y-%m-%d} 的 {count:,} 条提醒未能在截止前发出" for day, count in outlook.missed]
    return lines


def cost_lines(count: int, outlook: ChannelOutlook, *, channel_name: str | None = None) -> list[str]:
    """What sending `count` more messages on the outlook's channel costs its scarcest daily quota, and
    whether today's is enough once what is queued ahead of them goes (a broadcast's dry run)."""
    if count <= 0 or not outlook.quota:
        return []
    route, quota = outlook.scarcest
    name = ROUTE_NAMES.get(route, route)
    ahead = sum(outlook.queued.values())
    today = min(count, max(0, quota.left - ahead))
    lines = [
        f"{channel_name or outlook.channel}：约 {count:,} 条，最多用今日{name} {quota.limit:,} 条额度中的 {count:,} 条"
        f"（今日已用 {quota.used:,}，排在它之前待发 {ahead:,} 条；48 小时内互动过的考生改用客服消息，不占此额度）"
    ]
    if today < count:
        rest = count - today
        days = -(-rest // quota.limit) if quota.limit else 0
        later = f"约 {days} 天内发完" if days else "额度为 0，发不出去"
        lines.append(f"今日额度只够其中 {today:,} 条；其余 {rest:,} 条顺延到次日起按每日额度发送（{later}）")
    return lines


ROUTE_NAMES = {"template": "模板消息", "custom": "客服消息"}
