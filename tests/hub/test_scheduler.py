"""The scheduler: each source on its slot, timeouts, retries at the next slot, and one run
of a source at a time across replicas (two real ``hub serve`` processes on PostgreSQL)."""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from prometheus_client.parser import text_string_to_metric_families
from simulated_hub import DOKELIO_TOKEN, toml
from sqlalchemy import select

from hub.errors import ConfigError
from hub.ops.scheduler import HubScheduler, SourceSchedule, run_source, schedules, trigger_of
from hub.pipeline.ingest import FlowResult
from hub.settings import ScheduleSettings, Settings, SourceSettings
from hub.store import Store
from hub.store.tables import RUNS
from simulators.dokelio import DokelioSimulator
from simulators.emfor import EmforSimulator
from simulators.serving import ServerThread

REPO = Path(__file__).resolve().parents[2]


def runs(store: Store, source: str | None = None) -> list[dict[str, object]]:
    query = select(RUNS).order_by(RUNS.c.started_at, RUNS.c.id)
    if source is not None:
        query = query.where(RUNS.c.source == source)
    with store.engine.connect() as connection:
        return [dict(row) for row in connection.execute(query).mappings()]


def poll(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not hold in time")
        time.sleep(0.05)


def source(name: str, **schedule: object) -> SourceSettings:
    return SourceSettings(
        name=name,
        connector="dokelio",
        region="11",
        url="http://127.0.0.1:9/v1",
        schedule=ScheduleSettings(**schedule),  # type: ignore[arg-type]
    )


def test_each_source_gets_the_trigger_its_config_describes() -> None:
    cron = trigger_of(source("a", cron="15 3,13 * * *", jitter="10m"), default_jitter=30)
    assert isinstance(cron, CronTrigger) and cron.jitter == 600
    assert str(cron.fields[5]) == "3,13" and str(cron.fields[6]) == "15"
    every = trigger_of(source("b", every="2h"), default_jitter=30)
    assert isinstance(every, IntervalTrigger)
    assert every.interval == timedelta(hours=2) and every.jitter == 30
    disabled = source("c", every="1h").model_copy(update={"enabled": False})
    settings = Settings(sources={"a": source("a", every="1h"), "c": disabled})
    assert [slot.source for slot in schedules(settings)] == ["a"]


def test_a_bad_cron_expression_names_the_source() -> None:
    with pytest.raises(ConfigError, match=r"bad: schedule\.cron: '61 \* \* \* \*'"):
        trigger_of(source("bad", cron="61 * * * *"), default_jitter=0)


def test_a_hung_source_times_out_and_never_holds_up_the_others(store: Store) -> None:
    release = threading.Event()
    calls: list[str] = []

    def sync(name: str) -> list[FlowResult]:
        calls.append(name)
        if name == "hung":
            release.wait(30)
        return []

    slots = [
        SourceSchedule("hung", IntervalTrigger(seconds=0.2), timeout=0.3),
        SourceSchedule("emfor", IntervalTrigger(seconds=0.2), timeout=5),
    ]
    scheduler = HubScheduler(store, slots, sync)
    scheduler.start()
    try:
        poll(lambda: len([r for r in runs(store, "emfor") if r["outcome"] == "success"]) >= 4)
        poll(lambda: any(r["outcome"] == "timeout" for r in runs(store, "hung")))
    finally:
        scheduler.shutdown()
        release.set()
    [hung] = runs(store, "hung")  # later slots found it still running: skipped, not logged
    assert hung["outcome"] == "timeout" and "abandoned" in str(hung["error"])
    assert calls.count("hung") == 1
    poll(lambda: runs(store, "hung")[0]["finished_at"] is not None)
    [ended] = runs(store, "hung")
    assert ended["outcome"] == "timeout" and "it ended later: success" in str(ended["error"])
    after = run_source(store, "hung", lambda name: [], timeout=5)
    assert after.outcome == "success", "the lock is free once the hung run really ended"


def test_a_failed_run_is_retried_at_the_next_slot(store: Store) -> None:
    attempts: list[int] = []

    def sync(name: str) -> list[FlowResult]:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("GET http://127.0.0.1:8102/export: 503 Service Unavailable")
        return []

    scheduler = HubScheduler(
        store, [SourceSchedule("emfor", IntervalTrigger(seconds=0.2), 5)], sync
    )
    scheduler.start()
    try:
        poll(lambda: len([r for r in runs(store, "emfor") if r["finished_at"]]) >= 2)
    finally:
        scheduler.shutdown()
    first, second = runs(store, "emfor")[:2]
    assert first["outcome"] == "failed" and "503" in str(first["error"])
    assert second["outcome"] == "success" and first["trigger"] == "schedule"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def two_simulators() -> Iterator[dict[str, str]]:
    """Dokelio answering slowly (so two replicas would overlap without the lock), and Emfor."""
    dokelio = DokelioSimulator(formations=12, seed=3, token=DOKELIO_TOKEN, page_size=50)
    dokelio.faults.inject(*["slow:0.3"] * 200)
    emfor = EmforSimulator(formations=12, seed=4)
    systems = {"dokelio": dokelio, "emfor": emfor}
    servers = {name: ServerThread(system.app()).start() for name, system in systems.items()}
    try:
        yield {
            "dokelio": dokelio.source_config(servers["dokelio"].url)["url"],
            "emfor": servers["emfor"].url,
        }
    finally:
        for server in servers.values():
            server.stop()


def write_config(folder: Path, urls: dict[str, str]) -> Path:
    (folder / "regions").mkdir(parents=True)
    (folder / "hub.toml").write_text(
        toml(
            {
                "store": {"archive_dir": str(folder / "archive")},
                "scheduler": {"enabled": True, "run_timeout_seconds": 30, "jitter_seconds": 0},
                "simulators": {"enabled": False},
                "logging": {"format": "json", "level": "WARNING"},
                "fetch": {"attempts": 1, "connect_timeout": 2.0, "read_timeout": 10.0},
            }
        )
    )
    regions = {
        "dokelio": {"connector": "dokelio", "region": "11", "token_env": "DOKELIO_TOKEN"},
        "emfor": {"connector": "emfor", "region": "27"},
    }
    for name, fields in regions.items():
        fields.update(url=urls[name], schedule={"every": "0.4s", "jitter": "0s"})
        (folder / "regions" / f"{name}.toml").write_text(toml(fields))
    return folder / "hub.toml"


@pytest.mark.slow
def test_two_hub_processes_never_run_the_same_source_at_once(
    postgres_url: str, tmp_path: Path, two_simulators: dict[str, str]
) -> None:
    config = write_config(tmp_path, two_simulators)
    store = Store.at(postgres_url, tmp_path / "archive")  # migrate once, before both start
    env = {**os.environ, "HUB_DATABASE_URL": postgres_url, "DOKELIO_TOKEN": DOKELIO_TOKEN}
    ports = [free_port(), free_port()]
    hub = [str(Path(sys.executable).with_name("hub"))]
    replicas = [
        subprocess.Popen(
            [*hub, "serve", "--config", str(config), "--port", str(port)],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for port in ports
    ]
    try:
        # Generous deadline: both processes start a whole CLI, slow on a loaded machine.
        poll(lambda: _took_turns(store), 120)
        skipped = sum(_skipped(port) for port in ports)
    finally:
        for process in replicas:
            process.terminate()
        for process in replicas:
            process.wait(timeout=20)
    for name in ("dokelio", "emfor"):
        finished = [r for r in runs(store, name) if r["finished_at"] is not None]
        assert finished, f"{name} never ran"
        for earlier, later in itertools.pairwise(finished):
            assert earlier["finished_at"] <= later["started_at"], (name, earlier, later)
    dokelio = [r for r in runs(store, "dokelio") if r["finished_at"]]
    assert {r["outcome"] for r in dokelio} == {"success"}
    assert len({r["replica"] for r in dokelio}) == 2, "both replicas took turns"
    assert skipped > 0, "the replicas contended, and the lock turned one away"
    store.engine.dispose()


def _took_turns(store: Store) -> bool:
    finished = [r for r in runs(store, "dokelio") if r["finished_at"]]
    return len(finished) >= 6 and len({r["replica"] for r in finished}) == 2


def _skipped(port: int) -> float:
    """Runs this replica did not start because the other one held the source's lock."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "hub_sync_runs_total" and s.labels.get("outcome") == "skipped"
    )
