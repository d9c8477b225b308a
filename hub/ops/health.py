"""The sync-health model: how each source is doing, read from the store.

One model feeds the dashboard, ``hub status`` and the ``/metrics`` gauges, so the three
never disagree, and because it is computed from the database (flows and sync runs) it is
right across restarts and across replicas. Per source: its status, its last success, its
lag against the freshness expected of it, the counts and rejection rate of its last flow,
and the trend of its recent flows.

A source is *fresh* when it last succeeded less than its staleness threshold ago. A
success is an applied flow or a successful sync run (a run that found nothing new, such as
an HTTP 304, still proves the source is alive). A source that never succeeded counts its
lag from when the hub first knew it, so a new source that never works goes stale too.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Connection, select

from hub.ops.history import (
    FlowPoint,
    HeldFlow,
    RunPoint,
    held_flows,
    last_applied,
    last_sync,
    latest_success,
    recent,
)
from hub.settings import Settings, SourceSettings
from hub.store import Store
from hub.store.models import utcnow
from hub.store.tables import FLOWS, SOURCES

SourceStatus = Literal["ok", "held", "stale", "failing", "never"]
FAILED_RUNS = ("failed", "timeout")


@dataclass(frozen=True, slots=True)
class Expectation:
    """What the configuration expects of one source."""

    staleness: timedelta
    schedule: str | None = None
    """Human-readable schedule (``cron 0 3 * * *``, ``every 900 s``); None for push."""
    region: str | None = None


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """Everything the dashboard row, the terminal table and the gauges say about a source."""

    name: str
    region: str | None
    status: SourceStatus
    staleness: timedelta
    schedule: str | None
    last_success: datetime | None
    lag: timedelta | None
    last_flow: FlowPoint | None
    last_applied: FlowPoint | None
    last_run: RunPoint | None
    consecutive_failures: int
    rejection_baseline: float | None
    trend: tuple[FlowPoint, ...] = field(default_factory=tuple)
    """The most recent flows, oldest first."""
    last_sync: RunPoint | None = None
    """The latest finished run that applied flows: what the last sync did, as a whole."""
    held: tuple[HeldFlow, ...] = ()
    """Snapshots held for an operator (they would delete too much)."""

    @property
    def last_totals(self) -> RunPoint | FlowPoint | None:
        """What the source row shows: the last sync's totals, else its last flow's (push)."""
        return self.last_sync or self.last_applied

    @property
    def rejection_rate(self) -> float | None:
        totals = self.last_totals
        return totals.rejection_rate if totals is not None else None

    @property
    def running(self) -> bool:
        return self.last_run is not None and self.last_run.outcome == "running"

    @property
    def last_error(self) -> str | None:
        """Why the latest attempt failed, when it did."""
        if self.consecutive_failures == 0:
            return None
        candidates = [p for p in (self.last_run, self.last_flow) if p is not None and p.error]
        return candidates[0].error if candidates else None


def _failures_since(
    connection: Connection, name: str, since: datetime | None, runs: list[RunPoint]
) -> int:
    """Failed attempts after the last success: failed runs, plus failed flows no run owns."""
    failed_runs = [
        r for r in runs if r.outcome in FAILED_RUNS and (since is None or r.started_at > since)
    ]
    owned = {r.flow_id for r in runs if r.flow_id}
    query = select(FLOWS.c.id).where(FLOWS.c.source == name, FLOWS.c.status == "failed")
    if since is not None:
        query = query.where(FLOWS.c.received_at > since)
    failed_flows = [f for f in connection.execute(query).scalars() if f not in owned]
    return len(failed_runs) + len(failed_flows)


def _status(
    lag: timedelta | None,
    staleness: timedelta,
    failures: int,
    last_success: datetime | None,
    held: bool = False,
) -> SourceStatus:
    """Stale wins over failing, failing over held: the alert is about the lag first."""
    if lag is not None and lag > staleness:
        return "stale"
    if failures:
        return "failing"
    if held:
        return "held"
    return "never" if last_success is None else "ok"


def _health(
    connection: Connection,
    name: str,
    expectation: Expectation,
    *,
    known_since: datetime | None,
    now: datetime,
    trend_flows: int,
) -> SourceHealth:
    flows, runs = recent(connection, name, trend_flows)
    last_success = latest_success(connection, name)
    failures = _failures_since(connection, name, last_success, runs)
    reference = last_success or known_since
    lag = now - reference if reference is not None else None
    # The baseline is what this source usually rejects, its latest flow left out.
    earlier = [p.rejection_rate for p in flows if p.status == "applied"][1:]
    held = held_flows(connection, name)
    return SourceHealth(
        name=name,
        region=expectation.region,
        status=_status(lag, expectation.staleness, failures, last_success, bool(held)),
        staleness=expectation.staleness,
        schedule=expectation.schedule,
        last_success=last_success,
        lag=lag,
        last_flow=flows[0] if flows else None,
        last_applied=last_applied(connection, name),
        last_run=runs[0] if runs else None,
        consecutive_failures=failures,
        rejection_baseline=statistics.median(earlier) if earlier else None,
        trend=tuple(reversed(flows)),
        last_sync=last_sync(connection, name),
        held=held,
    )


def source_health(
    store: Store,
    expectations: Mapping[str, Expectation],
    *,
    default_staleness: timedelta,
    trend_flows: int = 30,
    now: datetime | None = None,
) -> list[SourceHealth]:
    """The health of every source, configured or known to the store, sorted by name.

    ``expectations`` holds what the configuration says of each source; a source only the
    store knows (a push client, a source removed from the config) gets ``default_staleness``.
    """
    moment = now or utcnow()
    with store.engine.connect() as connection:
        known = {
            row.name: row
            for row in connection.execute(
                select(SOURCES.c.name, SOURCES.c.region, SOURCES.c.created_at)
            )
        }
        health = []
        for name in sorted(set(known) | set(expectations)):
            expectation = expectations.get(name) or Expectation(default_staleness)
            row = known.get(name)
            if row is not None and expectation.region is None:
                expectation = Expectation(expectation.staleness, expectation.schedule, row.region)
            since = row.created_at if row is not None else None
            health.append(
                _health(
                    connection,
                    name,
                    expectation,
                    known_since=since,
                    now=moment,
                    trend_flows=trend_flows,
                )
            )
    return health


def describe_schedule(source: SourceSettings) -> str:
    """``cron 30 2 * * *`` or ``every 6h``, for people."""
    rule = source.schedule
    if rule.cron is not None:
        return f"cron {rule.cron}"
    assert rule.every is not None
    return f"every {_short(rule.every)}"


def _short(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def expectations(settings: Settings) -> dict[str, Expectation]:
    """What the configuration expects of each enabled source (``config/regions/*.toml``)."""
    return {
        name: Expectation(source.stale_after, describe_schedule(source), source.region)
        for name, source in settings.sources.items()
        if source.enabled
    }


def health_of(
    store: Store, settings: Settings, *, now: datetime | None = None
) -> list[SourceHealth]:
    """`source_health` with the expectations and defaults of ``settings``."""
    return source_health(
        store,
        expectations(settings),
        default_staleness=timedelta(seconds=settings.health.default_staleness_seconds),
        trend_flows=settings.health.trend_flows,
        now=now,
    )
