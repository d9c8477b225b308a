"""What a delivery changes at the partner: ``items.jsonl``, beside its files.

A delta publisher writes one JSON list per formation the delivery changes at the partner,
``["u", source, numero, content_hash]`` for one it sends and ``["d", source, numero]`` for
one it deletes. The ledger hands them to the store (``publisher_holding``,
:mod:`hub.store.holdings`) in the transaction that records the acknowledgement (a full
file replaces the holdings first), so the holdings always say what the partner has, and
the next delta can send deletions exactly for the formations it holds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from hub.publish.publishers.base import Delivery
from hub.publish.publishers.files import ITEMS_FILE
from hub.store.holdings import HoldingChange

__all__ = ["items_of", "read_items", "write_item"]


def items_of(delivery: Delivery) -> Path | None:
    """The holdings changes spooled beside a delta publisher's files, if there are any."""
    if not delivery.files:
        return None
    path = delivery.files[0].path.parent / ITEMS_FILE
    return path if path.is_file() else None


def write_item(items: IO[str], op: str, row: Any) -> None:
    """One line of ``items.jsonl``: ``u`` (sent, with its content hash) or ``d`` (deleted)."""
    entry = [op, row.source, row.numero] + ([row.content_hash] if op == "u" else [])
    items.write(json.dumps(entry, ensure_ascii=False) + "\n")


def read_items(path: Path) -> Iterator[HoldingChange]:
    """The changes ``path`` lists, in order, read as they are consumed."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                op, source, numero, *content_hash = json.loads(line)
                yield HoldingChange(source, numero, content_hash[0] if op == "u" else None)
