"""The connector contract: how a regional system's offers reach the hub.

A connector isolates one regional system's transport and dialect. It is a small subclass
of :class:`Connector` that declares what it expects in class attributes and overrides the
stages of a harvest, as in ckanext-harvest:

``gather(cursor) -> Iterable[WorkItem]``
    From the stored cursor, say what to ask for: the first page of what changed since the
    last sync, the export file with its ``If-None-Match``... Nothing is fetched here.
``fetch(item) -> Fetched``
    Get the bytes. The default goes through the hub's :class:`~hub.http.Fetcher`
    (its ``httpx.Client``, timeouts, size limit and retry policy); override it only for a
    transport that is not HTTP GET, and never build a client or a retry loop of your own.
``read(fetched) -> LheoFlow``
    Say what the fetched file is: a ``snapshot`` (deletes by absence), a ``delta``, or
    nothing to ingest (a 304, an empty page); the cursor to store once it is applied and,
    for paged services, the next item. ``read`` only looks at the bytes: by the time it
    runs, the hub has archived them exactly as received (``fetched.part``), and nothing a
    connector does changes what is archived.
``dialect(source, ...) -> Dialect``
    How the hub's one parse reads this region's files: hooks over archived bytes
    (:class:`hub.lheo.dialect.Dialect`: open a zip or a spreadsheet, fix each formation's
    local codes, combine several files into one offer). Plain LHEO needs none.

The runner (:func:`hub.pipeline.sync.sync_source`) drives the stages: it loads the cursor, calls
``gather``, then for each item ``fetch`` → archive → ``read`` → ingest (the read stage
runs the dialect), and stores ``LheoFlow.cursor`` after each applied flow. A sync stopped
anywhere resumes from the last stored cursor; a completed one leaves a cursor that asks
only for what changed.

Errors: raise :class:`~hub.errors.FatalFetchError` for a payload that retrying will not
fix, :class:`~hub.errors.RetriableFetchError` for one that it may; the fetcher already
classifies HTTP statuses and transport faults.

Example, a service answering one LHEO 2.3 delta per ``since`` date::

    class Example(Connector):
        name = "example"
        lheo_version = "2.3"

        def gather(self, cursor: Cursor) -> Iterator[WorkItem]:
            since = cursor.get("since")
            yield self.item("offres", params={"since": since} if since else {})

        def read(self, fetched: Fetched) -> LheoFlow:
            scan = scan_lheo(fetched.body, expected=self.lheo_version)
            return LheoFlow("delta", {"since": scan.max_datemaj})

Register it in ``pyproject.toml`` under ``[project.entry-points."hub.connectors"]``
(``example = "connectors.example:Example"``) and describe the source in
``config/regions/<source>.toml``. Its simulator, for the demo and the tests, lives in the
development package ``simulators/``, which the hub never imports.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from connectors.dialect import LheoScan, scan_lheo
from hub.errors import ConfigError, RecordError
from hub.http import BearerToken, Fetched, Fetcher, WorkItem, conditional_headers
from hub.lheo.dialect import Dialect, FlowKind, Part
from hub.lheo.schema import Version
from hub.settings import FetchSettings, SourceSettings

__all__ = [
    "BearerToken",
    "Connector",
    "ConnectorOptions",
    "Cursor",
    "Dialect",
    "Fetched",
    "FlowKind",
    "LheoFlow",
    "LheoScan",
    "Transport",
    "WorkItem",
    "scan_lheo",
]

Cursor = dict[str, Any]
"""A connector's position in its source (page token, last ``since``, ETag...), as JSON."""
Transport = Literal["pull", "push", "file"]


@dataclass(slots=True)
class LheoFlow:
    """What ``read`` made of one fetched item.

    ``kind`` None means there is nothing to ingest (a 304, an empty page), yet ``cursor``
    is still stored. ``parts`` are the archived files the flow is made of: by default the
    one just fetched; a connector that needs several (two exports) keeps the first ones
    in its work items' context and names them all once it has them. ``full_listing``
    marks one page of a listing of the whole offer: when such a listing ends (``next`` is
    None), the runner tombstones the source's formations that none of its pages named, as
    a snapshot would. ``findings`` are what ``read`` found wrong with the listing itself.
    """

    kind: FlowKind | None
    cursor: Cursor
    next: WorkItem | None = None
    full_listing: bool = False
    parts: tuple[Part, ...] | None = None
    findings: list[RecordError] = field(default_factory=list)


