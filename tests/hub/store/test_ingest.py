"""Ingest semantics, on SQLite and PostgreSQL: identity, hashes, datemaj, snapshots, deltas.

Every test here runs twice (see the ``store`` fixture), because these are exactly the
behaviours that depend on the database.
"""

from __future__ import annotations

import gzip
import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from lheo_factory import document, formation, received
from sqlalchemy import func
from sqlmodel import Session as DbSession
from sqlmodel import select

from hub.errors import ArchiveError, MalformedXmlError
from hub.pipeline.ingest import FlowResult, ingest
from hub.pipeline.replay import resume_pending
from hub.store import Store
from hub.store.flows import flow_parts
from hub.store.models import Action, Change, Flow, FlowRejection, Formation, Organisme, Session
from hub.store.tables import FORMATIONS


def push(store: Store, data: bytes, kind: str = "delta", source: str = "idf") -> FlowResult:
    return ingest(store, io.BytesIO(data), source=source, region="11", kind=kind)  # type: ignore[arg-type]


def live(store: Store, source: str = "idf") -> dict[str, str]:
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(FORMATIONS.c.numero, FORMATIONS.c.content_hash).where(
                FORMATIONS.c.source == source, FORMATIONS.c.deleted.is_(False)
            )
        )
        return dict(rows.all())  # type: ignore[arg-type]


def first(store: Store, statement: Any) -> Any:
    with DbSession(store.engine) as session:
        return session.exec(statement).one()


def count(store: Store, model: type) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(model)).scalar_one())


def changes(store: Store) -> list[tuple[int, str, str]]:
    with store.engine.connect() as connection:
        rows = connection.execute(select(Change.seq, Change.numero, Change.op).order_by(Change.seq))  # type: ignore[call-overload]
        return [tuple(row) for row in rows]


def test_first_ingest_creates_formations_actions_sessions_and_organismes(store: Store) -> None:
    result = push(store, document([formation("F1", sessions=3), formation("F2")]), "snapshot")
    assert result.counts.as_dict() == {
        "formations": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "deleted": 0,
        "rejected": 0,
        "stale": 0,
        "kept_newer": 0,
    }
    assert count(store, Formation) == 2
    assert count(store, Action) == 2
    assert count(store, Session) == 4
    assert count(store, Organisme) == 1
    assert [c[1:] for c in changes(store)] == [("F1", "upsert"), ("F2", "upsert")]
    row = first(store, select(Formation).where(Formation.numero == "F1"))
    assert row.intitule == "Français langue étrangère - niveau A2"
    assert row.formacode == "15235"
    assert row.region == "11"
    assert row.flow_id == result.flow_id
    assert row.fragment.startswith('<formation xmlns="http://lheo.gouv.fr/2.3"')


def test_the_same_content_writes_nothing_and_emits_no_change(store: Store) -> None:
    data = document([formation("F1"), formation("F2")])
    push(store, data, "snapshot")
    before = changes(store)
    again = push(store, data, "snapshot")
    assert again.counts.unchanged == 2
    assert again.counts.created == again.counts.updated == again.counts.deleted == 0
    assert changes(store) == before


def test_a_changed_formation_is_updated_and_replaces_its_children(store: Store) -> None:
    push(store, document([formation("F1", sessions=3)]))
    result = push(store, document([formation("F1", sessions=1, datemaj="20260201")]))
    assert result.counts.updated == 1
    assert count(store, Session) == 1
    with store.engine.connect() as connection:
        version = connection.execute(select(FORMATIONS.c.version)).scalar_one()
    assert version == 2
    seqs = [seq for seq, _, _ in changes(store)]
    assert seqs == sorted(seqs) and len(set(seqs)) == 2


def test_an_older_datemaj_never_overwrites_a_newer_one(store: Store) -> None:
    push(store, document([formation("F1", intitule="Version de février", datemaj="20260201")]))
    result = push(
        store, document([formation("F1", intitule="Version de janvier", datemaj="20260101")])
    )
    assert result.counts.stale == 1 and result.counts.updated == 0
    with store.engine.connect() as connection:
        assert (
            connection.execute(select(FORMATIONS.c.intitule)).scalar_one() == "Version de février"
        )


def test_unknown_datemaj_does_not_block_an_update(store: Store) -> None:
    push(store, document([formation("F1", datemaj="20260201")]))
    result = push(store, document([formation("F1", intitule="Nouveau titre", datemaj="00000000")]))
    assert result.counts.updated == 1


def test_a_snapshot_deletes_by_absence_and_a_delta_only_what_it_names(store: Store) -> None:
    push(store, document([formation(n) for n in ("F1", "F2", "F3")]), "snapshot")
    delta = push(store, document([formation("F1")], deletions=["F2"]))
    assert delta.counts.deleted == 1
    assert set(live(store)) == {"F1", "F3"}
    snapshot = push(store, document([formation("F3")]), "snapshot")
    assert snapshot.counts.deleted == 1
    assert set(live(store)) == {"F3"}
    assert count(store, Formation) == 3  # tombstones stay
    assert [op for _, numero, op in changes(store) if numero in ("F1", "F2")][-2:] == [
        "delete",
        "delete",
    ]


