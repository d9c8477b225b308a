"""When each source syncs, and the guarantee that one source never syncs twice at once.

Every configured source runs on its own schedule (cron or interval, with jitter), under
APScheduler 3. A run happens in a worker thread of its own, awaited for at most the
source's timeout, so a hung region never holds up the others: a run still going at its
deadline is abandoned, reported (``timeout`` in the run log, the metrics and the logs)
and left to end on its own. A failed run is simply retried at the next slot.

**One run at a time per source, across replicas.** Before it syncs, a worker takes the
source's lock (`hub.pipeline.replay.source_lock`: a PostgreSQL advisory lock, or a lock of this
process on SQLite) and holds it until the sync really ends, so an abandoned run keeps it.
Another replica's attempt fails at once and is counted as ``skipped``. Each run is written
to the ``sync_run`` table while the lock is held, which is what the dashboard and
``/metrics`` read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from connectors.registry import connector_class
from hub.errors import ConfigError, SyncFailed
from hub.ops import metrics
from hub.ops.logging import bound, get_logger
from hub.pipeline.ingest import FlowResult
from hub.pipeline.sync import sync_source
from hub.settings import Settings, SourceSettings
from hub.store import Store
from hub.store.runs import (
    RunRecord,
    close_orphan_runs,
    mark_timeout,
    recorded_run,
    replica_id,
    source_lock,
)

log = get_logger(__name__)

SyncFunction = Callable[[str], Sequence[FlowResult]]
"""Runs one source's sync to its end; returns the flows it applied (or held)."""


@dataclass(slots=True)
class RunOutcome:
    """How one attempt to run a source ended, as the caller saw it."""

    source: str
    outcome: str = "running"
    """success, failed, timeout, or skipped (the source was already running elsewhere)."""
    run_id: int | None = None
    flow_id: str | None = None
    error: str | None = None
    seconds: float = 0.0
    finished: threading.Event = field(default_factory=threading.Event)
    settled: bool = False
    """The sync returned before its deadline (set under ``guard``, as is a timeout)."""
    guard: threading.Lock = field(default_factory=threading.Lock)


def _work(store: Store, source: str, sync: SyncFunction, outcome: RunOutcome, trigger: str) -> None:
    """The worker thread: lock, record, sync, record; never raises (it reports instead)."""
    start = time.monotonic()
    with bound(source=source, stage="sync", trigger=trigger):
        try:
            with source_lock(store, source) as acquired:
                if not acquired:
                    outcome.outcome = "skipped"
                    log.info("sync skipped: this source is already running")
                    return
                _locked_run(store, source, sync, outcome, trigger)
        except Exception as exc:  # the lock or the run log failed: report, do not kill
            outcome.outcome, outcome.error = "failed", f"{exc.__class__.__name__}: {exc}"
            log.exception("sync run could not be recorded")
        finally:
            outcome.seconds = time.monotonic() - start
            if outcome.outcome != "timeout":
                metrics.record_sync_run(source, outcome.outcome, outcome.seconds)
            outcome.finished.set()


def _locked_run(
    store: Store, source: str, sync: SyncFunction, outcome: RunOutcome, trigger: str
) -> None:
    with recorded_run(store, source, trigger=trigger, replica=replica_id()) as record:
        outcome.run_id = record.run_id
        log.info("sync started", run_id=record.run_id)
        try:
            for flow in sync(source):
                record.add(flow)
        except Exception as exc:
            for flow in getattr(exc, "flows", ()):
                record.add(flow)  # what it applied before it failed still counts
            record.outcome, record.error = "failed", f"{exc.__class__.__name__}: {exc}"
            log.error("sync failed", run_id=record.run_id, error=record.error)
        else:
            log.info("sync finished", run_id=record.run_id, flow_id=record.flow_id)
        outcome.flow_id = record.flow_id
        _settle(record, outcome)


def _settle(record: RunRecord, outcome: RunOutcome) -> None:
    """A run abandoned at its deadline stays ``timeout`` in the log, whatever it did later."""
    with outcome.guard:
        if outcome.outcome == "timeout":
            late = record.outcome
            record.outcome = "timeout"
            record.error = f"{outcome.error}; it ended later: {late}" + (
                f" ({record.error})" if record.error else ""
            )
        else:
            outcome.outcome, outcome.error = record.outcome, record.error
            outcome.settled = True


def run_source(
    store: Store, source: str, sync: SyncFunction, *, timeout: float, trigger: str = "schedule"
) -> RunOutcome:
    """Run ``source`` in a worker thread and wait for it, at most ``timeout`` seconds."""
    outcome = start_run(store, source, sync, trigger=trigger)
    if not outcome.finished.wait(timeout):
        _abandon(store, outcome, timeout)
    return outcome


