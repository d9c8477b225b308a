"""The sync-health dashboard in a real headless browser (Debian's chromium, via Playwright).

The hub is filled by the simulated regional systems through the real sync runner. The test
reads the page as the RCO team would: one row per source in French, a rejected record in
the drill-down, the raw flow downloaded, the admin buttons, and, once a simulator is
stopped and its staleness threshold passed, its row turned stale. No request may leave
127.0.0.1 (the page must work with the network unplugged). Screenshots are kept under
``tests/artefacts/`` (git-ignored).
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from lheo_factory import document, formation
from live_server import serving
from simulated_hub import SimulatedHub, simulated_hub
from sqlalchemy import select

from hub.api.ops import health_json
from hub.errors import KEPT_STAGES
from hub.ops.health import health_of
from hub.pipeline.ingest import ingest
from hub.store.models import utcnow
from hub.store.tables import REJECTIONS, RUNS
from hub.store.tokens import create_token

playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTEFACTS = Path(__file__).resolve().parents[2] / "artefacts"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and shutil.which("chromium") is None,
    reason="Debian's chromium is not installed at /usr/bin/chromium "
    "(.ci/run installs it: apt-get install -y chromium)",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[playwright_api.Browser]:
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimulatedHub]:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    stale = {"dokelio": "12h", "emfor": "1h"}
    with simulated_hub(tmp_path, url, monkeypatch, stale_after=stale) as filled:
        for name in ("dokelio", "emfor"):
            outcome = filled.sync(name, trigger="schedule")
            assert outcome.outcome == "success", outcome.error
        # A region that pushes, with a local code the national tables do not know.
        pushed = document([formation("93-F1"), formation("93-F2")])
        ingest(filled.store, io.BytesIO(pushed), source="pushed-93", region="93")
        yield filled


@pytest.fixture
def page(browser: playwright_api.Browser) -> Iterator[tuple[playwright_api.Page, list[str]]]:
    """A page whose every request off 127.0.0.1 is refused and recorded."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    outside: list[str] = []

    def only_loopback(route: playwright_api.Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    try:
        yield context.new_page(), outside
    finally:
        context.close()


def shoot(page: playwright_api.Page, name: str) -> None:
    ARTEFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / name), full_page=True)


def row(page: playwright_api.Page, source: str) -> playwright_api.Locator:
    return page.locator(f"#sources tr[data-source='{source}']")


def test_the_dashboard_shows_each_source_the_drill_down_and_the_stale_row(
    hub: SimulatedHub, page: tuple[playwright_api.Page, list[str]]
) -> None:
    browser_page, outside = page
    admin = create_token(hub.store.engine, "admin").token
    app = hub.app()
    with serving(app) as url:
        browser_page.goto(f"{url}/")
        _check_rows(browser_page, hub)
        shoot(browser_page, "dashboard.png")
        flow_id = _check_drill_down(browser_page, hub)
        shoot(browser_page, "flow.png")
        _check_admin_buttons(browser_page, hub, url, flow_id, admin)

        hub.stop("emfor")  # the region's system goes down...
        assert hub.sync("emfor").outcome == "failed"
        app.state.clock = lambda: utcnow() + timedelta(hours=2)  # ...past its 1 h threshold
        browser_page.goto(f"{url}/")
        emfor = row(browser_page, "emfor")
        assert emfor.get_attribute("data-status") == "stale"
        assert emfor.locator(".badge-stale").inner_text() == "en retard"
        assert "1 échec depuis la dernière réussite" in emfor.inner_text()
        assert row(browser_page, "dokelio").get_attribute("data-status") == "ok"
        assert row(browser_page, "pushed-93").get_attribute("data-status") == "ok"
        assert "1 en retard" in browser_page.locator("#summary").inner_text()
        shoot(browser_page, "dashboard-stale.png")
    assert outside == [], "the dashboard asked for something off the hub"


