"""Where each partner stands: lag behind the store, last run, pending delivery.

`publisher_status` is what ``hub publishers``, the metrics and the sync-health dashboard
read. Lag is counted in changes: the store cursor minus the partner's acknowledged cursor
(the whole store cursor while the partner has acknowledged nothing).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from hub.publish.feed import current_cursor
from hub.publish.publishers.config import PublisherConfig
from hub.store import Store
from hub.store.ledger import STATES
from hub.store.tables import DELIVERIES, HOLDINGS

__all__ = ["PublisherStatus", "publisher_status"]


@dataclass(frozen=True, slots=True)
class PublisherStatus:
    """One partner as the ledger sees it."""

    name: str
    publisher: str | None
    """Its entry point (None for a partner in the ledger but no longer configured)."""
    enabled: bool
    destination: str | None
    store_cursor: int
    cursor_delivered: int | None
    cursor_acknowledged: int | None
    lag: int
    """Changes of the store the partner has not acknowledged (filtered out ones included)."""
    pending_delivery: str | None
    holdings: int
    """Formations it holds, as of its acknowledgements (LHEO partners)."""
    last_run_at: datetime | None
    last_outcome: str | None
    last_error: str | None
    last_success_at: datetime | None
    last_full_at: datetime | None
    consecutive_failures: int


def publisher_status(
    store: Store, configs: Mapping[str, PublisherConfig] | None = None
) -> list[PublisherStatus]:
    """Every configured partner (and any other the ledger knows), sorted by name."""
    configs = configs or {}
    d, h = DELIVERIES.c, HOLDINGS.c
    with store.engine.connect() as connection:
        cursor = current_cursor(connection)
        states = {row.publisher: row for row in connection.execute(select(STATES))}
        pending: dict[str, str] = dict(
            connection.execute(select(d.publisher, d.id).where(d.status == "pending")).all()
        )
        held: dict[str, int] = dict(
            connection.execute(select(h.publisher, func.count()).group_by(h.publisher)).all()
        )
    statuses = []
    for name in sorted({*configs, *states}):
        config, state = configs.get(name), states.get(name)
        acknowledged = state.cursor_acknowledged if state else None
        statuses.append(
            PublisherStatus(
                name=name,
                publisher=config.publisher if config else None,
                enabled=bool(config and config.enabled),
                destination=config.destination if config else None,
                store_cursor=cursor,
                cursor_delivered=state.cursor_delivered if state else None,
                cursor_acknowledged=acknowledged,
                lag=max(0, cursor - (acknowledged or 0)),
                pending_delivery=pending.get(name),
                holdings=int(held.get(name, 0)),
                last_run_at=state.last_run_at if state else None,
                last_outcome=state.last_outcome if state else None,
                last_error=state.last_error if state else None,
                last_success_at=state.last_success_at if state else None,
                last_full_at=state.last_full_at if state else None,
                consecutive_failures=state.consecutive_failures if state else 0,
            )
        )
    return statuses
