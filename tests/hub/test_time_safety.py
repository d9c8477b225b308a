"""A flow applied late never makes the store older: replays, resumes and late pushes.

Each test builds the history a region really produces (an update, then a deletion; a
snapshot received before a crash, then later syncs) on SQLite and PostgreSQL, applies the
older flow last, and requires the store, the feed and the change log to keep the newer
state, with the report counting what it kept.
"""

from __future__ import annotations

import io
import threading
from typing import Any

import pytest
from lheo_factory import document, flow_status, formation, received
from sqlalchemy import select

from hub.errors import FlowError
from hub.pipeline.apply import apply
from hub.pipeline.ingest import FlowResult, ingest
from hub.pipeline.replay import replay_flow, resume_pending
from hub.publish.feed import write_lheo
from hub.store import Store
from hub.store.tables import CHANGES, FLOWS, FORMATIONS

SOURCE = "dokelio"


def push(
    store: Store, *records: str, kind: str = "delta", deletions: tuple[str, ...] = ()
) -> FlowResult:
    data = document(records, deletions=deletions)
    return ingest(store, io.BytesIO(data), source=SOURCE, region="11", kind=kind)  # type: ignore[arg-type]


def state(store: Store) -> dict[str, tuple[Any, ...]]:
    """Every formation of the source: (deleted, version, content hash)."""
    f = FORMATIONS.c
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(f.numero, f.deleted, f.version, f.content_hash).where(f.source == SOURCE)
        )
        return {row.numero: (row.deleted, row.version, row.content_hash) for row in rows}


def changes(store: Store) -> int:
    with store.engine.connect() as connection:
        return len(connection.execute(select(CHANGES.c.seq)).all())


def feed(store: Store) -> bytes:
    return b"".join(write_lheo(store.engine))


def test_a_replayed_update_does_not_bring_back_what_a_later_delta_deleted(store: Store) -> None:
    push(store, formation("X"), formation("Y"))
    update = push(store, formation("X", intitule="Français A2, mis à jour"))
    push(store, deletions=("X",))
    before, logged = state(store), changes(store)
    assert before["X"][0] is True
    replayed = replay_flow(store, update.flow_id)
    assert replayed.counts.kept_newer == 1
    assert (replayed.counts.created, replayed.counts.updated, replayed.counts.deleted) == (0, 0, 0)
    assert state(store) == before and changes(store) == logged
    assert b'numero="X"' not in feed(store) and b'numero="Y"' in feed(store)


def test_a_replay_reports_each_record_a_later_flow_spoke_of(store: Store) -> None:
    push(store, formation("X"), formation("Y"), formation("Z"))
    first = push(store, formation("X", intitule="v2"), formation("Y", intitule="v2"))
    push(store, formation("Y", intitule="v3"))
    push(store, formation("X", intitule="v2"))  # the same as stored: spoken of, unchanged
    before = state(store)
    replayed = replay_flow(store, first.flow_id)
    assert replayed.counts.kept_newer == 1, "Y: a later flow set it otherwise"
    assert replayed.counts.unchanged == 1, "X: stored exactly as the replay says"
    assert state(store) == before


def test_an_old_snapshot_replay_is_refused_with_its_reason(store: Store) -> None:
    old = push(store, formation("F1"), kind="snapshot")
    push(store, formation("F1"), formation("F2"), kind="snapshot")
    with pytest.raises(FlowError, match=r"older than snapshot .* replaying it could not change"):
        replay_flow(store, old.flow_id)


def test_a_snapshot_replay_after_later_deltas_keeps_what_they_brought(store: Store) -> None:
    snapshot = push(store, formation("F1"), formation("F2"), kind="snapshot")
    push(store, formation("F3"))  # created after the snapshot: absent from it, kept
    push(store, deletions=("F2",))  # deleted after it: stays deleted
    replayed = replay_flow(store, snapshot.flow_id)
    assert replayed.counts.kept_newer == 2  # F2 (in the snapshot) and F3 (absent from it)
    now = state(store)
    assert now["F3"][0] is False and now["F2"][0] is True and now["F1"][0] is False


def test_resuming_an_old_snapshot_after_later_syncs_marks_it_superseded(store: Store) -> None:
    push(store, *(formation(f"F{i}") for i in range(20)), kind="snapshot")
    stale = received(store, SOURCE, document([formation("F0")]), "snapshot", region="11")
    later = push(store, *(formation(f"F{i}") for i in range(25)), kind="snapshot")
    before, logged = state(store), changes(store)
    [resumed] = resume_pending(store)
    assert resumed.flow_id == stale and resumed.status == "superseded"
    status, note = flow_status(store, stale)
    assert status == "superseded" and note is not None and later.flow_id in note
    assert state(store) == before and changes(store) == logged
    assert resume_pending(store) == []


def test_resuming_a_delta_after_later_deltas_keeps_their_records(store: Store) -> None:
    push(store, formation("A"), formation("B"))
    late = received(
        store, SOURCE, document([formation("A", intitule="old"), formation("C")]), region="11"
    )
    push(store, deletions=("A",))
    [resumed] = resume_pending(store)
    assert resumed.status == "applied" and resumed.counts.kept_newer == 1
    now = state(store)
    assert now["A"][0] is True, "deleted by a later flow: stays deleted"
    assert now["C"][0] is False, "no later flow spoke of C: the late flow brings it"
    assert flow_status(store, late)[0] == "applied"


def test_a_flow_is_applied_once_when_two_processes_resume_it_at_once(store: Store) -> None:
    flow_id = received(
        store, SOURCE, document([formation(f"F{i}") for i in range(30)]), region="11"
    )
    results: list[list[FlowResult]] = []
    errors: list[BaseException] = []

    def resume() -> None:
        try:
            results.append(resume_pending(store))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=resume) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    applied = [r for batch in results for r in batch]
    assert [r.flow_id for r in applied] == [flow_id], "applied by exactly one of them"
    assert applied[0].counts.created == 30
    with store.engine.connect() as connection:
        row = connection.execute(select(FLOWS).where(FLOWS.c.id == flow_id)).mappings().one()
    assert (row["status"], row["created"]) == ("applied", 30)


def test_apply_refuses_a_flow_applied_already(store: Store) -> None:
    flow_id = received(store, SOURCE, document([formation("F1")]), region="11")
    apply(store, flow_id)
    with pytest.raises(FlowError, match="is applied: not applied again"):
        apply(store, flow_id)
