"""The publisher ledger's deliveries: ``publisher_delivery`` and ``publisher_file``.

One row per delivery built for a partner (cursor range, counts, status, attempts,
acknowledgement) and one per file of it (name, size, SHA-256, spool path). A delivery is
recorded ``pending`` before its first byte leaves, and stays so until it is acknowledged,
rejected or abandoned. Acknowledging moves, in the same transaction, the partner's
holdings (:mod:`hub.store.holdings`) and its acknowledged cursor (:mod:`hub.store.ledger`),
so they never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from hub.store.db import write_transaction
from hub.store.holdings import HoldingChange, apply_changes, forget_holdings
from hub.store.ledger import set_partner_state
from hub.store.models import utcnow
from hub.store.tables import DELIVERIES, FILES

__all__ = [
    "DELIVERIES",
    "FILES",
    "LedgerDelivery",
    "LedgerFile",
    "acknowledge",
    "close_delivery",
    "last_acknowledged_checksums",
    "mark_sending",
    "note_failure",
    "pending_delivery",
    "record_delivery",
]


@dataclass(frozen=True, slots=True)
class LedgerFile:
    """One file of a delivery as ``publisher_file`` records it (the fields are its columns)."""

    name: str
    path: str
    media_type: str
    size_bytes: int
    sha256: str


@dataclass(frozen=True, slots=True)
class LedgerDelivery:
    """One delivery as ``publisher_delivery`` records it, with its files in order."""

    id: str
    publisher: str
    kind: str
    from_cursor: int | None
    to_cursor: int
    formations: int
    deletions: int
    created_at: datetime
    fingerprint: str
    files: tuple[LedgerFile, ...]
    note: str | None = None
    """Recorded as the delivery's ``error`` when it is created (a carried formation...)."""


def _delivery(connection: Connection, row: Any) -> LedgerDelivery:
    files = connection.execute(
        select(FILES).where(FILES.c.delivery_id == row.id).order_by(FILES.c.id)
    ).all()
    return LedgerDelivery(
        row.id,
        row.publisher,
        row.kind,
        row.from_cursor,
        row.to_cursor,
        row.formations,
        row.deletions,
        row.created_at,
        row.filter_fingerprint,
        tuple(LedgerFile(f.name, f.path, f.media_type, f.size_bytes, f.sha256) for f in files),
    )


def pending_delivery(engine: Engine, publisher: str) -> LedgerDelivery | None:
    """The delivery waiting for an acknowledgement, if any (there is at most one)."""
    d = DELIVERIES.c
    with engine.connect() as connection:
        row = connection.execute(
            select(DELIVERIES)
            .where(d.publisher == publisher, d.status == "pending")
            .order_by(d.created_at.desc())
        ).first()
        return None if row is None else _delivery(connection, row)


def record_delivery(engine: Engine, delivery: LedgerDelivery) -> LedgerDelivery:
    """Record a built delivery as pending, with its files; returns it as stored."""
    with write_transaction(engine) as connection:
        connection.execute(
            insert(DELIVERIES).values(
                id=delivery.id,
                publisher=delivery.publisher,
                kind=delivery.kind,
                from_cursor=delivery.from_cursor,
                to_cursor=delivery.to_cursor,
                filter_fingerprint=delivery.fingerprint,
                status="pending",
                formations=delivery.formations,
                deletions=delivery.deletions,
                created_at=delivery.created_at,
                attempts=0,
                error=delivery.note,
            )
        )
        files = [{"delivery_id": delivery.id, **asdict(f)} for f in delivery.files]
        connection.execute(insert(FILES), files)
        row = connection.execute(select(DELIVERIES).where(DELIVERIES.c.id == delivery.id)).one()
        return _delivery(connection, row)


def mark_sending(engine: Engine, delivery_id: str, publisher: str, to_cursor: int) -> None:
    """One more attempt of the delivery; the partner's delivered cursor is its end."""
    now = utcnow()
    with write_transaction(engine) as connection:
        connection.execute(
            update(DELIVERIES)
            .where(DELIVERIES.c.id == delivery_id)
            .values(attempts=DELIVERIES.c.attempts + 1, last_attempt_at=now)
        )
        set_partner_state(connection, publisher, cursor_delivered=to_cursor)


def note_failure(engine: Engine, delivery_id: str, error: str) -> None:
    """The attempt failed; the delivery stays pending."""
    with write_transaction(engine) as connection:
        connection.execute(
            update(DELIVERIES).where(DELIVERIES.c.id == delivery_id).values(error=error)
        )


def acknowledge(
    engine: Engine,
    delivery: LedgerDelivery,
    ack_id: str | None,
    changes: Iterable[HoldingChange] | None,
) -> None:
    """The partner took ``delivery``: its status, the partner's holdings (``changes``,
    replacing them all for a full file) and acknowledged cursor move in one transaction."""
    full, now = delivery.kind == "full", utcnow()
    with write_transaction(engine) as connection:
        connection.execute(
            update(DELIVERIES)
            .where(DELIVERIES.c.id == delivery.id)
            .values(status="acknowledged", acknowledged_at=now, ack_id=ack_id, error=None)
        )
        if changes is not None:
            if full:
                forget_holdings(connection, delivery.publisher)
            apply_changes(connection, delivery.publisher, delivery.id, changes, deletions=True)
        values: dict[str, Any] = {
            "cursor_acknowledged": delivery.to_cursor,
            "filter_fingerprint": delivery.fingerprint,
        }
        if full:
            values["last_full_at"] = delivery.created_at
        set_partner_state(connection, delivery.publisher, **values)


def close_delivery(
    engine: Engine,
    delivery_id: str,
    publisher: str,
    *,
    status: str,
    error: str,
    received: Iterable[HoldingChange] | None = None,
    forget_fingerprint: bool = False,
) -> None:
    """Close a delivery that will never be sent again (``rejected``, ``abandoned``).

    ``received``: what it may have delivered, counted as held (deletions left out).
    ``forget_fingerprint``: what the partner holds is unknown, so its next file is a full.
    """
    with write_transaction(engine) as connection:
        connection.execute(
            update(DELIVERIES)
            .where(DELIVERIES.c.id == delivery_id)
            .values(status=status, error=error)
        )
        if received is not None:
            apply_changes(connection, publisher, delivery_id, received, deletions=False)
        if forget_fingerprint:
            set_partner_state(connection, publisher, filter_fingerprint=None)


def last_acknowledged_checksums(engine: Engine, publisher: str) -> list[str] | None:
    """SHA-256 of the files of the partner's latest acknowledged delivery (None: never)."""
    d = DELIVERIES.c
    with engine.connect() as connection:
        last = connection.execute(
            select(d.id)
            .where(d.publisher == publisher, d.status == "acknowledged")
            .order_by(d.acknowledged_at.desc())
            .limit(1)
        ).scalar()
        if last is None:
            return None
        return list(
            connection.execute(
                select(FILES.c.sha256).where(FILES.c.delivery_id == last).order_by(FILES.c.id)
            ).scalars()
        )
