"""The store's tables.

Formations, actions, sessions and organismes are queryable columns; each formation also
keeps its canonical LHEO 2.3 fragment and content hash, its source and the flow it came
from. ``change`` is the change log: one row per effective change, numbered by a global
monotonic sequence that the ``counter`` row hands out under a lock, so sequence order is
commit order. Deleted formations stay as tombstones (``deleted``) so deltas can say so.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Source(SQLModel, table=True):
    """A regional system feeding the hub (or a push client)."""

    name: str = Field(primary_key=True, max_length=64)
    region: str | None = Field(default=None, max_length=3)
    created_at: datetime = Field(default_factory=utcnow)


class RecordCounts(SQLModel):
    """What a flow (or a whole sync run) did to the records it read."""

    formations: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    rejected: int = 0
    stale: int = 0
    kept_newer: int = 0


class Flow(RecordCounts, table=True):
    """One batch of files from one source, archived as received before anything reads it.

    ``status``: ``received`` (archived, not applied yet), ``applied``, ``failed`` (refused
    whole, nothing applied), ``held`` (a snapshot that would delete too much, waiting for an
    operator), ``superseded`` (a later flow of its source made it pointless) or
    ``discarded`` (an operator dropped a held flow). ``note`` says why for the last three.
    """

    id: str = Field(primary_key=True, max_length=40)
    source: str = Field(index=True, max_length=64)
    kind: str = Field(max_length=16, description="snapshot or delta")
    status: str = Field(default="received", max_length=16, index=True)
    connector: str | None = Field(
        default=None, max_length=64, description="whose dialect reads its files; None: LHEO"
    )
    received_at: datetime = Field(default_factory=utcnow)
    as_of: datetime = Field(
        default_factory=utcnow,
        description="when its content was true: received_at, or its original's for a replay",
    )
    finished_at: datetime | None = None
    size_bytes: int = Field(default=0, sa_type=BigInteger, description="all its files")
    lheo_version: str | None = Field(default=None, max_length=8)
    encoding: str | None = Field(default=None, max_length=32, description="as declared")
    replay_of: str | None = Field(default=None, max_length=40)
    note: str | None = Field(default=None, sa_type=Text)
    error: str | None = Field(default=None, sa_type=Text)


class FlowPart(SQLModel, table=True):
    """One file of a flow, archived byte for byte as the region sent it, with how it came."""

    __tablename__ = "flow_part"

    id: int | None = Field(default=None, primary_key=True)
    flow_id: str = Field(index=True, max_length=40)
    position: int = 0
    name: str = Field(max_length=255, description="the file's name as received")
    role: str | None = Field(
        default=None, max_length=64, description="which file of a multi-file flow (auvergne)"
    )
    url: str | None = Field(default=None, sa_type=Text)
    http_status: int | None = None
    etag: str | None = Field(default=None, max_length=255)
    last_modified: str | None = Field(default=None, max_length=64)
    content_type: str | None = Field(default=None, max_length=255)
    archive_path: str = Field(max_length=512)
    sha256: str = Field(max_length=64)
    size_bytes: int = Field(default=0, sa_type=BigInteger)


class FlowRejection(SQLModel, table=True):
    """A finding of a flow, with where and why: a rejected record, or a flag on a kept one.

    Stages: ``parse`` (the flow was refused whole), ``encoding``, ``document``,
    ``validate``, ``identity``, ``delete``, ``convert`` (a spreadsheet cell), ``read`` (the
    connector's dialect dropped it); and, for records that were kept, ``flag`` (the
    dialect marked it) and ``repair`` (the hub repaired the flow, as its source's
    configuration says).
    """

    __tablename__ = "flow_rejection"

    id: int | None = Field(default=None, primary_key=True)
    flow_id: str = Field(index=True, max_length=40)
    numero: str | None = Field(default=None, max_length=128)
    line: int | None = None
    path: str = Field(sa_type=Text)
    reason: str = Field(sa_type=Text)
    stage: str = Field(default="validate", max_length=16)
    file: str | None = Field(default=None, max_length=255, description="for multi-file flows")


class Organisme(SQLModel, table=True):
    """An organisme-formation-responsable, shared by the formations it is responsible for."""

    __table_args__ = (UniqueConstraint("source", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=64)
    key: str = Field(max_length=128, description="its LHEO numero, else its SIRET")
    numero: str | None = Field(default=None, max_length=128)
    siret: str | None = Field(default=None, max_length=20, index=True)
    raison_sociale: str | None = Field(default=None, max_length=255)


class Formation(SQLModel, table=True):
    """Latest state of one offer, identified by (source, numero); a tombstone once deleted."""

    __table_args__ = (UniqueConstraint("source", "numero"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=64)
    numero: str = Field(max_length=128)
    region: str | None = Field(default=None, max_length=3, index=True)
    datemaj: str | None = Field(default=None, max_length=8)
    intitule: str | None = Field(default=None, sa_type=Text)
    formacode: str | None = Field(default=None, max_length=5, index=True)
    certifiante: bool | None = None
    organisme_id: int | None = Field(default=None, foreign_key="organisme.id")
    content_hash: str = Field(max_length=64)
    raw_hash: str | None = Field(
        default=None, max_length=64, description="hash of the bytes as sent, to skip unchanged"
    )
    fragment: str = Field(sa_type=Text)
    harmonised: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    language_kind: str | None = Field(
        default=None, max_length=32, index=True, description="set for language training"
    )
    flow_id: str = Field(max_length=40)
    version: int = 1
    deleted: bool = False
    seq: int = Field(sa_type=BigInteger, index=True)
    updated_at: datetime = Field(default_factory=utcnow)


class Action(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    formation_id: int = Field(foreign_key="formation.id", index=True)
    numero: str | None = Field(default=None, sa_type=Text)
    codepostal: str | None = Field(default=None, max_length=5)
    ville: str | None = Field(default=None, max_length=50)
    departement: str | None = Field(default=None, max_length=3)
    siret_formateur: str | None = Field(default=None, max_length=20)
    financeurs: str | None = Field(
        default=None, max_length=64, description="codes, space separated"
    )


class Session(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    action_id: int = Field(foreign_key="action.id", index=True)
    formation_id: int = Field(foreign_key="formation.id", index=True)
    numero: str | None = Field(default=None, sa_type=Text)
    debut: str | None = Field(default=None, max_length=8, description="LHEO date, 00 = unknown")
    fin: str | None = Field(default=None, max_length=8)


class FormationIssue(SQLModel, table=True):
    """A value of a live formation that could not be mapped, looked wrong, or was cleaned."""

    __tablename__ = "formation_issue"

    id: int | None = Field(default=None, primary_key=True)
    formation_id: int = Field(foreign_key="formation.id", index=True)
    source: str = Field(max_length=64, index=True)
    kind: str = Field(max_length=16, description="unmapped, suspicious or cleaned")
    code: str = Field(max_length=64, description="stable name of the problem")
    value: str = Field(sa_type=Text)
    path: str = Field(sa_type=Text)
    message: str = Field(sa_type=Text)


class Change(SQLModel, table=True):
    """The change log: one row per effective change, in global sequence order."""

    seq: int = Field(primary_key=True, sa_type=BigInteger)
    formation_id: int = Field(index=True)
    source: str = Field(max_length=64)
    numero: str = Field(max_length=128)
    op: str = Field(max_length=8, description="upsert or delete")
    content_hash: str | None = Field(default=None, max_length=64)
    flow_id: str = Field(max_length=40)
    at: datetime = Field(default_factory=utcnow)


class Counter(SQLModel, table=True):
    """Named counters; ``change_seq`` hands out the change log's sequence."""

    name: str = Field(primary_key=True, max_length=32)
    value: int = Field(default=0, sa_type=BigInteger)


