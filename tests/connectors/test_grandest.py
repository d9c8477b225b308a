"""Grand-Est: the shared contract, then its daily dumps, its zips and its atypical offers."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from connectors.grandest import GrandEstConnector
from connectors.grandest.dumps import lheo_member
from hub.errors import ConfigError, FatalFetchError
from hub.http import Fetcher
from hub.pipeline.result import SyncResult
from hub.pipeline.sync import sync_source
from hub.settings import Settings, SourceSettings, load_settings
from hub.store import Store
from hub.store.cursors import load_cursor
from hub.store.tables import FORMATIONS, ISSUES
from simulators.corpus import text as corpus_text
from simulators.grandest import GrandEstSimulator
from simulators.system import SimulatedSystem
from tests.connectors.contract import (
    QUICK_FETCH,
    ConnectorContract,
    Harness,
    in_step,
    serve_harness,
)


def grand_est() -> GrandEstSimulator:
    return GrandEstSimulator(formations=24, seed=14, invalid_share=0.1, language_share=0.45)


class TestGrandEstContract(ConnectorContract):
    connector = "grand-est"

    @pytest.fixture
    def simulator(self) -> SimulatedSystem:
        return grand_est()


@pytest.fixture
def harness(sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    with serve_harness(grand_est(), "grand-est", sqlite_store, monkeypatch) as served:
        yield served


def requested(harness: Harness) -> list[str]:
    return [r.path.rsplit("/", 1)[-1] or "listing" for r in harness.simulator.faults.log()]


class TestGrandEstListing:
    """The HTTP directory listing: only the newest dump not yet ingested is read."""

    def test_the_newest_dump_alone_is_read(self, harness: Harness) -> None:
        simulator: GrandEstSimulator = harness.simulator  # type: ignore[assignment]
        listed = [name for name, _ in simulator.dumps()]
        assert len(listed) == 3
        result = harness.sync()
        in_step(harness, result)
        assert requested(harness) == ["listing", listed[-1]]
        assert result.cursor_after == {"dump": listed[-1], "day": listed[-1][16:26]}
        assert [flow.kind for flow in result.flows] == ["snapshot"]

    def test_a_dump_already_ingested_costs_one_listing_and_no_flow(self, harness: Harness) -> None:
        first = harness.sync()
        second = harness.sync()
        assert requested(harness)[2:] == ["listing"]
        assert second.flows == [] and second.cursor_after == first.cursor_after

    def test_of_several_new_dumps_only_the_newest_is_read(self, harness: Harness) -> None:
        simulator: GrandEstSimulator = harness.simulator  # type: ignore[assignment]
        in_step(harness, harness.sync())
        changed = simulator.offer.change(2)
        listed = [name for name, _ in simulator.dumps()]
        result = harness.sync()
        in_step(harness, result)
        assert requested(harness)[2:] == ["listing", listed[-1]]
        assert result.totals().updated == len(changed) == 2

    def test_a_dump_cut_in_transfer_is_fetched_again(self, harness: Harness) -> None:
        harness.simulator.faults.inject("ok", "truncate")
        result = harness.sync()
        in_step(harness, result)
        assert result.retries == 1
        assert [r.fault for r in harness.simulator.faults.log()] == ["ok", "truncate", None]

    def test_a_dump_cut_behind_a_consistent_length_fails_and_the_next_sync_takes_it(
        self, harness: Harness
    ) -> None:
        harness.simulator.faults.inject("ok", "incomplete")
        cut = harness.sync()
        assert cut.error is not None and cut.error.stage == "read"
        assert "not a readable zip archive" in cut.error.error
        assert load_cursor(harness.store, harness.source) == {}
        in_step(harness, harness.sync())


class TestGrandEstDialect:
    def test_asl_and_oepre_told_only_in_extras_come_out_harmonised(self, harness: Harness) -> None:
        simulator: GrandEstSimulator = harness.simulator  # type: ignore[assignment]
        atypical = {
            n: kind for n, kind in simulator.atypical().items() if n in simulator.expected_numeros()
        }
        assert set(atypical.values()) == {"ASL", "OEPRE"}, "both must be in the test offer"
        in_step(harness, harness.sync())
        with harness.store.engine.connect() as connection:
            rows = connection.execute(
                select(
                    FORMATIONS.c.numero,
                    FORMATIONS.c.intitule,
                    FORMATIONS.c.language_kind,
                    FORMATIONS.c.harmonised,
                ).where(FORMATIONS.c.numero.in_(list(atypical)))
            ).all()
        plain_titles = {t for ts in corpus_text.INTITULES_SANS_DISPOSITIF.values() for t in ts}
        for numero, intitule, kind, harmonised in rows:
            assert intitule in plain_titles, "the title alone says nothing of the scheme"
            assert kind == atypical[numero].lower(), numero
            assert harmonised["language"]["rule_id"] == atypical[numero].lower()
        assert len(rows) == len(atypical)

    def test_local_codes_are_translated_with_the_grand_est_rows(self, harness: Harness) -> None:
        simulator: GrandEstSimulator = harness.simulator  # type: ignore[assignment]
        archive = zipfile.ZipFile(io.BytesIO(simulator.dump(0)))
        sent = archive.read(archive.namelist()[0])
        assert re.search(rb"<code-financeur>(REGION|PE|CD|FSE|OPCO)</code-financeur>", sent)
        result = harness.sync()
        in_step(harness, result)
        assert not [f for f in result.findings if f.reason.startswith("code-local-inconnu")]
        with harness.store.engine.connect() as connection:
            fragments = " ".join(connection.execute(select(FORMATIONS.c.fragment)).scalars())
            codes = set(connection.execute(select(ISSUES.c.code)).scalars())
        assert not re.search(r"<code-financeur>[A-Z]", fragments)
        assert "code-inconnu" not in codes


# -- the folder transport --------------------------------------------------------------


def folder_sync(store: Store, folder: Path, **options: object) -> SyncResult:
    source = SourceSettings(
        name="grand-est", connector="grand-est", region="44", options={"folder": folder, **options}
    )
    settings = Settings(fetch=QUICK_FETCH, sources={"grand-est": source})
    return sync_source(store, settings, "grand-est")


def live(store: Store) -> set[str]:
    with store.engine.connect() as connection:
        query = select(FORMATIONS.c.numero).where(FORMATIONS.c.deleted.is_(False))
        return set(connection.execute(query).scalars())


def test_dumps_dropped_in_a_folder_are_read_newest_first_and_once(
    sqlite_store: Store, tmp_path: Path
) -> None:
    simulator = grand_est()
    drop = tmp_path / "drop"
    written = simulator.write_dumps(drop)
    first = folder_sync(sqlite_store, drop)
    assert first.ok, first.error
    assert live(sqlite_store) == simulator.expected_numeros()
    assert first.cursor_after["dump"] == written[-1].name
    assert folder_sync(sqlite_store, drop).flows == [], "the same dump is not read twice"
    [deleted] = simulator.offer.delete(1)
    simulator.write_dumps(drop)
    second = folder_sync(sqlite_store, drop)
    assert second.ok and second.totals().deleted == 1 and deleted not in live(sqlite_store)


def test_an_older_dump_dropped_late_is_skipped(sqlite_store: Store, tmp_path: Path) -> None:
    simulator = grand_est()
    drop = tmp_path / "drop"
    simulator.write_dumps(drop)
    first = folder_sync(sqlite_store, drop)
    late = drop / simulator.dump_name(-10)
    late.write_bytes(b"never read: older than the dump ingested")
    again = folder_sync(sqlite_store, drop)
    assert again.ok and again.flows == [] and again.items == 0
    assert load_cursor(sqlite_store, "grand-est") == first.cursor_after


def test_a_dump_with_two_xml_files_fails_clearly_and_is_not_marked_seen(
    sqlite_store: Store, tmp_path: Path
) -> None:
    simulator = grand_est()
    drop = tmp_path / "drop"
    [*_, newest] = simulator.write_dumps(drop)
    newest.write_bytes(zipped({"offre.xml": b"<lheo/>", "offre-bis.xml": b"<lheo/>"}))
    result = folder_sync(sqlite_store, drop)
    assert result.error is not None and result.error.stage == "read"
    assert not result.error.retriable
    assert "holds 2 XML files (offre.xml, offre-bis.xml)" in result.error.error
    assert load_cursor(sqlite_store, "grand-est") == {} and live(sqlite_store) == set()


def test_the_embedded_default_reads_the_simulated_listing() -> None:
    settings = load_settings(Path(__file__).parents[2] / "config" / "hub.toml")
    source = settings.sources["grand-est"]
    connector = GrandEstConnector(source, Fetcher(httpx.Client(), QUICK_FETCH, source="ge"))
    assert source.region == "44" and str(source.url).endswith("/offres/")
    assert connector.transport == "pull" and connector.options.folder is None


def test_a_source_gives_a_url_or_a_folder_not_both(tmp_path: Path) -> None:
    source = SourceSettings(
        name="grand-est",
        connector="grand-est",
        region="44",
        url="http://127.0.0.1:1/offres/",
        options={"folder": tmp_path},
    )
    fetcher = Fetcher(httpx.Client(), QUICK_FETCH, source="grand-est")
    with pytest.raises(ConfigError, match="not both"):
        GrandEstConnector(source, fetcher)


# -- the zip checks --------------------------------------------------------------------


def zipped(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def member(data: bytes, *, max_bytes: int = 1 << 20, max_ratio: float = 200) -> bytes:
    found = lheo_member(io.BytesIO(data), name="dump.zip", max_bytes=max_bytes, max_ratio=max_ratio)
    with found.stream:
        return found.stream.read()


def test_the_one_xml_file_is_read_beside_other_files() -> None:
    data = zipped({"LISEZMOI.txt": b"hello", "offre.xml": b"<lheo/>", "images/": b""})
    assert member(data) == b"<lheo/>"


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"LISEZMOI.txt": b"no offer"}, "holds 0 XML files (none)"),
        ({"a.xml": b"<lheo/>", "b.XML": b"<lheo/>"}, "holds 2 XML files (a.xml, b.XML)"),
    ],
)
def test_a_zip_without_exactly_one_xml_file_is_refused(
    members: dict[str, bytes], message: str
) -> None:
    with pytest.raises(FatalFetchError, match=re.escape(message)):
        member(zipped(members))


def test_a_zip_bomb_is_refused_before_it_is_inflated() -> None:
    bomb = zipped({"offre.xml": b"<lheo>" + b" " * 5_000_000 + b"</lheo>"})
    assert len(bomb) < 10_000
    with pytest.raises(FatalFetchError, match="a zip bomb; refused"):
        member(bomb, max_bytes=50_000_000)


def test_a_member_larger_than_the_limit_is_refused_before_it_is_inflated() -> None:
    large = zipped({"offre.xml": bytes(range(256)) * 4096})
    with pytest.raises(FatalFetchError, match="over the limit of 100000; refused before"):
        member(large, max_bytes=100_000)


def test_bytes_that_are_no_zip_are_refused() -> None:
    with pytest.raises(FatalFetchError, match="not a readable zip archive"):
        member(b"<html>503 Service Unavailable</html>")
