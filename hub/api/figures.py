"""What the dashboard shows beside the health rows, and how it writes numbers and charts.

Queries: unmapped codes per source (from the mapping issues kept per live formation),
store counts per region, the language-training key figures of `mappings.stats` over the
harmonised formations, recent flows and runs. Formatting: French numbers, percentages and
durations, and the geometry of the inline SVG sparklines and bar charts (no script, no
external library: the page must render with the network unplugged).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, select

from hub.ops import history
from hub.ops.history import FlowPoint, RunPoint
from hub.publish.feed import current_cursor
from hub.publish.stats import region_figures
from hub.publish.stats import region_names as published_region_names
from hub.store import Store
from hub.store.tables import ACTIONS, FORMATIONS, ISSUES, RUNS, SESSIONS
from mappings.stats import NATIONAL, RegionFigures

NARROW_NBSP = "\u202f"
UNKNOWN_REGION = "?"


# -- numbers and durations, the French way ------------------------------------------------


def fr_number(value: float | None) -> str:
    """``12 345`` (narrow no-break space between thousands), ``—`` for nothing."""
    if value is None:
        return "—"
    return f"{value:,.0f}".replace(",", NARROW_NBSP)


def fr_percent(rate: float | None) -> str:
    """``3,2 %``."""
    if rate is None:
        return "—"
    return f"{rate * 100:.1f}".replace(".", ",") + f"{NARROW_NBSP}%"


def fr_duration(span: timedelta | None) -> str:
    """``45 s``, ``12 min``, ``3 h 05``, ``2 j 4 h``."""
    if span is None:
        return "—"
    seconds = max(0, int(span.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} j {hours} h"
    if hours:
        return f"{hours} h {minutes:02d}"
    return f"{minutes} min" if minutes else f"{seconds} s"


# -- inline SVG geometry --------------------------------------------------------------


def sparkline(points: Sequence[FlowPoint], width: int = 140, height: int = 32) -> dict[str, Any]:
    """A polyline of formations received per flow, with a marker on each flow that failed
    or rejected records; oldest flow on the left."""
    pad = 3
    values = [p.counts["formations"] for p in points]
    top = max(values, default=0) or 1
    step = (width - 2 * pad) / max(len(points) - 1, 1)

    def y(value: int) -> float:
        return round(height - pad - (height - 2 * pad) * value / top, 1)

    coords = [(round(pad + i * step, 1), y(v)) for i, v in enumerate(values)]
    markers = [
        {
            "x": x,
            "y": y_,
            "kind": "failed" if p.status == "failed" else "rejected",
            "title": f"{p.flow_id} : {p.status}, {p.counts['rejected']} rejet(s)",
        }
        for (x, y_), p in zip(coords, points, strict=True)
        if p.status == "failed" or p.counts["rejected"]
    ]
    return {
        "width": width,
        "height": height,
        "points": " ".join(f"{x},{y_}" for x, y_ in coords),
        "markers": markers,
        "title": f"{len(points)} derniers flux",
    }


def fr_schedule(schedule: str | None) -> str:
    """``every 2h`` → ``toutes les 2 h``; a cron expression stays as written."""
    if schedule is None:
        return "envoi par la région (push)"
    if schedule.startswith("every "):
        span = schedule.removeprefix("every ")
        for unit, french in (("min", " min"), ("h", " h"), ("d", " j"), ("s", " s")):
            if span.endswith(unit):
                return f"toutes les {span.removesuffix(unit)}{french}"
    return schedule


def bar_chart(values: Mapping[str, int], width: int = 220) -> dict[str, Any]:
    """Horizontal bars scaled to the largest value, and room on the left for the labels."""
    top = max(values.values(), default=0) or 1
    label_width = 7 * max((len(label) for label in values), default=0) + 8
    return {
        "label_width": label_width,
        "width": label_width + width + 60,
        "rows": [
            {"label": label, "value": value, "width": round(width * value / top, 1)}
            for label, value in values.items()
        ],
    }


# -- queries ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnmappedCode:
    code: str
    """The kind of problem (``code-inconnu``, ``region-inconnue``...)."""
    element: str
    """The LHEO element holding the value (``code-public-vise``...)."""
    value: str
    formations: int


def unmapped_codes(store: Store, per_source: int = 10) -> dict[str, list[UnmappedCode]]:
    """Per source, its most frequent unmapped codes among live formations."""
    query = (
        select(
            ISSUES.c.source,
            ISSUES.c.code,
            ISSUES.c.value,
            func.count(func.distinct(ISSUES.c.formation_id)).label("formations"),
            func.min(ISSUES.c.path).label("example"),
        )
        .join(FORMATIONS, FORMATIONS.c.id == ISSUES.c.formation_id)
        .where(ISSUES.c.kind == "unmapped", FORMATIONS.c.deleted.is_(False))
        .group_by(ISSUES.c.source, ISSUES.c.code, ISSUES.c.value)
        .order_by(ISSUES.c.source, func.count(func.distinct(ISSUES.c.formation_id)).desc())
    )
    found: dict[str, list[UnmappedCode]] = {}
    with store.engine.connect() as connection:
        for row in connection.execute(query):
            codes = found.setdefault(row.source, [])
            if len(codes) < per_source:
                element = str(row.example).rsplit("/", 1)[-1].split("[", 1)[0]
                codes.append(UnmappedCode(row.code, element, row.value, int(row.formations)))
    return found


@dataclass(frozen=True, slots=True)
class RegionCount:
    region: str
    formations: int
    actions: int
    sessions: int


def _count_by_region(connection: Connection, table: Table | None) -> dict[str, int]:
    """Rows of ``table`` (None: formations themselves) per region of their live formation."""
    region = func.coalesce(FORMATIONS.c.region, UNKNOWN_REGION)
    source = (
        FORMATIONS
        if table is None
        else table.join(FORMATIONS, FORMATIONS.c.id == table.c.formation_id)
    )
    query = (
        select(region, func.count())
        .select_from(source)
        .where(FORMATIONS.c.deleted.is_(False))
        .group_by(region)
    )
    return {str(code): int(count) for code, count in connection.execute(query)}


_REGION_COUNTS: dict[Engine, tuple[int, list[RegionCount]]] = {}


def region_counts(store: Store) -> list[RegionCount]:
    """Live formations, actions and sessions per region, from the store (the whole offer).

    Counted again only when the change cursor moved: every write to the offer moves it, so
    a dashboard refreshed every minute does not count the national offer every minute.
    """
    with store.engine.connect() as connection:
        cursor = current_cursor(connection)
        cached = _REGION_COUNTS.get(store.engine)
        if cached is not None and cached[0] == cursor:
            return cached[1]
        formations = _count_by_region(connection, None)
        actions = _count_by_region(connection, ACTIONS)
        sessions = _count_by_region(connection, SESSIONS)
    counted = [
        RegionCount(code, count, actions.get(code, 0), sessions.get(code, 0))
        for code, count in sorted(formations.items())
    ]
    _REGION_COUNTS[store.engine] = (cursor, counted)
    return counted


def language_key_figures(store: Store) -> dict[str, RegionFigures]:
    """The published language-training figures (those of ``GET /v1/stats``) of the regions
    that have any, and of ``FR`` when anything is counted."""
    figures = region_figures(store.engine).regions
    national = figures.get(NATIONAL)
    if national is None or national.actions == 0:
        return {}
    return {code: f for code, f in figures.items() if f.actions or code == NATIONAL}


def region_names() -> dict[str, str]:
    """INSEE region code → name, from the mapping tables."""
    return published_region_names()


def recent_flows(store: Store, limit: int) -> list[tuple[str, FlowPoint]]:
    """The latest flows of every source, newest first, with their source."""
    with store.engine.connect() as connection:
        return history.recent_flows(connection, limit)


def recent_runs(store: Store, source: str, limit: int) -> list[RunPoint]:
    """The source's latest sync runs, newest first."""
    with store.engine.connect() as connection:
        return history.recent_runs(connection, source, limit)


def replay_origin(store: Store, flow_id: str) -> str | None:
    """The flow that ``flow_id`` is a replay of, if it is one."""
    with store.engine.connect() as connection:
        return connection.execute(
            select(RUNS.c.replay_of).where(RUNS.c.flow_id == flow_id).limit(1)
        ).scalar()
