"""Tokens: stored hashed, checked in constant time, scoped; refusals logged without them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI
from live_server import serving
from sqlalchemy import select, text
from structlog.testing import capture_logs
from typer.testing import CliRunner

from hub.api.app import create_app
from hub.api.auth import require_admin
from hub.cli import app as cli
from hub.errors import AuthError
from hub.settings import ApiSettings, Settings
from hub.store import Store
from hub.store.models import Token
from hub.store.sources import ensure_source
from hub.store.tokens import Principal, create_token, list_tokens, revoke_tokens, verify


def secret_of(token: str) -> str:
    """The random part of ``lhub_t_<12 hex>_<secret>`` (the secret may hold ``_`` itself)."""
    return token[len("lhub_t_") + 12 + 1 :]


@pytest.fixture
def reunion(store: Store) -> Store:
    ensure_source(store.engine, "reunion", "04")
    ensure_source(store.engine, "guyane", "03")
    return store


def test_a_token_is_shown_once_and_stored_only_as_its_sha256(reunion: Store) -> None:
    issued = create_token(reunion.engine, "push", source="reunion", label="DEETS")
    assert issued.token.startswith(f"lhub_{issued.token_id}_")
    assert len(secret_of(issued.token)) == 43  # 256 random bits, base64url
    with reunion.engine.connect() as connection:
        rows = connection.execute(select(Token.__table__)).mappings().all()  # type: ignore[attr-defined]
    assert len(rows) == 1
    stored = " ".join(str(v) for v in rows[0].values())
    assert issued.token not in stored
    assert secret_of(issued.token) not in stored
    assert rows[0]["secret_sha256"] == hashlib.sha256(issued.token.encode()).hexdigest()


def test_verify_accepts_only_the_live_token_itself(reunion: Store) -> None:
    issued = create_token(reunion.engine, "push", source="reunion")
    assert verify(reunion.engine, issued.token) == Principal(issued.token_id, "push", "reunion")
    tampered = issued.token[:-1] + ("A" if issued.token[-1] != "A" else "B")
    for presented in (tampered, issued.token + "x", "", "lhub_", issued.token_id, "Bearer x"):
        assert verify(reunion.engine, presented) is None
    assert revoke_tokens(reunion.engine, issued.token_id) == [issued.token_id]
    assert verify(reunion.engine, issued.token) is None


def test_revoking_a_source_revokes_all_its_tokens_and_only_them(reunion: Store) -> None:
    first = create_token(reunion.engine, "push", source="reunion")
    second = create_token(reunion.engine, "push", source="reunion")
    other = create_token(reunion.engine, "push", source="guyane")
    assert sorted(revoke_tokens(reunion.engine, "reunion")) == sorted(
        [first.token_id, second.token_id]
    )
    assert revoke_tokens(reunion.engine, "reunion") == []
    assert [t.token_id for t in list_tokens(reunion.engine)] == [other.token_id]
    assert len(list_tokens(reunion.engine, include_revoked=True)) == 3


def test_token_scopes_are_checked_at_creation(reunion: Store) -> None:
    with pytest.raises(AuthError, match="unknown source"):
        create_token(reunion.engine, "push", source="atlantis")
    with pytest.raises(AuthError, match="exactly one source"):
        create_token(reunion.engine, "push")
    with pytest.raises(AuthError, match="exactly one source"):
        create_token(reunion.engine, "admin", source="reunion")


def _admin_app(store: Store) -> FastAPI:
    """The hub's app plus one admin action, as the operations endpoints will use it."""
    app = create_app(Settings(), store)

    @app.post("/v1/admin/echo")
    def echo(principal: Annotated[Principal, Depends(require_admin)]) -> dict[str, str]:
        return {"token_id": principal.token_id}

    return app


def test_admin_actions_need_the_admin_token(reunion: Store) -> None:
    admin = create_token(reunion.engine, "admin")
    push = create_token(reunion.engine, "push", source="reunion")
    with serving(_admin_app(reunion)) as url, httpx.Client(base_url=url) as http:
        ok = http.post("/v1/admin/echo", headers={"Authorization": f"Bearer {admin.token}"})
        assert ok.status_code == 200 and ok.json() == {"token_id": admin.token_id}
        anonymous = http.post("/v1/admin/echo")
        assert anonymous.status_code == 401
        assert anonymous.headers["content-type"] == "application/problem+json"
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
        forbidden = http.post("/v1/admin/echo", headers={"Authorization": f"Bearer {push.token}"})
        assert forbidden.status_code == 403
        assert push.token_id in forbidden.json()["detail"]


