"""``/metrics``: what each event counts, the health gauges, and the labels allowed.

Counters belong to the process, so each test reads them before and after what it does,
under a source name of its own.
"""

from __future__ import annotations

import io
import secrets
from pathlib import Path

import httpx
import pytest
from lheo_factory import document, formation
from live_server import serving
from prometheus_client.parser import text_string_to_metric_families
from simulated_hub import simulated_hub

from hub.api.app import create_app
from hub.errors import LheoError, RetriableFetchError
from hub.http import fetch_outcome
from hub.ops import metrics
from hub.pipeline.ingest import ingest
from hub.settings import Settings
from hub.store import Store
from hub.store.sources import ensure_source
from hub.store.tokens import create_token

ALLOWED_LABELS = {"source", "stage", "outcome"}
HISTOGRAM_LABELS = {"le"}
INVALID = formation("BAD").replace("<certifiante>0", "<certifiante>5")


@pytest.fixture(autouse=True)
def counting() -> None:
    """This process counts the hub's events, as a serving hub does (``create_app``)."""
    metrics.install()


def sample(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def unique_source() -> str:
    return f"src-{secrets.token_hex(4)}"


def scrape(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, keyed by name and sorted labels."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_an_applied_flow_counts_its_records_per_outcome_and_its_duration(store: Store) -> None:
    source = unique_source()
    before = sample("hub_flow_duration_seconds_count", source=source, stage="apply")
    ingest(store, io.BytesIO(document([formation("F1"), formation("F2"), INVALID])), source=source)
    ingest(store, io.BytesIO(document([formation("F1")], deletions=["F2"])), source=source)
    assert sample("hub_records_total", source=source, outcome="created") == 2
    assert sample("hub_records_total", source=source, outcome="unchanged") == 1
    assert sample("hub_records_total", source=source, outcome="deleted") == 1
    assert sample("hub_records_total", source=source, outcome="rejected") == 1
    assert sample("hub_formations_received_total", source=source) == 4
    assert sample("hub_flows_total", source=source, outcome="applied") == 2
    assert sample("hub_flow_duration_seconds_count", source=source, stage="apply") == before + 2


def test_a_refused_flow_and_a_dry_run(store: Store) -> None:
    source = unique_source()
    with pytest.raises(LheoError):
        ingest(store, io.BytesIO(document([formation("F1")])[:200]), source=source)
    ingest(store, io.BytesIO(document([formation("F1")])), source=source, dry_run=True)
    assert sample("hub_flows_total", source=source, outcome="failed") == 1
    assert sample("hub_flows_total", source=source, outcome="applied") == 0, "dry runs count none"


def test_fetch_outcomes_are_short_and_bounded() -> None:
    timeout = RetriableFetchError("GET http://x/: timed out")
    timeout.__cause__ = httpx.ReadTimeout("slow")
    assert fetch_outcome(timeout) == "timeout"
    unavailable = RetriableFetchError("GET http://x/a?b=1: 503 Service Unavailable")
    assert fetch_outcome(unavailable) == "http_503"
    cut = RetriableFetchError("GET http://x/: truncated body: 10 bytes of the 20 announced")
    assert fetch_outcome(cut) == "truncated"
    refused = RetriableFetchError("GET http://x/: connection failed")
    refused.__cause__ = httpx.ConnectError("refused")
    assert fetch_outcome(refused) == "connect"


def test_metrics_endpoint_serves_the_health_gauges_with_only_the_allowed_labels(
    store: Store,
) -> None:
    source = unique_source()
    applied = ingest(
        store, io.BytesIO(document([formation("F1"), INVALID])), source=source, region="11"
    )
    with serving(create_app(Settings(), store)) as url:
        response = httpx.get(f"{url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = scrape(response.text)
    key = (("source", source),)
    assert samples[("hub_source_rejection_ratio", key)] == 0.5
    assert samples[("hub_source_stale", key)] == 0.0
    assert samples[("hub_source_consecutive_failures", key)] == 0.0
    assert samples[("hub_source_staleness_threshold_seconds", key)] == 26 * 3600
    lag = samples[("hub_source_freshness_lag_seconds", key)]
    assert 0 <= lag < 60
    assert samples[("hub_source_last_flow_records", (("outcome", "created"), *key))] == 1
    assert applied.flow_id  # the gauges come from the store: they survive a restart
    for name, labels in samples:
        if not name.startswith("hub_"):
            continue
        names = {label for label, _ in labels}
        assert names <= ALLOWED_LABELS | HISTOGRAM_LABELS, (name, names)
    for documented in metrics.METRIC_NAMES:  # declared even before their first sample
        assert f"# TYPE {documented} " in response.text, documented


def test_feed_and_push_requests_are_counted_with_their_sizes(store: Store) -> None:
    ensure_source(store.engine, "pushed-region", "93")
    token = create_token(store.engine, "push", source="pushed-region").token
    before_feed = sample("hub_feed_requests_total", stage="changes", outcome="200")
    before_size = sample("hub_response_size_bytes_sum", stage="feed_changes")
    before_refused = sample("hub_push_requests_total", source="unknown", outcome="401")
    before_push = sample("hub_push_requests_total", source="pushed-region", outcome="200")
    body = document([formation("P1")])
    with serving(create_app(Settings(), store)) as url:
        changes = httpx.get(f"{url}/v1/feed/changes?since=0")
        refused = httpx.post(f"{url}/v1/push/someone-else", content=body)
        pushed = httpx.post(
            f"{url}/v1/push/pushed-region",
            content=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/xml"},
        )
    assert changes.status_code == 200 and refused.status_code == 401
    assert pushed.status_code == 200, pushed.text
    assert sample("hub_feed_requests_total", stage="changes", outcome="200") == before_feed + 1
    assert sample("hub_response_size_bytes_sum", stage="feed_changes") == before_size + len(
        changes.content
    )
    assert sample("hub_push_requests_total", source="unknown", outcome="401") == before_refused + 1
    assert sample("hub_push_requests_total", source="pushed-region", outcome="200") == (
        before_push + 1
    )
    assert sample("hub_push_request_size_bytes_sum", source="pushed-region") >= len(body)


def test_upstream_requests_errors_and_retries_are_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    stale = {"dokelio": "12h", "emfor": "36h"}
    with simulated_hub(tmp_path, url, monkeypatch, stale_after=stale, fetch_attempts=3) as hub:
        errors = sample(
            "hub_upstream_errors_total", source="emfor", stage="fetch", outcome="http_503"
        )
        retries = sample("hub_upstream_retries_total", source="emfor", stage="fetch")
        ok = sample("hub_upstream_requests_total", source="emfor", stage="fetch", outcome="ok")
        hub.systems["emfor"].faults.inject("503", "503")
        outcome = hub.sync("emfor")
        assert outcome.outcome == "success", outcome.error
        fetch = {"source": "emfor", "stage": "fetch"}
        assert sample("hub_upstream_errors_total", **fetch, outcome="http_503") == errors + 2
        assert sample("hub_upstream_retries_total", **fetch) == retries + 2
        assert sample("hub_upstream_requests_total", **fetch, outcome="ok") == ok + 1
        assert sample("hub_sync_runs_total", source="emfor", outcome="success") >= 1
