"""What each partner holds: ``publisher_holding``, one row per formation it has.

The rows move only with an acknowledged (or possibly received) delivery, inside the
ledger's transaction (:mod:`hub.store.ledger`), so they always say what the partner has:
the next delta sends deletions exactly for the formations it holds. What a delivery
changes comes in as `HoldingChange` values; the publishers decide what they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from sqlalchemy import Connection, Engine, delete, insert, select, tuple_

from hub.store.tables import HOLDINGS

__all__ = [
    "HOLDINGS",
    "HoldingChange",
    "apply_changes",
    "forget_holdings",
    "held_among",
    "holdings",
    "holds_any",
]

_BATCH = 500


@dataclass(frozen=True, slots=True)
class HoldingChange:
    """One formation a delivery sends (with its content hash) or deletes (hash None)."""

    source: str
    numero: str
    content_hash: str | None = None

    @property
    def sent(self) -> bool:
        return self.content_hash is not None


def _batches(changes: Iterable[HoldingChange]) -> Iterator[list[HoldingChange]]:
    entries = iter(changes)
    while batch := list(islice(entries, _BATCH)):
        yield batch


def apply_changes(
    connection: Connection,
    publisher: str,
    delivery_id: str,
    changes: Iterable[HoldingChange],
    *,
    deletions: bool,
) -> None:
    """Apply a delivery's changes to the partner's holdings (upserts; deletions if asked)."""
    h = HOLDINGS.c
    for batch in _batches(changes):
        keys = [(c.source, c.numero) for c in batch if c.sent or deletions]
        if keys:
            connection.execute(
                delete(HOLDINGS).where(
                    h.publisher == publisher, tuple_(h.source, h.numero).in_(keys)
                )
            )
        upserts = {(c.source, c.numero): c.content_hash for c in batch if c.sent}
        if upserts:
            connection.execute(
                insert(HOLDINGS),
                [
                    {
                        "publisher": publisher,
                        "source": source,
                        "numero": numero,
                        "content_hash": content_hash,
                        "delivery_id": delivery_id,
                    }
                    for (source, numero), content_hash in upserts.items()
                ],
            )


def forget_holdings(connection: Connection, publisher: str) -> None:
    """The partner holds nothing any more (a full file is about to replace it all)."""
    connection.execute(delete(HOLDINGS).where(HOLDINGS.c.publisher == publisher))


def held_among(
    connection: Connection, publisher: str, keys: Iterable[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Which of the ``(source, numero)`` keys the partner holds (one lookup on its key)."""
    h = HOLDINGS.c
    found = connection.execute(
        select(h.source, h.numero).where(
            h.publisher == publisher, tuple_(h.source, h.numero).in_(list(keys))
        )
    ).all()
    return {(source, numero) for source, numero in found}


def holds_any(connection: Connection, publisher: str) -> bool:
    """Whether the partner holds at least one formation."""
    h = HOLDINGS.c
    first = connection.execute(select(h.numero).where(h.publisher == publisher).limit(1))
    return first.first() is not None


def holdings(engine: Engine, publisher: str) -> dict[tuple[str, str], str]:
    """What the partner holds, ``(source, numero) -> content hash`` (for tests and audits)."""
    h = HOLDINGS.c
    with engine.connect() as connection:
        rows = connection.execute(
            select(h.source, h.numero, h.content_hash).where(h.publisher == publisher)
        ).all()
    return {(row.source, row.numero): row.content_hash for row in rows}
