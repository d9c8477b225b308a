"""PostgreSQL goes away in the middle of a sync: the flow fails cleanly, the retry succeeds.

A real ``hub serve`` syncs a simulated Dokelio, page after page (one flow each). While it
is writing a page, its database connections are cut: in the quick run by
``pg_terminate_backend`` on the hub's own backends (the shared server stays up for every
other test), in the full run by restarting a PostgreSQL server of the suite's own. The
sync must fail without leaving half a flow behind, and the next sync must bring the store
to exactly the regional offer: nothing lost, nothing applied twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import create_engine, select, text

from hub.store.models import Flow, Formation, SyncRun
from hub.store.tokens import create_token
from simulators.dokelio import DokelioSimulator
from simulators.serving import ServerThread
from tests.reliability.crash import writing
from tests.reliability.hubproc import HubProcess, postgres_schema, wait_until
from tests.reliability.offer import flow_statuses, live_state, upserts_per_record
from tests.reliability.pgcluster import PrivateCluster
from tests.reliability.report import Tally
from tests.reliability.sizes import scale

TOKEN = "dokelio-db-fault-token"
SOURCE = "dokelio"
PAGES = scale(8, 20)
PAGE_SIZE = 30


@contextmanager
def syncing_hub(url: str, folder: Path) -> Iterator[tuple[HubProcess, DokelioSimulator, str]]:
    """A hub on ``url`` with one Dokelio source served slowly, page after page."""
    simulator = DokelioSimulator(
        formations=PAGES * PAGE_SIZE, seed=51, invalid_share=0.05, token=TOKEN, page_size=PAGE_SIZE
    )
    server = ServerThread(simulator.app()).start()
    source = simulator.source_config(server.url) | {"schedule": {"every": "1h"}}
    fetch = {"attempts": 3, "backoff_initial": 0.01, "backoff_max": 0.05, "jitter": 0.0}
    hub = HubProcess(folder, url, fetch=fetch, sources={SOURCE: source},
                     env={"DOKELIO_TOKEN": TOKEN})  # fmt: skip
    try:
        hub.start().ready()
        yield hub, simulator, create_token(hub.store.engine, "admin").token
    finally:
        hub.close()
        server.stop()


def run_sync(hub: HubProcess, admin: str) -> int:
    with hub.client(Authorization=f"Bearer {admin}") as http:
        started = http.post(f"/v1/admin/sources/{SOURCE}/sync")
        assert started.status_code in (200, 202), started.text
        return int(started.json()["run_id"])


def run_outcome(hub: HubProcess, run_id: int) -> str | None:
    """The outcome of sync run ``run_id`` once it ended, from the hub's log."""
    for line in hub.log_lines():
        if line.get("run_id") == run_id and line.get("event") in ("sync finished", "sync failed"):
            return "success" if line["event"] == "sync finished" else "failed"
    return None


def applied_flows(hub: HubProcess) -> set[str]:
    flows = Flow.__table__.c  # type: ignore[attr-defined]
    with hub.store.engine.connect() as connection:
        return set(
            connection.execute(
                select(flows.id).where(flows.source == SOURCE, flows.status == "applied")
            ).scalars()
        )


def recorded_outcome(hub: HubProcess, run_id: int) -> str:
    """The run log's outcome of a run whose database was cut: never a success.

    Known gap, reported: when the server itself goes away, the run's last write (its
    outcome) comes while the database is down and is not retried (hub/runs.py), so the
    run can stay ``running`` until the next run of its source.
    """
    runs = SyncRun.__table__.c  # type: ignore[attr-defined]
    with hub.store.engine.connect() as connection:
        recorded = connection.execute(select(runs.outcome).where(runs.id == run_id)).scalar()
    assert recorded in ("failed", "running"), "the run log never calls it a success"
    return str(recorded)


def survive(
    hub: HubProcess,
    simulator: DokelioSimulator,
    admin: str,
    cut: Callable[[], Any],
    *,
    figures: Tally,
    label: str,
) -> None:
    """Sync, ``cut`` the database while a page is written, check, then sync again."""
    simulator.faults.inject(*["slow:0.15"] * PAGES)  # each page takes a moment to come
    first = run_sync(hub, admin)
    wait_until(
        lambda: len(applied_flows(hub)) >= 2 and writing(hub),
        timeout=60,
        what="the sync to be writing a page",
    )
    cut()
    assert wait_until(lambda: run_outcome(hub, first), timeout=120, what="the run to end") == (
        "failed"
    ), "the database came back too soon to test anything"
    if recorded_outcome(hub, first) == "running":
        figures.notes.append(f"{label}: the cut run stays 'running' in the run log")
    f = Formation.__table__.c  # type: ignore[attr-defined]
    with hub.store.engine.connect() as connection:
        owners = set(connection.execute(select(f.flow_id).where(f.source == SOURCE)).scalars())
    assert owners <= applied_flows(hub), "no formation of a half-written flow is stored"
    simulator.faults.clear()
    second = run_sync(hub, admin)
    assert wait_until(lambda: run_outcome(hub, second), timeout=120, what="the retry") == (
        "success"
    )
    expected = {(SOURCE, n) for n in simulator.expected_numeros()}
    live = live_state(hub.store.engine)
    figures.records(label, expected, live)
    assert set(live) == expected
    assert set(upserts_per_record(hub.store.engine, SOURCE).values()) == {1}, "nothing doubled"
    figures.count("faults", label)


def test_connections_cut_during_a_sync(tmp_path: Path, figures: Tally) -> None:
    with postgres_schema("dbcut") as url, syncing_hub(url, tmp_path) as (hub, simulator, admin):
        [name] = parse_qs(urlsplit(url).query)["application_name"]
        admin_engine = create_engine(url.split("?")[0], isolation_level="AUTOCOMMIT")

        def terminate() -> None:
            """Cut the hub's connections, again and again for a second: a connection cut
            while idle is simply replaced (pre-ping), one cut mid-transaction fails the flow."""
            cut = 0
            with admin_engine.connect() as connection:
                for _ in range(20):
                    cut += connection.execute(
                        text(
                            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                            "WHERE application_name = :name"
                        ),
                        {"name": name},
                    ).scalar_one()
                    time.sleep(0.05)
            assert cut, "the hub had no connection to cut"

        try:
            survive(
                hub, simulator, admin, terminate, figures=figures, label="database: connections cut"
            )
        finally:
            admin_engine.dispose()


@pytest.mark.reliability_full
def test_postgresql_restarted_during_a_sync(tmp_path: Path, figures: Tally) -> None:
    cluster = PrivateCluster().start()
    try:
        url = f"{cluster.url}?application_name=hub-reliability"
        with syncing_hub(url, tmp_path) as (hub, simulator, admin):
            survive(
                hub,
                simulator,
                admin,
                cluster.restart,
                figures=figures,
                label="database: PostgreSQL restarted",
            )
            # The page whose flow was cut is still archived: a restart of the hub resumes it,
            # and it changes nothing, since the retry already applied the same offer.
            hub.stop()
            hub.start().ready()
            assert "received" not in flow_statuses(hub.store.engine, SOURCE)
            assert set(upserts_per_record(hub.store.engine, SOURCE).values()) == {1}
    finally:
        cluster.stop()
