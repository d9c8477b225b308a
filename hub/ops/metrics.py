"""Prometheus metrics, labelled only by ``source``, ``stage`` and ``outcome``.

Two kinds live here:

- **Events** (counters and histograms of this process): records per outcome, flow and
  sync durations, upstream HTTP requests, errors and retries, push and feed requests and
  response sizes. The code that sees the event calls one small function (`record_flow`,
  `observe_fetch`, `record_retry`, `record_sync_run`, `observe_push`, `observe_feed`).
  With several replicas, Prometheus sums them across instances.
- **State** (gauges): each source's last success, freshness lag, staleness threshold,
  consecutive failures, rejection ratio and unmapped records. `HealthCollector` computes
  them from the store at scrape time through `hub.ops.health`, so they are right across
  restarts and identical on every replica.

Names (all prefixed ``hub_``) are listed in `METRIC_NAMES` and documented in the README.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from hub.events import (
    FetchEvent,
    FlowEvent,
    PublishEvent,
    RetryEvent,
    on_fetch,
    on_flow,
    on_publish,
    on_retry,
)
from hub.store.tables import FORMATIONS, ISSUES

if TYPE_CHECKING:
    from hub.ops.health import SourceHealth
    from hub.store import Store

REGISTRY = CollectorRegistry(auto_describe=True)
"""The hub's own registry (not the global default), so tests and apps never collide."""
ProcessCollector(registry=REGISTRY)

RECORD_OUTCOMES = ("created", "updated", "unchanged", "deleted", "rejected", "unmapped", "stale")
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)
SIZE_BUCKETS = tuple(float(4**n) for n in range(4, 16))  # 256 B … 1 GiB

RECORDS = Counter(
    "hub_records",
    "Formations per outcome of the flows applied (created, updated, unchanged, deleted, "
    "rejected, unmapped, stale = older datemaj ignored).",
    ["source", "outcome"],
    registry=REGISTRY,
)
FORMATIONS_RECEIVED = Counter(
    "hub_formations_received",
    "Formations read from the flows applied, valid or not (the rejection ratio's denominator).",
    ["source"],
    registry=REGISTRY,
)
FLOWS = Counter(
    "hub_flows",
    "Flows processed, by outcome (applied, failed, held, superseded).",
    ["source", "outcome"],
    registry=REGISTRY,
)
FLOW_DURATION = Histogram(
    "hub_flow_duration_seconds",
    "Time to process a flow (stage=apply) or a whole sync run (stage=sync).",
    ["source", "stage"],
    buckets=DURATION_BUCKETS,
    registry=REGISTRY,
)
SYNC_RUNS = Counter(
    "hub_sync_runs",
    "Sync runs, by outcome (success, failed, timeout, skipped = the source was already running).",
    ["source", "outcome"],
    registry=REGISTRY,
)
UPSTREAM_REQUESTS = Counter(
    "hub_upstream_requests",
    "HTTP requests to regional systems, by stage (gather, fetch) and outcome.",
    ["source", "stage", "outcome"],
    registry=REGISTRY,
)
UPSTREAM_ERRORS = Counter(
    "hub_upstream_errors",
    "Failed HTTP requests to regional systems, by kind (http_503, timeout, connect...).",
    ["source", "stage", "outcome"],
    registry=REGISTRY,
)
UPSTREAM_RETRIES = Counter(
    "hub_upstream_retries",
    "Retries of requests to regional systems.",
    ["source", "stage"],
    registry=REGISTRY,
)
UPSTREAM_DURATION = Histogram(
    "hub_upstream_request_duration_seconds",
    "Duration of HTTP requests to regional systems.",
    ["source", "stage"],
    buckets=DURATION_BUCKETS,
    registry=REGISTRY,
)
PUSH_REQUESTS = Counter(
    "hub_push_requests",
    "Push requests, by HTTP status.",
    ["source", "outcome"],
    registry=REGISTRY,
)
PUSH_SIZE = Histogram(
    "hub_push_request_size_bytes",
    "Size of push request bodies.",
    ["source"],
    buckets=SIZE_BUCKETS,
    registry=REGISTRY,
)
FEED_REQUESTS = Counter(
    "hub_feed_requests",
    "Feed requests, by endpoint (stage: lheo, changes...) and HTTP status.",
    ["stage", "outcome"],
    registry=REGISTRY,
)
RESPONSE_SIZE = Histogram(
    "hub_response_size_bytes",
    "Size of response bodies sent, by endpoint (stage: feed_lheo, feed_changes, push...).",
    ["stage"],
    buckets=SIZE_BUCKETS,
    registry=REGISTRY,
)
PUBLISH_RUNS = Counter(
    "hub_publish_runs",
    "Publisher runs, by partner (source label) and outcome (acknowledged, up-to-date, "
    "unchanged, deferred, failed, rejected, skipped).",
    ["source", "outcome"],
    registry=REGISTRY,
)

