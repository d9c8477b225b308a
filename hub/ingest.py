"""One flow through archive → read → map → store, as one transaction.

``archive_part`` keeps each file of a flow exactly as received and ``receive`` records the
flow (status ``received``) before anything reads it, so a crash loses nothing. ``apply``
then reads the archived files through the source's dialect and applies every valid
formation in a single transaction that also marks the flow ``applied``: the store is
before or after the flow, never in between. Invalid formations are rejected one by one
with their file, line and path; a flow that is not readable LHEO is refused whole.

Applying is time-safe (:mod:`hub.pipeline.guard`): a formation a newer flow of the source
spoke of is left as it is. A snapshot that would delete more than its source's limits is
*held* for an operator instead (``apply(..., confirm_deletions=True)`` or ``discard``).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Literal

import httpx
from sqlalchemy import Connection, insert, select, update

from hub import metrics
from hub.errors import FlowError, HubError, LheoError, RecordError, SplitMismatch
from hub.lheo.dialect import Part
from hub.lheo.reader import FormationRecord
from hub.logging import get_logger
from hub.pipeline.guard import FlowSuperseded, guard_for
from hub.pipeline.parallel import UNCHANGED
from hub.pipeline.policy import policy_for
from hub.pipeline.read import FlowReading, Policy, flag_findings
from hub.settings import Settings
from hub.store import Store
from hub.store.archive import archive_file, new_flow_id, read_stream
from hub.store.db import write_transaction
from hub.store.flows import FlowRow, load_flow, mark_applied, record_flow, settle
from hub.store.models import Source, utcnow
from hub.store.repository import FlowApplier, FlowCounts

FlowKind = Literal["snapshot", "delta"]
MAX_NUMERO_LENGTH = 128

SOURCES = Source.__table__  # type: ignore[attr-defined]

log = get_logger(__name__)


@dataclass(slots=True)
class FlowResult:
    """What one flow did to the store, and what was found in it."""

    flow_id: str
    source: str
    kind: FlowKind
    counts: FlowCounts
    rejections: list[RecordError] = field(default_factory=list)
    """Every finding: rejected records (a record may have several), flags on kept ones."""
    lheo_version: str | None = None
    encoding: str | None = None
    """As the region's file declares it."""
    dry_run: bool = False
    status: str = "applied"
    """``applied``, ``held`` (waiting for an operator) or ``superseded``."""
    note: str | None = None
    """Why it was held or superseded."""
    summaries: list[dict[str, Any]] = field(default_factory=list)
    """What converting its files read (a spreadsheet's rows and sessions)."""


class FlowHeld(FlowError):
    """A snapshot would delete too much of its source: held for an operator, not applied."""

    hint = (
        "check the source's export; then `hub apply FLOW --confirm-deletions` or `hub discard FLOW`"
    )

    def __init__(self, message: str, *, result: FlowResult) -> None:
        super().__init__(message)
        self.result = result


class FlowNotPending(FlowError):
    """The flow was applied, refused or settled already (by this process or another)."""

    hint = "see its state on its page or with `hub flows`"


def ensure_source(store: Store, name: str, region: str | None) -> None:
    with write_transaction(store.engine) as connection:
        known = connection.execute(select(SOURCES.c.name).where(SOURCES.c.name == name)).first()
        if known is None:
            connection.execute(
                insert(SOURCES).values(name=name, region=region, created_at=utcnow())
            )
        elif region is not None:
            connection.execute(update(SOURCES).where(SOURCES.c.name == name).values(region=region))


def source_region(connection: Connection, source: str) -> str | None:
    region = connection.execute(select(SOURCES.c.region).where(SOURCES.c.name == source)).scalar()
    return str(region) if region else None


