"""What the tests compare: the store's state, its digest, and the offers they push.

``live_state`` is the national offer as a consumer sees it (each live formation's content
hash); ``store_digest`` is everything a flow may change (formations, tombstones, versions,
the change log and the child rows), hashed, so "nothing stored changed" is one comparison.
"""

from __future__ import annotations

import hashlib
import io
from collections import Counter
from collections.abc import Iterable
from typing import Any

import httpx
from sqlalchemy import Engine, func, select

from hub.store.models import Action, Organisme, Session
from hub.store.tables import CHANGES, FLOWS, FORMATIONS
from simulators.corpus import CorpusSpec, iter_formations, write_corpus

CHILDREN = (
    Action.__table__,  # type: ignore[attr-defined]
    Session.__table__,  # type: ignore[attr-defined]
    Organisme.__table__,  # type: ignore[attr-defined]
)
XML = "application/xml"

Key = tuple[str, str]


def live_state(engine: Engine) -> dict[Key, str]:
    """``(source, numero) -> content_hash`` of every live (not deleted) formation."""
    f = FORMATIONS.c
    with engine.connect() as connection:
        rows = connection.execute(
            select(f.source, f.numero, f.content_hash).where(f.deleted.is_(False))
        )
        return {(source, numero): content_hash for source, numero, content_hash in rows}


def store_digest(engine: Engine) -> str:
    """One hash of everything a flow may change; equal digests mean nothing changed."""
    f = FORMATIONS.c
    digest = hashlib.sha256()
    with engine.connect() as connection:
        formations = connection.execute(
            select(f.source, f.numero, f.content_hash, f.deleted, f.version, f.seq).order_by(
                f.source, f.numero
            )
        )
        for row in formations:
            digest.update(repr(tuple(row)).encode())
        last = connection.execute(select(func.coalesce(func.max(CHANGES.c.seq), 0))).scalar()
        digest.update(f"changes:{last}".encode())
        for table in CHILDREN:
            count = connection.execute(select(func.count()).select_from(table)).scalar()
            digest.update(f"{table.name}:{count}".encode())
    return digest.hexdigest()


def flow_statuses(engine: Engine, source: str) -> list[str]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(FLOWS.c.status)
            .where(FLOWS.c.source == source)
            .order_by(FLOWS.c.received_at, FLOWS.c.id)
        )
        return list(rows.scalars())


def upserts_per_record(engine: Engine, source: str) -> Counter[str]:
    """How many ``upsert`` changes each numero of ``source`` has in the change log."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(CHANGES.c.numero).where(CHANGES.c.source == source, CHANGES.c.op == "upsert")
        )
        return Counter(rows.scalars())


def corpus(
    formations: int, *, seed: int, region: str, invalid_share: float = 0.0
) -> tuple[bytes, set[str]]:
    """A realistic LHEO 2.3 document from the project's generator, and its valid numeros."""
    spec = CorpusSpec(
        formations=formations, seed=seed, regions=(region,), invalid_share=invalid_share
    )
    out = io.BytesIO()
    write_corpus(out, spec)
    return out.getvalue(), {g.numero for g in iter_formations(spec) if g.valid}


def replica_from_changes(http: httpx.Client, *, since: int = 0, limit: int = 500) -> dict[Key, str]:
    """A consumer's replica of the offer, rebuilt from ``/v1/feed/changes`` alone."""
    replica: dict[Key, str] = {}
    apply_changes(http, replica, since=since, limit=limit)
    return replica


def apply_changes(
    http: httpx.Client, replica: dict[Key, str], *, since: int, limit: int = 500
) -> tuple[int, int]:
    """Page the changes feed from ``since`` to its end into ``replica``; (cursor, requests)."""
    cursor, requests = since, 0
    while True:
        response = http.get("/v1/feed/changes", params={"since": cursor, "limit": limit})
        response.raise_for_status()
        requests += 1
        page = response.json()
        merge(replica, page["changes"])
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return cursor, requests


def merge(replica: dict[Key, str], changes: Iterable[dict[str, Any]]) -> None:
    for change in changes:
        key = (change["source"], change["numero"])
        if change["op"] == "delete":
            replica.pop(key, None)
        else:
            replica[key] = change["content_hash"]
