"""Where coded elements and extras count, wherever they are in a formation.

Every coded element is translated and its unknown codes reported, except inside
``extras`` (the region's own business); the conventionnement rules still test the codes
and extras anywhere under an action; a coded name in another namespace is not LHEO's.
The harmoniser finds all of them in one pass over the formation: these cases pin what
that pass must keep.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from mappings import HarmonisedFormation, Harmoniser


def _unknown(harmonised: HarmonisedFormation) -> list[tuple[str, str]]:
    return [(i.path, i.value) for i in harmonised.issues if i.code == "code-inconnu"]


def test_codes_in_extras_are_not_reported_but_still_decide_the_funding(
    harmoniser: Harmoniser, lheo: Any
) -> None:
    E = lheo.E
    extras = E.extras(E("code-financeur", "20"), E("type-contact", "ZZ9"), info="specificites")
    action = lheo.action(financeurs=["5"], children=[extras, E("type-contact", "ZZ8")])
    harmonised = harmoniser.harmonise(lheo.formation(actions=[action]), source="t", region="84")
    assert harmonised.actions[0].conventionnement == "ofii"
    assert harmonised.actions[0].financeurs == ["5"]
    assert _unknown(harmonised) == [("formation[F1]/action[A1]/type-contact", "ZZ8")]


def test_nested_extras_and_the_codes_after_them(harmoniser: Harmoniser, lheo: Any) -> None:
    E = lheo.E
    nested = E.extras(E.extras(E("type-contact", "ZZ1"), info="b"), info="a")
    formation = lheo.formation(children=[nested, E("type-contact", "ZZ2")])
    harmonised = harmoniser.harmonise(formation, source="t", region="84")
    assert _unknown(harmonised) == [("formation[F1]/type-contact", "ZZ2")]


def test_other_namespaces(harmoniser: Harmoniser, lheo: Any) -> None:
    """A coded name of another namespace is ignored; extras of any namespace are read."""
    formation = lheo.formation()
    etree.SubElement(formation, "{urn:region}type-contact").text = "ZZ3"
    etree.SubElement(formation, "{urn:region}extras", info="eligibilite-cpf").text = "oui"
    harmonised = harmoniser.harmonise(formation, source="t", region="84")
    assert _unknown(harmonised) == []
    assert harmonised.cpf_eligible
