"""Conventionnement (OFII, other public funding, none) and CPF eligibility."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from lxml import etree

from mappings import Harmoniser, to_json

Build = Callable[[Any], etree._Element]


def _programme(lheo: Any, code: str, programme: str) -> Any:
    extras = lheo.extras("specificites", {"programme-financeur": programme})
    return lheo.action(financeurs=[code], financeur_extras={code: extras})


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda lheo: lheo.action(financeurs=["20"]), ("ofii", "ofii-financeur")),
        (lambda lheo: _programme(lheo, "2", "Marché OFII"), ("ofii", "ofii-programme")),
        (lambda lheo: lheo.action(financeurs=["2", "20"]), ("ofii", "ofii-financeur")),
        (lambda lheo: lheo.action(financeurs=["2"]), ("autre_public", "region")),
        (lambda lheo: lheo.action(financeurs=["19"]), ("autre_public", "etat-interieur")),
        (lambda lheo: lheo.action(financeurs=["18"]), ("autre_public", "ladom")),
        (
            lambda lheo: _programme(lheo, "5", "Crédits politique de la ville"),
            ("autre_public", "politique-de-la-ville"),
        ),
        (lambda lheo: _programme(lheo, "0", "BOP104 2024"), ("autre_public", "bop-104")),
        (
            lambda lheo: lheo.action(financeurs=["0"], children=[lheo.E("conventionnement", "1")]),
            ("autre_public", "action-conventionnee"),
        ),
        (lambda lheo: lheo.action(financeurs=["5", "10", "16"]), ("non_conventionne", None)),
        (lambda lheo: lheo.action(), ("non_conventionne", None)),
    ],
    ids=[
        "ofii",
        "ofii-programme",
        "ofii-wins",
        "region",
        "interieur",
        "ladom",
        "politique-ville",
        "bop-104",
        "lheo-conventionnement",
        "private",
        "no-financeur",
    ],
)
def test_conventionnement(
    harmoniser: Harmoniser, lheo: Any, build: Build, expected: tuple[str, str | None]
) -> None:
    element = lheo.formation(actions=[build(lheo)])
    action = harmoniser.harmonise(element, source="test", region="84").actions[0]
    assert (action.conventionnement, action.conventionnement_rule_id) == expected


@pytest.mark.parametrize(
    ("build", "eligible"),
    [
        (lambda lheo: lheo.formation(certifications=[{"code-RNCP": "34567"}]), True),
        (lambda lheo: lheo.formation(certifications=[{"code-RS": "RS5080"}]), True),
        (lambda lheo: lheo.formation(certifications=[{"code-CERTIFINFO": "76101"}]), True),
        (lambda lheo: lheo.formation(certifications=[{"code-CERTIFINFO": "62926"}]), False),
        (
            lambda lheo: lheo.formation(
                children=[lheo.E("code-type-formation", lheo.E("code-CPF", "236593"))]
            ),
            True,
        ),
        (
            lambda lheo: lheo.formation(
                actions=[
                    lheo.action(
                        sessions=[
                            lheo.session(children=[lheo.extras("eligibilite-cpf", {"public": "3"})])
                        ]
                    )
                ]
            ),
            True,
        ),
        (lambda lheo: lheo.formation(), False),
    ],
    ids=["rncp", "rs", "delf-a2", "dilf", "code-cpf", "eligibilite-cpf-extras", "none"],
)
def test_cpf_eligibility(harmoniser: Harmoniser, lheo: Any, build: Build, eligible: bool) -> None:
    harmonised = harmoniser.harmonise(build(lheo), source="test", region="84")
    assert harmonised.cpf_eligible is eligible


def test_certifications_from_the_formation_and_its_sessions(
    harmoniser: Harmoniser, lheo: Any
) -> None:
    reference = lheo.E("reference-certification", lheo.E("reference-code-CERTIFINFO", "68844"))
    element = lheo.formation(
        formacodes=["15235"],
        certifications=[{"code-CERTIFINFO": "76101"}, {"code-CERTIFINFO": "99999"}],
        actions=[lheo.action(sessions=[lheo.session(children=[reference])])],
    )
    harmonised = harmoniser.harmonise(element, source="test", region="84")
    assert [(c.label, c.certifinfo, c.cefr) for c in harmonised.certifications] == [
        ("DELF A2", "76101", "A2"),
        (None, "99999", None),
        ("DCL FLE", "68844", None),
    ]
    assert [(i.kind, i.code, i.value) for i in harmonised.issues] == [
        ("unmapped", "certification-langue-inconnue", "99999")
    ]


def test_to_json_is_plain_json(harmoniser: Harmoniser, lheo: Any) -> None:
    element = lheo.formation(
        formacodes=["15235"],
        datemaj="00000000",
        certifications=[{"code-CERTIFINFO": "76101"}],
        actions=[lheo.action(financeurs=["20"])],
    )
    document = to_json(harmoniser.harmonise(element, source="test", region="84"))
    assert json.loads(json.dumps(document)) == document
    assert document["language"]["rule_id"] == "ofii-financeur"
    assert document["actions"][0]["sessions"][0]["debut"] == "2024-09-02"
    assert document["issues"][0]["kind"] == "cleaned"
    assert document["certifications"][0]["label"] == "DELF A2"
