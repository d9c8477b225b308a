"""Regions push deltas: ``POST /v1/push/{source}``.

The body is an LHEO delta (creates, updates, and deletions named in ``<extras
info="suppressions">``), or a CSV/XLSX file in the spreadsheet template, which is turned
into one. Only that source's push token may send it. The body is streamed to a spool file
while its size is counted (413 past ``api.max_push_bytes``, before it is read whole) and
hashed, so an ``Idempotency-Key`` can be checked before anything is archived: the same key
and body replays the stored report, the same key with another body is a 409. Then the
normal path: the body is archived exactly as sent (a spreadsheet too: its conversion is
the read stage's work), ``apply`` applies it in one transaction, and the answer reports
what was applied and what was rejected, where and why.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from dataclasses import dataclass
from typing import IO, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from hub.api.auth import log_refusal, require_push
from hub.api.problems import _status_of as status_of
from hub.api.problems import problem
from hub.errors import HubError
from hub.pipeline.apply import apply
from hub.pipeline.ingest import FlowResult, archive_part, receive
from hub.settings import Settings
from hub.store import Store, receipts
from hub.store.archive import read_stream
from hub.store.tokens import Principal

router = APIRouter(prefix="/v1/push", tags=["push"])

BodyKind = Literal["lheo", "csv", "xlsx"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONTENT_TYPES: dict[str, BodyKind] = {
    "application/xml": "lheo",
    "text/xml": "lheo",
    "application/lheo+xml": "lheo",
    "text/csv": "csv",
    "application/csv": "csv",
    XLSX: "xlsx",
}
SPOOL_IN_MEMORY = 1024 * 1024
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_FILENAME = re.compile(r"""filename\*?=(?:UTF-8'')?"?([^";]+)"?""", re.IGNORECASE)

_BODY = {"schema": {"type": "string", "format": "binary"}}
OPENAPI_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "An LHEO 2.2/2.3 delta, or a CSV/XLSX file in the spreadsheet template",
        "content": dict.fromkeys(("application/xml", "text/csv", XLSX), _BODY),
    }
}


class BodyTooLarge(Exception):
    """The body went past the configured limit while it was streamed."""


@dataclass(frozen=True, slots=True)
class _Push:
    """One push request being answered: who sent it, to which source."""

    request: Request
    principal: Principal
    source: str

    def refuse(
        self, status: int, title: str, detail: str, *, hint: str | None = None
    ) -> JSONResponse:
        """Log the refusal (who, what, why; never the token) and answer it as a problem."""
        log_refusal(self.request, status, detail, who=self.principal.token_id, source=self.source)
        return problem(
            status,
            title,
            detail,
            type_=f"https://lheo-hub.example/problems/{title.lower().replace(' ', '-')}",
            instance=self.request.url.path,
            hint=hint,
        )


@router.post(
    "/{source}",
    summary="Push an LHEO delta (or a spreadsheet) for one source",
    openapi_extra=OPENAPI_BODY,
    responses={
        200: {"description": "What was applied, and what was rejected and why"},
        401: {"description": "Missing, unknown or revoked token"},
        403: {"description": "The token belongs to another source"},
        409: {"description": "Idempotency-Key reused with another body, or still in progress"},
        413: {"description": "Body larger than api.max_push_bytes"},
        415: {"description": "Not LHEO XML, CSV or XLSX"},
    },
)
async def push(
    source: str,
    request: Request,
    principal: Annotated[Principal, Depends(require_push)],
) -> JSONResponse:
    settings: Settings = request.app.state.settings
    limit = settings.api.max_push_bytes
    this = _Push(request, principal, source)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return this.refuse(
            413, "Payload too large",
            f"the body declares {declared} bytes; this hub takes at most {limit} per push",
            hint="split the delta into several smaller pushes",
        )  # fmt: skip
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    kind = CONTENT_TYPES.get(media)
    if kind is None:
        return this.refuse(
            415, "Unsupported media type", f"Content-Type {media or '(none)'!r} is not accepted",
            hint=f"send one of: {', '.join(CONTENT_TYPES)}",
        )  # fmt: skip
    key = request.headers.get("idempotency-key")
    if key is not None and not _IDEMPOTENCY_KEY.match(key):
        return this.refuse(
            400, "Bad Idempotency-Key",
            "the Idempotency-Key header must be 1 to 255 visible ASCII characters",
        )  # fmt: skip
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
        try:
            body_sha256 = await _spool(request, spool, limit)
        except BodyTooLarge:
            return this.refuse(
                413, "Payload too large", f"the body went past {limit} bytes; nothing was kept",
                hint="split the delta into several smaller pushes",
            )  # fmt: skip
        except ClientDisconnect:
            return this.refuse(
                400, "Incomplete body",
                "the connection closed before the end of the body; nothing was kept",
            )  # fmt: skip
        return await _handle(this, spool, kind=kind, key=key, body_sha256=body_sha256)


