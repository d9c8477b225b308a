"""The national language-training map: the sessions as GeoJSON, in a folder.

One ``Point`` feature per language-training session with the harmonised attributes the map
filters on (kind, path, target level, certifications, conventionnement, financeurs,
dates...), built by :func:`hub.publish.geojson.session_feature` and placed by
:func:`hub.publish.geojson.locate` (the source's coordinates, else the département's
centre); sessions that cannot be placed are counted and named in the collection's
``unlocated`` member, as in the API's GeoJSON. The file replaces the previous one
atomically under a stable name (``options.file``), and is written again only when the
store changed and its bytes differ from the last one delivered.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import Connection

from hub.publish.geojson import GeoReport, locate, session_feature
from hub.publish.publishers.base import (
    Plan,
    PublisherOptions,
    SnapshotFilePublisher,
    Written,
)
from hub.publish.publishers.files import SpoolSink
from hub.publish.publishers.sessions import filtered_sessions
from hub.publish.stats import SessionFilter, region_names

__all__ = ["LanguageMapOptions", "LanguageMapPublisher"]

GEOJSON_MEDIA_TYPE = "application/geo+json"
_CHUNK_FEATURES = 64


class LanguageMapOptions(PublisherOptions):
    file: str = "sessions-langue-francaise.geojson"
    """Name of the file in the destination folder (replaced atomically on each delivery)."""
    kind: str | None = None
    """Keep one language kind only (``fle``, ``asl``, ``oepre``...)."""
    certification: str | None = None
    """Keep sessions preparing this certification (the hub's label, ``DELF A2``...)."""
    conventionnement: str | None = None
    """Keep one conventionnement (``ofii``, ``autre_public``, ``non_conventionne``)."""


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class LanguageMapPublisher(SnapshotFilePublisher):
    """Writes the language-training sessions as one GeoJSON FeatureCollection."""

    name: ClassVar[str] = "languagemap"
    formats: ClassVar[tuple[str, ...]] = ("geojson",)
    Options = LanguageMapOptions

    def _wanted(self) -> SessionFilter:
        options = self.options
        assert isinstance(options, LanguageMapOptions)
        return SessionFilter(
            kind=options.kind,
            certification=options.certification,
            conventionnement=options.conventionnement,
        )

    def write(self, connection: Connection, plan: Plan, folder: Path) -> Written:
        assert isinstance(self.options, LanguageMapOptions)
        wanted, names, report = self._wanted(), region_names(), GeoReport()
        # No cursor nor date in the file: equal content must give equal bytes, so that a
        # change elsewhere in the store does not deliver the same map again.
        head = {
            "type": "FeatureCollection",
            "filter": {**self.config.filter.describe(), **wanted.describe()},
        }
        formations: set[tuple[str, str | None]] = set()
        with SpoolSink(folder / self.options.file, GEOJSON_MEDIA_TYPE) as sink:
            sink.write((_dumps(head)[:-1] + ',"features":[').encode())
            buffer: list[str] = []
            first = True
            keep = self.config.filter
            for row in filtered_sessions(connection, keep, language_only=True):
                if not wanted.matches(row.view):
                    continue
                position = locate(row.view)
                report.record(row.view, position)
                if position is None:
                    continue
                formations.add((row.view.formation.source, row.view.formation.numero))
                feature = _dumps(session_feature(row.view, position, names))
                buffer.append(("" if first else ",") + feature)
                first = False
                if len(buffer) >= _CHUNK_FEATURES:
                    sink.write("".join(buffer).encode())
                    buffer.clear()
            summary = _dumps(report.summary())
            sink.write(("".join(buffer) + "]," + summary[1:] + "\n").encode())
        assert sink.result is not None
        return Written(files=[sink.result], formations=len(formations))
