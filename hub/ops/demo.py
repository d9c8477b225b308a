"""The demo hook: the development tooling a demo configuration names, loaded by that name.

``[simulators] demo = "simulators.demo:Demo"`` names a class with ``start(settings,
store)`` (what ``hub serve`` starts beside itself; ``stop()`` ends it) and
``for_source(settings, name)`` (a context manager around a ``hub sync``). The hub never
imports it: production configurations leave ``[simulators]`` out, and the hub's wheel
does not even hold it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol, cast

from hub.plugins import load_object
from hub.settings import Settings
from hub.store import Store

__all__ = ["demo_for_source", "start_demo"]


class Running(Protocol):
    def stop(self) -> None: ...


def _demo(settings: Settings) -> Any | None:
    if not settings.simulators.enabled or not settings.simulators.demo:
        return None
    return load_object(settings.simulators.demo)


def start_demo(settings: Settings, store: Store) -> Running | None:
    """What the demo starts beside ``hub serve`` (None without a demo configured)."""
    demo = _demo(settings)
    return None if demo is None else cast(Running, demo.start(settings, store))


@contextmanager
def demo_for_source(settings: Settings, name: str) -> Iterator[None]:
    """Around a ``hub sync`` of ``name``: its simulator when the demo has one."""
    demo = _demo(settings)
    if demo is None:
        yield
        return
    with cast(AbstractContextManager[None], demo.for_source(settings, name)):
        yield
