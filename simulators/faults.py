"""Fault switches for the simulated regional systems, and the log of what they were asked.

A simulator wraps its ASGI app in :class:`FaultMiddleware`. Faults wait in a queue and
each incoming request (admin routes aside) takes the next one, so a test or the admin
endpoint says exactly which request fails and how::

    simulator.faults.inject("429", "503", "truncate")   # the next three requests fail
    simulator.faults.inject("ok", "ok", "403")           # the third one is refused

Fault spellings: ``ok``; an HTTP status (``429``, ``503``, ``500``, ``401``, ``403``,
``404``), ``429`` and ``503`` carrying ``Retry-After`` (``429:retry-after=3``); ``slow``
(``slow:2.5`` seconds before answering); ``truncate`` (the body stops half-way short of
its ``Content-Length``); ``incomplete`` (a consistent ``Content-Length`` but the XML is
cut).
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl

__all__ = ["ADMIN_PREFIX", "Fault", "FaultMiddleware", "Faults", "RequestRecord"]

ADMIN_PREFIX = "/_admin"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

FaultKind = Literal["ok", "status", "slow", "truncate", "incomplete"]


@dataclass(frozen=True, slots=True)
class Fault:
    """What to do to one request."""

    kind: FaultKind
    status: int = 200
    retry_after: float | None = None
    delay: float = 0.0

    @classmethod
    def parse(cls, text: str) -> Fault:
        """A fault from its spelling (see the module docstring); ValueError if unknown."""
        name, _, argument = text.strip().partition(":")
        if name == "ok":
            return cls("ok")
        if name == "truncate":
            return cls("truncate")
        if name == "incomplete":
            return cls("incomplete")
        if name == "slow":
            return cls("slow", delay=float(argument or 2.0))
        if name.isdigit() and 400 <= int(name) <= 599:
            retry_after = None
            if argument.startswith("retry-after="):
                retry_after = float(argument.removeprefix("retry-after="))
            elif int(name) == 429:
                retry_after = 1.0
            return cls("status", status=int(name), retry_after=retry_after)
        raise ValueError(
            f"unknown fault {text!r}: use ok, 429[:retry-after=N], 503, 500, 401, 403, 404, "
            "slow[:SECONDS], truncate or incomplete"
        )

    def __str__(self) -> str:
        if self.kind == "status":
            return str(self.status)
        return f"slow:{self.delay}" if self.kind == "slow" else self.kind


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request a simulator received, and what it answered."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    status: int
    fault: str | None


@dataclass
class Faults:
    """The queue of faults to inject, and the log of requests received."""

    _queue: deque[Fault] = field(default_factory=deque)
    requests: list[RequestRecord] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def inject(self, *faults: Fault | str) -> None:
        parsed = [f if isinstance(f, Fault) else Fault.parse(f) for f in faults]
        with self._lock:
            self._queue.extend(parsed)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()

    def pending(self) -> list[str]:
        with self._lock:
            return [str(fault) for fault in self._queue]

    def take(self) -> Fault | None:
        with self._lock:
            return self._queue.popleft() if self._queue else None

    def record(self, scope: Scope, status: int, fault: Fault | None) -> None:
        wanted = (b"if-none-match", b"if-modified-since", b"authorization")
        headers = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope.get("headers", [])
            if name in wanted
        }
        entry = RequestRecord(
            method=scope["method"],
            path=scope["path"],
            query=dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"))),
            headers=headers,
            status=status,
            fault=None if fault is None else str(fault),
        )
        with self._lock:
            self.requests.append(entry)

    def log(self) -> list[RequestRecord]:
        with self._lock:
            return list(self.requests)


class FaultMiddleware:
    """ASGI middleware applying the next queued fault to each non-admin request."""

    def __init__(self, app: ASGIApp, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        fault = self.faults.take()

        async def recording(message: Message) -> None:
            # Logged when the answer starts, so a client that got it also finds it logged.
            if message["type"] == "http.response.start":
                self.faults.record(scope, message["status"], fault)
            await send(message)

        if fault is None or fault.kind == "ok":
            await self.app(scope, receive, recording)
        elif fault.kind == "status":
            await _status(fault, recording)
        elif fault.kind == "slow":
            await asyncio.sleep(fault.delay)
            await self.app(scope, receive, recording)
        else:
            await self._cut(fault, scope, receive, recording)

    async def _cut(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
        messages: list[Message] = []

        async def capture(message: Message) -> None:
            messages.append(message)

        await self.app(scope, receive, capture)
        start, body = messages[0], b"".join(m.get("body", b"") for m in messages[1:])
        cut = body[: len(body) // 2]
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        declared = len(body) if fault.kind == "truncate" else len(cut)
        headers.append((b"content-length", str(declared).encode()))
        await send({**start, "headers": headers})
        # For "truncate" the server refuses to end a body shorter than announced and drops
        # the connection (uvicorn logs it as an error): the client sees the body cut.
        await send({"type": "http.response.body", "body": cut, "more_body": False})


async def _status(fault: Fault, send: Send) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8")]
    if fault.retry_after is not None:
        headers.append((b"retry-after", str(int(fault.retry_after)).encode()))
    body = f"simulated fault: {fault.status}\n".encode()
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": fault.status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
