"""The contract every connector passes against the simulator of its regional system.

Subclass :class:`ConnectorContract` in about three lines::

    class TestDokelio(ConnectorContract):
        connector = "dokelio"

        @pytest.fixture
        def simulator(self) -> SimulatedSystem:
            return DokelioSimulator(formations=16, invalid_share=0.1, token="t0k3n")

Each test runs the real simulator on 127.0.0.1 and the real runner
(:func:`hub.pipeline.sync.sync_source`) on SQLite and on PostgreSQL (the ``store`` fixture).
A paged connector sets ``interrupt_at`` to the request its interrupted sync stops at.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx
import pytest
from sqlalchemy import func, select

from hub.pipeline.result import SyncResult
from hub.pipeline.sync import sync_source
from hub.settings import FetchSettings, Settings, SourceSettings
from hub.store import Store
from hub.store.cursors import load_cursor
from hub.store.tables import CHANGES, FORMATIONS
from simulators.serving import running
from simulators.system import SimulatedSystem

QUICK_FETCH = FetchSettings(
    connect_timeout=2.0,
    read_timeout=2.0,
    attempts=6,
    backoff_initial=0.001,
    backoff_max=0.01,
    jitter=0.001,
    max_retry_after=0.05,
)
"""Real retries, tiny waits: Retry-After is honoured up to 50 ms here."""


@dataclass
class Harness:
    """A store, settings naming one source that reads the running simulator, and probes."""

    store: Store
    settings: Settings
    simulator: SimulatedSystem
    source: str
    client: httpx.Client
    """One client for every sync of a test (building one costs an SSL context)."""

    def sync(self, **options: Any) -> SyncResult:
        return sync_source(self.store, self.settings, self.source, client=self.client, **options)

    def live_numeros(self) -> set[str]:
        with self.store.engine.connect() as connection:
            rows = connection.execute(
                select(FORMATIONS.c.numero).where(
                    FORMATIONS.c.source == self.source, FORMATIONS.c.deleted.is_(False)
                )
            )
            return set(rows.scalars())

    def formation_rows(self) -> set[tuple[Any, ...]]:
        columns = (
            FORMATIONS.c.numero,
            FORMATIONS.c.content_hash,
            FORMATIONS.c.version,
            FORMATIONS.c.deleted,
            FORMATIONS.c.seq,
            FORMATIONS.c.flow_id,
        )
        with self.store.engine.connect() as connection:
            return {tuple(row) for row in connection.execute(select(*columns))}

    def last_change(self) -> int:
        with self.store.engine.connect() as connection:
            latest = select(func.coalesce(func.max(CHANGES.c.seq), 0))
            return int(connection.execute(latest).scalar_one())

    def changes_after(self, seq: int) -> set[tuple[str, str]]:
        with self.store.engine.connect() as connection:
            rows = connection.execute(
                select(CHANGES.c.numero, CHANGES.c.op).where(CHANGES.c.seq > seq)
            )
            return {(numero, op) for numero, op in rows}


@contextmanager
def serve_harness(
    simulator: SimulatedSystem, connector: str, store: Store, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Harness]:
    """Run ``simulator`` and yield a harness whose one source reads it (for any test)."""
    with running(simulator) as url, httpx.Client() as client:
        config = simulator.source_config(url)
        if config.get("token_env"):
            monkeypatch.setenv(config["token_env"], str(simulator.token))
        source = SourceSettings(name=f"{connector}-test", **config)
        settings = Settings(fetch=QUICK_FETCH, sources={source.name: source})
        yield Harness(store, settings, simulator, source.name, client)


def in_step(harness: Harness, result: SyncResult) -> None:
    """The sync succeeded and the store holds exactly the simulator's accepted offer."""
    assert result.ok, str(result.error)
    assert harness.live_numeros() == harness.simulator.expected_numeros()


