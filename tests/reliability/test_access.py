"""Nobody gets in where they do not belong: two real hub processes, real tokens, real logs.

Both hubs share one PostgreSQL schema and differ by configuration only: ``private`` serves
the feed to consumer keys (``feed_public = false``), ``public`` to anyone. The admin token
is made by the ``hub tokens create --admin`` command, as an operator would make it.
"""

from __future__ import annotations

import hmac
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from lheo_factory import document, formation
from sqlalchemy import inspect, select, text

from hub.store import Store
from hub.store.models import SyncRun
from hub.store.sources import ensure_source
from hub.store.tokens import create_token, revoke_tokens, verify
from tests.reliability.hubproc import HUB, HubProcess, postgres_schema, start_all, wait_until
from tests.reliability.offer import XML, flow_statuses, replica_from_changes, store_digest

FEED_KEY = f"portal-{secrets.token_urlsafe(16)}"
FEED_KEYS_ENV = "RELIABILITY_FEED_KEYS"
DOWN_SOURCE = {"connector": "dokelio", "region": "11", "url": "http://127.0.0.1:9/v1"}


@dataclass
class Hubs:
    private: HubProcess
    public: HubProcess
    admin: str
    reunion: str
    guyane: str
    feed: str

    def secrets(self) -> list[str]:
        """Every credential of the module, whole and as its random part alone."""
        tokens = [self.admin, self.reunion, self.guyane, self.feed]
        return [FEED_KEY, *tokens, *(secret_of(t) for t in tokens)]


def secret_of(token: str) -> str:
    """The random part of ``lhub_t_<12 hex>_<secret>`` (the secret may hold ``_`` itself)."""
    return token[len("lhub_t_") + 12 + 1 :]


