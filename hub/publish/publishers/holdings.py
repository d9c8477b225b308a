"""What a partner holds: ``publisher_holding``, moved only by acknowledged deliveries.

A delta publisher writes, beside each delivery's files, ``items.jsonl``: one JSON list per
formation the delivery changes at the partner, ``["u", source, numero, content_hash]`` for
one it sends and ``["d", source, numero]`` for one it deletes. The ledger applies them to
the holdings in the transaction that records the acknowledgement (a full file replaces the
holdings first), so the holdings always say what the partner has, and the next delta can
send deletions exactly for the formations it holds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

from sqlalchemy import Connection, Engine, delete, insert, select, tuple_

from hub.publish.publishers.base import Delivery
from hub.publish.publishers.files import ITEMS_FILE
from hub.store.models import PublisherHolding

__all__ = ["HOLDINGS", "apply_items", "holdings", "items_of"]

HOLDINGS = PublisherHolding.__table__  # type: ignore[attr-defined]
_BATCH = 500


def items_of(delivery: Delivery) -> Path | None:
    """The holdings changes spooled beside a delta publisher's files, if there are any."""
    if not delivery.files:
        return None
    path = delivery.files[0].path.parent / ITEMS_FILE
    return path if path.is_file() else None


def _read_items(path: Path) -> Iterator[list[str]]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def _batches(entries: Iterator[list[str]]) -> Iterator[list[list[str]]]:
    while batch := list(islice(entries, _BATCH)):
        yield batch


def apply_items(connection: Connection, delivery: Delivery, path: Path, *, deletions: bool) -> None:
    """Apply a delivery's changes to the partner's holdings (upserts; deletions if asked)."""
    h = HOLDINGS.c
    for batch in _batches(_read_items(path)):
        keys = [(entry[1], entry[2]) for entry in batch if entry[0] == "u" or deletions]
        if keys:
            connection.execute(
                delete(HOLDINGS).where(
                    h.publisher == delivery.publisher, tuple_(h.source, h.numero).in_(keys)
                )
            )
        upserts = {(entry[1], entry[2]): entry[3] for entry in batch if entry[0] == "u"}
        if upserts:
            connection.execute(
                insert(HOLDINGS),
                [
                    {
                        "publisher": delivery.publisher,
                        "source": source,
                        "numero": numero,
                        "content_hash": content_hash,
                        "delivery_id": delivery.id,
                    }
                    for (source, numero), content_hash in upserts.items()
                ],
            )


def holdings(engine: Engine, publisher: str) -> dict[tuple[str, str], str]:
    """What the partner holds, ``(source, numero) -> content hash`` (for tests and audits)."""
    h = HOLDINGS.c
    with engine.connect() as connection:
        rows = connection.execute(
            select(h.source, h.numero, h.content_hash).where(h.publisher == publisher)
        ).all()
    return {(row.source, row.numero): row.content_hash for row in rows}
