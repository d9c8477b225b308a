"""One run of one publisher: resend what is pending, or plan, build and send what is next.

A run, under the partner's lock (one run at a time per partner, across replicas):

1. **Resend.** A delivery still ``pending`` (its last attempt failed, or the process was
   killed before the acknowledgement was recorded) is sent again, the same spooled bytes
   under the same delivery id, which a partner uses as an idempotency key. It is abandoned
   instead when a full file is asked for, its filter changed, or its files are no longer
   in the spool intact (checked against the ledger's SHA-256).
2. **Plan** (:mod:`hub.publish.publishers.planning`). Otherwise: a full file when asked,
   when the partner holds nothing yet, when its filter changed or when ``full_every`` has
   passed; else a delta from the acknowledged cursor. Snapshot publishers always write the
   whole filtered offer.
3. **Build** the files in the spool from one consistent read of the store, and record the
   delivery (``pending``, with its files and checksums) before the first byte leaves.
4. **Send**, with the hub's retry policy. The partner's acknowledgement moves the cursor
   and the holdings in one transaction; a failure leaves the delivery pending for the
   next run; a refusal marks it rejected (never resent: the next run builds anew).

Every run is recorded in ``publisher_attempt``; a failure of one partner is confined to its
own run, so a partner that is down never holds up another (`run_publishers`).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from hub.errors import DeliveryError, HubError, RejectedDeliveryError
from hub.events import PublishEvent, emit
from hub.publish.publishers import ledger
from hub.publish.publishers.base import Delivery, DeliveryKind, PublishContext
from hub.publish.publishers.base import Publisher as PublisherBase
from hub.publish.publishers.config import PublisherConfig
from hub.publish.publishers.files import SpooledFile, spool_lock, sweep_spool
from hub.publish.publishers.planning import build
from hub.publish.publishers.registry import create_publisher
from hub.store import Store
from hub.store.runs import replica_id, source_lock

__all__ = ["PublishResult", "run_publisher", "run_publishers"]

log: structlog.stdlib.BoundLogger = structlog.get_logger(__name__)


@dataclass(slots=True)
class PublishResult:
    """How one run of one publisher ended, for the CLI, the scheduler and the metrics.

    ``outcome``: ``acknowledged`` (delivered), ``up-to-date`` (nothing new for this
    partner), ``unchanged`` (a snapshot equal to the last one delivered), ``deferred``
    (cannot be said in valid LHEO yet, see ``note``), ``failed`` (retried next run),
    ``rejected`` (refused by the partner), ``skipped`` (already running) or ``dry-run``.
    """

    publisher: str
    outcome: str = "running"
    kind: DeliveryKind | None = None
    delivery_id: str | None = None
    from_cursor: int | None = None
    to_cursor: int | None = None
    formations: int = 0
    deletions: int = 0
    files: list[SpooledFile] = field(default_factory=list)
    resent: bool = False
    retries: int = 0
    error: str | None = None
    note: str | None = None

    def describe(self, delivery: Delivery) -> None:
        self.kind, self.delivery_id = delivery.kind, delivery.id
        self.from_cursor, self.to_cursor = delivery.from_cursor, delivery.to_cursor
        self.formations, self.deletions, self.files = (
            delivery.formations,
            delivery.deletions,
            delivery.files,
        )


def _send(
    store: Store, publisher: PublisherBase, delivery: Delivery, result: PublishResult
) -> None:
    """Send ``delivery`` and record what the partner said."""
    result.describe(delivery)
    ledger.mark_sending(store.engine, delivery)
    try:
        ack = publisher.deliver(delivery)
        if ack.cursor != delivery.to_cursor:
            raise RejectedDeliveryError(
                f"the partner acknowledged cursor {ack.cursor}, not {delivery.to_cursor}",
                status=0,
            )
    except RejectedDeliveryError as exc:
        ledger.reject(store.engine, delivery, str(exc))
        result.outcome, result.error = "rejected", str(exc)
        return
    except DeliveryError as exc:
        message = str(exc) + "".join(f" ({note})" for note in getattr(exc, "__notes__", []))
        ledger.note_failure(store.engine, delivery, message)
        result.outcome, result.error = "failed", message
        return
    finally:
        result.retries = publisher.retries
    ledger.acknowledge(store.engine, delivery, ack)
    result.outcome = "acknowledged"


def _reusable(delivery: Delivery, publisher: PublisherBase, *, full: bool) -> str | None:
    """Why a pending delivery cannot be resent as it is (None: resend it)."""
    if full:
        return "superseded by a full file asked for by hand"
    if delivery.fingerprint != publisher.config.fingerprint():
        return "the partner's filter, format or options changed: a full file replaces it"
    if not ledger.spool_intact(delivery):
        return "its spooled files are missing or altered: built again from the acknowledged cursor"
    return None


def _run_locked(
    store: Store, publisher: PublisherBase, result: PublishResult, *, full: bool
) -> None:
    engine, name = store.engine, publisher.config.name
    pending = ledger.pending_delivery(engine, name)
    sweep_spool(publisher.context.spool_dir / name, pending.id if pending else None)
    if pending is not None:
        reason = _reusable(pending, publisher, full=full)
        if reason is None:
            result.resent = True
            _send(store, publisher, pending, result)
            return
        log.warning("publish.abandoned", delivery=pending.id, reason=reason)
        ledger.abandon(engine, pending, reason)
    plan, written = build(store, publisher, full=full, spool=publisher.context.spool_dir / name)
    result.kind, result.from_cursor, result.to_cursor = plan.kind, plan.since, plan.to_cursor
    result.note = written.note
    if written.nothing is not None:
        result.outcome = written.nothing
        # A partner that holds nothing yet keeps no cursor, so its first file is a full one.
        first_and_empty = plan.kind == "full" and publisher.mode == "delta"
        if written.nothing == "up-to-date" and not first_and_empty:
            ledger.settle_without_delivery(engine, name, plan.to_cursor, plan.fingerprint)
        return
    if publisher.mode == "snapshot" and not full:
        last = ledger.last_acknowledged_checksums(engine, name)
        if last == [f.sha256 for f in written.files]:
            shutil.rmtree(written.files[0].path.parent, ignore_errors=True)
            ledger.settle_without_delivery(engine, name, plan.to_cursor, plan.fingerprint)
            result.outcome = "unchanged"
            return
    _send(store, publisher, ledger.record_delivery(engine, name, plan, written), result)


def run_publisher(
    store: Store,
    config: PublisherConfig,
    context: PublishContext,
    *,
    full: bool = False,
    dry_run: bool = False,
    trigger: str = "manual",
) -> PublishResult:
    """Run partner ``config.name`` once; never raises for a delivery that failed."""
    publisher = create_publisher(config, context)
    result = PublishResult(config.name)
    if dry_run:
        return _dry_run(store, publisher, result, full=full)
    with (
        structlog.contextvars.bound_contextvars(
            publisher=config.name, stage="publish", trigger=trigger
        ),
        source_lock(store, f"publisher:{config.name}") as acquired_here,
        spool_lock(context.spool_dir, config.name) as acquired_on_host,
    ):
        if not (acquired_here and acquired_on_host):
            result.outcome = "skipped"
            emit(PublishEvent(config.name, result.outcome))
            return result
        _attempt(store, publisher, result, full=full, trigger=trigger)
    return result


def _attempt(
    store: Store, publisher: PublisherBase, result: PublishResult, *, full: bool, trigger: str
) -> None:
    """One run under the partner's locks, recorded in ``publisher_attempt`` however it ends."""
    name = publisher.config.name
    started = time.monotonic()
    attempt = ledger.start_attempt(store.engine, name, trigger=trigger, replica=replica_id())
    try:
        _run_locked(store, publisher, result, full=full)
    except HubError as exc:
        result.outcome, result.error = "failed", str(exc)
    except Exception as exc:  # recorded, then raised: a bug must not pass for a fault
        result.outcome, result.error = "failed", f"{exc.__class__.__name__}: {exc}"
        raise
    finally:
        ledger.finish_attempt(
            store.engine,
            attempt,
            name,
            result.outcome,
            delivery_id=result.delivery_id,
            error=result.error,
            retries=result.retries,
        )
        _log(result)
        emit(PublishEvent(name, result.outcome, time.monotonic() - started))


