"""The definition of "formation linguistique", read from ``language_rules.csv``.

Rules are tried by ascending ``priority``; the first that matches decides the kind, the
path and the default target level, and its ``rule_id`` is kept with the result.

A rule matches when
- its *subject* matches, if it has one: at least one of its FORMACODEs, certifications
  (label or family), extra (``extra_info`` + one of ``extra_value``) or title keywords
  is found in the formation (they are alternative ways regions say what it is about);
- and every *context* column it fills matches: one of its financeurs, one of its
  publics visés, one of its objectifs, and its CPF eligibility.
Within a cell, ``|`` separates alternatives. Texts compare without case, accents or
punctuation, as whole words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

from mappings._cleaning import normalise
from mappings._csvtable import Row, Table
from mappings._extras import Extra, contains_phrase
from mappings._model import CEFR_LEVELS, LanguageKind, LanguagePath, LanguageTraining

_TITLE_LEVEL = re.compile(r"\b(A1\.1|A1|A2|B1|B2|C1|C2)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class OfferFacts:
    """What the rules look at in one formation, already in national codes."""

    formacodes: frozenset[str]
    certifications: frozenset[str]
    """Labels and families of the recognised certifications."""
    extras: tuple[Extra, ...]
    title: str
    """The cleaned title, not normalised (levels are read from it)."""
    financeurs: frozenset[str]
    publics: frozenset[str]
    objectifs: frozenset[str]
    cpf_eligible: bool


@dataclass(frozen=True, slots=True)
class LanguageRule:
    """One row of ``language_rules.csv``, ready to test."""

    row: Row
    priority: int
    formacodes: frozenset[str]
    certifications: frozenset[str]
    extra_info: str
    extra_values: tuple[str, ...]
    keywords: tuple[str, ...]
    financeurs: frozenset[str]
    publics: frozenset[str]
    objectifs: frozenset[str]
    cpf_eligible: bool | None

    @classmethod
    def from_row(cls, row: Row) -> LanguageRule:
        return cls(
            row=row,
            priority=int(row["priority"]),
            formacodes=frozenset(row.many("formacodes")),
            certifications=frozenset(row.many("certifications")),
            extra_info=normalise(row["extra_info"]),
            extra_values=tuple(normalise(value) for value in row.many("extra_value")),
            keywords=tuple(normalise(keyword) for keyword in row.many("title_keywords")),
            financeurs=frozenset(row.many("financeurs")),
            publics=frozenset(row.many("publics")),
            objectifs=frozenset(row.many("objectifs")),
            cpf_eligible=None if not row["cpf_eligible"] else row["cpf_eligible"] == "1",
        )

    def matches(self, facts: OfferFacts, title: str) -> bool:
        """Whether the rule applies; ``title`` is ``facts.title`` normalised."""
        return self._subject_matches(facts, title) and self._context_matches(facts)

    @property
    def has_subject(self) -> bool:
        return bool(self.formacodes or self.certifications or self.extra_info or self.keywords)

    def _subject_matches(self, facts: OfferFacts, title: str) -> bool:
        if not self.has_subject:
            return True
        return bool(
            not self.formacodes.isdisjoint(facts.formacodes)
            or not self.certifications.isdisjoint(facts.certifications)
            or any(keyword and contains_phrase(title, keyword) for keyword in self.keywords)
            or any(
                extra.named(self.extra_info) and extra.says(self.extra_values)
                for extra in facts.extras
                if self.extra_info
            )
        )

    def _context_matches(self, facts: OfferFacts) -> bool:
        return (
            (not self.financeurs or bool(self.financeurs & facts.financeurs))
            and (not self.publics or bool(self.publics & facts.publics))
            and (not self.objectifs or bool(self.objectifs & facts.objectifs))
            and (self.cpf_eligible is None or self.cpf_eligible == facts.cpf_eligible)
        )


class LanguageRules:
    """The rules of ``language_rules.csv`` in the order they are tried.

    Most formations are not linguistic and match no rule, so a formation is only tested
    against the rules its subject may match: the rules without a subject, and those that
    share a FORMACODE, a certification, an extra's name or a title keyword with it.
    """

    def __init__(self, table: Table) -> None:
        self.rules = sorted((LanguageRule.from_row(row) for row in table), key=_priority)
        self.extra_names = frozenset(rule.extra_info for rule in self.rules if rule.extra_info)
        """The extra names (normalised) the rules test: other extras never decide."""
        self._without_subject = {n for n, rule in enumerate(self.rules) if not rule.has_subject}
        # What a formation may share with a rule's subject, to the positions of the rules.
        self._by_formacode: dict[str, set[int]] = {}
        self._by_certification: dict[str, set[int]] = {}
        self._by_extra_name: dict[str, set[int]] = {}
        self._by_first_word: dict[str, list[tuple[str, int]]] = {}
        """A title keyword's first word to the keyword (padded: whole words) and its rule."""
        for position, rule in enumerate(self.rules):
            for code in rule.formacodes:
                self._by_formacode.setdefault(code, set()).add(position)
            for name in rule.certifications:
                self._by_certification.setdefault(name, set()).add(position)
            if rule.extra_info:
                self._by_extra_name.setdefault(rule.extra_info, set()).add(position)
            for keyword in filter(None, rule.keywords):
                phrase = (f" {keyword} ", position)
                self._by_first_word.setdefault(keyword.split()[0], []).append(phrase)

    def _candidates(self, facts: OfferFacts, title: str) -> list[LanguageRule]:
        """The rules whose subject may match (every rule that does), in priority order."""
        positions = set(self._without_subject)
        extra_names = {name for extra in facts.extras for name in (extra.info, extra.block)}
        for index, values in (
            (self._by_formacode, facts.formacodes),
            (self._by_certification, facts.certifications),
            (self._by_extra_name, extra_names),
        ):
            for value in index.keys() & values:
                positions |= index[value]
        padded = f" {title} "
        for word in self._by_first_word.keys() & set(title.split()):
            positions.update(n for phrase, n in self._by_first_word[word] if phrase in padded)
        return [self.rules[position] for position in sorted(positions)]

    def classify(self, facts: OfferFacts, cefr: list[str]) -> LanguageTraining | None:
        """The first matching rule's verdict, None when the formation is not linguistic.

        The target level is, in order: the highest CEFR level of the certifications
        prepared (``cefr``), the highest level the title names, the rule's default.
        """
        title = normalise(facts.title)
        for rule in self._candidates(facts, title):
            if rule.matches(facts, title):
                row = rule.row
                level = _highest(cefr) or _highest(_title_levels(facts.title))
                return LanguageTraining(
                    kind=cast(LanguageKind, row["kind"]),
                    path=cast(LanguagePath, row["path"]),
                    target_level=level or row["target_level"] or None,
                    rule_id=row["rule_id"],
                )
        return None


def _priority(rule: LanguageRule) -> int:
    return rule.priority


def _title_levels(title: str) -> list[str]:
    return [match.upper() for match in _TITLE_LEVEL.findall(title)]


def _highest(levels: list[str]) -> str | None:
    known = [level for level in levels if level in CEFR_LEVELS]
    return max(known, key=CEFR_LEVELS.index) if known else None
