"""The publishers' tables: what each partner was sent and has acknowledged.

Written by the delivery ledger (:mod:`hub.store.ledger`, :mod:`hub.store.deliveries`,
:mod:`hub.store.holdings`) for the outbound publishers of :mod:`hub.publish.publishers`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Text
from sqlmodel import Field, SQLModel

from hub.store.models import utcnow


class PublisherState(SQLModel, table=True):
    """Where one partner stands: cursors delivered and acknowledged, and its last run."""

    __tablename__ = "publisher_state"

    publisher: str = Field(primary_key=True, max_length=64)
    cursor_delivered: int | None = Field(default=None, sa_type=BigInteger)
    """``to_cursor`` of the latest delivery sent, acknowledged or not."""
    cursor_acknowledged: int | None = Field(default=None, sa_type=BigInteger)
    """``to_cursor`` of the latest acknowledged delivery; None: the partner holds nothing."""
    filter_fingerprint: str | None = Field(default=None, max_length=64)
    """SHA-256 of the filter, format and options its holdings were built with; another
    one means a full file."""
    last_full_at: datetime | None = None
    last_run_at: datetime | None = None
    last_success_at: datetime | None = None
    last_outcome: str | None = Field(default=None, max_length=16)
    last_error: str | None = Field(default=None, sa_type=Text)
    consecutive_failures: int = 0
    updated_at: datetime = Field(default_factory=utcnow)


class PublisherDelivery(SQLModel, table=True):
    """One delivery built for a partner: a cursor range, its files, and its fate."""

    __tablename__ = "publisher_delivery"

    id: str = Field(primary_key=True, max_length=40)
    publisher: str = Field(index=True, max_length=64)
    kind: str = Field(max_length=8, description="full or delta")
    from_cursor: int | None = Field(default=None, sa_type=BigInteger)
    to_cursor: int = Field(sa_type=BigInteger)
    filter_fingerprint: str = Field(
        max_length=64, description="the filter, format and options it was built with"
    )
    status: str = Field(
        default="pending",
        max_length=16,
        index=True,
        description="pending, acknowledged, rejected or abandoned",
    )
    formations: int = 0
    deletions: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    attempts: int = 0
    last_attempt_at: datetime | None = None
    acknowledged_at: datetime | None = None
    ack_id: str | None = Field(default=None, max_length=128)
    error: str | None = Field(default=None, sa_type=Text)


class PublisherFile(SQLModel, table=True):
    """A file of a delivery, kept in the spool until acknowledged so a retry resends it."""

    __tablename__ = "publisher_file"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: str = Field(foreign_key="publisher_delivery.id", index=True, max_length=40)
    name: str = Field(max_length=255)
    path: str = Field(max_length=1024)
    media_type: str = Field(max_length=64)
    size_bytes: int = Field(default=0, sa_type=BigInteger)
    sha256: str = Field(max_length=64)


class PublisherAttempt(SQLModel, table=True):
    """One run of a publisher (scheduled or by hand) and how it ended."""

    __tablename__ = "publisher_attempt"

    id: int | None = Field(default=None, primary_key=True)
    publisher: str = Field(index=True, max_length=64)
    delivery_id: str | None = Field(default=None, max_length=40, index=True)
    trigger: str = Field(max_length=16, description="schedule or manual")
    replica: str = Field(max_length=128)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    outcome: str = Field(
        default="running",
        max_length=16,
        description="running, acknowledged, up-to-date, unchanged, deferred, failed, "
        "rejected or interrupted (its process died)",
    )
    retries: int = 0
    error: str | None = Field(default=None, sa_type=Text)


class PublisherHolding(SQLModel, table=True):
    """A formation a partner holds, as of its acknowledged deliveries (what it has)."""

    __tablename__ = "publisher_holding"

    publisher: str = Field(primary_key=True, max_length=64)
    source: str = Field(primary_key=True, max_length=64)
    numero: str = Field(primary_key=True, max_length=128)
    content_hash: str = Field(max_length=64)
    delivery_id: str = Field(max_length=40)
