"""The ``<session>`` elements of a synthetic LHEO action.

Everything a session holds can change from one export to the next, so every draw here comes from
the formation's volatile random stream (see :mod:`simulators.corpus.records`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulators.corpus import text
from simulators.corpus.parts import (
    Coordonnees,
    contact_xml,
    courriel,
    draw_personne,
    el,
    extras,
    yyyymmdd,
)
from simulators.corpus.places import pick, randrange

if TYPE_CHECKING:
    from simulators.corpus.actions import ActionWriter


def _date(ordinal: int, unknown_day: bool) -> str:
    """A LHEO date; producers write an unknown day as ``00`` (``20170900``)."""
    value = yyyymmdd(ordinal)
    return value[:6] + "00" if unknown_day else value


class SessionWriter:
    """Writes one ``<session>``; every draw comes from the volatile stream."""

    def __init__(self, action: ActionWriter, number: int, debut: int, fin: int) -> None:
        self.action = action
        self.rng = action.vrng
        plan = action.formation.plan
        self.numero = f"{plan.prefix}_SE_{plan.index + 1:010d}_{action.number:02d}_{number:02d}"
        self.debut, self.fin = debut, fin

    def render(self, inscription: str) -> str:
        rng, action = self.rng, self.action
        inconnu = rng.random() < 0.04
        parts = [
            f'<session numero="{self.numero}" {action.formation.dates}>\n',
            f"<periode>\n<debut>{_date(self.debut, inconnu)}</debut>\n"
            f"<fin>{_date(self.fin, inconnu)}</fin>\n</periode>\n",
            f"<adresse-inscription>\n{inscription}</adresse-inscription>\n",
        ]
        if rng.random() < 0.3:
            parts.append(el("modalites-inscription", pick(rng, text.MODALITES_INSCRIPTION)))
        if rng.random() < 0.25:
            ouverture = yyyymmdd(self.debut - randrange(rng, 30, 120))
            parts.append(
                f"<periode-inscription>\n<periode>\n<debut>{ouverture}</debut>\n"
                f"<fin>{yyyymmdd(self.debut - 7)}</fin>\n</periode>\n"
                "</periode-inscription>\n"
            )
        if rng.random() < 0.8:
            parts.append(f"<etat-recrutement>{pick(rng, '11111123')}</etat-recrutement>\n")
        if action.v23:
            parts.append(self._details_23())
        parts.append(self._extras())
        parts.append("</session>\n")
        return "".join(parts)

    def _details_23(self) -> str:
        """Recruitment, URL, contacts, certifications and skill blocks (LHEO 2.3 only)."""
        rng, action = self.rng, self.action
        parts = []
        if rng.random() < 0.08:
            jour = yyyymmdd(self.debut - randrange(rng, 10, 40))
            parts.append(
                "<recrutement>\n<modalite-recrutement>9</modalite-recrutement>\n"
                f"<a-distance>{int(rng.random() < 0.2)}</a-distance>\n"
                f"<nb-places>{randrange(rng, 8, 30)}</nb-places>\n"
                f"<periode>\n<debut>{jour}</debut>\n<fin>{jour}</fin>\n</periode>\n"
                "<heure-debut>09:30</heure-debut>\n<heure-fin>11:30</heure-fin>\n"
                "<commentaire>Information collective obligatoire avant l'entrée en formation"
                "</commentaire>\n</recrutement>\n"
            )
        if rng.random() < 0.05:
            url = f"https://www.{action.org.domaine}/sessions/{self.numero}"
            parts.append(f"<url-session>\n{el('urlweb', url)}</url-session>\n")
        if rng.random() < 0.15:
            personne = draw_personne(rng)
            contact = Coordonnees(
                personne=personne,
                telfixe=action.org.telephone,
                courriel=courriel(personne, action.org),
            )
            parts.append(contact_xml("contact-session", contact, True, "4"))
        if action.sujet.certifinfo and rng.random() < 0.25:
            parts.append(action.reference_certification())
        if action.sujet.rncp and rng.random() < 0.1:
            parts.append(self._blocs())
        return "".join(parts)

    def _blocs(self) -> str:
        rncp = self.action.sujet.rncp
        blocs = "".join(
            f"<bloc-competences>\n{el('libelle-bloc', libelle)}"
            f"<code-bloc>RNCP{rncp}BC{number:02d}</code-bloc>\n</bloc-competences>\n"
            for number, libelle in enumerate(text.LIBELLES_BLOCS[: randrange(self.rng, 2, 6)], 1)
        )
        return (
            "<blocs-competences>\n<validation-blocs>2</validation-blocs>\n"
            f"<reference-certification>\n<reference-code-RNCP>{rncp}</reference-code-RNCP>\n"
            f"</reference-certification>\n{blocs}</blocs-competences>\n"
        )

    def _extras(self) -> str:
        rng, action = self.rng, self.action
        parts = []
        if rng.random() < 0.1:
            perimee = str(int(self.fin < action.formation.day))
            parts.append(extras("session-perimee", [("session-perimee", perimee)]))
        if action.sujet.certifinfo and not action.sujet.langue and rng.random() < 0.2:
            debut = yyyymmdd(action.formation.day - randrange(rng, 100, 900))
            items = [
                ("source", pick(rng, text.SOURCES_CPF)),
                ("debut-validite", debut),
                ("fin-validite", yyyymmdd(action.formation.day + randrange(rng, 100, 900))),
                ("public", pick(rng, "123")),
                ("france-entiere", "1"),
            ]
            if rng.random() < 0.5:
                items.append(("inter-branche", "1"))
            else:
                items.append(("inter-branche", "0"))
                items.extend(("branche", code) for code in rng.sample(text.BRANCHES_NAF, 3))
            parts.append(extras("eligibilite-cpf", items, numero=str(randrange(rng, 200, 240000))))
        return "".join(parts)
