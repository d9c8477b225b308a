"""The harmonisation layer: one LHEO 2.3 ``formation`` in, national facts out."""

from __future__ import annotations

from lxml import etree

from hub.errors import UnsupportedLheoError
from hub.lheo.schema import NS_23
from mappings._certifications import CertificationBook
from mappings._codes import CodeBook
from mappings._conventionnement import ConventionnementRules
from mappings._explain import explain
from mappings._geo import Geography
from mappings._language import LanguageRules
from mappings._model import Explanation, HarmonisedFormation
from mappings._reader import Books, FormationReader
from mappings._scan import Scanner
from mappings._tables import Tables

_FORMATION_23 = f"{{{NS_23}}}formation"


class Harmoniser:
    """Harmonises formations of any source with one set of checked tables.

    Build it once (it indexes the tables) and call `harmonise` for every formation.
    Between calls it only caches what depends on nothing but the tables (the national
    code of a value, the place of an address), so one instance serves every flow and
    thread, and a formation's result never depends on the formations before it.
    """

    def __init__(self, tables: Tables) -> None:
        self.tables = tables
        codes = CodeBook(tables)
        conventionnement = ConventionnementRules(tables.conventionnement)
        language = LanguageRules(tables.language_rules)
        self._books = Books(
            codes=codes,
            geography=Geography(tables, codes),
            certifications=CertificationBook(tables),
            language=language,
            conventionnement=conventionnement,
            placeholders=codes.placeholders,
            scanner=Scanner(
                tuple(
                    row["element"]
                    for row in tables.element_vocabularies
                    if row["vocabulaire"].startswith("dict-")
                ),
                conventionnement.element_names,
            ),
            conventionnement_elements=conventionnement.element_names,
            extra_names=language.extra_names | conventionnement.extra_names,
        )

    def harmonise(
        self, formation: etree._Element, *, source: str, region: str | None
    ) -> HarmonisedFormation:
        """The harmonised facts of ``formation`` sent by ``source`` for ``region``.

        ``formation`` is in the LHEO 2.3 namespace (2.2 flows are renamed before);
        ``region`` is the source's region code, current or pre-2016, or None for a
        national source (the region then comes from the training places). Nothing
        is dropped silently: every unmapped, doubtful or cleaned value is an issue.
        Raises UnsupportedLheoError when ``formation`` is not a 2.3 ``formation``,
        rather than returning empty facts.
        """
        if formation.tag != _FORMATION_23:
            raise UnsupportedLheoError(
                f"expected an LHEO 2.3 <formation>, got {formation.tag!r}",
                path=formation.get("numero"),
                hint="rename 2.2 flows into the 2.3 namespace before harmonising them",
            )
        return FormationReader(self._books, source).read(formation, region)

    def explain(self, *, source: str, code: str) -> list[Explanation]:
        """Which table rows map ``code`` for ``source``, and why (file, line, row)."""
        return explain(self.tables, source=source, code=code)
