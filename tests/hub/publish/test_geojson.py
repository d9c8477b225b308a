"""The map feed: valid RFC 7946 GeoJSON, points where the sessions are, nothing dropped silently."""

from __future__ import annotations

import csv
import io
import json
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from geojson_pydantic import FeatureCollection
from language_offers import Action, Offer, offers_document
from live_server import serving
from typer.testing import CliRunner

from hub.api.app import create_app
from hub.cli import app
from hub.pipeline.ingest import ingest
from hub.publish.geojson import feature_collection
from hub.publish.stats import SessionFilter
from hub.settings import Settings
from hub.store import Store

REPO = Path(__file__).resolve().parents[3]
CORPUS = (
    Offer("G1", (Action("2A", ("20",), 2, ("41.9192", "8.7386"), commune="2A004"),)),
    Offer("G2", (Action("75", ("2",), 1),)),
    Offer("G3", (Action("975", ("2",), 1),)),
    Offer("G4", (Action("13", ("4",), 1, ("43,2965", "5,3698")),)),
    Offer("G5", (Action("75", ("2",), 3),), formacode="31812", intitule="Cariste"),
    Offer("G6", (Action("2B", ("2",), 1, ("0", "0")),)),
    Offer("G7", (Action("69", ("5",), 1),), certifinfo=("76101",)),
)


def centre(departement: str) -> list[float]:
    """[longitude, latitude] of the département's prefecture, read from the data file."""
    path = REPO / "hub/publish/data/departements_centroides.csv"
    with path.open(encoding="utf-8") as handle:
        row = next(r for r in csv.DictReader(handle) if r["departement"] == departement)
    return [float(row["longitude"]), float(row["latitude"])]


@pytest.fixture
def loaded(store: Store) -> Store:
    ingest(store, io.BytesIO(offers_document(CORPUS)), source="national", kind="delta")
    return store


@pytest.fixture
def http(loaded: Store) -> Iterator[httpx.Client]:
    with serving(create_app(Settings(), loaded)) as url, httpx.Client(base_url=url) as client:
        yield client


