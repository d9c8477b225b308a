"""The ledger: what each partner was sent, what it acknowledged, and what it holds.

Tables (``hub/store/models.py``): ``publisher_state`` (one row per partner: cursors
delivered and acknowledged, fingerprint of its filter, format and options, last full file,
last run), ``publisher_delivery`` (one row per delivery: cursor range, counts, status,
attempts, acknowledgement), ``publisher_file`` (its files: name, size, SHA-256, spool
path), ``publisher_attempt`` (one row per run: trigger, times, outcome, retries, error) and
``publisher_holding`` (the formations a partner holds, with their content hash, as of its
acknowledgements).

The rules that keep a partner exact:

* the acknowledged cursor and the holdings move together, in the transaction that records
  the acknowledgement, and only then;
* a delivery stays ``pending`` until acknowledged, rejected or abandoned, and while one is
  pending the runner resends it (the same spooled bytes) instead of building another;
* a delivery abandoned after it may have been received (its files were lost, or a full
  file supersedes it) counts its formations as held, so a later deletion is still sent; a
  deletion of something the partner never took is harmless, a missing one is not.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update

from hub.publish.publishers.base import Acknowledgement, Delivery, Plan, Written
from hub.publish.publishers.files import SpooledFile, file_sha256
from hub.publish.publishers.holdings import HOLDINGS, apply_items, items_of
from hub.store.db import write_transaction
from hub.store.models import (
    PublisherAttempt,
    PublisherDelivery,
    PublisherFile,
    PublisherState,
    utcnow,
)

STATES = PublisherState.__table__  # type: ignore[attr-defined]
DELIVERIES = PublisherDelivery.__table__  # type: ignore[attr-defined]
FILES = PublisherFile.__table__  # type: ignore[attr-defined]
ATTEMPTS = PublisherAttempt.__table__  # type: ignore[attr-defined]

FAILED_OUTCOMES = frozenset({"failed", "rejected"})


@dataclass(frozen=True, slots=True)
class PartnerState:
    publisher: str
    cursor_delivered: int | None
    cursor_acknowledged: int | None
    filter_fingerprint: str | None
    last_full_at: datetime | None


def partner_state(connection: Connection, publisher: str) -> PartnerState | None:
    row = connection.execute(select(STATES).where(STATES.c.publisher == publisher)).first()
    if row is None:
        return None
    return PartnerState(
        row.publisher,
        row.cursor_delivered,
        row.cursor_acknowledged,
        row.filter_fingerprint,
        row.last_full_at,
    )


def _set_state(connection: Connection, publisher: str, **values: Any) -> None:
    """Update the partner's row, creating it on first use."""
    values["updated_at"] = utcnow()
    s = STATES.c
    done = connection.execute(update(STATES).where(s.publisher == publisher).values(**values))
    if done.rowcount == 0:
        connection.execute(insert(STATES).values(publisher=publisher, **values))


# -- attempts (runs) ------------------------------------------------------------------


def start_attempt(engine: Engine, publisher: str, *, trigger: str, replica: str) -> int:
    """Record a run as started. The caller holds the partner's lock, so a run still marked
    running belongs to a process that died: it is closed as ``interrupted``."""
    with write_transaction(engine) as connection:
        connection.execute(
            update(ATTEMPTS)
            .where(ATTEMPTS.c.publisher == publisher, ATTEMPTS.c.outcome == "running")
            .values(outcome="interrupted", finished_at=utcnow())
        )
        attempt_id = connection.execute(
            insert(ATTEMPTS)
            .values(
                publisher=publisher,
                trigger=trigger,
                replica=replica[:128],
                started_at=utcnow(),
                outcome="running",
                retries=0,
            )
            .returning(ATTEMPTS.c.id)
        ).scalar_one()
        _set_state(connection, publisher, last_run_at=utcnow(), last_outcome="running")
        return int(attempt_id)


def finish_attempt(
    engine: Engine,
    attempt_id: int,
    publisher: str,
    outcome: str,
    *,
    delivery_id: str | None = None,
    error: str | None = None,
    retries: int = 0,
) -> None:
    """Close the run and say on the partner's row how it went."""
    now = utcnow()
    with write_transaction(engine) as connection:
        connection.execute(
            update(ATTEMPTS)
            .where(ATTEMPTS.c.id == attempt_id)
            .values(
                finished_at=now,
                outcome=outcome,
                delivery_id=delivery_id,
                error=error,
                retries=retries,
            )
        )
        failures = STATES.c.consecutive_failures
        values: dict[str, Any] = {"last_outcome": outcome, "last_error": error}
        if outcome in FAILED_OUTCOMES:
            values["consecutive_failures"] = failures + 1
        else:
            values.update(consecutive_failures=0, last_success_at=now)
        _set_state(connection, publisher, **values)


# -- deliveries -----------------------------------------------------------------------


def _delivery(connection: Connection, row: Any) -> Delivery:
    files = connection.execute(
        select(FILES).where(FILES.c.delivery_id == row.id).order_by(FILES.c.id)
    ).all()
    return Delivery(
        row.id,
        row.publisher,
        row.kind,
        row.from_cursor,
        row.to_cursor,
        row.formations,
        row.deletions,
        row.created_at,
        row.filter_fingerprint,
        [SpooledFile(f.name, Path(f.path), f.media_type, f.size_bytes, f.sha256) for f in files],
    )