HEALTH_GAUGES = {
    "hub_source_last_success_timestamp_seconds": "Unix time of the source's last success.",
    "hub_source_freshness_lag_seconds": "Seconds since the last success (or since first known).",
    "hub_source_staleness_threshold_seconds": "Lag beyond which the source is stale (config).",
    "hub_source_stale": "1 when the lag is past the staleness threshold.",
    "hub_source_consecutive_failures": "Failed runs or flows since the last success.",
    "hub_source_rejection_ratio": "Rejected over received records in the last applied flow.",
    "hub_source_rejection_ratio_baseline": "Median rejection ratio of the flows before it.",
    "hub_source_last_flow_records": "Counts of the last applied flow, by outcome.",
    "hub_source_unmapped_records": "Live formations holding at least one unmapped code.",
    "hub_source_held_flows": "Snapshots held for an operator: they would delete too much.",
}
METRIC_NAMES = (
    *(f"{m._name}_total" for m in (RECORDS, FORMATIONS_RECEIVED, FLOWS, SYNC_RUNS)),
    *(f"{m._name}_total" for m in (UPSTREAM_REQUESTS, UPSTREAM_ERRORS, UPSTREAM_RETRIES)),
    *(f"{m._name}_total" for m in (PUSH_REQUESTS, FEED_REQUESTS, PUBLISH_RUNS)),
    *(m._name for m in (FLOW_DURATION, UPSTREAM_DURATION, PUSH_SIZE, RESPONSE_SIZE)),
    *HEALTH_GAUGES,
)


def record_flow(event: FlowEvent) -> None:
    """Count what one flow did: its records per outcome when applied, else how it ended."""
    for outcome in RECORD_OUTCOMES:
        if outcome in event.counts:
            RECORDS.labels(event.source, outcome).inc(event.counts[outcome])
    if event.outcome == "applied":
        FORMATIONS_RECEIVED.labels(event.source).inc(event.counts.get("formations", 0))
    FLOWS.labels(event.source, event.outcome).inc()
    FLOW_DURATION.labels(event.source, "apply").observe(event.seconds)


def record_sync_run(source: str, outcome: str, seconds: float | None = None) -> None:
    """One sync run ended: ``success``, ``failed``, ``timeout`` or ``skipped``."""
    SYNC_RUNS.labels(source, outcome).inc()
    if seconds is not None:
        FLOW_DURATION.labels(source, "sync").observe(seconds)


def record_publish_run(event: PublishEvent) -> None:
    """One publisher run ended (``hub.publish.publishers.runner``), with its duration."""
    PUBLISH_RUNS.labels(event.partner, event.outcome).inc()
    if event.seconds is not None:
        FLOW_DURATION.labels(event.partner, "publish").observe(event.seconds)


def observe_fetch(event: FetchEvent) -> None:
    """One HTTP request to a regional system; any outcome but ok/not_modified is an error.

    The outcome is short and bounded: ``ok``, ``not_modified``, ``http_429``, ``http_503``,
    ``timeout``, ``connect``, ``truncated``... never a URL or a message.
    """
    UPSTREAM_REQUESTS.labels(event.source, "fetch", event.outcome).inc()
    if event.outcome not in ("ok", "not_modified"):
        UPSTREAM_ERRORS.labels(event.source, "fetch", event.outcome).inc()
    UPSTREAM_DURATION.labels(event.source, "fetch").observe(event.seconds)


