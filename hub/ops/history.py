"""The run log, as the health views read it: a source's flows and sync runs.

Reads only (the store writes flows and runs); one shape for the dashboard, ``hub status``,
the metrics gauges and the API, so they never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, func, select

from hub.store.tables import FLOWS, RUNS

__all__ = [
    "COUNT_NAMES",
    "FlowPoint",
    "HeldFlow",
    "RunPoint",
    "flow_point",
    "held_flows",
    "last_applied",
    "last_sync",
    "latest_success",
    "recent",
    "recent_flows",
    "recent_runs",
    "rejection_rate",
    "run_point",
]

COUNT_NAMES = (
    "formations", "created", "updated", "unchanged", "deleted", "rejected", "stale", "kept_newer"
)  # fmt: skip


def rejection_rate(counts: Mapping[str, int]) -> float:
    """Rejected records over records received (deletes of unknown records included)."""
    rejected = counts.get("rejected", 0)
    received = max(counts.get("formations", 0), rejected)
    return rejected / received if received else 0.0


class _Counted:
    """What a flow and a run share: the counts of what they did, and their rejection rate."""

    __slots__ = ()
    counts: Mapping[str, int]

    @property
    def rejection_rate(self) -> float:
        return rejection_rate(self.counts)


@dataclass(frozen=True, slots=True)
class FlowPoint(_Counted):
    """One flow of a source, as the health views show it."""

    flow_id: str
    kind: str
    status: str
    received_at: datetime
    finished_at: datetime | None
    counts: Mapping[str, int]
    size_bytes: int
    error: str | None


@dataclass(frozen=True, slots=True)
class RunPoint(_Counted):
    """One sync run of a source, with what all its flows did together."""

    run_id: int
    trigger: str
    replica: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    flow_id: str | None
    replay_of: str | None
    error: str | None
    flows: int = 0
    held: int = 0
    counts: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HeldFlow:
    """A snapshot waiting for an operator, and why."""

    flow_id: str
    received_at: datetime
    note: str | None


def _counts(row: RowMapping) -> dict[str, int]:
    return {name: int(row[name]) for name in COUNT_NAMES}


def flow_point(row: RowMapping) -> FlowPoint:
    return FlowPoint(
        flow_id=row["id"],
        kind=row["kind"],
        status=row["status"],
        received_at=row["received_at"],
        finished_at=row["finished_at"],
        counts=_counts(row),
        size_bytes=int(row["size_bytes"]),
        error=row["error"],
    )


def run_point(row: RowMapping) -> RunPoint:
    return RunPoint(
        run_id=row["id"],
        trigger=row["trigger"],
        replica=row["replica"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        outcome=row["outcome"],
        flow_id=row["flow_id"],
        replay_of=row["replay_of"],
        error=row["error"],
        flows=int(row["flows"]),
        held=int(row["held"]),
        counts=_counts(row),
    )


def _first(connection: Connection, query: Select[Any]) -> RowMapping | None:
    """The first row ``query`` gives, if any."""
    return connection.execute(query.limit(1)).mappings().first()


def last_sync(connection: Connection, name: str) -> RunPoint | None:
    row = _first(
        connection,
        select(RUNS)
        .where(RUNS.c.source == name, RUNS.c.finished_at.is_not(None), RUNS.c.flows > 0)
        .order_by(RUNS.c.finished_at.desc(), RUNS.c.id.desc()),
    )
    return run_point(row) if row else None


def held_flows(connection: Connection, name: str) -> tuple[HeldFlow, ...]:
    rows = connection.execute(
        select(FLOWS.c.id, FLOWS.c.received_at, FLOWS.c.note)
        .where(FLOWS.c.source == name, FLOWS.c.status == "held")
        .order_by(FLOWS.c.received_at)
    )
    return tuple(HeldFlow(row.id, row.received_at, row.note) for row in rows)


def latest_success(connection: Connection, name: str) -> datetime | None:
    flow = connection.execute(
        select(func.max(FLOWS.c.finished_at)).where(
            FLOWS.c.source == name, FLOWS.c.status == "applied"
        )
    ).scalar()
    run = connection.execute(
        select(func.max(RUNS.c.finished_at)).where(
            RUNS.c.source == name, RUNS.c.outcome == "success"
        )
    ).scalar()
    found = [t for t in (flow, run) if t is not None]
    return max(found) if found else None


def recent(connection: Connection, name: str, limit: int) -> tuple[list[FlowPoint], list[RunPoint]]:
    """The source's latest flows and runs, newest first."""
    flows = [point for _, point in recent_flows(connection, limit, source=name)]
    return flows, recent_runs(connection, name, limit)


def recent_flows(
    connection: Connection, limit: int, *, source: str | None = None
) -> list[tuple[str, FlowPoint]]:
    """The latest flows of ``source`` (None: of every source), newest first, with their source."""
    query = select(FLOWS).order_by(FLOWS.c.received_at.desc(), FLOWS.c.id.desc()).limit(limit)
    if source is not None:
        query = query.where(FLOWS.c.source == source)
    return [(row["source"], flow_point(row)) for row in connection.execute(query).mappings()]


def recent_runs(connection: Connection, name: str, limit: int) -> list[RunPoint]:
    """The source's latest sync runs, newest first."""
    rows = connection.execute(
        select(RUNS)
        .where(RUNS.c.source == name)
        .order_by(RUNS.c.started_at.desc(), RUNS.c.id.desc())
        .limit(limit)
    ).mappings()
    return [run_point(row) for row in rows]


def last_applied(connection: Connection, name: str) -> FlowPoint | None:
    row = _first(
        connection,
        select(FLOWS)
        .where(FLOWS.c.source == name, FLOWS.c.status == "applied")
        .order_by(FLOWS.c.finished_at.desc(), FLOWS.c.id.desc()),
    )
    return flow_point(row) if row else None
