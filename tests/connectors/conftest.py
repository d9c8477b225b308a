"""Fixtures shared by the connector tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.store import Store


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """The dialects' own tests run on SQLite; the shared contract covers PostgreSQL too."""
    opened = Store.at(f"sqlite:///{tmp_path / 'hub.db'}", tmp_path / "archive")
    yield opened
    opened.engine.dispose()
