"""The change log: one row per effective change, numbered by one global monotonic sequence.

The ``counter`` row hands the numbers out. A writer locks it first (:func:`lock_sequence`)
and keeps it locked until its transaction commits, so sequence order is commit order and
a reader following the log never sees a number commit before a smaller one. Flows, remaps
and replays all append the same way (:func:`append`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, insert, select, update

from hub.store.tables import CHANGES, COUNTERS

CHANGE_SEQ = "change_seq"

__all__ = ["CHANGES", "advance_sequence", "append", "current_cursor", "lock_sequence"]


def lock_sequence(connection: Connection) -> int:
    """Lock the change counter for this transaction and return its current value."""
    row = connection.execute(
        select(COUNTERS.c.value).where(COUNTERS.c.name == CHANGE_SEQ).with_for_update()
    ).first()
    if row is None:
        connection.execute(insert(COUNTERS).values(name=CHANGE_SEQ, value=0))
        return 0
    return int(row[0])


def advance_sequence(connection: Connection, value: int) -> None:
    """Set the change counter (locked by `lock_sequence`) to the last number handed out."""
    connection.execute(update(COUNTERS).where(COUNTERS.c.name == CHANGE_SEQ).values(value=value))


def append(connection: Connection, changes: Sequence[dict[str, Any]]) -> None:
    """Append to the change log: each change has seq, formation_id, source, numero, op
    (``upsert`` or ``delete``), content_hash (None for a delete), flow_id and at."""
    if changes:
        connection.execute(insert(CHANGES), list(changes))


def current_cursor(connection: Connection) -> int:
    """The sequence number of the latest change (0 for an empty store)."""
    value = connection.execute(
        select(COUNTERS.c.value).where(COUNTERS.c.name == CHANGE_SEQ)
    ).scalar()
    return int(value or 0)
