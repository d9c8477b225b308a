"""``hub mapping report`` counts the live offer's mapping issues; ``hub mapping explain``
names the table rows behind a code, or says that none maps it."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from lheo_factory import document, formation
from typer.testing import CliRunner

from hub.cli import app
from hub.pipeline.ingest import ingest
from hub.store import Store
from mappings import TABLES_DIRECTORY

runner = CliRunner()
SIRET = "12345678900017"  # the factory's SIRET: its Luhn key is wrong
PUBLIC = "80056"  # the factory's public visé: not a FORMACODE V14 public code


@pytest.fixture
def env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_DATABASE_URL", database_url)
    monkeypatch.setenv("HUB_ARCHIVE_DIR", str(tmp_path / "archive"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def loaded(store: Store) -> Store:
    idf = [
        formation("F1", datemaj="00000000", debut="20270100"),
        formation("F2", intitule="Non renseigné"),
        formation("F3"),
        formation("F4", intitule="-"),
    ]
    ingest(store, io.BytesIO(document(idf)), source="idf", region="11")
    ingest(store, io.BytesIO(document([formation("G1")])), source="grand-est", region="44")
    ingest(store, io.BytesIO(document([], deletions=["F4"])), source="idf", region="11")
    return store


def report(*args: str) -> list[dict[str, object]]:
    result = runner.invoke(app, ["mapping", "report", "--format", "json", *args])
    assert result.exit_code == 0, result.output
    rows: list[dict[str, object]] = json.loads(result.stdout)
    return rows


def test_the_report_counts_each_value_per_source_and_code(loaded: Store, env: None) -> None:
    idf = {(r["kind"], r["code"], r["value"]): (r["count"], r["formations"]) for r in report()
           if r["source"] == "idf"}  # fmt: skip
    assert idf == {
        ("unmapped", "code-inconnu", PUBLIC): (3, 3),
        ("suspicious", "siret-cle", SIRET): (3, 3),
        ("cleaned", "date-inconnue", "00000000"): (1, 1),
        ("cleaned", "date-jour-inconnu", "20270100"): (1, 1),
        ("cleaned", "placeholder", "Non renseigné"): (1, 1),
    }  # F4 and its "-" placeholder were deleted: the report describes the live offer


def test_the_report_of_one_source(loaded: Store, env: None) -> None:
    assert report("--source", "grand-est") == [
        {"source": "grand-est", "kind": "suspicious", "code": "siret-cle", "value": SIRET,
         "count": 1, "formations": 1},
        {"source": "grand-est", "kind": "unmapped", "code": "code-inconnu", "value": PUBLIC,
         "count": 1, "formations": 1},
    ]  # fmt: skip
    table = runner.invoke(app, ["mapping", "report", "--source", "grand-est"])
    assert "code-inconnu" in table.stdout and "idf" not in table.stdout
    csv_rows = runner.invoke(app, ["mapping", "report", "--format", "csv"]).stdout.splitlines()
    assert csv_rows[0] == "source;kind;code;value;count;formations"
    assert f"idf;unmapped;code-inconnu;{PUBLIC};3;3" in csv_rows


def test_an_empty_report_says_so(store: Store, env: None) -> None:
    result = runner.invoke(app, ["mapping", "report", "--source", "idf"])
    assert result.exit_code == 0
    assert result.stdout.strip() == "no mapping issue in the live offer of idf"


def test_explain_names_the_file_line_and_reason_of_each_row() -> None:
    result = runner.invoke(
        app, ["mapping", "explain", "--source", "via-competences-auvergne", "--code", "CR"]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "source_codes.csv:2: via-competences-auvergne sends 'CR' in <code-financeur> "
        "for dict-financeurs 2"
    )
    assert "local_code=CR, national_code=2" in lines[1]
    assert any(line.startswith("conventionnement.csv:") for line in lines)


def test_explain_exits_1_when_no_row_maps_the_code() -> None:
    result = runner.invoke(app, ["mapping", "explain", "--source", "idf", "--code", "ZZ9"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "no row maps ZZ9 for idf"


def test_explain_reads_the_tables_it_is_given(tmp_path: Path) -> None:
    tables = tmp_path / "tables"
    shutil.copytree(TABLES_DIRECTORY, tables)
    with (tables / "source_codes.csv").open("a", encoding="utf-8") as table:
        table.write("idf,code-financeur,RIDF,2,Région Île-de-France in the idf export\n")
    args = ["mapping", "explain", "--source", "idf", "--code", "RIDF"]
    assert runner.invoke(app, args).exit_code == 1
    found = runner.invoke(app, [*args, "--tables", str(tables)])
    assert found.exit_code == 0
    line = len((tables / "source_codes.csv").read_text(encoding="utf-8").splitlines())
    assert found.stdout.startswith(f"source_codes.csv:{line}: idf sends 'RIDF'")
    with (tables / "source_codes.csv").open("a", encoding="utf-8") as table:
        table.write("idf,code-financeur,RIDF2,99,no such financeur\n")
    broken = runner.invoke(app, [*args, "--tables", str(tables)])  # read again, not cached
    assert broken.exit_code == 1
    assert f"source_codes.csv, line {line + 1}" in broken.output
