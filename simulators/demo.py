"""The demo ``make run`` starts beside the hub: simulated regional systems and partner.

The demo configuration names this module (``[simulators] demo = "simulators.demo:Demo"``);
the hub loads it by that name and never imports it, so a production configuration, which
leaves ``[simulators]`` out, runs no development code at all.

:meth:`Demo.start` serves, for every enabled source whose ``url`` points at 127.0.0.1 and
whose connector has a simulator here, that simulator on the URL's port; and, with
``[publishing] simulator = true``, the intercariforef receiver for every intercariforef
partner aimed at 127.0.0.1. It trusts no port it did not bind: a port already taken stops
the demo at once with a message naming the port, so the hub never syncs from, nor delivers
to, a process it did not start. Tokens a simulated source or partner needs are drawn at
random at each start and printed once. With ``first_sync = true`` every pull source is
synced once in the background (recorded runs, trigger ``startup``).

:meth:`Demo.for_source` serves one source's simulator for the length of a ``hub sync``,
or, when a running ``hub serve`` holds the port, checks that the process there is the one
that demo started (its ``/_admin/whoami`` and ``var/demo.json`` agree) before the sync
talks to it.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from connectors.registry import connector_class
from hub.errors import ConfigError
from hub.ops.scheduler import RunOutcome, hub_sync, start_run
from hub.publish.publishers.config import PublisherConfig, load_publishers
from hub.settings import Settings, SourceSettings
from hub.store import Store
from simulators.dokelio import DokelioSimulator
from simulators.emfor import EmforSimulator
from simulators.grandest import GrandEstSimulator
from simulators.intercariforef import IntercariforefReceiver
from simulators.serving import ServerThread
from simulators.system import SimulatedSystem
from simulators.viacompetences import ViaCompetencesSimulator

__all__ = ["SIMULATORS", "Demo"]

SIMULATORS: dict[str, type[SimulatedSystem]] = {
    cls.name: cls
    for cls in (DokelioSimulator, EmforSimulator, GrandEstSimulator, ViaCompetencesSimulator)
}
"""The simulator of each connector, by the connector's name."""
LOCAL_HOSTS = ("127.0.0.1", "localhost")


def _local_port(url: str | None) -> int | None:
    """The port of ``url`` when it points at this machine, else None."""
    if not url:
        return None
    parts = urlsplit(url)
    return (parts.port or 80) if parts.hostname in LOCAL_HOSTS else None


def _simulated(source: SourceSettings) -> type[SimulatedSystem] | None:
    if not source.enabled or _local_port(source.url) is None:
        return None
    return SIMULATORS.get(source.connector)


def _token(variable: str | None, who: str) -> str | None:
    """A fresh random token in ``variable`` (unless set), printed once for the person."""
    if not variable:
        return None
    if os.environ.get(variable):
        return os.environ[variable]
    token = os.environ[variable] = secrets.token_urlsafe(24)
    print(f"demo: {who}: token {variable}={token}", file=sys.stderr)
    return token


def _bind(app: object, port: int, what: str) -> ServerThread:
    try:
        return ServerThread(app, port=port).start()
    except OSError as exc:
        raise ConfigError(
            f"the demo cannot start {what}: port {port} of 127.0.0.1 is already taken "
            f"({exc.strerror}); it never talks to a process it did not start",
            hint=f"stop what listens on port {port} (`ss -ltnp 'sport = :{port}'`), or "
            "point the source or partner at another port",
        ) from exc