def archive_part(
    archive_dir: Path,
    source: str,
    chunks: Iterable[bytes],
    *,
    name: str,
    role: str | None = None,
    url: str | None = None,
    http_status: int | None = None,
    headers: httpx.Headers | None = None,
    content_type: str | None = None,
) -> Part:
    """Archive one received file byte for byte, with how it came (URL, status, validators)."""
    archived = archive_file(archive_dir, source, chunks)
    headers = headers or httpx.Headers()
    return Part(
        name=name,
        path=archived.path,
        sha256=archived.sha256,
        size_bytes=archived.size_bytes,
        role=role,
        url=url,
        http_status=http_status,
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
        content_type=content_type or headers.get("content-type"),
    )


def receive(
    store: Store,
    source: str,
    parts: Iterable[Part],
    kind: FlowKind,
    *,
    connector: str | None = None,
    as_of: datetime | None = None,
    replay_of: str | None = None,
) -> str:
    """Record a flow of archived files as received; returns its id. Nothing is applied yet."""
    flow_id = new_flow_id()
    record_flow(
        store.engine,
        flow_id,
        source=source,
        kind=kind,
        parts=list(parts),
        connector=connector,
        as_of=as_of,
        replay_of=replay_of,
    )
    return flow_id


def apply(
    store: Store,
    flow_id: str,
    *,
    settings: Settings | None = None,
    confirm_deletions: bool = False,
) -> FlowResult:
    """Apply a received (or held) flow from its archive, in one transaction.

    A held flow is applied only with ``confirm_deletions``. The result's ``status`` says
    whether it was applied, held again, or superseded by a newer snapshot. Any failure
    marks the flow ``failed`` (nothing of it applied) and is raised.
    """
    with store.engine.connect() as connection:
        flow = load_flow(connection, flow_id)
        region = source_region(connection, flow.source) if flow is not None else None
    if flow is None:
        raise FlowError(f"no flow {flow_id!r} in the store", hint="list flows with `hub flows`")
    policy = policy_for(settings, flow.source, flow.connector, region)
    allowed = ("received", "held") if confirm_deletions else ("received",)
    started = time.monotonic()
    try:
        result = _apply_twice(
            store, flow, policy, region, allowed=allowed, confirm=confirm_deletions
        )
    except FlowHeld as held:
        return _settled(store, held.result, "held", str(held), started)
    except FlowSuperseded as superseded:
        result = FlowResult(flow.id, flow.source, _kind(flow.kind), FlowCounts())
        return _settled(store, result, "superseded", str(superseded), started)
    except FlowNotPending:
        raise
    except Exception as exc:
        _fail(store, flow, exc, started)
        if isinstance(exc, HubError):
            exc.add_note(f"flow {flow_id} from source {flow.source!r}: nothing of it was applied")
            raise
        raise FlowError(
            f"flow {flow_id} of {flow.source!r} could not be stored ({exc.__class__.__name__}: "
            f"{exc}); nothing of it was applied",
            hint="fix the cause (see the hub's log), then `hub replay` the flow",
        ) from exc
    metrics.record_flow(result, seconds=time.monotonic() - started)
    return result


def _apply_twice(
    store: Store,
    flow: FlowRow,
    policy: Policy,
    region: str | None,
    *,
    allowed: tuple[str, ...],
    confirm: bool,
) -> FlowResult:
    """The fast read first; should it not vouch for the flow, the streaming parser decides."""
    try:
        return _apply_once(store, flow, policy, region, allowed=allowed, confirm=confirm)
    except SplitMismatch as exc:
        log.info("flow read again by the streaming parser", flow_id=flow.id, reason=exc.reason)
        return _apply_once(
            store, flow, policy, region, allowed=allowed, confirm=confirm, fast=False
        )


