"""Regional systems that fail: the hub retries, recovers, and says who is stale.

A real ``hub serve`` syncs real simulators of the regional systems (Dokelio, paged LHEO 2.3
behind a token; Emfor, one LHEO 2.2 export) over HTTP on 127.0.0.1, started by the admin
endpoint as an operator would. Faults come from the simulators' switches (429 with
``Retry-After``, 503, an answer slower than the read timeout, a body cut short of its
``Content-Length``, an incomplete document) and from a relay in front of Dokelio that
resets the connection (TCP RST) while the request waits for its answer.
"""

from __future__ import annotations

import contextlib
import re
import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.store.tokens import create_token
from simulators.dokelio import DokelioSimulator
from simulators.emfor import EmforSimulator
from simulators.serving import ServerThread
from simulators.system import SimulatedSystem
from tests.reliability.hubproc import HubProcess, free_port, postgres_schema, wait_until
from tests.reliability.offer import live_state
from tests.reliability.report import Tally
from tests.reliability.sizes import scale

DOKELIO_TOKEN = "dokelio-reliability-token"
FETCH = {
    "attempts": 10,
    "connect_timeout": 1.0,
    "read_timeout": 1.0,
    "backoff_initial": 0.01,
    "backoff_max": 0.05,
    "jitter": 0.0,
    "max_retry_after": 0.1,
}


class ResettingRelay:
    """A TCP relay to ``target`` that resets (RST) the next ``resets`` connections it gets,
    once their request has arrived, and relays every other connection byte for byte."""

    def __init__(self, target: int) -> None:
        self.target, self.port, self.resets = target, free_port(), 0
        self.reset_done = 0
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = self.listener.accept()
                threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        if self.resets > 0:
            self.resets -= 1
            client.recv(65536)  # the request is in: now the peer resets
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()
            self.reset_done += 1
            return
        upstream = socket.create_connection(("127.0.0.1", self.target))
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self.listener.close()


@dataclass
class Regions:
    hub: HubProcess
    admin: str
    systems: dict[str, SimulatedSystem]
    servers: dict[str, ServerThread]
    relay: ResettingRelay

    def sync(self, source: str) -> dict[str, Any]:
        """Run ``source`` now through the admin endpoint; its health once the run ended."""
        with self.hub.client(Authorization=f"Bearer {self.admin}") as http:
            started = http.post(f"/v1/admin/sources/{source}/sync")
            assert started.status_code in (200, 202), started.text
            run_id = started.json()["run_id"]
            return wait_until(lambda: self._ended(http, source, run_id), timeout=120,
                              what=f"the sync of {source}")  # fmt: skip

    @staticmethod
    def _ended(http: httpx.Client, source: str, run_id: int) -> dict[str, Any] | None:
        health = {s["name"]: s for s in http.get("/v1/status").json()["sources"]}[source]
        run = health["last_run"]
        return health if run and run["run_id"] == run_id and run["finished_at"] else None

    def status(self) -> dict[str, dict[str, Any]]:
        with self.hub.client() as http:
            return {s["name"]: s for s in http.get("/v1/status").json()["sources"]}

    def stored(self, source: str) -> set[str]:
        return {n for s, n in live_state(self.hub.store.engine) if s == source}


