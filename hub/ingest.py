"""One flow through archive → parse → validate → store, as one transaction.

``receive`` archives the raw bytes and records the flow (status ``received``) before
anything is parsed, so a crash loses nothing: ``resume_pending`` applies the flows a
killed process left behind. ``apply`` then reads the archived flow and applies every valid
formation in a single transaction that also marks the flow ``applied``: the store is
before or after the flow, never in between. Invalid formations are rejected one by one
with their line and path; a flow that is not readable LHEO at all is refused whole.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

from sqlalchemy import Connection, insert, select, update

from hub import metrics
from hub.errors import FlowError, LheoError, RecordError
from hub.lheo.reader import FormationRecord, LheoReader
from hub.pipeline import UNCHANGED, Mapped, ReadAhead, split_records
from hub.store import Store
from hub.store.archive import archive_flow, open_archived, read_stream
from hub.store.db import write_transaction
from hub.store.models import Flow, FlowRejection, Source, utcnow
from hub.store.repository import FlowApplier, FlowCounts

FlowKind = Literal["snapshot", "delta"]
MAX_NUMERO_LENGTH = 128

FLOWS = Flow.__table__  # type: ignore[attr-defined]
REJECTIONS = FlowRejection.__table__  # type: ignore[attr-defined]
SOURCES = Source.__table__  # type: ignore[attr-defined]


@dataclass(slots=True)
class FlowResult:
    """What one flow did to the store."""

    flow_id: str
    source: str
    kind: FlowKind
    counts: FlowCounts
    rejections: list[RecordError] = field(default_factory=list)
    lheo_version: str | None = None
    dry_run: bool = False


def ensure_source(store: Store, name: str, region: str | None) -> None:
    with write_transaction(store.engine) as connection:
        known = connection.execute(select(SOURCES.c.name).where(SOURCES.c.name == name)).first()
        if known is None:
            connection.execute(
                insert(SOURCES).values(name=name, region=region, created_at=utcnow())
            )
        elif region is not None:
            connection.execute(update(SOURCES).where(SOURCES.c.name == name).values(region=region))


def receive(store: Store, source: str, chunks: Iterable[bytes], kind: FlowKind) -> str:
    """Archive a flow and record it as received; returns its id. Nothing is applied yet."""
    archived = archive_flow(store.archive_dir, source, chunks)
    with write_transaction(store.engine) as connection:
        connection.execute(
            insert(FLOWS).values(
                id=archived.flow_id,
                source=source,
                kind=kind,
                status="received",
                received_at=utcnow(),
                archive_path=str(archived.path),
                sha256=archived.sha256,
                size_bytes=archived.size_bytes,
            )
        )
    return archived.flow_id


def apply(store: Store, flow_id: str, *, dry_run: bool = False) -> FlowResult:
    """Apply an archived flow in one transaction (rolled back when ``dry_run``)."""
    with store.engine.connect() as connection:
        flow = connection.execute(select(FLOWS).where(FLOWS.c.id == flow_id)).mappings().first()
        region = None
        if flow is not None:
            region = connection.execute(
                select(SOURCES.c.region).where(SOURCES.c.name == flow["source"])
            ).scalar()
    if flow is None:
        raise FlowError(f"no flow {flow_id!r} in the store", hint="list flows with `hub status`")
    started = time.monotonic()
    try:
        result = _apply(store, dict(flow), region, dry_run=dry_run)
    except LheoError as exc:
        if not dry_run:
            _mark_failed(store, flow_id, exc)
            metrics.record_failed_flow(flow["source"], seconds=time.monotonic() - started)
        exc.add_note(f"flow {flow_id} from source {flow['source']!r}: nothing of it was applied")
        raise
    metrics.record_flow(result, seconds=time.monotonic() - started)
    return result


def _apply(
    store: Store, flow: dict[str, object], region: str | None, *, dry_run: bool
) -> FlowResult:
    source, kind = str(flow["source"]), flow["kind"]
    assert kind in ("snapshot", "delta")
    with (
        open_archived(Path(str(flow["archive_path"]))) as archived,
        closing(ReadAhead(archived)) as stream,
        write_transaction(store.engine) as connection,
    ):
        reader = LheoReader(stream)  # type: ignore[arg-type]
        result = FlowResult(
            str(flow["id"]), source, kind, FlowCounts(), lheo_version=reader.version
        )
        applier = FlowApplier(
            connection, source=source, region=region, flow_id=result.flow_id, batch_size=200
        )
        seen = _apply_records(applier, reader, result)
        unknown = applier.tombstone(reader.deletions)
        result.rejections.extend(
            RecordError(
                n,
                None,
                f"extras[@info='suppressions']/extra[.='{n}']",
                "delete of an unknown or already deleted formation: nothing to delete",
                stage="delete",
            )
            for n in unknown
        )
        if kind == "snapshot":
            applier.tombstone_absent(seen)
        applier.counts.rejected += len(unknown)
        result.counts = applier.finish()
        _record_outcome(connection, result, reader)
        if dry_run:
            result.dry_run = True
            connection.rollback()
    return result


def _apply_records(applier: FlowApplier, reader: LheoReader, result: FlowResult) -> set[str]:
    seen: dict[str, int] = {}
    records: Iterable[tuple[FormationRecord, Mapped]] = (
        ((record, None) for record in reader)
        if reader.context is None
        else split_records(reader, applier)
    )
    for record, mapped in records:
        applier.counts.formations += 1
        problem = _identity_problem(record, seen)
        if record.numero:
            seen.setdefault(record.numero, record.line)
        if problem:
            record.errors.append(problem)
        if record.errors:
            applier.counts.rejected += 1
            result.rejections.extend(record.errors)
        elif mapped is UNCHANGED:
            applier.counts.unchanged += 1
        else:
            applier.add(record, mapped)  # type: ignore[arg-type]
    return set(seen)


def _identity_problem(record: FormationRecord, seen: dict[str, int]) -> RecordError | None:
    if not record.numero:
        return None
    path = f"formation[@numero='{record.numero}']"
    if record.numero in seen:
        return RecordError(
            record.numero,
            record.line,
            path,
            f"duplicate numero in this flow (first at line {seen[record.numero]}); "
            "the first one is kept",
            stage="identity",
        )
    if len(record.numero) > MAX_NUMERO_LENGTH:
        return RecordError(
            record.numero[:40] + "…",
            record.line,
            path,
            f"numero longer than {MAX_NUMERO_LENGTH} characters",
            stage="identity",
        )
    return None


def _record_outcome(connection: Connection, result: FlowResult, reader: LheoReader) -> None:
    counts = result.counts
    connection.execute(
        update(FLOWS)
        .where(FLOWS.c.id == result.flow_id)
        .values(
            status="applied",
            finished_at=utcnow(),
            lheo_version=reader.version,
            encoding=reader.encoding,
            error=None,
            **counts.as_dict(),
        )
    )
    if result.rejections:
        connection.execute(
            insert(REJECTIONS),
            [
                {
                    "flow_id": result.flow_id,
                    "numero": (e.numero or "")[:128] or None,
                    "line": e.line,
                    "path": e.path,
                    "reason": e.reason,
                    "stage": e.stage,
                }
                for e in result.rejections
            ],
        )


def _mark_failed(store: Store, flow_id: str, exc: LheoError) -> None:
    with write_transaction(store.engine) as connection:
        connection.execute(
            update(FLOWS)
            .where(FLOWS.c.id == flow_id)
            .values(status="failed", finished_at=utcnow(), error=str(exc))
        )
        connection.execute(
            insert(REJECTIONS).values(
                flow_id=flow_id,
                numero=None,
                line=exc.line,
                path=exc.path or "/",
                reason=exc.reason,
                stage="parse",
            )
        )


def ingest(
    store: Store,
    stream: IO[bytes],
    *,
    source: str,
    region: str | None = None,
    kind: FlowKind = "delta",
    dry_run: bool = False,
) -> FlowResult:
    """Archive then apply one flow: the whole path for a file, a pull or a push."""
    if dry_run:
        return _dry_run(store, stream, source=source, region=region, kind=kind)
    ensure_source(store, source, region)
    flow_id = receive(store, source, read_stream(stream), kind)
    return apply(store, flow_id, dry_run=dry_run)


def _dry_run(
    store: Store, stream: IO[bytes], *, source: str, region: str | None, kind: FlowKind
) -> FlowResult:
    """Validate, map and apply in a transaction that is rolled back.

    The bytes go to a scratch folder, not the archive, and no flow row is committed, so a
    dry run leaves nothing that a later ``resume_pending`` could apply for real.
    """
    if region is None:
        with store.engine.connect() as connection:
            region = connection.execute(
                select(SOURCES.c.region).where(SOURCES.c.name == source)
            ).scalar()
    with tempfile.TemporaryDirectory(prefix="hub-dry-run-") as scratch:
        archived = archive_flow(Path(scratch), source, read_stream(stream))
        flow: dict[str, object] = {
            "id": archived.flow_id,
            "source": source,
            "kind": kind,
            "archive_path": str(archived.path),
        }
        return _apply(store, flow, region, dry_run=True)


def resume_pending(store: Store) -> list[FlowResult]:
    """Apply, in arrival order, the flows a killed process archived but never finished."""
    with store.engine.connect() as connection:
        pending = (
            connection.execute(
                select(FLOWS.c.id)
                .where(FLOWS.c.status == "received")
                .order_by(FLOWS.c.received_at, FLOWS.c.id)
            )
            .scalars()
            .all()
        )
    results = []
    for flow_id in pending:
        try:
            results.append(apply(store, flow_id))
        except LheoError:
            continue  # recorded as failed with its reason; the next flow still goes in
    return results