class ConnectorState(SQLModel, table=True):
    """A connector's cursor (page token, last datemaj, ETag...), so syncs resume."""

    __tablename__ = "connector_state"

    source: str = Field(primary_key=True, max_length=64)
    cursor: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    updated_at: datetime = Field(default_factory=utcnow)


class Token(SQLModel, table=True):
    """An API token: a source's push token, the admin token, or a feed consumer's key.

    Only the SHA-256 of the token is stored; the token itself is shown once, at creation.
    """

    id: str = Field(primary_key=True, max_length=16, description="public id, e.g. t_3f9a1c2e5b7d")
    scope: str = Field(max_length=8, description="push, admin or feed")
    source: str | None = Field(default=None, max_length=64, index=True)
    secret_sha256: str = Field(max_length=64)
    label: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class PushReceipt(SQLModel, table=True):
    """What a push under an ``Idempotency-Key`` did, so the same key replays it."""

    __tablename__ = "push_receipt"
    __table_args__ = (UniqueConstraint("source", "idempotency_key"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=64)
    idempotency_key: str = Field(max_length=255)
    body_sha256: str = Field(max_length=64)
    status: str = Field(default="pending", max_length=16, description="pending or done")
    flow_id: str | None = Field(default=None, max_length=40)
    report: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)


class SyncRun(RecordCounts, table=True):
    """One run of a source's sync (scheduled, by hand, or a replay), for the health views.

    Written when the run starts and again when it ends, while the run holds its source's
    lock, so runs of one source never overlap here. A successful run that found nothing new
    (an HTTP 304, say) creates no flow yet still proves the source is fresh.
    """

    __tablename__ = "sync_run"

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=64, index=True)
    trigger: str = Field(max_length=16, description="schedule, manual or replay")
    replica: str = Field(max_length=128, description="host:pid of the process that ran it")
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    outcome: str = Field(
        default="running", max_length=16, description="running, success, failed or timeout"
    )
    flow_id: str | None = Field(default=None, max_length=40)
    replay_of: str | None = Field(default=None, max_length=40)
    error: str | None = Field(default=None, sa_type=Text)
    flows: int = 0
    held: int = Field(default=0, description="snapshots it held for an operator")
