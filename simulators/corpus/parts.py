"""Reusable pieces of the synthetic LHEO corpus: escaping, addresses, contacts and organismes.

Records are assembled as text rather than as lxml trees because string concatenation is an order
of magnitude faster, which is what lets the benchmark build a national-scale corpus in about a
minute. Every element is written in the order of the LHEO skeleton; the few elements that exist
only in LHEO 2.3 (``denomination``, ``type-contact``, ``code-UAI-*``...) are written only when the
caller asks for 2.3.

Organismes are shared by many formations, as in real databases. Each one is drawn from its own
seed and its ``<organisme-formation-responsable>`` block is rendered once and cached.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from random import Random

from simulators.corpus import places, text
from simulators.corpus.places import Commune, pick, randrange

FORMACODE_REF = "V14"


def esc(value: str) -> str:
    """``value`` escaped for XML character data or a double-quoted attribute."""
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    if '"' in value:
        value = value.replace('"', "&quot;")
    return value


def el(name: str, value: str) -> str:
    """A simple element on its own line."""
    return f"<{name}>{esc(value)}</{name}>\n"


def upper(value: str) -> str:
    """``value`` in capitals, still within Latin-1 (``ÿ`` capitalises to ``Ÿ``, which is not)."""
    return value.upper().replace("Ÿ", "Y")


def clip(value: str, limit: int) -> str:
    """``value`` cut at a word boundary so that it fits an XSD ``maxLength``."""
    if len(value) <= limit:
        return value
    cut = value.rfind(" ", 0, limit)
    return value[: cut if cut > 0 else limit].rstrip(" ,;:-")


def yyyymmdd(ordinal: int) -> str:
    """The LHEO ``DATE`` form of a proleptic Gregorian ordinal."""
    day = date.fromordinal(ordinal)
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def poisson(rng: Random, mean: float) -> int:
    """A Poisson draw (Knuth's method: the means used here are small)."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def extras(info: str, items: list[tuple[str, str]], numero: str | None = None) -> str:
    """An intercarif-style ``<extras info=...>`` block of ``<extra info=...>`` values."""
    attrs = f' info="{info}"' + (f' numero="{numero}"' if numero else "")
    inner = "".join(f'<extra info="{key}">{esc(value)}</extra>\n' for key, value in items)
    return f"<extras{attrs}>\n{inner}</extras>\n"


@cache
def slug(value: str) -> str:
    """Lower-case ASCII form of ``value`` for e-mail addresses and host names."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    kept = "".join(c if c.isalnum() else "-" for c in ascii_text.lower())
    return "-".join(part for part in kept.split("-") if part)


@dataclass(frozen=True, slots=True)
class Personne:
    """A contact person."""

    civilite: str
    prenom: str
    nom: str


def draw_personne(rng: Random) -> Personne:
    if rng.random() < 0.55:
        return Personne("Madame", pick(rng, text.PRENOMS_FEMININS), pick(rng, text.NOMS))
    return Personne("Monsieur", pick(rng, text.PRENOMS_MASCULINS), pick(rng, text.NOMS))


@dataclass(frozen=True, slots=True)
class Adresse:
    """A postal address in a packaged commune."""

    lignes: tuple[str, ...]
    commune: Commune
    codepostal: str
    geolocalisation: tuple[str, str] | None


def draw_adresse(rng: Random, commune: Commune, geo_share: float = 0.6) -> Adresse:
    """A street address in ``commune``, geolocated with probability ``geo_share``."""
    voie = f"{randrange(rng, 1, 180)} {pick(rng, text.TYPES_VOIE)} {pick(rng, text.NOMS_VOIE)}"
    lignes = (voie,) if rng.random() < 0.75 else (voie, pick(rng, text.COMPLEMENTS_ADRESSE))
    geo = places.geolocalisation(rng, commune) if rng.random() < geo_share else None
    return Adresse(lignes, commune, pick(rng, commune.codes_postaux), geo)


def adresse_xml(adresse: Adresse, v23: bool, denomination: str | None = None) -> str:
    """An ``<adresse>`` with the INSEE codes and, when known, its geolocalisation."""
    commune = adresse.commune
    parts = ["<adresse>\n"]
    if denomination and v23:
        parts.append(el("denomination", clip(denomination, 255)))
    parts.extend(el("ligne", clip(ligne, 50)) for ligne in adresse.lignes)
    parts.append(
        f"<codepostal>{adresse.codepostal}</codepostal>\n{el('ville', commune.nom)}"
        f"<departement>{commune.departement}</departement>\n"
        f"<code-INSEE-commune>{commune.insee}</code-INSEE-commune>\n"
        f"<region>{commune.region}</region>\n<pays>FR</pays>\n"
    )
    if adresse.geolocalisation:
        lat, lon = adresse.geolocalisation
        parts.append(
            f"<geolocalisation>\n<latitude>{lat}</latitude>\n<longitude>{lon}</longitude>\n"
            "</geolocalisation>\n"
        )
    parts.append("</adresse>\n")
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class Coordonnees:
    """The optional children of ``<coordonnees>``, in skeleton order."""

    personne: Personne | None = None
    nom: str | None = None
    """A place's name, written in ``<nom>`` when there is no person."""
    adresse: Adresse | None = None
    telfixe: str | None = None
    portable: str | None = None
    fax: str | None = None
    courriel: str | None = None
    web: str | None = None


def coordonnees_xml(c: Coordonnees, v23: bool) -> str:
    parts = ["<coordonnees>\n"]
    if c.personne:
        p = c.personne
        parts.append(f"{el('civilite', p.civilite)}{el('nom', p.nom)}{el('prenom', p.prenom)}")
    elif c.nom:
        parts.append(el("nom", clip(c.nom, 50)))
    if c.adresse:
        parts.append(adresse_xml(c.adresse, v23))
    for name, number in (("telfixe", c.telfixe), ("portable", c.portable), ("fax", c.fax)):
        if number:
            parts.append(f"<{name}>\n<numtel>{number}</numtel>\n</{name}>\n")
    if c.courriel:
        parts.append(el("courriel", c.courriel))
    if c.web:
        parts.append(f"<web>\n{el('urlweb', c.web)}</web>\n")
    parts.append("</coordonnees>\n")
    return "".join(parts)


def contact_xml(tag: str, c: Coordonnees, v23: bool, type_contact: str | None = None) -> str:
    """A contact element (``contact-formation``, ``contact-organisme``...) around coordonnees."""
    head = f"<type-contact>{type_contact}</type-contact>\n" if v23 and type_contact else ""
    return f"<{tag}>\n{head}{coordonnees_xml(c, v23)}</{tag}>\n"


@dataclass(frozen=True, slots=True)
class OrgKey:
    """What identifies a generated organisme: two corpora agreeing on it share the organisme."""

    seed: int
    regions: tuple[str, ...]
    prefix: str
    langue: bool
    number: int


@dataclass(frozen=True, slots=True)
class Organisme:
    """A training organisation: identity, seat and the people to contact."""

    numero: str
    siret: str
    numero_activite: str
    nom: str
    raison_sociale: str
    adresse: Adresse
    telephone: str
    fax: str | None
    domaine: str
    contacts: tuple[Personne, ...]
    potentiel: tuple[str, ...]
    uai: str | None


def _organisme_nom(rng: Random, key: OrgKey, commune: Commune) -> str:
    patterns = text.ORGANISMES_LANGUE if key.langue else text.ORGANISMES_METIER
    nom = pick(rng, patterns).format(
        ville=commune.nom,
        secteur=pick(rng, text.SECTEURS),
        sigle=pick(rng, text.SIGLES),
        personne=f"{pick(rng, text.PRENOMS)} {pick(rng, text.NOMS)}",
    )
    return clip(nom, 250)


@lru_cache(maxsize=16384)
def organisme(key: OrgKey) -> Organisme:
    """The organisme ``key`` stands for, always the same for the same key."""
    rng = Random(f"{key.seed}:{','.join(key.regions)}:{key.langue}:{key.number}")
    commune = places.commune_picker(key.regions).pick(rng)
    nom = _organisme_nom(rng, key, commune)
    forme = pick(rng, text.FORMES_JURIDIQUES)
    raison = clip(f"{forme}{upper(nom) if rng.random() < 0.5 else nom}", 250)
    pool = (
        [offre.formacodes for offre in text.OFFRES_LANGUE]
        if key.langue
        else [domaine.formacodes for domaine in text.DOMAINES]
    )
    potentiel = sorted({code for _ in range(randrange(rng, 1, 6)) for code in pick(rng, pool)})
    return Organisme(
        numero=f"{key.prefix}_OF_{int(key.langue)}{key.number:09d}",
        siret=places.siret(rng),
        numero_activite=places.numero_activite(rng, commune),
        nom=nom,
        raison_sociale=raison,
        adresse=draw_adresse(rng, commune, geo_share=0.5),
        telephone=places.telephone(rng, commune),
        fax=places.telephone(rng, commune) if rng.random() < 0.25 else None,
        domaine=f"{slug(nom)[:40].strip('-')}.{pick(rng, text.DOMAINES_WEB)}",
        contacts=tuple(draw_personne(rng) for _ in range(randrange(rng, 1, 4))),
        potentiel=tuple(potentiel[:25]),
        uai=places.uai(rng, commune.departement) if rng.random() < 0.3 else None,
    )


def courriel(personne: Personne | None, org: Organisme) -> str:
    if personne is None:
        return f"contact@{org.domaine}"
    return f"{slug(personne.prenom)}.{slug(personne.nom)}@{org.domaine}"


def _potentiel_xml(org: Organisme) -> str:
    codes = "".join(
        f'<code-FORMACODE ref="{FORMACODE_REF}">{code}</code-FORMACODE>\n' for code in org.potentiel
    )
    return f"<potentiel>\n{codes}</potentiel>\n"


@lru_cache(maxsize=16384)
def responsable_xml(key: OrgKey, v23: bool) -> str:
    """The ``<organisme-formation-responsable>`` block of the organisme ``key``."""
    org = organisme(key)
    rng = Random(f"{key}:responsable")
    siege = Coordonnees(
        adresse=org.adresse,
        telfixe=org.telephone,
        fax=org.fax,
        courriel=f"contact@{org.domaine}",
        web=f"https://www.{org.domaine}",
    )
    parts = [
        f'<organisme-formation-responsable numero="{org.numero}">\n',
        f"<numero-activite>{org.numero_activite}</numero-activite>\n",
        f"<SIRET-organisme-formation>\n<SIRET>{org.siret}</SIRET>\n</SIRET-organisme-formation>\n",
        el("nom-organisme", org.nom),
        el("raison-sociale", org.raison_sociale),
        f"<coordonnees-organisme>\n{coordonnees_xml(siege, v23)}</coordonnees-organisme>\n",
    ]
    contacts = org.contacts if v23 else org.contacts[:1]
    for personne in contacts:
        contact = Coordonnees(
            personne=personne, telfixe=org.telephone, courriel=courriel(personne, org)
        )
        parts.append(contact_xml("contact-organisme", contact, v23, pick(rng, ("4", "5", "3"))))
    if rng.random() < 0.3:
        parts.append(el("renseignements-specifiques", "Organisme certifié Qualiopi."))
    if rng.random() < 0.6:
        parts.append(_potentiel_xml(org))
    if v23 and org.uai:
        parts.append(
            f"<code-UAI-organisme-formation>\n<code-UAI>{org.uai}</code-UAI>\n"
            "</code-UAI-organisme-formation>\n"
        )
    if rng.random() < 0.4:
        parts.append(extras("categorie-organisme", [("code-categorie-organisme", "00")]))
    parts.append("</organisme-formation-responsable>\n")
    return "".join(parts)


@lru_cache(maxsize=16384)
def formateur_head_xml(key: OrgKey, v23: bool) -> str:
    """The opening of an ``<organisme-formateur>``, up to its formation-specific children."""
    org = organisme(key)
    rng = Random(f"{key}:formateur")
    parts = [
        f'<organisme-formateur numero="{org.numero}">\n',
        f"<SIRET-formateur>\n<SIRET>{org.siret}</SIRET>\n</SIRET-formateur>\n",
        el("raison-sociale-formateur", org.raison_sociale),
    ]
    contacts = org.contacts[-2:] if v23 else org.contacts[-1:]
    for personne in contacts:
        contact = Coordonnees(
            personne=personne, telfixe=org.telephone, courriel=courriel(personne, org)
        )
        parts.append(contact_xml("contact-formateur", contact, v23, pick(rng, ("3", "4", "1"))))
    if rng.random() < 0.3:
        parts.append(_potentiel_xml(org))
    if v23 and org.uai:
        parts.append(
            f"<code-UAI-formateur>\n<code-UAI>{org.uai}</code-UAI>\n</code-UAI-formateur>\n"
        )
    return "".join(parts)
