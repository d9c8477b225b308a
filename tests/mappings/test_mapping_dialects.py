"""One offer described in three regional dialects comes out identical once harmonised.

The dialects differ the way real exports do: local financeur and public codes, pre-2016
region codes, a missing département, and the ASL type given in extras instead of the title.
"""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree

from hub.errors import UnsupportedLheoError
from mappings import Harmoniser, to_json

# What the source says, not what the offer is, so excluded from the comparison.
PROVENANCE = ("source", "intitule", "issues")


def _national(lheo: Any) -> Any:
    """Auvergne-Rhône-Alpes in plain LHEO 2.3: national codes, type in the title."""
    lieu = lheo.adresse(departement="63", region="84", commune="63113", codepostal="63000")
    return lheo.formation(
        "ASL-CLERMONT",
        intitule="Atelier sociolinguistique - Clermont-Ferrand",
        actions=[lheo.action("A1", financeurs=["2", "19"], publics=["81023"], lieu=lieu)],
    )


def _auvergne(lheo: Any) -> Any:
    """Legacy Auvergne export: local codes, region 83, type in extras."""
    lieu = lheo.adresse(departement="63", region="83", commune="63113", codepostal="63000")
    return lheo.formation(
        "ASL-CLERMONT",
        intitule="Apprendre le français au quotidien - Clermont-Ferrand",
        actions=[lheo.action("A1", financeurs=["CR", "BOP104"], publics=["PRIMO"], lieu=lieu)],
        children=[lheo.extras("type-formation", {"type-formation": "ASL"})],
    )


def _rhone_alpes(lheo: Any) -> Any:
    """Legacy Rhône-Alpes export: other local codes, no département, type spelled out."""
    lieu = lheo.adresse(region="83", commune="63113", codepostal="63000")
    return lheo.formation(
        "ASL-CLERMONT",
        intitule="Le français pour la vie quotidienne",
        actions=[
            lheo.action("A1", financeurs=["R", "DRJSCS-BOP104"], publics=["PUB-PA"], lieu=lieu)
        ],
        children=[lheo.extras("type-formation", {"type-formation": "Atelier socio-linguistique"})],
    )


def _facts(harmoniser: Harmoniser, element: Any, source: str, region: str) -> dict[str, Any]:
    harmonised = to_json(harmoniser.harmonise(element, source=source, region=region))
    return {key: value for key, value in harmonised.items() if key not in PROVENANCE}


def test_three_dialects_of_one_offer_are_identical(harmoniser: Harmoniser, lheo: Any) -> None:
    national = _facts(harmoniser, _national(lheo), "auvergne-rhone-alpes", "84")
    auvergne = _facts(harmoniser, _auvergne(lheo), "via-competences-auvergne", "83")
    rhone_alpes = _facts(harmoniser, _rhone_alpes(lheo), "via-competences-rhone-alpes", "82")

    assert auvergne == national
    assert rhone_alpes == national
    assert national["region"] == "84"
    assert national["departement"] == "63"
    assert national["language"] == {
        "kind": "asl",
        "path": "integration",
        "target_level": None,
        "rule_id": "asl",
    }
    action = national["actions"][0]
    assert action["financeurs"] == ["2", "19"]
    assert action["publics_vises"] == ["81023"]
    assert action["conventionnement"] == "autre_public"


def test_the_three_dialects_raise_no_issue(harmoniser: Harmoniser, lheo: Any) -> None:
    for build, source, region in (
        (_national, "auvergne-rhone-alpes", "84"),
        (_auvergne, "via-competences-auvergne", "83"),
        (_rhone_alpes, "via-competences-rhone-alpes", "82"),
    ):
        assert harmoniser.harmonise(build(lheo), source=source, region=region).issues == []


def test_a_local_code_of_one_source_means_nothing_for_another(
    harmoniser: Harmoniser, lheo: Any
) -> None:
    element = lheo.formation(actions=[lheo.action(financeurs=["CR"])])
    harmonised = harmoniser.harmonise(element, source="grand-est", region="44")
    assert harmonised.actions[0].financeurs == []
    assert [(i.kind, i.code, i.value) for i in harmonised.issues] == [
        ("unmapped", "code-inconnu", "CR")
    ]


def test_grand_est_legacy_codes(harmoniser: Harmoniser, lheo: Any) -> None:
    lieu = lheo.adresse(departement="67", region="42", commune="67482", codepostal="67000")
    element = lheo.formation(
        formacodes=["15235"],
        actions=[lheo.action(financeurs=["ETAT-BOP104", "OFII"], publics=["REFUGIE"], lieu=lieu)],
    )
    harmonised = harmoniser.harmonise(element, source="grand-est", region="42")
    assert harmonised.region == "44"
    assert harmonised.actions[0].region == "44"
    assert harmonised.actions[0].financeurs == ["19", "20"]
    assert harmonised.actions[0].publics_vises == ["81042"]
    assert harmonised.actions[0].conventionnement == "ofii"
    assert harmonised.issues == []


def test_a_formation_outside_the_2_3_namespace_is_refused(harmoniser: Harmoniser) -> None:
    element = etree.fromstring(
        '<formation xmlns="http://www.lheo.org/2.2" numero="F1"><domaine-formation/></formation>'
    )
    with pytest.raises(UnsupportedLheoError, match=r"LHEO 2\.3 <formation>"):
        harmoniser.harmonise(element, source="test", region="84")
