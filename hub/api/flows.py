"""Flows over HTTP: what a flow was and did, its rejected records, its files as received.

The admin routes (``/v1/admin/flows/...``) and the dashboard's flow page use the same
functions; replaying, applying a held snapshot and discarding one go through
:mod:`hub.pipeline.replay`.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select

from hub.api.ops import AdminPrincipal, jsonable, not_found, problem_responses
from hub.api.state import app_settings, app_store
from hub.errors import KEPT_STAGES, FlowError
from hub.ops.history import FlowPoint, flow_point
from hub.pipeline.apply import discard
from hub.pipeline.replay import apply_confirmed, replay_flow
from hub.pipeline.result import FlowResult
from hub.store import Store
from hub.store.archive import CHUNK, open_archived
from hub.store.tables import FLOWS, PARTS, REJECTIONS

admin = APIRouter(prefix="/v1/admin", tags=["operations"])
UNKNOWN_FLOW = problem_responses(**{"404": "No such flow"})


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


def replay(request: Request, flow_id: str) -> FlowResult:
    return replay_flow(app_store(request), flow_id, settings=app_settings(request))


def apply_held(request: Request, flow_id: str) -> FlowResult:
    """Apply a held snapshot with its deletions, under its source's lock."""
    return apply_confirmed(app_store(request), flow_id, settings=app_settings(request))


def discard_held(request: Request, flow_id: str) -> None:
    discard(
        app_store(request), flow_id, reason="écarté par un administrateur depuis le tableau de bord"
    )


@admin.post(
    "/flows/{flow_id}/replay",
    summary="Apply a stored flow again, as a new flow",
    responses=problem_responses(
        **{"404": "No such flow", "409": "Source running, or an old snapshot"}
    ),
)
def replay_endpoint(request: Request, flow_id: str, _: AdminPrincipal) -> Any:
    if flow_detail(app_store(request), flow_id, limit=0) is None:
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
    detail = flow_detail(app_store(request), flow_id, limit=0)
    if detail is None:
        return not_found(f"flow {flow_id!r}")
    data: dict[str, Any] = jsonable(asdict(detail))
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
    detail = flow_detail(app_store(request), flow_id, limit=limit, offset=offset)
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
        **problem_responses(
            **{"404": "No such flow or file", "409": "The archived file is missing"}
        ),
    },
)
def raw_endpoint(
    request: Request,
    flow_id: str,
    _: AdminPrincipal,
    part: Annotated[int, Query(ge=0, le=1000, description="Which file of the flow")] = 0,
) -> Response:
    return raw_flow(app_store(request), flow_id, part)