def _check_rows(page: playwright_api.Page, hub: SimulatedHub) -> None:
    assert page.locator("h1").inner_text() == "Santé des synchronisations"
    assert page.locator("html").get_attribute("lang") == "fr"
    headers = page.locator("#sources thead th").all_inner_texts()
    for label in ("Dernière réussite", "Retard / fraîcheur attendue", "Taux de rejet", "Tendance"):
        assert label in headers
    assert page.locator("#sources tbody tr").count() == 3
    for name in ("dokelio", "emfor", "pushed-93"):
        source = row(page, name)
        assert source.get_attribute("data-status") == "ok"
        assert source.locator(".badge-ok").inner_text() == "à jour"
        assert source.locator("svg.sparkline").count() == 1
    assert "toutes les 1 h" in row(page, "emfor").inner_text()
    assert "envoi par la région (push)" in row(page, "pushed-93").inner_text()
    assert row(page, "pushed-93").locator("form").count() == 0, "nothing to run for a push"
    health = {s["name"]: s for s in _health_json(hub)}
    emfor = health["emfor"]["last_applied"]["counts"]
    cells = row(page, "emfor").locator("td.num").all_inner_texts()
    counted = ("created", "updated", "unchanged", "deleted", "rejected")
    assert cells[:5] == [str(emfor[name]) for name in counted]
    assert page.locator("#region-counts tr[data-region='11']").count() == 1
    assert page.locator("#region-counts tr[data-region='27']").count() == 1
    assert "Bourgogne-Franche-Comté" in page.locator("#region-counts").inner_text()
    assert page.locator("[data-key-region='FR'] dt").first.inner_text() == "Actions référencées"
    assert page.locator("#unmapped-title").inner_text() == "Codes non reconnus par source"
    unmapped = page.locator("[data-unmapped-source='pushed-93'] tbody tr").first
    assert unmapped.locator("td").all_inner_texts() == ["code-public-vise", "80056", "2"]


def _health_json(hub: SimulatedHub) -> list[dict[str, Any]]:
    return [health_json(s) for s in health_of(hub.store, hub.settings)]


def _check_drill_down(page: playwright_api.Page, hub: SimulatedHub) -> str:
    page.click("#sources tr[data-source='emfor'] th a")
    assert page.locator("h1").inner_text().startswith("Source emfor")
    page.click("#source-flows tbody tr:first-child a")
    flow_id = page.locator("h1 code").inner_text()
    with hub.store.engine.connect() as connection:
        stored = connection.execute(
            select(REJECTIONS.c.numero, REJECTIONS.c.path, REJECTIONS.c.line)
            .where(REJECTIONS.c.flow_id == flow_id, REJECTIONS.c.stage.not_in(KEPT_STAGES))
            .order_by(REJECTIONS.c.line)
        ).all()
    assert stored, "the simulated export carries XSD-invalid formations"
    rows = page.locator("#rejections tbody tr")
    assert rows.count() == len({(numero, line) for numero, _, line in stored}), "one per record"
    numero, file, line, reasons = rows.first.locator("td").all_inner_texts()
    assert (numero, int(line)) == (stored[0].numero, stored[0].line)
    assert file == "export/offres-lheo.xml" and stored[0].path in reasons
    assert page.locator("#flow-encoding").inner_text() == "ISO-8859-1", "as Emfor declares it"
    with page.expect_download() as download:
        page.click("#download-raw-0")
    raw = Path(download.value.path()).read_bytes()
    served, _ = hub.systems["emfor"].export()  # type: ignore[attr-defined]
    assert raw == served, "byte for byte the file Emfor served"
    return flow_id


def _check_admin_buttons(
    page: playwright_api.Page, hub: SimulatedHub, url: str, flow_id: str, admin: str
) -> None:
    page.goto(f"{url}/flows/{flow_id}")
    page.fill("form[action$='/replay'] input[name=token]", "lhub_t_000000000000_wrong")
    page.click("form[action$='/replay'] button")
    assert page.locator("h1").inner_text() == "Action refusée : rejouer un flux"
    page.goto(f"{url}/flows/{flow_id}")
    page.fill("form[action$='/replay'] input[name=token]", admin)
    page.click("form[action$='/replay'] button")
    assert page.locator(".notice").inner_text() == "Flux rejoué : voici le nouveau flux."
    assert (
        flow_id in page.locator("main").inner_text()
        and page.locator("h1 code").inner_text() != flow_id
    )
    page.goto(f"{url}/sources/dokelio")
    page.fill("form[action$='/run'] input[name=token]", admin)
    page.click("form[action$='/run'] button")
    assert page.locator(".notice").inner_text().startswith("Synchronisation")
    with hub.store.engine.connect() as connection:
        triggers = connection.execute(select(RUNS.c.trigger).where(RUNS.c.source == "dokelio"))
        assert sorted(triggers.scalars()) == ["manual", "schedule"]
