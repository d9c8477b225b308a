"""Cross-table checks: every code a table points at exists in the table it points into.

Run once by `load_tables`; each failure is a MappingError naming the file and line of
the row to fix, so a typo in a rule or a regional code never reaches a flow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from mappings._csvtable import Row
from mappings._model import CEFR_LEVELS, LANGUAGE_KINDS, LANGUAGE_PATHS

if TYPE_CHECKING:
    from mappings._tables import Tables

_CHANGES = frozenset({"", "nouveau", "sens_modifie"})
_STATUSES = frozenset({"actif", "obsolete", "ancienne_nomenclature"})
_FLAGS = frozenset({"0", "1"})
_CONVENTIONNEMENT_TARGETS = frozenset({"ofii", "autre_public"})


def check_tables(tables: Tables) -> None:
    """Raise MappingError at the first row whose values or targets are wrong."""
    checks: tuple[Callable[[Tables], None], ...] = (
        _check_dictionaries,
        _check_geography,
        _check_certifications,
        _check_source_codes,
        _check_language_rules,
        _check_conventionnement,
    )
    for check in checks:
        check(tables)


def _expect(row: Row, column: str, allowed: Iterable[str], target: str) -> None:
    """Every ``|``-separated value of ``row[column]`` must be in ``allowed``."""
    known = frozenset(allowed)
    for value in row.many(column):
        if value not in known:
            raise row.error(f"{column} {value!r} is not in {target}")


def _vocabulary(tables: Tables, name: str, row: Row) -> frozenset[str]:
    codes = tables.vocabularies.get(name)
    if codes is None:
        raise row.error(f"unknown vocabulary {name!r}")
    return codes


def _check_dictionaries(tables: Tables) -> None:
    for row in tables.dictionaries:
        _expect(row, "changement_2_3", _CHANGES, "{nouveau, sens_modifie} (or empty)")
        _expect(row, "statut", _STATUSES, "{actif, obsolete, ancienne_nomenclature}")
    for row in tables.element_vocabularies:
        _vocabulary(tables, row["vocabulaire"], row)
    niveaux = tables.vocabularies["dict-niveaux"]
    for row in tables.niveaux_2019:
        _expect(row, "code_ancien", niveaux, "dict-niveaux (lheo_dictionaries.csv)")
        _expect(row, "code_2019", niveaux, "dict-niveaux (lheo_dictionaries.csv)")


def _check_geography(tables: Tables) -> None:
    regions = tables.regions.keys()
    for table in (tables.regions_anciennes, tables.departements):
        for row in table:
            _expect(row, "code_region", regions, "regions.csv")


def _check_certifications(tables: Tables) -> None:
    for row in tables.certifications:
        _expect(row, "cefr", CEFR_LEVELS, "the CEFR levels " + ", ".join(CEFR_LEVELS))
        _expect(row, "eligible_cpf", _FLAGS, "{0, 1}")
    labels = tables.certifications.keys()
    for row in tables.certifinfo:
        _expect(row, "label", labels, "certifications.csv")


def _check_source_codes(tables: Tables) -> None:
    for row in tables.source_codes:
        vocabulary = tables.vocabulary_of(row["element"])
        if vocabulary is None:
            raise row.error(f"element {row['element']!r} is not in element_vocabularies.csv")
        _expect(row, "national_code", vocabulary, f"the vocabulary of {row['element']}")


def _check_language_rules(tables: Tables) -> None:
    vocabularies = tables.vocabularies
    for row in tables.language_rules:
        if not row["priority"].isdigit():
            raise row.error(f"priority {row['priority']!r} is not a whole number")
        if bool(row["extra_info"]) != bool(row["extra_value"]):
            raise row.error("extra_info and extra_value go together: fill both or neither")
        _expect(row, "formacodes", vocabularies["formacodes-langue"], "formacodes_langue.csv")
        _expect(row, "certifications", vocabularies["certifications"], "certifications.csv")
        _expect(row, "financeurs", vocabularies["dict-financeurs"], "dict-financeurs")
        _expect(row, "publics", vocabularies["publics-vises"], "publics_vises.csv")
        _expect(row, "objectifs", vocabularies["dict-AIS"], "dict-AIS")
        _expect(row, "cpf_eligible", _FLAGS, "{0, 1} (or empty)")
        _expect(row, "kind", LANGUAGE_KINDS, "the kinds " + ", ".join(sorted(LANGUAGE_KINDS)))
        _expect(row, "path", LANGUAGE_PATHS, "the paths " + ", ".join(sorted(LANGUAGE_PATHS)))
        _expect(row, "target_level", CEFR_LEVELS, "the CEFR levels " + ", ".join(CEFR_LEVELS))


def _check_conventionnement(tables: Tables) -> None:
    for row in tables.conventionnement:
        _expect(row, "conventionnement", _CONVENTIONNEMENT_TARGETS, "{ofii, autre_public}")
        _expect(row, "criterion", ("element", "extra"), "{element, extra}")
        if row["criterion"] == "element":
            vocabulary = tables.vocabulary_of(row["name"])
            if vocabulary is None:
                raise row.error(f"element {row['name']!r} is not in element_vocabularies.csv")
            _expect(row, "value", vocabulary, f"the vocabulary of {row['name']}")
