"""Grouped rows → one LHEO 2.3 ``<formation>`` element, children in the XSD's order.

Values arrive already checked and normalised (``cells.parse_cell``); this module only
places them. Formation and organisme values come from the formation's first row, action
values from the action's first row, and each row is one session.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from hub.lheo.schema import NS_23

Values = dict[str, str]


@dataclass(slots=True)
class ActionGroup:
    numero: str
    values: Values
    first_row: int
    sessions: list[tuple[str, Values]] = field(default_factory=list)


@dataclass(slots=True)
class FormationGroup:
    numero: str
    values: Values
    first_row: int
    rows: list[int] = field(default_factory=list)
    actions: dict[str, ActionGroup] = field(default_factory=dict)


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    child = etree.SubElement(parent, f"{{{NS_23}}}{tag}")
    if text is not None:
        child.text = text
    return child


def _optional(parent: etree._Element, tag: str, text: str) -> None:
    if text:
        _sub(parent, tag, text)


def _adresse(parent: etree._Element, ligne: str, codepostal: str, ville: str, region: str) -> None:
    adresse = _sub(parent, "adresse")
    _sub(adresse, "ligne", ligne)
    _sub(adresse, "codepostal", codepostal)
    _sub(adresse, "ville", ville)
    _sub(adresse, "departement", codepostal[:3] if codepostal.startswith("97") else codepostal[:2])
    if len(region) == 2:
        _sub(adresse, "region", region)


def _coordonnees(
    parent: etree._Element,
    region: str,
    *,
    nom: str = "",
    adresse: tuple[str, str, str] | None = None,
    telephone: str = "",
    courriel: str = "",
) -> None:
    coordonnees = _sub(parent, "coordonnees")
    _optional(coordonnees, "nom", nom)
    if adresse is not None:
        _adresse(coordonnees, *adresse, region)
    if telephone:
        _sub(_sub(coordonnees, "telfixe"), "numtel", telephone)
    _optional(coordonnees, "courriel", courriel)


def formation_element(group: FormationGroup, region: str) -> etree._Element:
    """The ``<formation>`` of one group of rows."""
    v = group.values
    formation = etree.Element(f"{{{NS_23}}}formation", nsmap={None: NS_23})
    formation.set("numero", group.numero)
    if v.get("date_maj"):
        formation.set("datemaj", v["date_maj"])
    domaine = _sub(formation, "domaine-formation")
    for code in v.get("formacode", "").split():
        _sub(domaine, "code-FORMACODE", code)
    for column, tag in (
        ("intitule", "intitule-formation"),
        ("objectif", "objectif-formation"),
        ("resultats_attendus", "resultats-attendus"),
        ("contenu", "contenu-formation"),
        ("certifiante", "certifiante"),
    ):
        _sub(formation, tag, v[column])
    _coordonnees(
        _sub(formation, "contact-formation"),
        region,
        nom=v.get("contact_nom", ""),
        telephone=v.get("contact_telephone", ""),
        courriel=v.get("contact_courriel", ""),
    )
    _sub(formation, "parcours-de-formation", v["parcours"])
    _sub(formation, "code-niveau-entree", v["niveau_entree"])
    if v.get("code_rncp") or v.get("code_certifinfo"):
        certification = _sub(formation, "certification")
        _optional(certification, "code-RNCP", v.get("code_rncp", ""))
        _optional(certification, "code-CERTIFINFO", v.get("code_certifinfo", ""))
    _optional(formation, "code-niveau-sortie", v.get("niveau_sortie", ""))
    if v.get("url_formation"):
        _sub(_sub(formation, "url-formation"), "urlweb", v["url_formation"])
    for action in group.actions.values():
        _action(formation, action, region)
    _organisme(formation, v, region)
    return formation


def _action(formation: etree._Element, group: ActionGroup, region: str) -> None:
    v = group.values
    action = _sub(formation, "action")
    action.set("numero", group.numero)
    _sub(action, "rythme-formation", v["rythme"])
    for code in v["public_vise"].split():
        _sub(action, "code-public-vise", code).set("ref", "V14")
    for column, tag in (
        ("niveau_entree_obligatoire", "niveau-entree-obligatoire"),
        ("modalites_alternance", "modalites-alternance"),
        ("modalites_enseignement", "modalites-enseignement"),
        ("conditions_specifiques", "conditions-specifiques"),
        ("prise_en_charge_frais", "prise-en-charge-frais-possible"),
    ):
        _sub(action, tag, v[column])
    lieu = _sub(_sub(action, "lieu-de-formation"), "coordonnees")
    _adresse(lieu, v["lieu_adresse"], v["lieu_code_postal"], v["lieu_ville"], region)
    _sub(action, "modalites-entrees-sorties", v["modalites_entrees_sorties"])
    for numero, session_values in group.sessions:
        _session(action, numero, session_values, v, region)
    _optional(action, "prix-total-TTC", v.get("prix_total_ttc", ""))
    _optional(action, "nombre-heures-total", v.get("duree_heures", ""))
    for code in v["code_financeur"].split():
        _sub(_sub(action, "organisme-financeur"), "code-financeur", code)


def _session(
    action: etree._Element, numero: str, v: Values, action_values: Values, region: str
) -> None:
    session = _sub(action, "session")
    session.set("numero", numero)
    periode = _sub(session, "periode")
    _sub(periode, "debut", v["date_debut"])
    _sub(periode, "fin", v["date_fin"])
    inscription = _sub(session, "adresse-inscription")
    if v.get("inscription_adresse"):
        ligne, cp, ville = (v[f"inscription_{k}"] for k in ("adresse", "code_postal", "ville"))
    else:
        ligne, cp, ville = (action_values[f"lieu_{k}"] for k in ("adresse", "code_postal", "ville"))
    _adresse(inscription, ligne, cp, ville, region)


def _organisme(formation: etree._Element, v: Values, region: str) -> None:
    organisme = _sub(formation, "organisme-formation-responsable")
    organisme.set("numero", v["organisme_siret"])
    _sub(organisme, "numero-activite", v["organisme_numero_activite"])
    _sub(_sub(organisme, "SIRET-organisme-formation"), "SIRET", v["organisme_siret"])
    _sub(organisme, "nom-organisme", v.get("organisme_nom") or v["organisme_raison_sociale"])
    _sub(organisme, "raison-sociale", v["organisme_raison_sociale"])
    adresse = None
    if v.get("organisme_adresse"):
        adresse = (v["organisme_adresse"], v["organisme_code_postal"], v["organisme_ville"])
    # the organisme may sit outside the territory: its address carries no region
    _coordonnees(_sub(organisme, "coordonnees-organisme"), "", adresse=adresse)
    _coordonnees(
        _sub(organisme, "contact-organisme"),
        region,
        telephone=v.get("organisme_telephone", ""),
        courriel=v.get("organisme_courriel", ""),
    )
