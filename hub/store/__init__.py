"""The store: SQLModel tables, the flow applier, the raw-flow archive and migrations."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from hub.settings import Settings
from hub.store.db import make_engine, migrate


@dataclass(frozen=True, slots=True)
class Store:
    """A database engine plus the archive folder of raw flows."""

    engine: Engine
    archive_dir: Path

    @classmethod
    def open(cls, settings: Settings, *, upgrade: bool = True) -> Store:
        """Connect, and bring the schema to the latest migration unless told not to."""
        engine = make_engine(settings.store.database_url)
        if upgrade:
            migrate(engine)
        return cls(engine, settings.store.archive_dir)

    @classmethod
    def at(cls, database_url: str, archive_dir: Path) -> Store:
        engine = make_engine(database_url)
        migrate(engine)
        return cls(engine, archive_dir)


__all__ = ["Store"]