def start_run(store: Store, source: str, sync: SyncFunction, *, trigger: str) -> RunOutcome:
    """Start a run of ``source`` in its own thread and return at once (for "run now")."""
    outcome = RunOutcome(source)
    threading.Thread(
        target=_work,
        args=(store, source, sync, outcome, trigger),
        name=f"sync-{source}",
        daemon=True,
    ).start()
    return outcome


def _abandon(store: Store, outcome: RunOutcome, timeout: float) -> None:
    with outcome.guard:
        if outcome.settled:  # it returned just now, while the deadline passed: not a timeout
            return
        outcome.outcome = "timeout"
        outcome.error = f"still running after {timeout:g} s: abandoned, the source stays locked"
    metrics.record_sync_run(outcome.source, "timeout", timeout)
    with bound(source=outcome.source, stage="sync"):
        log.error("sync timed out", run_id=outcome.run_id, timeout_seconds=timeout)
    if outcome.run_id is not None:
        mark_timeout(store, outcome.run_id, outcome.error)


def hub_sync(store: Store, settings: Settings) -> SyncFunction:
    """The production sync: `sync_source`, its failure raised so the run records it."""
    metrics.install()

    def sync(name: str) -> Sequence[FlowResult]:
        result = sync_source(store, settings, name)
        last = result.flows[-1].flow_id if result.flows else None
        if result.error is not None:
            raise SyncFailed(
                str(result.error) + (f" (last flow applied: {last})" if last else ""),
                flows=result.flows,
            )
        return result.flows

    return sync


@dataclass(frozen=True, slots=True)
class SourceSchedule:
    """One source's slot: an APScheduler trigger, and how long a run may take."""

    source: str
    trigger: BaseTrigger
    timeout: float


def trigger_of(source: SourceSettings, default_jitter: float) -> BaseTrigger:
    """The APScheduler trigger of a source's ``[schedule]`` (cron or every), with jitter."""
    rule = source.schedule
    jitter = rule.jitter.total_seconds() if rule.jitter is not None else default_jitter
    if rule.cron is not None:
        try:
            trigger = CronTrigger.from_crontab(rule.cron, timezone="UTC")
        except ValueError as exc:
            raise ConfigError(
                f"{source.file or source.name}: schedule.cron: {rule.cron!r}: {exc}"
            ) from exc
        trigger.jitter = int(jitter) or None
        return trigger
    assert rule.every is not None
    return IntervalTrigger(
        seconds=rule.every.total_seconds(), timezone="UTC", jitter=int(jitter) or None
    )


def pulled(source: SourceSettings) -> bool:
    """Whether the hub syncs ``source`` itself: enabled and not a push source."""
    if not source.enabled:
        return False
    return connector_class(source.connector, source=source).transport != "push"


def schedules(settings: Settings) -> list[SourceSchedule]:
    """A slot for each enabled source the hub pulls (push sources have nothing to run)."""
    return [
        SourceSchedule(
            name,
            trigger_of(source, settings.scheduler.jitter_seconds),
            settings.scheduler.run_timeout_seconds,
        )
        for name, source in sorted(settings.sources.items())
        if pulled(source)
    ]


class HubScheduler:
    """Runs each source on its schedule, in the background of ``hub serve``."""

    def __init__(self, store: Store, schedules: list[SourceSchedule], sync: SyncFunction) -> None:
        self.store = store
        self.schedules = schedules
        self.sync = sync
        # One pool thread waits on each source, so a slow source never delays another's slot.
        self._scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=max(4, len(schedules) + 2))},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
            timezone="UTC",
        )
        for slot in schedules:
            self._scheduler.add_job(
                run_source,
                trigger=slot.trigger,
                args=(store, slot.source, sync),
                kwargs={"timeout": slot.timeout, "trigger": "schedule"},
                id=f"sync:{slot.source}",
                name=f"sync {slot.source}",
            )

    def start(self) -> None:
        longest = max((slot.timeout for slot in self.schedules), default=0.0)
        close_orphan_runs(self.store, timedelta(seconds=2 * longest + 60))
        self._scheduler.start()
        log.info("scheduler started", sources=[slot.source for slot in self.schedules])

    def shutdown(self) -> None:
        self._scheduler.shutdown(wait=False)

    def next_runs(self) -> dict[str, Any]:
        """Each source's next slot (a datetime), for the dashboard."""
        return {
            job.id.removeprefix("sync:"): job.next_run_time for job in self._scheduler.get_jobs()
        }


def start_scheduler(store: Store, settings: Settings) -> HubScheduler | None:
    """Start the schedule of every pulled source, unless ``[scheduler] enabled = false``."""
    if not settings.scheduler.enabled:
        log.info("scheduler disabled by configuration")
        return None
    scheduler = HubScheduler(store, schedules(settings), hub_sync(store, settings))
    scheduler.start()
    return scheduler
