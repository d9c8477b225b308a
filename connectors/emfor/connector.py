"""The Emfor connector: one full LHEO 2.2 export (ISO-8859-1), fetched conditionally.

The export is a single file served with ``ETag`` and ``Last-Modified``. The cursor keeps
both, and the next sync sends them back (``If-None-Match``, ``If-Modified-Since``): an
unchanged file costs one 304 and no flow. A changed one is read as a snapshot (it holds
the whole offer, so what it no longer holds is deleted). The read stage keeps the offers of
structures that are not training organisations and flags their missing or wrong SIRET and
activity number (:mod:`connectors.emfor.quality`): that is its dialect, run by the hub's
read stage on the archived export, which stays exactly as Emfor served it (ISO-8859-1,
LHEO 2.2), so rejections point at Emfor's own lines.

Cursor: ``{"etag": "\\"3f9a…\\"", "last_modified": "Sun, 02 Mar 2025 10:15:00 GMT"}``.
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree
from pydantic import Field

from connectors.base import Connector, ConnectorOptions, Cursor, Fetched, LheoFlow, WorkItem
from connectors.emfor.quality import flag_organismes
from hub.lheo.dialect import Dialect, Flag, Part
from hub.settings import FetchSettings, SourceSettings

__all__ = ["EmforConnector", "EmforDialect", "EmforOptions"]


class EmforOptions(ConnectorOptions):
    export_path: str = Field(default="export/offres-lheo.xml", min_length=1)
    """Path of the export file under the source's url."""


class EmforDialect(Dialect):
    """Emfor's LHEO 2.2: organismes without a valid SIRET or activity number kept and flagged."""

    name = "emfor"
    fixes = True
    lheo_version = "2.2"

    def fix(self, formation: etree._Element, part: Part) -> list[Flag]:
        return flag_organismes(formation)


class EmforConnector(Connector):
    """Pulls Emfor's export when it changed; one snapshot flow per new export."""

    name = "emfor"
    transport = "pull"
    lheo_version = "2.2"
    encoding = "ISO-8859-1"
    Options = EmforOptions
    options: EmforOptions

    def gather(self, cursor: Cursor) -> Iterator[WorkItem]:
        yield self.conditional_item(self.options.export_path, cursor, label="export")

    @classmethod
    def dialect(
        cls, source: SourceSettings | None, *, region: str | None, limits: FetchSettings
    ) -> Dialect:
        return EmforDialect()

    def read(self, fetched: Fetched) -> LheoFlow:
        if fetched.not_modified:
            return LheoFlow(None, self.carried_cursor(fetched))
        return LheoFlow("snapshot", fetched.validators)