def _log(result: PublishResult) -> None:
    event = "publish.failed" if result.outcome in ledger.FAILED_OUTCOMES else "publish.done"
    log.info(
        event,
        outcome=result.outcome,
        kind=result.kind,
        delivery=result.delivery_id,
        from_cursor=result.from_cursor,
        to_cursor=result.to_cursor,
        formations=result.formations,
        deletions=result.deletions,
        retries=result.retries,
        error=result.error,
    )


def _dry_run(
    store: Store, publisher: PublisherBase, result: PublishResult, *, full: bool
) -> PublishResult:
    """Build what the next run would send, in a temporary folder; write nothing anywhere."""
    pending = ledger.pending_delivery(store.engine, publisher.config.name)
    if pending is not None and _reusable(pending, publisher, full=full) is None:
        result.describe(pending)
        result.outcome, result.resent = "dry-run", True
        return result
    with tempfile.TemporaryDirectory(prefix="hub-publish-") as folder:
        plan, written = build(store, publisher, full=full, spool=Path(folder))
        result.kind, result.from_cursor, result.to_cursor = plan.kind, plan.since, plan.to_cursor
        result.formations, result.deletions = written.formations, written.deletions
        result.files, result.note = written.files, written.note
        result.outcome = "dry-run" if written.nothing is None else written.nothing
    return result


def run_publishers(
    store: Store,
    configs: Iterable[PublisherConfig],
    context: PublishContext,
    *,
    trigger: str = "manual",
) -> list[PublishResult]:
    """Run every enabled partner at once, each in its own thread: one down blocks nobody."""
    enabled = [config for config in configs if config.enabled]
    with ThreadPoolExecutor(max_workers=max(1, len(enabled))) as pool:
        futures = [
            pool.submit(run_publisher, store, config, context, trigger=trigger)
            for config in enabled
        ]
    results = []
    for config, future in zip(enabled, futures, strict=True):
        error = future.exception()
        if error is None:
            results.append(future.result())
        else:
            results.append(PublishResult(config.name, "failed", error=f"{error!r}"))
    return results