def token_id(token: str) -> str:
    """The public id of ``lhub_t_<12 hex>_<secret>``."""
    return token[len("lhub_") : len("lhub_t_") + 12]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def hubs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hubs]:
    folder = tmp_path_factory.mktemp("access")
    with postgres_schema("access") as url:
        private = HubProcess(
            folder / "private",
            url,
            api={"feed_public": False, "feed_keys_env": FEED_KEYS_ENV},
            env={FEED_KEYS_ENV: f"other-key, {FEED_KEY}"},
            sources={"idf": DOWN_SOURCE},
            fetch={"attempts": 1, "connect_timeout": 1.0},
        )
        public = HubProcess(folder / "public", url, api={"feed_public": True})
        try:
            Store.at(url, folder / "archive").engine.dispose()  # migrated once, before both
            tokens = subprocess.Popen(
                [str(HUB), "tokens", "create", "--admin", "--config", str(private.config)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=private.folder,
            )  # fmt: skip
            start_all(private, public)
            stdout, stderr = tokens.communicate(timeout=120)
            admin = stdout.strip()
            assert tokens.returncode == 0 and admin.startswith("lhub_"), stderr
            assert admin not in stderr, "the token is printed once, on stdout"
            engine = private.store.engine
            ensure_source(private.store.engine, "reunion", "04")
            ensure_source(private.store.engine, "guyane", "03")
            yield Hubs(
                private,
                public,
                admin=admin,
                reunion=create_token(engine, "push", source="reunion").token,
                guyane=create_token(engine, "push", source="guyane").token,
                feed=create_token(engine, "feed", label="portail national").token,
            )
        finally:
            private.close()
            public.close()


def test_a_push_token_writes_only_to_its_own_source(hubs: Hubs) -> None:
    engine = hubs.private.store.engine
    body = document([formation("GY-1")])
    with hubs.private.client(**{"Content-Type": XML}) as http:
        before = store_digest(engine)
        for token in (hubs.reunion, hubs.admin, hubs.feed):
            refused = http.post("/v1/push/guyane", content=body, headers=bearer(token))
            assert refused.status_code == 403, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            assert "guyane" in refused.json()["detail"]
        assert store_digest(engine) == before and flow_statuses(engine, "guyane") == []
        own = http.post("/v1/push/guyane", content=body, headers=bearer(hubs.guyane))
        assert own.status_code == 200 and own.json()["counts"]["created"] == 1
        spare = create_token(engine, "push", source="reunion")
        revoke_tokens(engine, spare.token_id)
        revoked = http.post("/v1/push/reunion", content=body, headers=bearer(spare.token))
        assert revoked.status_code == 401 and flow_statuses(engine, "reunion") == []


def _runs(hubs: Hubs) -> int:
    """Sync runs of the pulled source ``idf`` (a replay is a run too, of its own source)."""
    runs = SyncRun.__table__.c  # type: ignore[attr-defined]
    with hubs.private.store.engine.connect() as connection:
        return len(connection.execute(select(runs.id).where(runs.source == "idf")).all())


def test_admin_actions_need_the_admin_token(hubs: Hubs) -> None:
    engine = hubs.private.store.engine
    with hubs.private.client() as http:
        pushed = http.post(
            "/v1/push/reunion",
            content=document([formation("RE-ADMIN")]),
            headers={"Content-Type": XML, **bearer(hubs.reunion)},
        )
        flow_id = pushed.json()["flow_id"]
        actions = [
            ("POST", "/v1/admin/sources/idf/sync"),
            ("POST", f"/v1/admin/flows/{flow_id}/replay"),
            ("GET", f"/v1/admin/flows/{flow_id}"),
            ("GET", f"/v1/admin/flows/{flow_id}/rejections"),
            ("GET", f"/v1/admin/flows/{flow_id}/raw"),
        ]
        runs, flows = _runs(hubs), flow_statuses(engine, "reunion")
        for method, path in actions:
            assert http.request(method, path).status_code == 401, path
            for token in (hubs.reunion, hubs.feed, "lhub_t_000000000000_" + "A" * 43):
                refused = http.request(method, path, headers=bearer(token))
                assert refused.status_code in (401, 403), (path, refused.text)
                assert refused.headers["content-type"] == "application/problem+json"
        # The dashboard's buttons: a form without a live admin token is refused.
        for path in ("/sources/idf/run", f"/flows/{flow_id}/replay"):
            for form in ({}, {"token": hubs.reunion}, {"token": hubs.feed}):
                assert http.post(path, data=form).status_code == 403, (path, form)
        assert _runs(hubs) == runs and flow_statuses(engine, "reunion") == flows, "nothing ran"
        for method, path in actions:
            allowed = http.request(method, path, headers=bearer(hubs.admin))
            assert allowed.status_code in (200, 202), (path, allowed.text)
        assert len(flow_statuses(engine, "reunion")) == len(flows) + 1, "the replay ran"
        wait_until(lambda: _runs(hubs) == runs + 1, timeout=30, what="the sync run")
        form = http.post("/sources/idf/run", data={"token": hubs.admin}, follow_redirects=False)
        assert form.status_code == 303


def test_tokens_are_stored_hashed_and_compared_in_constant_time(
    hubs: Hubs, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = hubs.private.store.engine
    dumped = []
    with engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            rows = connection.execute(text(f'SELECT * FROM "{table}"')).all()
            dumped.append(repr(rows))
    everything = "\n".join(dumped)
    assert "lhub_t_" not in everything
    for secret in hubs.secrets():
        assert secret not in everything
    # Every check compares two SHA-256 digests with hmac.compare_digest, even for an unknown
    # token id, so the time a refusal takes says nothing about which part was wrong.
    compared: list[tuple[int, int]] = []
    compare = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        compared.append((len(a), len(b)))
        return compare(a, b)

    monkeypatch.setattr("hub.api.auth.hmac.compare_digest", spy)
    unknown_id = "lhub_t_000000000000_" + secret_of(hubs.admin)
    wrong_secret = hubs.admin[:-3] + ("AAA" if not hubs.admin.endswith("AAA") else "BBB")
    assert verify(engine, unknown_id) is None and verify(engine, wrong_secret) is None
    assert verify(engine, hubs.admin) is not None
    assert compared == [(64, 64)] * 3


def test_the_feed_is_public_or_keyed_per_config(hubs: Hubs) -> None:
    with hubs.public.client() as http:
        schema = http.get("/openapi.json").json()
        feeds = [
            p for p, ops in schema["paths"].items() if p.startswith("/v1/feed/") and "get" in ops
        ]
        assert {"/v1/feed/lheo", "/v1/feed/changes"} <= set(feeds)
        for path in feeds:
            assert http.get(path).status_code == 200, path
        public_replica = replica_from_changes(http)
    with hubs.private.client() as http:
        for path in feeds:
            assert http.get(path).status_code == 401, path
            assert http.get(path, headers=bearer("not-a-key")).status_code == 401, path
            assert http.get(path, headers=bearer(hubs.reunion)).status_code == 403, path
            for key in (FEED_KEY, hubs.feed, hubs.admin):
                assert http.get(path, headers=bearer(key)).status_code == 200, path
        http.headers.update(bearer(FEED_KEY))
        assert replica_from_changes(http) == public_replica
        assert http.get("/healthz").status_code == 200  # operations stay open


def test_every_refusal_is_logged_with_who_what_why_and_never_the_token(hubs: Hubs) -> None:
    marker = secrets.token_hex(4)
    asked = [
        ("POST", f"/v1/push/nowhere-{marker}", bearer(hubs.reunion), 403),
        ("POST", f"/v1/push/nowhere-{marker}", {}, 401),
        ("POST", f"/v1/admin/flows/f-{marker}/replay", bearer(hubs.feed), 403),
        ("GET", f"/v1/feed/changes?m={marker}", bearer(FEED_KEY + "x"), 401),
    ]
    with hubs.private.client() as http:
        for method, path, headers, status in asked:
            sent = {"Content-Type": XML, **headers}
            answer = http.request(method, path, headers=sent, content=b"<lheo/>")
            assert answer.status_code == status, (path, answer.text)

    def refusals() -> list[dict[str, object]]:
        return [
            line
            for line in hubs.private.log_lines()
            if line.get("event") == "request refused" and marker in str(line.get("path"))
        ]

    logged = wait_until(
        lambda: found if len(found := refusals()) >= 3 else None,
        timeout=10,
        what="the refusals in the hub's log",
    )
    assert sorted((r["method"], r["status"]) for r in logged) == [
        ("POST", 401), ("POST", 403), ("POST", 403)
    ]  # fmt: skip
    for refusal in logged:
        assert refusal["reason"] and refusal["client"] == "127.0.0.1"
        assert refusal["level"] == "warning" and refusal["logger"] == "hub.access"
    assert {r["who"] for r in logged} == {"anonymous", token_id(hubs.reunion), token_id(hubs.feed)}
    log = Path(hubs.private.log_path).read_text(encoding="utf-8", errors="replace")
    log += Path(hubs.public.log_path).read_text(encoding="utf-8", errors="replace")
    for secret in hubs.secrets():
        assert secret not in log, "a credential reached the log"