def by_id(collection: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {feature["id"]: feature for feature in collection["features"]}


def assert_rfc7946(collection: dict[str, Any]) -> None:
    """Structure per RFC 7946, checked by geojson-pydantic and by hand for what it cannot
    check: positions are [longitude, latitude] within range, no ``crs`` member."""
    FeatureCollection.model_validate(collection)
    assert collection["type"] == "FeatureCollection" and "crs" not in collection
    for feature in collection["features"]:
        assert feature["type"] == "Feature" and isinstance(feature["id"], str)
        geometry = feature["geometry"]
        assert geometry["type"] == "Point" and len(geometry["coordinates"]) == 2
        longitude, latitude = geometry["coordinates"]
        assert -180 <= longitude <= 180 and -90 <= latitude <= 90
        if feature["properties"]["region"] not in ("01", "02", "03", "04", "06"):
            assert -5.5 <= longitude <= 10 and 41 <= latitude <= 51.5  # mainland France


def test_the_feed_is_an_rfc7946_feature_collection(http: httpx.Client) -> None:
    response = http.get("/v1/feed/geojson")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    assert int(response.headers["x-hub-cursor"]) == len(CORPUS)
    collection = response.json()
    assert_rfc7946(collection)
    sessions = 2 + 1 + 1 + 1 + 1  # every language session that can be placed (G3 cannot)
    assert len(collection["features"]) == sessions


def test_points_are_the_source_coordinates_else_the_departement_centre(
    http: httpx.Client,
) -> None:
    features = by_id(http.get("/v1/feed/geojson").json())
    ajaccio = features["national/G1/0/1"]
    assert ajaccio["geometry"]["coordinates"] == [8.7386, 41.9192]  # longitude first
    assert ajaccio["properties"]["position"] == "source"
    marseille = features["national/G4/0/0"]  # sent with decimal commas
    assert marseille["geometry"]["coordinates"] == [5.3698, 43.2965]
    paris = features["national/G2/0/0"]
    assert paris["geometry"]["coordinates"] == centre("75")
    assert paris["properties"]["position"] == "departement"
    null_island = features["national/G6/0/0"]  # 0,0 is a placeholder, not a place
    assert null_island["geometry"]["coordinates"] == centre("2B")
    assert null_island["properties"]["position"] == "departement"


def test_each_point_carries_the_attributes_a_map_filters_on(http: httpx.Client) -> None:
    features = by_id(http.get("/v1/feed/geojson").json())
    assert features["national/G1/0/0"]["properties"] == {
        "source": "national",
        "numero_formation": "G1",
        "numero_action": "G1-A1",
        "numero_session": "G1-A1-S1",
        "intitule": "Français langue étrangère",
        "organisme": "Association Langues et Cité",
        "siret_organisme": "12345678900017",
        "kind": "integration",
        "path": "integration",
        "target_level": "A1",
        "certifications": [],
        "cpf_eligible": False,
        "conventionnement": "ofii",
        "financeurs": ["20"],
        "departement": "2A",
        "region": "94",
        "region_nom": "Corse",
        "commune": "2A004",
        "debut": "2027-01-05",
        "fin": "2027-06-30",
        "position": "source",
    }
    delf = features["national/G7/0/0"]["properties"]
    assert delf["certifications"] == ["DELF A2"] and delf["cpf_eligible"] is True
    assert delf["kind"] == "fle" and delf["conventionnement"] == "non_conventionne"
    assert "national/G5/0/0" not in features  # not language training


def test_sessions_without_a_place_are_counted_and_named(http: httpx.Client) -> None:
    collection = http.get("/v1/feed/geojson").json()
    assert collection["positions"] == {"source": 3, "departement": 3}
    assert collection["unlocated"] == {
        "count": 1,
        "listed": 1,
        "sessions": [
            {
                "source": "national",
                "numero_formation": "G3",
                "numero_action": "G3-A1",
                "numero_session": "G3-A1-S1",
                "departement": "975",
                "region": "975",
            }
        ],
    }


FILTERS = (
    ({"region": "94"}, {"G1", "G6"}),
    ({"region": "Corse", "kind": "integration"}, {"G1"}),
    ({"departement": "75"}, {"G2"}),
    ({"kind": "fle"}, {"G2", "G4", "G6", "G7"}),
    ({"certification": "delf a2"}, {"G7"}),
    ({"conventionnement": "ofii"}, {"G1"}),
)


def test_the_feed_filters_by_region_departement_kind_and_certification(
    http: httpx.Client,
) -> None:
    for params, formations in FILTERS:
        collection = http.get("/v1/feed/geojson", params=params).json()
        assert_rfc7946(collection)
        found = {f["properties"]["numero_formation"] for f in collection["features"]}
        assert found == formations, params


def test_a_bad_filter_is_a_422_problem(http: httpx.Client) -> None:
    response = http.get("/v1/feed/geojson", params={"kind": "cuisine"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "unknown kind 'cuisine'" in response.json()["detail"]


def test_the_collection_is_streamed_a_chunk_at_a_time(store: Store) -> None:
    many = Offer("M1", (Action("69", ("2",), 100), Action("2A", ("2",), 100)))
    ingest(store, io.BytesIO(offers_document([many])), source="national")
    chunks = feature_collection(store.engine, SessionFilter())
    assert isinstance(chunks, types.GeneratorType)
    parts = list(chunks)
    assert len(parts) >= 4
    collection = json.loads(b"".join(parts))
    assert_rfc7946(collection)
    assert len(collection["features"]) == 200


def test_hub_geo_report_lists_what_the_map_cannot_place(
    loaded: Store, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_DATABASE_URL", database_url)
    monkeypatch.setenv("HUB_ARCHIVE_DIR", str(tmp_path / "archive"))
    result = CliRunner().invoke(app, ["geo", "report"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        "3 sessions at the source's coordinates, 3 at their département's centre, 1 unlocated"
    )
    assert "G3-A1-S1" in result.stdout and "975" in result.stdout
