"""Prometheus metrics of one server process."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

from storage.operations_stats import OperationsStats


class TransactionCounts(Protocol):
    transactions: int
    transaction_messages: int


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.messages = Counter(
            "bot_messages_total",
            "Messages handled, by channel and outcome",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.answers = Counter(
            "bot_policy_answers_total", "Policy questions answered or abstained", ["result"], registry=self.registry
        )
        self.latency = Histogram(
            "bot_message_seconds",
            "Time to handle one message",
            ["channel"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 4.0, 10.0),
        )

        self.sends = Counter(
            "bot_sends_total",
            "Proactive sends tried by this process, by channel, result and error code (WeChat errcode, HTTP status)",
            ["channel", "result", "error"],
            registry=self.registry,
        )
        self.token_fetches = Counter(
            "bot_wechat_token_fetches_total",
            "WeChat access-token fetches, by result",
            ["result"],
            registry=self.registry,
        )
        self.leading = Gauge(
            "bot_scheduler_leading",
            "1 while this process leads the reminder scheduler (PostgreSQL's advisory lock or SQLite's lease)",
            registry=self.registry,
        )

        # A labelled child found once: `labels()` takes a lock and builds a key on every call,
        # and every message touches three of them.
        self.latency_of = cache(self.latency.labels)
        self.messages_of = cache(self.messages.labels)
        self.answers_of = cache(self.answers.labels)

    def count_send(self, channel: str, result: str, error: str | None) -> None:
        self.sends.labels(channel, result, error_code(error)).inc()

    def count_token_fetch(self, result: str) -> None:
        self.token_fetches.labels(result).inc()

    def watch_engine(self, engine: TransactionCounts) -> None:
        """Exports the engine's transaction counts, read when /metrics is rendered."""
        self.registry.register(_EngineCollector(engine))

    def render(self, stats: OperationsStats | None = None, *, versions: dict[str, str] | None = None) -> bytes:
        """This process's metrics, then the database's (`stats`), read at this scrape."""
        if stats is None:
            return generate_latest(self.registry)
        scraped = CollectorRegistry()
        scraped.register(_OperationsCollector(stats, versions or {}))
        return generate_latest(self.registry) + generate_latest(scraped)


_CODE = re.compile(r"(?:errcode|HTTP)\s*(\d{3,6})")


def error_code(error: str | None) -> str:
    """A short, bounded label for a send's error: WeChat's errcode or the HTTP status, else the kind of
    failure (never the message, which may hold personal data or grow the label set without bound)."""
    if not error:
        return ""
    found = _CODE.search(error)
    if found:
        return found.group(1)
    return re.split(r"[:：\s]", error, maxsplit=1)[0][:24] or "other"


class _EngineCollector(Collector):
    def __init__(self, engine: TransactionCounts) -> None:
        self.engine = engine

    def collect(self) -> Iterator[CounterMetricFamily]:
        yield CounterMetricFamily(
            "bot_engine_transactions", "Engine transactions committed", value=self.engine.transactions
        )
        yield CounterMetricFamily(
            "bot_engine_transaction_messages",
            "Messages handled in those transactions (divided by the above: messages per group commit)",
            value=self.engine.transaction_messages,
        )


class _OperationsCollector(Collector):
    """The numbers an operator alerts on (docs/operations.md, deploy/prometheus/alerts.yml)."""

    def __init__(self, stats: OperationsStats, versions: dict[str, str]) -> None:
        self.stats = stats
        self.versions = versions

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily | InfoMetricFamily]:
        s = self.stats
        depth = GaugeMetricFamily("bot_outbox_depth", "Messages waiting to be sent or being sent", labels=["channel"])
        age = GaugeMetricFamily(
            "bot_outbox_oldest_due_seconds", "How long the oldest due, unsent message has waited", labels=["channel"]
        )
        for channel, n in sorted(s.outbox_depth.items()):
            depth.add_metric([channel], n)
            age.add_metric([channel], s.oldest_due_seconds.get(channel, 0.0))
        yield depth
        yield age
        delivered = CounterMetricFamily(
            "bot_outbox_delivered",
            "Messages that reached their end, by channel and outcome",
            labels=["channel", "outcome"],
        )
        for (channel, outcome), n in sorted(s.delivered.items()):
            delivered.add_metric([channel, outcome], n)
        yield delivered
        yield GaugeMetricFamily("bot_handoffs_open", "Handoffs pending or open", value=s.handoffs_open)
        yield GaugeMetricFamily(
            "bot_handoff_oldest_waiting_seconds",
            "How long the oldest handoff nobody has opened has waited",
            value=s.oldest_waiting_handoff_seconds,
        )
        yield GaugeMetricFamily(
            "bot_requests_awaiting_review",
            "Withdrawal requests submitted and not yet reviewed",
            value=s.requests_awaiting_review,
        )
        leader = GaugeMetricFamily(
            "bot_scheduler_leader", "Holders of the scheduler's lease (SQLite)", labels=["owner"]
        )
        for owner in s.leaders:
            leader.add_metric([owner], 1)
        yield leader
        used = GaugeMetricFamily(
            "bot_send_quota_used",
            "Units of the day's send quota used, by channel and route",
            labels=["channel", "route"],
        )
        limit = GaugeMetricFamily(
            "bot_send_quota_limit", "The configured daily send quota, by channel and route", labels=["channel", "route"]
        )
        exhausted = GaugeMetricFamily(
            "bot_send_quota_exhausted",
            "1 when the day's quota is spent, by our count or the channel's (WeChat 45009)",
            labels=["channel", "route"],
        )
        for (channel, route), n in sorted(s.quota_used.items()):
            used.add_metric([channel, route], n)
            if (channel, route) in s.quota_limit:
                limit.add_metric([channel, route], s.quota_limit[(channel, route)])
            exhausted.add_metric([channel, route], 1 if s.quota_exhausted.get((channel, route)) else 0)
        yield used
        yield limit
        yield exhausted
        yield InfoMetricFamily("bot_knowledge", "The knowledge base this process answers from", value=self.versions)
