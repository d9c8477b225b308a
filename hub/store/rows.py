"""What the store is handed for one formation, and what applying a flow counted.

The map stage (:mod:`hub.pipeline.mapstage`) builds the rows; :mod:`hub.store.records`
writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from hub.store.models import RecordCounts

__all__ = ["ActionRow", "FlowCounts", "FormationRows", "StoredRecord", "datemaj_is_older"]


@dataclass(slots=True)
class ActionRow:
    """An action's queryable columns and its sessions' rows, as the store writes them."""

    numero: str | None
    columns: dict[str, Any]
    sessions: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class FormationRows:
    """What the store writes for one formation besides its LHEO: columns, organisme,
    actions with their sessions, mapping issues (the map stage makes them)."""

    columns: dict[str, Any]
    organisme: dict[str, Any] | None
    actions: list[ActionRow]
    issues: list[dict[str, Any]] = field(default_factory=list)


class StoredRecord(Protocol):
    """What the applier needs of a valid formation read from a flow (the pipeline's record)."""

    numero: str | None
    datemaj: str | None
    content_hash: str
    raw_hash: str
    fragment: bytes


class FlowCounts(RecordCounts):
    """The counts of a flow being applied (``kept_newer``: records left as they were
    because a newer flow of the source already spoke of them)."""

    def as_dict(self) -> dict[str, int]:
        return self.model_dump()

    def add(self, other: FlowCounts) -> None:
        for name, value in other.as_dict().items():
            setattr(self, name, getattr(self, name) + value)


def datemaj_is_older(incoming: str | None, stored: str | None) -> bool:
    """Whether ``incoming`` is known to be older than ``stored`` (unknown dates never are)."""
    if not incoming or not stored or incoming.strip("0") == "" or stored.strip("0") == "":
        return False
    return incoming < stored