@pytest.fixture
def private_feed(reunion: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("TEST_FEED_KEYS", "portal-key-1, portal-key-2")
    settings = Settings(api=ApiSettings(feed_public=False, feed_keys_env="TEST_FEED_KEYS"))
    with serving(create_app(settings, reunion)) as url:
        yield url


def test_a_private_feed_takes_consumer_keys_from_env_or_feed_tokens(
    private_feed: str, reunion: Store
) -> None:
    feed_token = create_token(reunion.engine, "feed", label="portail")
    push = create_token(reunion.engine, "push", source="reunion")
    with httpx.Client(base_url=private_feed) as http:
        assert http.get("/v1/feed/changes").status_code == 401
        for key in ("portal-key-2", feed_token.token):
            page = http.get("/v1/feed/changes", headers={"Authorization": f"Bearer {key}"})
            assert page.status_code == 200, page.text
        bad = http.get("/v1/feed/lheo", headers={"Authorization": "Bearer portal-key-3"})
        assert bad.status_code == 401
        wrong_scope = http.get("/v1/feed/lheo", headers={"Authorization": f"Bearer {push.token}"})
        assert wrong_scope.status_code == 403
        assert http.get("/healthz").status_code == 200  # operations stay open


def test_a_public_feed_needs_nothing(reunion: Store) -> None:
    with serving(create_app(Settings(), reunion)) as url:
        assert httpx.get(f"{url}/v1/feed/changes").status_code == 200


def test_every_refusal_is_logged_with_who_what_why_and_never_the_token(
    private_feed: str, reunion: Store
) -> None:
    push = create_token(reunion.engine, "push", source="reunion")
    forged = f"lhub_{push.token_id}_{'x' * 43}"
    with capture_logs() as logs, httpx.Client(base_url=private_feed) as http:
        http.get("/v1/feed/lheo")
        http.get("/v1/feed/lheo", headers={"Authorization": f"Bearer {forged}"})
        http.get("/v1/feed/lheo", headers={"Authorization": f"Bearer {push.token}"})
    refusals = [entry for entry in logs if entry["event"] == "request refused"]
    assert [(r["status"], r["who"]) for r in refusals] == [
        (401, "anonymous"),
        (401, "anonymous"),
        (403, push.token_id),
    ]
    for refusal in refusals:
        assert refusal["client"] == "127.0.0.1"
        assert (refusal["method"], refusal["path"]) == ("GET", "/v1/feed/lheo")
        assert refusal["reason"]
    assert refusals[1]["claimed_token_id"] == push.token_id
    everything = repr(logs)
    assert push.token not in everything and forged not in everything
    assert secret_of(push.token) not in everything


def test_the_tokens_commands(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_DATABASE_URL", database_url)
    monkeypatch.setenv("HUB_ARCHIVE_DIR", str(tmp_path / "archive"))
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    created = runner.invoke(cli, ["tokens", "create", "mayotte", "--region", "06"])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("lhub_t_")
    assert runner.invoke(cli, ["tokens", "create", "--admin", "--feed"]).exit_code != 0
    unknown = runner.invoke(cli, ["tokens", "create", "atlantis"])
    assert unknown.exit_code == 1 and "unknown source 'atlantis'" in unknown.output
    listed = runner.invoke(cli, ["tokens", "list"])
    token_id = token.split("_")[1] + "_" + token.split("_")[2]
    assert token_id in listed.stdout and "mayotte" in listed.stdout
    assert token not in listed.stdout and secret_of(token) not in listed.stdout
    assert runner.invoke(cli, ["tokens", "revoke", "mayotte"]).exit_code == 0
    assert token_id not in runner.invoke(cli, ["tokens", "list"]).stdout
    assert runner.invoke(cli, ["tokens", "revoke", "mayotte"]).exit_code == 1
    store = Store.at(database_url, tmp_path / "archive")
    try:
        with store.engine.connect() as connection:
            region = connection.execute(text("SELECT region FROM source WHERE name = 'mayotte'"))
            assert region.scalar() == "06"
    finally:
        store.engine.dispose()
