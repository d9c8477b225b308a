"""Re-apply the mapping tables to the stored offer, after a table changed (``hub remap``).

Each live formation is harmonised again from its stored canonical LHEO 2.3 fragment: the
canonical form the reader made of the archived raw record (same content, same hash), so
no raw flow needs re-reading and a formation is read exactly as ingest read it. Only what
actually changed is written:

- when the harmonised facts, the language kind or the region differ, the formation gets
  them, its next version, the next sequence number and an ``upsert`` in the change log
  (its ``content_hash`` is unchanged: the LHEO is the same, its national reading is not),
  whose ``flow_id`` is the remap's run id (``remap-<UTC time>-<random>``);
- when only the mapping issues differ (a value now cleaned rather than reported, say),
  the issues are replaced and no change is logged: issues are not published.

It runs in two phases so that writers wait as little as possible:

1. **survey**, read only: harmonise every live formation a page at a time, and note the
   ids whose result differs from what is stored;
2. **apply**, one write transaction: lock the change sequence (which waits for a flow
   being applied and holds back the next), then harmonise again, from the current
   fragment, the formations the survey noted plus any a flow changed since the survey
   began, and write what still differs.

One transaction for the whole apply: a crash or an error leaves the store exactly as it
was, never half remapped, and running ``hub remap`` again does the whole job. The write
lock is held for the formations that change, not for the whole offer.

The process that ingests must use the same tables (restart it after editing them, with
``HUB_MAPPINGS_DIR`` when the tables live outside the package), or its next flows undo
the remap for the formations they carry.
"""

from __future__ import annotations

import json
import secrets
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import Connection, Engine

from hub.harmonise import harmonise, language_kind, load_harmoniser
from hub.pipeline.mapstage import issue_row
from hub.store.changes import advance_sequence, current_cursor, lock_sequence
from hub.store.db import write_transaction
from hub.store.harmonised import (
    ISSUE_COLUMNS,
    NewFacts,
    changed_since,
    live_page,
    replace_issues,
    source_regions,
    stored_issues,
    update_facts,
)
from hub.store.tables import FORMATIONS
from mappings import Harmoniser

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


@dataclass(slots=True)
class RemapResult:
    """What a remap changed (or, for a dry run, would change)."""

    run_id: str
    examined: int = 0
    """Live formations harmonised again in the survey."""
    changed: Counter[str] = field(default_factory=Counter)
    """Per source, formations whose harmonised facts changed (one change logged each)."""
    issues_replaced: int = 0
    """Formations whose mapping issues alone changed (no change logged)."""
    first_seq: int | None = None
    last_seq: int | None = None
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class _Outcome:
    reading: NewFacts
    facts_changed: bool
    issues_changed: bool

    @property
    def id(self) -> int:
        return self.reading.formation_id


def remap(
    engine: Engine,
    *,
    tables_dir: Path | None = None,
    harmoniser: Harmoniser | None = None,
    batch_size: int = 500,
    dry_run: bool = False,
) -> RemapResult:
    """Harmonise the live offer again with freshly loaded tables and store what changed.

    The tables are ``harmoniser``'s, else loaded now from ``tables_dir``, else from
    ``$HUB_MAPPINGS_DIR``, else the packaged ones (a broken table raises MappingError
    before anything is read). ``dry_run`` surveys and reports without writing.
    """
    using = harmoniser or load_harmoniser(tables_dir)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    result = RemapResult(f"remap-{stamp}-{secrets.token_hex(4)}", dry_run=dry_run)
    with engine.connect() as connection:
        started_at = current_cursor(connection)
        connection.rollback()
    noted: list[int] = []
    for outcome in _survey(engine, using, batch_size, result):
        if dry_run:
            _count(result, outcome)
        noted.append(outcome.id)
    if dry_run:
        return result
    with write_transaction(engine) as connection:
        _apply(
            connection,
            using,
            noted=noted,
            started_at=started_at,
            batch_size=batch_size,
            result=result,
        )
    return result


def _count(result: RemapResult, outcome: _Outcome) -> None:
    if outcome.facts_changed:
        result.changed[str(outcome.reading.facts.get("source"))] += 1
    elif outcome.issues_changed:
        result.issues_replaced += 1


def _survey(
    engine: Engine, using: Harmoniser, batch_size: int, result: RemapResult
) -> Iterator[_Outcome]:
    """Every live formation whose harmonised result differs, one short read per page."""
    last = 0
    with engine.connect() as connection:
        with connection.begin():
            regions = source_regions(connection)
        while True:
            with connection.begin():
                rows = live_page(connection, FORMATIONS.c.id > last, batch_size)
                outcomes = _reharmonise(connection, rows, using, regions)
            result.examined += len(rows)
            yield from (o for o in outcomes if o.facts_changed or o.issues_changed)
            if len(rows) < batch_size:
                return
            last = rows[-1].id


def _apply(
    connection: Connection,
    using: Harmoniser,
    *,
    noted: Sequence[int],
    started_at: int,
    batch_size: int,
    result: RemapResult,
) -> None:
    """Write, inside the caller's transaction, what still differs among ``noted`` and the
    formations changed after ``started_at``."""
    seq = start = lock_sequence(connection)
    ids = sorted({*noted, *changed_since(connection, started_at)})
    regions = source_regions(connection)
    for offset in range(0, len(ids), batch_size):
        batch = ids[offset : offset + batch_size]
        rows = live_page(connection, FORMATIONS.c.id.in_(batch), batch_size)
        by_id = {row.id: row for row in rows}
        outcomes = _reharmonise(connection, rows, using, regions)
        changed = [o.reading for o in outcomes if o.facts_changed]
        replace_issues(connection, [o.reading for o in outcomes if o.issues_changed])
        seq = update_facts(connection, changed, by_id, seq, result.run_id)
        for outcome in outcomes:
            _count(result, outcome)
    if seq != start:
        advance_sequence(connection, seq)
        result.first_seq, result.last_seq = start + 1, seq


def _reharmonise(
    connection: Connection,
    rows: Sequence[Any],
    using: Harmoniser,
    regions: dict[str, str | None],
) -> list[_Outcome]:
    """The new harmonised result of each row, compared with the stored one."""
    stored = stored_issues(connection, [row.id for row in rows])
    outcomes = []
    for row in rows:
        element = etree.fromstring(row.fragment.encode("utf-8"), _PARSER)
        source_region = regions.get(row.source)
        facts, issues = harmonise(element, source=row.source, region=source_region, using=using)
        facts = json.loads(json.dumps(facts))  # the shape the JSON column gives back
        kind = language_kind(facts)
        region = facts.get("region") or source_region
        new_issues = [issue_row(row.source, issue) for issue in issues]
        issue_values = sorted(tuple(i[name] for name in ISSUE_COLUMNS) for i in new_issues)
        outcomes.append(
            _Outcome(
                NewFacts(row.id, facts, kind, region, new_issues),
                facts_changed=(row.harmonised, row.language_kind, row.region)
                != (facts, kind, region),
                issues_changed=sorted(stored.get(row.id, [])) != issue_values,
            )
        )
    return outcomes
