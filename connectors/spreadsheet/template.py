"""The documented column template: one row per session, as data.

Each column says which LHEO element it fills, at which level (formation, organisme,
action, session), whether it is required, its default, and what it means in French and
English. Lengths and code lists are not copied here: they are read from the official
LHEO 2.3 XSD packaged with the hub (``facets``), so the template cannot drift from it.
``README.md`` beside this file documents the same columns for the people who fill them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

from lxml import etree

Level = Literal["formation", "organisme", "action", "session", "operation"]
Kind = Literal[
    "text", "date", "boolean", "code", "codes", "digits", "codepostal", "integer", "decimal"
]

_XS = {"xs": "http://www.w3.org/2001/XMLSchema"}


@dataclass(frozen=True, slots=True)
class Column:
    """One column of the template."""

    name: str
    level: Level
    kind: Kind
    element: str | None
    fr: str
    en: str
    required: bool = False
    default: str | None = None
    max_items: int = 1
    """For ``codes`` columns: how many codes one cell may list."""


COLUMNS: tuple[Column, ...] = (
    Column("numero_formation", "formation", "text", None,
        "Numéro de la formation ; les lignes de même numéro forment une formation",
        "Formation number; rows sharing it form one formation", required=True),
    Column("intitule", "formation", "text", "intitule-formation",
        "Intitulé de la formation", "Title", required=True),
    Column("objectif", "formation", "text", "objectif-formation",
        "Objectif de la formation", "Objective", required=True),
    Column("resultats_attendus", "formation", "text", "resultats-attendus",
        "Résultats attendus (diplôme, attestation...)", "Expected results", required=True),
    Column("contenu", "formation", "text", "contenu-formation",
        "Contenu de la formation", "Content", required=True),
    Column("certifiante", "formation", "boolean", "certifiante",
        "Formation certifiante (oui/non)", "Leads to a certification (yes/no)", required=True),
    Column("formacode", "formation", "codes", "code-FORMACODE",
        "Code(s) FORMACODE, séparés par des espaces", "FORMACODE code(s)", max_items=5),
    Column("code_rncp", "formation", "text", "code-RNCP", "Code RNCP", "RNCP code"),
    Column("code_certifinfo", "formation", "text", "code-CERTIFINFO",
        "Code Certif Info", "Certif Info code"),
    Column("parcours", "formation", "code", "parcours-de-formation",
        "Parcours : 1 en groupe, 2 individualisé, 3 modularisé, 4 mixte",
        "Course type (LHEO dict-type-parcours)", default="1"),
    Column("niveau_entree", "formation", "code", "code-niveau-entree",
        "Niveau d'entrée (dictionnaire LHEO dict-niveaux ; 0 = non communiqué)",
        "Entry level (LHEO dict-niveaux)", default="0"),
    Column("niveau_sortie", "formation", "code", "code-niveau-sortie",
        "Niveau de sortie (dict-niveaux)", "Exit level (LHEO dict-niveaux)"),
    Column("url_formation", "formation", "text", "urlweb",
        "Page web de la formation", "Web page of the formation"),
    Column("contact_nom", "formation", "text", "nom", "Nom du contact", "Contact's name"),
    Column("contact_telephone", "formation", "text", "numtel",
        "Téléphone du contact", "Contact's phone"),
    Column("contact_courriel", "formation", "text", "courriel",
        "Courriel du contact", "Contact's e-mail"),
    Column("date_maj", "formation", "date", None,
        "Date de mise à jour (JJ/MM/AAAA) ; une date plus ancienne que celle déjà reçue "
        "n'écrase rien", "Last update (DD/MM/YYYY); an older one never overwrites a newer one"),
    Column("organisme_siret", "organisme", "digits", "SIRET",
        "SIRET de l'organisme responsable (14 chiffres)",
        "SIRET of the responsible organisme (14 digits)", required=True),
    Column("organisme_raison_sociale", "organisme", "text", "raison-sociale",
        "Raison sociale de l'organisme", "Organisme's legal name", required=True),
    Column("organisme_nom", "organisme", "text", "nom-organisme",
        "Nom d'usage de l'organisme (par défaut la raison sociale)",
        "Organisme's usual name (default: legal name)"),
    Column("organisme_numero_activite", "organisme", "digits", "numero-activite",
        "Numéro de déclaration d'activité (11 caractères)",
        "Activity declaration number (11 characters)", required=True),
    Column("organisme_adresse", "organisme", "text", "ligne",
        "Adresse de l'organisme", "Organisme's street address"),
    Column("organisme_code_postal", "organisme", "codepostal", "codepostal",
        "Code postal de l'organisme", "Organisme's postcode"),
    Column("organisme_ville", "organisme", "text", "ville",
        "Ville de l'organisme", "Organisme's town"),
    Column("organisme_telephone", "organisme", "text", "numtel",
        "Téléphone de l'organisme", "Organisme's phone"),
    Column("organisme_courriel", "organisme", "text", "courriel",
        "Courriel de l'organisme", "Organisme's e-mail"),
    Column("numero_action", "action", "text", None,
        "Numéro de l'action (par défaut : une action par lieu et conditions identiques)",
        "Action number (default: one action per place and identical terms)"),
    Column("public_vise", "action", "codes", "code-public-vise",
        "Code(s) FORMACODE du public visé (ex. 80006 demandeur d'emploi)",
        "Target public FORMACODE code(s)", required=True, max_items=10),
    Column("rythme", "action", "text", "rythme-formation",
        "Rythme de la formation", "Schedule", default="Non précisé"),
    Column("niveau_entree_obligatoire", "action", "boolean", "niveau-entree-obligatoire",
        "Niveau d'entrée obligatoire (oui/non)", "Entry level mandatory", default="0"),
    Column("modalites_alternance", "action", "text", "modalites-alternance",
        "Modalités d'alternance", "Work-study terms", default="Sans objet"),
    Column("modalites_enseignement", "action", "code", "modalites-enseignement",
        "0 présentiel, 1 mixte, 2 à distance", "0 on site, 1 blended, 2 distance", default="0"),
    Column("conditions_specifiques", "action", "text", "conditions-specifiques",
        "Conditions spécifiques d'accès", "Specific entry conditions", default="Aucune"),
    Column("prise_en_charge_frais", "action", "boolean", "prise-en-charge-frais-possible",
        "Prise en charge des frais possible (oui/non)", "Costs can be covered", default="0"),
    Column("modalites_entrees_sorties", "action", "code", "modalites-entrees-sorties",
        "0 dates fixes, 1 entrées/sorties permanentes", "0 fixed dates, 1 rolling entry",
       default="0"),
    Column("lieu_adresse", "action", "text", "ligne",
        "Adresse du lieu de formation", "Street address of the training place", required=True),
    Column("lieu_code_postal", "action", "codepostal", "codepostal",
        "Code postal du lieu de formation", "Postcode of the training place", required=True),
    Column("lieu_ville", "action", "text", "ville",
        "Ville du lieu de formation", "Town of the training place", required=True),
    Column("duree_heures", "action", "integer", "nombre-heures-total",
        "Durée totale en heures", "Total hours"),
    Column("prix_total_ttc", "action", "decimal", "prix-total-TTC",
        "Prix total TTC en euros", "Total price incl. VAT, euros"),
    Column("code_financeur", "action", "codes", "code-financeur",
        "Code(s) financeur (dict-financeurs : 2 Conseil régional, 4 Pôle emploi, 18 LADOM...)",
        "Funder code(s) (LHEO dict-financeurs)", required=True, max_items=8),
    Column("numero_session", "session", "text", None,
        "Numéro de la session (par défaut numéro d'action + rang)",
        "Session number (default: action number + rank)"),
    Column("date_debut", "session", "date", "debut",
        "Début de la session (JJ/MM/AAAA)", "Session start (DD/MM/YYYY)", required=True),
    Column("date_fin", "session", "date", "fin",
        "Fin de la session (JJ/MM/AAAA)", "Session end (DD/MM/YYYY)", required=True),
    Column("inscription_adresse", "session", "text", "ligne",
        "Adresse d'inscription (par défaut le lieu de formation)",
        "Enrolment address (default: the training place)"),
    Column("inscription_code_postal", "session", "codepostal", "codepostal",
        "Code postal d'inscription", "Enrolment postcode"),
    Column("inscription_ville", "session", "text", "ville",
        "Ville d'inscription", "Enrolment town"),
    Column("operation", "operation", "text", None,
        "Vide ou « publier » ; « supprimer » retire la formation (seul numero_formation compte)",
        "Empty or 'publier'; 'supprimer' deletes the formation (only numero_formation counts)"),
)  # fmt: skip

BY_NAME: dict[str, Column] = {column.name: column for column in COLUMNS}
REQUIRED: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.required)

TERRITORIES: dict[str, tuple[str, str]] = {
    "01": ("971", "Guadeloupe"),
    "02": ("972", "Martinique"),
    "03": ("973", "Guyane"),
    "04": ("974", "La Réunion"),
    "06": ("976", "Mayotte"),
}
"""INSEE region code → (postcode prefix, name) of the overseas territories."""


def normalise_header(header: str) -> str:
    """``"Date début (JJ/MM/AAAA)"`` → ``"date_debut"``: accents, case, notes and spaces."""
    text = re.sub(r"\(.*?\)", " ", header.replace("\ufeff", ""))
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: the spreadsheet name of a column position."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


@dataclass(frozen=True, slots=True)
class Facets:
    """The XSD constraints of one LHEO simple type."""

    enumeration: tuple[str, ...] = ()
    min_length: int | None = None
    max_length: int | None = None


@cache
def _schema_tree() -> etree._ElementTree:
    data = resources.files("hub.lheo").joinpath("xsd/lheo-2.3.xsd").read_bytes()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.ElementTree(etree.fromstring(data, parser))


@cache
def facets(element: str) -> Facets:
    """Code list and length bounds of ``<element>`` in the official LHEO 2.3 XSD."""
    found = _schema_tree().find(f".//xs:simpleType[@name='{element}-subtype']", _XS)
    if found is None:
        return Facets()

    def bound(*names: str) -> int | None:
        for name in names:
            facet = found.find(f"xs:restriction/xs:{name}", _XS)
            if facet is not None:
                return int(str(facet.get("value")))
        return None

    codes = tuple(str(e.get("value")) for e in found.iterfind(".//xs:enumeration", _XS))
    return Facets(codes, bound("minLength", "length"), bound("maxLength", "length"))
