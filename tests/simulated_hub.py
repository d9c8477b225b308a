"""A hub filled by the simulated regional systems, for the operations tests.

Two real simulators (Dokelio, paged LHEO 2.3 with a token; Emfor, one LHEO 2.2 export)
run on free ports of 127.0.0.1; a configuration folder names them as sources, each with
its staleness threshold; syncs go through the real runner and the scheduler's run
machinery (lock, run log, metrics), exactly as ``hub serve`` runs them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from hub.api.app import create_app
from hub.ops.scheduler import RunOutcome, hub_sync, run_source
from hub.settings import Settings, load_settings
from hub.store import Store
from simulators.dokelio import DokelioSimulator
from simulators.emfor import EmforSimulator
from simulators.serving import ServerThread
from simulators.system import SimulatedSystem

DOKELIO_TOKEN = "dokelio-ops-test-token"


def _toml_value(value: Any) -> str:
    return json.dumps(value)  # strings, numbers, booleans and lists read the same in TOML


def toml(data: Mapping[str, Any]) -> str:
    """TOML for a flat mapping with one level of tables (all the configs here need)."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for name, table in data.items():
        if isinstance(table, dict):
            lines.append(f"\n[{name}]")
            lines.extend(f"{k} = {_toml_value(v)}" for k, v in table.items() if v is not None)
    return "\n".join(line for line in lines if not line.endswith("= null")) + "\n"


@dataclass
class SimulatedHub:
    settings: Settings
    store: Store
    systems: dict[str, SimulatedSystem]
    servers: dict[str, ServerThread]

    def sync(self, name: str, *, trigger: str = "manual") -> RunOutcome:
        """One run of ``name``, as the scheduler runs it (locked, logged, counted)."""
        sync = hub_sync(self.store, self.settings)
        return run_source(self.store, name, sync, timeout=60, trigger=trigger)

    def stop(self, name: str) -> None:
        """Unplug a regional system: its server stops answering."""
        self.servers.pop(name).stop()

    def app(self) -> FastAPI:
        return create_app(self.settings, self.store)


@contextmanager
def simulated_hub(
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    *,
    stale_after: Mapping[str, str],
    formations: int = 24,
    fetch_attempts: int = 1,
) -> Iterator[SimulatedHub]:
    """Start the simulators, write the configuration, open the store; stop it all after."""
    systems: dict[str, SimulatedSystem] = {
        "dokelio": DokelioSimulator(
            formations=formations, seed=11, invalid_share=0.15, token=DOKELIO_TOKEN, page_size=50
        ),
        "emfor": EmforSimulator(formations=formations, seed=12, invalid_share=0.15),
    }
    monkeypatch.setenv("DOKELIO_TOKEN", DOKELIO_TOKEN)
    servers = {name: ServerThread(system.app()).start() for name, system in systems.items()}
    try:
        config = tmp_path / "config"
        (config / "regions").mkdir(parents=True)
        (config / "hub.toml").write_text(
            toml(
                {
                    "store": {
                        "database_url": database_url,
                        "archive_dir": str(tmp_path / "archive"),
                    },
                    "scheduler": {"enabled": False},
                    "simulators": {"enabled": False},
                    "fetch": {
                        "attempts": fetch_attempts,
                        "backoff_initial": 0.0,
                        "backoff_max": 0.0,
                        "jitter": 0.0,
                        "connect_timeout": 2.0,
                        "read_timeout": 10.0,
                    },
                }
            )
        )
        for name, system in systems.items():
            source = system.source_config(servers[name].url)
            source.update(stale_after=stale_after[name], schedule={"every": "1h", "jitter": "0s"})
            (config / "regions" / f"{name}.toml").write_text(toml(source))
        monkeypatch.delenv("HUB_DATABASE_URL", raising=False)
        monkeypatch.delenv("HUB_ARCHIVE_DIR", raising=False)
        settings = load_settings(config / "hub.toml")
        store = Store.open(settings)
        try:
            yield SimulatedHub(settings, store, systems, servers)
        finally:
            store.engine.dispose()
    finally:
        for server in servers.values():
            server.stop()
