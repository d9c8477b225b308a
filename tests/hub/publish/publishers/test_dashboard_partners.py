"""Publisher runs appear on the sync-health dashboard alongside the sources."""

from __future__ import annotations

from pathlib import Path

import httpx
from lheo_factory import formation
from live_server import serving
from publishing import Hub, partner

from hub.api.app import create_app


def test_the_dashboard_lists_each_partner_with_its_lag_and_last_outcome(
    hub: Hub, tmp_path: Path
) -> None:
    hub.load([formation("F1"), formation("F2")])
    hub.run(partner("france-travail", "filedrop", tmp_path / "drop"))
    hub.load([formation("F3")])  # one change the partner has not received yet
    with serving(create_app(hub.settings, hub.store)) as url:
        page = httpx.get(f"{url}/", timeout=30).text
    section = page[page.index('id="partners-title"') : page.index('id="recent-title"')]
    assert "Diffusion aux partenaires" in section
    [row] = [r for r in section.split("<tr>") if "france-travail" in r]
    cells = [c.split("</td>")[0] for c in row.split("<td")[1:]]
    assert cells[3].endswith(">1") and "acknowledged" in cells[5], cells
