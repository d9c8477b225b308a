"""A territory that publishes its offer as a spreadsheet file at a URL.

``gather`` asks for the file with the stored ``ETag``/``Last-Modified`` (an unchanged file
costs one 304); the file is archived as served, and its dialect
(:class:`SpreadsheetDialect`) converts it in the hub's read stage with
:func:`connectors.spreadsheet.read` into an LHEO 2.3 delta, every bad cell a finding (stage
``convert``, its row and column). A spreadsheet is a delta, never a snapshot: a row
rejected for a bad cell must not delete its formation, so formations leave the offer only
through ``supprimer`` rows. The same file pushed to ``POST /v1/push/{source}`` is archived
as sent and read by the same dialect.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from typing import IO

from connectors.base import Connector, ConnectorOptions, Cursor, Fetched, LheoFlow, WorkItem
from connectors.spreadsheet.converter import read
from hub.lheo.dialect import Dialect, Opened, Part
from hub.settings import FetchSettings, SourceSettings

__all__ = ["SpreadsheetConnector", "SpreadsheetDialect", "SpreadsheetOptions"]


class SpreadsheetDialect(Dialect):
    """A CSV or XLSX file in the column template, read as the LHEO delta it describes."""

    name = "spreadsheet"
    lheo_version = "2.3"

    def __init__(self, region: str | None) -> None:
        self.region = region

    def fingerprint(self) -> str:
        return f"{super().fingerprint()}/{self.region}"

    def open(self, part: Part, raw: IO[bytes]) -> Opened:
        conversion = read(raw.read(), filename=part.name, region=self.region)
        summary = conversion.report.as_dict()
        summary.pop("errors")
        findings = [error.as_record_error() for error in conversion.report.errors]
        return Opened(io.BytesIO(conversion.lheo), part.name, findings, summary=summary)


class SpreadsheetOptions(ConnectorOptions):
    path: str = ""
    """Where the file is under the source's url (empty: the url is the file)."""


class SpreadsheetConnector(Connector):
    name = "spreadsheet"
    transport = "pull"
    Options = SpreadsheetOptions
    options: SpreadsheetOptions

    def gather(self, cursor: Cursor) -> Iterator[WorkItem]:
        yield self.conditional_item(self.options.path, cursor, expect_xml=False)

    @classmethod
    def dialect(
        cls, source: SourceSettings | None, *, region: str | None, limits: FetchSettings
    ) -> Dialect:
        return SpreadsheetDialect(region)

    def read(self, fetched: Fetched) -> LheoFlow:
        previous = self.carried_cursor(fetched)
        if fetched.not_modified:
            return LheoFlow(None, previous)
        cursor: Cursor = {
            **fetched.validators,
            "sha256": fetched.part.sha256 if fetched.part else _sha256(fetched.body),
        }
        if cursor["sha256"] == previous.get("sha256"):
            return LheoFlow(None, cursor)  # a server without validators sent it again
        return LheoFlow("delta", cursor)


def _sha256(body: IO[bytes]) -> str:
    body.seek(0)
    digest = hashlib.sha256(body.read()).hexdigest()
    body.seek(0)
    return digest
