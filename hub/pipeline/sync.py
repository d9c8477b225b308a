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
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import structlog

from connectors.base import Connector, Fetched, LheoFlow, WorkItem
from connectors.registry import connector_class
from hub.errors import (
    ConfigError,
    FetchError,
    HubError,
    LheoError,
    RetriableFetchError,
)
from hub.http import Fetcher, make_client
from hub.lheo.dialect import Part
from hub.pipeline.apply import apply, dry_run_parts
from hub.pipeline.ingest import archive_part, receive
from hub.pipeline.policy import policy_for
from hub.pipeline.read import FlowReading
from hub.pipeline.result import FlowResult, SyncFailure, SyncResult, as_flow_kind
from hub.settings import Settings, SourceSettings
from hub.store import Store
from hub.store.archive import archive_name, read_stream
from hub.store.cursors import load_cursor, save_cursor
from hub.store.flows import flow_parts
from hub.store.models import utcnow
from hub.store.records import live_numeros
from hub.store.sources import ensure_source

__all__ = ["sync_source"]

HUB_KEY = "_hub"
"""Key of the runner's own bookkeeping inside a stored cursor (never shown to connectors)."""

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


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
        self.log = structlog.get_logger("hub.pipeline.sync").bind(source=source.name)

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
            name=archive_name(fetched.item.url, self.source.url, fetched.item.label),
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
                self.store, source=name, region=region, kind=as_flow_kind(kind), parts=parts,
                settings=self.settings, connector=self.source.connector,
            )  # fmt: skip
        else:
            ensure_source(self.store.engine, name, region)
            flow_id = receive(
                self.store, name, parts, as_flow_kind(kind), connector=self.source.connector
            )
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
