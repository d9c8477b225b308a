"""Flows in the store: their rows, their archived files, their findings and their fate.

A flow is recorded ``received`` with its files (``flow_part``: the bytes as received and
how they came) before anything reads it. Its status then moves once, in the transaction
that applies it (``applied``) or on its own (``failed``, ``held``, ``superseded``,
``discarded``); :func:`claim` locks the row first, so two processes never apply one flow.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from hub.errors import RecordError
from hub.lheo.dialect import Part
from hub.store.db import write_transaction
from hub.store.models import utcnow
from hub.store.tables import FLOWS, PARTS, REJECTIONS

PENDING = "received"
FINAL_STATUSES = ("applied", "failed", "superseded", "discarded")


@dataclass(frozen=True, slots=True)
class FlowRow:
    """What the read and apply stages need to know about a stored flow."""

    id: str
    source: str
    kind: str
    status: str
    connector: str | None
    received_at: datetime
    as_of: datetime
    replay_of: str | None
    parts: tuple[Part, ...]


def record_flow(
    engine: Engine,
    flow_id: str,
    *,
    source: str,
    kind: str,
    parts: Sequence[Part],
    connector: str | None = None,
    as_of: datetime | None = None,
    replay_of: str | None = None,
) -> None:
    """Record a flow as received, with its archived files, in one transaction."""
    now = utcnow()
    with write_transaction(engine) as connection:
        connection.execute(
            insert(FLOWS).values(
                id=flow_id,
                source=source,
                kind=kind,
                status=PENDING,
                connector=connector,
                received_at=now,
                as_of=as_of or now,
                size_bytes=sum(part.size_bytes for part in parts),
                replay_of=replay_of,
            )
        )
        connection.execute(
            insert(PARTS),
            [
                {
                    "flow_id": flow_id,
                    "position": position,
                    "name": part.name[:255],
                    "role": part.role,
                    "url": part.url,
                    "http_status": part.http_status,
                    "etag": (part.etag or "")[:255] or None,
                    "last_modified": (part.last_modified or "")[:64] or None,
                    "content_type": (part.content_type or "")[:255] or None,
                    "archive_path": str(part.path),
                    "sha256": part.sha256,
                    "size_bytes": part.size_bytes,
                }
                for position, part in enumerate(parts)
            ],
        )


_PART_COLUMNS = [name for name in Part.__dataclass_fields__ if name != "path"]
_FLOW_COLUMNS = [name for name in FlowRow.__dataclass_fields__ if name != "parts"]


def _part(row: Any) -> Part:
    return Part(path=Path(row.archive_path), **{name: row._mapping[name] for name in _PART_COLUMNS})


def flow_parts(connection: Connection, flow_id: str) -> tuple[Part, ...]:
    rows = connection.execute(
        select(PARTS).where(PARTS.c.flow_id == flow_id).order_by(PARTS.c.position)
    ).all()
    return tuple(_part(row) for row in rows)


def load_flow(connection: Connection, flow_id: str, *, lock: bool = False) -> FlowRow | None:
    """The flow ``flow_id`` with its files; ``lock`` holds its row until the transaction ends."""
    query = select(FLOWS).where(FLOWS.c.id == flow_id)
    if lock:
        query = query.with_for_update()
    row = connection.execute(query).first()
    if row is None:
        return None
    columns = {name: row._mapping[name] for name in _FLOW_COLUMNS}
    return FlowRow(**columns, parts=flow_parts(connection, flow_id))


def later_applied(connection: Connection, flow: FlowRow) -> list[FlowRow]:
    """The applied flows of the same source whose content is newer than ``flow``'s.

    Newer is a later ``as_of`` (a replay keeps its original's), the id breaking a tie.
    A flow never counts its own original or another replay of that original.
    """
    f = FLOWS.c
    origin = flow.replay_of or flow.id
    rows = connection.execute(
        select(f.id, f.as_of, f.replay_of)
        .where(f.source == flow.source, f.status == "applied", f.as_of >= flow.as_of)
        .order_by(f.as_of, f.id)
    ).all()
    later = []
    for row in rows:
        if (row.replay_of or row.id) == origin:
            continue
        if _aware(row.as_of) == _aware(flow.as_of) and row.id < flow.id:
            continue
        found = load_flow(connection, row.id)
        if found is not None:
            later.append(found)
    return later


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def pending_flows(engine: Engine) -> list[str]:
    """Ids of the flows received but never applied, oldest content first."""
    with engine.connect() as connection:
        return list(
            connection.execute(
                select(FLOWS.c.id)
                .where(FLOWS.c.status == PENDING)
                .order_by(FLOWS.c.as_of, FLOWS.c.id)
            ).scalars()
        )


def finding_rows(flow_id: str, findings: Iterable[RecordError]) -> list[dict[str, Any]]:
    return [
        {
            "flow_id": flow_id,
            "numero": (e.numero or "")[:128] or None,
            "line": e.line,
            "path": e.path,
            "reason": e.reason,
            "stage": e.stage,
            "file": (e.file or "")[:255] or None,
        }
        for e in findings
    ]


def record_findings(connection: Connection, flow_id: str, findings: Sequence[RecordError]) -> None:
    if findings:
        connection.execute(insert(REJECTIONS), finding_rows(flow_id, findings))


def mark_applied(
    connection: Connection,
    flow_id: str,
    *,
    counts: dict[str, int],
    lheo_version: str | None,
    encoding: str | None,
    findings: Sequence[RecordError],
) -> None:
    """Inside the applying transaction: the flow is applied, with its counts and findings."""
    connection.execute(
        update(FLOWS)
        .where(FLOWS.c.id == flow_id)
        .values(
            status="applied",
            finished_at=utcnow(),
            lheo_version=lheo_version,
            encoding=encoding,
            error=None,
            **counts,
        )
    )
    record_findings(connection, flow_id, findings)


def settle(
    engine: Engine,
    flow_id: str,
    status: str,
    *,
    note: str | None = None,
    error: str | None = None,
    findings: Sequence[RecordError] = (),
    counts: dict[str, int] | None = None,
    only_if: Sequence[str] = (PENDING, "held"),
) -> bool:
    """Give a flow that was not applied its final (or held) status; False if it moved already."""
    with write_transaction(engine) as connection:
        current = connection.execute(
            select(FLOWS.c.status).where(FLOWS.c.id == flow_id).with_for_update()
        ).scalar()
        if current not in only_if:
            return False
        connection.execute(
            update(FLOWS)
            .where(FLOWS.c.id == flow_id)
            .values(status=status, finished_at=utcnow(), note=note, error=error, **(counts or {}))
        )
        record_findings(connection, flow_id, findings)
    return True


def recent_flows(
    engine: Engine, *, source: str | None = None, status: str | None = None, limit: int = 30
) -> list[Any]:
    """The latest flows (newest first), optionally of one source or in one status."""
    query = select(FLOWS).order_by(FLOWS.c.received_at.desc(), FLOWS.c.id.desc()).limit(limit)
    if source is not None:
        query = query.where(FLOWS.c.source == source)
    if status is not None:
        query = query.where(FLOWS.c.status == status)
    with engine.connect() as connection:
        return list(connection.execute(query).all())
