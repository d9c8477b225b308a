"""The sync-health dashboard: server-rendered HTML, in French, with nothing from outside.

Its users are the RCO's integration team, so the page speaks French; code, logs and
field names stay English. Everything it needs is served by the hub itself (one style
sheet, inline SVG charts, no script): it works with the network unplugged.

Pages: ``/`` (one row per source, unmapped codes, key figures per region, recent flows),
``/sources/{name}`` (a source's flows and runs), ``/flows/{flow_id}`` (the drill-down: each
rejected record with numero, element path, line and reason, and the raw flow to download).
Viewing is read-only and open like ``/metrics``; the two buttons (run a source now, replay
a flow) post the admin token in the form, checked like the API's bearer token.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool

from hub.api import figures, flows, ops
from hub.api.auth import log_refusal
from hub.api.figures import (
    bar_chart,
    fr_duration,
    fr_number,
    fr_percent,
    fr_schedule,
    sparkline,
)
from hub.api.state import app_settings, app_store
from hub.errors import ConfigError, FlowError, SourceBusy
from hub.ops.health import SourceHealth
from hub.publish.publishers.config import load_publishers
from hub.publish.publishers.status import PublisherStatus, publisher_status
from hub.settings import Settings
from hub.store import Store
from hub.store.models import utcnow
from hub.store.tokens import verify

router = APIRouter(include_in_schema=False)
MAX_FORM_BYTES = 4096

STATUS_LABELS = {
    "ok": "à jour",
    "held": "en attente",
    "stale": "en retard",
    "failing": "en échec",
    "never": "jamais synchronisée",
}
NOTICES = {
    "run-started": "Synchronisation lancée.",
    "run-finished": "Synchronisation terminée.",
    "run-busy": "Cette source est déjà en cours de synchronisation : rien n'a été lancé.",
    "replayed": "Flux rejoué : voici le nouveau flux.",
    "applied": "Flux appliqué, suppressions confirmées.",
    "discarded": "Flux écarté : rien n'en a été appliqué ; ses fichiers restent archivés.",
}


def _status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def _fr_datetime(moment: datetime | None) -> str:
    return "—" if moment is None else f"{moment:%d/%m/%Y %H:%M} UTC"


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("hub.api", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    filters: dict[str, Callable[..., str]] = {
        "fr_datetime": _fr_datetime,
        "fr_duration": fr_duration,
        "fr_number": fr_number,
        "fr_percent": fr_percent,
        "fr_schedule": fr_schedule,
        "status_label": _status_label,
        "quote": lambda value: quote(str(value), safe=""),
    }
    env.filters.update(filters)
    env.globals.update(sparkline=sparkline, bar_chart=bar_chart)
    return env


TEMPLATES = _environment()


def _render(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = TEMPLATES.get_template(name).render(generated_at=utcnow(), **context)
    return HTMLResponse(html, status_code=status_code)


def _summary(sources: list[SourceHealth]) -> dict[str, int]:
    return {status: sum(s.status == status for s in sources) for status in STATUS_LABELS}


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, notice: str | None = None) -> HTMLResponse:
    store, settings = app_store(request), app_settings(request)
    sources = ops.health(request)
    regions, names = figures.region_counts(store), figures.region_names()
    return _render(
        "dashboard.html",
        sources=sources,
        summary=_summary(sources),
        runnable={name for name in settings.sources if ops.runnable(request, name)},
        warning=settings.health.rejection_rate_warning,
        unmapped=figures.unmapped_codes(store),
        regions=regions,
        region_sessions={
            f"{r.region} {names.get(r.region, '')}".strip(): r.sessions for r in regions
        },
        key_figures=figures.language_key_figures(store),
        region_names=names,
        recent=figures.recent_flows(store, limit=15),
        partners=_partners(store, settings),
        notice=NOTICES.get(notice or ""),
    )


def _partners(store: Store, settings: Settings) -> list[PublisherStatus]:
    """The publishers' ledgers, so deliveries show alongside the sources."""
    try:
        configs = load_publishers(settings)
    except ConfigError:
        configs = {}  # a broken publisher config is reported by `hub publishers`, not here
    return publisher_status(store, configs)


