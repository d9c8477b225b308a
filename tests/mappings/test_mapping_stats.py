"""Key figures of a hand-built corpus equal a count made independently from its description."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from mappings import Harmoniser
from mappings.stats import NATIONAL, RegionFigures, key_figures

DEPARTEMENT_REGION = {"63": "84", "69": "84", "67": "44", "75": "11"}
CERTIFICATION_LABEL = {"76101": "DELF A2", "46908": "DELF B1", "68844": "DCL FLE", "62926": "DILF"}
NOT_CPF = {"DILF"}
LANGUAGE_FORMACODES = {"15235", "15043"}
PUBLIC_FINANCEURS = {"2", "4"}


@dataclass(frozen=True)
class Offer:
    numero: str
    formacodes: tuple[str, ...]
    certifinfo: tuple[str, ...]
    actions: tuple[tuple[str, tuple[str, ...], int], ...]
    """(département, financeurs, number of sessions) of each action."""


CORPUS = (
    Offer("F1", ("15235",), ("76101",), (("63", ("20",), 2),)),
    Offer("F2", ("15235",), (), (("69", ("2",), 3),)),
    Offer("F3", ("15235",), ("68844",), (("67", ("5",), 1),)),
    Offer("F4", ("15043",), (), (("75", ("20",), 1),)),
    Offer("F5", ("22403",), (), (("75", ("2",), 4),)),  # not a language formation
    Offer("F6", ("15235",), ("76101", "46908"), (("67", ("4",), 2), ("75", ("10",), 1))),
    Offer("F7", ("15235",), ("62926",), (("63", ("20", "2"), 1), ("69", (), 2))),
)


def _build(lheo: Any, offer: Offer) -> Any:
    actions = []
    for number, (departement, financeurs, sessions) in enumerate(offer.actions, 1):
        actions.append(
            lheo.action(
                f"{offer.numero}-A{number}",
                financeurs=financeurs,
                lieu=lheo.adresse(departement=departement),
                sessions=[lheo.session(f"{offer.numero}-S{n}") for n in range(sessions)],
            )
        )
    return lheo.formation(
        offer.numero,
        formacodes=offer.formacodes,
        certifications=[{"code-CERTIFINFO": code} for code in offer.certifinfo],
        actions=actions,
    )


def _count_by_hand(corpus: tuple[Offer, ...]) -> dict[str, dict[str, Any]]:
    """The figures, counted from the corpus description without the harmoniser."""
    counts: dict[str, dict[str, Any]] = {}

    def tally(region: str) -> dict[str, Any]:
        return counts.setdefault(
            region,
            {
                "actions": 0,
                "ofii": 0,
                "sessions": 0,
                "conv": Counter(),
                "cert": Counter(),
                "cpf": 0,
            },
        )

    for offer in corpus:
        if not LANGUAGE_FORMACODES & set(offer.formacodes):
            continue
        labels = [CERTIFICATION_LABEL[code] for code in offer.certifinfo]
        regions = set()
        for departement, financeurs, sessions in offer.actions:
            if "20" in financeurs:
                conventionnement = "ofii"
            elif PUBLIC_FINANCEURS & set(financeurs):
                conventionnement = "autre_public"
            else:
                conventionnement = "non_conventionne"
            region = DEPARTEMENT_REGION[departement]
            regions.add(region)
            for key in (NATIONAL, region):
                figures = tally(key)
                figures["actions"] += 1
                figures["ofii"] += conventionnement == "ofii"
                figures["sessions"] += sessions
                figures["conv"][conventionnement] += sessions
                for label in labels:
                    figures["cert"][label] += sessions
        if any(label not in NOT_CPF for label in labels):
            for key in (NATIONAL, *regions):
                tally(key)["cpf"] += 1
    return counts


def test_key_figures_equal_an_independent_count(harmoniser: Harmoniser, lheo: Any) -> None:
    harmonised = [
        harmoniser.harmonise(_build(lheo, offer), source="test", region=None) for offer in CORPUS
    ]
    expected = {
        region: RegionFigures(
            actions=counts["actions"],
            actions_ofii=counts["ofii"],
            sessions=counts["sessions"],
            sessions_by_conventionnement={
                key: counts["conv"][key] for key in ("ofii", "autre_public", "non_conventionne")
            },
            sessions_by_certification=dict(counts["cert"]),
            cpf_eligible=counts["cpf"],
        )
        for region, counts in _count_by_hand(CORPUS).items()
    }
    assert key_figures(harmonised) == expected


def test_national_figures_of_the_corpus(harmoniser: Harmoniser, lheo: Any) -> None:
    """The same corpus, counted on paper: a check of the independent count itself."""
    harmonised = [
        harmoniser.harmonise(_build(lheo, offer), source="test", region=None) for offer in CORPUS
    ]
    figures = key_figures(harmonised)
    assert sorted(figures) == ["11", "44", "84", NATIONAL]
    france = figures[NATIONAL]
    assert (france.actions, france.actions_ofii, france.sessions) == (8, 3, 13)
    assert france.sessions_by_conventionnement == {
        "ofii": 4,
        "autre_public": 5,
        "non_conventionne": 4,
    }
    assert france.sessions_by_certification == {
        "DCL FLE": 1,
        "DELF A2": 5,
        "DELF B1": 3,
        "DILF": 3,
    }
    assert france.cpf_eligible == 3
    assert figures["11"].cpf_eligible == 1


def test_empty_corpus() -> None:
    figures = key_figures([])
    assert list(figures) == [NATIONAL]
    assert figures[NATIONAL].sessions_by_conventionnement == {
        "ofii": 0,
        "autre_public": 0,
        "non_conventionne": 0,
    }
