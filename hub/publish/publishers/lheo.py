"""Full and delta LHEO 2.3 files for one partner, and the base of the LHEO publishers.

A **full** file holds every live formation the partner's filter keeps, up to the cursor.
A **delta** after cursor *A* up to *T* holds, for each formation whose latest change falls
in *(A, T]*, its latest state when the filter keeps it, else a deletion when the partner
holds it (``publisher_holding``): deleted formations and those that left the filter (their
region or language kind changed...) alike. A consumer that applies the full file and then
each delta in order therefore holds exactly the filtered store, and never receives
deletions of formations it was never sent.

Files reuse the national feed's pieces (`hub.publish.feed.formation_bytes`: stored fragments
plus ``hub-provenance`` extras) and its deletion dialect, ``<extras info="suppressions">``
with one ``<extra info="numero" ref="SOURCE">`` per formation, after ``</offres>``.

**Deletions alone.** The XSD requires at least one ``<formation>`` in ``<offres>``, so a
delta that only deletes carries one formation the partner already holds, unchanged since
it was acknowledged (same content hash, latest change before *A*): applying it again
changes nothing, and the document stays valid. When the partner would be left holding
nothing at all, no valid LHEO document can say so: the delivery is deferred (the ledger
says why) until the filtered offer has a formation again.

Each delivery also writes ``items.jsonl``: the changes to the partner's holdings that the
runner applies when, and only when, the partner acknowledges.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, ClassVar

from sqlalchemy import Connection, and_, select

from hub.lheo.writer import document_head, document_tail
from hub.publish.feed import deletions_of, formation_bytes
from hub.publish.publishers.base import Plan, Publisher, Written
from hub.publish.publishers.config import PublisherFilter
from hub.publish.publishers.files import ITEMS_FILE, SpoolSink
from hub.publish.publishers.holdings import write_item
from hub.store.holdings import held_among, holds_any
from hub.store.tables import FORMATIONS, HOLDINGS

__all__ = ["ITEMS_FILE", "LheoCounts", "LheoPublisher", "write_delta", "write_full"]

LHEO_MEDIA_TYPE = "application/xml"
_PAGE = 500
_CARRIER_CANDIDATES = 50
_DEFERRED_DELETIONS = (
    "these deletions would leave the partner with no formation, and an empty <offres> is "
    "not valid LHEO 2.3: deferred until the offer has one again"
)
_DEFERRED_FULL = (
    "the filtered offer is empty, and an empty <offres> is not valid LHEO 2.3: the full "
    "file waits until the offer has a formation again"
)


@dataclass(slots=True)
class LheoCounts:
    formations: int = 0
    deletions: int = 0
    carrier: str | None = None
    """``source/numero`` of the unchanged formation carried by a deletions-only delta."""


def _columns() -> tuple[Any, ...]:
    f = FORMATIONS.c
    return (
        f.seq, f.source, f.numero, f.region, f.version, f.deleted, f.fragment,
        f.content_hash, f.language_kind, f.certifiante,
    )  # fmt: skip


def keeps_row(keep: PublisherFilter, row: Any) -> bool:
    return not row.deleted and keep.keeps(
        source=row.source,
        region=row.region,
        language_kind=row.language_kind,
        certifiante=row.certifiante,
    )


def _pages(
    connection: Connection, since: int, to: int, *, keep: PublisherFilter | None
) -> Iterator[list[Any]]:
    """Formations whose latest change is in (since, to], by sequence, a page at a time.

    With ``keep``, only live formations it keeps (a full file); without, every one,
    tombstones included (a delta).
    """
    f = FORMATIONS.c
    last = since
    while True:
        query = select(*_columns()).where(f.seq > last, f.seq <= to)
        if keep is not None:
            query = query.where(f.deleted.is_(False), keep.where(FORMATIONS))
        rows = list(connection.execute(query.order_by(f.seq).limit(_PAGE)).all())
        if rows:
            yield rows
        if len(rows) < _PAGE:
            return
        last = rows[-1].seq


def write_full(
    connection: Connection, keep: PublisherFilter, to: int, out: SpoolSink, items: IO[str]
) -> LheoCounts:
    """Every live formation ``keep`` keeps, up to cursor ``to``."""
    counts = LheoCounts()
    out.write(document_head())
    for rows in _pages(connection, 0, to, keep=keep):
        kept = [row for row in rows if keeps_row(keep, row)]
        out.write(b"".join(formation_bytes(row) for row in kept))
        for row in kept:
            write_item(items, "u", row)
        counts.formations += len(kept)
    out.write(document_tail())
    return counts


def _carrier(connection: Connection, publisher: str, keep: PublisherFilter, since: int) -> Any:
    """A formation the partner holds, unchanged since it was acknowledged, or None."""
    f, h = FORMATIONS.c, HOLDINGS.c
    joined = FORMATIONS.join(
        HOLDINGS,
        and_(h.publisher == publisher, h.source == f.source, h.numero == f.numero),
    )
    rows = connection.execute(
        select(*_columns())
        .select_from(joined)
        .where(f.deleted.is_(False), f.seq <= since, f.content_hash == h.content_hash)
        .order_by(f.seq.desc())
        .limit(_CARRIER_CANDIDATES)
    ).all()
    return next((row for row in rows if keeps_row(keep, row)), None)


def write_delta(
    connection: Connection,
    publisher: str,
    keep: PublisherFilter,
    *,
    since: int,
    to: int,
    out: SpoolSink,
    items: IO[str],
) -> LheoCounts | None:
    """What changed in (since, to] for this partner; None when it cannot be said (deferred)."""
    counts = LheoCounts()
    deletions: list[Any] = []
    out.write(document_head())
    for rows in _pages(connection, since, to, keep=None):
        held = held_among(connection, publisher, {(row.source, row.numero) for row in rows})
        kept: list[Any] = []
        for row in rows:
            if keeps_row(keep, row):
                kept.append(row)
                write_item(items, "u", row)
            elif (row.source, row.numero) in held:
                deletions.append(row)
                write_item(items, "d", row)
        out.write(b"".join(formation_bytes(row) for row in kept))
        counts.formations += len(kept)
    if counts.formations == 0 and deletions:
        carrier = _carrier(connection, publisher, keep, since)
        if carrier is None:
            return None
        out.write(formation_bytes(carrier))
        counts.formations, counts.carrier = 1, f"{carrier.source}/{carrier.numero}"
    counts.deletions = len(deletions)
    out.write(document_tail(deletions_of(deletions)))
    return counts


class LheoPublisher(Publisher):
    """A publisher of LHEO 2.3 files, full or delta, gzip-compressed."""

    mode = "delta"
    formats: ClassVar[tuple[str, ...]] = ("lheo-2.3+gzip",)

    def file_name(self, plan: Plan) -> str:
        """Dated, then the cursor it reaches, so names sort in the order of application
        (even a full file and a delta built within the same second)."""
        since = plan.since if plan.since is not None else 0
        stamp = f"{plan.created_at:%Y%m%dT%H%M%SZ}"
        return f"lheo-{stamp}-{plan.to_cursor:010d}-{plan.kind}-from-{since:010d}.xml.gz"

    def write(self, connection: Connection, plan: Plan, folder: Path) -> Written:
        keep = self.config.filter
        items_path = folder / ITEMS_FILE
        with (
            items_path.open("w", encoding="utf-8") as items,
            SpoolSink(folder / self.file_name(plan), LHEO_MEDIA_TYPE, compress=True) as sink,
        ):
            if plan.kind == "full":
                counts: LheoCounts | None = write_full(
                    connection, keep, plan.to_cursor, sink, items
                )
            else:
                assert plan.since is not None
                counts = write_delta(
                    connection,
                    self.config.name,
                    keep,
                    since=plan.since,
                    to=plan.to_cursor,
                    out=sink,
                    items=items,
                )
        assert sink.result is not None
        if counts is None or (counts.formations == 0 and counts.deletions == 0):
            sink.discard()
            return self._nothing(connection, plan, counts)
        return Written(
            files=[sink.result],
            formations=counts.formations,
            deletions=counts.deletions,
            items=items_path,
            note=f"carries {counts.carrier} unchanged" if counts.carrier else None,
        )

    def _nothing(self, connection: Connection, plan: Plan, counts: LheoCounts | None) -> Written:
        """Why there is no file: deletions LHEO cannot say yet, or nothing for this partner."""
        if counts is None:
            return Written(nothing="deferred", note=_DEFERRED_DELETIONS)
        if plan.kind == "full" and holds_any(connection, self.config.name):
            return Written(nothing="deferred", note=_DEFERRED_FULL)
        return Written(nothing="up-to-date")