class ConnectorOptions(BaseModel):
    """A connector's ``[options]`` table; subclass it to declare and check yours."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Connector(abc.ABC):
    """Base of every connector: declare the class attributes, override the stages."""

    name: ClassVar[str]
    """The entry point name (``hub.connectors`` group) this class is registered under."""
    transport: ClassVar[Transport] = "pull"
    """``pull`` (the hub fetches), ``push`` (the region posts) or ``file`` (a dropped file)."""
    lheo_version: ClassVar[Version | None] = None
    """The LHEO version the region sends; None if either."""
    encoding: ClassVar[str] = "UTF-8"
    """The encoding the region's files declare."""
    Options: ClassVar[type[ConnectorOptions]] = ConnectorOptions
    """The model of the source's ``[options]`` table."""

    def __init__(self, source: SourceSettings, fetcher: Fetcher) -> None:
        self.source = source
        self.fetcher = fetcher
        self.options = self.options_of(source)
        if self.transport == "pull" and not source.url:
            raise ConfigError(
                f"{source.file or source.name}: url: the {self.name} connector pulls, "
                "so the source needs a url"
            )

    @classmethod
    def options_of(cls, source: SourceSettings | None) -> ConnectorOptions:
        """The source's ``[options]`` checked against :attr:`Options`; errors name the file.

        No source (a push source without a configuration file): the defaults."""
        if source is None:
            return cls.Options()
        try:
            return cls.Options(**source.options)
        except ValidationError as exc:
            problems = "; ".join(
                f"options.{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
                for error in exc.errors()
            )
            raise ConfigError(f"{source.file or source.name}: {problems}") from exc

    @classmethod
    def dialect(
        cls, source: SourceSettings | None, *, region: str | None, limits: FetchSettings
    ) -> Dialect:
        """How the hub reads this region's archived files (plain LHEO by default).

        ``source`` is None for a push source that has no configuration file; ``limits``
        bounds what opening a file may inflate to.
        """
        return Dialect()

    # -- the stages ---------------------------------------------------------------------

    @abc.abstractmethod
    def gather(self, cursor: Cursor) -> Iterable[WorkItem]:
        """The items to fetch, from the stored cursor (``{}`` on a first or full sync)."""

    def fetch(self, item: WorkItem) -> Fetched:
        """The item's bytes, through the hub's fetcher (timeouts, size limit, retries)."""
        return self.fetcher.fetch(item)

    @abc.abstractmethod
    def read(self, fetched: Fetched) -> LheoFlow:
        """What the fetched (and already archived) file is, and the cursor to store after it."""

    # -- helpers for subclasses -----------------------------------------------------------

    def auth(self) -> httpx.Auth | None:
        """How requests authenticate: a bearer token from ``token_env`` when one is named."""
        token = self.source.token()
        return BearerToken(token) if token else None

    def item(
        self,
        path: str = "",
        *,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        label: str = "",
        context: dict[str, object] | None = None,
        expect_xml: bool = True,
    ) -> WorkItem:
        """A work item for ``path`` under the source's url (or an absolute URL)."""
        base = str(self.source.url or "").rstrip("/")
        url = path if path.startswith(("http://", "https://")) else f"{base}/{path}".rstrip("/")
        return WorkItem(
            url,
            params=params or {},
            headers=headers or {},
            label=label or path or url,
            context=context or {},
            expect_xml=expect_xml,
        )

    def conditional_item(
        self, path: str, cursor: Cursor, *, label: str = "", expect_xml: bool = True
    ) -> WorkItem:
        """A work item for ``path`` sent with the ``etag`` / ``last_modified`` that ``cursor``
        holds (``If-None-Match`` / ``If-Modified-Since``): an unchanged file costs one 304.

        The cursor rides along in the item's context: `carried_cursor` gives it back, to be
        kept as it is when the answer is a 304, and `Fetched.validators` gives the next one.
        """
        return self.item(
            path,
            headers=conditional_headers(cursor),
            label=label,
            context={"cursor": dict(cursor)},
            expect_xml=expect_xml,
        )

    @staticmethod
    def carried_cursor(fetched: Fetched) -> Cursor:
        """The cursor a `conditional_item` carried ({} when it carried none)."""
        carried = fetched.item.context.get("cursor")
        return dict(carried) if isinstance(carried, dict) else {}
