"""The simulators' shared machinery: fault switches, the admin endpoint, running them."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from hub.settings import FetchSettings, Settings, SimulatorSettings, SourceSettings
from hub.store import Store
from hub.store.models import Formation
from simulators.demo import Demo
from simulators.dokelio import DokelioSimulator
from simulators.faults import Fault
from simulators.serving import running


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        ("ok", Fault("ok")),
        ("429", Fault("status", status=429, retry_after=1.0)),
        ("429:retry-after=0", Fault("status", status=429, retry_after=0.0)),
        ("503", Fault("status", status=503)),
        ("403", Fault("status", status=403)),
        ("slow:0.5", Fault("slow", delay=0.5)),
        ("truncate", Fault("truncate")),
        ("incomplete", Fault("incomplete")),
    ],
)
def test_fault_spellings(text: str, fault: Fault) -> None:
    assert Fault.parse(text) == fault


def test_an_unknown_fault_says_which_exist() -> None:
    with pytest.raises(ValueError, match="use ok, 429"):
        Fault.parse("explode")


def test_the_admin_endpoint_queues_faults_and_changes_the_offer() -> None:
    system = DokelioSimulator(formations=6, token="t")
    auth = {"Authorization": "Bearer t"}
    with running(system) as url, httpx.Client(base_url=url) as client:
        queued = client.post("/_admin/faults", json={"faults": ["429", "ok", "503"]})
        assert queued.json() == {"pending_faults": ["429", "ok", "503"]}
        first = client.get("/v1/offres", headers=auth)
        assert first.status_code == 429 and first.headers["retry-after"] == "1"
        assert client.get("/v1/offres", headers=auth).status_code == 200
        assert client.get("/v1/offres", headers=auth).status_code == 503
        assert client.get("/v1/offres").status_code == 401
        assert client.post("/_admin/faults", json={"faults": ["boom"]}).status_code == 422
        changed = client.post("/_admin/offer", json={"change": 1, "add": 2, "delete": 1}).json()
        assert [len(changed[k]) for k in ("changed", "added", "deleted")] == [1, 2, 1]
        state = client.get("/_admin/state").json()
        assert state["live"] == 7 and state["deleted"] == 1 and state["requests"] == 4
    assert [r.status for r in system.faults.log()] == [429, 200, 503, 401]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_starts_the_configured_simulators_and_a_first_sync_fills_the_store(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Registered with monkeypatch (then unset) so the dev token the simulators set is removed.
    monkeypatch.setenv("SIMULATED_DOKELIO_TOKEN", "")
    monkeypatch.delenv("SIMULATED_DOKELIO_TOKEN")
    dokelio, emfor = free_port(), free_port()
    settings = Settings(
        fetch=FetchSettings(attempts=2, backoff_initial=0.0, jitter=0.0),
        simulators=SimulatorSettings(
            enabled=True, demo="simulators.demo:Demo", formations=8, first_sync=True
        ),
        sources={
            "dokelio": SourceSettings(
                name="dokelio",
                connector="dokelio",
                region="11",
                url=f"http://127.0.0.1:{dokelio}/v1",
                token_env="SIMULATED_DOKELIO_TOKEN",
            ),
            "emfor": SourceSettings(
                name="emfor", connector="emfor", region="27", url=f"http://127.0.0.1:{emfor}"
            ),
        },
    )
    started = Demo.start(settings, store)
    try:
        assert set(started.servers) == {"dokelio", "emfor"}
        for run in started.first_runs:
            assert run.finished.wait(30), f"first sync of {run.source} did not finish"
            assert run.outcome == "success", run.error
        for name, system in started.systems.items():
            with store.engine.connect() as connection:
                live = connection.execute(
                    select(func.count()).where(
                        Formation.source == name,  # type: ignore[arg-type]
                        Formation.deleted.is_(False),  # type: ignore[attr-defined]
                    )
                ).scalar_one()
            assert live == len(system.expected_numeros()) > 0
    finally:
        started.stop()