def _apply_once(
    store: Store,
    flow: FlowRow,
    policy: Policy,
    region: str | None,
    *,
    allowed: tuple[str, ...] = ("received",),
    confirm: bool = False,
    fast: bool = True,
    dry_run: bool = False,
) -> FlowResult:
    with write_transaction(store.engine) as connection:
        if not dry_run:
            current = load_flow(connection, flow.id, lock=True)
            if current is None or current.status not in allowed:
                raise FlowNotPending(
                    f"flow {flow.id} is {current.status if current else 'gone'}: not applied again"
                )
        applier = FlowApplier(
            connection, source=flow.source, region=region, flow_id=flow.id, batch_size=200
        )
        guard = guard_for(connection, flow, _mentions(policy, region))
        applier.protects = guard.protects
        reading = FlowReading(flow.parts, policy, source=flow.source, region=region, fast=fast)
        result = FlowResult(flow.id, flow.source, _kind(flow.kind), FlowCounts(), dry_run=dry_run)
        live_before = applier.live_count() if flow.kind == "snapshot" else 0
        seen = _apply_records(applier, reading, result)
        applier.counts.rejected += len(
            {(e.file, e.line) for e in reading.findings if e.stage == "convert"}
        )  # spreadsheet rows that made no formation
        _delete(
            applier, reading, result,
            seen=seen, live_before=live_before, policy=policy, confirm=confirm,
        )  # fmt: skip
        result.counts = applier.finish()
        result.lheo_version, result.encoding = reading.version, reading.encoding
        result.rejections = reading.findings + result.rejections
        result.summaries = reading.summaries
        mark_applied(
            connection,
            flow.id,
            counts=result.counts.as_dict(),
            lheo_version=result.lheo_version,
            encoding=result.encoding,
            findings=result.rejections,
        )
        if dry_run:
            connection.rollback()
    return result


def _mentions(policy: Policy, region: str | None) -> Callable[[FlowRow], set[str]]:
    """What a newer flow of the same source spoke of, read from its archived files."""

    def mentions(other: FlowRow) -> set[str]:
        reading = FlowReading(
            other.parts, policy, source=other.source, region=region, fast=False, validate=False
        )
        numeros = {record.numero for record, _ in reading.records() if record.numero}
        return numeros | set(reading.deletions)

    return mentions


def _apply_records(applier: FlowApplier, reading: FlowReading, result: FlowResult) -> set[str]:
    seen: dict[str, int] = {}
    for record, mapped in reading.records(applier):
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
        if record.flags:
            result.rejections.extend(flag_findings(record))
    return set(seen)


def _delete(
    applier: FlowApplier,
    reading: FlowReading,
    result: FlowResult,
    *,
    seen: set[str],
    live_before: int,
    policy: Policy,
    confirm: bool,
) -> None:
    """Explicit deletions, then a snapshot's deletions by absence (or hold it)."""
    unknown = applier.tombstone(reading.deletions)
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
    applier.counts.rejected += len(unknown)
    if result.kind != "snapshot":
        return
    absent = applier.absent(seen)
    limit = max(policy.hold_share * live_before, policy.hold_min)
    if absent and len(absent) > limit and not confirm:
        counts = applier.counts
        result.counts = FlowCounts(**{**counts.as_dict(), "deleted": len(absent)})
        raise FlowHeld(
            f"this snapshot would delete {len(absent)} of the {live_before} formations "
            f"{result.source!r} holds ({len(absent) / max(live_before, 1):.0%}), past the "
            f"limit of {policy.hold_share:.0%} and {policy.hold_min} formations: held, "
            "nothing applied",
            result=result,
        )
    applier.tombstone_rows(absent)


def _settled(
    store: Store, result: FlowResult, status: str, note: str, started: float
) -> FlowResult:
    """Record a flow held or superseded (nothing of it applied), and say so in the result."""
    counts = result.counts.as_dict() if status == "held" else None
    settle(store.engine, result.flow_id, status, note=note, counts=counts)
    result.status, result.note = status, note
    metrics.record_failed_flow(result.source, seconds=time.monotonic() - started, outcome=status)
    log.warning(f"flow {status}", flow_id=result.flow_id, source=result.source, note=note)
    return result


