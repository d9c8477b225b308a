"""Portals pull the national offer: the full LHEO feed and the changes feed."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import StreamingResponse

from hub.api.auth import require_feed_access
from hub.api.state import app_store
from hub.publish.feed import changes_page, current_cursor, open_lheo

router = APIRouter(prefix="/v1/feed", tags=["feed"], dependencies=[Depends(require_feed_access)])
GZIP_LEVEL = 3
MAX_CURSOR = 2**63 - 1
"""Cursors are change sequence numbers, 64-bit in the store: a larger one is a 422, not a 500."""


def gzip_stream(chunks: Iterator[bytes], level: int = GZIP_LEVEL) -> Iterator[bytes]:
    """Compress a byte stream on the fly, in the gzip format."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
    for chunk in chunks:
        if out := compressor.compress(chunk):
            yield out
    yield compressor.flush()


def _etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


@router.get(
    "/lheo",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/xml": {}}},
        204: {
            "description": "Nothing to send: the store holds no live formation or, with "
            "`since`, nothing changed after that cursor (LHEO 2.3 forbids an empty `offres`). "
            "`X-Hub-Cursor` gives the current cursor to ask from next time.",
            "headers": {
                "X-Hub-Cursor": {
                    "description": "The store's current change cursor",
                    "schema": {"type": "integer"},
                }
            },
        },
        304: {"description": "Not modified"},
    },
    summary="The national offer as LHEO 2.3 (full, or changed since a cursor)",
)
def feed_lheo(
    request: Request,
    since: Annotated[
        int | None,
        Query(ge=0, le=MAX_CURSOR, description="Only what changed after this cursor"),
    ] = None,
    if_none_match: Annotated[str | None, Header()] = None,
    accept_encoding: Annotated[str | None, Header()] = None,
) -> Response:
    store = app_store(request)
    with store.engine.connect() as connection:
        cursor = current_cursor(connection)
    gzip_wanted = "gzip" in (accept_encoding or "")
    etag = (
        f'"lheo-{cursor}'
        + (f"-since-{since}" if since is not None else "")
        + ('-gz"' if gzip_wanted else '"')
    )
    headers = {"ETag": etag, "X-Hub-Cursor": str(cursor), "Vary": "Accept-Encoding"}
    if _etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    body = open_lheo(store.engine, since=since)
    if body is None:  # no document rather than an invalid empty <offres/>
        return Response(status_code=204, headers=headers)
    if gzip_wanted:
        body = gzip_stream(body)
        headers["Content-Encoding"] = "gzip"
    return StreamingResponse(body, media_type="application/xml", headers=headers)


@router.get("/changes", summary="Latest state of each formation changed after a cursor")
def feed_changes(
    request: Request,
    since: Annotated[int, Query(ge=0, le=MAX_CURSOR)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> dict[str, Any]:
    with app_store(request).engine.connect() as connection:
        page = changes_page(connection, since, limit)
    return {
        "since": page.since,
        "next_cursor": page.next_cursor,
        "has_more": page.has_more,
        "changes": page.changes,
    }
