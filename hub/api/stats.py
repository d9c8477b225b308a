"""Key figures and the map feed: ``/v1/stats``, ``/v1/stats/sessions``, ``/v1/feed/geojson``.

Portals depend on the names of the figures (``actions``, ``actions_ofii``, ``sessions``,
``sessions_by_conventionnement``, ``sessions_by_certification``, ``cpf_eligible``): they are
those of `mappings.stats.RegionFigures`, never renamed here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from hub.api.auth import require_feed_access
from hub.api.problems import problem
from hub.api.state import app_store
from hub.publish.feed import current_cursor
from hub.publish.geojson import feature_collection
from hub.publish.stats import (
    SessionFilter,
    count_sessions,
    region_figures,
    resolve_filter,
    resolve_region,
)

router = APIRouter(tags=["stats"])
GEOJSON = "application/geo+json"

Region = Annotated[
    str | None, Query(description="INSEE region code (94) or name (Corse); FR for France")
]
Departement = Annotated[str | None, Query(description="INSEE département code (75, 2A)")]
Kind = Annotated[
    str | None,
    Query(description="integration, asl, oepre, fle, alphabetisation, remise_a_niveau, ..."),
]
Certification = Annotated[str | None, Query(description="certification label, e.g. DELF A2")]
Conventionnement = Annotated[
    str | None, Query(description="ofii, autre_public or non_conventionne")
]


@dataclass(frozen=True, slots=True)
class SessionFilterQuery:
    """The session filter's query parameters, shared by ``/v1/stats/sessions`` and the map."""

    region: Region = None
    departement: Departement = None
    kind: Kind = None
    certification: Certification = None
    conventionnement: Conventionnement = None

    def resolve(self) -> SessionFilter:
        """The filter, checked against the tables; ValueError saying what is accepted."""
        return resolve_filter(**asdict(self))


SessionQuery = Annotated[SessionFilterQuery, Depends()]


def _invalid(request: Request, exc: ValueError) -> JSONResponse:
    return problem(
        422,
        "Invalid filter",
        str(exc),
        type_="https://lheo-hub.example/problems/invalid-filter",
        instance=str(request.url.path),
    )


@router.get("/v1/stats", summary="Key figures of the language-training offer, per region and FR")
def stats(request: Request, region: Region = None) -> Any:
    try:
        code = None if region is None else resolve_region(region)
    except ValueError as exc:
        return _invalid(request, exc)
    return region_figures(app_store(request).engine, code).as_json()


@router.get("/v1/stats/sessions", summary="How many language-training sessions match a filter")
def sessions(request: Request, query: SessionQuery) -> Any:
    try:
        wanted = query.resolve()
    except ValueError as exc:
        return _invalid(request, exc)
    count = count_sessions(app_store(request).engine, wanted)
    return {"filter": wanted.describe(), "sessions": count}


@router.get(
    "/v1/feed/geojson",
    tags=["feed"],
    response_class=StreamingResponse,
    responses={200: {"content": {GEOJSON: {}}}},
    dependencies=[Depends(require_feed_access)],
    summary="Language-training sessions as GeoJSON points, for the national map",
    description=(
        "A FeatureCollection (RFC 7946) streamed as it is read. Each session is a Point with "
        "the harmonised attributes; `position` says whether it sits at the source's "
        "coordinates or at its département's centre. Sessions that cannot be placed are "
        "counted and named in the closing `unlocated` member."
    ),
)
def geojson(request: Request, query: SessionQuery) -> Response:
    try:
        wanted = query.resolve()
    except ValueError as exc:
        return _invalid(request, exc)
    engine = app_store(request).engine
    with engine.connect() as connection:
        cursor = current_cursor(connection)
    return StreamingResponse(
        feature_collection(engine, wanted),
        media_type=GEOJSON,
        headers={"X-Hub-Cursor": str(cursor)},
    )
