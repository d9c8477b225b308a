"""`explain` names the rows, files and lines that decide a code for a source."""

from __future__ import annotations

from mappings import TABLES_DIRECTORY, Harmoniser


def _line_of(file: str, start: str) -> int:
    lines = (TABLES_DIRECTORY / file).read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if line.startswith(start))


def test_a_local_code_is_explained_by_its_row_and_the_rules_it_feeds(
    harmoniser: Harmoniser,
) -> None:
    explanations = harmoniser.explain(source="via-competences-auvergne", code="CR")
    first = explanations[0]
    assert (first.table, first.line) == (
        "source_codes.csv",
        _line_of("source_codes.csv", "via-competences-auvergne,code-financeur,CR,"),
    )
    assert first.row["national_code"] == "2"
    tables = {(e.table, e.row.get("rule_id")) for e in explanations}
    assert ("conventionnement.csv", "region") in tables
    assert ("language_rules.csv", "fle-financeur-emploi") in tables


def test_a_national_code_shows_its_meaning_change_since_2_2(harmoniser: Harmoniser) -> None:
    explanations = harmoniser.explain(source="grand-est", code="16")
    financeur = next(e for e in explanations if e.row.get("dictionnaire") == "dict-financeurs")
    assert "OPCO" in financeur.reason and "OPCA" in financeur.reason
    assert financeur.line == _line_of("lheo_dictionaries.csv", "dict-financeurs,16,")


def test_a_source_code_shadows_the_national_one(harmoniser: Harmoniser) -> None:
    explanations = harmoniser.explain(source="via-competences-auvergne", code="V")
    assert explanations[0].row["national_code"] == "4"
    assert any(e.table == "niveaux_2019.csv" and e.row["code_2019"] == "13" for e in explanations)


def test_region_and_certification_codes(harmoniser: Harmoniser) -> None:
    region = harmoniser.explain(source="x", code="83")
    assert any(e.table == "regions_anciennes.csv" and "84" in e.reason for e in region)
    delf = harmoniser.explain(source="x", code="76101")
    assert delf[0].table == "certifinfo.csv" and delf[0].row["label"] == "DELF A2"
    assert any(e.row.get("rule_id") == "fle-cpf" for e in delf)


def test_an_unknown_code_has_no_explanation(harmoniser: Harmoniser) -> None:
    assert harmoniser.explain(source="x", code="ZZZ") == []
