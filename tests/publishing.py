"""Helpers for the publisher tests: a hub around the test store, partners, consumers.

The consumers here read delivered files the way a partner would (LHEO parsed by the hub's
reader, manifests checked), so a test can compare what a partner ends with to the store.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from lheo_factory import document
from lxml import etree
from sqlalchemy import select

from hub.lheo.reader import LheoReader
from hub.lheo.schema import DELETIONS_INFO, NS_23
from hub.pipeline.ingest import ingest
from hub.publish.publishers import (
    PublishContext,
    PublisherConfig,
    PublisherFilter,
    PublishResult,
    run_publisher,
)
from hub.settings import FetchSettings, PublishingSettings, Settings
from hub.store import Store
from hub.store.tables import FORMATIONS
from simulators.intercariforef import IntercariforefReceiver

TOKEN = "test-intercariforef-token"
TOKEN_ENV = "HUB_TEST_INTERCARIFOREF_TOKEN"
Key = tuple[str, str]

FAST = FetchSettings(
    connect_timeout=2.0,
    read_timeout=10.0,
    attempts=3,
    backoff_initial=0.5,
    backoff_max=2.0,
    jitter=0.0,
    max_retry_after=5.0,
)
"""Three attempts; the backoff is recorded (``Hub.sleeps``), never slept."""


@dataclass
class Hub:
    """The test store plus what a publisher run needs, and helpers to read the result."""

    store: Store
    root: Path
    fetch: FetchSettings = FAST
    sleeps: list[float] = field(default_factory=list)
    clock: Callable[[], datetime] | None = None

    @property
    def settings(self) -> Settings:
        return Settings(
            fetch=self.fetch,
            publishing=PublishingSettings(spool_dir=self.root / "spool"),
        )

    def context(self) -> PublishContext:
        context = PublishContext(self.settings, sleep=self.sleeps.append)
        if self.clock is not None:
            context.clock = self.clock
        return context

    def run(self, config: PublisherConfig, **options: Any) -> PublishResult:
        return run_publisher(self.store, config, self.context(), **options)

    def load(
        self,
        formations: list[str],
        *,
        source: str = "idf",
        region: str = "11",
        kind: str = "delta",
        deletions: tuple[str, ...] = (),
    ) -> None:
        body = document(formations, deletions=deletions)
        result = ingest(self.store, io.BytesIO(body), source=source, region=region, kind=kind)  # type: ignore[arg-type]
        assert not result.rejections, result.rejections

    def offer(self, keep: PublisherFilter | None = None) -> dict[Key, str]:
        """The live formations ``keep`` keeps: what an exact partner holds."""
        keep = keep or PublisherFilter()
        f = FORMATIONS.c
        with self.store.engine.connect() as connection:
            rows = connection.execute(
                select(f.source, f.numero, f.content_hash).where(
                    f.deleted.is_(False), keep.where(FORMATIONS)
                )
            ).all()
        return {(row.source, row.numero): row.content_hash for row in rows}


def partner(name: str, publisher: str, destination: str | Path, **fields: Any) -> PublisherConfig:
    """A partner's configuration, as its TOML file would give it."""
    return PublisherConfig(name=name, publisher=publisher, destination=str(destination), **fields)


def lheo_content(gz: bytes) -> tuple[dict[Key, str], list[Key]]:
    """What a consumer reads in one delivered file: formations by (source, numero) with
    their content hash, and the deletions."""
    xml = gzip.decompress(gz)
    formations = {
        (record.provenance["source"], record.numero or ""): record.content_hash
        for record in LheoReader(io.BytesIO(xml))
    }
    root = etree.fromstring(xml)
    deletions = [
        (extra.get("ref", ""), extra.text or "")
        for extras in root.iterchildren(f"{{{NS_23}}}extras")
        if extras.get("info") == DELETIONS_INFO
        for extra in extras
    ]
    return formations, deletions


def apply_drop(folder: Path) -> dict[Key, str]:
    """A file-drop consumer: checks each manifest's files and applies them in name order."""
    offer: dict[Key, str] = {}
    for manifest_path in sorted(folder.glob("*.manifest.json")):
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        [entry] = manifest["files"]
        data = (folder / entry["name"]).read_bytes()
        assert len(data) == entry["size"]
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        formations, deletions = lheo_content(data)
        if manifest["kind"] == "full":
            offer.clear()
        offer.update(formations)
        for key in deletions:
            offer.pop(key, None)
    return offer


class LiveReceiver(IntercariforefReceiver):
    """The simulated receiver, served: ``url`` is its endpoint."""

    url: str = ""


def intercariforef(
    receiver: LiveReceiver, name: str = "intercariforef", **fields: Any
) -> PublisherConfig:
    return partner(name, "intercariforef", receiver.url, token_env=TOKEN_ENV, **fields)
