"""Apply the records of one flow to the store, inside the caller's single transaction.

Identity is (source, numero). The same content hash means unchanged: nothing is written
and no change is emitted. An older ``datemaj`` never overwrites a newer one. A snapshot
deletes by absence when it finishes; a delta deletes what it names. Every effective change
takes the next number of the global sequence, whose counter row stays locked until the
transaction commits, so readers never see sequence numbers commit out of order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    bindparam,
    func,
    insert,
    select,
    update,
)

from hub.store.changes import advance_sequence, lock_sequence
from hub.store.changes import append as append_changes
from hub.store.children import delete_children, insert_children, organisme_ids
from hub.store.models import utcnow
from hub.store.rows import FlowCounts, FormationRows, StoredRecord, datemaj_is_older
from hub.store.tables import FORMATIONS


class FlowApplier:
    """Buffers the records of one flow and applies them in batches, in one transaction."""

    def __init__(
        self,
        connection: Connection,
        *,
        source: str,
        region: str | None,
        flow_id: str,
        batch_size: int = 500,
        protects: Callable[[str | None], bool] | None = None,
    ) -> None:
        self.connection = connection
        self.source = source
        self.region = region
        self.flow_id = flow_id
        self.batch_size = batch_size
        self.protects = protects or (lambda _numero: False)
        """Numeros a newer flow spoke of: this flow leaves them as they are (time safety)."""
        self.counts = FlowCounts()
        self.seq = lock_sequence(connection)
        self._start_seq = self.seq
        self._pending: list[tuple[StoredRecord, FormationRows]] = []

    def add(self, record: StoredRecord, rows: FormationRows) -> None:
        """Buffer a valid record with its rows (the map stage made them)."""
        self._pending.append((record, rows))
        if len(self._pending) >= self.batch_size:
            self.flush()

    def unchanged_raw(self, raws: Sequence[tuple[str | None, str]]) -> set[tuple[str, str]]:
        """The ``(numero, raw_hash)`` pairs stored live with that very raw hash.

        The same bytes in the same context make the same canonical formation, so these
        need no parsing at all; a miss only means "parse it and compare content hashes".
        """
        wanted = {(numero, raw_hash) for numero, raw_hash in raws if numero}
        if not wanted:
            return set()
        f = FORMATIONS.c
        rows = self.connection.execute(
            select(f.numero, f.raw_hash).where(
                and_(
                    f.source == self.source,
                    f.numero.in_({numero for numero, _ in wanted}),
                    f.deleted.is_(False),
                )
            )
        )
        return {(numero, raw_hash) for numero, raw_hash in rows if (numero, raw_hash) in wanted}

    def flush(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        existing = self._existing([r.numero for r, _ in batch if r.numero])
        created: list[tuple[StoredRecord, FormationRows]] = []
        updated: list[tuple[StoredRecord, FormationRows, dict[str, Any]]] = []
        raw_hashes: list[dict[str, Any]] = []
        for record, mapped in batch:
            stored = existing.get(record.numero or "")
            if self.protects(record.numero):
                self.counts.kept_newer += 1
            elif stored and not stored["deleted"] and stored["content_hash"] == record.content_hash:
                self.counts.unchanged += 1
                if record.raw_hash and stored["raw_hash"] != record.raw_hash:
                    raw_hashes.append({"b_id": stored["id"], "raw_hash": record.raw_hash})
            elif (
                stored
                and not stored["deleted"]
                and datemaj_is_older(record.datemaj, stored["datemaj"])
            ):
                self.counts.stale += 1
            elif stored:
                updated.append((record, mapped, stored))
            else:
                created.append((record, mapped))
        organismes = organisme_ids(
            self.connection,
            self.source,
            [rows for _, rows in created] + [rows for _, rows, _ in updated],
        )
        self._insert_formations(created, organismes)
        self._update_formations(updated, organismes)
        if raw_hashes:  # same content sent as other bytes: remember them, nothing changed
            self.connection.execute(
                update(FORMATIONS).where(FORMATIONS.c.id == bindparam("b_id")), raw_hashes
            )

    def _existing(self, numeros: Sequence[str]) -> dict[str, dict[str, Any]]:
        f = FORMATIONS.c
        rows = self.connection.execute(
            select(
                f.id, f.numero, f.content_hash, f.raw_hash, f.datemaj, f.deleted, f.version
            ).where(and_(f.source == self.source, f.numero.in_(numeros)))
        ).mappings()
        return {row["numero"]: dict(row) for row in rows}

    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def _formation_values(
        self, record: StoredRecord, rows: FormationRows, organismes: dict[str, int]
    ) -> dict[str, Any]:
        return {
            "source": self.source,
            "numero": record.numero,
            "region": self.region,
            "datemaj": record.datemaj,
            "content_hash": record.content_hash,
            "raw_hash": record.raw_hash or None,
            "fragment": record.fragment.decode("utf-8"),
            "flow_id": self.flow_id,
            "deleted": False,
            "seq": self._next_seq(),
            "updated_at": utcnow(),
            "organisme_id": organismes.get(rows.organisme["key"]) if rows.organisme else None,
            **rows.columns,
        }

    def _insert_formations(
        self, created: list[tuple[StoredRecord, FormationRows]], organismes: dict[str, int]
    ) -> None:
        if not created:
            return
        values = [
            {**self._formation_values(r, rows, organismes), "version": 1} for r, rows in created
        ]
        f = FORMATIONS.c
        ids = [
            row[0]
            for row in self.connection.execute(
                insert(FORMATIONS).returning(f.id, sort_by_parameter_order=True), values
            )
        ]
        insert_children(
            self.connection, [(id_, rows) for id_, (_, rows) in zip(ids, created, strict=True)]
        )
        self._log_changes(ids, values, "upsert")
        self.counts.created += len(created)

    def _update_formations(
        self,
        updated: list[tuple[StoredRecord, FormationRows, dict[str, Any]]],
        organismes: dict[str, int],
    ) -> None:
        if not updated:
            return
        ids = [stored["id"] for _, _, stored in updated]
        delete_children(self.connection, ids)
        values = []
        for record, rows, stored in updated:
            row = self._formation_values(record, rows, organismes)
            row.update(b_id=stored["id"], version=stored["version"] + 1)
            values.append(row)
        self.connection.execute(
            update(FORMATIONS).where(FORMATIONS.c.id == bindparam("b_id")),
            [{k: v for k, v in row.items() if k not in ("source", "numero")} for row in values],
        )
        insert_children(self.connection, [(stored["id"], rows) for _, rows, stored in updated])
        self._log_changes(ids, values, "upsert")
        self.counts.updated += len(updated)

    def _log_changes(self, ids: Sequence[int], values: Sequence[dict[str, Any]], op: str) -> None:
        append_changes(
            self.connection,
            [
                {
                    "seq": row["seq"],
                    "formation_id": id_,
                    "source": self.source,
                    "numero": row["numero"],
                    "op": op,
                    "content_hash": row.get("content_hash") if op == "upsert" else None,
                    "flow_id": self.flow_id,
                    "at": row["updated_at"],
                }
                for id_, row in zip(ids, values, strict=True)
            ],
        )

    def tombstone(self, numeros: Iterable[str]) -> list[str]:
        """Delete the named live formations; returns the numeros that matched nothing."""
        self.flush()
        wanted = list(dict.fromkeys(numeros))
        kept = [numero for numero in wanted if self.protects(numero)]
        self.counts.kept_newer += len(kept)
        wanted = [numero for numero in wanted if not self.protects(numero)]
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), self.batch_size):
            found.update(self._existing(wanted[start : start + self.batch_size]))
        live = [row for row in found.values() if not row["deleted"]]
        self.tombstone_rows(live)
        return [numero for numero in wanted if numero not in found or found[numero]["deleted"]]

    def live_count(self) -> int:
        """The source's live formations, as this transaction sees them."""
        f = FORMATIONS.c
        return int(
            self.connection.execute(
                select(func.count())
                .select_from(FORMATIONS)
                .where(and_(f.source == self.source, f.deleted.is_(False)))
            ).scalar_one()
        )

    def absent(self, seen: set[str]) -> list[dict[str, Any]]:
        """Snapshot semantics: the source's live formations not in ``seen``, to tombstone.

        Those a newer flow spoke of are left out (and counted as kept).
        """
        self.flush()
        f = FORMATIONS.c
        rows = self.connection.execute(
            select(f.id, f.numero, f.version).where(
                and_(f.source == self.source, f.deleted.is_(False))
            )
        ).mappings()
        absent = [dict(row) for row in rows if row["numero"] not in seen]
        kept = [row for row in absent if self.protects(row["numero"])]
        self.counts.kept_newer += len(kept)
        return [row for row in absent if not self.protects(row["numero"])]

    def tombstone_rows(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        ids = [row["id"] for row in rows]
        delete_children(self.connection, ids)
        now = utcnow()
        values = [
            {
                "b_id": row["id"],
                "numero": row["numero"],
                "seq": self._next_seq(),
                "updated_at": now,
                "version": row["version"] + 1,
            }
            for row in rows
        ]
        self.connection.execute(
            update(FORMATIONS)
            .where(FORMATIONS.c.id == bindparam("b_id"))
            .values(deleted=True, flow_id=self.flow_id),
            [{k: v for k, v in row.items() if k != "numero"} for row in values],
        )
        self._log_changes(ids, values, "delete")
        self.counts.deleted += len(rows)

    def finish(self) -> FlowCounts:
        """Flush what is buffered and advance the sequence counter (still uncommitted)."""
        self.flush()
        if self.seq != self._start_seq:
            advance_sequence(self.connection, self.seq)
        return self.counts


def live_numeros(engine: Engine, source: str) -> set[str]:
    """The numeros of ``source``'s live formations."""
    f = FORMATIONS.c
    with engine.connect() as connection:
        rows = connection.execute(
            select(f.numero).where(f.source == source, f.deleted.is_(False))
        ).scalars()
        return set(rows)