class ConnectorContract:
    connector: ClassVar[str]
    """The connector's entry point name."""
    interrupt_at: ClassVar[int] = 0
    """0-based request at which the interrupted sync is stopped (1+ for paged connectors)."""

    @pytest.fixture
    def simulator(self) -> SimulatedSystem:
        raise NotImplementedError("a connector's suite provides its simulator fixture")

    @pytest.fixture
    def harness(
        self, simulator: SimulatedSystem, store: Store, monkeypatch: pytest.MonkeyPatch
    ) -> Iterator[Harness]:
        with serve_harness(simulator, self.connector, store, monkeypatch) as harness:
            yield harness

    def test_a_full_sync_holds_the_whole_offer(self, harness: Harness) -> None:
        result = harness.sync()
        in_step(harness, result)
        totals = result.totals()
        assert totals.created == len(harness.simulator.expected_numeros())
        assert totals.rejected == len(harness.simulator.rejected_numeros())
        assert result.cursor_after
        assert load_cursor(harness.store, harness.source) == result.cursor_after

    def test_an_incremental_sync_with_nothing_changed_writes_nothing(
        self, harness: Harness
    ) -> None:
        in_step(harness, harness.sync())
        rows, last_change = harness.formation_rows(), harness.last_change()
        result = harness.sync()
        assert result.ok, str(result.error)
        for flow in result.flows:
            counts = flow.counts
            assert (counts.created, counts.updated, counts.deleted) == (0, 0, 0), counts
        assert harness.last_change() == last_change, "no change may be emitted"
        assert harness.formation_rows() == rows, "no formation may be written"

    def test_a_changed_an_added_and_a_deleted_formation_are_synced(self, harness: Harness) -> None:
        in_step(harness, harness.sync())
        last_change = harness.last_change()
        offer = harness.simulator.offer
        [changed], [added], [deleted] = offer.change(1), offer.add(1), offer.delete(1)
        result = harness.sync()
        in_step(harness, result)
        assert harness.changes_after(last_change) == {
            (changed, "upsert"),
            (added, "upsert"),
            (deleted, "delete"),
        }
        totals = result.totals()
        assert (totals.created, totals.updated, totals.deleted) == (1, 1, 1)

    def test_a_run_with_faults_recovers_by_retrying(self, harness: Harness) -> None:
        harness.simulator.faults.inject("429", "503", "truncate", "incomplete")
        result = harness.sync()
        in_step(harness, result)
        assert result.retries == 4
        faults = [r.fault for r in harness.simulator.faults.log()[:5]]
        assert faults == ["429", "503", "truncate", "incomplete", None]

    def test_an_interrupted_sync_resumes_where_it_stopped(self, harness: Harness) -> None:
        harness.simulator.faults.inject(*["ok"] * self.interrupt_at, "403")
        stopped = harness.sync()
        assert stopped.error is not None and stopped.error.stage == "fetch"
        assert "403" in stopped.error.error and stopped.error.url
        stored = load_cursor(harness.store, harness.source)
        stored.pop("_hub", None)
        assert stored == stopped.cursor_after, "the cursor of the last applied flow is stored"
        assert harness.live_numeros() <= harness.simulator.expected_numeros()
        resumed = harness.sync()
        in_step(harness, resumed)
        log = harness.simulator.faults.log()
        failed, first_again = log[self.interrupt_at], log[self.interrupt_at + 1]
        assert (first_again.path, first_again.query) == (failed.path, failed.query)
        created = stopped.totals().created + resumed.totals().created
        assert created == len(harness.simulator.expected_numeros()), "nothing applied twice"

    def test_a_dry_run_reports_and_writes_no_formation_and_no_cursor(
        self, harness: Harness
    ) -> None:
        result = harness.sync(dry_run=True)
        assert result.ok, str(result.error)
        assert result.dry_run and result.totals().created == len(
            harness.simulator.expected_numeros()
        )
        assert harness.live_numeros() == set() and harness.last_change() == 0
        assert load_cursor(harness.store, harness.source) == {}
