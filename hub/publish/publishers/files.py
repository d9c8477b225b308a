"""Files of a delivery: written once in the spool with their checksum, copied atomically.

Two guarantees the publishers rely on:

* a spooled file is byte-for-byte what every attempt of its delivery sends: it is written
  once, hashed as written (SHA-256 of the bytes on disk, compressed or not), and gzip is
  written with a zero timestamp and no file name, so equal content gives equal bytes;
* nobody ever sees half a file: every file is written under a temporary name (a dot file
  ending in ``.partial``) in the folder it ends up in, flushed to disk, then renamed, which
  is atomic on one filesystem. Readers that list a drop folder skip dot files.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, BinaryIO

__all__ = [
    "ITEMS_FILE",
    "SpoolSink",
    "SpooledFile",
    "atomic_copy",
    "atomic_write_bytes",
    "file_sha256",
    "spool_lock",
    "sweep_spool",
]

ITEMS_FILE = "items.jsonl"
"""Beside a delta publisher's files: the changes to the partner's holdings (JSON lines)."""

_COPY_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class SpooledFile:
    """One file of a delivery, as the ledger records it."""

    name: str
    path: Path
    media_type: str
    size: int
    sha256: str


class _Hashing:
    """A binary sink that hashes and counts what goes through it to ``raw``."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()


def partial_name(path: Path) -> Path:
    """The temporary name ``path`` is written under before it is renamed into place."""
    return path.with_name(f".{path.name}.partial")


class SpoolSink:
    """Write one file of a delivery: temporary name, optional gzip, checksum, then rename."""

    def __init__(self, path: Path, media_type: str, *, compress: bool = False) -> None:
        self.path = path
        self.media_type = media_type
        self.compress = compress
        self.result: SpooledFile | None = None
        self._partial = partial_name(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._raw = self._partial.open("wb")
        self._hashing = _Hashing(self._raw)
        self._gzip = (
            gzip.GzipFile(filename="", mode="wb", fileobj=self._hashing, mtime=0, compresslevel=6)
            if compress
            else None
        )

    def write(self, data: bytes) -> None:
        if self._gzip is not None:
            self._gzip.write(data)
        else:
            self._hashing.write(data)

    def __enter__(self) -> SpoolSink:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if self._gzip is not None:
                self._gzip.close()
            self._raw.flush()
            os.fsync(self._raw.fileno())
        finally:
            self._raw.close()
        if kind is not None:
            self._partial.unlink(missing_ok=True)
            return
        self._partial.replace(self.path)
        self.result = SpooledFile(
            self.path.name,
            self.path,
            self.media_type,
            self._hashing.size,
            self._hashing.digest.hexdigest(),
        )

    def discard(self) -> None:
        """Remove the file (an empty delivery is never kept)."""
        self.path.unlink(missing_ok=True)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_COPY_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable: the directory entry is flushed too (no-op where unsupported)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _atomic_write(folder: Path, name: str, fill: Callable[[BinaryIO], object]) -> Path:
    """Write ``folder/name`` with ``fill`` under its temporary name, flush it to disk, then
    rename it into place: the name appears only once the file is complete."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    partial = partial_name(target)
    try:
        with partial.open("wb") as writer:
            fill(writer)
            writer.flush()
            os.fsync(writer.fileno())
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _fsync_dir(folder)
    return target


def atomic_copy(source: Path, folder: Path, name: str | None = None) -> Path:
    """Copy ``source`` into ``folder`` so that the target name appears only when complete."""

    def copy(writer: BinaryIO) -> None:
        # Unbuffered reads take what the source has, so a slow source is copied as it comes.
        with source.open("rb", buffering=0) as reader:
            shutil.copyfileobj(reader, writer, _COPY_CHUNK)

    return _atomic_write(folder, name or source.name, copy)


def atomic_write_bytes(folder: Path, name: str, data: bytes) -> Path:
    """Write ``data`` as ``folder/name``, visible only once complete."""
    return _atomic_write(folder, name, lambda writer: writer.write(data))


@contextmanager
def spool_lock(spool: Path, name: str) -> Iterator[bool]:
    """Try to lock the partner's spool for this process (``flock``, released if it dies).

    `hub.pipeline.replay.source_lock` keeps replicas apart on PostgreSQL but only threads on SQLite;
    this one keeps apart the processes of one host (``hub serve`` and ``hub publish``).
    """
    spool.mkdir(parents=True, exist_ok=True)
    with (spool / f".{name}.lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def sweep_spool(spool: Path, keep: str | None) -> None:
    """Remove what a run killed while building left in the spool (no ledger row names it)."""
    for folder in spool.iterdir() if spool.is_dir() else []:
        if folder.name != keep:
            shutil.rmtree(folder, ignore_errors=True)
