"""What a flow did: the report every caller of the pipeline gets back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.base import Cursor
from hub.errors import RecordError
from hub.lheo.dialect import FlowKind
from hub.store.models import utcnow
from hub.store.rows import FlowCounts

__all__ = ["FlowKind", "FlowResult", "SyncFailure", "SyncResult", "as_flow_kind"]


@dataclass(slots=True)
class FlowResult:
    """What one flow did to the store, and what was found in it."""

    flow_id: str
    source: str
    kind: FlowKind
    counts: FlowCounts
    rejections: list[RecordError] = field(default_factory=list)
    """Every finding: rejected records (a record may have several), flags on kept ones."""
    lheo_version: str | None = None
    encoding: str | None = None
    """As the region's file declares it."""
    dry_run: bool = False
    status: str = "applied"
    """``applied``, ``held`` (waiting for an operator) or ``superseded``."""
    note: str | None = None
    """Why it was held or superseded."""
    summaries: list[dict[str, Any]] = field(default_factory=list)
    """What converting its files read (a spreadsheet's rows and sessions)."""


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


def as_flow_kind(kind: object) -> FlowKind:
    """``snapshot`` or ``delta`` (anything that is not a snapshot deletes explicitly only)."""
    return "snapshot" if kind == "snapshot" else "delta"
