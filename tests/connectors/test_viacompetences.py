"""via-competences: the shared contract, then the merge of its two legacy exports."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from lxml import etree
from sqlalchemy import select

from connectors.codes import LocalCodes, OldRegions
from connectors.viacompetences import ViaCompetencesConnector
from connectors.viacompetences.exports import BaseDialect, ViaCompetencesDialect
from hub.errors import ConfigError
from hub.http import Fetcher
from hub.lheo.schema import NS_23
from hub.pipeline.ingest import archive_part
from hub.pipeline.read import FlowReading, Policy, flag_findings
from hub.settings import FetchSettings, SourceSettings, load_settings
from hub.store import Store
from hub.store.cursors import load_cursor
from hub.store.tables import FORMATIONS, ISSUES
from simulators.system import SimulatedSystem
from simulators.viacompetences import ViaCompetencesSimulator
from tests.connectors.contract import ConnectorContract, Harness, in_step, serve_harness

NS = {"l": NS_23}


def via_competences() -> ViaCompetencesSimulator:
    return ViaCompetencesSimulator(formations=24, seed=5, invalid_share=0.1, overlap_share=0.4)


class TestViaCompetencesContract(ConnectorContract):
    connector = "via-competences"

    @pytest.fixture
    def simulator(self) -> SimulatedSystem:
        return via_competences()


@pytest.fixture
def harness(sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    with serve_harness(via_competences(), "via-competences", sqlite_store, monkeypatch) as served:
        yield served


def fragments(harness: Harness) -> dict[str, etree._Element]:
    with harness.store.engine.connect() as connection:
        rows = connection.execute(
            select(FORMATIONS.c.numero, FORMATIONS.c.fragment).where(
                FORMATIONS.c.deleted.is_(False)
            )
        ).all()
    return {numero: etree.fromstring(fragment.encode()) for numero, fragment in rows}


def provenance(formation: etree._Element) -> list[tuple[str, str]]:
    extras = formation.find("l:extras[@info='provenance']", NS)
    assert extras is not None, formation.get("numero")
    return [(str(extra.get("info")), extra.text or "") for extra in extras]


class TestViaCompetences:
    """Beyond the contract."""

    def test_an_offer_in_both_bases_comes_out_once_with_both_provenances(
        self, harness: Harness
    ) -> None:
        simulator: ViaCompetencesSimulator = harness.simulator  # type: ignore[assignment]
        holdings = simulator.holdings()
        shared = {n for n, bases in holdings.items() if len(bases) == 2}
        single = set(holdings) - shared
        assert shared & simulator.expected_numeros() and single, "both kinds must exist"
        result = harness.sync()
        in_step(harness, result)
        [flow] = result.flows
        copies = sum(len(bases) for bases in holdings.values())
        assert flow.counts.formations == len(holdings) < copies
        stored = fragments(harness)
        for numero in shared & simulator.expected_numeros():
            named = provenance(stored[numero])
            assert named[:4] == [
                ("base", "auvergne"),
                ("numero-auvergne", simulator.base_numero(numero, "auvergne")),
                ("base", "rhone-alpes"),
                ("numero-rhone-alpes", simulator.base_numero(numero, "rhone-alpes")),
            ]
        for numero in single & simulator.expected_numeros():
            [base] = holdings[numero]
            assert provenance(stored[numero]) == [
                ("base", base),
                (f"numero-{base}", simulator.base_numero(numero, base)),
                ("base-retenue", base),
            ]

    def test_old_region_codes_numeros_and_local_codes_are_harmonised(
        self, harness: Harness
    ) -> None:
        simulator: ViaCompetencesSimulator = harness.simulator  # type: ignore[assignment]
        auvergne, _ = simulator.export("auvergne")
        rhone_alpes, _ = simulator.export("rhone-alpes")
        assert b"<region>83</region>" in auvergne and b"<region>82</region>" in rhone_alpes
        assert b'numero="83_AF_' in auvergne and b'numero="82_AF_' in rhone_alpes
        local = re.compile(rb"<code-(?:financeur|niveau-entree)>[A-Z]")
        assert local.search(auvergne) and local.search(rhone_alpes), "local codes are sent"
        in_step(harness, harness.sync())
        for numero, formation in fragments(harness).items():
            regions = {r.text for r in formation.iter(f"{{{NS_23}}}region")}
            assert regions <= {"84"}, numero
            numeros = {str(e.get("numero")) for e in formation.iter() if e.get("numero")}
            prefixes = {n[:3] for n in numeros if re.match(r"\d\d_(AF|AC|SE|OF)_", n)}
            assert prefixes == {"84_"}, numero
        with harness.store.engine.connect() as connection:
            codes = set(connection.execute(select(ISSUES.c.code)).scalars())
        assert not codes & {"code-inconnu", "region-inconnue", "region-incoherente"}

    def test_the_newest_copy_wins_then_rhone_alpes_and_the_other_is_a_finding(
        self, harness: Harness
    ) -> None:
        simulator: ViaCompetencesSimulator = harness.simulator  # type: ignore[assignment]
        result = harness.sync()
        in_step(harness, result)
        stored = fragments(harness)
        findings = {f.numero: f for f in result.findings if f.reason.startswith("fusion-ecart")}
        shared = [f for f in simulator.offer.live() if len(simulator.bases_of(f)) == 2]
        assert {days for f in shared for days in [simulator.lag(f)[1]]} >= {0}, "a tie exists"
        assert any(simulator.lag(f)[1] > 0 for f in shared), "a newer copy exists"
        for formation in shared:
            lagging, days, wording = simulator.lag(formation)
            fresh = "auvergne" if lagging == "rhone-alpes" else "rhone-alpes"
            winner = "rhone-alpes" if days == 0 else fresh
            loser = fresh if winner == lagging else lagging
            if formation.numero in stored:
                named = dict(provenance(stored[formation.numero])[4:])
                assert named == {"base-retenue": winner}, formation.numero
            finding = findings[formation.numero]
            assert finding.stage == "flag" and f"the {loser} copy" in finding.reason
            if "intitule-majuscules" in wording:
                assert "intitule-formation" in finding.reason
        assert len(findings) == len(shared)

    def test_an_unchanged_pair_costs_two_304s_and_no_flow(self, harness: Harness) -> None:
        first = harness.sync()
        second = harness.sync()
        log = harness.simulator.faults.log()
        assert [r.status for r in log] == [200, 200, 304, 304]
        assert log[2].headers["if-none-match"] == first.cursor_after["auvergne"]["etag"]
        assert log[3].headers["if-none-match"] == first.cursor_after["rhone-alpes"]["etag"]
        assert second.flows == [] and second.items == 2
        assert second.cursor_after == first.cursor_after

    def test_one_changed_export_fetches_the_other_again_in_full(self, harness: Harness) -> None:
        simulator: ViaCompetencesSimulator = harness.simulator  # type: ignore[assignment]
        in_step(harness, harness.sync())
        auvergne_only = sorted(
            n
            for n, bases in simulator.holdings().items()
            if bases == ("auvergne",) and n in simulator.expected_numeros()
        )
        simulator.offer.change(numeros=auvergne_only[:1])
        result = harness.sync()
        in_step(harness, result)
        log = harness.simulator.faults.log()[2:]
        assert [(r.path, r.status) for r in log] == [
            ("/auvergne/offres-lheo.xml", 200),
            ("/rhone-alpes/offres-lheo.xml", 304),
            ("/rhone-alpes/offres-lheo.xml", 200),
        ]
        assert "if-none-match" not in log[2].headers
        totals = result.totals()
        assert (totals.updated, totals.created, totals.deleted) == (1, 0, 0)

    def test_a_sync_stopped_between_the_exports_starts_again_from_the_first(
        self, harness: Harness
    ) -> None:
        harness.simulator.faults.inject("ok", "503:retry-after=0", *["503"] * 6)
        stopped = harness.sync()
        assert stopped.error is not None and stopped.error.retriable
        assert "rhone-alpes" in str(stopped.error.url) and stopped.flows == []
        assert load_cursor(harness.store, harness.source) == {}
        harness.simulator.faults.clear()
        resumed = harness.sync()
        in_step(harness, resumed)
        paths = [r.path for r in harness.simulator.faults.log()[-2:]]
        assert paths == ["/auvergne/offres-lheo.xml", "/rhone-alpes/offres-lheo.xml"]


def test_the_embedded_default_configures_via_competences() -> None:
    settings = load_settings(Path(__file__).parents[2] / "config" / "hub.toml")
    source = settings.sources["via-competences"]
    connector = ViaCompetencesConnector(
        source, Fetcher(httpx.Client(), FetchSettings(), source=source.name)
    )
    assert source.region == "84" and connector.options.preferred == "rhone-alpes"
    assert [b.old_region for b in connector.options.bases] == ["83", "82"]


# -- the merge itself, on the simulator's exports without a server ---------------------


def dialects() -> dict[str, BaseDialect]:
    return {
        "auvergne": BaseDialect("auvergne", "83", LocalCodes("via-competences-auvergne")),
        "rhone-alpes": BaseDialect("rhone-alpes", "82", LocalCodes("via-competences-rhone-alpes")),
    }


def merge(auvergne: bytes, rhone_alpes: bytes) -> tuple[list[etree._Element], list[str]]:
    """The two exports read as one flow, through the dialect, as the hub's read stage does."""
    dialect = ViaCompetencesDialect(
        list(dialects().values()), preferred="rhone-alpes", region="84", regions=OldRegions()
    )
    with tempfile.TemporaryDirectory() as folder:
        parts = tuple(
            replace(
                archive_part(Path(folder), "via", [data], name=f"{role}/offres-lheo.xml"),
                role=role,
                position=position,
            )
            for position, (role, data) in enumerate(
                (("auvergne", auvergne), ("rhone-alpes", rhone_alpes))
            )
        )
        reading = FlowReading(
            parts, Policy(dialect), source="via", region="84", fast=False, validate=False
        )
        records = [record for record, _ in reading.records()]
        findings = reading.findings
    reasons = [f.reason for f in findings]
    reasons += [e.reason for r in records for e in r.errors + flag_findings(r)]
    return [r.element for r in records if r.element is not None], reasons


