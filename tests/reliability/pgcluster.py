"""A PostgreSQL server of the suite's own, so a test may restart it without hurting others.

Restarting the machine's PostgreSQL would break every other test using it at that moment;
a private cluster (``initdb`` in a temporary folder, on a free port of 127.0.0.1) is the
same server software, restarted for real (``pg_ctl restart -m fast``), and nobody else's.
As root, the server runs as the ``postgres`` user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from tests.reliability.hubproc import free_port, wait_until


def _bindir() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not found:
        raise AssertionError("PostgreSQL server binaries not found under /usr/lib/postgresql")
    return found[-1].parent


class PrivateCluster:
    """``initdb`` + ``pg_ctl`` on a folder and a port of its own; trust auth on 127.0.0.1."""

    def __init__(self) -> None:
        self.bindir = _bindir()
        self.folder = Path(tempfile.mkdtemp(prefix="hub-reliability-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.folder, "postgres")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def _ctl(self, action: str, *extra: str) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.folder} -c fsync=off"
        )
        log = str(self.folder / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-w", "-o", options, action, *extra)

    def start(self) -> PrivateCluster:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self._ctl("start")
        self.wait_accepting()
        return self

    def restart(self) -> None:
        """Stop the server (fast: open connections are cut) and start it again."""
        self._ctl("restart", "-m", "fast")
        self.wait_accepting()

    def wait_accepting(self) -> None:
        def accepting() -> bool:
            try:
                with psycopg.connect(
                    host="127.0.0.1", port=self.port, user="postgres", connect_timeout=2
                ):
                    return True
            except psycopg.OperationalError:
                return False

        wait_until(accepting, timeout=60, what=f"PostgreSQL on port {self.port}")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)
