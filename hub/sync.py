"""The sync runner: one source through gather → fetch → archive → read → ingest, resumable.

:func:`sync_source` loads the source's stored cursor (``connector_state``), asks the
connector what to fetch, and for each item fetches it through the hub's fetcher, archives
the bytes exactly as received (with the URL, status and validators), lets the connector
say what they are, applies them as one flow (read through the source's dialect), and
stores the cursor the connector gave for it. So a sync stopped between two items resumes
from the next one, and a completed sync leaves a cursor that asks only for what changed.
A paged listing of the whole offer ends with a snapshot made of all its pages, which
deletes what none of them named (and is held, as any snapshot, if that is too much).

A failure stops this source only: the result says at which stage, for which URL, why, and
what to do; flows already applied stay applied and their cursor stays stored.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import structlog
from sqlalchemy import insert, select, update

from connectors.base import Connector, Cursor, Fetched, LheoFlow, WorkItem
from connectors.http import Fetcher, make_client
from connectors.registry import connector_class
from hub.errors import (
    ConfigError,
    FetchError,
    HubError,
    LheoError,
    RecordError,
    RetriableFetchError,
)
from hub.ingest import FlowResult, apply, archive_part, dry_run_parts, ensure_source, receive
from hub.lheo.dialect import Part
from hub.pipeline.policy import policy_for
from hub.pipeline.read import FlowReading
from hub.settings import Settings, SourceSettings
from hub.store import Store
from hub.store.archive import read_stream
from hub.store.db import write_transaction
from hub.store.flows import flow_parts
from hub.store.models import ConnectorState, utcnow
from hub.store.repository import FlowCounts, live_numeros

__all__ = ["SyncFailure", "SyncResult", "load_cursor", "save_cursor", "sync_source"]

STATES = ConnectorState.__table__  # type: ignore[attr-defined]
HUB_KEY = "_hub"
"""Key of the runner's own bookkeeping inside a stored cursor (never shown to connectors)."""

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@dataclass(frozen=True, slots=True)
class SyncFailure:
    """Why a sync stopped: the stage, the URL, the error and what to do."""

    source: str
    stage: str
    url: str | None
    error: str
    hint: str
    retriable: bool

    def __str__(self) -> str:
        where = f" for {self.url}" if self.url else ""
        return f"source {self.source}: {self.stage} failed{where}: {self.error} — {self.hint}"


@dataclass(slots=True)
class SyncResult:
    """What one sync of one source did."""

    source: str
    connector: str
    full: bool = False
    dry_run: bool = False
    cursor_before: Cursor = field(default_factory=dict)
    cursor_after: Cursor = field(default_factory=dict)
    flows: list[FlowResult] = field(default_factory=list)
    items: int = 0
    """Items fetched (pages, files)."""
    unchanged_items: int = 0
    """Items with nothing to ingest (304 Not Modified, empty pages)."""
    retries: int = 0
    findings: list[RecordError] = field(default_factory=list)
    """What the connector found in its listing, and the flags on records its flows kept."""
    error: SyncFailure | None = None
    started_at: datetime = field(default_factory=utcnow)
    finished_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def totals(self) -> FlowCounts:
        """What the sync's applied flows did, summed (held flows applied nothing)."""
        total = FlowCounts()
        for flow in self.flows:
            if flow.status == "applied":
                total.add(flow.counts)
        return total


def load_cursor(store: Store, source: str) -> Cursor:
    with store.engine.connect() as connection:
        cursor = connection.execute(
            select(STATES.c.cursor).where(STATES.c.source == source)
        ).scalar()
    return dict(cursor or {})


def save_cursor(store: Store, source: str, cursor: Cursor) -> None:
    with write_transaction(store.engine) as connection:
        known = connection.execute(select(STATES.c.source).where(STATES.c.source == source))
        values = {"cursor": cursor, "updated_at": utcnow()}
        if known.first() is None:
            connection.execute(insert(STATES).values(source=source, **values))
        else:
            connection.execute(update(STATES).where(STATES.c.source == source).values(**values))


