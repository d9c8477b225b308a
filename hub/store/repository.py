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

from lxml import etree
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)

from hub.harmonise import harmonise, language_kind
from hub.lheo.reader import FormationRecord
from hub.store.extract import FormationRows, extract
from hub.store.models import (
    Action,
    Change,
    Counter,
    Formation,
    FormationIssue,
    Organisme,
    RecordCounts,
    Session,
    utcnow,
)
from mappings import MappingIssue

FORMATIONS: Table = Formation.__table__  # type: ignore[attr-defined]
ACTIONS: Table = Action.__table__  # type: ignore[attr-defined]
SESSIONS: Table = Session.__table__  # type: ignore[attr-defined]
ORGANISMES: Table = Organisme.__table__  # type: ignore[attr-defined]
CHANGES: Table = Change.__table__  # type: ignore[attr-defined]
ISSUES: Table = FormationIssue.__table__  # type: ignore[attr-defined]
COUNTERS: Table = Counter.__table__  # type: ignore[attr-defined]
CHANGE_SEQ = "change_seq"


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


def lock_sequence(connection: Connection) -> int:
    """Lock the change counter for this transaction and return its current value."""
    row = connection.execute(
        select(COUNTERS.c.value).where(COUNTERS.c.name == CHANGE_SEQ).with_for_update()
    ).first()
    if row is None:
        connection.execute(insert(COUNTERS).values(name=CHANGE_SEQ, value=0))
        return 0
    return int(row[0])


def advance_sequence(connection: Connection, value: int) -> None:
    """Set the change counter (locked by `lock_sequence`) to the last number handed out."""
    connection.execute(update(COUNTERS).where(COUNTERS.c.name == CHANGE_SEQ).values(value=value))


def log_changes(connection: Connection, changes: Sequence[dict[str, Any]]) -> None:
    """Append to the change log: each change has seq, formation_id, source, numero, op
    (``upsert`` or ``delete``), content_hash (None for a delete), flow_id and at."""
    connection.execute(insert(CHANGES), list(changes))


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
        self._pending: list[tuple[FormationRecord, FormationRows | None]] = []

    def add(self, record: FormationRecord, rows: FormationRows | None = None) -> None:
        """Buffer a valid record; ``rows`` when already mapped (by a worker process)."""
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
        created: list[tuple[FormationRecord, FormationRows]] = []
        updated: list[tuple[FormationRecord, FormationRows, dict[str, Any]]] = []
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
                updated.append((record, mapped or self._rows(record), stored))
            else:
                created.append((record, mapped or self._rows(record)))
        organismes = self._organisme_ids(
            [rows for _, rows in created] + [rows for _, rows, _ in updated]
        )
        self._insert_formations(created, organismes)
        self._update_formations(updated, organismes)
        if raw_hashes:  # same content sent as other bytes: remember them, nothing changed
            self.connection.execute(
                update(FORMATIONS).where(FORMATIONS.c.id == bindparam("b_id")), raw_hashes
            )

    def _rows(self, record: FormationRecord) -> FormationRows:
        assert record.element is not None
        return formation_rows(record.element, source=self.source, region=self.region)

    def _existing(self, numeros: Sequence[str]) -> dict[str, dict[str, Any]]:
        f = FORMATIONS.c
        rows = self.connection.execute(
            select(
                f.id, f.numero, f.content_hash, f.raw_hash, f.datemaj, f.deleted, f.version
            ).where(and_(f.source == self.source, f.numero.in_(numeros)))
        ).mappings()
        return {row["numero"]: dict(row) for row in rows}

    def _organisme_ids(self, rows: Iterable[FormationRows]) -> dict[str, int]:
        wanted = {r.organisme["key"]: r.organisme for r in rows if r.organisme}
        if not wanted:
            return {}
        o = ORGANISMES.c
        ids = {
            key: id_
            for id_, key in self.connection.execute(
                select(o.id, o.key).where(and_(o.source == self.source, o.key.in_(list(wanted))))
            )
        }
        missing = [{"source": self.source, **v} for k, v in wanted.items() if k not in ids]
        if missing:
            inserted = self.connection.execute(
                insert(ORGANISMES).returning(o.id, o.key, sort_by_parameter_order=True), missing
            )
            ids.update({key: id_ for id_, key in inserted})
        return ids

    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def _formation_values(
        self, record: FormationRecord, rows: FormationRows, organismes: dict[str, int]
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
        self, created: list[tuple[FormationRecord, FormationRows]], organismes: dict[str, int]
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
        self._insert_children([(id_, rows) for id_, (_, rows) in zip(ids, created, strict=True)])
        self._log_changes(ids, values, "upsert")
        self.counts.created += len(created)

    def _update_formations(
        self,
        updated: list[tuple[FormationRecord, FormationRows, dict[str, Any]]],
        organismes: dict[str, int],
    ) -> None:
        if not updated:
            return
        ids = [stored["id"] for _, _, stored in updated]
        self._delete_children(ids)
        values = []
        for record, rows, stored in updated:
            row = self._formation_values(record, rows, organismes)
            row.update(b_id=stored["id"], version=stored["version"] + 1)
            values.append(row)
        self.connection.execute(
            update(FORMATIONS).where(FORMATIONS.c.id == bindparam("b_id")),
            [{k: v for k, v in row.items() if k not in ("source", "numero")} for row in values],
        )
        self._insert_children([(stored["id"], rows) for _, rows, stored in updated])
        self._log_changes(ids, values, "upsert")
        self.counts.updated += len(updated)

    def _delete_children(self, formation_ids: Sequence[int]) -> None:
        self.connection.execute(delete(ISSUES).where(ISSUES.c.formation_id.in_(formation_ids)))
        self.connection.execute(delete(SESSIONS).where(SESSIONS.c.formation_id.in_(formation_ids)))
        self.connection.execute(delete(ACTIONS).where(ACTIONS.c.formation_id.in_(formation_ids)))

    def _insert_children(self, formations: list[tuple[int, FormationRows]]) -> None:
        issues = [
            {"formation_id": fid, **issue} for fid, rows in formations for issue in rows.issues
        ]
        if issues:
            self.connection.execute(insert(ISSUES), issues)
        actions = [(fid, action) for fid, rows in formations for action in rows.actions]
        if not actions:
            return
        action_ids = [
            row[0]
            for row in self.connection.execute(
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
            self.connection.execute(insert(SESSIONS), sessions)

    def _log_changes(self, ids: Sequence[int], values: Sequence[dict[str, Any]], op: str) -> None:
        log_changes(
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
        self._delete_children(ids)
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


def formation_rows(element: etree._Element, *, source: str, region: str | None) -> FormationRows:
    """Queryable columns plus the harmonised facts (map stage) of one valid formation.

    A module function so that worker processes map formations exactly as the applier does.
    """
    rows = extract(element)
    facts, issues = harmonise(element, source=source, region=region)
    rows.columns.update(
        harmonised=facts,
        language_kind=language_kind(facts),
        region=facts.get("region") or region,
    )
    rows.issues = [issue_row(source, issue) for issue in issues]
    return rows


def issue_row(source: str, issue: MappingIssue) -> dict[str, Any]:
    """The ``formation_issue`` columns of one mapping issue (without its formation_id)."""
    return {
        "source": source,
        "kind": issue.kind,
        "code": issue.code[:64],
        "value": issue.value,
        "path": issue.path,
        "message": issue.message,
    }
