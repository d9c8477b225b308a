"""``hub remap``: after a table changes, only formations whose harmonised result changed get
a new change-log entry, in one transaction, and end up as a fresh ingest would make them."""

from __future__ import annotations

import io
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from language_offers import Action, Offer, offers_document
from lxml import etree
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from hub.cli import app
from hub.errors import MappingError
from hub.pipeline.ingest import ingest
from hub.pipeline.remap import RemapResult, _apply, remap
from hub.publish.feed import current_cursor
from hub.store import Store
from hub.store.db import write_transaction
from hub.store.tables import CHANGES, FORMATIONS, ISSUES
from mappings import TABLES_DIRECTORY, Harmoniser, load_tables

CORPUS = (
    Offer("R1", (Action("69", ("5",), 2),), certifinfo=("76101",)),  # Entreprise-funded
    Offer("R2", (Action("75", ("2",), 1),)),
    Offer("R3", (Action("2A", ("5", "20"), 1),)),  # OFII wins whatever 5 becomes
    Offer("R4", (Action("13", ("2",), 1),), formacode="31812", intitule="Cariste"),
    Offer("R5", (Action("67", ("4",), 1),)),
)
AFFECTED = {"R1", "R4"}
"""R1: financeur 5 becomes public funding; R4: its title becomes a placeholder."""


def edited_tables(tmp_path: Path) -> Path:
    """The packaged tables with two one-line edits, as an expert would make them."""
    directory = tmp_path / "tables"
    shutil.copytree(TABLES_DIRECTORY, directory)
    with (directory / "conventionnement.csv").open("a", encoding="utf-8") as table:
        table.write("entreprise,element,code-financeur,5,autre_public,employer funding\n")
    with (directory / "placeholders.csv").open("a", encoding="utf-8") as table:
        table.write("Cariste,a title some export writes when it has none\n")
    return directory


def formations(engine: Engine) -> dict[str, dict[str, Any]]:
    f = FORMATIONS.c
    with engine.connect() as connection:
        rows = connection.execute(
            select(f.id, f.numero, f.seq, f.version, f.content_hash, f.harmonised, f.region)
        ).mappings()
        return {row["numero"]: dict(row) for row in rows}


def issues(engine: Engine) -> dict[str, Counter[tuple[str, ...]]]:
    """Each formation's issues, as (kind, code, value, path) with their multiplicity."""
    i, f = ISSUES.c, FORMATIONS.c
    found: dict[str, Counter[tuple[str, ...]]] = {}
    with engine.connect() as connection:
        query = select(f.numero, i.kind, i.code, i.value, i.path).join(
            FORMATIONS, f.id == i.formation_id
        )
        for numero, *values in connection.execute(query):
            found.setdefault(numero, Counter())[tuple(values)] += 1
    return found


def changes_after(engine: Engine, seq: int) -> list[dict[str, Any]]:
    c = CHANGES.c
    with engine.connect() as connection:
        rows = connection.execute(select(CHANGES).where(c.seq > seq).order_by(c.seq))
        return [dict(row) for row in rows.mappings()]


@pytest.fixture
def loaded(store: Store) -> Store:
    ingest(store, io.BytesIO(offers_document(CORPUS)), source="national", kind="snapshot")
    return store


def test_only_formations_whose_result_changed_get_a_change(loaded: Store, tmp_path: Path) -> None:
    engine = loaded.engine
    before = formations(engine)
    with engine.connect() as connection:
        cursor = current_cursor(connection)

    result = remap(engine, tables_dir=edited_tables(tmp_path))

    assert result.examined == len(CORPUS)
    assert result.changed == {"national": len(AFFECTED)}
    changes = changes_after(engine, cursor)
    assert {change["numero"] for change in changes} == AFFECTED
    after = formations(engine)
    for change in changes:
        numero = change["numero"]
        assert change["op"] == "upsert" and change["flow_id"] == result.run_id
        assert change["content_hash"] == before[numero]["content_hash"]  # same LHEO
        assert after[numero]["seq"] == change["seq"]
        assert after[numero]["version"] == before[numero]["version"] + 1
    assert [c["seq"] for c in changes] == [cursor + 1, cursor + 2]
    assert (result.first_seq, result.last_seq) == (cursor + 1, cursor + 2)
    with engine.connect() as connection:
        assert current_cursor(connection) == cursor + 2
    for numero in {offer.numero for offer in CORPUS} - AFFECTED:
        assert after[numero] == before[numero]
    r1 = after["R1"]["harmonised"]["actions"][0]
    assert (r1["conventionnement"], r1["conventionnement_rule_id"]) == (
        "autre_public",
        "entreprise",
    )
    assert after["R4"]["harmonised"]["intitule"] is None
    assert ("cleaned", "placeholder", "Cariste", "formation[R4]/intitule-formation") in issues(
        engine
    )["R4"]

    again = remap(engine, tables_dir=edited_tables(tmp_path / "again"))
    assert (sum(again.changed.values()), again.issues_replaced) == (0, 0)
    assert len(changes_after(engine, cursor)) == len(AFFECTED)