def in_copy(export: bytes, numero: str, pattern: bytes, replacement: bytes) -> bytes:
    """``export`` with the first match of ``pattern`` from the copy ``numero`` on replaced."""
    start = export.index(f'numero="{numero}"'.encode())
    return export[:start] + re.sub(pattern, replacement, export[start:], count=1)


def shared_offer(simulator: ViaCompetencesSimulator) -> tuple[str, str, str]:
    """A valid shared offer whose Rhône-Alpes copy is newer, and its two base numeros."""
    for formation in simulator.offer.live():
        lagging, days, _ = simulator.lag(formation)
        shared = formation.valid and len(simulator.bases_of(formation)) == 2
        if shared and lagging == "auvergne" and days > 0:
            numero = formation.numero
            return (
                numero,
                simulator.base_numero(numero, "auvergne"),
                simulator.base_numero(numero, "rhone-alpes"),
            )
    raise AssertionError("the simulator has no such offer")


def test_a_copy_the_xsd_refuses_loses_to_a_valid_one_even_when_newer() -> None:
    simulator = via_competences()
    numero, _, rhone_alpes_numero = shared_offer(simulator)
    auvergne, _ = simulator.export("auvergne")
    rhone_alpes, _ = simulator.export("rhone-alpes")
    broken = in_copy(
        rhone_alpes, rhone_alpes_numero, rb"<intitule-formation>[^<]*</intitule-formation>", b""
    )
    formations, _ = merge(auvergne, broken)
    [published] = [f for f in formations if f.get("numero") == numero]
    assert dict(provenance(published)[4:]) == {"base-retenue": "auvergne"}
    assert published.find("l:intitule-formation", NS) is not None


