"""Prometheus metrics, one CollectorRegistry per app (tests build several apps).

Counters come from the request middleware and the append handler's hooks; the
two lag gauges are computed from the database when /metrics is scraped.

With several uvicorn workers each process has its own registry and a scrape
sees one of them: run one worker per container (the usual layout) or scrape
each process.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Sequence

import asyncpg
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

log = logging.getLogger("caseledger.metrics")
LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
RECENT_SECONDS = 60  # the projection-lag window (app.store.lag reads it)
DATABASE_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


class Metrics:
    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        for collector in (ProcessCollector, PlatformCollector, GCCollector):
            collector(registry=registry)
        self.latency = Histogram(
            "caseledger_http_request_duration_seconds",
            "HTTP request latency by route template, method and status class",
            ("route", "method", "status_class"),
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.problems = Counter(
            "caseledger_http_problems",
            "Problem responses (application/problem+json) by code",
            ("code",),
            registry=registry,
        )
        self.appended = Counter(
            "caseledger_events_appended",
            "Events appended, by event type",
            ("type",),
            registry=registry,
        )
        self.version_conflicts = Counter(
            "caseledger_version_conflicts",
            "Appends answered 409 version_conflict",
            registry=registry,
        )
        self.append_races = Counter(
            "caseledger_append_races",
            "Appends that lost a race on the store's unique keys (retried or answered 409)",
            registry=registry,
        )
        self.refusals = Counter(
            "caseledger_rule_refusals",
            "Events refused by a business rule, by rule id",
            ("rule",),
            registry=registry,
        )
        self.feed_lag = Gauge(
            "caseledger_feed_lag_seconds",
            "Age of the running transaction holding the /events feed's visible horizon (0: none)",
            registry=registry,
        )
        self.projection_lag = Gauge(
            "caseledger_projection_lag_events",
            f"Cases touched in the last {RECENT_SECONDS}s whose case_state is behind their stream",
            registry=registry,
        )
        self._children: dict[tuple[str, str, str], Histogram] = {}

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method if method in KNOWN_METHODS else "other", f"{status // 100}xx")
        child = self._children.get(key)
        if child is None:
            child = self._children.setdefault(key, self.latency.labels(*key))
        child.observe(seconds)

    def observe_problem(self, code: str) -> None:
        self.problems.labels(code).inc()
        if code == "version_conflict":
            self.version_conflicts.inc()

    # The AppendHandler's hooks
    def refused(self, rule: str) -> None:
        self.refusals.labels(rule).inc()

    def lost_race(self) -> None:
        self.append_races.inc()

    def appended_events(self, types: Sequence[str]) -> None:
        for event_type in types:
            self.appended.labels(event_type).inc()

    async def refresh_lag(self, read_lag: Callable[[], Awaitable[tuple[float, int]]]) -> None:
        """Set both lag gauges from one read (feed seconds, lagging streams); NaN when the
        database does not answer. The read comes from the caller (the store's `read_lag`)
        because observability sits below the store."""
        try:
            feed_seconds, projection_streams = await read_lag()
        except DATABASE_ERRORS as exc:
            log.warning("lag gauges not computed: %s", type(exc).__name__)
            self.feed_lag.set(math.nan)
            self.projection_lag.set(math.nan)
            return
        self.feed_lag.set(feed_seconds)
        self.projection_lag.set(projection_streams)
