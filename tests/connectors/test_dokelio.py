"""Dokelio: the shared contract, then what is particular to its paged web service."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from hub.pipeline import sync as sync_module
from hub.store import Store
from simulators.dokelio import DokelioSimulator, decode_token, encode_token
from simulators.system import SimulatedSystem
from tests.connectors.contract import ConnectorContract, Harness, in_step, serve_harness

TOKEN = "dokelio-test-token"


def dokelio() -> DokelioSimulator:
    return DokelioSimulator(formations=16, seed=5, invalid_share=0.15, page_size=6, token=TOKEN)


class TestDokelioContract(ConnectorContract):
    connector = "dokelio"
    interrupt_at = 1

    @pytest.fixture
    def simulator(self) -> SimulatedSystem:
        return dokelio()


@pytest.fixture
def harness(sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    with serve_harness(dokelio(), "dokelio", sqlite_store, monkeypatch) as served:
        yield served


class TestDokelio:
    """Beyond the contract."""

    def test_offers_follow_the_14_af_pattern_and_pages_follow_next_links(
        self, harness: Harness
    ) -> None:
        result = harness.sync()
        in_step(harness, result)
        assert all(n.startswith("14_AF_") for n in harness.live_numeros())
        pages = [r.query.get("page") for r in harness.simulator.faults.log()]
        assert len(pages) == 3 and pages[0] is None and all(pages[1:])
        assert len(result.flows) == 3 and all(f.kind == "delta" for f in result.flows)

    def test_a_second_sync_asks_since_the_first_began_and_costs_one_empty_page(
        self, harness: Harness
    ) -> None:
        first = harness.sync()
        second = harness.sync()
        request = harness.simulator.faults.log()[-1]
        assert request.query["since"] == first.cursor_after["since"]
        assert second.items == 1 and second.unchanged_items == 1 and second.flows == []

    def test_a_bad_token_is_a_fatal_401_naming_the_variable(
        self, harness: Harness, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("DOKELIO_TOKEN", "wrong")
        result = harness.sync()
        assert result.error is not None and not result.error.retriable
        assert "401" in result.error.error and "token_env" in result.error.hint
        assert len(harness.simulator.faults.log()) == 1, "a 401 is not retried"

    def test_a_full_resync_deletes_what_the_service_no_longer_lists(self, harness: Harness) -> None:
        in_step(harness, harness.sync())
        [gone] = harness.simulator.offer.delete(1)
        harness.simulator.offer._deleted.clear()  # the service forgot the deletion itself
        result = harness.sync(full=True)
        in_step(harness, result)
        assert gone not in harness.live_numeros()
        assert result.flows[-1].counts.deleted == 1

    def test_a_sync_stopped_mid_listing_still_deletes_by_absence_once_resumed(
        self, harness: Harness
    ) -> None:
        in_step(harness, harness.sync())
        [gone] = harness.simulator.offer.delete(1)
        harness.simulator.offer._deleted.clear()
        harness.simulator.faults.inject("ok", "404")
        assert not harness.sync(full=True).ok
        resumed = harness.sync()
        in_step(harness, resumed)
        assert gone not in harness.live_numeros()


def test_page_tokens_round_trip_and_foreign_tokens_are_refused() -> None:
    assert decode_token(encode_token("14_AF_0000000010")) == "14_AF_0000000010"
    with pytest.raises(ValueError, match="invalid page token"):
        decode_token("bm90LW91cnM")


def test_the_service_refuses_a_malformed_since_with_400() -> None:
    simulator = DokelioSimulator(formations=2, token=None)
    transport = httpx.ASGITransport(app=simulator.app())

    async def ask() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
            return await client.get("/v1/offres", params={"since": "2024-01-01"})

    response = asyncio.run(ask())
    assert response.status_code == 400 and "YYYYMMDD" in response.text


def test_a_sync_killed_between_pages_resumes_from_its_stored_cursor(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_save = sync_module.save_cursor
    saved: list[dict[str, object]] = []

    def save_then_die(store: Store, source: str, cursor: dict[str, object]) -> None:
        real_save(store, source, cursor)
        saved.append(cursor)
        if len(saved) == 2:
            raise KeyboardInterrupt("killed after the second page")

    monkeypatch.setattr(sync_module, "save_cursor", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        harness.sync()
    monkeypatch.setattr(sync_module, "save_cursor", real_save)
    resumed = harness.sync()
    in_step(harness, resumed)
    log = harness.simulator.faults.log()
    assert log[2].query["page"] == saved[1]["page"], "the third page is asked for, not the first"
    assert len(log) == 3, "no page is fetched twice"


def test_records_corrupted_at_run_time_are_rejected_and_the_stored_ones_kept(
    harness: Harness,
) -> None:
    in_step(harness, harness.sync())
    [broken] = harness.simulator.offer.corrupt(1)
    result = harness.sync()
    assert result.ok and result.totals().rejected == 1
    [flow] = result.flows
    [rejection] = flow.rejections
    assert rejection.numero == broken and "intitule-formation" in rejection.reason
    assert broken in harness.live_numeros(), "the last valid version stays in the store"
