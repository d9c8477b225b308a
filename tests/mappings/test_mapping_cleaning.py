"""Cleaning: odd values become usable ones, each change is an issue, the input is untouched."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from hub.lheo.schema import NS_23
from mappings import HarmonisedFormation, Harmoniser

NS = {"l": NS_23}


def _harmonise(
    harmoniser: Harmoniser, element: etree._Element, source: str = "test", region: str = "84"
) -> HarmonisedFormation:
    return harmoniser.harmonise(element, source=source, region=region)


def _issues(harmonised: HarmonisedFormation) -> list[tuple[str, str, str]]:
    return [(issue.kind, issue.code, issue.value) for issue in harmonised.issues]


def _with_organisme(lheo: Any, siret: str) -> Any:
    element = lheo.formation()
    responsable = etree.SubElement(element, f"{{{NS_23}}}organisme-formation-responsable")
    wrapper = etree.SubElement(responsable, f"{{{NS_23}}}SIRET-organisme-formation")
    etree.SubElement(wrapper, f"{{{NS_23}}}SIRET").text = siret
    return element


@pytest.mark.parametrize(
    ("sent", "kept", "issue"),
    [
        ("73282932000074", "73282932000074", None),
        ("732 829 320 00074", "73282932000074", ("cleaned", "siret-reformate")),
        ("011111111111111", None, ("suspicious", "siret-15-chiffres")),
        ("0", None, ("suspicious", "siret-absent")),
        ("1234", None, ("suspicious", "siret-longueur")),
        ("73282932000075", "73282932000075", ("suspicious", "siret-cle")),
    ],
)
def test_siret(
    harmoniser: Harmoniser, lheo: Any, sent: str, kept: str | None, issue: tuple[str, str] | None
) -> None:
    harmonised = _harmonise(harmoniser, _with_organisme(lheo, sent))
    assert harmonised.siret_organisme == kept
    expected = [] if issue is None else [(*issue, sent)]
    assert _issues(harmonised) == expected
    if issue is not None:
        assert harmonised.issues[0].path.endswith("SIRET-organisme-formation/SIRET")


@pytest.mark.parametrize(
    ("sent", "price", "issue"),
    [
        ("1250.50", 1250.5, None),
        ("1 250,50", 1250.5, "prix-reformate"),
        ("1\u00a0250,50 €", 1250.5, "prix-reformate"),
        ("1.250,50", 1250.5, "prix-reformate"),
        ("12,5", 12.5, "prix-reformate"),
        ("Non renseigné", None, "placeholder"),
        ("gratuit?", None, "prix-illisible"),
    ],
)
def test_prices(
    harmoniser: Harmoniser, lheo: Any, sent: str, price: float | None, issue: str | None
) -> None:
    action = lheo.action(children=[lheo.E("prix-total-TTC", sent)])
    harmonised = _harmonise(harmoniser, lheo.formation(actions=[action]))
    assert harmonised.actions[0].prix_total_ttc == price
    assert [code for _, code, _ in _issues(harmonised)] == ([] if issue is None else [issue])
    assert all(value == sent for _, _, value in _issues(harmonised))


@pytest.mark.parametrize(
    ("sent", "title", "issue"),
    [
        ("Français langue étrangère", "Français langue étrangère", None),
        ("-", None, "placeholder"),
        ("Non renseigné", None, "placeholder"),
        ("NON RENSEIGNE", None, "placeholder"),
        (
            "Fran&ccedil;ais langue &eacute;trang&egrave;re",
            "Français langue étrangère",
            "html-echappe",
        ),
        ("Ateliers &amp;eacute;t&amp;eacute;", "Ateliers été", "html-echappe"),
        ("&lt;p&gt;Français &amp;amp; civisme&lt;/p&gt;", "Français & civisme", "html-echappe"),
    ],
    ids=["plain", "dash", "non-renseigne", "upper-case", "escaped", "escaped-twice", "tags"],
)
def test_texts(
    harmoniser: Harmoniser, lheo: Any, sent: str, title: str | None, issue: str | None
) -> None:
    harmonised = _harmonise(harmoniser, lheo.formation(intitule=sent))
    assert harmonised.intitule == title
    assert _issues(harmonised) == ([] if issue is None else [("cleaned", issue, sent)])


def test_escaped_text_as_it_arrives_in_xml(harmoniser: Harmoniser) -> None:
    element = etree.fromstring(
        f'<formation xmlns="{NS_23}" numero="F1"><domaine-formation/>'
        "<intitule-formation>Fran&amp;ccedil;ais &amp;amp;eacute;crit</intitule-formation>"
        "</formation>"
    )
    assert _harmonise(harmoniser, element).intitule == "Français écrit"


@pytest.mark.parametrize(
    ("debut", "iso", "issue"),
    [
        ("20240902", "2024-09-02", None),
        ("20170900", "2017-09", ("cleaned", "date-jour-inconnu")),
        ("20170000", "2017", ("cleaned", "date-mois-inconnu")),
        ("00000000", None, ("cleaned", "date-inconnue")),
        ("99999999", None, ("cleaned", "date-inconnue")),
        ("2024-09-02", "2024-09-02", ("cleaned", "date-reformatee")),
        ("20171300", None, ("suspicious", "date-invalide")),
        ("20240231", None, ("suspicious", "date-invalide")),
        ("02/09/2024", None, ("suspicious", "date-illisible")),
    ],
)
def test_session_dates(
    harmoniser: Harmoniser,
    lheo: Any,
    debut: str,
    iso: str | None,
    issue: tuple[str, str] | None,
) -> None:
    element = lheo.formation(actions=[lheo.action(sessions=[lheo.session(debut=debut)])])
    harmonised = _harmonise(harmoniser, element)
    assert harmonised.actions[0].sessions[0].debut == iso
    assert harmonised.actions[0].sessions[0].fin == "2024-12-20"
    assert _issues(harmonised) == ([] if issue is None else [(*issue, debut)])


def test_datemaj_unknown(harmoniser: Harmoniser, lheo: Any) -> None:
    harmonised = _harmonise(harmoniser, lheo.formation(datemaj="00000000"))
    assert harmonised.datemaj is None
    assert _issues(harmonised) == [("cleaned", "date-inconnue", "00000000")]
    assert harmonised.issues[0].path == "formation[F1]/@datemaj"


def test_the_input_element_is_not_modified(harmoniser: Harmoniser, lheo: Any) -> None:
    element = _with_organisme(lheo, "011111111111111")
    element.find("l:intitule-formation", NS).text = "Fran&eacute;ais"
    before = etree.tostring(element)
    _harmonise(harmoniser, element)
    assert etree.tostring(element) == before


@pytest.mark.parametrize(
    ("sent", "national", "issue"),
    [
        ("2", ["2"], None),
        ("16", ["16"], None),  # OPCA in 2.2, OPCO in 2.3: same code, new meaning
        ("02", ["2"], ("cleaned", "code-reformate")),
        ("77", [], ("unmapped", "code-inconnu")),
        ("1", [], ("suspicious", "code-obsolete")),
        ("-", [], ("cleaned", "placeholder")),
    ],
)
def test_financeur_codes(
    harmoniser: Harmoniser,
    lheo: Any,
    sent: str,
    national: list[str],
    issue: tuple[str, str] | None,
) -> None:
    harmonised = _harmonise(harmoniser, lheo.formation(actions=[lheo.action(financeurs=[sent])]))
    assert harmonised.actions[0].financeurs == national
    assert _issues(harmonised) == ([] if issue is None else [(*issue, sent)])
    if issue is not None:
        assert (
            harmonised.issues[0].path
            == "formation[F1]/action[A1]/organisme-financeur/code-financeur"
        )


def test_levels_move_to_the_2019_framework(harmoniser: Harmoniser, lheo: Any) -> None:
    element = lheo.formation(
        children=[lheo.E("code-niveau-entree", "V"), lheo.E("code-niveau-sortie", "15")]
    )
    harmonised = _harmonise(harmoniser, element, source="via-competences-auvergne")
    assert (harmonised.niveau_entree, harmonised.niveau_sortie) == ("13", "15")


def test_unknown_codes_of_other_coded_elements_are_reported(
    harmoniser: Harmoniser, lheo: Any
) -> None:
    action = lheo.action(children=[lheo.E("modalites-enseignement", "7")])
    harmonised = _harmonise(harmoniser, lheo.formation(actions=[action]))
    assert _issues(harmonised) == [("unmapped", "code-inconnu", "7")]


@pytest.mark.parametrize(
    ("adresse", "place", "issue"),
    [
        ({"departement": "1", "codepostal": "01000"}, ("01", "84"), None),
        ({"codepostal": "20167"}, ("2A", "94"), None),
        ({"codepostal": "20200"}, ("2B", "94"), None),
        ({"commune": "97411", "codepostal": "97400"}, ("974", "04"), None),
        ({"departement": "976", "region": "06"}, ("976", "06"), None),
        ({"departement": "63", "region": "11"}, ("63", "84"), ("suspicious", "region-incoherente")),
        ({"departement": "99"}, ("63", "84"), ("unmapped", "departement-inconnu")),
        ({"departement": "-", "region": "-"}, ("63", "84"), ("cleaned", "placeholder")),
        (
            {"departement": "99", "codepostal": "9"},
            ("63", "84"),
            ("unmapped", "departement-inconnu"),
        ),
    ],
    ids=[
        "zero",
        "corse-sud",
        "haute-corse",
        "commune",
        "mayotte",
        "contradiction",
        "postcode",
        "placeholders",
        "enrolment-address",
    ],
)
def test_places(
    harmoniser: Harmoniser,
    lheo: Any,
    adresse: dict[str, str],
    place: tuple[str | None, str | None],
    issue: tuple[str, str] | None,
) -> None:
    """The département as sent, else from the commune or postal code; the region follows.
    With no usable place of training, the session's enrolment address (here in 63) is used."""
    element = lheo.formation(actions=[lheo.action(lieu=lheo.adresse(**adresse))])
    harmonised = _harmonise(harmoniser, element)
    action = harmonised.actions[0]
    assert (action.departement, action.region) == place
    assert (action.sessions[0].departement, action.sessions[0].region) == place
    issues = sorted({(kind, code) for kind, code, _ in _issues(harmonised)})
    assert issues == ([] if issue is None else [issue])


