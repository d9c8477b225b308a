"""Where each connector stands in its source (page token, ``since``, ETag...), so syncs resume."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update

from hub.store import Store
from hub.store.db import write_transaction
from hub.store.models import utcnow
from hub.store.tables import CURSORS as STATES

__all__ = ["load_cursor", "save_cursor"]


def load_cursor(store: Store, source: str) -> dict[str, Any]:
    with store.engine.connect() as connection:
        cursor = connection.execute(
            select(STATES.c.cursor).where(STATES.c.source == source)
        ).scalar()
    return dict(cursor or {})


def save_cursor(store: Store, source: str, cursor: dict[str, Any]) -> None:
    with write_transaction(store.engine) as connection:
        known = connection.execute(select(STATES.c.source).where(STATES.c.source == source))
        values = {"cursor": cursor, "updated_at": utcnow()}
        if known.first() is None:
            connection.execute(insert(STATES).values(source=source, **values))
        else:
            connection.execute(update(STATES).where(STATES.c.source == source).values(**values))
