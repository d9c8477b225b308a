"""A snapshot that would wipe a source is held for an operator, never applied nor lost.

Defaults: held past 20 % of the source's live offer and past 10 formations; each source
may set its own limits. An operator applies it with ``hub apply FLOW --confirm-deletions``
(or the dashboard's button) or discards it; until then the source shows *en attente*, in
``hub status`` and in ``hub_source_held_flows``.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from lheo_factory import document, flow_status, formation
from sqlalchemy import select
from typer.testing import CliRunner

from hub.cli import app
from hub.errors import FlowError
from hub.ops.health import health_of
from hub.ops.metrics import exposition
from hub.pipeline.apply import discard
from hub.pipeline.ingest import FlowResult, ingest
from hub.pipeline.replay import apply_confirmed
from hub.settings import Settings, SourceSettings
from hub.store import Store
from hub.store.tables import FORMATIONS

SOURCE = "emfor"


def snapshot(store: Store, count: int, settings: Settings | None = None) -> FlowResult:
    data = document([formation(f"F{i:03d}") for i in range(count)])
    return ingest(
        store, io.BytesIO(data), source=SOURCE, region="27", kind="snapshot", settings=settings
    )


def live(store: Store) -> int:
    f = FORMATIONS.c
    with store.engine.connect() as connection:
        return len(
            connection.execute(select(f.id).where(f.source == SOURCE, f.deleted.is_(False))).all()
        )


def test_a_truncated_export_is_held_and_nothing_of_it_applied(store: Store) -> None:
    snapshot(store, 100)
    truncated = snapshot(store, 3)
    assert truncated.status == "held"
    assert truncated.note is not None and "97 of the 100 formations" in truncated.note
    assert live(store) == 100, "nothing applied: not even the three formations it holds"
    status, note = flow_status(store, truncated.flow_id)
    assert status == "held" and note == truncated.note


def test_a_source_that_removed_a_little_goes_through(store: Store) -> None:
    snapshot(store, 100)
    result = snapshot(store, 85)  # 15 deletions: past 10, but under 20 %
    assert result.status == "applied" and result.counts.deleted == 15
    small = snapshot(store, 76)  # 9 deletions: 10.6 %, and under 10 formations
    assert small.status == "applied" and live(store) == 76


def test_a_source_may_set_its_own_limits(store: Store, tmp_path: Path) -> None:
    settings = Settings(
        sources={
            SOURCE: SourceSettings(
                name=SOURCE, connector="emfor", region="27", url="http://127.0.0.1:1",
                hold_deletions_share=0.5,
            )
        }
    )  # fmt: skip
    snapshot(store, 100, settings)
    assert snapshot(store, 60, settings).status == "applied", "40 % is under its 50 %"
    assert snapshot(store, 20, settings).status == "held", "66 % is past it"


def test_the_operator_applies_a_held_snapshot_with_its_deletions(store: Store) -> None:
    snapshot(store, 40)
    held = snapshot(store, 2)
    with pytest.raises(FlowError, match="no flow 'no-such-flow'"):
        apply_confirmed(store, "no-such-flow")
    applied = apply_confirmed(store, held.flow_id)
    assert applied.status == "applied" and applied.counts.deleted == 38
    assert live(store) == 2 and flow_status(store, held.flow_id)[0] == "applied"


def test_a_discarded_snapshot_applies_nothing_and_keeps_its_files(store: Store) -> None:
    snapshot(store, 40)
    held = snapshot(store, 1)
    discard(store, held.flow_id, reason="export tronqué côté région")
    assert flow_status(store, held.flow_id) == ("discarded", "export tronqué côté région")
    assert live(store) == 40
    assert list(store.archive_dir.rglob("*.gz")), "the region's file stays archived"
    with pytest.raises(FlowError, match="only a held flow can be discarded"):
        discard(store, held.flow_id, reason="twice")


def test_a_held_snapshot_shows_in_status_metrics_and_the_cli(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot(store, 40)
    held = snapshot(store, 1)
    settings = Settings()
    [health] = health_of(store, settings)
    assert health.status == "held" and [h.flow_id for h in health.held] == [held.flow_id]
    text = exposition(lambda: [health], store).decode()
    assert f'hub_source_held_flows{{source="{SOURCE}"}} 1.0' in text

    config = tmp_path / "hub.toml"
    config.write_text(
        f'[store]\ndatabase_url = "{store.engine.url.render_as_string(hide_password=False)}"\n'
        f'archive_dir = "{store.archive_dir}"\n'
    )
    runner = CliRunner()
    shown = runner.invoke(app, ["status", "--json", "--config", str(config)])
    assert shown.exit_code == 0, shown.output
    [source] = json.loads(shown.output)["sources"]
    assert source["status"] == "held" and source["held"][0]["flow_id"] == held.flow_id
    listed = runner.invoke(app, ["flows", "--status", "held", "--config", str(config)])
    assert held.flow_id in listed.output and "would delete 39 of the 40" in listed.output
    refused = runner.invoke(app, ["apply", held.flow_id, "--config", str(config)])
    assert refused.exit_code != 0 and "--confirm-deletions" in refused.output
    confirmed = runner.invoke(
        app, ["apply", held.flow_id, "--confirm-deletions", "--config", str(config)]
    )
    assert confirmed.exit_code == 0, confirmed.output
    assert live(store) == 1
