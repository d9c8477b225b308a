"""A run of one source: its lock, its row in the run log, and the replay of a stored flow.

**One run at a time per source, across replicas.** `source_lock` is taken before a sync
or a replay and held until it really ends:

- on PostgreSQL, ``pg_try_advisory_lock`` on a 64-bit hash of the store's schema and the
  source name, held by a connection dedicated to that run. Another replica's attempt
  fails at once; if a replica dies, PostgreSQL drops its connection and with it the lock.
- on SQLite, a lock of this process: SQLite means a single hub process (several replicas
  need PostgreSQL).

Each run is written to ``sync_run`` when it starts and when it ends, while the lock is
held (`recorded_run`), so the run log of one source never shows two runs at once.

**Replay** (`replay_flow`) re-applies a stored flow from its archived files as a *new*
flow with a new id and ``replay_of`` the original: the original keeps its counts and
rejections as history, and the new flow says what the replay changed. A replay never makes
the store older: it carries its original's time (``as_of``), so whatever a newer flow of
the source spoke of keeps its newer state and is counted ``kept_newer``; a replay older
than a snapshot applied since is refused, since it could change nothing safely. Content
hashes make it idempotent otherwise.

**Resuming is a replay** (`resume_pending`): a flow a crash left ``received`` is applied
under its own id, under its source's lock, by the same time-safe apply; one a newer
snapshot made pointless is marked ``superseded`` with the reason, never left ``received``.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Connection, func, insert, select, update

from hub.errors import FlowError, LheoError
from hub.ingest import FlowKind, FlowNotPending, FlowResult, apply, receive
from hub.logging import bound, get_logger
from hub.settings import Settings
from hub.status import RUNS
from hub.store import Store
from hub.store.db import write_transaction
from hub.store.flows import FlowRow, later_applied, load_flow, pending_flows
from hub.store.models import utcnow
from hub.store.repository import FlowCounts

log = get_logger(__name__)

_LOCAL_LOCKS: dict[str, threading.Lock] = {}
_LOCAL_LOCKS_GUARD = threading.Lock()


def replica_id() -> str:
    """``host:pid``: which process ran a run (several replicas share one database)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def advisory_key(source: str, schema: str = "public") -> int:
    """The signed 64-bit advisory-lock key of a source, stable across processes.

    Advisory locks belong to the whole database, so the key names the schema the store
    lives in too: two hubs in two schemas of one database never hold each other up.
    """
    digest = hashlib.sha256(f"lheo-hub:sync:{schema}:{source}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def source_lock(store: Store, source: str) -> Iterator[bool]:
    """Try to take ``source``'s lock without waiting; yields whether it was taken."""
    if store.engine.dialect.name != "postgresql":
        with _LOCAL_LOCKS_GUARD:
            lock = _LOCAL_LOCKS.setdefault(source, threading.Lock())
        acquired = lock.acquire(blocking=False)
        try:
            yield acquired
        finally:
            if acquired:
                lock.release()
        return
    connection = store.engine.connect()
    acquired, key = False, 0
    try:
        schema = connection.execute(select(func.current_schema())).scalar() or "public"
        key = advisory_key(source, schema)
        acquired = bool(connection.execute(select(func.pg_try_advisory_lock(key))).scalar())
        connection.commit()  # the session keeps the lock; do not sit idle in a transaction
        yield acquired
    finally:
        _release(connection, key, acquired=acquired)


def _release(connection: Connection, key: int, *, acquired: bool) -> None:
    try:
        if acquired:
            connection.execute(select(func.pg_advisory_unlock(key)))
            connection.commit()
    except Exception:
        # A session we cannot unlock must not go back to the pool still holding the lock:
        # closing the database connection is what releases it.
        connection.invalidate()
        raise
    finally:
        connection.close()


@contextmanager
def recorded_run(
    store: Store, source: str, *, trigger: str, replica: str, replay_of: str | None = None
) -> Iterator[RunRecord]:
    """Record a run of ``source`` as running, then as its outcome when the block ends.

    The block sets ``record.flow_id`` (and ``record.outcome`` for a timeout); an exception
    marks the run failed with its message and propagates.
    """
    with write_transaction(store.engine) as connection:
        inserted = connection.execute(
            insert(RUNS).values(
                source=source,
                trigger=trigger,
                replica=replica[:128],
                started_at=utcnow(),
                outcome="running",
                replay_of=replay_of,
            )
        )
        key = inserted.inserted_primary_key
        assert key is not None
        run_id = int(key[0])
    record = RunRecord(run_id)
    try:
        yield record
    except BaseException as exc:
        record.outcome, record.error = "failed", str(exc) or exc.__class__.__name__
        raise
    finally:
        with write_transaction(store.engine) as connection:
            connection.execute(
                update(RUNS)
                .where(RUNS.c.id == run_id)
                .values(
                    finished_at=utcnow(),
                    outcome=record.outcome,
                    flow_id=record.flow_id,
                    error=record.error,
                    flows=record.flows,
                    held=record.held,
                    **record.counts.as_dict(),
                )
            )


@dataclass(slots=True)
class RunRecord:
    """What a run reports about itself while `recorded_run` holds its row.

    ``counts`` sum every flow the run applied, so the run says what the whole sync did.
    """

    run_id: int
    outcome: str = "success"
    flow_id: str | None = None
    error: str | None = None
    flows: int = 0
    held: int = 0
    counts: FlowCounts = field(default_factory=FlowCounts)

    def add(self, result: FlowResult) -> None:
        """Count one flow of the run (the last one names the run's ``flow_id``)."""
        self.flows += 1
        self.flow_id = result.flow_id
        if result.status == "held":
            self.held += 1
        elif result.status == "applied":
            self.counts.add(result.counts)


def close_orphan_runs(store: Store, older_than: timedelta) -> int:
    """Close runs still ``running`` long after any timeout: their process died mid-run.

    A live run is either within its timeout or already marked ``timeout``, so a row
    older than every timeout can only belong to a process that is gone.
    """
    with write_transaction(store.engine) as connection:
        done = connection.execute(
            update(RUNS)
            .where(RUNS.c.outcome == "running", RUNS.c.started_at < utcnow() - older_than)
            .values(
                outcome="failed",
                finished_at=utcnow(),
                error="the hub process running it stopped before it ended",
            )
        )
    return int(done.rowcount or 0)


class SourceBusy(FlowError):
    hint = "a sync or replay of this source is running (here or on another replica): retry later"


def replay_flow(
    store: Store,
    flow_id: str,
    *,
    settings: Settings | None = None,
    replica: str | None = None,
) -> FlowResult:
    """Apply a stored flow again from its archived files (see the module docstring)."""
    with store.engine.connect() as connection:
        flow = load_flow(connection, flow_id)
        if flow is None:
            raise FlowError(f"no flow {flow_id!r} in the store", hint="list flows with `hub flows`")
        if flow.status == "held":
            raise FlowError(
                f"flow {flow_id} is held: it would delete much of {flow.source!r}",
                hint=f"`hub apply {flow_id} --confirm-deletions`, or `hub discard {flow_id}`",
            )
        newer = next((f for f in later_applied(connection, flow) if f.kind == "snapshot"), None)
    if newer is not None and flow.status != "received":
        raise FlowError(
            f"flow {flow_id} is older than snapshot {newer.id} of {flow.source!r}, applied "
            "since: replaying it could not change anything safely",
            hint=f"replay {newer.id} or a later flow instead, or sync the source again",
        )

    def work() -> FlowResult:
        if flow.status == "received":
            return apply(store, flow_id, settings=settings)
        new_id = receive(
            store, flow.source, flow.parts, _kind(flow.kind), connector=flow.connector,
            as_of=flow.as_of, replay_of=flow.replay_of or flow.id,
        )  # fmt: skip
        return apply(store, new_id, settings=settings)

    result = _locked_run(store, flow, work, trigger="replay", replica=replica, replay_of=flow_id)
    with bound(source=flow.source, stage="replay", replay_of=flow_id):
        log.info("flow replayed", flow_id=result.flow_id, **result.counts.as_dict())
    return result


def _locked_run(
    store: Store,
    flow: FlowRow,
    work: Callable[[], FlowResult],
    *,
    trigger: str,
    replica: str | None,
    replay_of: str | None = None,
) -> FlowResult:
    """Do ``work`` on ``flow`` under its source's lock, as a recorded run of the source."""
    with (
        bound(source=flow.source, stage=trigger, flow_id=flow.id),
        source_lock(store, flow.source) as ok,
    ):
        if not ok:
            raise SourceBusy(f"source {flow.source!r} is running: flow {flow.id} was left as is")
        with recorded_run(
            store, flow.source, trigger=trigger, replica=replica or replica_id(),
            replay_of=replay_of,
        ) as record:  # fmt: skip
            result = work()
            record.add(result)
    return result


def resume_pending(
    store: Store, settings: Settings | None = None, *, wait: float = 30.0
) -> list[FlowResult]:
    """Apply, oldest content first, the flows a stopped process received but never applied.

    Each is applied under its source's lock, by the time-safe apply (a replay under its
    own id); one a newer snapshot made pointless is marked ``superseded``. A source busy
    for longer than ``wait`` seconds keeps its flow for the next call.
    """
    results = []
    for flow_id in pending_flows(store.engine):
        with store.engine.connect() as connection:
            flow = load_flow(connection, flow_id)
        if flow is None or flow.status != "received":
            continue
        result = _resume_one(store, flow_id, flow.source, settings, wait)
        if result is not None:
            results.append(result)
    return results


def _resume_one(
    store: Store, flow_id: str, source: str, settings: Settings | None, wait: float
) -> FlowResult | None:
    deadline = time.monotonic() + wait
    with bound(source=source, stage="resume", flow_id=flow_id):
        while True:
            with source_lock(store, source) as ok:
                if ok:
                    return _resume_locked(store, flow_id, source, settings)
            if time.monotonic() >= deadline:
                log.warning("resume postponed: the source stayed busy")
                return None
            time.sleep(0.5)


def _resume_locked(
    store: Store, flow_id: str, source: str, settings: Settings | None
) -> FlowResult | None:
    try:
        with recorded_run(store, source, trigger="startup", replica=replica_id()) as record:
            result = apply(store, flow_id, settings=settings)
            record.add(result)
    except FlowNotPending:
        return None  # another process applied it meanwhile
    except FlowError:
        log.warning("resumed flow failed; recorded with its reason")
        return None
    except LheoError:
        log.warning("resumed flow is not readable LHEO; recorded as failed")
        return None
    log.info(f"flow resumed: {result.status}", **result.counts.as_dict())
    return result


def _kind(kind: object) -> FlowKind:
    return "snapshot" if kind == "snapshot" else "delta"


def apply_confirmed(
    store: Store, flow_id: str, *, settings: Settings | None = None, replica: str | None = None
) -> FlowResult:
    """Apply a held (or received) flow with its deletions confirmed, under its source's lock."""
    with store.engine.connect() as connection:
        flow = load_flow(connection, flow_id)
    if flow is None:
        raise FlowError(f"no flow {flow_id!r} in the store", hint="list flows with `hub flows`")
    result = _locked_run(
        store,
        flow,
        lambda: apply(store, flow_id, settings=settings, confirm_deletions=True),
        trigger="manual",
        replica=replica,
    )
    with bound(source=flow.source, stage="apply", flow_id=flow_id):
        log.info(f"held flow {result.status}", **result.counts.as_dict())
    return result
