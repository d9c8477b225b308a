"""What hangs off a stored formation: its organisme, actions, sessions and mapping issues.

Written with the formation, in the flow's transaction; replaced whole when the
formation changes, removed when it is deleted (the formation stays as a tombstone).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, and_, delete, insert, select

from hub.store.rows import FormationRows
from hub.store.tables import ACTIONS, ISSUES, ORGANISMES, SESSIONS

__all__ = ["delete_children", "insert_children", "organisme_ids"]


def organisme_ids(
    connection: Connection, source: str, rows: Iterable[FormationRows]
) -> dict[str, int]:
    wanted = {r.organisme["key"]: r.organisme for r in rows if r.organisme}
    if not wanted:
        return {}
    o = ORGANISMES.c
    ids = {
        key: id_
        for id_, key in connection.execute(
            select(o.id, o.key).where(and_(o.source == source, o.key.in_(list(wanted))))
        )
    }
    missing = [{"source": source, **v} for k, v in wanted.items() if k not in ids]
    if missing:
        inserted = connection.execute(
            insert(ORGANISMES).returning(o.id, o.key, sort_by_parameter_order=True), missing
        )
        ids.update({key: id_ for id_, key in inserted})
    return ids


def delete_children(connection: Connection, formation_ids: Sequence[int]) -> None:
    connection.execute(delete(ISSUES).where(ISSUES.c.formation_id.in_(formation_ids)))
    connection.execute(delete(SESSIONS).where(SESSIONS.c.formation_id.in_(formation_ids)))
    connection.execute(delete(ACTIONS).where(ACTIONS.c.formation_id.in_(formation_ids)))


def insert_children(connection: Connection, formations: list[tuple[int, FormationRows]]) -> None:
    issues = [{"formation_id": fid, **issue} for fid, rows in formations for issue in rows.issues]
    if issues:
        connection.execute(insert(ISSUES), issues)
    actions = [(fid, action) for fid, rows in formations for action in rows.actions]
    if not actions:
        return
    action_ids = [
        row[0]
        for row in connection.execute(
            insert(ACTIONS).returning(ACTIONS.c.id, sort_by_parameter_order=True),
            [{"formation_id": fid, **action.columns} for fid, action in actions],
        )
    ]
    sessions = [
        {"formation_id": fid, "action_id": aid, **session}
        for aid, (fid, action) in zip(action_ids, actions, strict=True)
        for session in action.sessions
    ]
    if sessions:
        connection.execute(insert(SESSIONS), sessions)
