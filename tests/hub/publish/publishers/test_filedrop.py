"""File drop: dated gzip LHEO files plus manifests, written atomically; filters exact."""

from __future__ import annotations

import gzip
import json
import os
import threading
import time
from pathlib import Path

import pytest
from lheo_factory import formation
from publishing import Hub, apply_drop, lheo_content, partner
from sqlalchemy import select

from hub.publish.publishers import PublisherFilter
from hub.publish.publishers.files import SpoolSink, atomic_copy, file_sha256, partial_name
from hub.publish.publishers.ledger import pending_delivery
from hub.store.tables import FILES, FORMATIONS


def not_language(numero: str, **fields: str) -> str:
    """A formation the map stage does not classify as language training."""
    return formation(numero, intitule="Comptabilité et paie", **fields).replace(
        "<code-FORMACODE>15235</code-FORMACODE>", "<code-FORMACODE>32663</code-FORMACODE>"
    )


def test_drops_files_and_manifests_that_a_consumer_applies_to_the_store_offer(
    hub: Hub, tmp_path: Path
) -> None:
    folder = tmp_path / "drop"
    config = partner("france-travail", "filedrop", folder)
    hub.load([formation("F1"), formation("F2"), formation("F3")])
    assert hub.run(config).kind == "full"
    hub.load([formation("F2", contenu="Nouveau programme."), formation("F4")], deletions=("F1",))
    delta = hub.run(config)
    assert (delta.kind, delta.formations, delta.deletions) == ("delta", 2, 1)

    names = sorted(path.name for path in folder.iterdir())
    assert not [name for name in names if name.startswith(".")]  # no temporary file left
    assert len(names) == 4 and names[0].startswith("lheo-") and "-full-" in names[0]
    manifest = json.loads((folder / names[2]).read_text(encoding="utf-8"))
    with hub.store.engine.connect() as connection:
        recorded = connection.execute(select(FILES).where(FILES.c.name == names[3])).one()
    assert manifest["delivery"] == delta.delivery_id == recorded.delivery_id
    assert (manifest["kind"], manifest["from_cursor"], manifest["to_cursor"]) == ("delta", 3, 6)
    assert manifest["files"] == [
        {
            "name": names[3],
            "media_type": "application/xml",
            "size": (folder / names[3]).stat().st_size,
            "sha256": file_sha256(folder / names[3]),
        }
    ]
    assert recorded.sha256 == manifest["files"][0]["sha256"]
    assert apply_drop(folder) == hub.offer()


def test_a_formation_leaving_the_filter_is_sent_as_a_deletion(hub: Hub, tmp_path: Path) -> None:
    regional = partner("idf", "filedrop", tmp_path / "idf", filter=PublisherFilter(regions=("11",)))
    language = partner(
        "fle", "filedrop", tmp_path / "fle", filter=PublisherFilter(language_training=True)
    )
    hub.load([formation("F1"), formation("F2")], region="11")
    hub.load([formation("B1")], source="bfc", region="27")
    assert [hub.run(regional).formations, hub.run(language).formations] == [2, 3]

    hub.load([formation("F1", contenu="Déménagé.")], region="84")  # its region changes
    hub.load([not_language("F2")], region="11")  # no longer language training
    hub.load([formation("B2")], source="bfc", region="27")  # never this partner's
    with hub.store.engine.connect() as connection:
        rows = connection.execute(
            select(FORMATIONS.c.numero, FORMATIONS.c.region, FORMATIONS.c.language_kind)
        ).all()
    assert {(r.numero, r.region, r.language_kind is not None) for r in rows} >= {
        ("F1", "84", True),
        ("F2", "11", False),
    }

    delta = hub.run(regional)
    assert (delta.formations, delta.deletions) == (1, 1)  # F2 updated, F1 deleted, B2 unsaid
    [*_, last] = sorted((tmp_path / "idf").glob("*.xml.gz"))
    assert lheo_content(last.read_bytes())[1] == [("idf", "F1")]
    assert apply_drop(tmp_path / "idf") == hub.offer(regional.filter)
    assert hub.run(language).deletions == 1
    assert apply_drop(tmp_path / "fle") == hub.offer(language.filter)


def test_a_drop_that_failed_is_written_again_with_the_same_bytes(hub: Hub, tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.write_text("not a folder yet")  # the share is not mounted
    config = partner("drop", "filedrop", folder)
    hub.load([formation("F1")])
    failed = hub.run(config)
    assert failed.outcome == "failed" and str(folder) in (failed.error or "")
    pending = pending_delivery(hub.store.engine, "drop")
    assert pending is not None
    folder.unlink()
    hub.load([formation("F2")])
    resent = hub.run(config)
    assert (resent.outcome, resent.resent, resent.to_cursor) == ("acknowledged", True, 1)
    dropped = folder / pending.files[0].name
    assert file_sha256(dropped) == pending.files[0].sha256
    assert hub.run(config).kind == "delta" and apply_drop(folder) == hub.offer()


def test_a_file_is_visible_under_its_name_only_once_complete(tmp_path: Path) -> None:
    source = tmp_path / "spooled.fifo"
    os.mkfifo(source)
    folder = tmp_path / "drop"
    first_half, second_half = b"<lheo>" + b"x" * 70_000, b"y" * 70_000 + b"</lheo>"
    released = threading.Event()

    def produce() -> None:  # a slow disk: half the bytes, a pause, the rest
        with source.open("wb") as pipe:
            pipe.write(first_half)
            pipe.flush()
            released.wait(timeout=20)
            pipe.write(second_half)

    producer = threading.Thread(target=produce)
    producer.start()
    copier = threading.Thread(target=atomic_copy, args=(source, folder, "lheo.xml.gz"))
    copier.start()
    target = folder / "lheo.xml.gz"
    deadline = time.monotonic() + 20
    while not (partial_name(target).exists() and partial_name(target).stat().st_size > 0):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert not target.exists()  # half written: only the temporary name exists
    assert sorted(p.name for p in folder.iterdir()) == [".lheo.xml.gz.partial"]
    released.set()
    producer.join(timeout=20)
    copier.join(timeout=20)
    assert target.read_bytes() == first_half + second_half
    assert sorted(p.name for p in folder.iterdir()) == ["lheo.xml.gz"]


def test_a_spool_file_is_deterministic_and_never_left_half_written(tmp_path: Path) -> None:
    digests = []
    for name in ("a.xml.gz", "b.xml.gz"):
        with SpoolSink(tmp_path / name, "application/xml", compress=True) as sink:
            sink.write(b"<lheo>same content</lheo>\n")
        assert sink.result is not None and sink.result.sha256 == file_sha256(tmp_path / name)
        digests.append(sink.result.sha256)
    assert digests[0] == digests[1]  # gzip without timestamp or name: same bytes
    assert gzip.decompress((tmp_path / "a.xml.gz").read_bytes()) == b"<lheo>same content</lheo>\n"

    with pytest.raises(RuntimeError), SpoolSink(tmp_path / "c.xml.gz", "application/xml") as sink:
        sink.write(b"<lheo>")
        raise RuntimeError("the store went away mid-file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.xml.gz", "b.xml.gz"]
