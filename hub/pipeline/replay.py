"""Replaying a stored flow, resuming one a crash left received, applying a held one.

Each runs under its source's lock as a recorded run (:mod:`hub.store.runs`).

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

import time
from collections.abc import Callable

import structlog
from structlog.contextvars import bound_contextvars

from hub.errors import FlowError, FlowNotPending, LheoError, SourceBusy
from hub.pipeline.apply import apply
from hub.pipeline.ingest import FlowKind, FlowResult, receive
from hub.settings import Settings
from hub.store import Store
from hub.store.flows import FlowRow, later_applied, load_flow, pending_flows
from hub.store.runs import recorded_run, replica_id, source_lock

log = structlog.get_logger(__name__)


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
    with bound_contextvars(source=flow.source, stage="replay", replay_of=flow_id):
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
        bound_contextvars(source=flow.source, stage=trigger, flow_id=flow.id),
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
    with bound_contextvars(source=source, stage="resume", flow_id=flow_id):
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
    with bound_contextvars(source=flow.source, stage="apply", flow_id=flow_id):
        log.info(f"held flow {result.status}", **result.counts.as_dict())
    return result
