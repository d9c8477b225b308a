"""The ingest fast path: unchanged formations skipped by raw hash, big flows read by workers."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from lheo_factory import document, formation
from sqlalchemy import select

from hub.pipeline import parallel as pipeline
from hub.pipeline.ingest import FlowResult, ingest
from hub.pipeline.parallel import ReadAhead
from hub.store import Store
from hub.store.tables import CHANGES, FORMATIONS
from simulators.corpus import CorpusSpec, write_corpus


def push(store: Store, data: bytes, kind: str = "snapshot", source: str = "idf") -> FlowResult:
    return ingest(store, io.BytesIO(data), source=source, region="11", kind=kind)  # type: ignore[arg-type]


def stored(store: Store, source: str = "idf") -> dict[str, tuple[Any, ...]]:
    f = FORMATIONS.c
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(f.numero, f.content_hash, f.raw_hash, f.version, f.harmonised, f.fragment)
            .where(f.source == source)
            .order_by(f.numero)
        )
        return {row[0]: tuple(row[1:]) for row in rows}


def change_count(store: Store) -> int:
    with store.engine.connect() as connection:
        return len(connection.execute(select(CHANGES.c.seq)).all())


def test_the_same_bytes_are_skipped_and_counted_unchanged(store: Store) -> None:
    data = document([formation("F1"), formation("F2", sessions=2)])
    push(store, data)
    before, logged = stored(store), change_count(store)
    again = push(store, data)
    assert again.counts.unchanged == 2 and again.counts.created == again.counts.updated == 0
    assert stored(store) == before and change_count(store) == logged
    assert all(raw_hash for _, raw_hash, *_ in before.values())


def test_the_same_content_in_other_bytes_is_unchanged_and_its_bytes_remembered(
    store: Store,
) -> None:
    push(store, document([formation("F1")]))
    stamped = formation("F1").replace(
        '<formation numero="F1"', '<formation horodatage-export="2026-11-27T10:00:00" numero="F1"'
    )
    [(content_hash, raw_hash, version, *_)] = stored(store).values()
    result = push(store, document([stamped]))
    assert result.counts.unchanged == 1 and change_count(store) == 1
    [(same_hash, new_raw_hash, same_version, *_)] = stored(store).values()
    assert (same_hash, same_version) == (content_hash, version)
    assert new_raw_hash != raw_hash  # the next identical export is skipped before parsing


def test_a_skipped_duplicate_is_still_rejected_as_a_duplicate(store: Store) -> None:
    push(store, document([formation("F1")]))
    result = push(store, document([formation("F1"), formation("F1")]))
    assert result.counts.unchanged == 1 and result.counts.rejected == 1
    [error] = result.rejections
    assert error.stage == "identity" and error.reason.startswith("duplicate numero")


def test_a_changed_copy_before_an_unchanged_duplicate_is_the_one_applied(store: Store) -> None:
    push(store, document([formation("F1")]))
    changed = formation("F1", intitule="Français - niveau B1", datemaj="20260301")
    result = push(store, document([changed, formation("F1")]))
    assert result.counts.updated == 1 and result.counts.rejected == 1
    assert result.rejections[0].reason.startswith("duplicate numero")


def test_a_deleted_formation_sent_again_with_the_same_bytes_comes_back(store: Store) -> None:
    data = document([formation("F1")])
    push(store, data)
    push(store, document([], deletions=["F1"]), kind="delta")
    result = push(store, data)
    assert result.counts.updated == 1 and result.counts.unchanged == 0


def test_worker_processes_store_exactly_what_the_main_process_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = io.BytesIO()
    write_corpus(out, CorpusSpec(formations=150, seed=5, regions=("*",), invalid_share=0.1))
    one = Store.at(f"sqlite:///{tmp_path / 'inline.db'}", tmp_path / "archive")
    two = Store.at(f"sqlite:///{tmp_path / 'parallel.db'}", tmp_path / "archive")
    inline = push(one, out.getvalue())
    monkeypatch.setattr(pipeline, "PARALLEL_BYTES", 0)
    parallel = push(two, out.getvalue())
    assert parallel.counts == inline.counts and parallel.counts.rejected > 0
    assert parallel.rejections == inline.rejections
    assert stored(two) == stored(one)


class Failing(io.BytesIO):
    def read(self, size: int | None = -1) -> bytes:
        if self.tell() > 10:
            raise OSError("disk gone")
        return super().read(8)


def test_read_ahead_hands_over_every_byte_and_every_error() -> None:
    data = bytes(range(256)) * 1000
    stream = ReadAhead(io.BytesIO(data), chunk=1000, depth=2)
    assert stream.read(10) + stream.read(70_000) + stream.read() == data
    assert stream.read(5) == b""
    stream.close()
    failing = ReadAhead(Failing(b"x" * 100), chunk=8)
    with pytest.raises(OSError, match="disk gone"):
        failing.read()
    failing.close()
