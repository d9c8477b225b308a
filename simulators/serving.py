"""Serve an ASGI app on 127.0.0.1 in a thread: the simulators, in the demo and the tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from simulators.system import SimulatedSystem

__all__ = ["ServerThread", "running"]


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
