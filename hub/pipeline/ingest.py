"""One file in: archived exactly as received, recorded as a flow, then applied.

``archive_part`` keeps each file of a flow exactly as received and ``receive`` records the
flow (status ``received``) before anything reads it, so a crash loses nothing; ``ingest``
does both for one file and applies it (:mod:`hub.pipeline.apply`). A dry run reads and
applies in a transaction that is rolled back, from a scratch folder.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import IO

import httpx

from hub.lheo.dialect import FlowKind, Part
from hub.pipeline.apply import apply, dry_run_parts
from hub.pipeline.result import FlowResult
from hub.settings import Settings
from hub.store import Store
from hub.store.archive import archive_file, new_flow_id, read_stream
from hub.store.flows import record_flow
from hub.store.sources import ensure_source

__all__ = ["FlowKind", "FlowResult", "archive_part", "ingest", "receive"]


def archive_part(
    archive_dir: Path,
    source: str,
    chunks: Iterable[bytes],
    *,
    name: str,
    role: str | None = None,
    url: str | None = None,
    http_status: int | None = None,
    headers: httpx.Headers | None = None,
    content_type: str | None = None,
) -> Part:
    """Archive one received file byte for byte, with how it came (URL, status, validators)."""
    archived = archive_file(archive_dir, source, chunks)
    headers = headers or httpx.Headers()
    return Part(
        name=name,
        path=archived.path,
        sha256=archived.sha256,
        size_bytes=archived.size_bytes,
        role=role,
        url=url,
        http_status=http_status,
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
        content_type=content_type or headers.get("content-type"),
    )


def receive(
    store: Store,
    source: str,
    parts: Iterable[Part],
    kind: FlowKind,
    *,
    connector: str | None = None,
    as_of: datetime | None = None,
    replay_of: str | None = None,
) -> str:
    """Record a flow of archived files as received; returns its id. Nothing is applied yet."""
    flow_id = new_flow_id()
    record_flow(
        store.engine,
        flow_id,
        source=source,
        kind=kind,
        parts=list(parts),
        connector=connector,
        as_of=as_of,
        replay_of=replay_of,
    )
    return flow_id


def ingest(
    store: Store,
    stream: IO[bytes],
    *,
    source: str,
    region: str | None = None,
    kind: FlowKind = "delta",
    dry_run: bool = False,
    settings: Settings | None = None,
    name: str | None = None,
    content_type: str | None = None,
    connector: str | None = None,
) -> FlowResult:
    """Archive then apply one file as a flow: the whole path for a file or a push.

    ``connector`` names the dialect that reads it (a spreadsheet, say); plain LHEO by default.
    """
    if dry_run:
        return _dry_run(
            store, stream, source=source, region=region, kind=kind, settings=settings,
            name=name, content_type=content_type, connector=connector,
        )  # fmt: skip
    ensure_source(store.engine, source, region)
    part = archive_part(
        store.archive_dir,
        source,
        read_stream(stream),
        name=name or f"{source}.xml",
        content_type=content_type,
    )
    flow_id = receive(store, source, [part], kind, connector=connector)
    return apply(store, flow_id, settings=settings)


def _dry_run(
    store: Store,
    stream: IO[bytes],
    *,
    source: str,
    region: str | None,
    kind: FlowKind,
    settings: Settings | None,
    name: str | None,
    content_type: str | None,
    connector: str | None,
) -> FlowResult:
    """Read, map and apply in a transaction that is rolled back.

    The bytes go to a scratch folder, not the archive, and no flow row is committed, so a
    dry run leaves nothing that a later resume could apply for real.
    """
    with tempfile.TemporaryDirectory(prefix="hub-dry-run-") as scratch:
        part = archive_part(
            Path(scratch), source, read_stream(stream), name=name or f"{source}.xml",
            content_type=content_type,
        )  # fmt: skip
        return dry_run_parts(
            store, source=source, region=region, kind=kind, parts=(part,),
            settings=settings, connector=connector,
        )  # fmt: skip
