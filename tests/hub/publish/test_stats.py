"""Key figures and session counts of a hand-built corpus equal a count made from its XML.

The expected figures are counted here with XPath over the very document that was
ingested, with the test's own small vocabulary (département → region, Certif Info →
label, financeur → conventionnement), never with the hub's harmoniser or figures code.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from language_offers import Action, Offer, offers_document
from live_server import serving
from lxml import etree
from typer.testing import CliRunner

from hub.api.app import create_app
from hub.cli import app
from hub.pipeline.ingest import ingest
from hub.publish.stats import SessionFilter, count_sessions, region_figures, resolve_filter
from hub.settings import Settings
from hub.store import Store

L = {"l": "http://lheo.gouv.fr/2.3"}
REGION_OF = {"2A": "94", "2B": "94", "13": "93", "69": "84", "75": "11", "67": "44"}
LABEL_OF = {"76101": "DELF A2", "46908": "DELF B1", "68844": "DCL FLE", "62926": "DILF"}
CPF_CERTIFINFO = {"76101", "46908", "68844"}  # DILF is not CPF-eligible
OFII, PUBLIC = "20", {"2", "4", "19"}

CORPUS = (
    Offer("F01", (Action("2A", ("20",), 2),), certifinfo=("76101",)),
    Offer("F02", (Action("2B", ("20", "2"), 1),), certifinfo=("76101", "46908")),
    Offer("F03", (Action("2A", ("2",), 3),), certifinfo=("76101",)),
    Offer("F04", (Action("2B", (), 1), Action("13", ("20",), 2)), certifinfo=("76101",)),
    Offer("F05", (Action("69", ("20",), 4),), certifinfo=("76101",)),
    Offer("F06", (Action("75", ("4",), 2),), certifinfo=("68844",)),
    Offer("F07", (Action("67", ("5",), 1), Action("67", ("19",), 2)), certifinfo=("62926",)),
    Offer("F08", (Action("75", ("2",), 1),)),
    Offer("F09", (Action("2A", ("2",), 2),), formacode="31812", intitule="Cariste"),
    Offer("F10", (Action("2A", ("20",), 5),), certifinfo=("76101",)),
)
DELETED = "F10"
LIVE = tuple(offer for offer in CORPUS if offer.numero != DELETED)


def _conventionnement(financeurs: list[str]) -> str:
    if OFII in financeurs:
        return "ofii"
    return "autre_public" if PUBLIC & set(financeurs) else "non_conventionne"


def _language(formation: Any) -> bool:
    """The test corpus's language offers: FLE FORMACODE, or OFII funding."""
    return bool(
        formation.xpath("l:domaine-formation/l:code-FORMACODE[.='15235']", namespaces=L)
        or formation.xpath(".//l:code-financeur[.='20']", namespaces=L)
    )


def _actions_from_xml(data: bytes) -> Iterator[tuple[str, str, list[str], int]]:
    """(region, conventionnement, certification labels, sessions) of each language action."""
    for formation in etree.fromstring(data).iterfind(".//l:formation", L):
        if not _language(formation):
            continue
        codes = formation.xpath("l:certification/l:code-CERTIFINFO/text()", namespaces=L)
        labels = sorted(LABEL_OF[code] for code in codes)
        for action in formation.iterfind("l:action", L):
            departement = action.xpath("string(l:lieu-de-formation//l:departement)", namespaces=L)
            financeurs = action.xpath("l:organisme-financeur/l:code-financeur/text()", namespaces=L)
            sessions = len(action.findall("l:session", L))
            yield REGION_OF[departement], _conventionnement(financeurs), labels, sessions


def count_from_xml(data: bytes) -> dict[str, dict[str, Any]]:
    """The published figures, per region and FR, counted from the XML alone (CPF apart)."""
    tallies: dict[str, dict[str, Any]] = {}
    for region, conv, labels, sessions in _actions_from_xml(data):
        for key in (region, "FR"):
            tally = tallies.setdefault(
                key, {"actions": 0, "actions_ofii": 0, "sessions": 0, "conv": Counter(),
                      "cert": Counter()},
            )  # fmt: skip
            tally["actions"] += 1
            tally["actions_ofii"] += conv == "ofii"
            tally["sessions"] += sessions
            tally["conv"][conv] += sessions
            for label in labels:
                tally["cert"][label] += sessions
    return {
        key: {
            "actions": t["actions"],
            "actions_ofii": t["actions_ofii"],
            "sessions": t["sessions"],
            "sessions_by_conventionnement": {
                c: t["conv"][c] for c in ("ofii", "autre_public", "non_conventionne")
            },
            "sessions_by_certification": dict(t["cert"]),
            "cpf_eligible": 0,
        }
        for key, t in tallies.items()
    }