@pytest.fixture(scope="module")
def regions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Regions]:
    count = scale(40, 300)
    systems: dict[str, SimulatedSystem] = {
        "dokelio": DokelioSimulator(formations=count, seed=41, invalid_share=0.05,
                                    token=DOKELIO_TOKEN, page_size=max(10, count // 6)),
        "emfor": EmforSimulator(formations=count, seed=42, invalid_share=0.05),
        "grand-est": DokelioSimulator(formations=count // 2, seed=43, token=DOKELIO_TOKEN),
    }  # fmt: skip
    servers = {name: ServerThread(system.app()).start() for name, system in systems.items()}
    relay = ResettingRelay(servers["dokelio"].port)
    sources = {}
    for name, system in systems.items():
        base = f"http://127.0.0.1:{relay.port}" if name == "dokelio" else servers[name].url
        source = system.source_config(base) | {"schedule": {"every": "1h"}, "stale_after": "1h"}
        sources[name] = source | (
            {"region": "44", "stale_after": "3s"} if name == "grand-est" else {}
        )
    folder: Path = tmp_path_factory.mktemp("upstream")
    try:
        with postgres_schema("upstream") as url:
            hub = HubProcess(folder, url, fetch=FETCH, sources=sources,
                             env={"DOKELIO_TOKEN": DOKELIO_TOKEN})  # fmt: skip
            try:
                hub.start().ready()
                admin = create_token(hub.store.engine, "admin").token
                yield Regions(hub, admin, systems, servers, relay)
            finally:
                hub.close()
    finally:
        relay.close()
        for server in servers.values():
            server.stop()


def retries(regions: Regions, source: str) -> float:
    with regions.hub.client() as http:
        text = http.get("/metrics").text
    found = re.findall(rf'hub_upstream_retries_total{{[^}}]*source="{source}"[^}}]*}} (\S+)', text)
    return sum(float(value) for value in found)


def test_upstream_faults_are_retried_and_every_region_recovers(
    regions: Regions, figures: Tally
) -> None:
    injected = {
        "dokelio": ["429", "slow:3", "503", "truncate", "incomplete", "503"],
        "emfor": ["503", "truncate", "429", "slow:3"],
    }
    for source, faults in injected.items():
        before = retries(regions, source)
        regions.systems[source].faults.inject(*faults)
        if source == "dokelio":
            regions.relay.resets = 2
        health = regions.sync(source)
        assert health["last_run"]["outcome"] == "success", health["last_run"]["error"]
        assert regions.systems[source].faults.pending() == [], "every fault was met"
        resets = regions.relay.reset_done if source == "dokelio" else 0
        assert retries(regions, source) - before >= len(faults) + resets
        expected = regions.systems[source].expected_numeros()
        assert figures.records(f"upstream faults ({source})", expected, regions.stored(source)) == 0
        assert regions.stored(source) == expected
        for fault in faults:
            figures.count("faults", "upstream: " + fault.split(":")[0].replace("slow", "timeout"))
        if resets:
            figures.count("faults", "upstream: connection reset", resets)


def test_a_region_that_stays_down_is_stale_and_the_others_are_unaffected(
    regions: Regions, figures: Tally
) -> None:
    for source in ("dokelio", "emfor", "grand-est"):
        assert regions.sync(source)["last_run"]["outcome"] == "success"
    regions.servers.pop("grand-est").stop()  # the region goes down and stays down
    for source in ("dokelio", "emfor"):
        regions.systems[source].offer.change(2)
        regions.systems[source].offer.add(1)
    failed = regions.sync("grand-est")
    assert failed["last_run"]["outcome"] == "failed" and "grand-est" in failed["last_run"]["error"]
    for source in ("dokelio", "emfor"):
        health = regions.sync(source)
        assert health["last_run"]["outcome"] == "success" and health["status"] == "ok"
        expected = regions.systems[source].expected_numeros()
        assert figures.records(f"others while a region is down ({source})", expected,
                               regions.stored(source)) == 0  # fmt: skip
    stale = wait_until(
        lambda: (s := regions.status())["grand-est"]["status"] == "stale" and s,
        timeout=30,
        what="grand-est to be shown stale",
    )
    assert stale["dokelio"]["status"] == stale["emfor"]["status"] == "ok"
    assert stale["grand-est"]["consecutive_failures"] >= 1
    assert regions.stored("grand-est") == regions.systems["grand-est"].expected_numeros(), (
        "what the region sent before it went down stays published"
    )
    with regions.hub.client() as http:
        assert 'hub_source_stale{source="grand-est"} 1' in http.get("/metrics").text
    figures.count("faults", "upstream: a region down for good")
