"""The sync runner: stages, cursors, failures that stop one source, logs."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from lheo_factory import document, formation
from sqlalchemy import func, select
from structlog.testing import capture_logs

from hub.errors import ConfigError
from hub.pipeline.replay import resume_pending
from hub.pipeline.sync import sync_source
from hub.settings import FetchSettings, Settings, SourceSettings
from hub.store import Store
from hub.store.cursors import load_cursor
from hub.store.models import Flow, Formation

BASE = "http://dokelio.test/v1"
SETTINGS = Settings(
    fetch=FetchSettings(attempts=2, backoff_initial=0.0, jitter=0.0),
    sources={
        "idf": SourceSettings(
            name="idf",
            connector="dokelio",
            region="11",
            url=BASE,
            file=Path("config/regions/idf.toml"),
        )
    },
)


def service(pages: dict[str | None, httpx.Response]) -> httpx.Client:
    """A Dokelio-like service answering ``pages`` by their page token."""

    def handle(request: httpx.Request) -> httpx.Response:
        return pages[request.url.params.get("page")]

    return httpx.Client(transport=httpx.MockTransport(handle))


def page(numeros: list[str], next_token: str | None = None) -> httpx.Response:
    headers = {"Link": f'<{BASE}/offres?page={next_token}>; rel="next"'} if next_token else {}
    return httpx.Response(200, headers=headers, content=document([formation(n) for n in numeros]))


def count(store: Store, model: type) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(model)).scalar_one())


def test_a_fatal_error_stops_the_source_and_keeps_what_was_applied(store: Store) -> None:
    client = service({None: page(["F1", "F2"], "p2"), "p2": httpx.Response(404)})
    with capture_logs() as logs:
        result = sync_source(store, SETTINGS, "idf", client=client)
    assert result.error is not None and not result.error.retriable
    assert result.error.stage == "fetch" and "page=p2" in (result.error.url or "")
    assert "404" in result.error.error and "config/regions/idf.toml" in result.error.hint
    assert str(result.error).startswith("source idf: fetch failed for http://dokelio.test")
    assert len(result.flows) == 1 and count(store, Formation) == 2
    assert load_cursor(store, "idf")["page"] == "p2"
    events = {entry["event"]: entry for entry in logs}
    assert events["flow.applied"]["source"] == "idf" and events["flow.applied"]["flow_id"]
    assert events["sync.failed"]["stage"] == "fetch" and "page=p2" in events["sync.failed"]["url"]


def test_an_unreadable_page_fails_at_read_and_moves_no_cursor(store: Store) -> None:
    foreign = b'<?xml version="1.0"?><lheo xmlns="urn:other"><offres/></lheo>'
    client = service({None: httpx.Response(200, content=foreign)})
    result = sync_source(store, SETTINGS, "idf", client=client)
    assert result.error is not None and result.error.stage == "read"
    assert "unknown namespace" in result.error.error and not result.error.retriable
    assert load_cursor(store, "idf") == {} and result.flows == []


def test_an_unknown_source_names_the_configured_ones(store: Store) -> None:
    with pytest.raises(ConfigError, match="unknown source 'paris'; configured sources: idf"):
        sync_source(store, SETTINGS, "paris")


def test_a_dry_run_leaves_no_flow_behind(store: Store) -> None:
    client = service({None: page(["F1"])})
    assert sync_source(store, SETTINGS, "idf", client=client, dry_run=True).ok
    assert resume_pending(store) == [] and count(store, Flow) == 0
