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

**Replay** (`replay_flow`) re-applies a stored flow from its raw archive as a *new* flow
with a new id, linked to the original by its run (``replay_of``): the original keeps its
counts and rejections as history, and the new flow says what the replay changed. Content
hashes make it safe: records already stored as sent are counted unchanged and emit
nothing. A flow left ``received`` by a crash is applied under its own id instead. A
snapshot is replayed only while no later flow of its source has been applied, since
replaying an old snapshot would delete, by absence, everything that came after it.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Connection, func, insert, select, update

from hub.errors import FlowError
from hub.ingest import FLOWS, FlowKind, FlowResult, apply, receive
from hub.logging import bound, get_logger
from hub.status import RUNS
from hub.store import Store
from hub.store.archive import CHUNK, open_archived
from hub.store.db import write_transaction
from hub.store.models import utcnow

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
                )
            )


@dataclass(slots=True)
class RunRecord:
    """What a run reports about itself while `recorded_run` holds its row."""

    run_id: int
    outcome: str = "success"
    flow_id: str | None = None
    error: str | None = None


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


def _archived_chunks(path: Path) -> Iterator[bytes]:
    with open_archived(path) as stream:
        while chunk := stream.read(CHUNK):
            yield chunk


def _check_replayable(connection: Connection, flow: dict[str, object]) -> None:
    """Refuse an old snapshot: it would tombstone what later flows added."""
    if flow["kind"] != "snapshot" or flow["status"] == "received":
        return
    later = connection.execute(
        select(func.count())
        .select_from(FLOWS)
        .where(
            FLOWS.c.source == flow["source"],
            FLOWS.c.status == "applied",
            FLOWS.c.received_at > flow["received_at"],
        )
    ).scalar()
    if later:
        raise FlowError(
            f"flow {flow['id']} is a snapshot of {flow['source']!r} older than {later} applied "
            "flow(s): replaying it would delete by absence what they brought",
            hint="replay the latest snapshot instead, or sync the source again",
        )


def replay_flow(store: Store, flow_id: str, *, replica: str | None = None) -> FlowResult:
    """Apply a stored flow again from its archive (see the module docstring for ids)."""
    with store.engine.connect() as connection:
        row = connection.execute(select(FLOWS).where(FLOWS.c.id == flow_id)).mappings().first()
        if row is None:
            raise FlowError(
                f"no flow {flow_id!r} in the store", hint="list flows with `hub status`"
            )
        flow = dict(row)
        _check_replayable(connection, flow)
    source, kind = str(flow["source"]), flow["kind"]
    assert kind in ("snapshot", "delta")
    with bound(source=source, stage="replay", replay_of=flow_id), source_lock(store, source) as ok:
        if not ok:
            raise SourceBusy(f"source {source!r} is running: flow {flow_id} was not replayed")
        with recorded_run(
            store, source, trigger="replay", replica=replica or replica_id(), replay_of=flow_id
        ) as record:
            if flow["status"] == "received":
                result = apply(store, flow_id)
            else:
                path = Path(str(flow["archive_path"]))
                new_id = receive(store, source, _archived_chunks(path), _kind(kind))
                result = apply(store, new_id)
            record.flow_id = result.flow_id
            log.info("flow replayed", flow_id=result.flow_id, **result.counts.as_dict())
    return result


def _kind(kind: object) -> FlowKind:
    return "snapshot" if kind == "snapshot" else "delta"
