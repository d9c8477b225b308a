"""Operating the hub over HTTP: ``/metrics``, the health JSON, and the admin actions.

- ``GET /metrics``: Prometheus text exposition (see `hub.metrics`).
- ``GET /v1/status``: the sync-health model of every source, as JSON (read-only).
- Admin endpoints, behind the admin token (``Authorization: Bearer <token>``):
  ``POST /v1/admin/sources/{source}/sync`` runs a source now;
  ``POST /v1/admin/flows/{flow_id}/replay`` re-applies a stored flow (`hub.runs`);
  ``GET /v1/admin/flows/{flow_id}`` and ``.../rejections`` describe a flow and its
  rejected records; ``GET /v1/admin/flows/{flow_id}/raw`` downloads its raw archive.

The dashboard (`hub.api.dashboard`) uses the same functions for its pages and buttons.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connectors.registry import connector_class
from hub import metrics
from hub.api.problems import problem
from hub.auth import Principal, require_admin
from hub.errors import KEPT_STAGES, FlowError
from hub.ingest import FlowResult, discard
from hub.runs import apply_confirmed, replay_flow
from hub.scheduler import RunOutcome, SyncFunction, start_run
from hub.settings import Settings
from hub.status import FlowPoint, SourceHealth, flow_point, health_of
from hub.store import Store
from hub.store.archive import CHUNK, open_archived
from hub.store.flows import FLOWS, PARTS, REJECTIONS
from hub.store.models import utcnow

router = APIRouter(tags=["operations"])
admin = APIRouter(prefix="/v1/admin", tags=["operations"])
AdminPrincipal = Annotated[Principal, Depends(require_admin)]
RUN_NOW_WAIT_SECONDS = 1.0


def _problems(**described: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem+json answers an endpoint can give."""
    base = {"401": "Missing, unknown or revoked token", "403": "Not an admin token"}
    return {
        int(status): {"description": text, "content": {"application/problem+json": {}}}
        for status, text in {**base, **described}.items()
    }


UNKNOWN_FLOW = _problems(**{"404": "No such flow"})


@dataclass(frozen=True, slots=True)
class Rejection:
    numero: str | None
    line: int | None
    path: str
    reason: str
    stage: str
    file: str | None = None


@dataclass(frozen=True, slots=True)
class RejectedRecord:
    """One record of a flow and every reason it was rejected (or flagged) for."""

    numero: str | None
    line: int | None
    file: str | None
    reasons: list[Rejection]


@dataclass(frozen=True, slots=True)
class FilePart:
    """One file of a flow as the region sent it."""

    position: int
    name: str
    role: str | None
    url: str | None
    http_status: int | None
    etag: str | None
    last_modified: str | None
    content_type: str | None
    sha256: str
    size_bytes: int


@dataclass(frozen=True, slots=True)
class FlowDetail:
    """One flow, for the drill-down: what it was, what it did, what it rejected."""

    source: str
    point: FlowPoint
    lheo_version: str | None
    encoding: str | None
    """As the region's file declares it."""
    connector: str | None
    replay_of: str | None
    note: str | None
    parts: list[FilePart]
    rejections: list[Rejection]
    """Findings on rejected records, in line order (a page of them)."""
    rejections_total: int
    flags: list[Rejection]
    """Findings on records that were kept: flags and repairs."""

    @property
    def rejected_records(self) -> list[RejectedRecord]:
        """The page's rejections grouped by record: a record rejected twice shows once."""
        grouped: dict[tuple[str | None, int | None, str | None], list[Rejection]] = {}
        for rejection in self.rejections:
            key = (rejection.file, rejection.line, rejection.numero)
            grouped.setdefault(key, []).append(rejection)
        return [
            RejectedRecord(numero, line, file, reasons)
            for (file, line, numero), reasons in grouped.items()
        ]


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def health(request: Request) -> list[SourceHealth]:
    """Every source's health now (``app.state.clock`` may say when "now" is, for tests)."""
    clock: Callable[[], datetime] = getattr(request.app.state, "clock", utcnow)
    return health_of(_store(request), _settings(request), now=clock())


