"""The Dokelio connector: pages of LHEO 2.3, incremental by ``since``, bearer token.

The service (``GET {url}/offres``) answers pages of up to ``limit`` formations ordered by
numero, with an RFC 8288 ``Link: <...page=TOKEN>; rel="next"`` while more follow. With
``since=<datemaj>`` (a day, ``YYYYMMDD``, or an instant, ``YYYYMMDDHHMMSS`` UTC) it answers
only the formations changed since then, and its last page names the formations deleted
since then in ``<extras info="suppressions">``. Without ``since`` it lists the whole offer.

Cursor::

    {"since": "20250302101500"}                                   a completed sync
    {"since": ..., "page": "TOKEN", "started": "20250302101500"}  stopped mid-way

``started`` is the service's own clock (its ``Date`` header) when the sync's first page
was answered; once the last page is applied it becomes the next ``since``, so whatever
changed during or after the sync is asked for again, and nothing is missed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
from pydantic import Field

from connectors.base import Connector, ConnectorOptions, Cursor, Fetched, LheoFlow, WorkItem
from connectors.dialect import scan_lheo

__all__ = ["DokelioConnector", "DokelioOptions"]

_NEXT_LINK = re.compile(r"<([^>]*)>\s*;[^,]*\brel=\"?next\"?", re.I)
SINCE_FORMAT = "%Y%m%d%H%M%S"


class DokelioOptions(ConnectorOptions):
    page_size: int = Field(default=100, ge=1, le=500)
    """Formations per page (the service caps it at 500)."""


class DokelioConnector(Connector):
    """Pulls Dokelio's pages; each page is one delta flow."""

    name = "dokelio"
    transport = "pull"
    lheo_version = "2.3"
    encoding = "UTF-8"
    Options = DokelioOptions
    options: DokelioOptions

    def gather(self, cursor: Cursor) -> Iterator[WorkItem]:
        yield self._page(cursor.get("since"), cursor.get("page"), cursor.get("started"))

    def _page(self, since: str | None, page: str | None, started: str | None) -> WorkItem:
        params = {"limit": str(self.options.page_size)}
        if since:
            params["since"] = since
        if page:
            params["page"] = page
        return self.item(
            "offres",
            params=params,
            label=f"page after {page}" if page else "first page",
            context={"since": since, "page": page, "started": started},
        )

    def read(self, fetched: Fetched) -> LheoFlow:
        context = fetched.item.context
        since = _optional(context.get("since"))
        started = _optional(context.get("started")) or _service_time(fetched.headers)
        scan = scan_lheo(fetched.body, expected=self.lheo_version)
        token = _next_page(fetched.headers)
        if token:
            cursor: Cursor = {"since": since, "page": token, "started": started}
            following = self._page(since, token, started)
        else:
            cursor, following = {"since": started}, None
        return LheoFlow(
            kind=None if scan.empty else "delta",
            cursor=cursor,
            next=following,
            full_listing=since is None,
        )


def _optional(value: object) -> str | None:
    return str(value) if value else None


def _service_time(headers: httpx.Headers) -> str:
    """The service's clock from its ``Date`` header (the hub's own if it sends none)."""
    try:
        when = parsedate_to_datetime(headers["date"])
    except (KeyError, TypeError, ValueError):
        when = datetime.now(UTC)
    return when.astimezone(UTC).strftime(SINCE_FORMAT)


def _next_page(headers: httpx.Headers) -> str | None:
    """The ``page`` token of the ``rel="next"`` link, if the service sent one."""
    for value in headers.get_list("link"):
        match = _NEXT_LINK.search(value)
        if match:
            token = httpx.URL(match.group(1)).params.get("page")
            return str(token) if token else None
    return None
