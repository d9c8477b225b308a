"""The sources the hub knows: a regional system or a push client, and its region."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, insert, select, update

from hub.store.db import write_transaction
from hub.store.models import utcnow
from hub.store.tables import SOURCES

__all__ = ["SOURCES", "ensure_source", "source_region"]


def ensure_source(engine: Engine, name: str, region: str | None) -> None:
    """Record ``name`` (with its region, when given) if the store does not know it yet."""
    with write_transaction(engine) as connection:
        known = connection.execute(select(SOURCES.c.name).where(SOURCES.c.name == name)).first()
        if known is None:
            connection.execute(
                insert(SOURCES).values(name=name, region=region, created_at=utcnow())
            )
        elif region is not None:
            connection.execute(update(SOURCES).where(SOURCES.c.name == name).values(region=region))


def source_region(connection: Connection, source: str) -> str | None:
    region = connection.execute(select(SOURCES.c.region).where(SOURCES.c.name == source)).scalar()
    return str(region) if region else None