def flow_detail(
    store: Store, flow_id: str, *, limit: int = 500, offset: int = 0
) -> FlowDetail | None:
    """A flow, its files and a page of its findings (in line order); None if unknown."""
    with store.engine.connect() as connection:
        row = connection.execute(select(FLOWS).where(FLOWS.c.id == flow_id)).mappings().first()
        if row is None:
            return None
        r = REJECTIONS.c
        rejected = (r.flow_id == flow_id) & r.stage.not_in(KEPT_STAGES)
        total = connection.execute(select(func.count()).select_from(REJECTIONS).where(rejected))
        order = (r.file.is_(None), r.file, r.line.is_(None), r.line, r.id)
        page = connection.execute(
            select(REJECTIONS).where(rejected).order_by(*order).limit(limit).offset(offset)
        ).mappings()
        rejections = [_rejection(found) for found in page]
        flagged = connection.execute(
            select(REJECTIONS)
            .where((r.flow_id == flow_id) & r.stage.in_(KEPT_STAGES))
            .order_by(*order)
            .limit(limit)
        ).mappings()
        flags = [_rejection(found) for found in flagged]
        parts = connection.execute(
            select(PARTS).where(PARTS.c.flow_id == flow_id).order_by(PARTS.c.position)
        ).mappings()
        files = [
            FilePart(
                p["position"], p["name"], p["role"], p["url"], p["http_status"], p["etag"],
                p["last_modified"], p["content_type"], p["sha256"], int(p["size_bytes"]),
            )
            for p in parts
        ]  # fmt: skip
        return FlowDetail(
            source=row["source"],
            point=flow_point(row),
            lheo_version=row["lheo_version"],
            encoding=row["encoding"],
            connector=row["connector"],
            replay_of=row["replay_of"],
            note=row["note"],
            parts=files,
            rejections=rejections,
            rejections_total=int(total.scalar_one()),
            flags=flags,
        )


def _rejection(row: Any) -> Rejection:
    return Rejection(
        row["numero"], row["line"], row["path"], row["reason"], row["stage"], row["file"]
    )


def not_found(what: str) -> JSONResponse:
    return problem(404, "Not found", f"no {what} in the store", hint="see `hub flows` or /")


def raw_flow(store: Store, flow_id: str, part: int = 0) -> Response:
    """One file of the flow, byte for byte as the region sent it, under its own name."""
    with store.engine.connect() as connection:
        found = (
            connection.execute(
                select(PARTS).where(PARTS.c.flow_id == flow_id, PARTS.c.position == part)
            )
            .mappings()
            .first()
        )
    if found is None:
        return not_found(f"file {part} of flow {flow_id!r}")
    path = Path(found["archive_path"])
    if not path.is_file():
        raise FlowError(
            f"the archived file {found['name']!r} of flow {flow_id} is missing",
            hint="restore the archive volume (HUB_ARCHIVE_DIR) from its backup",
        )
    name = str(found["name"]).rsplit("/", 1)[-1] or f"{flow_id}.xml"
    media = found["content_type"] or mimetypes.guess_type(name)[0] or "application/octet-stream"
    return StreamingResponse(
        _inflated(path),
        media_type=media,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            "Content-Length": str(found["size_bytes"]),
            "X-Content-SHA256": found["sha256"],
        },
    )


def _inflated(path: Path) -> Iterator[bytes]:
    with open_archived(path) as stream:
        while chunk := stream.read(CHUNK):
            yield chunk


def sync_function(request: Request) -> SyncFunction:
    """How this app syncs a source: ``app.state.sync``, set by ``create_app``."""
    sync: SyncFunction = request.app.state.sync
    return sync


def runnable(request: Request, source: str) -> bool:
    """Whether ``source`` is configured, enabled and pulled (a push source has nothing to run)."""
    configured = _settings(request).sources.get(source)
    if configured is None or not configured.enabled:
        return False
    return connector_class(configured.connector, source=configured).transport != "push"


def run_now(request: Request, source: str) -> RunOutcome:
    """Start ``source`` in the background; wait a moment to report a busy source at once."""
    outcome = start_run(_store(request), source, sync_function(request), trigger="manual")
    outcome.finished.wait(RUN_NOW_WAIT_SECONDS)
    return outcome


def replay(request: Request, flow_id: str) -> FlowResult:
    return replay_flow(_store(request), flow_id, settings=_settings(request))


def apply_held(request: Request, flow_id: str) -> FlowResult:
    """Apply a held snapshot with its deletions, under its source's lock."""
    return apply_confirmed(_store(request), flow_id, settings=_settings(request))


def discard_held(request: Request, flow_id: str) -> None:
    discard(
        _store(request), flow_id, reason="écarté par un administrateur depuis le tableau de bord"
    )


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value


def health_json(source: SourceHealth) -> dict[str, Any]:
    """One source's health with plain JSON types (durations in seconds)."""
    data: dict[str, Any] = _json(asdict(source))
    data.update(
        staleness_seconds=source.staleness.total_seconds(),
        lag_seconds=source.lag.total_seconds() if source.lag is not None else None,
        rejection_rate=source.rejection_rate,
        running=source.running,
    )
    del data["staleness"], data["lag"]
    return data


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics_endpoint(request: Request) -> Response:
    body = metrics.exposition(lambda: health(request), _store(request))
    return Response(body, media_type=CONTENT_TYPE_LATEST)


@router.get("/v1/status", summary="Sync health of every source (the dashboard's model)")
def status_endpoint(request: Request) -> dict[str, Any]:
    return {"sources": [health_json(source) for source in health(request)]}


