"""The raw archive: every file of every flow, gzip-compressed, exactly as it was received.

A file is archived before any code reads it (no connector rewrites what is kept), under a
temporary name, flushed to disk and renamed, so the archive never holds half a file; a
failure (disk full) leaves nothing behind and nothing applied. Archived files are never
changed again: a replay reads the very same files.
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
from pathlib import Path, PurePosixPath
from typing import IO, cast
from urllib.parse import unquote, urlsplit

from hub.errors import ArchiveError

CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ArchivedFile:
    """Where one file's bytes are kept, their SHA-256 and size (as received, uncompressed)."""

    path: Path
    sha256: str
    size_bytes: int


def new_flow_id() -> str:
    """Sortable by time, unique without coordination: ``20261127T101500-3f9a1c2e``."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"


def archive_file(archive_dir: Path, source: str, chunks: Iterable[bytes]) -> ArchivedFile:
    """Write one received file's bytes to the archive; where, with its hash and size."""
    file_id = new_flow_id()
    folder = archive_dir / source / file_id[:4] / file_id[4:6]
    final = folder / f"{file_id}.gz"
    partial = folder / f".{file_id}.gz.partial"
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
            f"cannot archive a file of source {source!r} in {folder.relative_to(archive_dir)} "
            f"under the archive folder: {exc.strerror or exc.__class__.__name__}"
        ) from exc
    return ArchivedFile(final, digest.hexdigest(), size)


def read_stream(stream: IO[bytes]) -> Iterable[bytes]:
    while chunk := stream.read(CHUNK):
        yield chunk


def open_archived(path: Path) -> IO[bytes]:
    return cast(IO[bytes], gzip.open(path, "rb"))


def archive_name(url: str, base: str | None, label: str | None = None) -> str:
    """The file's name as served, under the source's url (``auvergne/offres-lheo.xml``)."""
    parts = urlsplit(url)
    path = PurePosixPath(unquote(parts.path))
    fallback = path.name or label or "flux"
    if parts.scheme not in ("http", "https") or not base:
        return fallback  # a dropped file: its own name
    root = PurePosixPath(unquote(urlsplit(base).path) or "/")
    name = str(path.relative_to(root)) if path.is_relative_to(root) else path.name
    return name.strip("/") if name not in ("", ".") else fallback
