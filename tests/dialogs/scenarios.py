"""Runs the multi-turn conversation scenarios (YAML, format in tests/dialogs/FORMAT.md) through the
real engine and database, and checks each turn's reply and what the conversation left behind.

The plausibility of a stored request is checked here independently of the bot's own parsers: a
test that asked the bot's validators whether the bot's validators were right would prove nothing."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select

from handlers import handoff_replies
from handlers.context import Services
from handlers.engine import ConversationEngine
from handlers.messages import Command, ConversationKey, Inbound
from storage.database import Database
from storage.models import Handoff, UnansweredQuestion, WithdrawalRequest
from tests.dialogs import SettableClock

HERE = Path(__file__).resolve().parent
DEV = HERE / "scenarios"
HELDOUT = HERE / "heldout"
LEVELS = ("五级/初级工", "四级/中级工", "三级/高级工", "二级/技师", "一级/高级技师")
NOT_NAMES = frozenset(
    "取消 重新开始 重来 退考退费 退考 退费 返回 好的 好 确认 是的 是 否 不是 跳过 不知道 忘了 不记得了 你好 您好 谢谢 "
    "帮助 转人工 人工 嗯 嗯嗯 哦 对 不对 没有 无 算了 为什么 什么 怎么 姓名 名字 我的名字 我叫 本人".split()
)
ORGANISATION = re.compile(r"学校|学院|大学|中学|技校|中心|站|所|公司|机构|协会|局|院|培训|鉴定|集团|部|处|厂|店|会")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECKS = "10X98765432"


def load(directory: Path) -> list[dict[str, Any]]:
    return [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*.yaml"))]


def id_valid(number: str) -> bool:
    if not re.fullmatch(r"\d{17}[\dX]", number):
        return False
    return _ID_CHECKS[sum(int(c) * w for c, w in zip(number[:17], _ID_WEIGHTS, strict=True)) % 11] == number[17]


def plausibility_problems(fields: dict[str, Any], on: dt.date) -> list[str]:
    """What is wrong with a stored request's fields, by what a person at a counter would accept."""
    problems = []
    name = str(fields["name"])
    if not re.fullmatch(r"[\u4e00-\u9fffA-Za-z·• ]{2,20}", name) or name in NOT_NAMES or name.endswith(("吗", "呢")):
        problems.append(f"name {name!r}")
    number = str(fields["id_number"])
    if not id_valid(number):
        problems.append("id_number invalid")
    else:
        try:
            birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
            if not 14 <= (on - birth).days // 365 <= 80:
                problems.append(f"id_number birth date {birth}")
        except ValueError:
            problems.append("id_number birth date impossible")
    if not re.fullmatch(r"1[3-9]\d{9}", str(fields["phone"])):
        problems.append("phone")
    institution = str(fields["institution"])
    if institution in NOT_NAMES or not 2 <= len(institution) <= 60 or not ORGANISATION.search(institution):
        problems.append(f"institution {institution!r}")
    receipt = fields["receipt_no"]
    if receipt is not None:
        digits = re.sub(r"\D", "", str(receipt))
        if str(receipt) in NOT_NAMES or re.fullmatch(r"1[3-9]\d{9}", digits) or id_valid(str(receipt).upper()):
            problems.append(f"receipt_no {receipt!r}")
    level = str(fields["level"])
    if level not in LEVELS and not re.search(r"核实|不确定|不知道|待定", level):
        problems.append(f"level {level!r}")
    occupation = str(fields["occupation"])
    if occupation in NOT_NAMES or not re.fullmatch(r"[\u4e00-\u9fff（）()/·、A-Za-z0-9]{1,30}", occupation):
        problems.append(f"occupation {occupation!r}")
    return problems


@dataclass
class Outcome:
    """What went wrong in one scenario; empty when it passed."""

    id: str
    failures: list[str] = field(default_factory=list)
    stored_requests: int = 0
    implausible_requests: int = 0


