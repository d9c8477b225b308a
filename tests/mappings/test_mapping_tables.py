"""The code tables load, are documented, and a broken table is refused at its line."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from hub.errors import MappingError
from mappings import TABLES_DIRECTORY, Tables, load_tables

TableCopy = Callable[[str, Callable[[str], str]], Path]


def test_packaged_tables_load_with_their_facts(tables: Tables) -> None:
    assert tables.directory == TABLES_DIRECTORY
    assert tables.dictionaries.get("dict-financeurs", "20") is not None
    assert tables.dictionaries.get("dict-financeurs", "16")["libelle_2_2"] == "OPCA"  # type: ignore[index]
    assert tables.regions_anciennes.get("83")["code_region"] == "84"  # type: ignore[index]
    assert tables.departements.get("976")["code_region"] == "06"  # type: ignore[index]
    assert tables.certifinfo.get("76101")["label"] == "DELF A2"  # type: ignore[index]
    assert {"DELF A2", "DELF", "CLEA"} <= tables.vocabularies["certifications"]


def test_every_pre_2016_region_code_of_the_reform_is_mapped(tables: Tables) -> None:
    merged = {
        "82": "84", "83": "84", "21": "44", "41": "44", "42": "44", "26": "27", "43": "27",
        "23": "28", "25": "28", "22": "32", "31": "32", "72": "75", "54": "75", "74": "75",
        "73": "76", "91": "76",
    }  # fmt: skip
    for old, new in merged.items():
        assert tables.regions_anciennes.get(old)["code_region"] == new  # type: ignore[index]


def test_every_table_is_documented_in_the_readme(tables: Tables) -> None:
    readme = (TABLES_DIRECTORY / "README.md").read_text(encoding="utf-8")
    for table in tables.all():
        assert f"`{table.spec.file}`" in readme
        for column in table.spec.columns:
            assert column in readme, (table.spec.file, column)


def test_readme_row_counts_are_current(tables: Tables) -> None:
    readme = (TABLES_DIRECTORY / "README.md").read_text(encoding="utf-8")
    for table in tables.all():
        line = next(line for line in readme.splitlines() if f"| `{table.spec.file}`" in line)
        counts = re.findall(r"\((\d+) (?:rows|rules)", line)
        assert counts and int(counts[0]) == len(table), table.spec.file


def _append(line: str) -> Callable[[str], str]:
    return lambda text: text + line + "\n"


def _last_line(file: str) -> int:
    """The line number a row appended to the packaged ``file`` gets."""
    return len((TABLES_DIRECTORY / file).read_text(encoding="utf-8").splitlines()) + 1


BROKEN = [
    pytest.param(
        "source_codes.csv",
        _append("grand-est,code-financeur,REGION,2,duplicate of an existing key"),
        _last_line("source_codes.csv"),
        "duplicate",
        id="duplicate-key",
    ),
    pytest.param(
        "certifications.csv",
        lambda text: text.replace(",cefr,", ",niveau,", 1),
        1,
        "missing column(s) cefr",
        id="missing-column",
    ),
    pytest.param(
        "source_codes.csv",
        _append("grand-est,code-financeur,XX,99,no such financeur"),
        _last_line("source_codes.csv"),
        "'99'",
        id="unknown-national-code",
    ),
    pytest.param(
        "source_codes.csv",
        _append("grand-est,code-inexistant,XX,2,no such element"),
        _last_line("source_codes.csv"),
        "code-inexistant",
        id="unknown-element",
    ),
    pytest.param(
        "language_rules.csv",
        _append("delf-z9,99,,DELF Z9,,,,,,,,fle,integration,,unknown certification"),
        _last_line("language_rules.csv"),
        "DELF Z9",
        id="rule-unknown-certification",
    ),
    pytest.param(
        "language_rules.csv",
        _append("bad-kind,99,15235,,,,,,,,,cuisine,integration,,unknown kind"),
        _last_line("language_rules.csv"),
        "cuisine",
        id="rule-unknown-kind",
    ),
    pytest.param(
        "language_rules.csv",
        _append("same-priority,10,15235,,,,,,,,,fle,integration,,priority taken"),
        _last_line("language_rules.csv"),
        "duplicate priority",
        id="rule-duplicate-priority",
    ),
    pytest.param(
        "conventionnement.csv",
        _append("bad,element,code-financeur,42,autre_public,no such financeur"),
        _last_line("conventionnement.csv"),
        "'42'",
        id="conventionnement-unknown-financeur",
    ),
    pytest.param(
        "certifinfo.csv",
        _append("99999,DELF Z9,unknown label"),
        _last_line("certifinfo.csv"),
        "DELF Z9",
        id="certifinfo-unknown-label",
    ),
    pytest.param(
        "regions_anciennes.csv",
        _append("99,Atlantide,99,no such region"),
        _last_line("regions_anciennes.csv"),
        "'99'",
        id="old-region-unknown-target",
    ),
    pytest.param(
        "niveaux_2019.csv",
        _append("9,19,no such level"),
        _last_line("niveaux_2019.csv"),
        "'9'",
        id="level-unknown",
    ),
    pytest.param(
        "source_codes.csv",
        _append(",code-financeur,XX,2,no source"),
        _last_line("source_codes.csv"),
        "'source' is empty",
        id="empty-key",
    ),
    pytest.param(
        "placeholders.csv",
        _append("-,too,many,fields"),
        _last_line("placeholders.csv"),
        "fields",
        id="wrong-field-count",
    ),
]


@pytest.mark.parametrize(("file", "edit", "line", "reason"), BROKEN)
def test_a_broken_table_is_refused_naming_file_and_line(
    table_copy: TableCopy, file: str, edit: Callable[[str], str], line: int, reason: str
) -> None:
    directory = table_copy(file, edit)
    with pytest.raises(MappingError) as raised:
        load_tables(directory)
    message = str(raised.value)
    assert message.startswith(f"{file}, line {line}:"), message
    assert reason in message


def test_a_missing_table_is_refused(table_copy: TableCopy) -> None:
    directory = table_copy("placeholders.csv", lambda text: text)
    (directory / "placeholders.csv").unlink()
    with pytest.raises(MappingError, match=r"placeholders\.csv: missing"):
        load_tables(directory)


def test_an_edited_copy_of_the_tables_loads(table_copy: TableCopy) -> None:
    directory = table_copy(
        "source_codes.csv", _append("grand-est,code-financeur,CT-ALSACE,8,Collectivité d'Alsace")
    )
    tables = load_tables(directory)
    assert tables.source_codes.get("grand-est", "code-financeur", "CT-ALSACE") is not None
