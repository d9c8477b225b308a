"""The publisher ledger's partner rows and run log: ``publisher_state``, ``publisher_attempt``.

``publisher_state`` has one row per partner: cursors delivered and acknowledged, the
fingerprint of its filter, format and options, its last full file and last run;
``publisher_attempt`` one row per run (trigger, times, outcome, retries, error). The
deliveries and their files are in :mod:`hub.store.deliveries`, what each partner holds in
:mod:`hub.store.holdings`.

Each function is one transaction. The publishers (:mod:`hub.publish.publishers.ledger`)
decide what to record and when; the store only records it, from plain values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from hub.store.db import write_transaction
from hub.store.models import utcnow
from hub.store.tables import ATTEMPTS
from hub.store.tables import PUBLISHER_STATES as STATES

__all__ = [
    "ATTEMPTS",
    "STATES",
    "PartnerState",
    "finish_attempt",
    "partner_state",
    "set_partner_state",
    "settle",
    "start_attempt",
]


@dataclass(frozen=True, slots=True)
class PartnerState:
    """What the next delivery is planned from: the partner's cursors and filter."""

    publisher: str
    cursor_delivered: int | None
    cursor_acknowledged: int | None
    filter_fingerprint: str | None
    last_full_at: datetime | None


def partner_state(connection: Connection, publisher: str) -> PartnerState | None:
    """The partner's row, or None before its first run."""
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


def set_partner_state(connection: Connection, publisher: str, **values: Any) -> None:
    """Update the partner's row, creating it on first use (inside a write transaction)."""
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
        set_partner_state(connection, publisher, last_run_at=utcnow(), last_outcome="running")
        return int(attempt_id)


def finish_attempt(
    engine: Engine,
    attempt_id: int,
    publisher: str,
    outcome: str,
    *,
    failed: bool,
    delivery_id: str | None = None,
    error: str | None = None,
    retries: int = 0,
) -> None:
    """Close the run and say on the partner's row how it went; ``failed`` counts one more
    consecutive failure, anything else is a success and resets the count."""
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
        if failed:
            values["consecutive_failures"] = failures + 1
        else:
            values.update(consecutive_failures=0, last_success_at=now)
        set_partner_state(connection, publisher, **values)


def settle(engine: Engine, publisher: str, cursor: int, fingerprint: str) -> None:
    """The partner holds the filtered offer as of ``cursor`` without a new delivery."""
    with write_transaction(engine) as connection:
        set_partner_state(
            connection, publisher, cursor_acknowledged=cursor, filter_fingerprint=fingerprint
        )