class Scenario:
    """One conversation run against a fresh engine over `db`."""

    def __init__(
        self, spec: dict[str, Any], db: Database, services: Services, sqlite_file: Path | None, *, echo: bool = False
    ) -> None:
        self.spec = spec
        self.echo = echo
        self.db = db
        self.services = services
        self.sqlite_file = sqlite_file
        # No date given: the conversation happens on the real day, as a user's would.
        today = spec.get("today")
        self.clock = SettableClock(dt.date.fromisoformat(str(today)) if today else dt.date.today())
        self.engine = ConversationEngine(db, services, self.clock)
        self.channel = str(spec.get("channel") or "web")
        # Per scenario, so that scenarios sharing a database never meet.
        self.prefix = f"{spec['id']}-{secrets.token_hex(3)}"
        self.outcome = Outcome(str(spec["id"]))
        self._ids = iter(range(1, 10_000))

    def key(self, user: str) -> ConversationKey:
        return ConversationKey(self.channel, f"{self.prefix}-{user}")

    async def run(self) -> Outcome:
        for n, turn in enumerate(self.spec.get("turns") or [], 1):
            await self._turn(n, turn)
        end = self.spec.get("end") or {}
        await self._check_end("A", {k: v for k, v in end.items() if not k.startswith("user_")})
        for key, checks in end.items():
            if key.startswith("user_"):
                await self._check_end(key[len("user_") :], checks or {})
        await self._check_plausible()
        return self.outcome

    # -- turns --------------------------------------------------------------------------------
    async def _turn(self, n: int, turn: dict[str, Any]) -> None:
        user = str(turn.get("user") or "A")
        if "set_today" in turn:
            self.clock.set(dt.date.fromisoformat(str(turn["set_today"])))
            return
        if "staff_reply" in turn or "staff_close" in turn:
            await self._staff(user, turn)
            return
        message_id = f"{self.prefix}-{next(self._ids)}"
        if "command" in turn:
            inbound = Inbound(self.key(user), command=Command(turn["command"]), message_id=message_id)
        else:
            inbound = Inbound(self.key(user), text=str(turn["say"]), message_id=message_id)
        replies = await self.engine.handle(inbound)
        text = "\n".join(r.text for r in replies)
        if self.echo:
            print(f"[{n}] {user}> {turn.get('say', turn.get('command'))}\n    " + text.replace("\n", "\n    "))
        self._expect(n, turn.get("say", turn.get("command")), text, turn.get("expect") or {})

    def _expect(self, n: int, said: object, reply: str, expect: dict[str, Any]) -> None:
        where = f"turn {n} ({str(said)[:30]!r})"
        for s in expect.get("all") or []:
            if str(s) not in reply:
                self._fail(f"{where}: reply lacks {s!r}", reply)
        anyof = [str(s) for s in expect.get("any") or []]
        if anyof and not any(s in reply for s in anyof):
            self._fail(f"{where}: reply has none of {anyof}", reply)
        for s in expect.get("none") or []:
            if str(s) in reply:
                self._fail(f"{where}: reply has {s!r}", reply)
        for s, most in (expect.get("at_most") or {}).items():
            if reply.count(str(s)) > int(most):
                self._fail(f"{where}: {s!r} {reply.count(str(s))} times (at most {most})", reply)
        limit = expect.get("max_chars")
        if limit is not None and len(reply) > int(limit):
            self._fail(f"{where}: reply {len(reply)} characters (at most {limit})", reply)

    def _fail(self, what: str, reply: str | None = None) -> None:
        self.outcome.failures.append(what + (f"\n      reply: {reply[:400]!r}" if reply is not None else ""))

    async def _staff(self, user: str, turn: dict[str, Any]) -> None:
        key = self.key(user)
        async with self.db.transaction() as session:
            stmt = select(Handoff).where(
                Handoff.channel == key.channel, Handoff.user_id == key.user_id, Handoff.status != "resolved"
            )
            handoff = (await session.execute(stmt)).scalars().first()
            if handoff is None:
                self._fail(f"staff action on user {user}: no open handoff")
                return
            now = self.clock()
            reach = handoff_replies.Reach(
                pushable=frozenset({key.channel}), wechat_window=dt.timedelta(hours=47), wechat_template=False
            )
            if "staff_reply" in turn:
                result = await handoff_replies.reply(
                    session,
                    handoff_id=handoff.id,
                    text=str(turn["staff_reply"]),
                    token=secrets.token_hex(8),
                    actor="staff",
                    visible=None,
                    reach=reach,
                    now=now,
                )
            else:
                result = await handoff_replies.resolve(
                    session,
                    handoff_id=handoff.id,
                    note=str(turn["staff_close"]),
                    actor="staff",
                    visible=None,
                    reach=reach,
                    now=now,
                )
            if result.refused:
                self._fail(f"staff action refused: {result.message}")

    # -- end state ----------------------------------------------------------------------------
    async def _requests(self, user: str) -> list[dict[str, Any]]:
        key = self.key(user)
        cipher = self.services.cipher
        async with self.db.sessions() as session:
            stmt = (
                select(WithdrawalRequest)
                .where(WithdrawalRequest.channel == key.channel, WithdrawalRequest.user_id == key.user_id)
                .order_by(WithdrawalRequest.id)
            )
            rows = list((await session.execute(stmt)).scalars())
        return [
            {
                "region": r.region,
                "occupation": r.occupation,
                "exam_date": r.exam_date.isoformat(),
                "name": r.name,
                "id_number": cipher.decrypt(r.id_number_cipher, context="id_number"),
                "phone": cipher.decrypt(r.phone_cipher, context="phone"),
                "level": r.level,
                "institution": r.institution,
                "receipt_no": r.receipt_no,
                "confirmed": r.confirmed_at,
            }
            for r in rows
        ]

    async def _check_end(self, user: str, checks: dict[str, Any]) -> None:
        requests = await self._requests(user)
        if "requests" in checks and len(requests) != int(checks["requests"]):
            self._fail(f"end: user {user} has {len(requests)} requests, expected {checks['requests']}")
        if "request" in checks:
            if not requests:
                self._fail(f"end: user {user} has no stored request")
            else:
                latest = requests[-1]
                for name, expected in (checks["request"] or {}).items():
                    got = latest.get(name)
                    want = None if expected is None else str(expected)
                    if (None if got is None else str(got)) != want:
                        self._fail(f"end: user {user} request {name} = {got!r}, expected {want!r}")
        key = self.key(user)
        async with self.db.sessions() as session:
            handoffs = list(
                (
                    await session.execute(
                        select(Handoff).where(Handoff.channel == key.channel, Handoff.user_id == key.user_id)
                    )
                ).scalars()
            )
            gaps = (
                await session.execute(
                    select(func.count(UnansweredQuestion.id)).where(
                        UnansweredQuestion.channel == key.channel, UnansweredQuestion.user_id == key.user_id
                    )
                )
            ).scalar_one()
        if "handoffs" in checks and len(handoffs) != int(checks["handoffs"]):
            self._fail(f"end: user {user} has {len(handoffs)} handoffs, expected {checks['handoffs']}")
        if "handoff" in checks:
            regions = [h.region for h in handoffs]
            if str(checks["handoff"]) not in regions:
                self._fail(f"end: user {user} handoff regions {regions}, expected {checks['handoff']!r}")
        if "gaps" in checks and gaps != int(checks["gaps"]):
            self._fail(f"end: user {user} has {gaps} knowledge-gap questions, expected {checks['gaps']}")
        for secret in checks.get("never_stored") or []:
            found = self._bytes_containing(str(secret))
            if found:
                self._fail(f"end: {secret!r} stored in clear in {found}")

    def _bytes_containing(self, secret: str) -> list[str]:
        if self.sqlite_file is None:
            return []
        files = [self.sqlite_file, *(self.sqlite_file.with_name(self.sqlite_file.name + s) for s in ("-wal", "-shm"))]
        return [f.name for f in files if f.exists() and secret.encode() in f.read_bytes()]

    async def _check_plausible(self) -> None:
        users = {"A", *(str(t.get("user")) for t in self.spec.get("turns") or [] if t.get("user"))}
        for user in sorted(users):
            for request in await self._requests(user):
                self.outcome.stored_requests += 1
                problems = plausibility_problems(request, request["confirmed"].date())
                if problems:
                    self.outcome.implausible_requests += 1
                    self._fail(f"stored request of user {user} implausible: {', '.join(problems)}")


def ids(specs: list[dict[str, Any]]) -> Iterator[str]:
    return (str(s["id"]) for s in specs)
