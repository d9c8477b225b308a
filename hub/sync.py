"""The sync runner: one source through gather → fetch → read → ingest, resumable.

:func:`sync_source` loads the source's stored cursor (``connector_state``), asks the
connector what to fetch, and for each item fetches it through the hub's fetcher, lets the
connector read it into LHEO, ingests that as one flow, and stores the cursor the connector
gave for it. So a sync stopped between two items resumes from the next one, and a completed
sync leaves a cursor that asks only for what changed. A paged listing of the whole offer
ends by deleting what none of its pages named, as a snapshot does.

A failure stops this source only: the result says at which stage, for which URL, why, and
what to do; flows already applied stay applied and their cursor stays stored.
"""

from __future__ import annotations

import io
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import structlog
from sqlalchemy import insert, select, update

from connectors.base import Connector, Cursor, LheoFlow, WorkItem
from connectors.http import Fetcher, make_client
from connectors.registry import connector_class
from hub.errors import ConfigError, HubError, RecordError, RetriableFetchError
from hub.ingest import FlowResult, ingest
from hub.lheo.corpus import write_formations
from hub.lheo.reader import LheoReader
from hub.settings import Settings, SourceSettings
from hub.store import Store
from hub.store.archive import open_archived
from hub.store.db import write_transaction
from hub.store.models import ConnectorState, Flow, Formation, utcnow
from hub.store.repository import FlowCounts

__all__ = ["SyncFailure", "SyncResult", "load_cursor", "save_cursor", "sync_source"]

STATES = ConnectorState.__table__  # type: ignore[attr-defined]
FLOWS = Flow.__table__  # type: ignore[attr-defined]
FORMATIONS = Formation.__table__  # type: ignore[attr-defined]
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
    """What the read stage flagged (kept) or dropped."""
    error: SyncFailure | None = None
    started_at: datetime = field(default_factory=utcnow)
    finished_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def totals(self) -> FlowCounts:
        total = FlowCounts()
        for flow in self.flows:
            for name, value in flow.counts.as_dict().items():
                setattr(total, name, getattr(total, name) + value)
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
            return _Run(store, source, connector, full=full, dry_run=dry_run).execute()
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
        source: SourceSettings,
        connector: Connector,
        *,
        full: bool,
        dry_run: bool,
    ) -> None:
        self.store, self.source, self.connector = store, source, connector
        self.dry_run = dry_run
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
        while items:
            item = items.popleft()
            following = self._process(item)
            if result.error is not None:
                break
            if following is not None:
                items.appendleft(following)
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
                stage = "read"
                flow = self.connector.read(fetched)
                self.result.findings.extend(flow.findings)
                stage = "ingest"
                self._ingest(flow, log)
                stage = "reconcile"
                self._advance(flow)
            finally:
                fetched.close()
                if flow is not None and flow.body is not None:
                    flow.body.close()
        except HubError as exc:
            self._fail(stage, item.describe(), exc)
            return None
        return flow.next

    def _ingest(self, flow: LheoFlow, log: Any) -> None:
        if flow.kind is None or flow.body is None:
            self.result.unchanged_items += 1
            log.info("item.unchanged", stage="read")
            return
        applied = ingest(
            self.store,
            flow.body,
            source=self.source.name,
            region=self.source.region,
            kind=flow.kind,
            dry_run=self.dry_run,
        )
        self.result.flows.append(applied)
        if flow.full_listing:
            self.listing.append(applied.flow_id)
        log.info(
            "flow.applied",
            stage="ingest",
            flow_id=applied.flow_id,
            kind=applied.kind,
            **applied.counts.as_dict(),
        )

    def _advance(self, flow: LheoFlow) -> None:
        """Store where the source stands now; a finished full listing deletes what it missed."""
        cursor = dict(flow.cursor)
        if flow.full_listing and flow.next is None:
            if not self.dry_run:
                self._delete_unlisted()
            self.listing = []
        elif flow.full_listing:
            cursor[HUB_KEY] = {"listing_flows": self.listing}
        self.result.cursor_after = {k: v for k, v in cursor.items() if k != HUB_KEY}
        if not self.dry_run and cursor != self.saved:
            save_cursor(self.store, self.source.name, cursor)
            self.saved = cursor

    def _delete_unlisted(self) -> None:
        seen = self._listed_numeros()
        with self.store.engine.connect() as connection:
            live = set(
                connection.execute(
                    select(FORMATIONS.c.numero).where(
                        FORMATIONS.c.source == self.source.name, FORMATIONS.c.deleted.is_(False)
                    )
                ).scalars()
            )
        absent = sorted(live - seen)
        if not absent:
            return
        document = io.BytesIO()
        write_formations(document, [], version="2.3", deletions=absent)
        document.seek(0)
        applied = ingest(
            self.store, document, source=self.source.name, region=self.source.region, kind="delta"
        )
        self.result.flows.append(applied)
        self.log.info(
            "listing.deleted_unlisted",
            stage="reconcile",
            flow_id=applied.flow_id,
            deleted=applied.counts.deleted,
        )

    def _listed_numeros(self) -> set[str]:
        with self.store.engine.connect() as connection:
            paths = (
                connection.execute(select(FLOWS.c.archive_path).where(FLOWS.c.id.in_(self.listing)))
                .scalars()
                .all()
            )
        seen: set[str] = set()
        for path in paths:
            with open_archived(Path(path)) as stream:
                seen.update(r.numero for r in LheoReader(stream, validate=False) if r.numero)
        return seen

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