@admin.post(
    "/sources/{source}/sync",
    summary="Run a source's sync now",
    status_code=202,
    responses={
        200: {"description": "The run ended within a second: its outcome"},
        **_problems(**{"404": "No such configured source", "409": "The source is running"}),
    },
)
def sync_endpoint(request: Request, source: str, _: AdminPrincipal) -> Response:
    if not runnable(request, source):
        return not_found(f"configured source {source!r} (see config/regions)")
    outcome = run_now(request, source)
    body = {
        "source": source,
        "outcome": outcome.outcome,
        "run_id": outcome.run_id,
        "flow_id": outcome.flow_id,
        "error": outcome.error,
    }
    if outcome.outcome == "skipped":
        return problem(
            409,
            "Source busy",
            f"source {source!r} is already running (here or on another replica)",
            source=source,
            hint="wait for the run to end; its outcome shows on the dashboard",
        )
    return JSONResponse(body, status_code=202 if outcome.outcome == "running" else 200)


@admin.post(
    "/flows/{flow_id}/replay",
    summary="Apply a stored flow again, as a new flow",
    responses=_problems(**{"404": "No such flow", "409": "Source running, or an old snapshot"}),
)
def replay_endpoint(request: Request, flow_id: str, _: AdminPrincipal) -> Any:
    if flow_detail(_store(request), flow_id, limit=0) is None:
        return not_found(f"flow {flow_id!r}")
    result = replay(request, flow_id)
    return {
        "flow_id": result.flow_id,
        "replay_of": flow_id,
        "source": result.source,
        "kind": result.kind,
        "counts": result.counts.as_dict(),
        "rejections": [asdict(error) for error in result.rejections],
    }


@admin.get(
    "/flows/{flow_id}", summary="A flow: what it was and what it did", responses=UNKNOWN_FLOW
)
def flow_endpoint(request: Request, flow_id: str, _: AdminPrincipal) -> Any:
    detail = flow_detail(_store(request), flow_id, limit=0)
    if detail is None:
        return not_found(f"flow {flow_id!r}")
    data: dict[str, Any] = _json(asdict(detail))
    data["rejection_rate"] = detail.point.rejection_rate
    del data["rejections"], data["flags"]
    return data


@admin.get(
    "/flows/{flow_id}/rejections",
    summary="The rejected records of a flow",
    responses=UNKNOWN_FLOW,
)
def rejections_endpoint(
    request: Request,
    flow_id: str,
    _: AdminPrincipal,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Any:
    detail = flow_detail(_store(request), flow_id, limit=limit, offset=offset)
    if detail is None:
        return not_found(f"flow {flow_id!r}")
    return {
        "flow_id": flow_id,
        "total": detail.rejections_total,
        "records": detail.point.counts["rejected"],
        "rejections": [asdict(r) for r in detail.rejections],
        "flags": [asdict(r) for r in detail.flags],
    }


@admin.get(
    "/flows/{flow_id}/raw",
    summary="Download one file of a flow, byte for byte as the region sent it",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}},
        **_problems(**{"404": "No such flow or file", "409": "The archived file is missing"}),
    },
)
def raw_endpoint(
    request: Request,
    flow_id: str,
    _: AdminPrincipal,
    part: Annotated[int, Query(ge=0, le=1000, description="Which file of the flow")] = 0,
) -> Response:
    return raw_flow(_store(request), flow_id, part)


class RequestMetrics:
    """ASGI middleware counting feed and push requests and the bytes they move.

    Pure ASGI (not ``BaseHTTPMiddleware``) so streamed feed responses are counted as they
    are sent, without being buffered. Labels stay bounded: the feed endpoint's last path
    segment, and the push source only once the request got past authentication.
    """

    FEED_ENDPOINTS = ("lheo", "changes", "geojson", "csv")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(("/v1/feed/", "/v1/push/")):
            await self.app(scope, receive, send)
            return
        seen = {"status": 500, "request": 0, "response": 0}

        async def counting_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                seen["request"] += len(message.get("body", b""))
            return message

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = int(message["status"])
            elif message["type"] == "http.response.body":
                seen["response"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counting_receive, counting_send)
        finally:
            self._observe(path, scope, seen)

    def _observe(self, path: str, scope: Scope, seen: dict[str, int]) -> None:
        status = seen["status"]
        if path.startswith("/v1/feed/"):
            endpoint = path.removeprefix("/v1/feed/").split("/")[0]
            endpoint = endpoint if endpoint in self.FEED_ENDPOINTS else "other"
            metrics.observe_feed(endpoint, status, seen["response"])
            return
        source = str(scope.get("path_params", {}).get("source", "unknown"))
        if status in (401, 403, 404):  # unauthenticated names must not mint label values
            source = "unknown"
        metrics.observe_push(source, status, seen["request"], seen["response"])


def archive_ready(store: Store) -> str | None:
    """Why the raw-flow archive cannot take a flow now, or None when it can."""
    folder = store.archive_dir
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"archive directory {folder} cannot be created: {exc.strerror}"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"archive directory {folder} is not writable by this process"
    return None
