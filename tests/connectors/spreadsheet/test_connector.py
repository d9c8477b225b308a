"""The spreadsheet connector pulls a territory's file over real HTTP, with ETag and 304."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from live_server import serving
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.pipeline.sync import sync_source
from hub.settings import FetchSettings, Settings, SourceSettings
from hub.store import Store
from hub.store.tables import FORMATIONS
from simulators.spreadsheet import example_rows, write_xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Territory:
    """A territory's web server: one XLSX file, served with an ETag, counted requests."""

    body: bytes = b""
    requests: list[int] = field(default_factory=list)

    def app(self) -> Starlette:
        async def offres(request: Request) -> Response:
            etag = f'"{hashlib.sha256(self.body).hexdigest()[:16]}"'
            status = 304 if request.headers.get("if-none-match") == etag else 200
            self.requests.append(status)
            body = b"" if status == 304 else self.body
            return Response(body, status_code=status, media_type=XLSX, headers={"ETag": etag})

        return Starlette(routes=[Route("/export/offres.xlsx", offres)])


@pytest.fixture
def territory(store: Store) -> Iterator[tuple[Territory, Settings]]:
    system = Territory()
    with serving(system.app()) as url:
        source = SourceSettings(
            name="martinique",
            connector="spreadsheet",
            region="02",
            url=url,
            options={"path": "export/offres.xlsx"},
        )
        settings = Settings(
            fetch=FetchSettings(attempts=1, backoff_initial=0, jitter=0),
            sources={source.name: source},
        )
        yield system, settings


def live(store: Store) -> set[str]:
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(FORMATIONS.c.numero).where(
                FORMATIONS.c.source == "martinique", FORMATIONS.c.deleted.is_(False)
            )
        )
        return set(rows.scalars())


def test_a_sync_converts_the_file_then_costs_one_304(
    territory: tuple[Territory, Settings], store: Store
) -> None:
    system, settings = territory
    # one session per formation, so rejecting a row rejects its formation
    rows = list({r["numero_formation"]: r for r in example_rows("02", formations=3)}.values())
    broken, lone = 1, rows[1]
    rows[broken] = lone | {"date_debut": "31/02/2027"}
    system.body = write_xlsx(rows)
    first = sync_source(store, settings, "martinique")
    assert first.ok, str(first.error)
    expected = {r["numero_formation"] for r in rows} - {lone["numero_formation"]}
    assert live(store) == expected
    [flow] = first.flows
    [finding] = flow.rejections
    assert finding.stage == "convert" and finding.line == broken + 2
    assert finding.file == "export/offres.xlsx" and flow.counts.rejected == 1
    assert "(date_debut)" in finding.path and "n'est pas une date" in finding.reason
    again = sync_source(store, settings, "martinique")
    assert again.ok and again.flows == [] and system.requests[-1] == 304
    rows[broken] = lone
    rows.append({"numero_formation": sorted(expected)[0], "operation": "supprimer"})
    rows = [r for r in rows if r.get("operation") or r["numero_formation"] != sorted(expected)[0]]
    system.body = write_xlsx(rows)
    changed = sync_source(store, settings, "martinique")
    assert changed.ok, str(changed.error)
    assert live(store) == (expected | {lone["numero_formation"]}) - {sorted(expected)[0]}
    assert changed.totals().deleted == 1 and changed.totals().created == 1


def test_an_unreadable_file_fails_the_sync_and_changes_nothing(
    territory: tuple[Territory, Settings], store: Store
) -> None:
    system, settings = territory
    system.body = write_xlsx(example_rows("02", formations=2))
    assert sync_source(store, settings, "martinique").ok
    before = live(store)
    system.body = b"numero_formation;intitule\r\nF1;Cuisine\r\n"
    failed = sync_source(store, settings, "martinique")
    assert failed.error is not None and not failed.error.retriable
    assert "colonne(s) obligatoire(s) absente(s)" in failed.error.error
    assert live(store) == before
