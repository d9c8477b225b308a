"""The operations API: health JSON, readiness, and the admin endpoints behind the admin token."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from lheo_factory import document, formation
from live_server import serving
from simulated_hub import SimulatedHub, simulated_hub

from hub.api.app import create_app
from hub.pipeline.ingest import FlowResult, ingest
from hub.settings import Settings
from hub.store import Store
from hub.store.sources import ensure_source
from hub.store.tokens import create_token

INVALID = formation("BAD").replace("<certifiante>0", "<certifiante>5")


@pytest.fixture
def flow(store: Store) -> FlowResult:
    body = document([formation("F1"), INVALID])
    return ingest(store, io.BytesIO(body), source="dokelio", region="11")


@pytest.fixture
def api(store: Store) -> Iterator[str]:
    with serving(create_app(Settings(), store)) as url:
        yield url


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_admin_endpoints_need_the_admin_token(store: Store, api: str, flow: FlowResult) -> None:
    ensure_source(store.engine, "dokelio", "11")
    push = create_token(store.engine, "push", source="dokelio").token
    for method, path in (
        ("POST", f"/v1/admin/flows/{flow.flow_id}/replay"),
        ("GET", f"/v1/admin/flows/{flow.flow_id}/rejections"),
        ("GET", f"/v1/admin/flows/{flow.flow_id}/raw"),
        ("POST", "/v1/admin/sources/dokelio/sync"),
    ):
        anonymous = httpx.request(method, api + path)
        assert anonymous.status_code == 401, path
        assert anonymous.headers["content-type"] == "application/problem+json"
        assert httpx.request(method, api + path, headers=bearer(push)).status_code == 403, path


def test_rejections_raw_flow_and_replay_for_an_admin(
    store: Store, api: str, flow: FlowResult
) -> None:
    admin = bearer(create_token(store.engine, "admin").token)
    rejections = httpx.get(f"{api}/v1/admin/flows/{flow.flow_id}/rejections", headers=admin)
    assert rejections.status_code == 200
    [rejected] = rejections.json()["rejections"]
    assert rejected["numero"] == "BAD" and rejected["line"] == 4
    assert rejected["path"] == "formation[@numero='BAD']/certifiante"
    assert "certifiante" in rejected["reason"] and rejected["stage"] == "validate"
    raw = httpx.get(f"{api}/v1/admin/flows/{flow.flow_id}/raw", headers=admin)
    assert raw.headers["content-type"] == "application/xml"
    assert "filename*=UTF-8''dokelio.xml" in raw.headers["content-disposition"]
    assert raw.content == document([formation("F1"), INVALID]), "byte for byte as sent"
    assert raw.headers["x-content-sha256"] == hashlib.sha256(raw.content).hexdigest()
    replay = httpx.post(f"{api}/v1/admin/flows/{flow.flow_id}/replay", headers=admin)
    assert replay.status_code == 200
    body = replay.json()
    assert body["replay_of"] == flow.flow_id and body["flow_id"] != flow.flow_id
    assert body["counts"]["unchanged"] == 1 and body["counts"]["rejected"] == 1
    detail = httpx.get(f"{api}/v1/admin/flows/{body['flow_id']}", headers=admin).json()
    assert detail["source"] == "dokelio" and detail["point"]["status"] == "applied"
    missing = httpx.get(f"{api}/v1/admin/flows/nope/rejections", headers=admin)
    assert missing.status_code == 404 and "no flow 'nope'" in missing.json()["detail"]


def test_status_json_and_readiness(store: Store, api: str, flow: FlowResult) -> None:
    status = httpx.get(f"{api}/v1/status").json()
    [dokelio] = status["sources"]
    assert dokelio["name"] == "dokelio" and dokelio["status"] == "ok"
    assert dokelio["rejection_rate"] == 0.5 and dokelio["staleness_seconds"] == 26 * 3600
    assert dokelio["last_applied"]["flow_id"] == flow.flow_id
    assert httpx.get(f"{api}/readyz").json() == {"status": "ready"}


def test_readiness_fails_when_the_archive_cannot_be_written(store: Store, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the archive folder should be")
    with serving(create_app(Settings(), Store(store.engine, blocked / "archive"))) as url:
        response = httpx.get(f"{url}/readyz")
    assert response.status_code == 503
    assert "archive directory" in response.json()["detail"]


@pytest.fixture
def simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimulatedHub]:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    stale = {"dokelio": "1h", "emfor": "1h"}
    with simulated_hub(tmp_path, url, monkeypatch, stale_after=stale) as hub:
        yield hub


def test_run_now_syncs_a_configured_source_and_refuses_an_unknown_one(
    simulated: SimulatedHub,
) -> None:
    admin = bearer(create_token(simulated.store.engine, "admin").token)
    with serving(simulated.app()) as url:
        unknown = httpx.post(f"{url}/v1/admin/sources/nowhere/sync", headers=admin)
        assert unknown.status_code == 404
        ran = httpx.post(f"{url}/v1/admin/sources/emfor/sync", headers=admin, timeout=30)
        assert ran.status_code in (200, 202), ran.text
        assert ran.json()["source"] == "emfor" and ran.json()["run_id"] is not None
        health = httpx.get(f"{url}/v1/status").json()["sources"]
    [emfor] = [s for s in health if s["name"] == "emfor"]
    assert emfor["last_run"]["trigger"] == "manual"


def test_dashboard_buttons_refuse_a_missing_or_wrong_token_and_oversized_forms(
    store: Store, api: str, flow: FlowResult
) -> None:
    push = create_token(store.engine, "push", source="dokelio").token
    for token in ("", "lhub_t_000000000000_" + "x" * 43, push):
        refused = httpx.post(f"{api}/flows/{flow.flow_id}/replay", data={"token": token})
        assert refused.status_code == 403, token
        assert "Action refusée : rejouer un flux" in refused.text
    huge = httpx.post(f"{api}/sources/dokelio/run", content=b"token=" + b"x" * 10_000)
    assert huge.status_code == 413 and "Formulaire trop volumineux" in huge.text
    admin = create_token(store.engine, "admin").token
    replayed = httpx.post(
        f"{api}/flows/{flow.flow_id}/replay", data={"token": admin}, follow_redirects=False
    )
    assert replayed.status_code == 303
    assert replayed.headers["location"].endswith("?notice=replayed")
