"""What the hub's stages tell whoever listens: requests, retries, flows, deliveries.

The stages emit plain events; :mod:`hub.ops.metrics` (installed once by each entry point)
turns them into Prometheus counters. So the HTTP layer, the pipeline and the publishers
know nothing of Prometheus, and a test can listen too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

__all__ = [
    "FetchEvent",
    "FlowEvent",
    "PublishEvent",
    "RetryEvent",
    "emit",
    "on_fetch",
    "on_flow",
    "on_publish",
    "on_retry",
    "subscribe",
]


@dataclass(frozen=True, slots=True)
class RetryEvent:
    """One retry about to happen: who, what, why, and how long the hub waits first."""

    source: str
    url: str
    attempt: int
    reason: str
    wait_seconds: float


@dataclass(frozen=True, slots=True)
class FetchEvent:
    """One request to a regional system and how it ended (``ok``, ``http_503``...)."""

    source: str
    outcome: str
    seconds: float


@dataclass(frozen=True, slots=True)
class FlowEvent:
    """One flow done with: ``applied`` (with its counts), ``failed``, ``held``, ``superseded``."""

    source: str
    outcome: str
    seconds: float
    counts: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PublishEvent:
    """One run of a publisher and how it ended."""

    partner: str
    outcome: str
    seconds: float | None = None


E = TypeVar("E", RetryEvent, FetchEvent, FlowEvent, PublishEvent)
_listeners: dict[type, list[Callable[..., None]]] = {}
_lock = threading.Lock()


def subscribe(kind: type[E], listener: Callable[[E], None]) -> Callable[[], None]:
    """Call ``listener`` with every event of ``kind``; returns a function that stops it."""
    with _lock:
        _listeners.setdefault(kind, []).append(listener)

    def remove() -> None:
        with _lock:
            if listener in _listeners.get(kind, []):
                _listeners[kind].remove(listener)

    return remove


def on_retry(listener: Callable[[RetryEvent], None]) -> Callable[[], None]:
    return subscribe(RetryEvent, listener)


def on_fetch(listener: Callable[[FetchEvent], None]) -> Callable[[], None]:
    return subscribe(FetchEvent, listener)


def on_flow(listener: Callable[[FlowEvent], None]) -> Callable[[], None]:
    return subscribe(FlowEvent, listener)


def on_publish(listener: Callable[[PublishEvent], None]) -> Callable[[], None]:
    return subscribe(PublishEvent, listener)


def emit(event: RetryEvent | FetchEvent | FlowEvent | PublishEvent) -> None:
    """Hand ``event`` to its listeners, in the emitting thread."""
    with _lock:
        listeners = list(_listeners.get(type(event), []))
    for listener in listeners:
        listener(event)
