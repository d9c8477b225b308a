"""Emfor's organismes that are not training organisations, kept and flagged.

Many Emfor offers come from neighbourhood committees, youth centres or social centres
that have no activity declaration number and often no (or a wrong) SIRET, which the LHEO
XSD forbids. Rather than lose these offers, the dialect gives each missing or malformed
value a placeholder that passes the XSD and names every problem in the formation's
``<extras info="qualite-source">`` (see :mod:`hub.lheo.dialect`). It works on the
formation as parsed, in its own namespace (Emfor sends LHEO 2.2):

==========================  ================================================================
``siret-absent``            no SIRET: replaced by ``00000000000000``
``siret-invalide``          not 14 digits (``NC``, a SIREN...): replaced by the placeholder
``siret-cle-invalide``      14 digits failing the Luhn check: kept as sent
``siret-reformate``         14 digits written with spaces or dots: spaces removed
``numero-activite-absent``  no activity declaration number: replaced by ``00000000000``
``numero-activite-invalide`` not 11 digits (``EN COURS``...): replaced by the placeholder
==========================  ================================================================
"""

from __future__ import annotations

from lxml import etree

from hub.lheo.dialect import Flag

__all__ = ["NUMERO_ACTIVITE_PLACEHOLDER", "SIRET_PLACEHOLDER", "flag_organismes", "luhn_valid"]

SIRET_PLACEHOLDER = "00000000000000"
NUMERO_ACTIVITE_PLACEHOLDER = "00000000000"
_LA_POSTE_SIREN = "356000000"


def luhn_valid(siret: str) -> bool:
    """The SIRET check (Luhn; La Poste's establishments use a digit sum multiple of 5)."""
    if siret.startswith(_LA_POSTE_SIREN):
        return sum(int(d) for d in siret) % 5 == 0
    total = 0
    for position, digit in enumerate(reversed(siret)):
        value = int(digit) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def flag_organismes(formation: etree._Element) -> list[Flag]:
    """Repair and flag the SIRET and activity number of the formation's organismes."""
    flags: list[Flag] = []
    for responsable in formation.iterfind(_q(formation, "organisme-formation-responsable")):
        where = f"organisme-formation-responsable[@numero='{responsable.get('numero', '')}']"
        flags += _numero_activite(responsable, where)
        flags += _siret(responsable, "SIRET-organisme-formation", 1, where)
    for formateur in formation.iter(_q(formation, "organisme-formateur")):
        where = f"organisme-formateur[@numero='{formateur.get('numero', '')}']"
        flags += _siret(formateur, "SIRET-formateur", 0, where)
    return list(dict.fromkeys(flags))  # a formateur repeated in each action is flagged once


def _q(element: etree._Element, name: str) -> str:
    """``name`` in ``element``'s own LHEO namespace (2.2 or 2.3)."""
    return f"{{{etree.QName(element).namespace}}}{name}"


def _child(parent: etree._Element, name: str, position: int) -> tuple[etree._Element, bool]:
    """The child ``name``, created at ``position`` when missing; True if it was created."""
    found = parent.find(_q(parent, name))
    if found is not None:
        return found, False
    created = etree.Element(_q(parent, name))
    parent.insert(position, created)
    return created, True


def _replaced(element: etree._Element, placeholder: str, code: str, problem: str) -> list[Flag]:
    """Put ``placeholder`` in ``element``, flagged ``code``: "<problem>, remplacé par ..."."""
    element.text = placeholder
    return [Flag(code, f"{problem}, remplacé par {placeholder}")]


def _numero_activite(responsable: etree._Element, where: str) -> list[Flag]:
    element, created = _child(responsable, "numero-activite", 0)
    value = (element.text or "").strip()
    path = f"{where}/numero-activite"
    if created or not value:
        return _replaced(
            element, NUMERO_ACTIVITE_PLACEHOLDER, "numero-activite-absent", f"{path}: absent"
        )
    if len(value) != 11 or not value.isdigit():
        return _replaced(
            element,
            NUMERO_ACTIVITE_PLACEHOLDER,
            "numero-activite-invalide",
            f"{path}: « {value} » n'est pas un numéro de déclaration d'activité",
        )
    return []


def _siret(parent: etree._Element, wrapper_name: str, position: int, where: str) -> list[Flag]:
    wrapper, _ = _child(parent, wrapper_name, position)
    siret, _ = _child(wrapper, "SIRET", 0)
    value = (siret.text or "").strip()
    compact = value.replace(" ", "").replace(".", "")
    path = f"{where}/{wrapper_name}/SIRET"
    if not value:
        return _replaced(siret, SIRET_PLACEHOLDER, "siret-absent", f"{path}: absent")
    if len(compact) != 14 or not compact.isdigit():
        return _replaced(
            siret, SIRET_PLACEHOLDER, "siret-invalide", f"{path}: « {value} » n'est pas un SIRET"
        )
    flags = []
    if compact != value:
        siret.text = compact
        flags.append(Flag("siret-reformate", f"{path}: « {value} » réécrit {compact}"))
    if not luhn_valid(compact):
        flags.append(Flag("siret-cle-invalide", f"{path}: {compact} a une clé invalide, gardé"))
    return flags