async def _spool(request: Request, spool: IO[bytes], limit: int) -> str:
    """Copy the body into ``spool``, counting and hashing; BodyTooLarge past ``limit``."""
    digest, size = hashlib.sha256(), 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        digest.update(chunk)
        spool.write(chunk)
    spool.seek(0)
    return digest.hexdigest()


async def _handle(
    this: _Push, spool: IO[bytes], *, kind: BodyKind, key: str | None, body_sha256: str
) -> JSONResponse:
    store: Store = this.request.app.state.store
    source = this.source
    if key is not None:
        claim = await run_in_threadpool(receipts.claim, store.engine, source, key, body_sha256)
        if claim.state == "replay":
            assert claim.report is not None
            replayed = claim.report | {"replayed": True}
            return JSONResponse(replayed, headers={"Idempotent-Replayed": "true"})
        if claim.state != "claimed":
            detail = (
                f"Idempotency-Key {key!r} was first used with another body"
                + (f" (flow {claim.flow_id})" if claim.flow_id else "")
                if claim.state == "mismatch"
                else f"a push with Idempotency-Key {key!r} is still being applied"
            )
            return this.refuse(
                409, "Idempotency conflict", detail,
                hint="use a new key for a new delta; retry the same body with the same key",
            )  # fmt: skip
    filename = _filename(this.request, source, kind)
    settings: Settings = this.request.app.state.settings
    media = this.request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        report = await run_in_threadpool(
            _ingest, store, settings, source, spool, kind=kind, filename=filename, media=media
        )
    except BaseException as exc:
        if key is not None:
            await run_in_threadpool(receipts.release, store.engine, source, key)
        if isinstance(exc, HubError):
            status, _ = status_of(exc)  # the status the problem handler answers with
            log_refusal(
                this.request, status, str(exc), who=this.principal.token_id, source=source,
                error=type(exc).__name__,
            )  # fmt: skip
        raise
    if key is not None:
        await run_in_threadpool(receipts.complete, store.engine, source, key, report)
    return JSONResponse(report | {"replayed": False})


def _filename(request: Request, source: str, kind: BodyKind) -> str:
    found = _FILENAME.search(request.headers.get("content-disposition", ""))
    name = found.group(1).replace("\\", "/").rsplit("/", 1)[-1][:100] if found else ""
    return name or f"{source}.{'xml' if kind == 'lheo' else kind}"


def _ingest(
    store: Store,
    settings: Settings,
    source: str,
    spool: IO[bytes],
    *,
    kind: BodyKind,
    filename: str,
    media: str,
) -> dict[str, Any]:
    """Archive the body as sent and apply it (a spreadsheet's dialect converts it)."""
    part = archive_part(
        store.archive_dir, source, read_stream(spool), name=filename, content_type=media
    )
    connector = None if kind == "lheo" else "spreadsheet"
    flow_id = receive(store, source, [part], "delta", connector=connector)
    return _report(apply(store, flow_id, settings=settings))


def _report(result: FlowResult) -> dict[str, Any]:
    report: dict[str, Any] = {
        "flow_id": result.flow_id,
        "source": result.source,
        "kind": result.kind,
        "status": result.status,
        "lheo_version": result.lheo_version,
        "counts": result.counts.as_dict(),
        "rejections": [
            {"numero": e.numero, "line": e.line, "path": e.path, "reason": e.reason,
             "stage": e.stage, "file": e.file}
            for e in result.rejections
        ],
    }  # fmt: skip
    if result.summaries:
        report["spreadsheet"] = result.summaries[0]
    return report
