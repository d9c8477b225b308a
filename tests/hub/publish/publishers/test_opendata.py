"""Open data: a CSV that opens right in a spreadsheet, one row per session, documented."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from lheo_factory import formation
from publishing import Hub, partner
from sqlalchemy import func, select

from hub.pipeline.ingest import ingest
from hub.publish.csv_export import BOM, COLUMNS, date_cell
from hub.store.tables import FORMATIONS, SESSIONS
from simulators.corpus import CorpusSpec, write_corpus

DOC = Path(__file__).resolve().parents[4] / "docs" / "opendata-columns.md"


def read_back(path: Path) -> list[dict[str, str]]:
    data = path.read_bytes()
    assert data.startswith(BOM)
    text = data.decode("utf-8-sig")
    assert "\r\n" in text
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=";")
    assert reader.fieldnames == [column.name for column in COLUMNS]
    return list(reader)


def test_one_row_per_session_in_the_spreadsheet_dialect(hub: Hub, tmp_path: Path) -> None:
    corpus = io.BytesIO()
    write_corpus(corpus, CorpusSpec(formations=12, seed=9, regions=("84",), numero_prefix="ARA"))
    ingest(hub.store, io.BytesIO(corpus.getvalue()), source="ara", region="84", kind="snapshot")
    hub.load(
        [
            formation("Q1", intitule='Français ; "oral" et écrit', sessions=2, debut="20270100"),
            formation("Q2", intitule='=HYPERLINK("http://x")'),
        ]
    )
    config = partner("opendata", "opendata", tmp_path / "od")
    result = hub.run(config)
    assert result.outcome == "acknowledged"
    rows = read_back(tmp_path / "od" / "offre-formation-sessions.csv")

    with hub.store.engine.connect() as connection:
        sessions = connection.execute(
            select(func.count())
            .select_from(SESSIONS.join(FORMATIONS, FORMATIONS.c.id == SESSIONS.c.formation_id))
            .where(FORMATIONS.c.deleted.is_(False))
        ).scalar_one()
    assert len(rows) == sessions
    quoted = [row for row in rows if row["formation_numero"] == "Q1"]
    assert [r["formation_intitule"] for r in quoted] == ['Français ; "oral" et écrit'] * 2
    assert (quoted[0]["session_debut"], quoted[0]["session_debut_precision"]) == (
        "2027-01-01",
        "mois",
    )
    assert (quoted[0]["session_fin"], quoted[0]["session_fin_precision"]) == ("2027-06-30", "jour")
    assert [r["formation_intitule"] for r in rows if r["formation_numero"] == "Q2"] == [
        '\'=HYPERLINK("http://x")'
    ]
    priced = [row["prix_total_ttc"] for row in rows if row["prix_total_ttc"]]
    assert priced and all(re.fullmatch(r"\d+,\d\d", price) for price in priced)
    placed = [row["latitude"] for row in rows if row["latitude"]]
    assert placed and all(re.fullmatch(r"-?\d+,\d{6}", value) for value in placed)
    for row in rows:
        for column in ("session_debut", "session_fin", "formation_datemaj"):
            assert row[column] == "" or re.fullmatch(r"\d{4}-\d\d-\d\d", row[column]), row
        assert row["certifiante"] in ("oui", "non", "")

    assert hub.run(config).outcome == "up-to-date"


def test_unknown_days_and_months_become_the_bounds_of_the_period() -> None:
    assert date_cell("2027-02", end=True) == ("2027-02-28", "mois")
    assert date_cell("2028-02", end=True) == ("2028-02-29", "mois")
    assert date_cell("2027-02", end=False) == ("2027-02-01", "mois")
    assert date_cell("2027", end=True) == ("2027-12-31", "annee")
    assert date_cell("2027-09-02", end=True) == ("2027-09-02", "jour")
    assert date_cell("2027-13", end=False) == ("", "")
    assert date_cell(None, end=False) == ("", "")


def test_every_column_is_documented_in_order() -> None:
    documented = re.findall(r"^\| \d+ \| `([a-z_]+)` \|", DOC.read_text(encoding="utf-8"), re.M)
    assert documented == [column.name for column in COLUMNS]
