"""The run log and the lock that keeps one source's runs one at a time, across replicas.

**One run at a time per source.** `source_lock` is taken before a sync, a replay or a
resume, and held until it really ends:

- on PostgreSQL, ``pg_try_advisory_lock`` on a 64-bit hash of the store's schema and the
  source name, held by a connection dedicated to that run. Another replica's attempt
  fails at once; if a replica dies, PostgreSQL drops its connection and with it the lock.
- on SQLite, a lock of this process: SQLite means a single hub process (several replicas
  need PostgreSQL).

Each run is written to ``sync_run`` when it starts and when it ends, while the lock is
held (`recorded_run`), with what its flows did summed, so the run log of one source never
shows two runs at once and a run says what the whole sync did.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from sqlalchemy import Connection, func, insert, select, update

from hub.store import Store
from hub.store.db import write_transaction
from hub.store.models import utcnow
from hub.store.rows import FlowCounts
from hub.store.tables import RUNS


class FlowOutcome(Protocol):
    """What a run needs to know of each flow it applied (a pipeline's FlowResult)."""

    @property
    def flow_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def counts(self) -> FlowCounts: ...


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

    def add(self, result: FlowOutcome) -> None:
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


def mark_timeout(store: Store, run_id: int, error: str) -> None:
    """A run still going past its deadline: ``timeout`` now, whatever it does later."""
    with write_transaction(store.engine) as connection:
        connection.execute(
            update(RUNS)
            .where(RUNS.c.id == run_id, RUNS.c.outcome == "running")
            .values(outcome="timeout", error=error)
        )
