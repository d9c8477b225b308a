"""The map stage: what the store keeps of a canonical (LHEO 2.3) formation besides its LHEO.

Its queryable columns (organisme, actions, sessions) and its harmonised facts with the
mapping issues met (:mod:`mappings`), computed in the worker processes of a big flow or
inline, always the same way.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from hub.harmonise import harmonise, language_kind
from hub.lheo.schema import NS_23
from hub.store.rows import ActionRow, FormationRows
from mappings import MappingIssue

_N = {"l": NS_23}


def _text(element: etree._Element, path: str) -> str | None:
    found = element.find(path, _N)
    if found is None or found.text is None:
        return None
    value = found.text.strip()
    return value or None


def extract(formation: etree._Element) -> FormationRows:
    """Columns of the formation, its organisme responsable, its actions and their sessions."""
    certifiante = _text(formation, "l:certifiante")
    columns = {
        "intitule": _text(formation, "l:intitule-formation"),
        "formacode": _text(formation, "l:domaine-formation/l:code-FORMACODE"),
        "certifiante": None if certifiante is None else certifiante == "1",
    }
    return FormationRows(
        columns, _organisme(formation), [_action(a) for a in formation.iterfind("l:action", _N)]
    )


def _organisme(formation: etree._Element) -> dict[str, Any] | None:
    responsable = formation.find("l:organisme-formation-responsable", _N)
    if responsable is None:
        return None
    siret = _text(responsable, "l:SIRET-organisme-formation/l:SIRET")
    numero = responsable.get("numero")
    key = numero or siret
    if key is None:
        return None
    return {
        "key": key,
        "numero": numero,
        "siret": siret,
        "raison_sociale": _text(responsable, "l:raison-sociale"),
    }


def _action(action: etree._Element) -> ActionRow:
    adresse = "l:lieu-de-formation/l:coordonnees/l:adresse/"
    financeurs = [
        code.text.strip()
        for code in action.iterfind("l:organisme-financeur/l:code-financeur", _N)
        if code.text
    ]
    columns = {
        "numero": action.get("numero"),
        "codepostal": _text(action, adresse + "l:codepostal"),
        "ville": _text(action, adresse + "l:ville"),
        "departement": _text(action, adresse + "l:departement"),
        "siret_formateur": _text(action, "l:organisme-formateur/l:SIRET-formateur/l:SIRET"),
        "financeurs": " ".join(financeurs)[:64] or None,
    }
    sessions = [
        {
            "numero": session.get("numero"),
            "debut": _text(session, "l:periode/l:debut"),
            "fin": _text(session, "l:periode/l:fin"),
        }
        for session in action.iterfind("l:session", _N)
    ]
    return ActionRow(action.get("numero"), columns, sessions)


def formation_rows(element: etree._Element, *, source: str, region: str | None) -> FormationRows:
    """Queryable columns plus the harmonised facts (map stage) of one valid formation.

    A module function so that worker processes map formations exactly as the applier does.
    """
    rows = extract(element)
    facts, issues = harmonise(element, source=source, region=region)
    rows.columns.update(
        harmonised=facts,
        language_kind=language_kind(facts),
        region=facts.get("region") or region,
    )
    rows.issues = [issue_row(source, issue) for issue in issues]
    return rows


def issue_row(source: str, issue: MappingIssue) -> dict[str, Any]:
    """The ``formation_issue`` columns of one mapping issue (without its formation_id)."""
    return {
        "source": source,
        "kind": issue.kind,
        "code": issue.code[:64],
        "value": issue.value,
        "path": issue.path,
        "message": issue.message,
    }
