"""Answering "why does this code of this source come out like that?".

Lists the table rows that read the code for the source: its own local-code rows, the
national dictionary rows, the geography and certification rows, then the language and
conventionnement rules that test the national code it becomes.
"""

from __future__ import annotations

from collections.abc import Iterable

from mappings._csvtable import Row
from mappings._model import Explanation
from mappings._tables import Tables

_RULE_COLUMNS = {
    "formacodes": "formacodes-langue",
    "certifications": "certifications",
    "financeurs": "dict-financeurs",
    "publics": "publics-vises",
    "objectifs": "dict-AIS",
}


def explain(tables: Tables, *, source: str, code: str) -> list[Explanation]:
    """Every row that maps ``code`` for ``source``, with its file, line and why."""
    value = code.strip()
    found: list[Explanation] = []
    nationals: dict[str, set[str]] = {}
    shadowed: set[str] = set()
    for row in tables.source_codes:
        if row["source"] == source and row["local_code"] == value:
            vocabulary = tables.element_vocabularies.get(row["element"])
            name = "" if vocabulary is None else vocabulary["vocabulaire"]
            nationals.setdefault(name, set()).add(row["national_code"])
            shadowed.add(name)
            reason = (
                f"{source} sends {value!r} in <{row['element']}> for {name} {row['national_code']}"
            )
            found.append(_explanation(row, reason))
    for row in tables.dictionaries:
        if row["code"] == value:
            found.append(_explanation(row, _dictionary_reason(row, source, shadowed)))
            if row["dictionnaire"] not in shadowed:
                nationals.setdefault(row["dictionnaire"], set()).add(value)
    found.extend(_reference_rows(tables, value, nationals))
    for name in ("publics-vises", "formacodes-langue"):
        if value in tables.vocabularies[name]:
            nationals.setdefault(name, set()).add(value)
    nationals.setdefault("certifications", set()).update(_certification_names(tables, value))
    found.extend(_rule_rows(tables, nationals))
    return found


def _certification_names(tables: Tables, value: str) -> set[str]:
    """The label and family of the certification ``value`` names (code, RS or label)."""
    by_certifinfo = tables.certifinfo.get(value)
    labels = {by_certifinfo["label"]} if by_certifinfo is not None else set()
    labels |= {row["label"] for row in tables.certifications if value in (row["label"], row["rs"])}
    rows = [row for row in tables.certifications if row["label"] in labels]
    return labels | {row["famille"] for row in rows}


def _dictionary_reason(row: Row, source: str, shadowed: set[str]) -> str:
    reason = f"national {row['dictionnaire']} code: {row['libelle']}"
    if row["changement_2_3"] == "sens_modifie":
        reason += f" (meant {row['libelle_2_2']!r} in LHEO 2.2)"
    elif row["changement_2_3"] == "nouveau":
        reason += " (new in LHEO 2.3)"
    if row["statut"] != "actif":
        reason += f" [{row['statut']}]"
    if row["dictionnaire"] in shadowed:
        reason += f" — not used for {source}, whose own code wins"
    return reason


def _reference_rows(
    tables: Tables, value: str, nationals: dict[str, set[str]]
) -> list[Explanation]:
    """Rows of the reference tables (levels, geography, publics, certifications)."""
    found: list[Explanation] = []
    niveaux = nationals.get("dict-niveaux", set())
    for row in tables.niveaux_2019:
        if row["code_ancien"] in niveaux:
            reason = f"old level {row['code_ancien']} is 2019 level {row['code_2019']}"
            found.append(_explanation(row, reason))
    lookups: tuple[tuple[Iterable[Row], str, str], ...] = (
        (tables.regions, "code", "current region {nom}"),
        (
            tables.regions_anciennes,
            "code_ancien",
            "pre-2016 region {nom_ancien}, now {code_region}",
        ),
        (tables.departements, "code", "département {nom}, region {code_region}"),
        (tables.publics_vises, "code_formacode", "public visé: {libelle}"),
        (tables.formacodes_langue, "code_formacode", "FORMACODE: {libelle}"),
        (tables.certifinfo, "code_certifinfo", "Certif Info code of {label}"),
        (tables.certifications, "label", "certification {label} (CEFR {cefr})"),
        (tables.certifications, "rs", "RS code of {label}"),
    )
    for table, column, template in lookups:
        for row in table:
            if value and row[column] == value:
                found.append(_explanation(row, template.format(**row.values)))
    return found


def _rule_rows(tables: Tables, nationals: dict[str, set[str]]) -> Iterable[Explanation]:
    for row in tables.language_rules:
        for column, vocabulary in _RULE_COLUMNS.items():
            hits = set(row.many(column)) & nationals.get(vocabulary, set())
            if hits:
                reason = f"language rule {row['rule_id']} tests {column} {', '.join(sorted(hits))}"
                yield _explanation(row, f"{reason} → {row['kind']} / {row['path']}")
    for row in tables.conventionnement:
        target = tables.element_vocabularies.get(row["name"])
        if row["criterion"] != "element" or target is None:
            continue
        hits = set(row.many("value")) & nationals.get(target["vocabulaire"], set())
        if hits:
            reason = f"<{row['name']}> {', '.join(sorted(hits))} makes the action"
            yield _explanation(row, f"{reason} {row['conventionnement']}")


def _explanation(row: Row, reason: str) -> Explanation:
    return Explanation(table=row.table, line=row.line, row=dict(row.values), reason=reason)
