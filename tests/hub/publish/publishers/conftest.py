"""Fixtures for the publisher tests: a hub around the test store, a live intercariforef."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from publishing import TOKEN, TOKEN_ENV, Hub, LiveReceiver

from hub.store import Store
from simulators.intercariforef import ENDPOINT
from simulators.serving import ServerThread


@pytest.fixture
def hub(store: Store, tmp_path: Path) -> Hub:
    return Hub(store, tmp_path)


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveReceiver]:
    """intercariforef's receiving end on a free port; ``receiver.url`` is its endpoint."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    simulated = LiveReceiver(token=TOKEN, hang_seconds=20)
    server = ServerThread(simulated.app()).start()
    simulated.url = server.url + ENDPOINT
    try:
        yield simulated
    finally:
        simulated.clear_faults()
        server.stop()
