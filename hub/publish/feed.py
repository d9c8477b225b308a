"""The national LHEO 2.3 feed, full or since a cursor, streamed from the store.

Fragments are stored canonical, so writing the feed is concatenation: no XML is parsed on
the way out. Each formation carries its provenance in ``<extras info="hub-provenance">``
(the reader strips it again, so re-ingesting the feed gives the same content hashes). A
delta lists the formations deleted since the cursor in ``<extras info="suppressions">``,
one ``<extra info="numero" ref="SOURCE">NUMERO</extra>`` each, the same dialect the push
API accepts.

LHEO 2.3 forbids an empty ``<offres>`` (it needs at least one ``<formation>``), so with
nothing to send (an empty store, or nothing changed after the cursor) there is no document
at all: :func:`write_lheo` yields nothing and :func:`open_lheo` answers None.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from sqlalchemy import Connection, Engine, func, select

from hub.lheo.schema import PROVENANCE_INFO
from hub.lheo.writer import Deletion, document_head, document_tail, formation_in_document
from hub.store.changes import CHANGE_SEQ
from hub.store.db import snapshot_connection
from hub.store.tables import COUNTERS, FORMATIONS

_PAGE = 500


def current_cursor(connection: Connection) -> int:
    """The sequence number of the latest change (0 for an empty store)."""
    value = connection.execute(
        select(COUNTERS.c.value).where(COUNTERS.c.name == CHANGE_SEQ)
    ).scalar()
    return int(value or 0)


def _provenance(row: Any) -> bytes:
    extras = "".join(
        f"<extra info={quoteattr(name)}>{escape(str(value))}</extra>"
        for name, value in (
            ("source", row.source),
            ("region", row.region),
            ("version", row.version),
        )
        if value is not None
    )
    return f'<extras info="{PROVENANCE_INFO}">{extras}</extras>'.encode()


def formation_bytes(row: Any) -> bytes:
    """A stored fragment ready to sit in a feed: no own xmlns, provenance appended."""
    fragment = formation_in_document(row.fragment.encode("utf-8"))
    head_end = fragment.index(b">")
    head, body = fragment[:head_end], fragment[head_end:]
    if body.endswith(b"/>") or head.endswith(b"/"):
        return head.rstrip(b"/") + b">" + _provenance(row) + b"</formation>\n"
    closing = body.rindex(b"</")
    return head + body[:closing] + _provenance(row) + body[closing:] + b"\n"


def _rows(connection: Connection, since: int, *, include_deleted: bool) -> Iterator[Any]:
    f = FORMATIONS.c
    columns = (f.id, f.seq, f.source, f.numero, f.region, f.version, f.deleted, f.fragment)
    last = since
    while True:
        query = select(*columns).where(f.seq > last).order_by(f.seq).limit(_PAGE)
        if not include_deleted:
            query = query.where(f.deleted.is_(False))
        rows = connection.execute(query).all()
        yield from rows
        if len(rows) < _PAGE:
            return
        last = rows[-1].seq


def write_lheo(engine: Engine, *, since: int | None = None) -> Iterator[bytes]:
    """Stream the feed as LHEO 2.3: the live offer, or what changed after ``since``.

    One read transaction covers the whole walk, so the file is one consistent state. With
    nothing to send it yields nothing: ``<offres/>`` alone would not be LHEO 2.3. A delta
    that only deletes is still written (``<offres>`` then the root deletions extras).
    """
    with snapshot_connection(engine) as connection, connection.begin():
        rows = _rows(connection, since or 0, include_deleted=since is not None)
        first = next(rows, None)
        if first is None:
            return
        deleted: list[Any] = []
        yield document_head()
        buffer: list[bytes] = []
        for row in itertools.chain((first,), rows):
            if row.deleted:
                deleted.append(row)
                continue
            buffer.append(formation_bytes(row))
            if len(buffer) >= 64:
                yield b"".join(buffer)
                buffer.clear()
        # A delta of deletions only leaves <offres> empty: not XSD-valid (offres needs a
        # formation), but the hub's delta dialect, which its readers and the push API take.
        buffer.append(document_tail(deletions_of(deleted)))
        yield b"".join(buffer)


def open_lheo(engine: Engine, *, since: int | None = None) -> Iterator[bytes] | None:
    """:func:`write_lheo` already started, or None when there is nothing to send.

    Callers decide before writing a byte (an HTTP 204, no file at all); the check and the
    document come from the same read transaction, so they cannot disagree.
    """
    chunks = write_lheo(engine, since=since)
    first = next(chunks, None)
    if first is None:
        return None
    return _resumed(first, chunks)


def _resumed(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest  # closing this closes the walk, and its transaction, too


def deletions_of(rows: Iterable[Any]) -> Iterator[Deletion]:
    """The deletions of deleted formation rows, each naming its source."""
    return (Deletion(row.numero, row.source) for row in rows)


@dataclass(frozen=True, slots=True)
class FeedPage:
    since: int
    next_cursor: int
    has_more: bool
    changes: list[dict[str, Any]]


def changes_page(connection: Connection, since: int, limit: int) -> FeedPage:
    """The latest state of each formation changed after ``since``, tombstones included."""
    f = FORMATIONS.c
    rows = connection.execute(
        select(
            f.seq, f.source, f.numero, f.region, f.version, f.deleted, f.content_hash, f.fragment
        )
        .where(f.seq > since)
        .order_by(f.seq)
        .limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    changes = [
        {
            "seq": row.seq,
            "op": "delete" if row.deleted else "upsert",
            "source": row.source,
            "numero": row.numero,
            "region": row.region,
            "version": row.version,
            "content_hash": None if row.deleted else row.content_hash,
            "lheo": None if row.deleted else row.fragment,
        }
        for row in rows
    ]
    next_cursor = rows[-1].seq if rows else since
    return FeedPage(since, next_cursor, more, changes)


def live_count(connection: Connection) -> int:
    return int(
        connection.execute(
            select(func.count()).select_from(FORMATIONS).where(FORMATIONS.c.deleted.is_(False))
        ).scalar_one()
    )