@router.get("/sources/{name}", response_class=HTMLResponse)
def source_page(request: Request, name: str, notice: str | None = None) -> HTMLResponse:
    source = next((s for s in ops.health(request) if s.name == name), None)
    if source is None:
        return _render("missing.html", 404, what=f"la source « {name} »")
    return _render(
        "source.html",
        source=source,
        runs=figures.recent_runs(app_store(request), name, limit=30),
        runnable=ops.runnable(request, name),
        warning=app_settings(request).health.rejection_rate_warning,
        notice=NOTICES.get(notice or ""),
    )


@router.get("/flows/{flow_id}", response_class=HTMLResponse)
def flow_page(request: Request, flow_id: str, notice: str | None = None) -> HTMLResponse:
    detail = flows.flow_detail(app_store(request), flow_id)
    if detail is None:
        return _render("missing.html", 404, what=f"le flux « {flow_id} »")
    return _render(
        "flow.html",
        flow=detail,
        replay_of=figures.replay_origin(app_store(request), flow_id),
        notice=NOTICES.get(notice or ""),
    )


@router.get("/flows/{flow_id}/raw")
def flow_raw(request: Request, flow_id: str, part: int = 0) -> Response:
    return flows.raw_flow(app_store(request), flow_id, part)


async def _admin_form(request: Request, action: str) -> HTMLResponse | None:
    """None when the form carries a live admin token; else the refusal page (logged)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:  # a token and nothing else: stop reading anything bigger
            log_refusal(request, 413, "form too large", action=action)
            reason = "Formulaire trop volumineux."
            return _render("refused.html", 413, action=action, reason=reason)
    form = parse_qs(body.decode("utf-8", "replace"))
    token = (form.get("token") or [""])[0].strip()
    principal = await run_in_threadpool(verify, app_store(request).engine, token) if token else None
    if principal is not None and principal.scope == "admin":
        return None
    reason = "no token in the form" if not token else "not a live admin token"
    who = principal.token_id if principal is not None else "anonymous"
    log_refusal(request, 403, reason, who=who, action=action)
    return _render("refused.html", 403, action=action)


@router.post("/sources/{name}/run")
async def run_source_now(request: Request, name: str) -> Response:
    if (refused := await _admin_form(request, "lancer une synchronisation")) is not None:
        return refused
    if not ops.runnable(request, name):
        return _render("missing.html", 404, what=f"la source configurée « {name} »")
    outcome = await run_in_threadpool(ops.run_now, request, name)
    notice = {"skipped": "run-busy", "running": "run-started"}.get(outcome.outcome, "run-finished")
    return RedirectResponse(f"/sources/{quote(name)}?notice={notice}", status_code=303)


async def _flow_action(
    request: Request,
    flow_id: str,
    action: str,
    work: Callable[[Request, str], Any],
    notice: str,
) -> Response:
    """An admin's button on a flow's page: check the form, do it, say how it went."""
    if (refused := await _admin_form(request, action)) is not None:
        return refused
    if flows.flow_detail(app_store(request), flow_id, limit=0) is None:
        return _render("missing.html", 404, what=f"le flux « {flow_id} »")
    try:
        result = await run_in_threadpool(work, request, flow_id)
    except SourceBusy:
        return RedirectResponse(f"/flows/{quote(flow_id)}?notice=run-busy", status_code=303)
    except FlowError as exc:
        return _render("refused.html", 409, action=action, reason=str(exc))
    target = getattr(result, "flow_id", None) or flow_id
    return RedirectResponse(f"/flows/{quote(target)}?notice={notice}", status_code=303)


@router.post("/flows/{flow_id}/replay")
async def replay_flow_now(request: Request, flow_id: str) -> Response:
    return await _flow_action(request, flow_id, "rejouer un flux", flows.replay, "replayed")


@router.post("/flows/{flow_id}/apply")
async def apply_held_now(request: Request, flow_id: str) -> Response:
    """Apply a held snapshot, its deletions confirmed by an admin."""
    action = "appliquer un instantané en attente"
    return await _flow_action(request, flow_id, action, flows.apply_held, "applied")


@router.post("/flows/{flow_id}/discard")
async def discard_held_now(request: Request, flow_id: str) -> Response:
    """Drop a held snapshot for good (its files stay archived)."""
    action = "écarter un instantané en attente"
    return await _flow_action(request, flow_id, action, flows.discard_held, "discarded")