def sync_source(
    store: Store,
    settings: Settings,
    name: str,
    *,
    full: bool = False,
    dry_run: bool = False,
    client: httpx.Client | None = None,
    sleep: Callable[[float], None] | None = None,
) -> SyncResult:
    """Sync source ``name`` once; ``full`` ignores the stored cursor, ``dry_run`` writes nothing.

    ``client`` replaces the hub's HTTP client (tests hand one a transport); ``sleep``
    replaces ``time.sleep`` between retries. Raises ConfigError for an unknown source or
    connector or a missing secret; every other failure is in ``SyncResult.error``.
    """
    source = settings.sources.get(name)
    if source is None:
        known = ", ".join(sorted(settings.sources)) or "none configured"
        raise ConfigError(f"unknown source {name!r}; configured sources: {known}")
    cls = connector_class(source.connector, source=source)
    http = client or make_client(settings.fetch)
    try:
        with _lock(name):
            fetcher = Fetcher(http, settings.fetch, source=name, sleep=sleep)
            connector = cls(source, fetcher)
            fetcher.auth = connector.auth()
            run = _Run(store, settings, source, connector, full=full, dry_run=dry_run)
            return run.execute()
    finally:
        if client is None:
            http.close()


def _lock(name: str) -> threading.Lock:
    """One sync of a source at a time in this process (the scheduler may add a DB lock)."""
    with _locks_guard:
        return _locks.setdefault(name, threading.Lock())


