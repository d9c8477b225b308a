"""Applying one received flow: one read of its archived files, one transaction.

``apply`` reads the archived files through the source's dialect and applies every valid
formation in a single transaction that also marks the flow ``applied``: the store is
before or after the flow, never in between. Invalid formations are rejected one by one
with their file, line and path; a flow that is not readable LHEO is refused whole, and
any failure (a database refusal included) marks the flow ``failed`` with the reason.

Applying is time-safe (:mod:`hub.pipeline.guard`): a formation a newer flow of the source
spoke of is left as it is. A snapshot that would delete more than its source's limits is
*held* for an operator instead (``apply(..., confirm_deletions=True)`` or ``discard``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog

from hub.errors import (
    FlowError,
    FlowHeld,
    FlowNotPending,
    FlowSuperseded,
    HubError,
    LheoError,
    RecordError,
    SplitMismatch,
)
from hub.events import FlowEvent, emit
from hub.lheo.dialect import FlowKind, Part
from hub.lheo.record import FormationRecord
from hub.pipeline.guard import guard_for
from hub.pipeline.identity import identity_problem
from hub.pipeline.mapstage import formation_rows
from hub.pipeline.parallel import UNCHANGED
from hub.pipeline.policy import policy_for
from hub.pipeline.read import FlowReading, Policy, flag_findings
from hub.pipeline.result import FlowResult, as_flow_kind
from hub.settings import Settings
from hub.store import Store
from hub.store.archive import new_flow_id
from hub.store.db import write_transaction
from hub.store.flows import FlowRow, load_flow, mark_applied, settle
from hub.store.models import utcnow
from hub.store.records import FlowApplier
from hub.store.rows import FlowCounts, FormationRows
from hub.store.sources import source_region

__all__ = ["apply", "discard", "dry_run_parts"]

log = structlog.get_logger(__name__)


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
        result = held.result
        assert isinstance(result, FlowResult)
        return _settled(store, result, "held", str(held), started)
    except FlowSuperseded as superseded:
        result = FlowResult(flow.id, flow.source, as_flow_kind(flow.kind), FlowCounts())
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
    if not result.dry_run:
        counts = result.counts.as_dict()
        emit(FlowEvent(result.source, "applied", time.monotonic() - started, counts))
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
        result = FlowResult(
            flow.id, flow.source, as_flow_kind(flow.kind), FlowCounts(), dry_run=dry_run
        )
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
        problem = identity_problem(record, seen)
        if record.numero:
            seen.setdefault(record.numero, record.line)
        if problem:
            record.errors.append(problem)
        if record.errors:
            applier.counts.rejected += 1
            result.rejections.extend(record.errors)
        elif isinstance(mapped, FormationRows):
            applier.add(record, mapped)
        elif mapped is UNCHANGED:
            applier.counts.unchanged += 1
        else:
            applier.add(record, _mapped(record, applier))
        if record.flags:
            result.rejections.extend(flag_findings(record))
    return set(seen)


def _mapped(record: FormationRecord, applier: FlowApplier) -> FormationRows:
    """The map stage for a record read inline by the streaming parser."""
    assert record.element is not None
    return formation_rows(record.element, source=applier.source, region=applier.region)


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
    emit(FlowEvent(result.source, status, time.monotonic() - started))
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
    emit(FlowEvent(flow.source, "failed", time.monotonic() - started))


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
        result: FlowResult = held.result
        result.status, result.note, result.dry_run = "held", str(held), True
        return result


def discard(store: Store, flow_id: str, *, reason: str) -> None:
    """Drop a held flow for good: its files stay archived, nothing of it is applied."""
    if not settle(store.engine, flow_id, "discarded", note=reason, only_if=("held",)):
        raise FlowNotPending(f"flow {flow_id} is not held: only a held flow can be discarded")
