"""The code tables under ``mappings/tables/``: what each must contain, and loading them.

Tables are data, not code: an expert adds a regional code or changes the definition of
"formation linguistique" by editing one CSV line. Loading checks every table (columns,
duplicate keys, every target present in its target table) so a bad edit fails at
start-up with the file and line, never later in the middle of a flow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mappings._checks import check_tables
from mappings._csvtable import Table, TableSpec, read_table

TABLES_DIRECTORY = Path(__file__).resolve().parent / "tables"

DICTIONARIES = TableSpec(
    "lheo_dictionaries.csv",
    ("dictionnaire", "code", "libelle", "libelle_2_2", "changement_2_3", "statut"),
    key=("dictionnaire", "code"),
    required=("libelle", "statut"),
)
ELEMENT_VOCABULARIES = TableSpec(
    "element_vocabularies.csv", ("element", "vocabulaire", "note"), ("element",), ("vocabulaire",)
)
NIVEAUX_2019 = TableSpec(
    "niveaux_2019.csv", ("code_ancien", "code_2019", "note"), ("code_ancien",), ("code_2019",)
)
REGIONS = TableSpec("regions.csv", ("code", "nom", "zone"), ("code",), ("nom",))
REGIONS_ANCIENNES = TableSpec(
    "regions_anciennes.csv",
    ("code_ancien", "nom_ancien", "code_region", "note"),
    key=("code_ancien",),
    required=("code_region",),
)
DEPARTEMENTS = TableSpec(
    "departements.csv", ("code", "nom", "code_region", "zone"), ("code",), ("code_region",)
)
PUBLICS_VISES = TableSpec("publics_vises.csv", ("code_formacode", "libelle"), ("code_formacode",))
FORMACODES_LANGUE = TableSpec(
    "formacodes_langue.csv", ("code_formacode", "libelle"), ("code_formacode",)
)
CERTIFICATIONS = TableSpec(
    "certifications.csv",
    ("label", "famille", "rs", "cefr", "eligible_cpf", "note"),
    key=("label",),
    required=("famille", "eligible_cpf"),
)
CERTIFINFO = TableSpec(
    "certifinfo.csv",
    ("code_certifinfo", "label", "libelle_certifinfo"),
    key=("code_certifinfo",),
    required=("label",),
)
SOURCE_CODES = TableSpec(
    "source_codes.csv",
    ("source", "element", "local_code", "national_code", "note"),
    key=("source", "element", "local_code"),
    required=("national_code",),
)
LANGUAGE_RULES = TableSpec(
    "language_rules.csv",
    (
        "rule_id",
        "priority",
        "formacodes",
        "certifications",
        "extra_info",
        "extra_value",
        "title_keywords",
        "financeurs",
        "publics",
        "objectifs",
        "cpf_eligible",
        "kind",
        "path",
        "target_level",
        "note",
    ),
    key=("rule_id",),
    required=("priority", "kind", "path"),
    unique=(("priority",),),
)
CONVENTIONNEMENT = TableSpec(
    "conventionnement.csv",
    ("rule_id", "criterion", "name", "value", "conventionnement", "note"),
    key=("rule_id",),
    required=("criterion", "name", "value", "conventionnement"),
)
PLACEHOLDERS = TableSpec("placeholders.csv", ("valeur", "note"), ("valeur",))


@dataclass(frozen=True, slots=True)
class Tables:
    """Every code table, loaded and checked, plus the vocabularies they define."""

    directory: Path
    dictionaries: Table
    element_vocabularies: Table
    niveaux_2019: Table
    regions: Table
    regions_anciennes: Table
    departements: Table
    publics_vises: Table
    formacodes_langue: Table
    certifications: Table
    certifinfo: Table
    source_codes: Table
    language_rules: Table
    conventionnement: Table
    placeholders: Table
    vocabularies: Mapping[str, frozenset[str]]
    """Vocabulary name (``dict-financeurs``, ``regions``...) to the codes it defines."""

    def all(self) -> tuple[Table, ...]:
        """Every table, in the order they are documented."""
        return tuple(getattr(self, name) for name in _TABLE_FIELDS)

    def vocabulary_of(self, element: str) -> frozenset[str] | None:
        """The national codes ``element`` may take, None when it is not a coded element."""
        row = self.element_vocabularies.get(element)
        return None if row is None else self.vocabularies.get(row["vocabulaire"])


_TABLE_FIELDS: dict[str, TableSpec] = {
    "dictionaries": DICTIONARIES,
    "element_vocabularies": ELEMENT_VOCABULARIES,
    "niveaux_2019": NIVEAUX_2019,
    "regions": REGIONS,
    "regions_anciennes": REGIONS_ANCIENNES,
    "departements": DEPARTEMENTS,
    "publics_vises": PUBLICS_VISES,
    "formacodes_langue": FORMACODES_LANGUE,
    "certifications": CERTIFICATIONS,
    "certifinfo": CERTIFINFO,
    "source_codes": SOURCE_CODES,
    "language_rules": LANGUAGE_RULES,
    "conventionnement": CONVENTIONNEMENT,
    "placeholders": PLACEHOLDERS,
}


def load_tables(directory: Path | None = None) -> Tables:
    """Load and check every table under ``directory`` (default: the packaged tables).

    Raises MappingError naming the file and line of the first problem: a missing column,
    a duplicate key, an empty required cell, or a target absent from its target table.
    """
    where = TABLES_DIRECTORY if directory is None else Path(directory)
    loaded = {name: read_table(where, spec) for name, spec in _TABLE_FIELDS.items()}
    tables = Tables(where, vocabularies=_vocabularies(loaded), **loaded)
    check_tables(tables)
    return tables


def _vocabularies(loaded: Mapping[str, Table]) -> dict[str, frozenset[str]]:
    by_dictionary: dict[str, set[str]] = {}
    for row in loaded["dictionaries"]:
        by_dictionary.setdefault(row["dictionnaire"], set()).add(row["code"])
    certifications = loaded["certifications"]
    return {
        **{name: frozenset(codes) for name, codes in by_dictionary.items()},
        "regions": loaded["regions"].keys(),
        "departements": loaded["departements"].keys(),
        "publics-vises": loaded["publics_vises"].keys(),
        "formacodes-langue": loaded["formacodes_langue"].keys(),
        "certifications": certifications.keys() | {row["famille"] for row in certifications},
    }
