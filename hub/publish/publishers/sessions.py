"""The sessions of the live offer a partner's filter keeps, for per-session files.

The map and the open-data extract are one row (or feature) per session. Both read the
harmonised facts the map stage stored with each live formation, never the raw LHEO, and
apply the partner's filter to formations, exactly as the LHEO publishers do (a formation's
region, source, language kind and ``certifiante``), so every partner's idea of "region 11"
or "language training" is the same. Formations come in id order, a page at a time, so the
same store always gives the same file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, select

from hub.publish.publishers.config import PublisherFilter
from hub.publish.stats import SessionView
from hub.store.tables import FORMATIONS, ORGANISMES
from mappings import from_json

__all__ = ["PublishedSession", "filtered_sessions"]

_PAGE = 500


@dataclass(frozen=True, slots=True)
class PublishedSession:
    """One session with its formation and action (`SessionView`), plus stored columns."""

    view: SessionView
    certifiante: bool | None


def filtered_sessions(
    connection: Connection, keep: PublisherFilter, *, language_only: bool = False
) -> Iterator[PublishedSession]:
    """Every session of the live formations ``keep`` keeps (language training only, if asked)."""
    f, o = FORMATIONS.c, ORGANISMES.c
    query = (
        select(f.id, f.harmonised, f.certifiante, o.raison_sociale)
        .select_from(FORMATIONS.outerjoin(ORGANISMES, o.id == f.organisme_id))
        .where(f.deleted.is_(False), f.harmonised.is_not(None), keep.where(FORMATIONS))
        .order_by(f.id)
        .limit(_PAGE)
    )
    if language_only:
        query = query.where(f.language_kind.is_not(None))
    last = 0
    while True:
        rows = connection.execute(query.where(f.id > last)).all()
        for row in rows:
            formation = from_json(row.harmonised)
            for a, action in enumerate(formation.actions):
                for s, session in enumerate(action.sessions):
                    view = SessionView(formation, action, session, row.raison_sociale, a, s)
                    yield PublishedSession(view, row.certifiante)
        if len(rows) < _PAGE:
            return
        last = rows[-1].id
