"""The national feed: valid LHEO 2.3, 2.2 upgraded intact, deltas and the changes walk."""

from __future__ import annotations

import io
from pathlib import Path

from lheo_factory import document, formation, repaired_anotea_fixture
from lxml import etree
from sqlalchemy import text

from hub.lheo.reader import LheoReader
from hub.lheo.schema import NS_23, xml_schema
from hub.pipeline.ingest import ingest
from hub.publish.feed import changes_page, current_cursor, open_lheo, write_lheo
from hub.store import Store
from simulators.corpus import CorpusSpec, write_corpus

L = {"l": NS_23}


def export(store: Store, since: int | None = None) -> bytes:
    return b"".join(write_lheo(store.engine, since=since))


def load(store: Store, data: bytes, kind: str = "delta", source: str = "idf") -> None:
    ingest(store, io.BytesIO(data), source=source, region="11", kind=kind)  # type: ignore[arg-type]


def walk_changes(store: Store, since: int = 0, limit: int = 2) -> dict[tuple[str, str], str]:
    """What a portal holds after looping on the changes feed from ``since``."""
    replica: dict[tuple[str, str], str] = {}
    cursor = since
    while True:
        with store.engine.connect() as connection:
            page = changes_page(connection, cursor, limit)
        for change in page.changes:
            key = (change["source"], change["numero"])
            if change["op"] == "delete":
                replica.pop(key, None)
            else:
                replica[key] = change["content_hash"]
        cursor = page.next_cursor
        if not page.has_more:
            return replica


def store_content(store: Store) -> dict[tuple[str, str], str]:
    with store.engine.connect() as connection:
        page = changes_page(connection, 0, 1_000_000)
    return {
        (c["source"], c["numero"]): c["content_hash"] for c in page.changes if c["op"] == "upsert"
    }


def content(root: etree._Element) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """Every element's name, text and attributes, in document order, namespace aside."""
    return [
        (etree.QName(e).localname, (e.text or "").strip(), sorted(e.attrib.items()))
        for e in root.iter(etree.Element)
    ]


def test_the_full_feed_validates_against_the_official_xsd(store: Store) -> None:
    load(store, document([formation("F1", sessions=2), formation("F2")], version="2.2"))
    load(store, document([formation("B1")]), source="bfc")
    feed = export(store)
    root = etree.fromstring(feed)
    assert xml_schema("2.3").validate(root), xml_schema("2.3").error_log
    numeros = root.xpath("//l:formation/@numero", namespaces=L)
    assert sorted(numeros) == ["B1", "F1", "F2"]
    provenance = root.xpath(
        "//l:formation[@numero='B1']/l:extras[@info='hub-provenance']/l:extra[@info='source']/text()",
        namespaces=L,
    )
    assert provenance == ["bfc"]


def test_a_2_2_sample_comes_out_as_2_3_with_texts_and_codes_intact(
    store: Store, shared: Path, tmp_path: Path
) -> None:
    data = repaired_anotea_fixture(shared)
    source = etree.fromstring(data).getroottree()
    ns22 = "{http://www.lheo.org/2.2}"
    load(store, data, "snapshot")
    exported = etree.fromstring(export(store))
    assert xml_schema("2.3").validate(exported), xml_schema("2.3").error_log

    original = source.getroot().find(f"{ns22}offres/{ns22}formation")
    [upgraded] = exported.findall("l:offres/l:formation", L)
    assert original is not None
    for provenance in upgraded.findall("l:extras[@info='hub-provenance']", L):
        upgraded.remove(provenance)
    assert content(upgraded) == content(original)
    assert len(upgraded.findall(".//l:session", L)) == len(original.findall(f".//{ns22}session"))
    assert upgraded.findall(".//l:code-financeur", L)


def test_a_delta_feed_has_the_changes_and_explicit_deletions(store: Store) -> None:
    load(store, document([formation("F1"), formation("F2"), formation("F3")]))
    with store.engine.connect() as connection:
        cursor = current_cursor(connection)
    load(store, document([formation("F1", intitule="Titre modifié")], deletions=["F2"]))
    delta = export(store, since=cursor)
    reader = LheoReader(io.BytesIO(delta))
    assert [r.numero for r in reader] == ["F1"]
    assert reader.deletions == ["F2"]
    assert xml_schema("2.3").validate(etree.fromstring(delta))


