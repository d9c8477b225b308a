"""Run the simulated regional systems next to the hub (``make run``, demos, tests).

With ``[simulators] enabled = true`` in the configuration, ``hub serve`` starts, for every
enabled source whose ``url`` points at 127.0.0.1 and whose connector names a simulator,
that simulator on the URL's port, each in a thread; sets the source's token variable to a
development token when it is unset (for simulated sources only); and, with
``first_sync = true``, syncs every pull source once in the background (a run recorded by
the scheduler's machinery, trigger ``startup``) so the store fills up. ``hub sync`` starts
the source's simulator for its own length when no ``hub serve`` holds the port. A
production configuration leaves ``[simulators]`` out and points the sources at the real
systems.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import structlog
import uvicorn

from connectors.registry import connector_class, load_object
from connectors.simulation import SimulatedSystem
from hub.errors import ConfigError
from hub.scheduler import RunOutcome, hub_sync, start_run
from hub.settings import Settings, SourceSettings
from hub.store import Store

__all__ = ["RunningSimulators", "ServerThread", "running", "simulator_for", "start_simulators"]

LOCAL_HOSTS = ("127.0.0.1", "localhost")
log = structlog.get_logger("connectors.simulators")


class ServerThread:
    """An ASGI app served by uvicorn on ``host:port`` (0: a free port), in a daemon thread."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind((host, port))  # OSError when the port is taken
        except OSError:
            self.sock.close()
            raise
        self.host, self.port = host, self.sock.getsockname()[1]
        self.server = uvicorn.Server(
            # No automatic Date header: a simulator states its own clock when it matters.
            uvicorn.Config(
                app, log_level="warning", lifespan="off", access_log=False, date_header=False
            )
        )
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"the server on {self.url} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@contextmanager
def running(system: SimulatedSystem, *, port: int = 0) -> Iterator[str]:
    """Serve ``system`` on 127.0.0.1 for the length of the block; yields its base URL."""
    server = ServerThread(system.app(), port=port).start()
    try:
        yield server.url
    finally:
        server.stop()


@dataclass
class RunningSimulators:
    """The simulators ``hub serve`` started, by source name."""

    servers: dict[str, ServerThread] = field(default_factory=dict)
    systems: dict[str, SimulatedSystem] = field(default_factory=dict)
    first_runs: list[RunOutcome] = field(default_factory=list)

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()


def _simulator_class(source: SourceSettings) -> type[SimulatedSystem] | None:
    """The simulator of a source pointing at 127.0.0.1, if its connector has one."""
    if not source.enabled or not source.url or urlsplit(source.url).hostname not in LOCAL_HOSTS:
        return None
    reference = connector_class(source.connector, source=source).simulator
    if reference is None:
        return None
    loaded = load_object(reference)
    if not (isinstance(loaded, type) and issubclass(loaded, SimulatedSystem)):
        raise ConfigError(f"{reference} is not a SimulatedSystem")
    return loaded


def _dev_token(source: SourceSettings) -> str | None:
    """The simulated source's token: its variable's value, set to a dev token when unset."""
    if not source.token_env:
        return None
    return os.environ.setdefault(source.token_env, f"dev-{source.name}-token")


def _start_one(settings: Settings, source: SourceSettings) -> tuple[SimulatedSystem, ServerThread]:
    simulator = _simulator_class(source)
    assert simulator is not None and source.url is not None
    token = _dev_token(source)
    system = simulator(
        formations=settings.simulators.formations,
        seed=settings.simulators.seed,
        invalid_share=settings.simulators.invalid_share,
        token=token,
    )
    port = urlsplit(source.url).port or 80
    return system, ServerThread(system.app(), port=port).start()


def start_simulators(settings: Settings, store: Store) -> RunningSimulators:
    """Start the simulators of the configured sources, then (optionally) a first sync."""
    started = RunningSimulators()
    if not settings.simulators.enabled:
        return started
    for name, source in settings.sources.items():
        if _simulator_class(source) is None:
            continue
        try:
            started.systems[name], started.servers[name] = _start_one(settings, source)
        except OSError as exc:
            log.warning("simulator.port_busy", source=name, url=source.url, error=str(exc))
            continue
        log.info("simulator.started", source=name, url=source.url)
    if settings.simulators.first_sync:
        started.first_runs = _first_sync(settings, store)
    return started


def _first_sync(settings: Settings, store: Store) -> list[RunOutcome]:
    """Sync every pull source once, each in its own recorded run (trigger ``startup``)."""
    sync = hub_sync(store, settings)
    return [
        start_run(store, name, sync, trigger="startup")
        for name, source in sorted(settings.sources.items())
        if source.enabled and connector_class(source.connector, source=source).transport == "pull"
    ]


@contextmanager
def simulator_for(settings: Settings, name: str) -> Iterator[None]:
    """For ``hub sync``: serve the source's simulator for the block when it is not running."""
    source = settings.sources.get(name)
    server = None
    if settings.simulators.enabled and source is not None and _simulator_class(source):
        _dev_token(source)  # the same dev token a running `hub serve` gave its simulator
        try:
            _, server = _start_one(settings, source)
        except OSError:
            server = None  # the port is taken: most likely by a running `hub serve`
    try:
        yield
    finally:
        if server is not None:
            server.stop()
