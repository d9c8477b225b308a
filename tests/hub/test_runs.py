"""Runs of a source: the lock that keeps them one at a time, the run log, and replays."""

from __future__ import annotations

import io
import threading

import pytest
from lheo_factory import document, formation, received
from rich.console import Console
from sqlalchemy import select
from typer.testing import CliRunner

from hub.cli import app
from hub.errors import FlowError, SourceBusy
from hub.pipeline.ingest import FlowResult, ingest
from hub.pipeline.replay import replay_flow
from hub.store import Store
from hub.store.flows import flow_parts
from hub.store.runs import advisory_key, source_lock
from hub.store.tables import FLOWS, REJECTIONS, RUNS

INVALID = formation("BAD").replace("<certifiante>0", "<certifiante>5")


def push(store: Store, *records: str, kind: str = "delta", source: str = "dokelio") -> FlowResult:
    return ingest(store, io.BytesIO(document(records)), source=source, region="11", kind=kind)  # type: ignore[arg-type]


def flow_row(store: Store, flow_id: str) -> dict[str, object]:
    with store.engine.connect() as connection:
        row = connection.execute(select(FLOWS).where(FLOWS.c.id == flow_id)).mappings().one()
        return dict(row)


def test_a_replay_is_a_new_flow_that_changes_nothing_already_stored(store: Store) -> None:
    original = push(store, formation("F1"), formation("F2"), INVALID)
    replayed = replay_flow(store, original.flow_id, replica="test:1")
    assert replayed.flow_id != original.flow_id
    assert replayed.counts.as_dict() == {
        "formations": 3, "created": 0, "updated": 0, "unchanged": 2,
        "deleted": 0, "rejected": 1, "stale": 0, "kept_newer": 0,
    }  # fmt: skip
    assert flow_row(store, original.flow_id)["created"] == 2, "the original keeps its history"
    with store.engine.connect() as connection:
        files = [flow_parts(connection, f) for f in (replayed.flow_id, original.flow_id)]
    assert files[0] == files[1], "the very same archived files"
    assert flow_row(store, replayed.flow_id)["replay_of"] == original.flow_id
    with store.engine.connect() as connection:
        run = connection.execute(select(RUNS)).mappings().one()
        rejected = connection.execute(
            select(REJECTIONS.c.numero).where(REJECTIONS.c.flow_id == replayed.flow_id)
        ).scalars()
        assert list(rejected) == ["BAD"]
    assert (run["trigger"], run["outcome"], run["replay_of"], run["flow_id"]) == (
        "replay", "success", original.flow_id, replayed.flow_id
    )  # fmt: skip


def test_a_snapshot_replayed_after_a_later_flow_never_deletes_what_it_brought(
    store: Store,
) -> None:
    snapshot = push(store, formation("F1"), kind="snapshot")
    push(store, formation("F2"))
    replayed = replay_flow(store, snapshot.flow_id)
    assert (replayed.counts.deleted, replayed.counts.kept_newer) == (0, 1), "F2 stays"
    latest = push(store, formation("F1"), formation("F2"), kind="snapshot")
    with pytest.raises(FlowError, match="older than snapshot"):
        replay_flow(store, snapshot.flow_id)
    assert replay_flow(store, latest.flow_id).counts.unchanged == 2


def test_a_flow_a_crash_left_received_is_applied_under_its_own_id(store: Store) -> None:
    push(store, formation("F0"))
    flow_id = received(store, "dokelio", document([formation("F1")]))
    result = replay_flow(store, flow_id)
    assert result.flow_id == flow_id and result.counts.created == 1
    assert flow_row(store, flow_id)["status"] == "applied"


def test_an_unknown_flow_is_a_clear_error(store: Store) -> None:
    with pytest.raises(FlowError, match="no flow 'nope' in the store"):
        replay_flow(store, "nope")


def test_the_source_lock_is_taken_once_and_free_again_after(store: Store) -> None:
    with source_lock(store, "dokelio") as first:
        assert first
        outcome: list[bool] = []

        def other() -> None:  # another thread: another PostgreSQL session, or the same process
            with source_lock(store, "dokelio") as taken:
                outcome.append(taken)

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        assert outcome == [False]
        with source_lock(store, "emfor") as independent:
            assert independent, "one source's run never blocks another's"
    with source_lock(store, "dokelio") as again:
        assert again


def test_a_replay_waits_for_nobody_it_is_refused_while_the_source_runs(store: Store) -> None:
    flow = push(store, formation("F1"))
    taken = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with source_lock(store, "dokelio"):
            taken.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert taken.wait(10)
        with pytest.raises(SourceBusy, match="is running"):
            replay_flow(store, flow.flow_id)
    finally:
        release.set()
        holder.join()


def test_advisory_keys_are_stable_signed_64_bit_and_distinct_per_source_and_schema() -> None:
    keys = {advisory_key(name) for name in ("dokelio", "emfor", "via-competences", "grand-est")}
    assert len(keys) == 4 and all(-(2**63) <= key < 2**63 for key in keys)
    assert advisory_key("dokelio") == advisory_key("dokelio", "public")
    assert advisory_key("dokelio", "hub_a") != advisory_key("dokelio", "hub_b")


def test_hub_replay_prints_the_new_flow_and_its_counts(
    store: Store, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_DATABASE_URL", database_url)
    monkeypatch.setenv("HUB_ARCHIVE_DIR", str(store.archive_dir))
    monkeypatch.chdir(store.archive_dir.parent)
    monkeypatch.setattr("hub.cli.common.out", Console(width=160))
    original = push(store, formation("F1"))
    result = CliRunner().invoke(app, ["replay", original.flow_id])
    assert result.exit_code == 0, result.output
    assert f"replays flow {original.flow_id}" in result.output
    assert "formations 1 · created 0 · updated 0 · unchanged 1 ·" in result.output
    result = CliRunner().invoke(app, ["replay", "missing-flow"])
    assert result.exit_code == 1 and "no flow 'missing-flow'" in result.output
