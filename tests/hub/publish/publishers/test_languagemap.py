"""The language-training map: valid GeoJSON of the sessions, redelivered only on change."""

from __future__ import annotations

import io
import json
from pathlib import Path

from lheo_factory import formation
from publishing import Hub, partner

from hub.pipeline.ingest import ingest
from hub.publish.publishers import PublisherFilter
from hub.publish.publishers.sessions import filtered_sessions
from simulators.corpus import CorpusSpec, formation_xml, write_corpus, write_formations

SPEC = CorpusSpec(formations=30, seed=21, regions=("*",), language_share=0.5)
MAP_ATTRIBUTES = {
    "kind", "path", "target_level", "certifications", "conventionnement", "financeurs",
    "debut", "fin", "departement", "region", "numero_formation", "numero_session", "position",
}  # fmt: skip


def ingest_corpus(hub: Hub, body: bytes, kind: str = "snapshot") -> None:
    ingest(hub.store, io.BytesIO(body), source="nat", region="11", kind=kind)  # type: ignore[arg-type]


def test_the_map_is_a_valid_feature_collection_of_every_language_session(
    hub: Hub, tmp_path: Path
) -> None:
    corpus = io.BytesIO()
    write_corpus(corpus, SPEC)
    ingest_corpus(hub, corpus.getvalue())
    hub.load(
        [formation("NOPLACE", sessions=2)], source="test"
    )  # no coordinates: placed by département
    config = partner("carte", "languagemap", tmp_path / "carte")
    assert hub.run(config).outcome == "acknowledged"

    collection = json.loads((tmp_path / "carte" / "sessions-langue-francaise.geojson").read_bytes())
    assert collection["type"] == "FeatureCollection"
    features = collection["features"]
    with hub.store.engine.connect() as connection:
        sessions = list(filtered_sessions(connection, PublisherFilter(), language_only=True))
    assert len(features) + collection["unlocated"]["count"] == len(sessions) > 0
    assert len({feature["id"] for feature in features}) == len(features)
    for feature in features:
        assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Point"
        longitude, latitude = feature["geometry"]["coordinates"]
        assert -180 <= longitude <= 180 and -90 <= latitude <= 90
        assert feature["properties"].keys() >= MAP_ATTRIBUTES
        assert feature["properties"]["kind"] is not None  # language training only
    placed = {f["properties"]["position"] for f in features if f["properties"]["source"] == "test"}
    assert placed == {"departement"}


def test_the_map_is_rewritten_only_when_its_content_changes(hub: Hub, tmp_path: Path) -> None:
    corpus = io.BytesIO()
    write_corpus(corpus, SPEC)
    ingest_corpus(hub, corpus.getvalue())
    config = partner("carte", "languagemap", tmp_path / "carte")
    first = hub.run(config)
    assert first.outcome == "acknowledged"
    language = [i for i in range(SPEC.formations) if formation_xml(SPEC, i).language]
    other = next(i for i in range(SPEC.formations) if i not in language)

    assert hub.run(config).outcome == "up-to-date"  # nothing changed in the store
    changed = io.BytesIO()
    write_formations(changed, [formation_xml(SPEC, other, revision=1)])
    ingest_corpus(hub, changed.getvalue(), kind="delta")
    assert hub.run(config).outcome == "unchanged"  # the store moved, the map did not

    changed = io.BytesIO()
    write_formations(changed, [formation_xml(SPEC, language[0], revision=1)])
    ingest_corpus(hub, changed.getvalue(), kind="delta")
    again = hub.run(config)
    assert again.outcome == "acknowledged" and again.files[0].sha256 != first.files[0].sha256


def test_new_options_rebuild_the_map_though_the_store_did_not_move(
    hub: Hub, tmp_path: Path
) -> None:
    corpus = io.BytesIO()
    write_corpus(corpus, SPEC)
    ingest_corpus(hub, corpus.getvalue())
    assert hub.run(partner("carte", "languagemap", tmp_path / "carte")).outcome == "acknowledged"
    narrowed = partner("carte", "languagemap", tmp_path / "carte", options={"kind": "fle"})
    again = hub.run(narrowed)
    assert again.outcome == "acknowledged"
    collection = json.loads((tmp_path / "carte" / "sessions-langue-francaise.geojson").read_bytes())
    assert {f["properties"]["kind"] for f in collection["features"]} == {"fle"}
