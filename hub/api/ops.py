"""Operating the hub over HTTP: ``/metrics``, the health JSON, and the admin actions.

- ``GET /metrics``: Prometheus text exposition (see `hub.ops.metrics`).
- ``GET /v1/status``: the sync-health model of every source, as JSON (read-only).
- Admin endpoints, behind the admin token (``Authorization: Bearer <token>``):
  ``POST /v1/admin/sources/{source}/sync`` runs a source now;
  ``POST /v1/admin/flows/{flow_id}/replay`` re-applies a stored flow (`hub.pipeline.replay`);
  ``GET /v1/admin/flows/{flow_id}`` and ``.../rejections`` describe a flow and its
  rejected records; ``GET /v1/admin/flows/{flow_id}/raw`` downloads its raw archive.

The dashboard (`hub.api.dashboard`) uses the same functions for its pages and buttons.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from hub.api.auth import require_admin
from hub.api.problems import problem
from hub.api.state import app_settings, app_store
from hub.ops import metrics
from hub.ops.health import SourceHealth, health_of
from hub.ops.scheduler import RunOutcome, SyncFunction, pulled, start_run
from hub.store import Store
from hub.store.models import utcnow
from hub.store.tokens import Principal

router = APIRouter(tags=["operations"])
admin = APIRouter(prefix="/v1/admin", tags=["operations"])
AdminPrincipal = Annotated[Principal, Depends(require_admin)]
RUN_NOW_WAIT_SECONDS = 1.0


def problem_responses(**described: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem+json answers an endpoint can give."""
    base = {"401": "Missing, unknown or revoked token", "403": "Not an admin token"}
    return {
        int(status): {"description": text, "content": {"application/problem+json": {}}}
        for status, text in {**base, **described}.items()
    }


UNKNOWN_FLOW = problem_responses(**{"404": "No such flow"})


def health(request: Request) -> list[SourceHealth]:
    """Every source's health now (``app.state.clock`` may say when "now" is, for tests)."""
    clock: Callable[[], datetime] = getattr(request.app.state, "clock", utcnow)
    return health_of(app_store(request), app_settings(request), now=clock())


def not_found(what: str) -> JSONResponse:
    return problem(404, "Not found", f"no {what} in the store", hint="see `hub flows` or /")


def sync_function(request: Request) -> SyncFunction:
    """How this app syncs a source: ``app.state.sync``, set by ``create_app``."""
    sync: SyncFunction = request.app.state.sync
    return sync


def runnable(request: Request, source: str) -> bool:
    """Whether ``source`` is configured, enabled and pulled (a push source has nothing to run)."""
    configured = app_settings(request).sources.get(source)
    return configured is not None and pulled(configured)


def run_now(request: Request, source: str) -> RunOutcome:
    """Start ``source`` in the background; wait a moment to report a busy source at once."""
    outcome = start_run(app_store(request), source, sync_function(request), trigger="manual")
    outcome.finished.wait(RUN_NOW_WAIT_SECONDS)
    return outcome


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def health_json(source: SourceHealth) -> dict[str, Any]:
    """One source's health with plain JSON types (durations in seconds)."""
    data: dict[str, Any] = jsonable(asdict(source))
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
    body = metrics.exposition(lambda: health(request), app_store(request))
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
        **problem_responses(**{"404": "No such configured source", "409": "The source is running"}),
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
