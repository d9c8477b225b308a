"""Emfor: the shared contract, then its conditional export and its flagged organismes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lxml import etree
from sqlalchemy import select

from connectors.emfor.simulator import EmforSimulator
from connectors.simulation import SimulatedSystem
from hub.lheo.schema import NS_23
from hub.store import Store
from hub.store.models import Formation
from hub.sync import save_cursor
from tests.connectors.contract import ConnectorContract, Harness, in_step, serve_harness

FORMATIONS = Formation.__table__  # type: ignore[attr-defined]


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
