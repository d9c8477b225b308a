"""Reading one LHEO 2.3 ``formation`` into harmonised facts.

One `FormationReader` per formation: it owns the issue log of that formation and
translates each coded element once (so an unknown code is reported once, wherever it
is read from). It reads the element and never modifies it.

Ingest reads every formation of every flow, so reading is kept cheap: the formation,
each action and each session are walked once for all the paths read from them
(`ChildPaths`), the coded elements and ``extras`` found anywhere else in one more pass
(`Scanner`), the path named in an issue is worked out only for an issue (`At`), and
what a flow repeats (a code, a date, an address, a certification, a funding decision)
is worked out once per process by the books, which cache results that depend on the
tables alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree

from mappings._certifications import CertificationBook
from mappings._cleaning import Cleaner
from mappings._codes import CodeBook
from mappings._conventionnement import ConventionnementRules
from mappings._extras import Block, has_extras_block, read_block
from mappings._geo import NOWHERE, Geography, Place
from mappings._issues import At, IssueLog
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
    every,
    first,
    first_text,
    walk_formation,
)
from mappings._scan import Scan, Scanner


@dataclass(frozen=True, slots=True)
class Books:
    """Everything built once from the tables and shared by every formation read."""

    codes: CodeBook
    geography: Geography
    certifications: CertificationBook
    language: LanguageRules
    conventionnement: ConventionnementRules
    placeholders: frozenset[str]
    scanner: Scanner
    """Finds the elements whose codes come from an LHEO dictionary, those the
    conventionnement rows test and the ``extras`` blocks."""
    conventionnement_elements: tuple[str, ...]
    """Name of each coded element the conventionnement rows test."""
    extra_names: frozenset[str]
    """The extra names (normalised ``info``) the language and conventionnement rules test."""


class FormationReader:
    """Harmonises one formation of one source."""

    _scan: Scan
    _blocks: dict[etree._Element, Block]
    """Each ``extras`` block of the formation, with the extras a rule may test."""

    def __init__(self, books: Books, source: str) -> None:
        self.books = books
        self.source = source
        self.log = IssueLog(source)
        self.cleaner = Cleaner(books.placeholders, self.log)
        self._national = books.codes.national
        self._translated: dict[etree._Element, str | None] = {}

    def read(self, formation: etree._Element, region: str | None) -> HarmonisedFormation:
        walked = walk_formation(formation)
        found = walked.found
        names = self.books.extra_names
        positions = {action.element: n for n, action in enumerate(walked.parts)}
        self._scan = scan = self.books.scanner.scan(formation, positions)
        self._blocks = {block: read_block(block, names) for block in scan.blocks}
        certifications = self.books.certifications.read(
            every(found, "certification"), _references(walked), self.cleaner
        )
        actions = [self._action(n, action) for n, action in enumerate(walked.parts)]
        responsable = self.books.geography.place(
            self.source, first(found, ADRESSE_ORGANISME), self.cleaner
        )
        intitule = self.cleaner.text(
            first_text(found, "intitule-formation"), formation, "/intitule-formation"
        )
        formacodes = self._formacodes(every(found, "domaine-formation/code-FORMACODE"))
        facts = self._facts(found, actions, certifications, formacodes, intitule or "")
        language = self._language(formation, facts, certifications)
        self._check_other_codes()
        return HarmonisedFormation(
            source=self.source,
            numero=formation.get("numero"),
            intitule=intitule,
            datemaj=self.cleaner.date(formation.get("datemaj"), formation, "/@datemaj"),
            region=self._source_region(region)
            or _first(a.region for a in actions)
            or responsable.region,
            departement=_first(a.departement for a in actions) or responsable.departement,
            siret_organisme=self._siret(first(found, SIRET_ORGANISME)),
            formacodes=formacodes,
            niveau_entree=_first(self._codes_at(found, "code-niveau-entree")),
            niveau_sortie=_first(self._codes_at(found, "code-niveau-sortie")),
            certifications=certifications,
            language=language,
            cpf_eligible=facts.cpf_eligible,
            actions=actions,
            issues=self.log.issues,
        )

    def _action(self, position: int, walked: Walked) -> HarmonisedAction:
        action, found = walked.element, walked.found
        financeurs = self._codes_at(found, "organisme-financeur/code-financeur")
        tested = self._scan.action_codes.get(position, {})
        codes = tuple(
            frozenset(self._codes(tested.get(name, ()), name))
            for name in self.books.conventionnement_elements
        )
        blocks = self._scan.action_blocks.get(position, ())
        extras = tuple(extra for block in blocks for extra in self._blocks[block].extras)
        conventionnement, rule_id = self.books.conventionnement.decide(codes, extras)
        adresse = first(found, "lieu-de-formation/coordonnees/adresse")
        lieu = self.books.geography.place(self.source, adresse, self.cleaner)
        own = None if lieu is NOWHERE else lieu  # places equal to NOWHERE are NOWHERE
        sessions = [self._session(session, own) for session in walked.parts]
        price = self.cleaner.price
        return HarmonisedAction(
            numero=action.get("numero"),
            financeurs=financeurs,
            conventionnement=conventionnement,
            conventionnement_rule_id=rule_id,
            departement=lieu.departement or _first(s.departement for s in sessions),
            region=lieu.region or _first(s.region for s in sessions),
            publics_vises=self._codes_at(found, "code-public-vise"),
            prix_total_ttc=price(first_text(found, "prix-total-TTC"), action, "/prix-total-TTC"),
            prix_horaire_ttc=price(
                first_text(found, "prix-horaire-TTC"), action, "/prix-horaire-TTC"
            ),
            sessions=sessions,
        )

    def _session(self, walked: Walked, lieu: Place | None) -> HarmonisedSession:
        """A session of an action, at the action's ``lieu``, else at its own address."""
        session, found = walked.element, walked.found
        place = lieu
        if place is None:
            adresse = first(INSCRIPTION.find(session), "adresse-inscription/adresse")
            place = self.books.geography.place(self.source, adresse, self.cleaner)
        date = self.cleaner.date
        return HarmonisedSession(  # positional: sessions are many, and keywords cost
            session.get("numero"),
            date(first_text(found, "periode/debut"), session, "/periode/debut"),
            date(first_text(found, "periode/fin"), session, "/periode/fin"),
            place.departement,
            place.region,
            place.code_insee_commune,
            place.latitude,
            place.longitude,
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
            extras=tuple(extra for block in self._blocks.values() for extra in block.extras),
            title=title,
            financeurs=frozenset(code for a in actions for code in a.financeurs),
            publics=frozenset(code for a in actions for code in a.publics_vises),
            objectifs=frozenset(self._codes_at(found, "objectif-general-formation")),
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
            or has_extras_block(self._blocks.values(), "eligibilite-cpf")
        )

    def _formacodes(self, elements: list[etree._Element]) -> list[str]:
        codes: list[str] = []
        for element in elements:
            value = self.cleaner.text(element.text, element)
            if value is None:
                continue
            if len(value) == 5 and value.isdigit():
                codes.append(value)
            else:
                message = "a FORMACODE has 5 digits: ignored"
                self.log.suspicious(At(element), "formacode-invalide", value, message)
        return _unique(codes)

    def _siret(self, element: etree._Element | None) -> str | None:
        return None if element is None else self.cleaner.siret(element.text, element)

    def _source_region(self, region: str | None) -> str | None:
        return self.books.geography.region(self.source, region, "(source region)", self.cleaner)

    def _translate(self, element: etree._Element, name: str) -> str | None:
        """The national code of ``element`` (named ``name``), reported and remembered:
        each coded element is translated once, wherever it is read from."""
        raw = element.text
        code, findings = self._national(self.source, name, raw)
        if findings:
            self.log.report(At(element), raw or "", findings)
        self._translated[element] = code
        return code

    def _codes(self, elements: Iterable[etree._Element], name: str) -> list[str]:
        """The national codes of ``elements`` (all named ``name``), each once."""
        translated = self._translated
        codes = []
        for element in elements:
            code = translated[element] if element in translated else self._translate(element, name)
            if code is not None:
                codes.append(code)
        return _unique(codes)

    def _codes_at(self, found: Found, path: str) -> list[str]:
        """The national codes of the elements at ``path``, each once."""
        return self._codes(every(found, path), path.rpartition("/")[2])

    def _check_other_codes(self) -> None:
        """Translate every other coded element, so unknown codes are reported too
        (but not those inside extras, which are the region's own business)."""
        translated = self._translated
        for element, name in self._scan.coded:
            if element not in translated:
                self._translate(element, name)


def _references(walked: Walked) -> list[etree._Element]:
    """The ``reference-certification`` elements of the sessions, in document order."""
    return [
        reference
        for action in walked.parts
        for session in action.parts
        for reference in every(session.found, "reference-certification")
    ]


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values)) if len(values) > 1 else values


def _first(values: Iterable[str | None]) -> str | None:
    return next((value for value in values if value), None)