class _Run:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        source: SourceSettings,
        connector: Connector,
        *,
        full: bool,
        dry_run: bool,
    ) -> None:
        self.store, self.settings = store, settings
        self.source, self.connector = source, connector
        self.dry_run = dry_run
        self._scratch = tempfile.TemporaryDirectory(prefix="hub-dry-run-") if dry_run else None
        self.archived: list[Part] = []
        """Files archived by this run; those no flow took are removed when it ends."""
        self.used: set[Path] = set()
        stored = {} if full else load_cursor(store, source.name)
        self.saved = dict(stored)
        self.listing: list[str] = list(stored.pop(HUB_KEY, {}).get("listing_flows", []))
        self.result = SyncResult(
            source.name,
            source.connector,
            full=full,
            dry_run=dry_run,
            cursor_before=stored,
            cursor_after=dict(stored),
        )
        self.log = structlog.get_logger("hub.sync").bind(source=source.name)

    def execute(self) -> SyncResult:
        result = self.result
        self.log.info(
            "sync.started", full=result.full, dry_run=self.dry_run, cursor=result.cursor_before
        )
        try:
            items = deque(self.connector.gather(dict(result.cursor_before)))
        except HubError as exc:
            items = deque()
            self._fail("gather", self.source.url, exc)
        try:
            while items:
                item = items.popleft()
                following = self._process(item)
                if result.error is not None:
                    break
                if following is not None:
                    items.appendleft(following)
        finally:
            self._forget_unused()
        result.retries = self.connector.fetcher.retries
        result.finished_at = utcnow()
        totals = result.totals().as_dict()
        self.log.info(
            "sync.finished",
            ok=result.ok,
            flows=len(result.flows),
            items=result.items,
            retries=result.retries,
            cursor=result.cursor_after,
            **totals,
        )
        return result

    def _process(self, item: WorkItem) -> WorkItem | None:
        log = self.log.bind(url=item.describe())
        stage, flow = "fetch", None
        try:
            log.debug("item.fetch", stage=stage, label=item.label)
            fetched = self.connector.fetch(item)
            self.result.items += 1
            try:
                stage = "archive"
                self._archive(fetched)
                stage = "read"
                flow = self.connector.read(fetched)
                self.result.findings.extend(flow.findings)
                stage = "ingest"
                self._ingest(flow, fetched, log)
                stage = "reconcile"
                self._advance(flow)
            finally:
                fetched.close()
        except HubError as exc:
            if stage == "ingest" and isinstance(exc, LheoError | FetchError):
                stage = "read"  # the hub's one read of the archived file found it
            self._fail(stage, item.describe(), exc)
            return None
        return flow.next

    def _archive(self, fetched: Fetched) -> None:
        """Keep the bytes exactly as the region served them, before the connector reads them."""
        if fetched.not_modified:
            return
        folder = Path(self._scratch.name) if self._scratch else self.store.archive_dir
        fetched.body.seek(0)
        fetched.part = archive_part(
            folder,
            self.source.name,
            read_stream(fetched.body),
            name=_file_name(fetched.item, self.source.url),
            url=fetched.item.describe(),
            http_status=fetched.status,
            headers=fetched.headers,
        )
        fetched.body.seek(0)
        self.archived.append(fetched.part)

    def _ingest(self, flow: LheoFlow, fetched: Fetched, log: Any) -> None:
        parts = flow.parts if flow.parts is not None else (fetched.part,)
        if flow.kind is None or not parts or any(part is None for part in parts):
            self.result.unchanged_items += 1
            log.info("item.unchanged", stage="read")
            return
        applied = self._apply(tuple(p for p in parts if p is not None), flow.kind)
        if flow.full_listing:
            self.listing.append(applied.flow_id)
        log.info(
            "flow.applied",
            stage="ingest",
            flow_id=applied.flow_id,
            kind=applied.kind,
            status=applied.status,
            **applied.counts.as_dict(),
        )

    def _apply(self, parts: tuple[Part, ...], kind: str) -> FlowResult:
        self.used.update(part.path for part in parts)
        name, region = self.source.name, self.source.region
        if self.dry_run:
            applied = dry_run_parts(
                self.store, source=name, region=region, kind=_kind(kind), parts=parts,
                settings=self.settings, connector=self.source.connector,
            )  # fmt: skip
        else:
            ensure_source(self.store, name, region)
            flow_id = receive(self.store, name, parts, _kind(kind), connector=self.source.connector)
            applied = apply(self.store, flow_id, settings=self.settings)
        self.result.flows.append(applied)
        self.result.findings.extend(e for e in applied.rejections if e.kept)
        return applied

    def _advance(self, flow: LheoFlow) -> None:
        """Store where the source stands now; a finished full listing deletes what it missed."""
        cursor = dict(flow.cursor)
        if flow.full_listing and flow.next is None:
            if not self.dry_run:
                self._close_listing()
            self.listing = []
        elif flow.full_listing:
            cursor[HUB_KEY] = {"listing_flows": self.listing}
        self.result.cursor_after = {k: v for k, v in cursor.items() if k != HUB_KEY}
        if not self.dry_run and cursor != self.saved:
            save_cursor(self.store, self.source.name, cursor)
            self.saved = cursor

    def _close_listing(self) -> None:
        """When the listing missed live formations: its pages again, as one snapshot.

        That snapshot deletes what none of the pages named (its pages, applied already,
        count unchanged: their bytes are skipped by raw hash), and is held like any
        snapshot if that is too much: a listing cut short never wipes the source.
        """
        with self.store.engine.connect() as connection:
            parts = [part for flow_id in self.listing for part in flow_parts(connection, flow_id)]
        if not parts or not (absent := self._unlisted(parts)):
            return
        ordered = tuple(replace(part, position=index) for index, part in enumerate(parts))
        applied = self._apply(ordered, "snapshot")
        self.log.info(
            "listing.closed",
            stage="reconcile",
            flow_id=applied.flow_id,
            status=applied.status,
            unlisted=len(absent),
            deleted=applied.counts.deleted,
        )

    def _unlisted(self, parts: list[Part]) -> set[str]:
        """The source's live numeros that none of the listing's files names."""
        policy = policy_for(self.settings, self.source.name, self.source.connector, None)
        reading = FlowReading(
            tuple(parts), policy, source=self.source.name, region=self.source.region,
            fast=False, validate=False,
        )  # fmt: skip
        listed = {record.numero for record, _ in reading.records() if record.numero}
        return live_numeros(self.store.engine, self.source.name) - listed

    def _forget_unused(self) -> None:
        """Remove archived files no flow took (a listing page, a half of a pair, a 304)."""
        for part in self.archived:
            if part.path not in self.used:
                with contextlib.suppress(OSError):
                    part.path.unlink()
        if self._scratch is not None:
            self._scratch.cleanup()

    def _fail(self, stage: str, url: str | None, exc: HubError) -> None:
        notes = " ".join(getattr(exc, "__notes__", []))
        hint = exc.hint or "see the error above"
        if isinstance(exc, RetriableFetchError):
            hint = "the regional system is failing or unreachable; the next sync resumes here"
        elif self.source.file is not None:
            hint += f" (source configured in {self.source.file})"
        message = (exc.args[0] if exc.args else str(exc)) + (f"; {notes}" if notes else "")
        self.result.error = SyncFailure(
            self.source.name, stage, url, message, hint, isinstance(exc, RetriableFetchError)
        )
        self.log.error("sync.failed", stage=stage, url=url, error=message, hint=hint)


def _kind(kind: str) -> Any:
    return "snapshot" if kind == "snapshot" else "delta"


def _file_name(item: WorkItem, base: str | None) -> str:
    """The file's name as served, under the source's url (``auvergne/offres-lheo.xml``)."""
    url = urlsplit(item.url)
    path = PurePosixPath(unquote(url.path))
    if url.scheme not in ("http", "https") or not base:
        return path.name or item.label or "flux"  # a dropped file: its own name
    root = PurePosixPath(unquote(urlsplit(base).path) or "/")
    name = str(path.relative_to(root)) if path.is_relative_to(root) else path.name
    return name.strip("/") if name not in ("", ".") else (path.name or item.label or "flux")