@dataclass
class Demo:
    """What the demo started; ``stop`` ends it."""

    settings: Settings
    servers: dict[str, ServerThread] = field(default_factory=dict)
    systems: dict[str, SimulatedSystem] = field(default_factory=dict)
    receivers: dict[str, IntercariforefReceiver] = field(default_factory=dict)
    first_runs: list[RunOutcome] = field(default_factory=list)

    @classmethod
    def start(cls, settings: Settings, store: Store) -> Demo:
        """Serve every simulated source and partner, then (optionally) a first sync."""
        demo = cls(settings)
        try:
            for name, source in sorted(settings.sources.items()):
                if (simulator := _simulated(source)) is not None:
                    demo._serve_source(name, source, simulator)
            if settings.publishing.simulator and settings.publishing.enabled:
                for config in load_publishers(settings).values():
                    demo._serve_partner(config)
        except BaseException:
            demo.stop()
            raise
        demo._remember()
        if settings.simulators.first_sync:
            demo.first_runs = _first_sync(settings, store)
        return demo

    def _serve_source(
        self, name: str, source: SourceSettings, simulator: type[SimulatedSystem]
    ) -> None:
        port = _local_port(source.url)
        assert port is not None
        system = simulator(
            formations=self.settings.simulators.formations,
            seed=self.settings.simulators.seed,
            invalid_share=self.settings.simulators.invalid_share,
            token=_token(source.token_env, f"source {name}"),
        )
        self.servers[name] = _bind(system.app(), port, f"the simulator of source {name!r}")
        self.systems[name] = system

    def _serve_partner(self, config: PublisherConfig) -> None:
        port = _local_port(config.destination)
        if not config.enabled or port is None or config.publisher != "intercariforef":
            return
        receiver = IntercariforefReceiver(token=_token(config.token_env, f"partner {config.name}"))
        key = f"partner:{config.name}"
        self.servers[key] = _bind(receiver.app(), port, f"the receiver of partner {config.name!r}")
        self.receivers[config.name] = receiver

    def _remember(self) -> None:
        """Write which process holds which port, for ``hub sync`` to check (var/demo.json)."""
        instances = {name: system.instance for name, system in self.systems.items()}
        path = _state_file(self.settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"pid": os.getpid(), "instances": instances}))

    def stop(self) -> None:
        for receiver in self.receivers.values():
            receiver.release()
        for server in self.servers.values():
            server.stop()
        if self.systems:
            with suppress(OSError):
                _state_file(self.settings).unlink()

    @classmethod
    @contextmanager
    def for_source(cls, settings: Settings, name: str) -> Iterator[None]:
        """For ``hub sync``: the source's simulator for the block, or the demo's own."""
        source = settings.sources.get(name)
        simulator = _simulated(source) if source is not None else None
        if source is None or simulator is None:
            yield
            return
        demo = cls(settings)
        try:
            demo._serve_source(name, source, simulator)
        except ConfigError:
            _check_demo_holds(settings, name, source)  # a running `hub serve` demo: trusted
            yield
            return
        try:
            yield
        finally:
            demo.stop()


def _state_file(settings: Settings) -> Path:
    return settings.store.archive_dir.parent / "demo.json"


def _check_demo_holds(settings: Settings, name: str, source: SourceSettings) -> None:
    """Refuse unless the process on the source's port is the running demo's simulator."""
    port = _local_port(source.url)
    try:
        expected = json.loads(_state_file(settings).read_text())["instances"][name]
        answer = httpx.get(f"http://127.0.0.1:{port}/_admin/whoami", timeout=2.0).json()
    except (OSError, KeyError, ValueError, httpx.HTTPError):
        expected, answer = None, None
    if expected is None or not isinstance(answer, dict) or answer.get("instance") != expected:
        raise ConfigError(
            f"port {port} of source {name!r} is held by a process the demo did not start: "
            "the sync does not talk to it",
            hint=f"stop what listens on port {port}, or run `make run` and sync from there",
        )


def _first_sync(settings: Settings, store: Store) -> list[RunOutcome]:
    """Sync every pull source once, each in its own recorded run (trigger ``startup``)."""
    sync = hub_sync(store, settings)
    return [
        start_run(store, name, sync, trigger="startup")
        for name, source in sorted(settings.sources.items())
        if source.enabled and connector_class(source.connector, source=source).transport == "pull"
    ]
