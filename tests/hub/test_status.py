"""The sync-health model: status, last success, lag, counts, rejection rate, trend.

Every test runs on SQLite and on PostgreSQL (the ``store`` fixture). Time is passed in
(``now=``), so "stale" is decided without waiting.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from lheo_factory import document, formation
from rich.console import Console
from typer.testing import CliRunner

from hub.cli import app
from hub.errors import LheoError
from hub.ops.health import Expectation, SourceHealth, source_health
from hub.pipeline.ingest import FlowResult, ingest
from hub.store import Store
from hub.store.models import utcnow
from hub.store.runs import recorded_run

DAY = timedelta(days=1)
INVALID = formation("BAD").replace("<certifiante>0", "<certifiante>5")
TRUNCATED = document([formation("CUT")])[:300]


def push(store: Store, source: str, *records: str, kind: str = "delta") -> FlowResult:
    return ingest(
        store,
        io.BytesIO(document(records)),
        source=source,
        region="11",
        kind=kind,  # type: ignore[arg-type]
    )


def health(store: Store, **kwargs: object) -> dict[str, SourceHealth]:
    options: dict[str, object] = {"default_staleness": DAY, "trend_flows": 5}
    options.update(kwargs)
    return {s.name: s for s in source_health(store, {}, **options)}  # type: ignore[arg-type]


def test_a_source_is_ok_until_its_lag_passes_its_staleness_threshold(store: Store) -> None:
    applied = push(store, "dokelio", formation("F1"), formation("F2"), INVALID)
    now = utcnow()
    fresh = health(store, now=now)["dokelio"]
    assert fresh.status == "ok"
    assert fresh.last_applied is not None and fresh.last_applied.flow_id == applied.flow_id
    assert dict(fresh.last_applied.counts) == {
        "formations": 3, "created": 2, "updated": 0, "unchanged": 0,
        "deleted": 0, "rejected": 1, "stale": 0, "kept_newer": 0,
    }  # fmt: skip
    assert fresh.rejection_rate == pytest.approx(1 / 3)
    assert fresh.lag is not None and timedelta(0) <= fresh.lag < timedelta(minutes=1)
    later = health(store, now=now + DAY + timedelta(minutes=1))["dokelio"]
    assert later.status == "stale" and later.lag is not None and later.lag > DAY


def test_a_configured_source_never_synced_is_never_and_has_no_lag(store: Store) -> None:
    expectation = Expectation(timedelta(hours=12), "every 2h", "27")
    [emfor] = source_health(store, {"emfor": expectation}, default_staleness=DAY)
    assert (emfor.status, emfor.lag, emfor.last_success, emfor.region) == (
        "never",
        None,
        None,
        "27",
    )
    assert emfor.staleness == timedelta(hours=12) and emfor.schedule == "every 2h"


def test_a_failed_flow_after_a_success_makes_the_source_failing(store: Store) -> None:
    push(store, "dokelio", formation("F1"))
    with pytest.raises(LheoError):
        ingest(store, io.BytesIO(TRUNCATED), source="dokelio")
    dokelio = health(store)["dokelio"]
    assert dokelio.status == "failing" and dokelio.consecutive_failures == 1
    assert dokelio.last_error is not None and "line" in dokelio.last_error
    assert dokelio.last_flow is not None and dokelio.last_flow.status == "failed"
    push(store, "dokelio", formation("F2"))
    assert health(store)["dokelio"].status == "ok"


def test_a_successful_run_without_a_flow_proves_the_source_fresh(store: Store) -> None:
    push(store, "emfor", formation("F1"))
    before = health(store)["emfor"].last_success
    with recorded_run(store, "emfor", trigger="schedule", replica="test:1"):
        pass  # an unchanged export: one 304, nothing to ingest
    after = health(store)["emfor"]
    assert before is not None and after.last_success is not None and after.last_success > before
    assert after.last_run is not None and after.last_run.outcome == "success"


def test_failed_runs_count_until_the_next_success(store: Store) -> None:
    push(store, "emfor", formation("F1"))
    for _ in range(2):
        with (
            pytest.raises(RuntimeError),
            recorded_run(store, "emfor", trigger="schedule", replica="test:1"),
        ):
            raise RuntimeError("GET http://127.0.0.1:1/export: connection refused")
    emfor = health(store)["emfor"]
    assert emfor.consecutive_failures == 2 and emfor.status == "failing"
    assert emfor.last_error == "GET http://127.0.0.1:1/export: connection refused"


def test_a_source_that_never_succeeded_goes_stale_from_when_it_was_first_seen(
    store: Store,
) -> None:
    with pytest.raises(LheoError):
        ingest(store, io.BytesIO(TRUNCATED), source="grand-est", region="44")
    assert health(store)["grand-est"].status == "failing"
    assert health(store, now=utcnow() + 2 * DAY)["grand-est"].status == "stale"


def test_trend_is_oldest_first_and_the_baseline_is_the_usual_rejection_rate(
    store: Store,
) -> None:
    flows = [push(store, "dokelio", formation(f"F{i}"), formation(f"G{i}")) for i in range(3)]
    flows.append(push(store, "dokelio", formation("F9"), INVALID))
    dokelio = health(store, trend_flows=3)["dokelio"]
    assert [p.flow_id for p in dokelio.trend] == [f.flow_id for f in flows[1:]]
    assert dokelio.rejection_rate == pytest.approx(0.5)
    assert dokelio.rejection_baseline == 0.0


def test_hub_status_prints_the_table_and_check_exits_1_when_a_source_is_failing(
    store: Store, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("HUB_DATABASE_URL", database_url)
    monkeypatch.setenv("HUB_ARCHIVE_DIR", str(store.archive_dir))
    monkeypatch.chdir(str(tmp_path))
    # A wide terminal, whatever runs us.
    monkeypatch.setattr("hub.cli.common.out", Console(width=160))
    push(store, "dokelio", formation("F1"), INVALID)
    runner = CliRunner()
    result = runner.invoke(app, ["status", "--check"])
    assert result.exit_code == 0, result.output
    assert "dokelio (11)" in result.output and "ok" in result.output
    assert "+1 ~0 =0 -0 x1" in result.output and "50.0%" in result.output
    with pytest.raises(LheoError):
        ingest(store, io.BytesIO(TRUNCATED), source="dokelio")
    result = runner.invoke(app, ["status", "--check", "--json"])
    assert result.exit_code == 1
    assert '"status": "failing"' in result.output and '"consecutive_failures": 1' in result.output
