"""The ``<formation>`` records of the synthetic LHEO corpus (actions and sessions are written by
:mod:`simulators.corpus.actions` and :mod:`simulators.corpus.sessions`).

A record is drawn from two random streams seeded by the corpus seed and the record index: a
*stable* one for what identifies the offer (subject, organisme, places, number of actions) and a
*volatile* one, also seeded by the revision, for what changes between two exports of the same
offer (session dates, prices, recruitment state, ``datemaj``). So record ``i`` never depends on the
records before it, and revision ``r`` of a record is the same offer updated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from random import Random

from simulators.corpus import places, text
from simulators.corpus.actions import ActionWriter
from simulators.corpus.parts import (
    FORMACODE_REF,
    Coordonnees,
    OrgKey,
    clip,
    contact_xml,
    courriel,
    draw_personne,
    el,
    organisme,
    poisson,
    responsable_xml,
    slug,
    yyyymmdd,
)
from simulators.corpus.places import pick, randrange

_FIRST_DATEMAJ = date(2023, 1, 2).toordinal()
_MAX_ACTIONS = 12


@dataclass(frozen=True, slots=True)
class Plan:
    """The parameters of one record, taken from the corpus spec."""

    seed: int
    index: int
    numero: str
    revision: int
    v23: bool
    regions: tuple[str, ...]
    prefix: str
    langue: bool
    datemaj: str | None
    actions_mean: float
    sessions_mean: float
    organismes: int
    """Size of the pool the organisme is drawn from (per kind of offer)."""


@dataclass(frozen=True, slots=True)
class Sujet:
    """What a formation is about, decided before any element is written."""

    langue: bool
    dispositif: str | None
    dispositif_en_extra: bool
    intitule: str
    formacodes: tuple[str, ...]
    nsf: str
    romes: tuple[str, ...]
    metier: str
    modules: tuple[str, ...]
    competences: tuple[str, ...]
    certifinfo: str | None
    rncp: str | None
    niveau: int
    publics: tuple[str, ...]
    financeurs: tuple[str, ...]
    objectif_general: str
    heures: int


def _publics(rng: Random, choices: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(set(rng.choices(choices, k=pick(rng, (1, 1, 2, 3))))))


def sujet_metier(rng: Random, v23: bool, outre_mer: bool) -> Sujet:
    domaine = pick(rng, text.DOMAINES)
    certif = pick(rng, domaine.certifications) if rng.random() < 0.55 else None
    if certif:
        intitule = certif.intitule + pick(rng, text.SUFFIXES_INTITULE)
        heures = randrange(rng, 35, 140) if certif.niveau == 0 else randrange(rng, 300, 1300)
    else:
        intitule = pick(rng, text.PREFIXES_COURTES) + pick(rng, domaine.courtes)
        heures = randrange(rng, 7, 160)
    if rng.random() < 0.08:
        intitule += " : " + " et ".join(rng.sample(domaine.competences, 1) + list(domaine.modules))
    financeurs: tuple[str, ...] = ("2", "4", "10", "16", "5", "3", "17", "7", "11", "0")
    if v23 and outre_mer:
        financeurs += ("18",)  # LADOM funds the mobility of overseas trainees
    publics = ("80006", "80006", "83056", "82044", "81024", "80010", "82061", "81033", "80009")
    niveau = certif.niveau if certif else 0
    return Sujet(
        langue=False,
        dispositif=None,
        dispositif_en_extra=False,
        intitule=clip(intitule, 255),
        formacodes=domaine.formacodes[: randrange(rng, 1, len(domaine.formacodes) + 1)],
        nsf=domaine.nsf,
        romes=domaine.romes,
        metier=domaine.metier,
        modules=domaine.modules,
        competences=domaine.competences,
        certifinfo=certif.certifinfo if certif else None,
        rncp=certif.rncp if certif else None,
        niveau=niveau,
        publics=_publics(rng, publics),
        financeurs=financeurs,
        objectif_general=("6" if niveau else "2") if certif else pick(rng, ("2", "7", "9")),
        heures=heures,
    )


def _certif_langue(rng: Random, offre: text.OffreLangue, niveau: str, intitule: str) -> str | None:
    """The Certif Info code of a language offer: the DELF of its level when it prepares it."""
    delf = text.DELF_PAR_NIVEAU.get(niveau)
    if "DELF" in intitule:
        return delf
    if not offre.certifinfo or rng.random() >= 0.4:
        return None
    if delf in offre.certifinfo and rng.random() < 0.5:
        return delf
    return pick(rng, offre.certifinfo)


def sujet_langue(rng: Random, v23: bool) -> Sujet:
    offre = rng.choices(text.OFFRES_LANGUE, text.POIDS_OFFRES_LANGUE)[0]
    niveau = pick(rng, text.NIVEAUX_CECRL)
    generiques = text.INTITULES_SANS_DISPOSITIF.get(offre.dispositif)
    en_extra = bool(generiques) and rng.random() < 0.35
    intitule = pick(rng, generiques if en_extra and generiques else offre.intitules)
    certifinfo = _certif_langue(rng, offre, niveau, intitule)
    formacodes = offre.formacodes[: randrange(rng, 1, len(offre.formacodes) + 1)]
    return Sujet(
        langue=True,
        dispositif=offre.dispositif,
        dispositif_en_extra=en_extra,
        intitule=intitule.format(niveau=niveau),
        formacodes=formacodes,
        nsf=offre.nsf,
        romes=(),
        metier="",
        modules=offre.modules,
        competences=offre.competences,
        certifinfo=certifinfo,
        rncp=None,
        niveau=0,
        publics=_publics(rng, offre.publics),
        financeurs=offre.financeurs_23 if v23 else offre.financeurs_22,
        objectif_general=offre.objectif_general,
        heures=randrange(rng, *offre.heures),
    )


def _niveaux(rng: Random, sujet: Sujet, v23: bool) -> tuple[str, str | None]:
    """``code-niveau-entree`` and ``code-niveau-sortie`` (2.3 mixes old and 2019 codes)."""
    if sujet.langue:
        return (pick(rng, ("11", "1", "0")) if v23 else pick(rng, ("2", "1", "0"))), None
    nouveaux = v23 and rng.random() < 0.75
    if not sujet.niveau:
        return ("11" if nouveaux else "1"), None
    sortie = 10 + sujet.niveau if nouveaux else min(sujet.niveau + 1, 8)
    entree = sortie - 1 if rng.random() < 0.5 else (11 if nouveaux else 1)
    return str(entree), str(sortie)


def _de(noun: str) -> str:
    """``de`` + ``noun`` with the French elision (``d'électricien``, ``de maçon``)."""
    return f"d'{noun}" if noun[:1].lower() in "aeiouyhéèêâô" else f"de {noun}"


def _paragraph(rng: Random, phrases: tuple[str, ...], sujet: Sujet, count: int) -> str:
    chosen = rng.sample(phrases, min(count, len(phrases)))
    return " ".join(
        p.format(
            metier=sujet.metier,
            de_metier=_de(sujet.metier),
            competence=pick(rng, sujet.competences),
        )
        for p in chosen
    )


def _contenu(rng: Random, sujet: Sujet) -> str:
    """A programme whose length varies from a line to the 3000-character maximum."""
    target = pick(rng, (120, 400, 400, 900, 900, 1800, 3000))
    modules = list(sujet.modules)
    rng.shuffle(modules)
    parts = [pick(rng, text.CONTENU_INTRO), ", ".join(modules), "."]
    length = sum(map(len, parts))
    liaisons = text.CONTENU_LIAISON_LANGUE if sujet.langue else text.CONTENU_LIAISON
    paragraphes = list(text.PARAGRAPHES_LANGUE if sujet.langue else text.PARAGRAPHES_METIER)
    rng.shuffle(paragraphes)
    lines = [
        f"\n- {module} : {pick(rng, sujet.competences)}. {pick(rng, liaisons)}"
        for module in modules
    ]
    for line in lines + [f"\n{paragraphe}" for paragraphe in paragraphes]:
        if length >= target:
            break
        parts.append(line)
        length += len(line)
    while length < target:  # the longest programmes fill the field up to its maximum
        line = f"\n- {pick(rng, modules)} : {pick(rng, liaisons)}"
        parts.append(line)
        length += len(line)
    return clip("".join(parts), 3000)


class FormationWriter:
    """Writes one ``<formation>`` (without namespace declaration) as text."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.v23 = plan.v23
        self.rng = Random(f"{plan.seed}:{plan.index}")
        self.vrng = Random(f"{plan.seed}:{plan.index}:r{plan.revision}")
        rng = self.rng
        self.org_key = OrgKey(
            plan.seed,
            plan.regions,
            plan.prefix,
            plan.langue,
            int(plan.organismes * rng.random() ** 1.8),
        )
        self.org = organisme(self.org_key)
        outre_mer = self.org.adresse.commune.departement.startswith("97")
        self.sujet = (
            sujet_langue(rng, self.v23) if plan.langue else sujet_metier(rng, self.v23, outre_mer)
        )
        base = _FIRST_DATEMAJ + randrange(rng, 1000)
        datecrea = yyyymmdd(base - randrange(rng, 30, 2000))
        if plan.revision:
            base += 21 * plan.revision + randrange(self.vrng, 21)
        self.day = base  # ordinal of the update; session dates are drawn around it
        self.datemaj = plan.datemaj or yyyymmdd(base)
        datecrea = min(datecrea, self.datemaj)
        self.dates = f'datecrea="{datecrea}" datemaj="{self.datemaj}"'
        self.sessions = 0
        self.actions = 0

    def render(self) -> str:
        rng, sujet = self.rng, self.sujet
        parts = [f'<formation numero="{self.plan.numero}" {self.dates}>\n', self._domaine()]
        parts.append(el("intitule-formation", sujet.intitule))
        phrases = text.OBJECTIF_LANGUE if sujet.langue else text.OBJECTIF_PHRASES
        parts.append(
            el("objectif-formation", _paragraph(rng, phrases, sujet, randrange(rng, 1, 5)))
        )
        resultats = text.RESULTATS_LANGUE if sujet.langue else text.RESULTATS_PHRASES
        parts.append(el("resultats-attendus", pick(rng, resultats)))
        parts.append(el("contenu-formation", _contenu(rng, sujet)))
        certifiante = sujet.certifinfo is not None or sujet.rncp is not None
        parts.append(f"<certifiante>{int(certifiante)}</certifiante>\n")
        parts.append(self._contacts_formation())
        parts.append(f"<parcours-de-formation>{pick(rng, '1111223344')}</parcours-de-formation>\n")
        entree, sortie = _niveaux(rng, sujet, self.v23)
        parts.append(f"<code-niveau-entree>{entree}</code-niveau-entree>\n")
        if rng.random() < 0.8:
            parts.append(el("objectif-general-formation", sujet.objectif_general))
        parts.append(self._certification(certifiante))
        if sortie and rng.random() < 0.85:
            parts.append(f"<code-niveau-sortie>{sortie}</code-niveau-sortie>\n")
        if rng.random() < 0.3:
            url = f"https://www.{self.org.domaine}/formations/{slug(sujet.intitule)[:80]}"
            parts.append(f"<url-formation>\n{el('urlweb', url)}</url-formation>\n")
        count = 1 + min(poisson(rng, max(self.plan.actions_mean - 1, 0)), _MAX_ACTIONS - 1)
        parts.extend(ActionWriter(self, number).render() for number in range(1, count + 1))
        self.actions = count
        parts.append(responsable_xml(self.org_key, self.v23))
        parts.append("</formation>\n")
        return "".join(parts)

    def _domaine(self) -> str:
        rng, sujet = self.rng, self.sujet
        parts = ["<domaine-formation>\n"]
        parts.extend(
            f'<code-FORMACODE ref="{FORMACODE_REF}">{code}</code-FORMACODE>\n'
            for code in sujet.formacodes
        )
        if rng.random() < 0.9:
            parts.append(f"<code-NSF>{sujet.nsf}</code-NSF>\n")
        if sujet.romes and rng.random() < 0.85:
            parts.extend(f"<code-ROME>{rome}</code-ROME>\n" for rome in sujet.romes)
        parts.append("</domaine-formation>\n")
        return "".join(parts)

    def _contacts_formation(self) -> str:
        rng, org = self.rng, self.org
        personne = pick(rng, org.contacts) if rng.random() < 0.7 else draw_personne(rng)
        coordonnees = Coordonnees(
            personne=personne,
            adresse=org.adresse if rng.random() < 0.2 else None,
            telfixe=org.telephone,
            portable=places.telephone(rng, org.adresse.commune, True)
            if rng.random() < 0.15
            else None,
            courriel=courriel(personne, org) if rng.random() < 0.85 else None,
        )
        result = contact_xml(
            "contact-formation", coordonnees, self.v23, pick(rng, ("3", "4", None))
        )
        if self.v23 and rng.random() < 0.2:
            referent = Coordonnees(personne=draw_personne(rng), telfixe=org.telephone)
            result += contact_xml("contact-formation", referent, True, "1")
        return result

    def _certification(self, certifiante: bool) -> str:
        rng, sujet, v23 = self.rng, self.sujet, self.v23
        if not certifiante:
            return ""
        parts = ["<certification>\n"]
        if sujet.rncp:
            parts.append(f"<code-RNCP>{sujet.rncp}</code-RNCP>\n")
        if sujet.certifinfo:
            parts.append(f"<code-CERTIFINFO>{sujet.certifinfo}</code-CERTIFINFO>\n")
        if v23 and not sujet.rncp and not sujet.langue and rng.random() < 0.6:
            parts.append(f"<code-RS>RS{5000 + int(sujet.certifinfo or 0) % 1500}</code-RS>\n")
        if v23 and rng.random() < 0.1:
            parts.append(f"<code-CPF>{randrange(rng, 200_000, 340_000)}</code-CPF>\n")
        parts.append("</certification>\n")
        if v23 and rng.random() < 0.05:
            parts.append(
                "<code-type-formation>\n"
                f"<code-CPF>{randrange(rng, 200_000, 340_000)}</code-CPF>\n"
                "</code-type-formation>\n"
            )
        return "".join(parts)