def test_remapped_records_equal_a_fresh_ingest_with_the_new_tables(
    loaded: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tables = edited_tables(tmp_path)
    remap(loaded.engine, tables_dir=tables)
    monkeypatch.setenv("HUB_MAPPINGS_DIR", str(tables))
    fresh = Store.at(f"sqlite:///{tmp_path / 'fresh.db'}", tmp_path / "fresh-archive")
    try:
        ingest(fresh, io.BytesIO(offers_document(CORPUS)), source="national", kind="snapshot")
        remapped, ingested = formations(loaded.engine), formations(fresh.engine)
        for numero in remapped:
            assert remapped[numero]["harmonised"] == ingested[numero]["harmonised"], numero
            assert remapped[numero]["region"] == ingested[numero]["region"]
        assert issues(loaded.engine) == issues(fresh.engine)
    finally:
        fresh.engine.dispose()


def test_a_dry_run_says_what_would_change_and_writes_nothing(loaded: Store, tmp_path: Path) -> None:
    before = formations(loaded.engine)
    result = remap(loaded.engine, tables_dir=edited_tables(tmp_path), dry_run=True)
    assert result.dry_run and result.changed == {"national": len(AFFECTED)}
    assert formations(loaded.engine) == before
    assert len(changes_after(loaded.engine, 0)) == len(CORPUS)


class FailsOnSecondReading(Harmoniser):
    """The real harmoniser, failing the second time it reads one formation (in the apply)."""

    def __init__(self, directory: Path, numero: str) -> None:
        super().__init__(load_tables(directory))
        self.numero = numero
        self.readings: Counter[str | None] = Counter()

    def harmonise(self, formation: etree._Element, *, source: str, region: str | None) -> Any:
        self.readings[formation.get("numero")] += 1
        if formation.get("numero") == self.numero and self.readings[self.numero] == 2:
            raise MappingError("failing on purpose half-way through the apply")
        return super().harmonise(formation, source=source, region=region)


def test_a_failure_half_way_leaves_the_store_as_it_was(loaded: Store, tmp_path: Path) -> None:
    before = formations(loaded.engine)
    failing = FailsOnSecondReading(edited_tables(tmp_path), "R4")
    with pytest.raises(MappingError, match="half-way"):
        remap(loaded.engine, harmoniser=failing, batch_size=1)  # R1 was already written
    assert failing.readings["R1"] == 2
    assert formations(loaded.engine) == before
    assert len(changes_after(loaded.engine, 0)) == len(CORPUS)


def test_a_formation_a_flow_changed_after_the_survey_is_remapped_too(
    loaded: Store, tmp_path: Path
) -> None:
    """The apply phase re-reads what changed after the survey's cursor, as a flow applied
    meanwhile by a process still running the old tables would have left it."""
    engine = loaded.engine
    with engine.connect() as connection:
        surveyed_at = current_cursor(connection)
    late = Offer("R6", (Action("69", ("5",), 1),))
    ingest(loaded, io.BytesIO(offers_document([late])), source="national")
    using = Harmoniser(load_tables(edited_tables(tmp_path)))
    result = RemapResult("remap-test")
    with write_transaction(engine) as connection:
        _apply(connection, using, noted=[], started_at=surveyed_at, batch_size=10, result=result)
    assert result.changed == {"national": 1}
    assert [change["numero"] for change in changes_after(engine, surveyed_at + 1)] == ["R6"]


def test_hub_remap_reports_and_refuses_a_broken_table(
    loaded: Store, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_DATABASE_URL", database_url)
    monkeypatch.setenv("HUB_ARCHIVE_DIR", str(tmp_path / "archive"))
    tables = edited_tables(tmp_path)
    runner = CliRunner()
    dry = runner.invoke(app, ["remap", "--tables", str(tables), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "5 formations examined, 2 would change (national 2)" in dry.stdout
    done = runner.invoke(app, ["remap", "--tables", str(tables)])
    assert "2 changed (national 2)" in done.stdout
    with (tables / "conventionnement.csv").open("a", encoding="utf-8") as table:
        table.write("entreprise,element,code-financeur,5,autre_public,duplicate rule id\n")
    broken = runner.invoke(app, ["remap", "--tables", str(tables)])
    assert broken.exit_code == 1
    assert "conventionnement.csv, line 22" in broken.output
