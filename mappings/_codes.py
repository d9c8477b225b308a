"""Turning a source's code for an element into the national LHEO 2.3 code.

Order of look-up, so a region's legacy code always wins over a national code it
happens to collide with: the source's own row in ``source_codes.csv``, then the
national vocabulary of the element. Old-nomenclature levels become 2019 levels.
Anything else is an issue, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from mappings._cleaning import placeholder_key
from mappings._issues import Finding
from mappings._tables import Tables

Translation = tuple[str | None, tuple[Finding, ...]]
"""A national code (None when there is none) and the issues met finding it."""


class CodeBook:
    """National codes of every coded element, and each source's local codes."""

    def __init__(self, tables: Tables) -> None:
        self._local = {
            (row["source"], row["element"], row["local_code"]): row["national_code"]
            for row in tables.source_codes
        }
        self._vocabulary_names = {
            row["element"]: row["vocabulaire"] for row in tables.element_vocabularies
        }
        self._vocabularies = tables.vocabularies
        self._obsolete = {
            (row["dictionnaire"], row["code"]): row["libelle"]
            for row in tables.dictionaries
            if row["statut"] == "obsolete"
        }
        self._niveaux_2019 = {row["code_ancien"]: row["code_2019"] for row in tables.niveaux_2019}
        self.placeholders = frozenset(placeholder_key(row["valeur"]) for row in tables.placeholders)
        """The placeholder values (as `placeholder_key` gives them) that mean "absent"."""
        self.national: Callable[[str, str, str | None], Translation] = lru_cache(maxsize=16384)(
            self._translation
        )
        """``national(source, element, raw)``: the national code for ``raw`` in ``element``
        (None when there is none), and the issues to log about ``raw`` (an unknown,
        obsolete or reformatted code). Cached: a flow sends the same few values of each
        element again and again."""

    def is_coded(self, element: str) -> bool:
        return element in self._vocabulary_names

    def coded_elements(self) -> tuple[str, ...]:
        """The names of the coded elements, in the order of ``element_vocabularies.csv``."""
        return tuple(self._vocabulary_names)

    def local(self, source: str, element: str, value: str) -> str | None:
        """The national code ``source`` means by ``value`` in ``element``, if it has a row."""
        return self._local.get((source, element, value))

    def _translation(self, source: str, element: str, raw: str | None) -> Translation:
        """`national`, before caching."""
        if raw is None or not raw.strip():
            return None, ()
        value = raw.strip()
        vocabulary_name = self._vocabulary_names[element]
        vocabulary = self._vocabularies[vocabulary_name]
        findings: list[Finding] = []
        code = self.local(source, element, value)
        if code is None and value in vocabulary:
            code = value
        if code is None and value.lstrip("0") in vocabulary and value.isdigit():
            code = value.lstrip("0")
            findings.append(("cleaned", "code-reformate", f"leading zeros dropped: {code}"))
        if code is None:
            findings.append(self._unknown(source, element, raw))
            return None, tuple(findings)
        obsolete = self._obsolete.get((vocabulary_name, code))
        if obsolete is not None:
            message = f"{vocabulary_name} {code} means {obsolete!r}: no usable value"
            findings.append(("suspicious", "code-obsolete", message))
            return None, tuple(findings)
        if vocabulary_name == "dict-niveaux":
            return self._niveaux_2019.get(code, code), tuple(findings)
        return code, tuple(findings)

    def _unknown(self, source: str, element: str, raw: str) -> Finding:
        if placeholder_key(raw) in self.placeholders:
            return ("cleaned", "placeholder", "placeholder code treated as absent")
        vocabulary_name = self._vocabulary_names[element]
        message = (
            f"{raw.strip()!r} is neither a {vocabulary_name} code nor a local code of "
            f"{source} for {element} (add a row to source_codes.csv)"
        )
        return ("unmapped", "code-inconnu", message)
