"""Whether an action is publicly funded, and by whom, from ``conventionnement.csv``.

OFII first (it is the integration offer the map shows apart), then any other public
funder, else ``non_conventionne``. Within a category the first matching row, in file
order, is the one reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from mappings._cleaning import normalise
from mappings._csvtable import Row, Table
from mappings._extras import Extra
from mappings._model import Conventionnement

_PRECEDENCE: tuple[Conventionnement, ...] = ("ofii", "autre_public")


@dataclass(frozen=True, slots=True)
class _ExtraCriterion:
    row: Row
    info: str
    """The extra's ``info`` (or its block's), normalised."""
    phrases: tuple[str, ...]
    """The values, normalised, any of which the extra must say."""

    def matches(self, extras: tuple[Extra, ...]) -> bool:
        return any(extra.named(self.info) and extra.says(self.phrases) for extra in extras)


@dataclass(slots=True)
class _Category:
    """The rows giving one category, indexed so an action is not tested row by row."""

    rows: list[Row] = field(default_factory=list)
    """In file order: a row's position here is its rank."""
    by_code: dict[tuple[str, str], int] = field(default_factory=dict)
    """(element, national code) to the rank of the first ``element`` row naming it."""
    extras: list[tuple[int, _ExtraCriterion]] = field(default_factory=list)
    """The ``extra`` rows and their ranks, in file order."""

    def add(self, row: Row) -> None:
        rank = len(self.rows)
        self.rows.append(row)
        if row["criterion"] == "element":
            for value in row.many("value"):
                self.by_code.setdefault((row["name"], value), rank)
        else:
            phrases = tuple(normalise(value) for value in row.many("value"))
            self.extras.append((rank, _ExtraCriterion(row, normalise(row["name"]), phrases)))

    def first_match(
        self, codes: Mapping[str, frozenset[str]], extras: tuple[Extra, ...]
    ) -> Row | None:
        """The first row, in file order, that ``codes`` or ``extras`` match."""
        ranks = [
            rank
            for name, values in codes.items()
            for value in values
            if (rank := self.by_code.get((name, value))) is not None
        ]
        best = min(ranks, default=len(self.rows))
        names = {name for extra in extras for name in (extra.info, extra.block)}
        for rank, criterion in self.extras:
            if rank >= best:
                break
            if criterion.info in names and criterion.matches(extras):
                best = rank
                break
        return self.rows[best] if best < len(self.rows) else None


class ConventionnementRules:
    """The rows of ``conventionnement.csv``, grouped by the category they give."""

    def __init__(self, table: Table) -> None:
        self._by_category: dict[str, _Category] = {}
        for row in table:
            self._by_category.setdefault(row["conventionnement"], _Category()).add(row)
        self.element_names = tuple(
            dict.fromkeys(row["name"] for row in table if row["criterion"] == "element")
        )
        """The coded elements the rows test: the action's codes to gather for `decide`."""
        self.extra_names = frozenset(
            criterion.info
            for category in self._by_category.values()
            for _, criterion in category.extras
        )
        """The extra names (normalised) the rows test: other extras never decide."""
        self._decide = lru_cache(maxsize=4096)(self._decision)

    def decide(
        self, codes: tuple[frozenset[str], ...], extras: tuple[Extra, ...]
    ) -> tuple[Conventionnement, str | None]:
        """The action's category and the ``rule_id`` that decided it.

        ``codes`` holds the action's national codes of each of `element_names`, in that
        order; ``extras`` every extra under the action (only those a rule may name).
        Cached: the actions of a flow have the same few funders and extras.
        """
        return self._decide(codes, extras)

    def _decision(
        self, codes: tuple[frozenset[str], ...], extras: tuple[Extra, ...]
    ) -> tuple[Conventionnement, str | None]:
        """`decide`, before caching."""
        by_name = dict(zip(self.element_names, codes, strict=True))
        for category in _PRECEDENCE:
            rows = self._by_category.get(category)
            row = None if rows is None else rows.first_match(by_name, extras)
            if row is not None:
                return category, row["rule_id"]
        return "non_conventionne", None
