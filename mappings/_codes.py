"""Turning a source's code for an element into the national LHEO 2.3 code.

Order of look-up, so a region's legacy code always wins over a national code it
happens to collide with: the source's own row in ``source_codes.csv``, then the
national vocabulary of the element. Old-nomenclature levels become 2019 levels.
Anything else is an issue, never silently dropped.
"""

from __future__ import annotations

from mappings._cleaning import Cleaner
from mappings._tables import Tables


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

    def is_coded(self, element: str) -> bool:
        return element in self._vocabulary_names

    def local(self, source: str, element: str, value: str) -> str | None:
        """The national code ``source`` means by ``value`` in ``element``, if it has a row."""
        return self._local.get((source, element, value))

    def national(
        self, source: str, element: str, raw: str | None, path: str, cleaner: Cleaner
    ) -> str | None:
        """The national code for ``raw`` in ``element``, or None with an issue logged."""
        if raw is None or not raw.strip():
            return None
        value = raw.strip()
        vocabulary_name = self._vocabulary_names[element]
        vocabulary = self._vocabularies[vocabulary_name]
        code = self.local(source, element, value)
        if code is None and value in vocabulary:
            code = value
        if code is None and value.lstrip("0") in vocabulary and value.isdigit():
            code = value.lstrip("0")
            cleaner.log.cleaned(path, "code-reformate", raw, f"leading zeros dropped: {code}")
        if code is None:
            self._unknown(source, element, raw, path, cleaner)
            return None
        obsolete = self._obsolete.get((vocabulary_name, code))
        if obsolete is not None:
            message = f"{vocabulary_name} {code} means {obsolete!r}: no usable value"
            cleaner.log.suspicious(path, "code-obsolete", raw, message)
            return None
        if vocabulary_name == "dict-niveaux":
            return self._niveaux_2019.get(code, code)
        return code

    def _unknown(self, source: str, element: str, raw: str, path: str, cleaner: Cleaner) -> None:
        if cleaner.is_placeholder(raw):
            cleaner.log.cleaned(path, "placeholder", raw, "placeholder code treated as absent")
            return
        vocabulary_name = self._vocabulary_names[element]
        message = (
            f"{raw.strip()!r} is neither a {vocabulary_name} code nor a local code of "
            f"{source} for {element} (add a row to source_codes.csv)"
        )
        cleaner.log.unmapped(path, "code-inconnu", raw, message)
