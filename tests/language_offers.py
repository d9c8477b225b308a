"""Hand-built LHEO 2.3 offers with chosen financeurs, certifications, places and coordinates.

For the tests of what the hub publishes from harmonised facts (key figures, GeoJSON,
remap): each offer says plainly what it is, so a test can count from the XML it built.
Every document is valid against the official XSD (ingest validates it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import escape

from lheo_factory import document

POSTCODES = {"2A": "20000", "2B": "20200", "975": "97500"}


@dataclass(frozen=True)
class Action:
    departement: str
    financeurs: tuple[str, ...] = ()
    sessions: int = 1
    geolocalisation: tuple[str, str] | None = None
    """(latitude, longitude) as the source writes them, on the place of training."""
    commune: str | None = None
    """INSEE code of the commune of the place of training."""


@dataclass(frozen=True)
class Offer:
    numero: str
    actions: tuple[Action, ...]
    certifinfo: tuple[str, ...] = ()
    formacode: str = "15235"
    intitule: str = "Français langue étrangère"


def _postcode(departement: str) -> str:
    return POSTCODES.get(departement, departement.zfill(2) + "000")


def _adresse(
    departement: str, geolocalisation: tuple[str, str] | None, commune: str | None = None
) -> str:
    insee = "" if commune is None else f"<code-INSEE-commune>{commune}</code-INSEE-commune>"
    geo = ""
    if geolocalisation is not None:
        latitude, longitude = geolocalisation
        geo = (
            f"<geolocalisation><latitude>{latitude}</latitude>"
            f"<longitude>{longitude}</longitude></geolocalisation>"
        )
    return (
        f"<adresse><ligne>1 place de la Mairie</ligne><codepostal>{_postcode(departement)}"
        f"</codepostal><ville>Ville</ville><departement>{departement}</departement>{insee}{geo}"
        "</adresse>"
    )


def _action(numero: str, action: Action) -> str:
    sessions = "".join(
        f'<session numero="{numero}-S{n}"><periode><debut>20270105</debut><fin>20270630</fin>'
        f"</periode><adresse-inscription>{_adresse(action.departement, None)}"
        "</adresse-inscription></session>"
        for n in range(1, action.sessions + 1)
    )
    financeurs = "".join(
        f"<organisme-financeur><code-financeur>{code}</code-financeur></organisme-financeur>"
        for code in action.financeurs
    )
    return (
        f'<action numero="{numero}"><rythme-formation>Temps partiel</rythme-formation>'
        "<code-public-vise>80056</code-public-vise>"
        "<niveau-entree-obligatoire>0</niveau-entree-obligatoire>"
        "<modalites-alternance>Sans objet</modalites-alternance>"
        "<modalites-enseignement>0</modalites-enseignement>"
        "<conditions-specifiques>Aucune</conditions-specifiques>"
        "<prise-en-charge-frais-possible>1</prise-en-charge-frais-possible>"
        "<lieu-de-formation><coordonnees>"
        f"{_adresse(action.departement, action.geolocalisation, action.commune)}"
        "</coordonnees></lieu-de-formation>"
        "<modalites-entrees-sorties>1</modalites-entrees-sorties>"
        f"{sessions}{financeurs}</action>"
    )


def offer_xml(offer: Offer) -> str:
    """One valid LHEO 2.3 ``<formation>``."""
    certifications = "".join(
        f"<certification><code-CERTIFINFO>{code}</code-CERTIFINFO></certification>"
        for code in offer.certifinfo
    )
    actions = "".join(
        _action(f"{offer.numero}-A{n}", action) for n, action in enumerate(offer.actions, 1)
    )
    return (
        f'<formation numero="{escape(offer.numero)}" datemaj="20260101">'
        f"<domaine-formation><code-FORMACODE>{offer.formacode}</code-FORMACODE>"
        f"</domaine-formation><intitule-formation>{escape(offer.intitule)}</intitule-formation>"
        "<objectif-formation>Communiquer en français.</objectif-formation>"
        "<resultats-attendus>Attestation.</resultats-attendus>"
        "<contenu-formation>Oral et écrit.</contenu-formation>"
        f"<certifiante>{1 if offer.certifinfo else 0}</certifiante>"
        "<contact-formation><coordonnees><nom>Durand</nom></coordonnees></contact-formation>"
        "<parcours-de-formation>1</parcours-de-formation>"
        f"<code-niveau-entree>0</code-niveau-entree>{certifications}{actions}"
        '<organisme-formation-responsable numero="OF-1">'
        "<numero-activite>11755555555</numero-activite>"
        "<SIRET-organisme-formation><SIRET>12345678900017</SIRET></SIRET-organisme-formation>"
        "<nom-organisme>Langues et Cité</nom-organisme>"
        "<raison-sociale>Association Langues et Cité</raison-sociale>"
        "<coordonnees-organisme><coordonnees>"
        f"{_adresse('75', None)}</coordonnees></coordonnees-organisme>"
        "<contact-organisme><coordonnees><nom>Martin</nom></coordonnees></contact-organisme>"
        "</organisme-formation-responsable></formation>"
    )


def offers_document(offers: Iterable[Offer], *, deletions: Iterable[str] = ()) -> bytes:
    return document([offer_xml(offer) for offer in offers], deletions=deletions)
