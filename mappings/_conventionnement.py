"""Whether an action is publicly funded, and by whom, from ``conventionnement.csv``.

OFII first (it is the integration offer the map shows apart), then any other public
funder, else ``non_conventionne``. Within a category the first matching row, in file
order, is the one reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mappings._cleaning import normalise
from mappings._csvtable import Row, Table
from mappings._extras import Extra
from mappings._model import Conventionnement

_PRECEDENCE: tuple[Conventionnement, ...] = ("ofii", "autre_public")


@dataclass(frozen=True, slots=True)
class _Criterion:
    row: Row
    criterion: str
    name: str
    values: tuple[str, ...]

    def matches(self, codes: Mapping[str, frozenset[str]], extras: tuple[Extra, ...]) -> bool:
        if self.criterion == "element":
            return bool(codes.get(self.name, frozenset()) & frozenset(self.values))
        wanted = normalise(self.name)
        return any(extra.named(wanted) and extra.says(self.values) for extra in extras)


class ConventionnementRules:
    """The rows of ``conventionnement.csv``, grouped by the category they give."""

    def __init__(self, table: Table) -> None:
        self._by_category: dict[str, list[_Criterion]] = {}
        for row in table:
            is_extra = row["criterion"] == "extra"
            values = tuple(normalise(v) if is_extra else v for v in row.many("value"))
            criterion = _Criterion(row, row["criterion"], row["name"], values)
            self._by_category.setdefault(row["conventionnement"], []).append(criterion)
        self.element_names = frozenset(
            row["name"] for row in table if row["criterion"] == "element"
        )
        """The coded elements the rows test: the action's codes to gather for `decide`."""

    def decide(
        self, codes: Mapping[str, frozenset[str]], extras: tuple[Extra, ...]
    ) -> tuple[Conventionnement, str | None]:
        """The action's category and the ``rule_id`` that decided it.

        ``codes`` holds the action's national codes by element (``code-financeur``,
        ``conventionnement``); ``extras`` every extra under the action.
        """
        for category in _PRECEDENCE:
            for criterion in self._by_category.get(category, []):
                if criterion.matches(codes, extras):
                    return category, criterion.row["rule_id"]
        return "non_conventionne", None
