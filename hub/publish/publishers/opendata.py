"""Open data: the sessions of the offer as one CSV extract, in a folder.

One row per session of every live formation the partner's filter keeps, in the columns of
:data:`hub.publish.csv_export.COLUMNS` (documented in ``docs/opendata-columns.md``), in the
spreadsheet-friendly dialect that module describes (UTF-8 with BOM, ``;``, decimal comma).
The file replaces the previous one atomically under a stable name (``options.file``), and
is written again only when the store changed and its bytes differ from the last one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from sqlalchemy import Connection

from hub.publish.csv_export import write_csv
from hub.publish.publishers.base import (
    Plan,
    PublisherOptions,
    SnapshotFilePublisher,
    Written,
)
from hub.publish.publishers.files import SpoolSink
from hub.publish.publishers.sessions import PublishedSession, filtered_sessions

__all__ = ["OpenDataOptions", "OpenDataPublisher"]

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


class OpenDataOptions(PublisherOptions):
    file: str = "offre-formation-sessions.csv"
    """Name of the file in the destination folder (replaced atomically on each delivery)."""


class OpenDataPublisher(SnapshotFilePublisher):
    """Writes one CSV row per session of the (filtered) live offer."""

    name: ClassVar[str] = "opendata"
    formats: ClassVar[tuple[str, ...]] = ("csv",)
    Options = OpenDataOptions

    def write(self, connection: Connection, plan: Plan, folder: Path) -> Written:
        assert isinstance(self.options, OpenDataOptions)
        formations: set[tuple[str, str | None]] = set()

        def counted() -> Iterator[PublishedSession]:
            for row in filtered_sessions(connection, self.config.filter):
                formations.add((row.view.formation.source, row.view.formation.numero))
                yield row

        with SpoolSink(folder / self.options.file, CSV_MEDIA_TYPE) as sink:
            write_csv(counted(), sink.write)
        assert sink.result is not None
        return Written(files=[sink.result], formations=len(formations))
