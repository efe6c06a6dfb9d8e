"""Prometheus metrics of one server process."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector


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

        # A labelled child found once: `labels()` takes a lock and builds a key on every call,
        # and every message touches three of them.
        self.latency_of = cache(self.latency.labels)
        self.messages_of = cache(self.messages.labels)
        self.answers_of = cache(self.answers.labels)

    def watch_engine(self, engine: TransactionCounts) -> None:
        """Exports the engine's transaction counts, read when /metrics is rendered."""
        self.registry.register(_EngineCollector(engine))

    def render(self) -> bytes:
        return generate_latest(self.registry)


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