def pending_delivery(engine: Engine, publisher: str) -> Delivery | None:
    """The delivery waiting for an acknowledgement, if any (there is at most one)."""
    d = DELIVERIES.c
    with engine.connect() as connection:
        row = connection.execute(
            select(DELIVERIES)
            .where(d.publisher == publisher, d.status == "pending")
            .order_by(d.created_at.desc())
        ).first()
        return None if row is None else _delivery(connection, row)


def spool_intact(delivery: Delivery) -> bool:
    """Whether every file of ``delivery`` is still in the spool with its recorded checksum."""
    return all(
        file.path.is_file()
        and file.path.stat().st_size == file.size
        and file_sha256(file.path) == file.sha256
        for file in delivery.files
    )


def record_delivery(engine: Engine, publisher: str, plan: Plan, written: Written) -> Delivery:
    """Record a built delivery as pending, with its files and their checksums."""
    with write_transaction(engine) as connection:
        connection.execute(
            insert(DELIVERIES).values(
                id=plan.delivery_id,
                publisher=publisher,
                kind=plan.kind,
                from_cursor=plan.since,
                to_cursor=plan.to_cursor,
                filter_fingerprint=plan.fingerprint,
                status="pending",
                formations=written.formations,
                deletions=written.deletions,
                created_at=plan.created_at,
                attempts=0,
                error=written.note,
            )
        )
        connection.execute(
            insert(FILES),
            [
                {
                    "delivery_id": plan.delivery_id,
                    "name": f.name,
                    "path": str(f.path),
                    "media_type": f.media_type,
                    "size_bytes": f.size,
                    "sha256": f.sha256,
                }
                for f in written.files
            ],
        )
        row = connection.execute(
            select(DELIVERIES).where(DELIVERIES.c.id == plan.delivery_id)
        ).one()
        return _delivery(connection, row)


def mark_sending(engine: Engine, delivery: Delivery) -> None:
    """One more attempt of ``delivery``; the partner's delivered cursor is its end."""
    now = utcnow()
    with write_transaction(engine) as connection:
        connection.execute(
            update(DELIVERIES)
            .where(DELIVERIES.c.id == delivery.id)
            .values(attempts=DELIVERIES.c.attempts + 1, last_attempt_at=now)
        )
        _set_state(connection, delivery.publisher, cursor_delivered=delivery.to_cursor)


def note_failure(engine: Engine, delivery: Delivery, error: str) -> None:
    """The attempt failed; the delivery stays pending and is resent next run."""
    with write_transaction(engine) as connection:
        connection.execute(
            update(DELIVERIES).where(DELIVERIES.c.id == delivery.id).values(error=error)
        )


def acknowledge(engine: Engine, delivery: Delivery, ack: Acknowledgement) -> None:
    """The partner took ``delivery``: cursor, holdings and ledger move in one transaction."""
    now = utcnow()
    with write_transaction(engine) as connection:
        connection.execute(
            update(DELIVERIES)
            .where(DELIVERIES.c.id == delivery.id)
            .values(status="acknowledged", acknowledged_at=now, ack_id=ack.ack_id, error=None)
        )
        items = items_of(delivery)
        if items is not None:
            if delivery.kind == "full":
                connection.execute(
                    delete(HOLDINGS).where(HOLDINGS.c.publisher == delivery.publisher)
                )
            apply_items(connection, delivery, items, deletions=True)
        values: dict[str, Any] = {
            "cursor_acknowledged": delivery.to_cursor,
            "filter_fingerprint": delivery.fingerprint,
        }
        if delivery.kind == "full":
            values["last_full_at"] = delivery.created_at
        _set_state(connection, delivery.publisher, **values)
    drop_spool(delivery)


def settle_without_delivery(engine: Engine, publisher: str, cursor: int, fingerprint: str) -> None:
    """Nothing to send: the partner already holds the filtered offer as of ``cursor``."""
    with write_transaction(engine) as connection:
        _set_state(
            connection, publisher, cursor_acknowledged=cursor, filter_fingerprint=fingerprint
        )


def reject(engine: Engine, delivery: Delivery, error: str) -> None:
    """The partner refused ``delivery`` (it applied nothing): it is never resent."""
    _close(engine, delivery, "rejected", error, possibly_received=False)


def abandon(engine: Engine, delivery: Delivery, reason: str) -> None:
    """Give up resending ``delivery``; what it may have delivered counts as held."""
    _close(engine, delivery, "abandoned", reason, possibly_received=True)


def _close(
    engine: Engine, delivery: Delivery, status: str, error: str, *, possibly_received: bool
) -> None:
    items = items_of(delivery)
    with write_transaction(engine) as connection:
        connection.execute(
            update(DELIVERIES)
            .where(DELIVERIES.c.id == delivery.id)
            .values(status=status, error=error)
        )
        if possibly_received:
            if items is not None:
                apply_items(connection, delivery, items, deletions=False)
            else:
                # What the partner may hold is unknown: its next delivery is a full file.
                _set_state(connection, delivery.publisher, filter_fingerprint=None)
    drop_spool(delivery)


def drop_spool(delivery: Delivery) -> None:
    """Remove the delivery's spool folder (its files now live at the partner, or nowhere)."""
    if delivery.files:
        shutil.rmtree(delivery.files[0].path.parent, ignore_errors=True)


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
