"""The harmoniser gives, issue for issue, the output recorded in ``golden/cases.jsonl.gz``.

The golden cases pin the whole output of ``mappings.to_json(harmonise(...))`` (issues and
their order included) for about 300 formations: generated corpora (LHEO 2.3, and 2.2 read
into 2.3), the same formations with seeded regional defects, and every formation the
other tests of tests/mappings harmonise. They were computed with a frozen copy of the
tables (``golden/tables``), so editing a packaged table does not move them; they guard
the code, e.g. its optimisations, which must not change any result.

When a change of output is intended, regenerate them explicitly and review the diff:
``.venv/bin/python tests/mappings/golden/regenerate.py`` (``--inputs`` to rebuild the
inputs and the frozen tables as well).
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from mappings import Harmoniser, from_json, load_tables, to_json

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = "run tests/mappings/golden/regenerate.py if this change of output is intended"


@pytest.fixture(scope="module")
def cases() -> list[dict[str, Any]]:
    with gzip.open(GOLDEN / "cases.jsonl.gz", "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def golden_harmoniser() -> Harmoniser:
    return Harmoniser(load_tables(GOLDEN / "tables"))


def _compact(value: Any) -> str:
    """JSON text that tells 1 from 1.0 and True, and keeps key order."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _difference(actual: Any, expected: Any, where: str = "") -> str:
    """Where the first difference of one case is (``actions[1].prix_total_ttc``), readably."""
    if isinstance(actual, dict) and isinstance(expected, dict):
        if list(actual) != list(expected):
            return f"{where or 'top'}: fields {list(actual)}, expected {list(expected)}"
        for key in expected:
            if _compact(actual[key]) != _compact(expected[key]):
                return _difference(actual[key], expected[key], f"{where}.{key}".lstrip("."))
    if isinstance(actual, list) and isinstance(expected, list):
        for position, (got, wanted) in enumerate(zip(actual, expected, strict=False)):
            if _compact(got) != _compact(wanted):
                return _difference(got, wanted, f"{where}[{position}]")
        if len(actual) != len(expected):
            return f"{where}: {len(actual)} items, expected {len(expected)}"
    return f"{where}: got {actual!r}, expected {expected!r}"


def test_every_golden_case_is_harmonised_exactly_as_recorded(
    cases: list[dict[str, Any]], golden_harmoniser: Harmoniser
) -> None:
    mismatches = []
    for case in cases:
        formation = etree.fromstring(case["xml"])
        harmonised = golden_harmoniser.harmonise(
            formation, source=case["source"], region=case["region"]
        )
        actual = to_json(harmonised)
        if _compact(actual) != _compact(case["expected"]):
            mismatches.append(f"{case['case']}: {_difference(actual, case['expected'])}")
    assert not mismatches, f"{len(mismatches)} golden case(s) differ ({REGENERATE}):\n" + (
        "\n".join(mismatches[:10])
    )


def test_golden_cases_cover_every_kind_of_input_and_issue(cases: list[dict[str, Any]]) -> None:
    """The cases stay broad: a golden that exercised nothing would guard nothing."""
    origins = Counter(case["case"].split("/")[0] for case in cases)
    assert {"corpus-2.3-seed11", "corpus-2.2-seed12", "defects", "tests"} <= origins.keys()
    assert min(origins.values()) >= 10
    issue_codes = {issue["code"] for case in cases for issue in case["expected"]["issues"]}
    assert issue_codes >= {
        "certification-langue-inconnue", "code-inconnu", "code-obsolete", "code-reformate",
        "coordonnee-hors-limites", "coordonnee-illisible", "coordonnee-reformatee",
        "date-illisible", "date-inconnue", "date-invalide", "date-jour-inconnu",
        "date-mois-inconnu", "date-reformatee", "departement-inconnu", "formacode-invalide",
        "html-echappe", "placeholder", "prix-illisible", "prix-negatif", "prix-reformate",
        "region-incoherente", "region-inconnue", "siret-15-chiffres", "siret-absent",
        "siret-cle", "siret-longueur", "siret-reformate",
    }  # fmt: skip
    language_rules = {(case["expected"]["language"] or {}).get("rule_id") for case in cases}
    assert len(language_rules - {None}) >= 10


def test_golden_outputs_survive_the_json_round_trip(cases: list[dict[str, Any]]) -> None:
    """What the store keeps (`to_json`) rebuilds (`from_json`) into the same facts."""
    for case in cases:
        assert _compact(to_json(from_json(case["expected"]))) == _compact(case["expected"])