def cursor_of(store: Store) -> int:
    with store.engine.connect() as connection:
        return current_cursor(connection)


def test_with_nothing_to_send_there_is_no_document(store: Store) -> None:
    """LHEO 2.3 forbids an empty <offres>: no formation to send means no document at all."""
    assert export(store) == b"" and export(store, since=0) == b""
    assert open_lheo(store.engine) is None and open_lheo(store.engine, since=0) is None
    load(store, document([formation("F1")]))
    cursor = cursor_of(store)
    assert export(store, since=cursor) == b""
    assert open_lheo(store.engine, since=cursor) is None
    started = open_lheo(store.engine)
    assert started is not None
    full = b"".join(started)
    assert full == export(store) and xml_schema("2.3").validate(etree.fromstring(full))
    load(store, document([formation("F2")]), "snapshot")  # F1 deleted by absence
    load(store, document([formation("F3")]), "snapshot")
    load(store, document([], deletions=["F3"]))  # nothing live left
    assert export(store) == b""
    assert open_lheo(store.engine) is None


def test_a_delta_of_deletions_only_is_still_written(store: Store) -> None:
    load(store, document([formation("F1"), formation("F2")]))
    cursor = cursor_of(store)
    load(store, document([], deletions=["F1"]))
    delta = export(store, since=cursor)
    reader = LheoReader(io.BytesIO(delta))
    assert list(reader) == [] and reader.deletions == ["F1"]
    # The hub's delta dialect: an <offres> with no formation cannot be XSD-valid.
    assert not xml_schema("2.3").validate(etree.fromstring(delta))
    assert export(store, since=cursor_of(store)) == b""


def test_looping_on_the_changes_feed_gives_exactly_the_store(store: Store) -> None:
    load(store, document([formation(f"F{i}") for i in range(7)]), "snapshot")
    load(store, document([formation("F1", intitule="Changé")], deletions=["F3", "F4"]))
    load(store, document([formation("B1")]), source="bfc")
    load(store, document([formation("F0", intitule="Encore changé"), formation("F9")]))
    assert walk_changes(store, limit=2) == store_content(store)
    assert len(store_content(store)) == 7


def test_a_portal_that_resumes_from_its_cursor_catches_up(store: Store) -> None:
    load(store, document([formation("F1"), formation("F2")]))
    replica = walk_changes(store)
    with store.engine.connect() as connection:
        cursor = current_cursor(connection)
    load(store, document([formation("F3")], deletions=["F1"]))
    for key, value in walk_changes(store, since=cursor).items():
        replica[key] = value
    with store.engine.connect() as connection:
        page = changes_page(connection, cursor, 100)
    for change in page.changes:
        if change["op"] == "delete":
            replica.pop((change["source"], change["numero"]))
    assert replica == store_content(store)
    with store.engine.connect() as connection:
        assert page.next_cursor == current_cursor(connection)


def test_the_round_trip_through_the_feed_rebuilds_an_identical_store(
    store: Store, tmp_path: Path
) -> None:
    spec = CorpusSpec(formations=200, seed=3, regions=("*",), version="2.2", invalid_share=0.05)
    generated = io.BytesIO()
    stats = write_corpus(generated, spec, encoding="ISO-8859-1")
    load(store, generated.getvalue(), "snapshot")
    assert len(store_content(store)) == stats.formations - stats.invalid > 150
    feed = export(store)
    assert xml_schema("2.3").validate(etree.fromstring(feed))
    elsewhere = Store.at(f"sqlite:///{tmp_path / 'elsewhere.db'}", tmp_path / "elsewhere")
    load(elsewhere, feed, "snapshot")
    assert store_content(elsewhere) == store_content(store)
    assert export(elsewhere) == feed
    with store.engine.connect() as a, elsewhere.engine.connect() as b:
        for table in ("action", "session"):
            query = text(f"SELECT count(*) FROM {table}")
            assert a.execute(query).scalar_one() == b.execute(query).scalar_one() > 0
