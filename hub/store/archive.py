"""The raw-flow archive: every flow is stored, gzip-compressed, before it is processed.

A flow is written under a temporary name, flushed to disk and renamed, so the archive
never holds half a flow; a failure (disk full) leaves nothing behind and nothing applied.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, cast

from hub.errors import ArchiveError

CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ArchivedFlow:
    flow_id: str
    path: Path
    sha256: str
    size_bytes: int


def new_flow_id() -> str:
    """Sortable by time, unique without coordination: ``20261127T101500-3f9a1c2e``."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"


def archive_flow(archive_dir: Path, source: str, chunks: Iterable[bytes]) -> ArchivedFlow:
    """Write the flow's bytes to the archive and return where, with its hash and size."""
    flow_id = new_flow_id()
    folder = archive_dir / source / flow_id[:4] / flow_id[4:6]
    final = folder / f"{flow_id}.xml.gz"
    partial = folder / f".{flow_id}.xml.gz.partial"
    digest = hashlib.sha256()
    size = 0
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with partial.open("wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1, mtime=0) as gz:
                for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    gz.write(chunk)
            raw.flush()
            os.fsync(raw.fileno())
        partial.rename(final)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise ArchiveError(
            f"cannot archive flow {flow_id} of source {source!r} in {folder}: {exc}"
        ) from exc
    return ArchivedFlow(flow_id, final, digest.hexdigest(), size)


def read_stream(stream: IO[bytes]) -> Iterable[bytes]:
    while chunk := stream.read(CHUNK):
        yield chunk


def open_archived(path: Path) -> IO[bytes]:
    return cast(IO[bytes], gzip.open(path, "rb"))
