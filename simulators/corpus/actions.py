"""The ``<action>`` elements of a synthetic LHEO formation.

An action draws what identifies it (places, durations, organismes, financeurs) from the
formation's stable random stream and everything a new export may change (sessions, dates, prices,
recruitment state) from its volatile stream. The volatile draws never decide whether a stable draw
happens, so both streams stay aligned whatever the revision.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulators.corpus import places, text
from simulators.corpus.parts import (
    Adresse,
    Coordonnees,
    OrgKey,
    adresse_xml,
    coordonnees_xml,
    courriel,
    draw_adresse,
    el,
    extras,
    formateur_head_xml,
    poisson,
    yyyymmdd,
)
from simulators.corpus.places import pick, randrange
from simulators.corpus.sessions import SessionWriter

if TYPE_CHECKING:
    from simulators.corpus.records import FormationWriter

_MAX_SESSIONS = 15
PERMANENT_SHARE = 0.3
"""Share of actions with permanent entries; they have a single, year-long session."""
_BATIMENT_NSF = ("232", "233", "254", "255")


class ActionWriter:
    """Writes one ``<action>`` of a formation, its sessions included."""

    def __init__(self, formation: FormationWriter, number: int) -> None:
        self.formation = formation
        self.rng, self.vrng = formation.rng, formation.vrng
        self.v23, self.sujet, self.org = formation.v23, formation.sujet, formation.org
        plan = formation.plan
        self.number = number
        self.numero = f"{plan.prefix}_AC_{plan.index + 1:010d}_{number:02d}"
        rng = self.rng
        self.hebdo = randrange(rng, 4, 16) if self.sujet.langue else pick(rng, (35, 35, 30, 20))
        self.heures_entreprise = 0
        if not self.sujet.langue and self.sujet.heures > 300 and rng.random() < 0.6:
            self.heures_entreprise = 70 + 35 * randrange(rng, 10)
        self.lieux = self._draw_lieux()

    def render(self) -> str:
        rng, sujet = self.rng, self.sujet
        rythmes = text.RYTHMES_LANGUE if sujet.langue else text.RYTHMES
        parts = [
            f'<action numero="{self.numero}" {self.formation.dates}>\n',
            el("rythme-formation", pick(rng, rythmes)),
        ]
        parts.extend(
            f'<code-public-vise ref="V14">{code}</code-public-vise>\n' for code in sujet.publics
        )
        if rng.random() < 0.4:
            parts.append(el("info-public-vise", pick(rng, text.INFO_PUBLIC)))
        parts.append(
            f"<niveau-entree-obligatoire>{int(rng.random() < 0.2)}</niveau-entree-obligatoire>\n"
            + el("modalites-alternance", pick(rng, text.MODALITES_ALTERNANCE))
            + f"<modalites-enseignement>{pick(rng, '0000000112')}</modalites-enseignement>\n"
            + el("conditions-specifiques", pick(rng, text.CONDITIONS_SPECIFIQUES))
            + "<prise-en-charge-frais-possible>"
            f"{int(rng.random() < 0.6)}</prise-en-charge-frais-possible>\n"
        )
        parts.extend(self._lieu_xml(name, adresse, siret) for name, adresse, siret in self.lieux)
        permanentes = rng.random() < PERMANENT_SHARE
        parts.append(f"<modalites-entrees-sorties>{int(permanentes)}</modalites-entrees-sorties>\n")
        if rng.random() < 0.15:
            url = f"https://www.{self.org.domaine}/inscription?action={self.numero}"
            parts.append(f"<url-action>\n{el('urlweb', url)}</url-action>\n")
        parts.append(self._sessions(permanentes))
        parts.append(self._pratique())
        parts.append(self._couts())
        parts.append(self._formateurs())
        parts.append(self._financeurs())
        parts.append(self._extras())
        parts.append("</action>\n")
        return "".join(parts)

    def _draw_lieux(self) -> list[tuple[str, Adresse, str | None]]:
        """Name, address and (2.3) SIRET of each place; 2.2 requires exactly one."""
        rng, org = self.rng, self.org
        count = rng.choices((0, 1, 2), (5, 85, 10))[0] if self.v23 else 1
        lieux = []
        for _ in range(count):
            if rng.random() < 0.55:
                commune = org.adresse.commune
                adresse = org.adresse if rng.random() < 0.4 else draw_adresse(rng, commune)
                nom = org.nom
            else:
                commune = places.commune_picker((org.adresse.commune.region,)).pick(rng)
                adresse = draw_adresse(rng, commune)
                nom = pick(rng, ("Site de ", "Antenne de ", f"{org.nom} - ")) + commune.nom
            siret = places.siret(rng, org.siret[:9]) if rng.random() < 0.3 else None
            lieux.append((nom, adresse, siret))
        return lieux

    def _lieu_xml(self, nom: str, adresse: Adresse, siret: str | None) -> str:
        rng, org = self.rng, self.org
        parts = ["<lieu-de-formation>\n"]
        if self.v23 and siret:
            parts.append(
                f"<SIRET-lieu-formation>\n<SIRET>{siret}</SIRET>\n</SIRET-lieu-formation>\n"
            )
        if self.v23 and org.uai and rng.random() < 0.5:
            parts.append(
                f"<code-UAI-lieu-formation>\n<code-UAI>{org.uai}</code-UAI>\n"
                "</code-UAI-lieu-formation>\n"
            )
        coordonnees = Coordonnees(
            nom=nom,
            adresse=adresse,
            telfixe=org.telephone if rng.random() < 0.7 else None,
            courriel=courriel(None, org) if rng.random() < 0.3 else None,
            web=f"https://www.{org.domaine}" if rng.random() < 0.2 else None,
        )
        parts.append(coordonnees_xml(coordonnees, self.v23))
        parts.append("</lieu-de-formation>\n")
        return "".join(parts)

    def _inscription_xml(self) -> str:
        if self.lieux:
            nom, adresse, _ = self.lieux[0]
        else:
            nom, adresse = self.org.nom, self.org.adresse
        denomination = nom if self.rng.random() < 0.2 else None
        return adresse_xml(adresse, self.v23, denomination)

    def _sessions(self, permanentes: bool) -> str:
        vrng, plan = self.vrng, self.formation.plan
        inscription = self._inscription_xml()
        weeks = max(self.sujet.heures - self.heures_entreprise, 7) / self.hebdo
        length = max(1, round(weeks * 7 + self.heures_entreprise / 5))
        length = min(length, 300 if self.sujet.langue else 730)
        if permanentes:
            count, length = 1, max(length, 300)
        else:
            # Fixed-date actions make up for the single session of permanent ones.
            mean = (plan.sessions_mean - PERMANENT_SHARE) / (1 - PERMANENT_SHARE)
            count = 1 + min(poisson(vrng, mean - 1), _MAX_SESSIONS - 1)
        debut = self.formation.day + randrange(vrng, -40, 200)
        parts = []
        for number in range(1, count + 1):
            session = SessionWriter(self, number, debut, debut + length)
            parts.append(session.render(inscription))
            debut += randrange(vrng, max(30, length // 2), max(60, length + 30))
        self.formation.sessions += count
        return "".join(parts)

    def _pratique(self) -> str:
        """The optional practical details between the sessions and the costs."""
        rng, org, sujet = self.rng, self.org, self.sujet
        parts = []
        if rng.random() < 0.25:
            parts.append(
                f"<adresse-information>\n{adresse_xml(org.adresse, self.v23)}"
                "</adresse-information>\n"
            )
        for _ in range(pick(rng, (0, 0, 0, 1, 1, 2, 3))):
            day = yyyymmdd(self.formation.day + randrange(rng, -20, 60))
            parts.append(f"<date-information>\n<date>{day}</date>\n</date-information>\n")
        for name, choices, share in (
            ("restauration", text.RESTAURATION, 0.25),
            ("hebergement", text.HEBERGEMENT, 0.1),
            ("transport", text.TRANSPORT, 0.3),
            ("acces-handicapes", text.ACCES_HANDICAPES, 0.5),
        ):
            if rng.random() < share:
                parts.append(el(name, pick(rng, choices)))
        if rng.random() < 0.5:
            parts.append("<langue-formation>FR</langue-formation>\n")
            if self.v23 and not sujet.langue and rng.random() < 0.1:
                parts.append("<langue-formation>EN</langue-formation>\n")
        if rng.random() < 0.5:
            parts.append(el("modalites-recrutement", pick(rng, text.MODALITES_RECRUTEMENT)))
        if rng.random() < 0.4:
            parts.append(el("modalites-pedagogiques", pick(rng, text.MODALITES_PEDAGOGIQUES)))
        if self.v23 and sujet.nsf in _BATIMENT_NSF and rng.random() < 0.3:
            parts.append(
                "<equipement>\n<type-equipement>6</type-equipement>\n"
                "<commentaire>Chaussures de sécurité fournies par le centre</commentaire>\n"
                "</equipement>\n"
            )
        return "".join(parts)

    def _couts(self) -> str:
        """Recruitment scope, prices, durations and funding agreement."""
        rng, vrng, sujet = self.rng, self.vrng, self.sujet
        parts = []
        if rng.random() < 0.15:
            parts.append(el("frais-restants", pick(rng, text.FRAIS_RESTANTS)))
        if rng.random() < 0.4:
            parts.append(
                f"<code-perimetre-recrutement>{pick(rng, '1223333345')}"
                "</code-perimetre-recrutement>\n"
            )
        heures_centre = sujet.heures - self.heures_entreprise
        gratuit = sujet.langue and rng.random() < 0.6
        horaire = 0.0 if gratuit else round(vrng.uniform(6, 28), 2)
        if rng.random() < 0.6:
            parts.append(f"<prix-horaire-TTC>{horaire:.2f}</prix-horaire-TTC>\n")
        if rng.random() < 0.7:
            parts.append(f"<prix-total-TTC>{horaire * heures_centre:.2f}</prix-total-TTC>\n")
        if rng.random() < 0.3:
            indicative = f"{heures_centre} heures en centre"
            if self.heures_entreprise:
                indicative += f" et {self.heures_entreprise} heures en entreprise"
            parts.append(el("duree-indicative", indicative))
        if rng.random() < 0.8:
            parts.append(
                f"<nombre-heures-centre>{heures_centre}</nombre-heures-centre>\n"
                f"<nombre-heures-entreprise>{self.heures_entreprise}</nombre-heures-entreprise>\n"
                f"<nombre-heures-total>{sujet.heures}</nombre-heures-total>\n"
            )
        if rng.random() < 0.2:
            parts.append(
                el("detail-conditions-prise-en-charge", pick(rng, text.DETAIL_PRISE_EN_CHARGE))
            )
        if rng.random() < 0.5:
            conventionne = rng.random() < 0.6
            parts.append(f"<conventionnement>{int(conventionne)}</conventionnement>\n")
            if conventionne and rng.random() < 0.5:
                parts.append(f"<duree-conventionnee>{sujet.heures}</duree-conventionnee>\n")
        return "".join(parts)

    def _formateurs(self) -> str:
        rng, f = self.rng, self.formation
        if rng.random() < 0.15:
            return ""
        keys = [f.org_key]
        if rng.random() < 0.2:
            keys[0] = OrgKey(
                f.org_key.seed,
                f.org_key.regions,
                f.org_key.prefix,
                f.org_key.langue,
                randrange(rng, f.plan.organismes),
            )
        if self.v23 and rng.random() < 0.08:
            keys.append(
                OrgKey(
                    f.org_key.seed,
                    f.org_key.regions,
                    f.org_key.prefix,
                    f.org_key.langue,
                    randrange(rng, f.plan.organismes),
                )
            )
        parts = []
        for key in keys:
            parts.append(formateur_head_xml(key, self.v23))
            if self.v23 and self.sujet.certifinfo and rng.random() < 0.3:
                parts.append(self.reference_certification())
            parts.append("</organisme-formateur>\n")
        return "".join(parts)

    def reference_certification(self) -> str:
        sujet = self.sujet
        inner = ""
        if sujet.rncp:
            inner += f"<reference-code-RNCP>{sujet.rncp}</reference-code-RNCP>\n"
        if sujet.certifinfo:
            inner += f"<reference-code-CERTIFINFO>{sujet.certifinfo}</reference-code-CERTIFINFO>\n"
        return f"<reference-certification>\n{inner}</reference-certification>\n"

    def _financeurs(self) -> str:
        rng = self.rng
        count = rng.choices((0, 1, 2, 3), (10, 60, 25, 5))[0]
        codes = dict.fromkeys(rng.choices(self.sujet.financeurs, k=count))
        parts = []
        for code in codes:
            parts.append(f"<organisme-financeur>\n<code-financeur>{code}</code-financeur>\n")
            if rng.random() < 0.5:
                places_financees = randrange(rng, 4, 25)
                parts.append(f"<nb-places-financees>{places_financees}</nb-places-financees>\n")
            if rng.random() < 0.15:
                parts.append(
                    extras(
                        "specificites",
                        [
                            ("code-public-vise", self.sujet.publics[0]),
                            ("programme-financeur", pick(rng, text.PROGRAMMES_FINANCEUR)),
                        ],
                    )
                )
            parts.append("</organisme-financeur>\n")
        return "".join(parts)

    def _extras(self) -> str:
        """Intercarif-style extras: action type, scheme, weekly hours, validation."""
        rng, sujet = self.rng, self.sujet
        parts = []
        if self.v23 and not sujet.langue and rng.random() < 0.03:
            parts.append(
                "<enseignement>\n<libelle-enseignement>Enseignement professionnel"
                "</libelle-enseignement>\n<type-enseignement>10</type-enseignement>\n"
                "<obligatoire>1</obligatoire>\n</enseignement>\n"
            )
        if rng.random() < 0.3:
            parts.append(
                extras("type-action", [("formation-initiale", "0"), ("action-perimee", "0")])
            )
        if sujet.dispositif in ("ASL", "OEPRE", "OFII") and (
            sujet.dispositif_en_extra or rng.random() < 0.3
        ):
            parts.append(extras("dispositif", [("type", sujet.dispositif)]))
        elif not sujet.langue and rng.random() < 0.15:
            apprentissage = str(int(self.heures_entreprise > 0 and rng.random() < 0.5))
            parts.append(
                extras(
                    "dispositif",
                    [
                        ("contrat-apprentissage", apprentissage),
                        ("contrat-professionnalisation", "0"),
                    ],
                )
            )
        if rng.random() < 0.3:
            parts.append(extras("duree-hebdo", [("duree-hebdo", str(self.hebdo))]))
        if sujet.certifinfo and rng.random() < 0.15:
            parts.append(extras("validation", [("code-type-validation", "5")]))
        return "".join(parts)
