"""The formations of one flow, read on every core and skipped early when unchanged.

The main process cuts the flow into raw formations (:meth:`LheoReader.split`), asks the store
which of them it holds with the very same raw bytes (those need no parsing at all), and writes
to the store. Parsing, validation, canonical form and the map stage of the others run in
worker processes once a flow is big enough to pay for starting them, batch by batch, a few
batches ahead of the writer, so memory stays flat. Records come out in document order, each
exactly as :class:`LheoReader` would have read it.

Workers are started with ``spawn`` (safe in a threaded server), which imports the main
module again in each worker: a script that ingests big flows must keep its work under
``if __name__ == "__main__":``, as the ``hub`` command and the server do.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import islice
from multiprocessing import get_context
from typing import IO

from lxml import etree

from hub.lheo.chunk import FlowContext, RawFormation
from hub.lheo.dialect import Flag
from hub.lheo.reader import LheoReader
from hub.lheo.record import FormationRecord, read_raw
from hub.pipeline.mapstage import formation_rows
from hub.store.records import FlowApplier
from hub.store.rows import FormationRows

BATCH = 32
"""Formations per task sent to a worker."""
LOOKUP = 512
"""Formations per raw-hash lookup in the store."""
AHEAD = 2
"""Batches in flight per worker: enough to keep the workers busy while the writer writes."""
PARALLEL_BYTES = 32 * 1024 * 1024
"""Parse in worker processes once this many bytes needed parsing: below, starting them (a
fresh interpreter each, a second or more) costs more than it saves. A 1% national delta
(16 MB) is quicker inline: 4.5 s against 9.2 s with workers, measured at scale 1."""


@dataclass(slots=True)
class Unchanged:
    """A formation stored with the same raw bytes: nothing to parse, nothing to write."""


UNCHANGED = Unchanged()
Mapped = FormationRows | Unchanged | None
"""Rows already mapped, :data:`UNCHANGED`, or None (the applier maps the record)."""


_Batch = tuple[
    list[RawFormation], set[tuple[str, str]], Future[list[tuple[FormationRecord, Mapped]]]
]
Fix = Callable[[etree._Element], list[Flag]]


def read_batch(
    context: FlowContext,
    raws: list[RawFormation],
    source: str,
    region: str | None,
    fix: Fix | None = None,
) -> list[tuple[FormationRecord, Mapped]]:
    """Read and map a batch, keeping no lxml element (they do not pickle, and they are big)."""
    records: list[tuple[FormationRecord, Mapped]] = []
    for raw in raws:
        record = read_raw(context, raw, fix=fix)
        rows = None
        if record.element is not None:
            rows = formation_rows(record.element, source=source, region=region)
            record.element = None
        records.append((record, rows))
    return records


def _workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1


class _Parser:
    """Parses batches inline until the flow proves big, then in worker processes."""

    def __init__(self, reader: LheoReader, applier: FlowApplier, fix: Fix | None) -> None:
        assert reader.context is not None
        self.applier, self.context, self.fix = applier, reader.context, fix
        self.pending_bytes = 0
        self.pool: ProcessPoolExecutor | None = None

    def submit(self, raws: list[RawFormation]) -> Future[list[tuple[FormationRecord, Mapped]]]:
        self.pending_bytes += sum(len(raw.chunk) for raw in raws)
        if self.pool is None and self.pending_bytes >= PARALLEL_BYTES and _workers() > 1:
            self.pool = ProcessPoolExecutor(_workers(), mp_context=get_context("spawn"))
        source, region = self.applier.source, self.applier.region
        if self.pool is not None and raws:
            return self.pool.submit(read_batch, self.context, raws, source, region, self.fix)
        done: Future[list[tuple[FormationRecord, Mapped]]] = Future()
        done.set_result(read_batch(self.context, raws, source, region, self.fix))  # inline
        return done

    def close(self) -> None:
        if self.pool is not None:  # idle workers exit on their own: the flow need not wait
            self.pool.shutdown(wait=False, cancel_futures=True)


def _salted(raws: Iterator[RawFormation], salt: str) -> Iterator[RawFormation]:
    """Raw hashes that also name the dialect's fingerprint: a changed hook re-reads all."""
    for raw in raws:
        raw.raw_hash = hashlib.sha256(f"{salt}:{raw.raw_hash}".encode()).hexdigest()
        yield raw


def split_records(
    reader: LheoReader, applier: FlowApplier, *, fix: Fix | None = None, salt: str = ""
) -> Iterator[tuple[FormationRecord, Mapped]]:
    """Every formation of the flow in document order, as (record, rows or UNCHANGED).

    An unchanged formation comes as a bare record (numero and line) with :data:`UNCHANGED`.
    ``fix`` is the dialect's hook (it runs where the formation is parsed, in a worker
    process too, so it must pickle); ``salt`` its fingerprint, part of each raw hash.
    """
    parser = _Parser(reader, applier, fix)
    inflight: deque[_Batch] = deque()
    raws = reader.split() if not salt else _salted(reader.split(), salt)
    try:
        while looked_up := list(islice(raws, LOOKUP)):
            known = applier.unchanged_raw([(raw.numero, raw.raw_hash) for raw in looked_up])
            for start in range(0, len(looked_up), BATCH):
                batch = looked_up[start : start + BATCH]
                todo = [raw for raw in batch if (raw.numero, raw.raw_hash) not in known]
                inflight.append((batch, known, parser.submit(todo)))
                ahead = 0 if parser.pool is None else AHEAD * _workers()
                while len(inflight) > ahead:
                    yield from _in_order(*inflight.popleft())
        while inflight:
            yield from _in_order(*inflight.popleft())
    finally:
        parser.close()


def _in_order(
    batch: list[RawFormation],
    known: set[tuple[str, str]],
    parsed: Future[list[tuple[FormationRecord, Mapped]]],
) -> Iterator[tuple[FormationRecord, Mapped]]:
    records = iter(parsed.result())
    for raw in batch:
        if (raw.numero, raw.raw_hash) in known:
            yield FormationRecord(raw.numero, None, raw.line, raw_hash=raw.raw_hash), UNCHANGED
        else:
            yield next(records)


class ReadAhead:
    """A binary stream read one step ahead by a thread.

    Inflating a gzip archive releases the GIL, so the flow is decompressed on another core
    while this one cuts it into formations. Close it to stop the thread early.
    """

    def __init__(self, stream: IO[bytes], chunk: int = 1 << 20, depth: int = 4) -> None:
        self._chunks: queue.Queue[bytes | BaseException] = queue.Queue(depth)
        self._stop = threading.Event()
        self._buffer = b""
        self._eof = False
        self._thread = threading.Thread(target=self._pump, args=(stream, chunk), daemon=True)
        self._thread.start()

    def _pump(self, stream: IO[bytes], chunk: int) -> None:
        item: bytes | BaseException
        try:
            while not self._stop.is_set():
                item = stream.read(chunk)
                self._put(item)
                if not item:
                    return
        except BaseException as exc:  # handed to the reader, which raises it
            self._put(exc)

    def _put(self, item: bytes | BaseException) -> None:
        while not self._stop.is_set():
            try:
                self._chunks.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def read(self, size: int = -1) -> bytes:
        while not self._eof and (size < 0 or len(self._buffer) < size):
            item = self._chunks.get()
            if isinstance(item, BaseException):
                raise item
            self._eof = not item
            self._buffer += item
        if size < 0:
            size = len(self._buffer)
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
