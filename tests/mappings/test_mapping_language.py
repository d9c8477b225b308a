"""The definition of "formation linguistique": every kind is recognised, by the right rule."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from mappings import Harmoniser, load_tables

TableCopy = Callable[[str, Callable[[str], str]], Path]
Build = Callable[[Any], etree._Element]
"""A case: builds its formation with the `lheo` fixture (conftest.Lheo)."""
FLE = ("15235",)
DCL_FLE = {"code-CERTIFINFO": "68844"}
DELF_A2 = {"code-CERTIFINFO": "76101"}
DELF_B1 = {"code-CERTIFINFO": "46908"}

CASES = [
    pytest.param(
        lambda lheo: lheo.formation(formacodes=FLE, actions=[lheo.action(financeurs=["20"])]),
        ("integration", "integration", "ofii-financeur"),
        id="ofii-financeur",
    ),
    pytest.param(
        lambda lheo: lheo.formation(
            actions=[
                lheo.action(
                    financeurs=["13"],
                    financeur_extras={
                        "13": lheo.extras(
                            "specificites", {"programme-financeur": "Marché OFII 2024"}
                        )
                    },
                )
            ]
        ),
        ("integration", "integration", "ofii-programme"),
        id="ofii-in-financeur-extras",
    ),
    pytest.param(
        lambda lheo: lheo.formation(
            intitule="Formation linguistique du Contrat d'Intégration Républicaine"
        ),
        ("integration", "integration", "cir-intitule"),
        id="cir-title",
    ),
    pytest.param(
        lambda lheo: lheo.formation(
            children=[lheo.extras("type-formation", {"type-formation": "ASL"})]
        ),
        ("asl", "integration", "asl"),
        id="asl-extras",
    ),
    pytest.param(
        lambda lheo: lheo.formation(intitule="ATELIERS SOCIO-LINGUISTIQUES quartier Nord"),
        ("asl", "integration", "asl"),
        id="asl-title",
    ),
    pytest.param(
        lambda lheo: lheo.formation(
            intitule="Ouvrir l'École aux Parents pour la Réussite des Enfants"
        ),
        ("oepre", "integration", "oepre"),
        id="oepre-title",
    ),
    pytest.param(
        lambda lheo: lheo.formation(formacodes=["15043"], intitule="Lire et écrire"),
        ("alphabetisation", "integration", "alphabetisation"),
        id="alphabetisation",
    ),
    pytest.param(
        lambda lheo: lheo.formation(formacodes=["15022"], intitule="Savoirs de base"),
        ("illettrisme", "insertion_professionnelle", "illettrisme"),
        id="illettrisme",
    ),
    pytest.param(
        lambda lheo: lheo.formation(formacodes=["15040"], intitule="Français écrit"),
        ("remise_a_niveau", "insertion_professionnelle", "remise-a-niveau"),
        id="remise-a-niveau",
    ),
    pytest.param(
        lambda lheo: lheo.formation(formacodes=["15281"], certifications=[{"code-RNCP": "34567"}]),
        ("remise_a_niveau", "formation_professionnelle", "remise-a-niveau-cpf"),
        id="remise-a-niveau-cpf",
    ),
    pytest.param(
        lambda lheo: lheo.formation(formacodes=FLE, actions=[lheo.action(financeurs=["4"])]),
        ("fle", "insertion_professionnelle", "fle-financeur-emploi"),
        id="fle-pole-emploi",
    ),
    pytest.param(
        lambda lheo: lheo.formation(formacodes=FLE, actions=[lheo.action(publics=["80006"])]),
        ("fle", "insertion_professionnelle", "fle-demandeurs-emploi"),
        id="fle-demandeurs-emploi",
    ),
    pytest.param(
        lambda lheo: lheo.formation(formacodes=FLE, certifications=[DCL_FLE]),
        ("fle", "formation_professionnelle", "fle-cpf"),
        id="fle-dcl-cpf",
    ),
    pytest.param(
        lambda lheo: lheo.formation(intitule="Français langue étrangère, cours du soir"),
        ("fle", "formation_professionnelle", "fle"),
        id="fle-title-only",
    ),
    pytest.param(
        lambda lheo: lheo.formation(
            certifications=[{"code-CERTIFINFO": "84482"}], actions=[lheo.action(financeurs=["2"])]
        ),
        ("remise_a_niveau", "insertion_professionnelle", "clea-demandeurs-emploi"),
        id="clea-region",
    ),
    pytest.param(
        lambda lheo: lheo.formation(formacodes=["22403"], certifications=[DELF_A2]),
        ("fle", "formation_professionnelle", "fle-cpf"),
        id="delf-without-language-formacode",
    ),
    pytest.param(
        lambda lheo: lheo.formation(certifications=[{"code-CERTIFINFO": "84714"}]),
        ("remise_a_niveau", "formation_professionnelle", "voltaire"),
        id="voltaire",
    ),
]


@pytest.mark.parametrize(("build", "expected"), CASES)
def test_each_kind_is_recognised_by_its_rule(
    harmoniser: Harmoniser, lheo: Any, build: Build, expected: tuple[str, str, str]
) -> None:
    language = harmoniser.harmonise(build(lheo), source="test", region="84").language
    assert language is not None
    assert (language.kind, language.path, language.rule_id) == expected


@pytest.mark.parametrize(
    "build",
    [
        lambda lheo: lheo.formation(formacodes=["22403"], intitule="Développeur web"),
        lambda lheo: lheo.formation(intitule="Découverte de Basle et de ses musées"),
        lambda lheo: lheo.formation(intitule="Flexibilité au travail"),
    ],
    ids=["other-domain", "asl-inside-a-word", "fle-inside-a-word"],
)
def test_other_formations_are_not_linguistic(
    harmoniser: Harmoniser, lheo: Any, build: Build
) -> None:
    assert harmoniser.harmonise(build(lheo), source="test", region="84").language is None


def test_the_first_rule_by_priority_decides(harmoniser: Harmoniser, lheo: Any) -> None:
    element = lheo.formation(
        intitule="Atelier sociolinguistique", actions=[lheo.action(financeurs=["20", "2"])]
    )
    language = harmoniser.harmonise(element, source="test", region="84").language
    assert language is not None and language.rule_id == "ofii-financeur"


@pytest.mark.parametrize(
    ("build", "level"),
    [
        (
            lambda lheo: lheo.formation(formacodes=FLE, actions=[lheo.action(financeurs=["20"])]),
            "A1",
        ),
        (
            lambda lheo: lheo.formation(
                formacodes=FLE, certifications=[DELF_B1], actions=[lheo.action(financeurs=["20"])]
            ),
            "B1",
        ),
        (lambda lheo: lheo.formation(formacodes=FLE, certifications=[DELF_A2, DCL_FLE]), "A2"),
        (lambda lheo: lheo.formation(intitule="FLE du niveau A1 au niveau B1"), "B1"),
        (lambda lheo: lheo.formation(intitule="Français langue étrangère"), None),
    ],
    ids=["rule-default", "certification-over-default", "certification", "title", "none"],
)
def test_target_level(harmoniser: Harmoniser, lheo: Any, build: Build, level: str | None) -> None:
    language = harmoniser.harmonise(build(lheo), source="test", region="84").language
    assert language is not None and language.target_level == level


def test_an_expert_changes_the_definition_in_the_csv(table_copy: TableCopy, lheo: Any) -> None:
    directory = table_copy(
        "language_rules.csv",
        lambda text: text.replace(
            "fle,79,15235",
            "benevolat,78,,,,,cours bénévoles,,,,,fle,integration,,new rule\nfle,79,15235",
        ),
    )
    harmoniser = Harmoniser(load_tables(directory))
    element = lheo.formation(intitule="Cours bénévoles de FLE")
    language = harmoniser.harmonise(element, source="test", region="84").language
    assert language is not None
    assert (language.kind, language.path, language.rule_id) == ("fle", "integration", "benevolat")
