"""The HTTP API on a real socket: feed (ETag, 304, gzip), changes, health, OpenAPI."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator

import httpx
import pytest
from lheo_factory import document, formation
from live_server import serving
from lxml import etree

from hub.api.app import create_app
from hub.lheo.reader import LheoReader
from hub.lheo.schema import xml_schema
from hub.pipeline.ingest import ingest
from hub.settings import Settings
from hub.store import Store


@pytest.fixture
def client(store: Store) -> Iterator[httpx.Client]:
    with serving(create_app(Settings(), store)) as url, httpx.Client(base_url=url) as http:
        yield http


def load(store: Store, data: bytes) -> None:
    ingest(store, io.BytesIO(data), source="idf", region="11", kind="delta")


def test_health_readiness_and_openapi(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/feed/lheo", "/v1/feed/changes", "/healthz", "/readyz"} <= set(paths)


def test_the_feed_is_valid_lheo_with_an_etag_and_304(client: httpx.Client, store: Store) -> None:
    load(store, document([formation("F1"), formation("F2")]))
    response = client.get("/v1/feed/lheo")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert xml_schema("2.3").validate(etree.fromstring(response.content))
    etag = response.headers["etag"]
    assert client.get("/v1/feed/lheo", headers={"If-None-Match": etag}).status_code == 304
    load(store, document([formation("F3")]))
    changed = client.get("/v1/feed/lheo", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_with_nothing_to_send_the_feed_answers_204_with_the_cursor(
    client: httpx.Client, store: Store
) -> None:
    for headers in ({}, {"Accept-Encoding": "gzip"}):
        empty = client.get("/v1/feed/lheo", headers=headers)
        assert empty.status_code == 204, empty.text
        assert empty.content == b"" and "content-encoding" not in empty.headers
        assert empty.headers["x-hub-cursor"] == "0"
        assert client.get("/v1/feed/lheo", params={"since": 0}).status_code == 204
    etag = client.get("/v1/feed/lheo").headers["etag"]
    assert client.get("/v1/feed/lheo", headers={"If-None-Match": etag}).status_code == 304

    load(store, document([formation("F1"), formation("F2")]))
    full = client.get("/v1/feed/lheo")
    assert full.status_code == 200 and full.headers["etag"] != etag
    cursor = full.headers["x-hub-cursor"]
    assert int(cursor) > 0
    nothing_new = client.get("/v1/feed/lheo", params={"since": cursor})
    assert nothing_new.status_code == 204 and nothing_new.content == b""
    assert nothing_new.headers["x-hub-cursor"] == cursor
    same = {"If-None-Match": nothing_new.headers["etag"]}
    assert client.get("/v1/feed/lheo", params={"since": cursor}, headers=same).status_code == 304

    load(store, document([], deletions=["F1", "F2"]))
    assert client.get("/v1/feed/lheo").status_code == 204  # nothing live any more
    deletions = client.get("/v1/feed/lheo", params={"since": cursor})
    assert deletions.status_code == 200  # a delta of deletions only is still sent
    reader = LheoReader(io.BytesIO(deletions.content))
    assert list(reader) == [] and sorted(reader.deletions) == ["F1", "F2"]

    described = client.get("/openapi.json").json()["paths"]["/v1/feed/lheo"]["get"]
    assert "204" in described["responses"]
    assert "X-Hub-Cursor" in described["responses"]["204"]["headers"]


def test_the_feed_is_gzipped_when_asked(client: httpx.Client, store: Store) -> None:
    load(store, document([formation(f"F{i}") for i in range(50)]))
    plain = client.get("/v1/feed/lheo", headers={"Accept-Encoding": "identity"})
    with client.stream("GET", "/v1/feed/lheo", headers={"Accept-Encoding": "gzip"}) as response:
        assert response.headers["content-encoding"] == "gzip"
        raw = b"".join(response.iter_raw())
    assert len(raw) < len(plain.content) / 5
    assert gzip.decompress(raw) == plain.content


def test_the_changes_feed_pages_to_the_end(client: httpx.Client, store: Store) -> None:
    load(store, document([formation(f"F{i}") for i in range(5)], deletions=[]))
    load(store, document([], deletions=["F0"]))
    seen: dict[str, str] = {}
    cursor, pages = 0, 0
    while True:
        page = client.get("/v1/feed/changes", params={"since": cursor, "limit": 2}).json()
        pages += 1
        for change in page["changes"]:
            if change["op"] == "delete":
                seen.pop(change["numero"], None)
            else:
                assert change["lheo"].startswith("<formation")
                seen[change["numero"]] = change["content_hash"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert sorted(seen) == ["F1", "F2", "F3", "F4"]
    assert pages == 3


def test_bad_query_parameters_get_a_clear_4xx(client: httpx.Client) -> None:
    response = client.get("/v1/feed/changes", params={"since": -1})
    assert response.status_code == 422
    assert "since" in response.text