def test_copies_with_different_sessions_or_no_siret_are_not_merged() -> None:
    simulator = via_competences()
    numero, auvergne_numero, _ = shared_offer(simulator)
    auvergne, _ = simulator.export("auvergne")
    rhone_alpes, _ = simulator.export("rhone-alpes")
    moved = in_copy(
        auvergne, auvergne_numero, rb"<debut>(\d{6})\d\d</debut>", rb"<debut>\g<1>01</debut>"
    )
    formations, _ = merge(moved, rhone_alpes)
    numeros = [f.get("numero") for f in formations]
    assert numero in numeros and f"84_{auvergne_numero[3:]}" in numeros, "two offers now"
    unsiretted = re.sub(rb"<SIRET>\d+</SIRET>", b"<SIRET></SIRET>", auvergne)
    alone, _ = merge(unsiretted, rhone_alpes)
    copies = sum(len(simulator.bases_of(f)) for f in simulator.offer.live())
    assert len(alone) == copies, "without a SIRET no copy is merged"


def test_an_unknown_local_code_is_kept_flagged_and_named() -> None:
    simulator = via_competences()
    auvergne, _ = simulator.export("auvergne")
    rhone_alpes, _ = simulator.export("rhone-alpes")
    [alone] = [
        n
        for n, bases in simulator.holdings().items()
        if bases == ("rhone-alpes",) and n in simulator.expected_numeros()
    ][:1]
    numero = simulator.base_numero(alone, "rhone-alpes")
    odd = in_copy(rhone_alpes, numero, rb"<code-financeur>[^<]*<", b"<code-financeur>XYZ<")
    formations, reasons = merge(auvergne, odd)
    [reason] = [r for r in reasons if r.startswith("code-local-inconnu")]
    assert "« XYZ »" in reason and "source_codes.csv" in reason
    assert "via-competences-rhone-alpes" in reason
    flagged = [f for f in formations if f.find("l:extras[@info='qualite-source']", NS) is not None]
    assert len(flagged) == 1


def test_options_name_the_preferred_base_among_the_bases() -> None:
    source = SourceSettings(
        name="via-competences",
        connector="via-competences",
        region="84",
        url="http://127.0.0.1:1",
        options={"preferred": "savoie"},
    )
    with pytest.raises(ConfigError, match="preferred must name one of the bases"):
        ViaCompetencesConnector(source, Fetcher(None, FetchSettings(), source="x"))  # type: ignore[arg-type]