def _fail(store: Store, flow: FlowRow, exc: Exception, started: float) -> None:
    """Mark a flow failed with why; a store too broken to say so leaves it received."""
    if isinstance(exc, LheoError):
        finding = RecordError(None, exc.line, exc.path or "/", exc.reason, stage="parse")
        error = str(exc)
    else:
        finding = RecordError(
            None, None, "/", f"the store refused the flow: {exc.__class__.__name__}", "store"
        )
        error = f"{exc.__class__.__name__}: {exc}"
    try:
        settle(store.engine, flow.id, "failed", error=error, findings=[finding])
    except Exception:
        log.exception("flow could not be marked failed; it stays received", flow_id=flow.id)
    metrics.record_failed_flow(flow.source, seconds=time.monotonic() - started)


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
            file=record.file,
        )
    if len(record.numero) > MAX_NUMERO_LENGTH:
        return RecordError(
            record.numero[:40] + "…",
            record.line,
            path,
            f"numero longer than {MAX_NUMERO_LENGTH} characters",
            stage="identity",
            file=record.file,
        )
    return None


def _kind(kind: object) -> FlowKind:
    return "snapshot" if kind == "snapshot" else "delta"


def ingest(
    store: Store,
    stream: IO[bytes],
    *,
    source: str,
    region: str | None = None,
    kind: FlowKind = "delta",
    dry_run: bool = False,
    settings: Settings | None = None,
    name: str | None = None,
    content_type: str | None = None,
    connector: str | None = None,
) -> FlowResult:
    """Archive then apply one file as a flow: the whole path for a file or a push.

    ``connector`` names the dialect that reads it (a spreadsheet, say); plain LHEO by default.
    """
    if dry_run:
        return _dry_run(
            store, stream, source=source, region=region, kind=kind, settings=settings,
            name=name, content_type=content_type, connector=connector,
        )  # fmt: skip
    ensure_source(store, source, region)
    part = archive_part(
        store.archive_dir,
        source,
        read_stream(stream),
        name=name or f"{source}.xml",
        content_type=content_type,
    )
    flow_id = receive(store, source, [part], kind, connector=connector)
    return apply(store, flow_id, settings=settings)


def _dry_run(
    store: Store,
    stream: IO[bytes],
    *,
    source: str,
    region: str | None,
    kind: FlowKind,
    settings: Settings | None,
    name: str | None,
    content_type: str | None,
    connector: str | None,
) -> FlowResult:
    """Read, map and apply in a transaction that is rolled back.

    The bytes go to a scratch folder, not the archive, and no flow row is committed, so a
    dry run leaves nothing that a later resume could apply for real.
    """
    with tempfile.TemporaryDirectory(prefix="hub-dry-run-") as scratch:
        part = archive_part(
            Path(scratch), source, read_stream(stream), name=name or f"{source}.xml",
            content_type=content_type,
        )  # fmt: skip
        return dry_run_parts(
            store, source=source, region=region, kind=kind, parts=(part,),
            settings=settings, connector=connector,
        )  # fmt: skip


def dry_run_parts(
    store: Store,
    *,
    source: str,
    region: str | None,
    kind: FlowKind,
    parts: tuple[Part, ...],
    settings: Settings | None = None,
    connector: str | None = None,
) -> FlowResult:
    """Apply files already archived (in a scratch folder) and roll everything back."""
    if region is None:
        with store.engine.connect() as connection:
            region = source_region(connection, source)
    now = utcnow()
    flow = FlowRow(new_flow_id(), source, kind, "received", connector, now, now, None, parts)
    policy = policy_for(settings, source, connector, region)
    try:
        return _apply_once(store, flow, policy, region, dry_run=True)
    except SplitMismatch:
        return _apply_once(store, flow, policy, region, dry_run=True, fast=False)
    except FlowHeld as held:
        held.result.status, held.result.note = "held", str(held)
        held.result.dry_run = True
        return held.result


def discard(store: Store, flow_id: str, *, reason: str) -> None:
    """Drop a held flow for good: its files stay archived, nothing of it is applied."""
    if not settle(store.engine, flow_id, "discarded", note=reason, only_if=("held",)):
        raise FlowNotPending(f"flow {flow_id} is not held: only a held flow can be discarded")