def _with_cpf(expected: dict[str, dict[str, Any]], data: bytes) -> dict[str, dict[str, Any]]:
    """CPF-eligible offers: counted once per region where they have an action, and for FR."""
    for formation in etree.fromstring(data).iterfind(".//l:formation", L):
        codes = set(formation.xpath("l:certification/l:code-CERTIFINFO/text()", namespaces=L))
        if not _language(formation) or not CPF_CERTIFINFO & codes:
            continue
        departements = formation.xpath(
            "l:action/l:lieu-de-formation//l:departement/text()", namespaces=L
        )
        for key in {REGION_OF[d] for d in departements} | {"FR"}:
            expected[key]["cpf_eligible"] += 1
    return expected


LIVE_XML = offers_document(LIVE)
EXPECTED = _with_cpf(count_from_xml(LIVE_XML), LIVE_XML)
ZERO = {
    "actions": 0,
    "actions_ofii": 0,
    "sessions": 0,
    "sessions_by_conventionnement": {"ofii": 0, "autre_public": 0, "non_conventionne": 0},
    "sessions_by_certification": {},
    "cpf_eligible": 0,
}


@pytest.fixture
def loaded(store: Store) -> Store:
    """The corpus ingested, then F10 deleted by a delta: the live offer is ``LIVE``."""
    ingest(store, io.BytesIO(offers_document(CORPUS)), source="national", kind="delta")
    ingest(store, io.BytesIO(offers_document([], deletions=[DELETED])), source="national")
    return store


@pytest.fixture
def env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_DATABASE_URL", database_url)
    monkeypatch.setenv("HUB_ARCHIVE_DIR", str(tmp_path / "archive"))
    monkeypatch.chdir(tmp_path)


def _assert_figures(regions: dict[str, dict[str, Any]]) -> None:
    for code, figures in regions.items():
        published = {k: v for k, v in figures.items() if k != "nom"}
        assert published == EXPECTED.get(code, ZERO), code
    assert set(EXPECTED) <= set(regions)


def test_the_hand_count_is_not_trivial() -> None:
    """Guards the corpus itself: several regions, every conventionnement, a deleted offer."""
    assert EXPECTED["94"]["sessions_by_conventionnement"] == {
        "ofii": 3,
        "autre_public": 3,
        "non_conventionne": 1,
    }
    assert EXPECTED["FR"]["sessions_by_certification"]["DILF"] == 3
    assert {"11", "44", "84", "93", "94", "FR"} == set(EXPECTED)


def test_key_figures_equal_the_count_from_the_xml(loaded: Store) -> None:
    figures = region_figures(loaded.engine).as_json()
    _assert_figures(figures["regions"])
    assert figures["regions"]["94"]["nom"] == "Corse"
    assert figures["regions"]["FR"]["nom"] == "France"
    assert list(figures["regions"])[-1] == "FR"
    assert figures["regions"]["27"] == {"nom": "Bourgogne-Franche-Comté", **ZERO}


def test_hub_stats_prints_the_same_figures_as_json_and_csv(loaded: Store, env: None) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["stats", "--format", "json"])
    assert result.exit_code == 0, result.output
    _assert_figures(json.loads(result.stdout)["regions"])
    one = runner.invoke(app, ["stats", "--region", "corse", "--format", "json"])
    assert list(json.loads(one.stdout)["regions"]) == ["94"]
    rows = runner.invoke(app, ["stats", "--format", "csv"]).stdout.splitlines()
    header = rows[0].split(";")
    corse = dict(zip(header, next(r for r in rows if r.startswith("94;")).split(";"), strict=True))
    assert corse["sessions_by_conventionnement.ofii"] == "3"
    assert corse["sessions_by_certification.DELF A2"] == str(
        EXPECTED["94"]["sessions_by_certification"]["DELF A2"]
    )
    table = runner.invoke(app, ["stats", "--region", "94"])
    delf_a2 = EXPECTED["94"]["sessions_by_certification"]["DELF A2"]
    assert table.exit_code == 0 and "Corse" in table.stdout and f"DELF A2 {delf_a2}" in table.stdout