def record_retry(event: RetryEvent) -> None:
    UPSTREAM_RETRIES.labels(event.source, "fetch").inc()


_installed = threading.Event()
_installing = threading.Lock()


def install() -> None:
    """Count the hub's events in this process's metrics (once, whoever asks first)."""
    with _installing:
        if _installed.is_set():
            return
        on_flow(record_flow)
        on_fetch(observe_fetch)
        on_retry(record_retry)
        on_publish(record_publish_run)
        _installed.set()


def observe_push(source: str, status: int, request_bytes: int, response_bytes: int) -> None:
    PUSH_REQUESTS.labels(source, str(status)).inc()
    PUSH_SIZE.labels(source).observe(request_bytes)
    RESPONSE_SIZE.labels("push").observe(response_bytes)


def observe_feed(endpoint: str, status: int, response_bytes: int) -> None:
    FEED_REQUESTS.labels(endpoint, str(status)).inc()
    RESPONSE_SIZE.labels(f"feed_{endpoint}").observe(response_bytes)


def _gauge(name: str, labels: Iterable[str] = ("source",)) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, HEALTH_GAUGES[name], labels=list(labels))


def unmapped_records(store: Store) -> dict[str, int]:
    """Live formations per source that hold at least one unmapped code."""
    query = (
        select(ISSUES.c.source, func.count(func.distinct(ISSUES.c.formation_id)))
        .join(FORMATIONS, FORMATIONS.c.id == ISSUES.c.formation_id)
        .where(ISSUES.c.kind == "unmapped", FORMATIONS.c.deleted.is_(False))
        .group_by(ISSUES.c.source)
    )
    with store.engine.connect() as connection:
        return {source: int(count) for source, count in connection.execute(query)}


class HealthCollector(Collector):
    """The per-source gauges, computed from the store on each scrape."""

    def __init__(self, health: Callable[[], list[SourceHealth]], store: Store) -> None:
        self._health = health
        self._store = store

    def collect(self) -> Iterable[Metric]:
        families = {name: _gauge(name) for name in HEALTH_GAUGES}
        families["hub_source_last_flow_records"] = _gauge(
            "hub_source_last_flow_records", ("source", "outcome")
        )
        unmapped = unmapped_records(self._store)
        for source in self._health():
            self._add(families, source, unmapped.get(source.name, 0))
        yield from families.values()

    @staticmethod
    def _add(families: dict[str, GaugeMetricFamily], source: SourceHealth, unmapped: int) -> None:
        name = [source.name]
        families["hub_source_staleness_threshold_seconds"].add_metric(
            name, source.staleness.total_seconds()
        )
        families["hub_source_stale"].add_metric(name, float(source.status == "stale"))
        families["hub_source_consecutive_failures"].add_metric(name, source.consecutive_failures)
        families["hub_source_unmapped_records"].add_metric(name, unmapped)
        families["hub_source_held_flows"].add_metric(name, len(source.held))
        if source.last_success is not None:
            families["hub_source_last_success_timestamp_seconds"].add_metric(
                name, source.last_success.timestamp()
            )
        if source.lag is not None:
            families["hub_source_freshness_lag_seconds"].add_metric(
                name, source.lag.total_seconds()
            )
        if source.last_applied is not None:
            families["hub_source_rejection_ratio"].add_metric(
                name, source.last_applied.rejection_rate
            )
            for outcome, count in source.last_applied.counts.items():
                families["hub_source_last_flow_records"].add_metric([source.name, outcome], count)
        if source.rejection_baseline is not None:
            families["hub_source_rejection_ratio_baseline"].add_metric(
                name, source.rejection_baseline
            )


def exposition(health: Callable[[], list[SourceHealth]], store: Store) -> bytes:
    """The text exposition of this process's events plus the store's health gauges."""
    state = CollectorRegistry(auto_describe=False)
    state.register(HealthCollector(health, store))
    return generate_latest(REGISTRY) + generate_latest(state)
