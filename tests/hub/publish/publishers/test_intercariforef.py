"""intercariforef: a full file then deltas to the live simulator; the partner ends exact."""

from __future__ import annotations

import gzip
import io
from datetime import UTC, datetime, timedelta

from lheo_factory import formation
from lxml import etree
from publishing import Hub, LiveReceiver, intercariforef
from sqlalchemy import select

from hub.lheo.schema import xml_schema
from hub.pipeline.ingest import ingest
from hub.publish.publishers import PublisherFilter, publisher_status
from hub.store.holdings import holdings
from hub.store.tables import DELIVERIES, FILES
from simulators.corpus import CorpusSpec, formation_xml, write_corpus, write_formations

IDF = CorpusSpec(formations=24, seed=5, regions=("11",), numero_prefix="IDF", language_share=0.3)
ARA = CorpusSpec(formations=12, seed=6, regions=("84",), numero_prefix="ARA", language_share=0.3)


def corpus(
    spec: CorpusSpec, indexes: range | list[int], *, revision: int = 0, deletions=()
) -> bytes:
    out = io.BytesIO()
    write_formations(
        out, [formation_xml(spec, i, revision=revision) for i in indexes], deletions=deletions
    )
    return out.getvalue()


def snapshot(spec: CorpusSpec) -> bytes:
    out = io.BytesIO()
    write_corpus(out, spec)
    return out.getvalue()


def apply(hub: Hub, body: bytes, source: str, region: str, kind: str = "delta") -> None:
    result = ingest(hub.store, io.BytesIO(body), source=source, region=region, kind=kind)  # type: ignore[arg-type]
    assert not result.rejections


def test_full_then_deltas_leave_the_partner_with_exactly_the_store_offer(
    hub: Hub, receiver: LiveReceiver
) -> None:
    config = intercariforef(receiver)
    apply(hub, snapshot(IDF), "idf", "11", "snapshot")
    apply(hub, snapshot(ARA), "ara", "84", "snapshot")

    first = hub.run(config)
    assert (first.outcome, first.kind, first.formations) == ("acknowledged", "full", 36)

    # Updates, creations and deletions in both sources: explicit and by absence.
    numeros = [f"IDF_AF_{i:010d}" for i in (11, 12, 13)]
    apply(hub, corpus(IDF, [*range(5), 24, 25], revision=1, deletions=numeros), "idf", "11")
    apply(hub, corpus(ARA, range(8), revision=1), "ara", "84", "snapshot")
    second = hub.run(config)
    assert (second.outcome, second.kind) == ("acknowledged", "delta")
    assert (second.formations, second.deletions) == (5 + 2 + 8, 3 + 4)

    # Deletions only: the document carries one unchanged formation to stay XSD-valid.
    apply(hub, corpus(IDF, [], deletions=["IDF_AF_0000000021", "IDF_AF_0000000022"]), "idf", "11")
    third = hub.run(config)
    assert (third.outcome, third.formations, third.deletions) == ("acknowledged", 1, 2)
    assert third.note is not None and "unchanged" in third.note

    assert hub.run(config).outcome == "up-to-date"

    received = receiver.deliveries
    assert [r.kind for r in received] == ["full", "delta", "delta"]
    assert [(r.from_cursor, r.to_cursor) for r in received[1:]] == [
        (received[0].to_cursor, received[1].to_cursor),
        (received[1].to_cursor, received[2].to_cursor),
    ]
    for delivery in received:  # checked here too, independently of the simulator
        root = etree.fromstring(gzip.decompress(delivery.body))
        assert xml_schema("2.3").validate(root), xml_schema("2.3").error_log
    assert receiver.offer() == hub.offer()
    assert holdings(hub.store.engine, config.name) == hub.offer()
    [status] = publisher_status(hub.store, {config.name: config})
    assert (status.lag, status.cursor_acknowledged, status.pending_delivery) == (
        0,
        received[-1].to_cursor,
        None,
    )


def test_the_ledger_records_files_sizes_checksums_and_acknowledgements(
    hub: Hub, receiver: LiveReceiver
) -> None:
    config = intercariforef(receiver)
    hub.load([formation("F1"), formation("F2")])
    result = hub.run(config)
    with hub.store.engine.connect() as connection:
        delivery = connection.execute(select(DELIVERIES)).one()
        [file] = connection.execute(select(FILES)).all()
    [received] = receiver.deliveries
    assert (delivery.status, delivery.ack_id, delivery.attempts) == (
        "acknowledged",
        "ack-000001",
        1,
    )
    assert (delivery.kind, delivery.from_cursor, delivery.to_cursor) == ("full", None, 2)
    assert (file.sha256, file.size_bytes) == (received.sha256, len(received.body))
    assert file.name == result.files[0].name and file.name.endswith("-full-from-0000000000.xml.gz")
    assert not (hub.root / "spool" / config.name / delivery.id).exists()  # acknowledged: freed


def test_deletions_that_would_empty_the_partner_wait_for_a_formation(
    hub: Hub, receiver: LiveReceiver
) -> None:
    config = intercariforef(receiver)
    hub.load([formation("F1"), formation("F2")])
    assert hub.run(config).outcome == "acknowledged"
    hub.load([], deletions=("F1",))
    carried = hub.run(config)
    assert (carried.formations, carried.deletions) == (1, 1)

    hub.load([], deletions=("F2",))
    deferred = hub.run(config)
    assert deferred.outcome == "deferred" and "empty <offres>" in (deferred.note or "")
    assert len(receiver.deliveries) == 2
    [status] = publisher_status(hub.store, {config.name: config})
    assert status.lag == 1 and status.last_outcome == "deferred"

    hub.load([formation("F3")])
    resumed = hub.run(config)
    assert (resumed.outcome, resumed.formations, resumed.deletions) == ("acknowledged", 1, 1)
    assert receiver.offer() == hub.offer() and set(hub.offer()) == {("idf", "F3")}


def test_a_daily_full_file_and_a_changed_filter_send_full_files(
    hub: Hub, receiver: LiveReceiver
) -> None:
    now = [datetime(2026, 11, 2, 6, 0, tzinfo=UTC)]
    hub.clock = lambda: now[0]
    config = intercariforef(receiver, full_every=timedelta(days=1))
    hub.load([formation("F1"), formation("F2")], region="11")
    hub.load([formation("B1")], source="bfc", region="27")
    kinds = [hub.run(config).kind]
    for hours, numero in ((1, "F3"), (24, "F4"), (1, "F5")):
        now[0] += timedelta(hours=hours)
        hub.load([formation(numero)])
        kinds.append(hub.run(config).kind)
    assert kinds == ["full", "delta", "full", "delta"]

    regional = intercariforef(
        receiver, full_every=timedelta(days=1), filter=PublisherFilter(regions=("27",))
    )
    changed = hub.run(regional)
    assert (changed.kind, changed.formations) == ("full", 1)
    assert (
        receiver.offer()
        == hub.offer(regional.filter)
        == {("bfc", "B1"): hub.offer()[("bfc", "B1")]}
    )
