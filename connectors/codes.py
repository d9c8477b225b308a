"""A legacy base's own codes, turned into national ones in the read stage.

Legacy exports code financeurs, publics and levels in their own tables (``CR``, ``PUB-DE``,
``N5``...) and write the pre-2016 region code in their addresses. The official LHEO 2.3 XSD
enumerates financeurs and levels, so a formation still carrying a local code would be
rejected at validation, before the mapping layer could translate it. The read stage
therefore translates, with the very rows the mapping layer uses: a base's rows of
``mappings/tables/source_codes.csv`` (for instance source ``via-competences-auvergne``) and
``mappings/tables/regions_anciennes.csv`` (83 → 84). The tables stay the one place a code is
added; a code neither national nor local is left as sent and flagged (the XSD or the
mapping layer then reports it too).

:class:`LocalCodes` also works the other way (:meth:`LocalCodes.local`), so a simulator
writes exactly the codes the table translates.
"""

from __future__ import annotations

import hashlib
import json

from lxml import etree

from hub.errors import ConfigError
from hub.harmonise import harmoniser
from hub.lheo.dialect import Flag
from mappings import Tables

__all__ = ["LocalCodes", "OldRegions", "element_path"]


def _tables() -> Tables:
    return harmoniser().tables


def _ns(formation: etree._Element) -> str:
    """``{namespace}`` of the formation's own LHEO version, for tag names."""
    return f"{{{etree.QName(formation).namespace}}}"


def element_path(formation: etree._Element, element: etree._Element) -> str:
    """``action[2]/organisme-financeur/code-financeur``: where ``element`` is in its formation."""
    path = etree.ElementTree(formation).getelementpath(element)
    return str(path).replace(_ns(formation), "")


class LocalCodes:
    """The local codes of one table source (a base of a regional system) and their meaning."""

    def __init__(self, table_source: str, tables: Tables | None = None) -> None:
        tables = tables or _tables()
        self.table_source = table_source
        self._national: dict[tuple[str, str], str] = {}
        self._local: dict[tuple[str, str], str] = {}
        for row in tables.source_codes:
            if row["source"] != table_source:
                continue
            element, local, national = row["element"], row["local_code"], row["national_code"]
            self._national[(element, local)] = national
            self._local.setdefault((element, national), local)  # the first row names it
        if not self._national:
            known = sorted({row["source"] for row in tables.source_codes})
            raise ConfigError(
                f"no local codes for {table_source!r} in source_codes.csv; "
                f"sources with local codes: {', '.join(known)}"
            )
        self.elements = frozenset(element for element, _ in self._national)
        self._vocabularies = {name: tables.vocabulary_of(name) for name in self.elements}

    def fingerprint(self) -> str:
        """Changes with the table rows: a stored formation translated otherwise is re-read."""
        vocabularies = {name: sorted(v or ()) for name, v in self._vocabularies.items()}
        state = [sorted(self._national.items()), sorted(vocabularies.items())]
        return hashlib.sha256(json.dumps(state).encode()).hexdigest()[:16]

    def national(self, element: str, value: str) -> str | None:
        """The national code ``value`` stands for in ``element``, if the table has its row."""
        return self._national.get((element, value))

    def local(self, element: str, national: str) -> str | None:
        """The local code this source writes for ``national`` (None: it writes it as is)."""
        return self._local.get((element, national))

    def translate(self, formation: etree._Element) -> list[Flag]:
        """Replace every local code of ``formation`` (2.3 namespace) by its national code.

        A value that is neither a local code of this source nor a national code of the
        element's vocabulary is left as sent and flagged ``code-local-inconnu``.
        """
        flags: list[Flag] = []
        prefix = _ns(formation)
        for name in sorted(self.elements):
            vocabulary = self._vocabularies[name] or frozenset()
            for element in formation.iter(f"{prefix}{name}"):
                value = (element.text or "").strip()
                national = self.national(name, value)
                if national is not None:
                    element.text = national
                elif value not in vocabulary:
                    flags.append(
                        Flag(
                            "code-local-inconnu",
                            f"{element_path(formation, element)}: « {value} » is neither a "
                            f"national code nor a local code of {self.table_source}; left as "
                            "sent (add its row to mappings/tables/source_codes.csv)",
                        )
                    )
        return flags


class OldRegions:
    """Pre-2016 region codes (``regions_anciennes.csv``) and the current region of each."""

    def __init__(self, tables: Tables | None = None) -> None:
        tables = tables or _tables()
        self._current = {
            row["code_ancien"]: row["code_region"]
            for row in tables.regions_anciennes
            if row["code_ancien"] != row["code_region"]
        }

    def current(self, code: str) -> str:
        """The current code of ``code`` (itself when it did not change in 2016)."""
        return self._current.get(code, code)

    def old_codes_of(self, region: str) -> frozenset[str]:
        """The pre-2016 codes merged into ``region`` (``84``: 82 and 83)."""
        return frozenset(old for old, current in self._current.items() if current == region)

    def harmonise(self, formation: etree._Element) -> int:
        """Replace pre-2016 codes in every ``<region>`` of ``formation``; how many changed."""
        changed = 0
        for element in formation.iter(f"{_ns(formation)}region"):
            value = (element.text or "").strip()
            current = self.current(value)
            if current != value:
                element.text = current
                changed += 1
        return changed
