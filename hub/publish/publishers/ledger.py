"""The ledger as the runner keeps it: what each partner was sent, acknowledged and holds.

The tables and their writes are the store's (:mod:`hub.store.ledger`,
:mod:`hub.store.deliveries`, :mod:`hub.store.holdings`); this module turns the runner's
deliveries into what the store records, and decides what each outcome means for the
partner's holdings and the spool. The rules that keep a partner exact:

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
from pathlib import Path
from typing import cast

from sqlalchemy import Engine

from hub.publish.publishers.base import Acknowledgement, Delivery, DeliveryKind, Plan, Written
from hub.publish.publishers.files import SpooledFile, file_sha256
from hub.publish.publishers.holdings import items_of, read_items
from hub.store import deliveries as recorded
from hub.store import ledger as partners
from hub.store.deliveries import LedgerDelivery, LedgerFile

FAILED_OUTCOMES = frozenset({"failed", "rejected"})
"""Run outcomes that count as a failure of the partner (``consecutive_failures``)."""


def _ledger_files(files: list[SpooledFile]) -> tuple[LedgerFile, ...]:
    return tuple(LedgerFile(f.name, str(f.path), f.media_type, f.size, f.sha256) for f in files)


def _delivery(record: LedgerDelivery) -> Delivery:
    """A recorded delivery as the runner and the publishers see it."""
    return Delivery(
        record.id,
        record.publisher,
        cast(DeliveryKind, record.kind),
        record.from_cursor,
        record.to_cursor,
        record.formations,
        record.deletions,
        record.created_at,
        record.fingerprint,
        [
            SpooledFile(f.name, Path(f.path), f.media_type, f.size_bytes, f.sha256)
            for f in record.files
        ],
    )


def _record(delivery: Delivery) -> LedgerDelivery:
    """A delivery as the store records it."""
    return LedgerDelivery(
        delivery.id,
        delivery.publisher,
        delivery.kind,
        delivery.from_cursor,
        delivery.to_cursor,
        delivery.formations,
        delivery.deletions,
        delivery.created_at,
        delivery.fingerprint,
        _ledger_files(delivery.files),
    )


# -- runs -----------------------------------------------------------------------------


def start_attempt(engine: Engine, publisher: str, *, trigger: str, replica: str) -> int:
    """Record a run as started (one still marked running is closed as ``interrupted``)."""
    return partners.start_attempt(engine, publisher, trigger=trigger, replica=replica)


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
    partners.finish_attempt(
        engine,
        attempt_id,
        publisher,
        outcome,
        failed=outcome in FAILED_OUTCOMES,
        delivery_id=delivery_id,
        error=error,
        retries=retries,
    )


# -- deliveries -----------------------------------------------------------------------


def pending_delivery(engine: Engine, publisher: str) -> Delivery | None:
    """The delivery waiting for an acknowledgement, if any (there is at most one)."""
    record = recorded.pending_delivery(engine, publisher)
    return None if record is None else _delivery(record)


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
    built = LedgerDelivery(
        plan.delivery_id,
        publisher,
        plan.kind,
        plan.since,
        plan.to_cursor,
        written.formations,
        written.deletions,
        plan.created_at,
        plan.fingerprint,
        _ledger_files(written.files),
        note=written.note,
    )
    return _delivery(recorded.record_delivery(engine, built))


def mark_sending(engine: Engine, delivery: Delivery) -> None:
    """One more attempt of ``delivery``; the partner's delivered cursor is its end."""
    recorded.mark_sending(engine, delivery.id, delivery.publisher, delivery.to_cursor)


def note_failure(engine: Engine, delivery: Delivery, error: str) -> None:
    """The attempt failed; the delivery stays pending and is resent next run."""
    recorded.note_failure(engine, delivery.id, error)


def acknowledge(engine: Engine, delivery: Delivery, ack: Acknowledgement) -> None:
    """The partner took ``delivery``: cursor, holdings and ledger move in one transaction."""
    items = items_of(delivery)
    changes = None if items is None else read_items(items)
    recorded.acknowledge(engine, _record(delivery), ack.ack_id, changes)
    drop_spool(delivery)


def settle_without_delivery(engine: Engine, publisher: str, cursor: int, fingerprint: str) -> None:
    """Nothing to send: the partner already holds the filtered offer as of ``cursor``."""
    partners.settle(engine, publisher, cursor, fingerprint)


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
    recorded.close_delivery(
        engine,
        delivery.id,
        delivery.publisher,
        status=status,
        error=error,
        received=read_items(items) if possibly_received and items is not None else None,
        # What the partner may hold is unknown: its next delivery is a full file.
        forget_fingerprint=possibly_received and items is None,
    )
    drop_spool(delivery)


def drop_spool(delivery: Delivery) -> None:
    """Remove the delivery's spool folder (its files now live at the partner, or nowhere)."""
    if delivery.files:
        shutil.rmtree(delivery.files[0].path.parent, ignore_errors=True)


def last_acknowledged_checksums(engine: Engine, publisher: str) -> list[str] | None:
    """SHA-256 of the files of the partner's latest acknowledged delivery (None: never)."""
    return recorded.last_acknowledged_checksums(engine, publisher)