def test_coordinates(harmoniser: Harmoniser, lheo: Any) -> None:
    lieu = lheo.adresse(departement="63", latitude="45,7772", longitude="200")
    harmonised = _harmonise(harmoniser, lheo.formation(actions=[lheo.action(lieu=lieu)]))
    session = harmonised.actions[0].sessions[0]
    assert (session.latitude, session.longitude) == (45.7772, None)
    assert _issues(harmonised) == [
        ("cleaned", "coordonnee-reformatee", "45,7772"),
        ("suspicious", "coordonnee-hors-limites", "200"),
    ]


def test_unknown_source_region(harmoniser: Harmoniser, lheo: Any) -> None:
    harmonised = _harmonise(harmoniser, lheo.formation(), region="99")
    assert harmonised.region == "84"  # from the place of training
    assert _issues(harmonised) == [("unmapped", "region-inconnue", "99")]


_ISO = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")
_XML_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=0, max_size=12
)


@settings(max_examples=150, deadline=None)
@given(debut=_XML_TEXT, prix=_XML_TEXT, siret=_XML_TEXT)
def test_any_text_is_harmonised_without_crashing(
    harmoniser: Harmoniser, lheo: Any, debut: str, prix: str, siret: str
) -> None:
    element = _with_organisme(lheo, siret)
    action = element.find("l:action", NS)
    assert action is not None
    etree.SubElement(action, f"{{{NS_23}}}prix-total-TTC").text = prix
    action.find("l:session/l:periode/l:debut", NS).text = debut
    harmonised = _harmonise(harmoniser, element)
    session = harmonised.actions[0].sessions[0]
    assert session.debut is None or _ISO.fullmatch(session.debut)
    siret_organisme = harmonised.siret_organisme
    assert siret_organisme is None or (len(siret_organisme) == 14 and siret_organisme.isdigit())
