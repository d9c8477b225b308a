"""The language-training sessions as GeoJSON (RFC 7946), for the national map.

One ``Point`` feature per session, with the harmonised attributes a map filters on (kind,
path, target level, certifications, conventionnement, financeurs, département, region,
dates). `feature_collection` streams a whole ``FeatureCollection`` for a `SessionFilter`
without building it in memory (`collection_chunks` does the same inside the caller's
transaction); `located_sessions` and `session_feature` give one feature at a time, for
publishers that write their own files.

Where a session is placed, said by its ``position`` property:

- ``source``: the latitude and longitude the source sent (``geolocalisation``);
- ``departement``: no coordinates were sent, so the session sits at the approximate centre
  of its département (``hub/publish/data/departements_centroides.csv``, prefectures to about
  0.1 degree). There is no table of commune positions in the hub, so no finer fallback.

A session with neither is not a feature, but it is never dropped silently: the collection
ends with an ``unlocated`` member (a foreign member, allowed by RFC 7946 §6.1) giving their
count and identifiers, and ``hub geo report`` lists them. The point ``0, 0`` is treated as
"no coordinates": sources send it as a placeholder, and no French training happens there.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

from sqlalchemy import Connection, Engine

from hub.publish.stats import SessionFilter, SessionView, iter_sessions, region_names
from hub.store.db import snapshot_connection

PositionKind = Literal["source", "departement"]
UNLOCATED_LISTED = 1000
"""At most this many unlocated sessions are named in a collection (all are counted)."""
_CHUNK_FEATURES = 64
_DIGITS = 6
"""RFC 7946 §11.2: six decimals are about 10 cm, more only adds bytes."""


@dataclass(frozen=True, slots=True)
class Position:
    longitude: float
    latitude: float
    kind: PositionKind


@cache
def departement_centres() -> dict[str, tuple[float, float]]:
    """Département code to the (longitude, latitude) of its prefecture, approximately."""
    data = resources.files("hub.publish").joinpath("data/departements_centroides.csv")
    rows = csv.DictReader(io.StringIO(data.read_text(encoding="utf-8")))
    return {row["departement"]: (float(row["longitude"]), float(row["latitude"])) for row in rows}


def locate(view: SessionView) -> Position | None:
    """Where to draw ``view``: its own coordinates, else its département's centre, else None."""
    latitude, longitude = view.session.latitude, view.session.longitude
    if latitude is not None and longitude is not None and (latitude, longitude) != (0.0, 0.0):
        return Position(round(longitude, _DIGITS), round(latitude, _DIGITS), "source")
    centre = departement_centres().get(view.departement or "")
    if centre is None:
        return None
    return Position(centre[0], centre[1], "departement")


def feature_id(view: SessionView) -> str:
    """Stable while the record is unchanged: source, formation numero, action and session rank."""
    formation = view.formation
    return f"{formation.source}/{formation.numero}/{view.action_index}/{view.session_index}"


def session_feature(
    view: SessionView, position: Position, names: dict[str, str] | None = None
) -> dict[str, Any]:
    """One GeoJSON ``Feature`` (``Point``, longitude first) with the map's attributes."""
    formation, action, session = view.formation, view.action, view.session
    language = formation.language
    region = view.region
    return {
        "type": "Feature",
        "id": feature_id(view),
        "geometry": {"type": "Point", "coordinates": [position.longitude, position.latitude]},
        "properties": {
            **identity(view),
            "intitule": formation.intitule,
            "organisme": view.organisme,
            "siret_organisme": formation.siret_organisme,
            "kind": language.kind if language else None,
            "path": language.path if language else None,
            "target_level": language.target_level if language else None,
            "certifications": view.certifications,
            "cpf_eligible": formation.cpf_eligible,
            "conventionnement": action.conventionnement,
            "financeurs": action.financeurs,
            "departement": view.departement,
            "region": region,
            "region_nom": (names or {}).get(region or ""),
            "commune": session.code_insee_commune,
            "debut": session.debut,
            "fin": session.fin,
            "position": position.kind,
        },
    }


def identity(view: SessionView) -> dict[str, str | None]:
    """Who the session is: source, then formation, action and session numeros."""
    return {
        "source": view.formation.source,
        "numero_formation": view.formation.numero,
        "numero_action": view.action.numero,
        "numero_session": view.session.numero,
    }


@dataclass
class GeoReport:
    """How the sessions of a filter were placed, and which could not be."""

    positions: Counter[str] = field(default_factory=Counter)
    """``source``, ``departement`` and ``none`` (unlocated) counts."""
    unlocated: list[dict[str, str | None]] = field(default_factory=list)
    """The first ``limit`` unlocated sessions, with their département and region."""
    limit: int = UNLOCATED_LISTED

    def record(self, view: SessionView, position: Position | None) -> None:
        self.positions[position.kind if position else "none"] += 1
        if position is None and len(self.unlocated) < self.limit:
            place = {"departement": view.departement, "region": view.region}
            self.unlocated.append({**identity(view), **place})

    def summary(self) -> dict[str, Any]:
        """The collection's closing members: positions and unlocated sessions."""
        count = self.positions["none"]
        return {
            "positions": {kind: self.positions[kind] for kind in ("source", "departement")},
            "unlocated": {
                "count": count,
                "listed": len(self.unlocated),
                "sessions": self.unlocated,
            },
        }


def located_sessions(
    connection: Connection, wanted: SessionFilter, report: GeoReport
) -> Iterator[tuple[SessionView, Position]]:
    """The sessions ``wanted`` keeps that can be placed; ``report`` records every one."""
    for view in iter_sessions(connection, wanted):
        position = locate(view)
        report.record(view, position)
        if position is not None:
            yield view, position


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def feature_collection(engine: Engine, wanted: SessionFilter) -> Iterator[bytes]:
    """Stream a ``FeatureCollection`` of the sessions ``wanted`` keeps, as UTF-8 JSON.

    One read transaction covers the walk, so the collection is one consistent state.
    """
    with snapshot_connection(engine) as connection, connection.begin():
        yield from collection_chunks(connection, wanted)


def collection_chunks(connection: Connection, wanted: SessionFilter) -> Iterator[bytes]:
    """The ``FeatureCollection`` as UTF-8 chunks of a few dozen features, read through
    ``connection`` (the caller owns the transaction: a publisher writing a file, say)."""
    names = region_names()
    report = GeoReport()
    head = {"type": "FeatureCollection", "filter": wanted.describe()}
    yield (_dumps(head)[:-1] + ',"features":[').encode()
    buffer: list[str] = []
    separator = ""
    for view, position in located_sessions(connection, wanted, report):
        buffer.append(separator + _dumps(session_feature(view, position, names)))
        separator = ","
        if len(buffer) >= _CHUNK_FEATURES:
            yield "".join(buffer).encode()
            buffer.clear()
    summary = _dumps(report.summary())
    yield ("".join(buffer) + "]," + summary[1:] + "\n").encode()


def geo_report(
    engine: Engine, wanted: SessionFilter, *, limit: int = UNLOCATED_LISTED
) -> GeoReport:
    """How the sessions ``wanted`` keeps are placed, naming up to ``limit`` unlocated ones."""
    report = GeoReport(limit=limit)
    with snapshot_connection(engine) as connection, connection.begin():
        for _ in located_sessions(connection, wanted, report):
            pass
    return report
