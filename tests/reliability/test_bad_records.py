"""Bad records inside a readable push are rejected one by one; strange valid ones are kept.

XSD-invalid formations, duplicate, over-long or missing numeros, deletes of unknown
records and broken spreadsheet cells are each rejected with their line and path while the
rest of the flow goes in; a spreadsheet that cannot be read at all is a problem; dates the
schema allows though they name no day (``20170900``) or nothing (``00000000``) are stored
as unknown, and every reader of the offer copes with them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lheo_factory import document, formation
from sqlalchemy import select

from hub.api.push import XLSX
from hub.store.models import Formation, FormationIssue, Session
from simulators.spreadsheet import example_rows, write_csv, write_xlsx
from tests.reliability.offer import live_state, store_digest
from tests.reliability.pushing import SOURCE, Pusher, assert_problem, pushing_hub
from tests.reliability.report import Tally


@pytest.fixture(scope="module")
def pusher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pusher]:
    with pushing_hub(tmp_path_factory.mktemp("pushes")) as pushing:
        yield pushing


def test_bad_records_are_rejected_alone_with_line_and_path(pusher: Pusher, figures: Tally) -> None:
    """XSD-invalid formations, duplicates, unknown deletes, over-long and missing numeros."""
    body = document(
        [
            formation("MIX-OK-1"),
            formation("MIX-BAD-FINANCEUR", financeur="99"),
            formation("MIX-OK-2"),
            formation("MIX-OK-1", intitule="Le même numero, une seconde fois"),
            formation("MIX-BAD-DATE", debut="2027-01-05"),
            formation("N" * 200),
            formation("MIX-OK-3").replace(' numero="MIX-OK-3"', "", 1),
        ],
        deletions=["JAMAIS-VU-1", "JAMAIS-VU-2"],
    )
    before = live_state(pusher.hub.store.engine)
    response = pusher.push(body)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["counts"]["created"] == 2
    by_reason = {(r["numero"] or "", r["stage"]): r for r in report["rejections"]}
    financeur = by_reason[("MIX-BAD-FINANCEUR", "validate")]
    assert "code-financeur" in financeur["path"] and financeur["line"] == 4
    assert "debut" in by_reason[("MIX-BAD-DATE", "validate")]["path"]
    assert "duplicate numero" in by_reason[("MIX-OK-1", "identity")]["reason"]
    assert by_reason[("MIX-OK-1", "identity")]["line"] == 6
    assert any(numero.startswith("NNNN") for numero, _ in by_reason)
    assert any(numero == "" for numero, _ in by_reason), "the formation without numero"
    assert {("JAMAIS-VU-1", "delete"), ("JAMAIS-VU-2", "delete")} <= set(by_reason)
    after = live_state(pusher.hub.store.engine)
    assert set(after) - set(before) == {(SOURCE, "MIX-OK-1"), (SOURCE, "MIX-OK-2")}
    assert all(after[key] == value for key, value in before.items()), "nothing else changed"
    labels = ("XSD-invalid code", "XSD-invalid date", "duplicate numero", "numero too long",
              "formation without numero", "delete of an unknown record")  # fmt: skip
    for label in labels:
        figures.count("bad_inputs", f"bad records: {label}")
    figures.count("bad_inputs", "bad records: delete of an unknown record")


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_spreadsheet_with_broken_cells_loses_only_those_rows(
    pusher: Pusher, figures: Tally, kind: str
) -> None:
    seed = 1 if kind == "csv" else 2
    rows = list(
        {r["numero_formation"]: r for r in example_rows("04", formations=5, seed=seed)}.values()
    )
    broken = {
        1: {"date_debut": "31/02/2027"},
        2: {"lieu_code_postal": "97A12"},
        3: {"prix_total_ttc": "gratuit?"},
    }
    for index, cells in broken.items():
        rows[index] = rows[index] | cells
    if kind == "csv":
        response = pusher.push(write_csv(rows), "text/csv; charset=utf-8")
    else:
        response = pusher.push(write_xlsx(rows), XLSX)
    assert response.status_code == 200, response.text
    report = response.json()
    rejected = {r["numero"]: r for r in report["rejections"] if r["stage"] == "convert"}
    for index, cells in broken.items():
        numero = rows[index]["numero_formation"]
        [column] = cells
        assert numero in rejected, (numero, report["rejections"])
        assert f"({column})" in rejected[numero]["path"] and rejected[numero]["line"] == index + 2
    stored = {n for s, n in live_state(pusher.hub.store.engine) if s == SOURCE}
    kept = {rows[i]["numero_formation"] for i in range(len(rows)) if i not in broken}
    assert kept <= stored and not {rows[i]["numero_formation"] for i in broken} & stored
    for cells in broken.values():
        figures.count("bad_inputs", f"spreadsheets: {kind} cell {next(iter(cells))}")


UNREADABLE_SPREADSHEETS: dict[str, tuple[bytes, str, str]] = {
    "spreadsheets: missing columns": (
        b"numero_formation;intitule\r\nF1;Cuisine\r\n", "text/csv", "date_debut"),
    "spreadsheets: not in UTF-8": ("é;à".encode("cp1252") + b"\r\n", "text/csv", "UTF-8"),
    "spreadsheets: XLSX that is no workbook": (b"PK\x03\x04 no workbook here", XLSX, "XLSX"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(UNREADABLE_SPREADSHEETS))
def test_an_unreadable_spreadsheet_is_a_problem(pusher: Pusher, figures: Tally, case: str) -> None:
    body, content_type, mention = UNREADABLE_SPREADSHEETS[case]
    before = store_digest(pusher.hub.store.engine)
    problem = assert_problem(pusher.push(body, content_type), (400, 422))
    assert mention in str(problem["detail"])
    assert store_digest(pusher.hub.store.engine) == before
    figures.count("bad_inputs", case)
    pusher.push_good()


def test_strange_but_valid_dates_are_stored_as_unknown(pusher: Pusher) -> None:
    """``20170900`` is a month with an unknown day, ``00000000`` an unknown date: accepted."""
    odd = formation("ODD-DATES", datemaj="00000000", debut="20170900")
    response = pusher.push(document([odd]))
    assert response.status_code == 200, response.text
    assert response.json()["counts"]["created"] == 1 and response.json()["rejections"] == []
    f = Formation.__table__.c  # type: ignore[attr-defined]
    s = Session.__table__.c  # type: ignore[attr-defined]
    issues = FormationIssue.__table__.c  # type: ignore[attr-defined]
    with pusher.hub.store.engine.connect() as connection:
        stored = connection.execute(
            select(f.id, f.datemaj, f.harmonised).where(f.numero == "ODD-DATES")
        ).one()
        debut = connection.execute(select(s.debut).where(s.formation_id == stored.id)).scalar()
        codes = set(
            connection.execute(
                select(issues.code).where(issues.formation_id == stored.id)
            ).scalars()
        )
    assert (stored.datemaj, debut) == ("00000000", "20170900")
    assert {"date-inconnue", "date-jour-inconnu"} <= codes, codes
    assert "2017-09" in str(stored.harmonised)
    # Every reader of the offer copes with them: the feeds, the figures, the dashboard.
    for path in ("/v1/feed/lheo", "/v1/feed/changes", "/v1/feed/geojson", "/v1/stats", "/"):
        assert pusher.http.get(path).status_code == 200, path
    assert b"<debut>20170900</debut>" in pusher.http.get("/v1/feed/lheo").content
    newer = formation("ODD-DATES", datemaj="20260301", intitule="Mise à jour après date inconnue")
    assert pusher.push(document([newer])).json()["counts"]["updated"] == 1


def test_a_formation_nested_in_another_is_rejected_alone(pusher: Pusher) -> None:
    """Well-formed but XSD-invalid: only the formation holding the other one is rejected."""
    outer = formation("NEST-OUTER").replace(
        "<certifiante>0</certifiante>",
        '<certifiante>0</certifiante><formation numero="NEST-INNER"><certifiante>1'
        "</certifiante></formation>",
    )
    response = pusher.push(document([formation("NEST-A"), outer, formation("NEST-B")]))
    assert response.status_code == 200, response.text
    rejected = {r["numero"] for r in response.json()["rejections"]}
    assert "NEST-OUTER" in rejected
    stored = {n for s, n in live_state(pusher.hub.store.engine) if s == SOURCE}
    assert {"NEST-A", "NEST-B"} <= stored and not {"NEST-OUTER", "NEST-INNER"} & stored
