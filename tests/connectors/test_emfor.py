"""Emfor: the shared contract, then its conditional export and its flagged organismes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from lxml import etree
from sqlalchemy import select

from connectors.emfor.quality import flag_organismes
from hub.lheo.schema import NS_22, NS_23, xml_schema
from hub.store import Store
from hub.store.archive import open_archived
from hub.store.cursors import save_cursor
from hub.store.flows import flow_parts
from hub.store.tables import FLOWS, FORMATIONS
from simulators.emfor import EmforSimulator
from simulators.system import SimulatedSystem
from tests.connectors.contract import ConnectorContract, Harness, in_step, serve_harness


def emfor() -> EmforSimulator:
    return EmforSimulator(formations=16, seed=5, invalid_share=0.15, structure_share=0.3)


class TestEmforContract(ConnectorContract):
    connector = "emfor"

    @pytest.fixture
    def simulator(self) -> SimulatedSystem:
        return emfor()


@pytest.fixture
def harness(sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    with serve_harness(emfor(), "emfor", sqlite_store, monkeypatch) as served:
        yield served


class TestEmfor:
    """Beyond the contract."""

    def test_an_unchanged_export_costs_one_304_and_no_flow(self, harness: Harness) -> None:
        first = harness.sync()
        second = harness.sync()
        log = harness.simulator.faults.log()
        assert [r.status for r in log] == [200, 304]
        assert log[1].headers["if-none-match"] == first.cursor_after["etag"]
        assert second.flows == [] and second.unchanged_items == 1
        assert second.cursor_after == first.cursor_after

    def test_the_export_is_lheo_2_2_in_iso_8859_1(self, harness: Harness) -> None:
        result = harness.sync()
        assert result.flows[0].kind == "snapshot" and result.flows[0].lheo_version == "2.2"
        body, _ = harness.simulator.export()  # type: ignore[attr-defined]
        assert body.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')

    def test_offers_of_structures_are_kept_and_flagged(self, harness: Harness) -> None:
        simulator: EmforSimulator = harness.simulator  # type: ignore[assignment]
        structures = simulator.structure_numeros() & simulator.expected_numeros()
        assert structures, "the simulator must produce structures for this test to mean anything"
        result = harness.sync()
        in_step(harness, result)
        flagged = {f.numero for f in result.findings if f.stage == "flag"}
        assert structures <= flagged
        with harness.store.engine.connect() as connection:
            fragments = dict(
                connection.execute(select(FORMATIONS.c.numero, FORMATIONS.c.fragment)).all()
            )
        for numero in structures:
            formation = etree.fromstring(fragments[numero].encode())
            extras = formation.find(f"{{{NS_23}}}extras[@info='qualite-source']")
            assert extras is not None and len(extras) >= 1, numero
            codes = {extra.get("info") for extra in extras}
            assert codes <= {
                "siret-absent",
                "siret-invalide",
                "siret-cle-invalide",
                "siret-reformate",
                "numero-activite-absent",
                "numero-activite-invalide",
            }

    def test_without_an_etag_the_last_modified_date_makes_it_conditional(
        self, harness: Harness
    ) -> None:
        first = harness.sync()
        save_cursor(
            harness.store, harness.source, {"last_modified": first.cursor_after["last_modified"]}
        )
        second = harness.sync()
        assert harness.simulator.faults.log()[-1].status == 304 and second.flows == []

    def test_the_archive_holds_the_bytes_emfor_served(self, harness: Harness) -> None:
        result = harness.sync()
        [flow] = result.flows
        body, _ = harness.simulator.export()  # type: ignore[attr-defined]
        with harness.store.engine.connect() as connection:
            [part] = flow_parts(connection, flow.flow_id)
            encoding = connection.execute(
                select(FLOWS.c.encoding).where(FLOWS.c.id == flow.flow_id)
            ).scalar()
        with open_archived(part.path) as archived:
            assert archived.read() == body, "byte for byte what Emfor served"
        assert part.sha256 == hashlib.sha256(body).hexdigest()
        assert part.http_status == 200 and part.etag and part.url is not None
        assert part.url.endswith("export/offres-lheo.xml") and part.name == "export/offres-lheo.xml"
        assert encoding == "ISO-8859-1" and flow.encoding == "ISO-8859-1"


def test_rejections_point_at_the_lines_of_emfor_s_own_file(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulator = EmforSimulator(formations=30, seed=11, invalid_share=0.4, structure_share=0.3)
    assert simulator.rejected_numeros(), "invalid offers are what this test is about"
    with serve_harness(simulator, "emfor", sqlite_store, monkeypatch) as harness:
        [flow] = harness.sync().flows
    rejected = [e for e in flow.rejections if e.stage == "validate"]
    assert {e.numero for e in rejected} == simulator.rejected_numeros()
    body, _ = simulator.export()
    expected = _schema_error_lines(body)
    assert set(expected) == simulator.rejected_numeros()
    for error in rejected:
        assert error.line in expected[error.numero or ""], error
        assert error.file == "export/offres-lheo.xml"
    assert max(e.line or 0 for e in rejected) > 1000, "deep in Emfor's own (indented) file"


def _schema_error_lines(body: bytes) -> dict[str, set[int]]:
    """Where libxml2 itself puts each invalid formation's errors in the served file.

    Formations the hub repaired (placeholders for a missing SIRET) are validated as
    repaired, like the hub does, so only errors that survive the repair count.
    """
    schema = xml_schema("2.2")
    root = etree.fromstring(body, etree.XMLParser(remove_blank_text=True))
    lines: dict[str, set[int]] = {}
    for formation in root.iter(f"{{{NS_22}}}formation"):
        flag_organismes(formation)
        if not schema.validate(formation):
            lines[str(formation.get("numero"))] = {e.line for e in schema.error_log}
    return lines