def test_snapshots_of_one_source_never_touch_another(store: Store) -> None:
    push(store, document([formation("F1")]), "snapshot", source="idf")
    push(store, document([formation("F9")]), "snapshot", source="bfc")
    assert set(live(store, "idf")) == {"F1"}
    assert set(live(store, "bfc")) == {"F9"}


def test_a_deleted_formation_comes_back_when_sent_again(store: Store) -> None:
    push(store, document([formation("F1")]))
    push(store, document([formation("F2")], deletions=["F1"]))
    result = push(store, document([formation("F1")]))
    assert result.counts.updated == 1
    assert set(live(store)) == {"F1", "F2"}


def test_invalid_formations_are_rejected_alone_with_their_location(store: Store) -> None:
    broken = formation("F2").replace("<certifiante>0</certifiante>", "<certifiante>9</certifiante>")
    result = push(store, document([formation("F1"), broken, formation("F3")]), "snapshot")
    assert result.counts.created == 2 and result.counts.rejected == 1
    assert set(live(store)) == {"F1", "F3"}
    rejection = first(store, select(FlowRejection))
    assert (rejection.numero, rejection.line, rejection.path) == (
        "F2",
        4,
        "formation[@numero='F2']/certifiante",
    )
    assert rejection.flow_id == result.flow_id


def test_an_invalid_record_in_a_snapshot_is_not_deleted_by_absence(store: Store) -> None:
    push(store, document([formation("F1"), formation("F2")]), "snapshot")
    broken = formation("F2", datemaj="20260301").replace("<certifiante>0", "<certifiante>9")
    result = push(store, document([formation("F1"), broken]), "snapshot")
    assert result.counts.deleted == 0
    assert set(live(store)) == {"F1", "F2"}


def test_duplicate_numeros_and_unknown_deletions_are_reported(store: Store) -> None:
    data = document([formation("F1"), formation("F1", intitule="Doublon")], deletions=["NOPE"])
    result = push(store, data)
    assert result.counts.created == 1 and result.counts.rejected == 2
    reasons = sorted(e.reason for e in result.rejections)
    assert reasons[0].startswith("delete of an unknown")
    assert reasons[1].startswith("duplicate numero in this flow (first at line 3)")
    with store.engine.connect() as connection:
        assert connection.execute(select(FORMATIONS.c.intitule)).scalar_one() != "Doublon"


def test_a_malformed_flow_changes_nothing_and_is_recorded_as_failed(store: Store) -> None:
    push(store, document([formation("F1")]), "snapshot")
    before = (live(store), changes(store))
    data = document([formation("F2"), formation("F3"), formation("F4")])
    with pytest.raises(MalformedXmlError):
        push(store, data[: len(data) - 200], "snapshot")
    assert (live(store), changes(store)) == before
    failed = first(store, select(Flow).where(Flow.status == "failed"))
    parse_error = first(store, select(FlowRejection))
    assert failed.error and "line" in failed.error
    assert parse_error.stage == "parse" and parse_error.line is not None


def test_raw_flows_are_archived_compressed_before_processing(store: Store) -> None:
    data = document([formation("F1")])
    result = push(store, data)
    flow = first(store, select(Flow))
    with store.engine.connect() as connection:
        [part] = flow_parts(connection, flow.id)
    assert part.path.is_relative_to(store.archive_dir)
    assert gzip.decompress(part.path.read_bytes()) == data
    assert part.sha256 == hashlib.sha256(data).hexdigest() and part.size_bytes == len(data)
    assert flow.size_bytes == len(data)
    assert flow.status == "applied" and flow.id == result.flow_id and flow.created == 1


def test_a_dry_run_validates_and_reports_but_writes_nothing(store: Store) -> None:
    result = ingest(store, io.BytesIO(document([formation("F1")])), source="idf", dry_run=True)
    assert result.dry_run and result.counts.created == 1
    assert count(store, Formation) == 0 and changes(store) == []


def test_an_archive_failure_refuses_the_flow_before_anything_is_applied(
    store: Store, tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the archive folder should be")
    full = Store(store.engine, blocked)
    with pytest.raises(ArchiveError, match="cannot archive"):
        push(full, document([formation("F1")]))
    assert count(store, Formation) == 0 and count(store, Flow) == 0


def test_flows_left_received_by_a_crash_are_resumed(store: Store) -> None:
    flow_id = received(store, "idf", document([formation("F1"), formation("F2")]), "snapshot")
    [result] = resume_pending(store)
    assert result.flow_id == flow_id and result.counts.created == 2
    assert resume_pending(store) == []
