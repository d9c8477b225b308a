"""Reading one LHEO 2.3 ``formation`` into harmonised facts.

One `FormationReader` per formation: it owns the issue log of that formation and
translates each coded element once (so an unknown code is reported once, wherever it
is read from). It reads the element and never modifies it.

Ingest reads every formation of every flow, so reading is kept cheap: the formation,
each action and each session are walked once for all the paths read from them
(`ChildPaths`), the path named in an issue is worked out only for an issue (`At`), and
what a flow repeats (a code, a date, an address) is worked out once per process by the
books, which cache results that depend on the tables alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree

from mappings._certifications import CertificationBook
from mappings._cleaning import Cleaner
from mappings._codes import CodeBook
from mappings._conventionnement import ConventionnementRules
from mappings._extras import Extra, block_extras, extras_blocks, has_extras_block
from mappings._geo import NOWHERE, Geography, Place
from mappings._issues import At, IssueLog, local_name
from mappings._language import LanguageRules, OfferFacts
from mappings._model import (
    Certification,
    HarmonisedAction,
    HarmonisedFormation,
    HarmonisedSession,
    LanguageTraining,
)
from mappings._paths import (
    ADRESSE_ORGANISME,
    INSCRIPTION,
    SIRET_ORGANISME,
    Found,
    Walked,
    first,
    first_text,
    walk_formation,
)


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
    conventionnement_elements: tuple[tuple[str, str], ...]
    """Name and qualified tag of each coded element the conventionnement rows test."""
    extra_names: frozenset[str]
    """The extra names (normalised ``info``) the language and conventionnement rules test."""
    element_names: dict[object, str]
    """Qualified tag to name of every coded element (looked up with any node's tag)."""


class FormationReader:
    """Harmonises one formation of one source."""

    def __init__(self, books: Books, source: str) -> None:
        self.books = books
        self.source = source
        self.log = IssueLog(source)
        self.cleaner = Cleaner(books.placeholders, self.log)
        self._translated: dict[etree._Element, str | None] = {}
        self._extras: dict[etree._Element, tuple[Extra, ...]] = {}
        """The extras of each ``extras`` block of the formation that a rule may test."""

    def read(self, formation: etree._Element, region: str | None) -> HarmonisedFormation:
        walked = walk_formation(formation)
        found = walked.found
        names = self.books.extra_names
        self._extras = {block: block_extras(block, names) for block in extras_blocks(formation)}
        certifications = self.books.certifications.read(
            found["certification"], _references(walked), self.cleaner
        )
        actions = [self._action(action) for action in walked.parts]
        responsable = self.books.geography.place(
            self.source, first(found, ADRESSE_ORGANISME), self.cleaner
        )
        intitule = self.cleaner.text(
            first_text(found, "intitule-formation"), At(formation, "/intitule-formation")
        )
        formacodes = self._formacodes(found["domaine-formation/code-FORMACODE"])
        facts = self._facts(found, actions, certifications, formacodes, intitule or "")
        language = self._language(formation, facts, certifications)
        self._check_other_codes(formation)
        return HarmonisedFormation(
            source=self.source,
            numero=formation.get("numero"),
            intitule=intitule,
            datemaj=self.cleaner.date(formation.get("datemaj"), At(formation, "/@datemaj")),
            region=self._source_region(region)
            or _first(a.region for a in actions)
            or responsable.region,
            departement=_first(a.departement for a in actions) or responsable.departement,
            siret_organisme=self._siret(first(found, SIRET_ORGANISME)),
            formacodes=formacodes,
            niveau_entree=_first(self._codes(found["code-niveau-entree"])),
            niveau_sortie=_first(self._codes(found["code-niveau-sortie"])),
            certifications=certifications,
            language=language,
            cpf_eligible=facts.cpf_eligible,
            actions=actions,
            issues=self.log.issues,
        )

    def _action(self, walked: Walked) -> HarmonisedAction:
        action, found = walked.element, walked.found
        financeurs = self._codes(found["organisme-financeur/code-financeur"])
        codes = {
            name: frozenset(self._codes(action.iterdescendants(tag)))
            for name, tag in self.books.conventionnement_elements
        }
        extras = tuple(extra for block in action.iter("{*}extras") for extra in self._extras[block])
        conventionnement, rule_id = self.books.conventionnement.decide(codes, extras)
        adresse = first(found, "lieu-de-formation/coordonnees/adresse")
        lieu = self.books.geography.place(self.source, adresse, self.cleaner)
        sessions = [self._session(session, lieu) for session in walked.parts]
        return HarmonisedAction(
            numero=action.get("numero"),
            financeurs=financeurs,
            conventionnement=conventionnement,
            conventionnement_rule_id=rule_id,
            departement=lieu.departement or _first(s.departement for s in sessions),
            region=lieu.region or _first(s.region for s in sessions),
            publics_vises=self._codes(found["code-public-vise"]),
            prix_total_ttc=self.cleaner.price(
                first_text(found, "prix-total-TTC"), At(action, "/prix-total-TTC")
            ),
            prix_horaire_ttc=self.cleaner.price(
                first_text(found, "prix-horaire-TTC"), At(action, "/prix-horaire-TTC")
            ),
            sessions=sessions,
        )

    def _session(self, walked: Walked, lieu: Place) -> HarmonisedSession:
        session, found = walked.element, walked.found
        place = lieu
        if place == NOWHERE:
            adresse = first(INSCRIPTION.find(session), "adresse-inscription/adresse")
            place = self.books.geography.place(self.source, adresse, self.cleaner)
        return HarmonisedSession(
            numero=session.get("numero"),
            debut=self.cleaner.date(
                first_text(found, "periode/debut"), At(session, "/periode/debut")
            ),
            fin=self.cleaner.date(first_text(found, "periode/fin"), At(session, "/periode/fin")),
            departement=place.departement,
            region=place.region,
            code_insee_commune=place.code_insee_commune,
            latitude=place.latitude,
            longitude=place.longitude,
        )

    def _facts(
        self,
        found: Found,
        actions: list[HarmonisedAction],
        certifications: list[Certification],
        formacodes: list[str],
        title: str,
    ) -> OfferFacts:
        """What the language rules test, gathered over the formation and its actions."""
        return OfferFacts(
            formacodes=frozenset(formacodes),
            certifications=self.books.certifications.names(certifications),
            extras=tuple(extra for extras in self._extras.values() for extra in extras),
            title=title,
            financeurs=frozenset(code for a in actions for code in a.financeurs),
            publics=frozenset(code for a in actions for code in a.publics_vises),
            objectifs=frozenset(self._codes(found["objectif-general-formation"])),
            cpf_eligible=self._cpf_eligible(found, certifications),
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
                    At(formation, "/certification"),
                    "certification-langue-inconnue",
                    certification.certifinfo or certification.rs or certification.rncp or "",
                    "a language formation prepares a certification absent from "
                    "certifinfo.csv and certifications.csv",
                )
        return language

    def _cpf_eligible(self, found: Found, certifications: list[Certification]) -> bool:
        """CPF-eligible: a registered certification (RNCP, RS, CPF code), an eligible
        certification of the table, a ``code-type-formation/code-CPF``, or the
        ``eligibilite-cpf`` extras the Carif flows carry."""
        return (
            any(c.rncp or c.rs or c.cpf for c in certifications)
            or any(self.books.certifications.eligible_cpf(c.label) for c in certifications)
            or bool((first_text(found, "code-type-formation/code-CPF") or "").strip())
            or has_extras_block(self._extras, "eligibilite-cpf")
        )

    def _formacodes(self, elements: list[etree._Element]) -> list[str]:
        codes: list[str] = []
        for element in elements:
            value = self.cleaner.text(element.text, At(element))
            if value is None:
                continue
            if len(value) == 5 and value.isdigit():
                codes.append(value)
            else:
                message = "a FORMACODE has 5 digits: ignored"
                self.log.suspicious(At(element), "formacode-invalide", value, message)
        return _unique(codes)

    def _siret(self, element: etree._Element | None) -> str | None:
        return None if element is None else self.cleaner.siret(element.text, At(element))

    def _source_region(self, region: str | None) -> str | None:
        return self.books.geography.region(self.source, region, "(source region)", self.cleaner)

    def _code(self, element: etree._Element) -> str | None:
        """The national code of a coded element, translated (and reported) once."""
        translated = self._translated
        if element in translated:
            return translated[element]
        raw = element.text
        name = self.books.element_names.get(element.tag) or local_name(element)
        code, findings = self.books.codes.national(self.source, name, raw)
        if findings:
            self.log.report(At(element), raw or "", findings)
        translated[element] = code
        return code

    def _codes(self, elements: Iterable[etree._Element]) -> list[str]:
        return _unique([code for code in map(self._code, elements) if code is not None])

    def _check_other_codes(self, formation: etree._Element) -> None:
        """Translate every other coded element, so unknown codes are reported too
        (but not those inside extras, which are the region's own business)."""
        names = self.books.element_names
        # Extras blocks are small: looking at each of their elements is cheaper than
        # setting up lxml's filter on every coded tag for each block.
        in_extras = {e for block in self._extras for e in block.iter() if e.tag in names}
        translated = self._translated
        for element in formation.iter(*self.books.coded_tags):
            if element not in in_extras and element not in translated:
                self._code(element)


def _references(walked: Walked) -> list[etree._Element]:
    """The ``reference-certification`` elements of the sessions, in document order."""
    return [
        reference
        for action in walked.parts
        for session in action.parts
        for reference in session.found["reference-certification"]
    ]


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values)) if len(values) > 1 else values


def _first(values: Iterable[str | None]) -> str | None:
    return next((value for value in values if value), None)
