"""What a push leaves in the store beside its flow: idempotency receipts.

A push under an ``Idempotency-Key`` first *claims* the key (a ``pending`` receipt with the
body's SHA-256), then *completes* it with the report, or *releases* it when the push
failed so the client can retry. The unique (source, key) constraint settles two
concurrent claims: the second sees the first's receipt. A receipt left ``pending`` by a
killed process is taken over after ``PENDING_TIMEOUT``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from hub.store.db import write_transaction
from hub.store.models import utcnow
from hub.store.tables import RECEIPTS, SOURCES

PENDING_TIMEOUT = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Claim:
    """``claimed`` (go on), ``replay`` (answer ``report``), ``mismatch`` or ``in-progress``."""

    state: Literal["claimed", "replay", "mismatch", "in-progress"]
    report: dict[str, Any] | None = None
    flow_id: str | None = None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def claim(engine: Engine, source: str, key: str, body_sha256: str) -> Claim:
    """Claim ``key`` for this body, or say why not."""
    where = (RECEIPTS.c.source == source) & (RECEIPTS.c.idempotency_key == key)
    try:
        with write_transaction(engine) as connection:
            row = connection.execute(select(RECEIPTS).where(where)).first()
            if row is None:
                connection.execute(
                    insert(RECEIPTS).values(
                        source=source,
                        idempotency_key=key,
                        body_sha256=body_sha256,
                        status="pending",
                        created_at=utcnow(),
                    )
                )
                return Claim("claimed")
            if row.body_sha256 != body_sha256:
                return Claim("mismatch", flow_id=row.flow_id)
            if row.status == "done":
                return Claim("replay", report=row.report, flow_id=row.flow_id)
            if utcnow() - _aware(row.created_at) < PENDING_TIMEOUT:
                return Claim("in-progress")
            connection.execute(update(RECEIPTS).where(where).values(created_at=utcnow()))
            return Claim("claimed")  # its first owner died: take it over
    except IntegrityError:
        return Claim("in-progress")  # a concurrent push claimed it first


def complete(engine: Engine, source: str, key: str, report: dict[str, Any]) -> None:
    with write_transaction(engine) as connection:
        connection.execute(
            update(RECEIPTS)
            .where((RECEIPTS.c.source == source) & (RECEIPTS.c.idempotency_key == key))
            .values(status="done", flow_id=report["flow_id"], report=report)
        )


def release(engine: Engine, source: str, key: str) -> None:
    """Forget a pending claim whose push failed, so the same key can be retried."""
    with write_transaction(engine) as connection:
        connection.execute(
            delete(RECEIPTS).where(
                (RECEIPTS.c.source == source)
                & (RECEIPTS.c.idempotency_key == key)
                & (RECEIPTS.c.status == "pending")
            )
        )


def source_region(engine: Engine, source: str) -> str | None:
    with engine.connect() as connection:
        region = connection.execute(
            select(SOURCES.c.region).where(SOURCES.c.name == source)
        ).scalar()
    return str(region) if region else None
