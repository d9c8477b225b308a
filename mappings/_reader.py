"""Reading one LHEO 2.3 ``formation`` into harmonised facts.

One `FormationReader` per formation: it owns the issue log of that formation and
translates each coded element once (so an unknown code is reported once, wherever it
is read from). It reads the element and never modifies it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree

from hub.lheo.schema import NS_23
from mappings._certifications import CertificationBook
from mappings._cleaning import Cleaner
from mappings._codes import CodeBook
from mappings._conventionnement import ConventionnementRules
from mappings._extras import collect_extras, has_extras_block
from mappings._geo import Geography, Place
from mappings._issues import IssueLog, local_name, path_of
from mappings._language import LanguageRules, OfferFacts
from mappings._model import (
    Certification,
    HarmonisedAction,
    HarmonisedFormation,
    HarmonisedSession,
    LanguageTraining,
)

NS = {"l": NS_23}


@dataclass(frozen=True, slots=True)
class Books:
    """Everything built once from the tables and shared by every formation read."""

    codes: CodeBook
    geography: Geography
    certifications: CertificationBook
    language: LanguageRules
    conventionnement: ConventionnementRules
    placeholders: frozenset[str]
    coded_tags: tuple[str, ...]
    """Qualified tags of the elements whose codes come from an LHEO dictionary."""


class FormationReader:
    """Harmonises one formation of one source."""

    def __init__(self, books: Books, source: str) -> None:
        self.books = books
        self.source = source
        self.log = IssueLog(source)
        self.cleaner = Cleaner(books.placeholders, self.log)
        self._translated: dict[etree._Element, str | None] = {}

    def read(self, formation: etree._Element, region: str | None) -> HarmonisedFormation:
        path = path_of(formation)
        certifications = self.books.certifications.read(formation, self.cleaner)
        actions = [self._action(action) for action in formation.iterfind("l:action", NS)]
        responsable = self._responsable_place(formation)
        intitule = self.cleaner.text(
            _text(formation, "l:intitule-formation"), f"{path}/intitule-formation"
        )
        formacodes = self._formacodes(formation)
        facts = self._facts(formation, actions, certifications, formacodes, intitule or "")
        language = self._language(formation, facts, certifications)
        self._check_other_codes(formation)
        return HarmonisedFormation(
            source=self.source,
            numero=formation.get("numero"),
            intitule=intitule,
            datemaj=self.cleaner.date(formation.get("datemaj"), f"{path}/@datemaj"),
            region=self._source_region(region)
            or _first(a.region for a in actions)
            or responsable.region,
            departement=_first(a.departement for a in actions) or responsable.departement,
            siret_organisme=self._siret(formation.find(_SIRET_ORGANISME, NS)),
            formacodes=formacodes,
            niveau_entree=self._code_of(formation, "code-niveau-entree"),
            niveau_sortie=self._code_of(formation, "code-niveau-sortie"),
            certifications=certifications,
            language=language,
            cpf_eligible=facts.cpf_eligible,
            actions=actions,
            issues=self.log.issues,
        )

    def _action(self, action: etree._Element) -> HarmonisedAction:
        path = path_of(action)
        financeurs = self._codes(action, "l:organisme-financeur/l:code-financeur")
        codes = {
            name: frozenset(self._codes(action, f".//l:{name}"))
            for name in self.books.conventionnement.element_names
        }
        conventionnement, rule_id = self.books.conventionnement.decide(
            codes, collect_extras(action)
        )
        lieu = self.books.geography.place(
            self.source,
            action.find("l:lieu-de-formation/l:coordonnees/l:adresse", NS),
            self.cleaner,
        )
        sessions = [self._session(session, lieu) for session in action.iterfind("l:session", NS)]
        return HarmonisedAction(
            numero=action.get("numero"),
            financeurs=financeurs,
            conventionnement=conventionnement,
            conventionnement_rule_id=rule_id,
            departement=lieu.departement or _first(s.departement for s in sessions),
            region=lieu.region or _first(s.region for s in sessions),
            publics_vises=self._codes(action, "l:code-public-vise"),
            prix_total_ttc=self.cleaner.price(
                _text(action, "l:prix-total-TTC"), f"{path}/prix-total-TTC"
            ),
            prix_horaire_ttc=self.cleaner.price(
                _text(action, "l:prix-horaire-TTC"), f"{path}/prix-horaire-TTC"
            ),
            sessions=sessions,
        )

    def _session(self, session: etree._Element, lieu: Place) -> HarmonisedSession:
        path = path_of(session)
        place = lieu
        if place == Place():
            adresse = session.find("l:adresse-inscription/l:adresse", NS)
            place = self.books.geography.place(self.source, adresse, self.cleaner)
        return HarmonisedSession(
            numero=session.get("numero"),
            debut=self.cleaner.date(_text(session, "l:periode/l:debut"), f"{path}/periode/debut"),
            fin=self.cleaner.date(_text(session, "l:periode/l:fin"), f"{path}/periode/fin"),
            departement=place.departement,
            region=place.region,
            code_insee_commune=place.code_insee_commune,
            latitude=place.latitude,
            longitude=place.longitude,
        )

    def _facts(
        self,
        formation: etree._Element,
        actions: list[HarmonisedAction],
        certifications: list[Certification],
        formacodes: list[str],
        title: str,
    ) -> OfferFacts:
        """What the language rules test, gathered over the formation and its actions."""
        return OfferFacts(
            formacodes=frozenset(formacodes),
            certifications=self.books.certifications.names(certifications),
            extras=collect_extras(formation),
            title=title,
            financeurs=frozenset(code for a in actions for code in a.financeurs),
            publics=frozenset(code for a in actions for code in a.publics_vises),
            objectifs=frozenset(self._codes(formation, "l:objectif-general-formation")),
            cpf_eligible=self._cpf_eligible(formation, certifications),
        )

    def _language(
        self,
        formation: etree._Element,
        facts: OfferFacts,
        certifications: list[Certification],
    ) -> LanguageTraining | None:
        cefr = [c.cefr for c in certifications if c.cefr]
        language = self.books.language.classify(facts, cefr)
        if language is None:
            return None
        for certification in certifications:
            if certification.label is None:
                self.log.unmapped(
                    f"{path_of(formation)}/certification",
                    "certification-langue-inconnue",
                    certification.certifinfo or certification.rs or certification.rncp or "",
                    "a language formation prepares a certification absent from "
                    "certifinfo.csv and certifications.csv",
                )
        return language

    def _cpf_eligible(self, formation: etree._Element, certifications: list[Certification]) -> bool:
        """CPF-eligible: a registered certification (RNCP, RS, CPF code), an eligible
        certification of the table, a ``code-type-formation/code-CPF``, or the
        ``eligibilite-cpf`` extras the Carif flows carry."""
        return (
            any(c.rncp or c.rs or c.cpf for c in certifications)
            or any(self.books.certifications.eligible_cpf(c.label) for c in certifications)
            or bool((_text(formation, "l:code-type-formation/l:code-CPF") or "").strip())
            or has_extras_block(formation, "eligibilite-cpf")
        )

    def _formacodes(self, formation: etree._Element) -> list[str]:
        codes: list[str] = []
        for element in formation.iterfind("l:domaine-formation/l:code-FORMACODE", NS):
            value = self.cleaner.text(element.text, path_of(element))
            if value is None:
                continue
            if len(value) == 5 and value.isdigit():
                codes.append(value)
            else:
                message = "a FORMACODE has 5 digits: ignored"
                self.log.suspicious(path_of(element), "formacode-invalide", value, message)
        return _unique(codes)

    def _siret(self, element: etree._Element | None) -> str | None:
        return None if element is None else self.cleaner.siret(element.text, path_of(element))

    def _responsable_place(self, formation: etree._Element) -> Place:
        adresse = formation.find(_ADRESSE_ORGANISME, NS)
        return self.books.geography.place(self.source, adresse, self.cleaner)

    def _source_region(self, region: str | None) -> str | None:
        return self.books.geography.region(self.source, region, "(source region)", self.cleaner)

    def _code(self, element: etree._Element) -> str | None:
        """The national code of a coded element, translated (and reported) once."""
        if element not in self._translated:
            self._translated[element] = self.books.codes.national(
                self.source, local_name(element), element.text, path_of(element), self.cleaner
            )
        return self._translated[element]

    def _codes(self, parent: etree._Element, xpath: str) -> list[str]:
        found = (self._code(element) for element in parent.iterfind(xpath, NS))
        return _unique(code for code in found if code is not None)

    def _code_of(self, parent: etree._Element, name: str) -> str | None:
        return _first(self._codes(parent, f"l:{name}"))

    def _check_other_codes(self, formation: etree._Element) -> None:
        """Translate every other coded element, so unknown codes are reported too."""
        for element in formation.iter(*self.books.coded_tags):
            if next(element.iterancestors("{*}extras"), None) is None:
                self._code(element)


_SIRET_ORGANISME = "l:organisme-formation-responsable/l:SIRET-organisme-formation/l:SIRET"
_ADRESSE_ORGANISME = (
    "l:organisme-formation-responsable/l:coordonnees-organisme/l:coordonnees/l:adresse"
)


def _text(element: etree._Element, xpath: str) -> str | None:
    found = element.find(xpath, NS)
    return None if found is None else found.text


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _first(values: Iterable[str | None]) -> str | None:
    return next((value for value in values if value), None)
