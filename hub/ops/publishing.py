"""Publishing in the background of ``hub serve``: each partner on its own schedule.

Every enabled partner gets one APScheduler job (cron or interval, with jitter, from its
``schedule``), run in a pool thread of its own, one instance at a time, first right after
start-up. A partner that is down only ever occupies its own thread: the others keep their
slots. A failed run is recorded in the ledger and simply retried at the next slot, from the
acknowledged cursor, after the in-run retries with backoff.

The demo (``make run``) starts the intercariforef receiving end on 127.0.0.1 itself
(``simulators/demo.py``); nothing here serves anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from hub.errors import ConfigError
from hub.ops.logging import get_logger
from hub.publish.publishers.base import PublishContext
from hub.publish.publishers.config import PublisherConfig, load_publishers
from hub.publish.publishers.runner import run_publisher
from hub.settings import Settings
from hub.store import Store

__all__ = ["Publishing", "start_publishing", "trigger_of"]

log = get_logger(__name__)
_FIRST_RUN_DELAY = timedelta(seconds=5)


def trigger_of(config: PublisherConfig) -> BaseTrigger:
    """The APScheduler trigger of a partner's ``schedule`` (cron or every), with jitter."""
    rule = config.schedule
    jitter = int(rule.jitter.total_seconds()) if rule.jitter is not None else None
    if rule.cron is not None:
        try:
            trigger = CronTrigger.from_crontab(rule.cron, timezone="UTC")
        except ValueError as exc:
            raise ConfigError(f"{config.where}: schedule.cron: {rule.cron!r}: {exc}") from exc
        trigger.jitter = jitter or None
        return trigger
    assert rule.every is not None
    return IntervalTrigger(
        seconds=rule.every.total_seconds(), timezone="UTC", jitter=jitter or None
    )


@dataclass
class Publishing:
    """What ``hub serve`` started for publishing; ``stop`` ends it."""

    scheduler: BackgroundScheduler | None = None

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)


def _run_scheduled(store: Store, config: PublisherConfig, context: PublishContext) -> None:
    try:
        run_publisher(store, config, context, trigger="schedule")
    except Exception:  # a bug in one partner's run must not stop the scheduler
        log.exception("publish.crashed", publisher=config.name)


def start_publishing(settings: Settings, store: Store) -> Publishing:
    """Start the schedule of every enabled partner."""
    publishing = Publishing()
    if not settings.publishing.enabled:
        return publishing
    configs = [config for config in load_publishers(settings).values() if config.enabled]
    if not configs:
        return publishing
    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(max_workers=len(configs) + 1)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        timezone="UTC",
    )
    first = datetime.now(UTC) + _FIRST_RUN_DELAY
    for config in configs:
        scheduler.add_job(
            _run_scheduled,
            trigger=trigger_of(config),
            args=(store, config, PublishContext(settings)),
            id=f"publish:{config.name}",
            name=f"publish {config.name}",
            next_run_time=first,
        )
    scheduler.start()
    publishing.scheduler = scheduler
    log.info("publish.scheduler_started", publishers=[c.name for c in configs])
    return publishing