def test_the_api_serves_the_same_figures(loaded: Store) -> None:
    with serving(create_app(Settings(), loaded)) as url, httpx.Client(base_url=url) as http:
        everything = http.get("/v1/stats")
        assert everything.status_code == 200
        _assert_figures(everything.json()["regions"])
        corse = http.get("/v1/stats", params={"region": "94"}).json()
        assert list(corse["regions"]) == ["94"]
        unknown = http.get("/v1/stats", params={"region": "99"})
        assert unknown.status_code == 422
        assert unknown.headers["content-type"] == "application/problem+json"
        assert "unknown region '99'" in unknown.json()["detail"]
        counted = http.get(
            "/v1/stats/sessions",
            params={"region": "Corse", "certification": "DELF A2", "conventionnement": "ofii"},
        ).json()
        assert counted == {
            "filter": {"region": "94", "certification": "DELF A2", "conventionnement": "ofii"},
            "sessions": _ofii_delf_a2_in_corsica(),
        }


def _ofii_delf_a2_in_corsica() -> int:
    tree = etree.fromstring(LIVE_XML)
    total = 0
    for formation in tree.xpath(
        ".//l:formation[l:certification/l:code-CERTIFINFO='76101']", namespaces=L
    ):
        for action in formation.iterfind("l:action", L):
            departement = action.xpath("string(l:lieu-de-formation//l:departement)", namespaces=L)
            financeurs = action.xpath("l:organisme-financeur/l:code-financeur/text()", namespaces=L)
            if departement in ("2A", "2B") and "20" in financeurs:
                total += len(action.findall("l:session", L))
    return total


def test_one_command_answers_how_many_ofii_delf_a2_sessions_in_corsica(
    loaded: Store, env: None
) -> None:
    args = ["stats", "--region", "94", "--certification", "DELF A2", "--conventionnement", "ofii"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    expected = _ofii_delf_a2_in_corsica()
    assert expected == 3
    assert result.stdout.startswith(f"{expected} sessions (region 94, certification DELF A2")
    as_json = CliRunner().invoke(app, [*args, "--format", "json"])
    assert json.loads(as_json.stdout)["sessions"] == expected


def test_session_counts_follow_each_filter(loaded: Store) -> None:
    engine = loaded.engine
    assert count_sessions(engine, SessionFilter()) == EXPECTED["FR"]["sessions"]
    assert count_sessions(engine, SessionFilter(region="93")) == 2
    assert count_sessions(engine, SessionFilter(departement="2A")) == 5  # F01 2 + F03 3
    assert count_sessions(engine, SessionFilter(kind="integration")) == 2 + 1 + 3 + 4
    assert count_sessions(engine, SessionFilter(certification="DILF")) == 3
    none = SessionFilter(region="94", conventionnement="non_conventionne")
    assert count_sessions(engine, none) == 1


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"region": "99"}, "unknown region '99'"),
        ({"departement": "20"}, "unknown département '20'"),
        ({"kind": "cooking"}, "unknown kind 'cooking'"),
        ({"certification": "DELF Z9"}, "unknown certification 'DELF Z9'"),
        ({"conventionnement": "prive"}, "unknown conventionnement 'prive'"),
    ],
)
def test_filters_refuse_unknown_values_saying_what_is_accepted(
    given: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        resolve_filter(**given)


def test_filters_accept_names_old_codes_and_any_case() -> None:
    assert resolve_filter(region="Île-de-France").region == "11"
    assert resolve_filter(region="ile de france").region == "11"
    assert resolve_filter(region="82").region == "84"  # Rhône-Alpes before 2016
    assert resolve_filter(region="FR").region is None
    assert resolve_filter(departement="2a").departement == "2A"
    assert resolve_filter(departement="1").departement == "01"
    assert resolve_filter(certification="dcl fle").certification == "DCL FLE"


def test_a_bad_filter_on_the_command_line_exits_2_saying_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["stats", "--certification", "DELF Z9"])
    assert result.exit_code == 2
    assert "unknown certification 'DELF Z9'" in result.output


def test_figures_follow_the_offer_as_flows_change_it(loaded: Store) -> None:
    """Figures are kept per change cursor: the next flow moves the cursor, so they move too."""
    first = region_figures(loaded.engine)
    assert region_figures(loaded.engine).regions == first.regions  # same cursor, same figures
    ingest(loaded, io.BytesIO(offers_document([], deletions=["F05"])), source="national")
    after = region_figures(loaded.engine)
    assert after.cursor == first.cursor + 1
    assert after.regions["84"].sessions == 0
    assert after.regions["FR"].sessions == first.regions["FR"].sessions - 4
