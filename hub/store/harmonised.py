"""The harmonised facts of stored formations, for ``hub remap``: read a page, write what changed.

A remap re-reads live formations a page at a time (:func:`live_page`) with their stored
issues (:func:`stored_issues`), and, inside one write transaction holding the change
sequence, replaces the issues that changed (:func:`replace_issues`) and gives each
formation whose facts changed its new facts, next version and next sequence number, with
an ``upsert`` in the change log (:func:`update_facts`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from hub.store.changes import append as append_changes
from hub.store.models import utcnow
from hub.store.tables import FORMATIONS, ISSUES, SOURCES

__all__ = [
    "ISSUE_COLUMNS",
    "NewFacts",
    "changed_since",
    "live_page",
    "replace_issues",
    "source_regions",
    "stored_issues",
    "update_facts",
]

ISSUE_COLUMNS = ("source", "kind", "code", "value", "path", "message")


@dataclass(frozen=True, slots=True)
class NewFacts:
    """A formation's new harmonised reading."""

    formation_id: int
    facts: dict[str, Any]
    language_kind: str | None
    region: str | None
    issues: list[dict[str, Any]] = field(default_factory=list)


def source_regions(connection: Connection) -> dict[str, str | None]:
    rows = connection.execute(select(SOURCES.c.name, SOURCES.c.region))
    return {row.name: row.region for row in rows}


def live_page(connection: Connection, where: Any, limit: int) -> list[Any]:
    """Live formations matching ``where``, by id: what a remap reads of each."""
    f = FORMATIONS.c
    query = (
        select(
            f.id, f.source, f.numero, f.fragment, f.content_hash, f.harmonised,
            f.language_kind, f.region, f.version,
        )
        .where(where, f.deleted.is_(False))
        .order_by(f.id)
        .limit(limit)
    )  # fmt: skip
    return list(connection.execute(query).all())


def changed_since(connection: Connection, seq: int) -> list[int]:
    """Ids of live formations changed after sequence number ``seq``."""
    f = FORMATIONS.c
    query = select(f.id).where(f.seq > seq, f.deleted.is_(False))
    return list(connection.execute(query).scalars())


def stored_issues(connection: Connection, ids: Iterable[int]) -> dict[int, list[tuple[str, ...]]]:
    """The mapping issues stored for each formation, as tuples of :data:`ISSUE_COLUMNS`."""
    i = ISSUES.c
    found: dict[int, list[tuple[str, ...]]] = {}
    query = select(i.formation_id, *(i[name] for name in ISSUE_COLUMNS)).where(
        i.formation_id.in_(list(ids))
    )
    for formation_id, *values in connection.execute(query):
        found.setdefault(formation_id, []).append(tuple(values))
    return found


def replace_issues(connection: Connection, readings: Sequence[NewFacts]) -> None:
    """Each reading's formation gets its issues (issues are not published: no change)."""
    if not readings:
        return
    ids = [reading.formation_id for reading in readings]
    connection.execute(delete(ISSUES).where(ISSUES.c.formation_id.in_(ids)))
    rows = [{"formation_id": r.formation_id, **issue} for r in readings for issue in r.issues]
    if rows:
        connection.execute(insert(ISSUES), rows)


def update_facts(
    connection: Connection,
    readings: Sequence[NewFacts],
    stored: Mapping[int, Any],
    seq: int,
    run_id: str,
) -> int:
    """New facts, version and sequence number for each reading, and their change-log rows
    (``flow_id`` the remap's run id); returns the last sequence number handed out."""
    if not readings:
        return seq
    now = utcnow()
    values = []
    for reading in readings:
        seq += 1
        values.append(
            {
                "b_id": reading.formation_id,
                "harmonised": reading.facts,
                "language_kind": reading.language_kind,
                "region": reading.region,
                "version": stored[reading.formation_id].version + 1,
                "seq": seq,
                "updated_at": now,
            }
        )
    connection.execute(update(FORMATIONS).where(FORMATIONS.c.id == bindparam("b_id")), values)
    append_changes(
        connection,
        [
            {
                "seq": value["seq"],
                "formation_id": value["b_id"],
                "source": stored[value["b_id"]].source,
                "numero": stored[value["b_id"]].numero,
                "op": "upsert",
                "content_hash": stored[value["b_id"]].content_hash,
                "flow_id": run_id,
                "at": now,
            }
            for value in values
        ],
    )
    return seq
