"""The store's tables as SQLAlchemy Core tables, named once for every query of the hub.

SQLModel models (:mod:`hub.store.models`, :mod:`hub.store.publisher_models`) declare them;
Core tables are what the bulk inserts, updates and reads use. Reading is open to every
layer; writing is the store's.
"""

from __future__ import annotations

from sqlalchemy import Table
from sqlmodel import SQLModel

from hub.store import models, publisher_models


def _table(model: type[SQLModel]) -> Table:
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


METADATA = SQLModel.metadata
"""Every table of the hub (both model modules are imported above)."""

SOURCES = _table(models.Source)
FLOWS = _table(models.Flow)
PARTS = _table(models.FlowPart)
REJECTIONS = _table(models.FlowRejection)
FORMATIONS = _table(models.Formation)
ACTIONS = _table(models.Action)
SESSIONS = _table(models.Session)
ORGANISMES = _table(models.Organisme)
ISSUES = _table(models.FormationIssue)
CHANGES = _table(models.Change)
COUNTERS = _table(models.Counter)
CURSORS = _table(models.ConnectorState)
TOKENS = _table(models.Token)
RECEIPTS = _table(models.PushReceipt)
RUNS = _table(models.SyncRun)
PUBLISHER_STATES = _table(publisher_models.PublisherState)
DELIVERIES = _table(publisher_models.PublisherDelivery)
FILES = _table(publisher_models.PublisherFile)
ATTEMPTS = _table(publisher_models.PublisherAttempt)
HOLDINGS = _table(publisher_models.PublisherHolding)
