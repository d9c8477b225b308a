"""A real ``hub serve`` process for the reliability suite, and the databases it runs on.

:class:`HubProcess` writes a configuration folder of its own (``hub.toml`` plus one file per
source under ``regions/``), starts ``hub serve`` on a free port of 127.0.0.1 in a process
group of its own (so ``kill -9`` takes the pipeline's worker processes with it), waits for
``/readyz``, and keeps the process's JSON log in a file the tests read back.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from simulated_hub import toml
from sqlalchemy import create_engine, text

from hub.store import Store
from hub.store.db import make_engine
from tests.conftest import POSTGRES_URL

HUB = Path(sys.executable).with_name("hub")
START_TIMEOUT = 90.0
"""Seconds ``hub serve`` gets to answer ``/readyz`` (imports and migrations, on a busy box)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], Any], *, timeout: float, what: str) -> Any:
    """Poll ``condition`` every 20 ms until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.02)


@contextmanager
def postgres_schema(label: str = "rel") -> Iterator[str]:
    """A fresh schema on the local PostgreSQL, dropped afterwards; yields its URL.

    ``application_name`` names the schema too, so a test can find the hub's own backends in
    ``pg_stat_activity`` (and cut them) without touching anyone else's.
    """
    schema = f"{label}_{secrets.token_hex(5)}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{POSTGRES_URL}?application_name={schema}&options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :name"
                ),
                {"name": schema},
            )
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


class HubProcess:
    """One ``hub serve`` with its own configuration, database, archive folder and port."""

    def __init__(
        self,
        folder: Path,
        database_url: str,
        *,
        api: Mapping[str, Any] | None = None,
        fetch: Mapping[str, Any] | None = None,
        sources: Mapping[str, Mapping[str, Any]] | None = None,
        env: Mapping[str, str] | None = None,
        archive_dir: Path | None = None,
    ) -> None:
        self.folder = folder
        self.database_url = database_url
        self.archive_dir = archive_dir or folder / "archive"
        self.config = folder / "config" / "hub.toml"
        self.log_path = folder / "hub.log"
        self.env = dict(env or {})
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.starts = 0
        self._store: Store | None = None
        (folder / "config" / "regions").mkdir(parents=True, exist_ok=True)
        settings: dict[str, Any] = {
            "store": {"database_url": database_url, "archive_dir": str(self.archive_dir)},
            "api": {"host": "127.0.0.1", **(api or {})},
            "logging": {"format": "json", "level": "INFO"},
            "scheduler": {"enabled": False},
            "simulators": {"enabled": False},
            "publishing": {"enabled": False, "simulator": False},
        }
        if fetch:
            settings["fetch"] = dict(fetch)
        self.config.write_text(toml(settings), encoding="utf-8")
        for name, source in (sources or {}).items():
            (folder / "config" / "regions" / f"{name}.toml").write_text(toml(source))

    # -- the process --------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HubProcess:
        """Start ``hub serve`` (again) on a new free port; returns at once (see `ready`)."""
        assert self.process is None or self.process.poll() is not None, "already running"
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        env.update(self.env)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(HUB), "serve", "--config", str(self.config), "--port", str(self.port)],
                cwd=self.folder,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1
        return self

    def ready(self) -> HubProcess:
        """Wait for ``/readyz`` to answer 200 (migrations done, archive writable)."""

        def answered() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(
                    f"hub serve exited with {self.process.returncode}:\n{self.tail()}"
                )
            with contextlib.suppress(httpx.HTTPError):
                return httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
            return False

        wait_until(answered, timeout=START_TIMEOUT, what=f"hub serve on {self.url}")
        return self

    def kill(self) -> None:
        """``kill -9`` the hub and every process it started (its process group)."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """Ask the hub to stop (SIGTERM, as systemd would); kill it if it does not."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def close(self) -> None:
        self.stop()
        if self._store is not None:
            self._store.engine.dispose()
            self._store = None

    # -- what the tests look at ---------------------------------------------------------

    @property
    def store(self) -> Store:
        """The hub's store, opened by the test (never migrated from here: the hub does it)."""
        if self._store is None:
            self._store = Store(make_engine(self.database_url), self.archive_dir)
        return self._store

    def client(self, **headers: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=120, headers=headers)

    def log_lines(self) -> list[dict[str, Any]]:
        """Every line the process logged, parsed; a line that is not JSON comes as ``raw``."""
        lines = []
        for line in self.log_path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                lines.append(json.loads(line))
            except json.JSONDecodeError:
                lines.append({"raw": line})
        return lines

    def tail(self, count: int = 30) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-count:])


def start_all(*hubs: HubProcess) -> None:
    """Start several hubs at once and wait for each (they pay their imports in parallel)."""
    for hub in hubs:
        hub.start()
    for hub in hubs:
        hub.ready()
