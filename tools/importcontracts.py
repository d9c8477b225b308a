"""Import-linter contract types of this project (development tooling: ``make lint``).

``only_writers``: a set of packages alone may import SQL write constructs. The hub's rule
is that only ``hub.store`` writes tables; reads (``select``) may happen elsewhere, so the
contract looks at the names each ``from sqlalchemy import ...`` line takes, which grimp
keeps for every import, not only at which package is imported.
"""

from __future__ import annotations

import re

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output

_NAMES = re.compile(r"\bimport\s+\(?([^)#]*)")


class OnlyWritersContract(Contract):
    """Only ``writers`` may take ``names`` (``insert``, ``update``...) from ``packages``.

    Configuration: ``writers`` (modules, with their descendants), ``packages`` (external
    packages whose write constructs are watched) and ``names`` (the constructs).
    """

    type_name = "only_writers"

    writers = fields.ListField(subfield=fields.StringField())
    packages = fields.ListField(subfield=fields.StringField())
    names = fields.ListField(subfield=fields.StringField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        writers = tuple(str(w) for w in self.writers)  # type: ignore[attr-defined]
        watched = {str(n) for n in self.names}  # type: ignore[attr-defined]
        offences: list[str] = []
        for package in self.packages:  # type: ignore[attr-defined]
            for importer in sorted(graph.find_modules_that_directly_import(str(package))):
                if _within(importer, writers):
                    continue
                for detail in graph.get_import_details(importer=importer, imported=str(package)):
                    taken = _taken(str(detail["line_contents"]))
                    if taken & watched:
                        offences.append(
                            f"{importer}:{detail['line_number']} takes "
                            f"{', '.join(sorted(taken & watched))} from {package}"
                        )
        return ContractCheck(kept=not offences, metadata={"offences": offences})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for offence in check.metadata["offences"]:
            output.print_error(offence)
        output.new_line()


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _taken(line: str) -> set[str]:
    """The names a ``from X import a, b as c`` line takes (their original names)."""
    found = _NAMES.search(line)
    if found is None:
        return set()
    return {part.split(" as ")[0].strip() for part in found.group(1).split(",") if part.strip()}
