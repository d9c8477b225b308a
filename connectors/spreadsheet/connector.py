"""A territory that publishes its offer as a spreadsheet file at a URL.

``gather`` asks for the file with the stored ``ETag``/``Last-Modified`` (an unchanged file
costs one 304); ``read`` converts it with :func:`connectors.spreadsheet.read` and hands
the hub an LHEO 2.3 delta, with every bad cell as a finding (stage ``convert``). A
spreadsheet is a delta, never a snapshot: a row rejected for a bad cell must not delete
its formation, so formations leave the offer only through ``supprimer`` rows. The same
file pushed to ``POST /v1/push/{source}`` goes through the same conversion.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator

from connectors.base import Connector, ConnectorOptions, Cursor, Fetched, LheoFlow, WorkItem
from connectors.http import conditional_headers
from connectors.spreadsheet.converter import read
from connectors.spreadsheet.sheets import SpreadsheetError
from hub.errors import FatalFetchError


class SpreadsheetOptions(ConnectorOptions):
    path: str = ""
    """Where the file is under the source's url (empty: the url is the file)."""


class SpreadsheetConnector(Connector):
    name = "spreadsheet"
    transport = "pull"
    Options = SpreadsheetOptions
    options: SpreadsheetOptions

    def gather(self, cursor: Cursor) -> Iterator[WorkItem]:
        headers = conditional_headers(cursor)
        yield self.item(
            self.options.path, headers=headers, context={"cursor": dict(cursor)}, expect_xml=False
        )

    def read(self, fetched: Fetched) -> LheoFlow:
        previous = dict(fetched.item.context.get("cursor") or {})  # type: ignore[call-overload]
        if fetched.not_modified:
            return LheoFlow(None, None, previous)
        raw = fetched.body.read()
        cursor: Cursor = {
            "etag": fetched.headers.get("etag"),
            "last_modified": fetched.headers.get("last-modified"),
            "sha256": hashlib.sha256(raw).hexdigest(),
        }
        if cursor["sha256"] == previous.get("sha256"):
            return LheoFlow(None, None, cursor)  # a server without validators sent it again
        filename = fetched.item.url.rstrip("/").rsplit("/", 1)[-1] or self.source.name
        try:
            conversion = read(raw, filename=filename, region=self.source.region)
        except SpreadsheetError as exc:
            raise FatalFetchError(f"invalid payload from {fetched.item.describe()}: {exc}") from exc
        findings = [error.as_record_error() for error in conversion.report.errors]
        return LheoFlow("delta", io.BytesIO(conversion.lheo), cursor, findings=findings)
