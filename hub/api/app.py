"""The hub's HTTP API: portals pull the feed, regions push, operators watch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

import hub
from hub.api import dashboard, feed, flows, ops, push, stats
from hub.api.auth import access_refused_handler
from hub.api.middleware import RequestMetrics
from hub.api.problems import hub_error_handler, problem
from hub.errors import AccessRefused, HubError
from hub.ops import metrics
from hub.ops.scheduler import hub_sync
from hub.settings import Settings
from hub.store import Store
from hub.store.db import migrations_current

STATIC_DIR = Path(__file__).with_name("static")


def create_app(settings: Settings, store: Store) -> FastAPI:
    app = FastAPI(
        title="LHEO sync hub",
        version=hub.__version__,
        description=(
            "The national consolidated training offer, in LHEO 2.3, kept in step with the regions."
        ),
    )
    app.state.settings = settings
    app.state.store = store
    metrics.install()  # this process's events feed /metrics
    app.add_exception_handler(HubError, hub_error_handler)
    app.add_exception_handler(AccessRefused, access_refused_handler)
    app.include_router(feed.router)
    app.include_router(push.router)
    app.include_router(stats.router)
    # Operations: /metrics, /v1/status, admin actions, and the dashboard at /.
    app.state.sync = hub_sync(store, settings)
    app.include_router(ops.router)
    app.include_router(ops.admin)
    app.include_router(flows.admin)
    app.include_router(dashboard.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(RequestMetrics)

    @app.get("/healthz", tags=["operations"], summary="The process is alive")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], summary="Database reachable and migrations current")
    def readyz(request: Request) -> Any:
        try:
            current = migrations_current(store.engine)  # reads the schema's version
        except Exception as exc:  # any database failure means "not ready", said plainly
            return problem(503, "Not ready", f"database unreachable: {exc.__class__.__name__}")
        if not current:
            return problem(
                503,
                "Not ready",
                "database schema is not at the latest migration",
                hint="run `hub migrate`",
            )
        if (archive_problem := ops.archive_ready(store)) is not None:
            return problem(503, "Not ready", archive_problem, hint="fix HUB_ARCHIVE_DIR")
        return JSONResponse({"status": "ready"})

    return app
