"""``POST /v1/push/{source}`` on a real socket, on SQLite and PostgreSQL.

Each bad input gets a 4xx problem naming what and where, leaves the store as it was, and
the next good push still works; good pushes answer what was applied and rejected.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from lheo_factory import NS, document, formation
from live_server import serving
from sqlalchemy import func, select, update
from structlog.testing import capture_logs

from hub.api.app import create_app
from hub.api.push import XLSX
from hub.settings import ApiSettings, Settings
from hub.store import Store, receipts
from hub.store.models import Flow, Formation, PushReceipt, utcnow
from hub.store.sources import ensure_source
from hub.store.tokens import IssuedToken, create_token, revoke_tokens
from simulators.spreadsheet import example_rows, write_csv, write_xlsx

LIMIT = 256 * 1024
XML = {"Content-Type": "application/xml"}


@dataclass
class Hub:
    url: str
    http: httpx.Client
    store: Store
    token: IssuedToken
    other: IssuedToken

    def push(
        self, body: bytes, *, token: str | None = None, source: str = "reunion", **headers: str
    ) -> httpx.Response:
        sent = {"Content-Type": "application/xml"} | {
            k.replace("_", "-"): v for k, v in headers.items()
        }
        if token != "":
            sent["Authorization"] = f"Bearer {token or self.token.token}"
        return self.http.post(f"/v1/push/{source}", content=body, headers=sent)


@pytest.fixture
def hub(store: Store) -> Iterator[Hub]:
    ensure_source(store.engine, "reunion", "04")
    ensure_source(store.engine, "guyane", "03")
    token = create_token(store.engine, "push", source="reunion")
    other = create_token(store.engine, "push", source="guyane")
    settings = Settings(api=ApiSettings(max_push_bytes=LIMIT))
    with serving(create_app(settings, store)) as url, httpx.Client(base_url=url) as http:
        yield Hub(url, http, store, token, other)


def stored(store: Store) -> list[tuple[str, str, str, bool]]:
    """Everything a push may change: each formation's identity, hash and tombstone."""
    table = Formation.__table__  # type: ignore[attr-defined]
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(table.c.source, table.c.numero, table.c.content_hash, table.c.deleted)
        )
        return sorted(tuple(row) for row in rows)  # type: ignore[misc]


def flows(store: Store) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(Flow)).scalar_one())


def test_a_delta_is_applied_and_reported(hub: Hub) -> None:
    first = hub.push(document([formation("R1"), formation("R2")]))
    assert first.status_code == 200, first.text
    report = first.json()
    assert report["source"] == "reunion" and report["kind"] == "delta"
    assert report["counts"]["created"] == 2 and report["rejections"] == []
    assert report["replayed"] is False and report["flow_id"]
    changed = formation("R1", intitule="Français langue étrangère - niveau B1")
    second = hub.push(document([changed], deletions=["R2", "INCONNU"])).json()
    assert second["counts"] | {"formations": 1} == second["counts"]
    assert (second["counts"]["updated"], second["counts"]["deleted"]) == (1, 1)
    [unknown] = second["rejections"]
    assert unknown["numero"] == "INCONNU" and unknown["stage"] == "delete"
    assert "unknown" in unknown["reason"]
    assert [(n, deleted) for _, n, _, deleted in stored(hub.store)] == [
        ("R1", False),
        ("R2", True),
    ]


def test_invalid_and_duplicate_formations_are_rejected_alone(hub: Hub) -> None:
    bad = formation("BAD", financeur="99")
    response = hub.push(document([formation("OK1"), bad, formation("OK1"), formation("OK2")]))
    assert response.status_code == 200
    report = response.json()
    assert report["counts"]["created"] == 2 and report["counts"]["rejected"] == 2
    by_numero = {r["numero"]: r for r in report["rejections"]}
    assert "code-financeur" in by_numero["BAD"]["path"] and by_numero["BAD"]["line"] == 4
    assert "99" in by_numero["BAD"]["reason"]
    assert "duplicate numero" in by_numero["OK1"]["reason"] and by_numero["OK1"]["line"] == 5
    assert [n for _, n, _, _ in stored(hub.store)] == ["OK1", "OK2"]


def _good() -> bytes:
    return document([formation("GOOD")])


ENCODED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<lheo xmlns="http://lheo.gouv.fr/2.3"><offres>'
    + formation("ENC", intitule="Préparation à l'entrée en formation").encode("iso-8859-1")
    + b"</offres></lheo>"
)
BAD_INPUTS = {
    "malformed": (document([formation("M1")]).replace(b"</intitule-formation>", b"", 1), "line"),
    "truncated": (document([formation("T1"), formation("T2")])[:-300], "line"),
    "xxe": (
        b'<?xml version="1.0"?>\n<!DOCTYPE lheo [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<lheo xmlns="http://lheo.gouv.fr/2.3"><offres>&x;</offres></lheo>',
        "DOCTYPE",
    ),
    "external dtd": (
        b'<?xml version="1.0"?>\n<!DOCTYPE lheo SYSTEM "http://127.0.0.1:9/lheo.dtd">\n'
        b'<lheo xmlns="http://lheo.gouv.fr/2.3"><offres/></lheo>',
        "DOCTYPE",
    ),
    "billion laughs": (
        b'<?xml version="1.0"?>\n<!DOCTYPE lheo [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;">]><lheo xmlns="http://lheo.gouv.fr/2.3">&c;</lheo>',
        "ENTITY",
    ),
    "wrong namespace": (
        document([formation("N1")]).replace(NS["2.3"].encode(), b"http://example.org/x"),
        "namespace",
    ),
    "unknown version": (
        document([formation("V1")]).replace(NS["2.3"].encode(), b"http://lheo.gouv.fr/2.4"),
        "namespace",
    ),
    "wrong declared encoding": (ENCODED, "UTF-8"),
    "garbage": (bytes(range(256)) * 8, ""),
    "empty": (b"", "empty"),
}


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_gets_a_problem_and_changes_nothing(hub: Hub, name: str) -> None:
    hub.push(document([formation("KEEP")]))
    before = stored(hub.store)
    body, mention = BAD_INPUTS[name]
    response = hub.push(body)
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == response.status_code and problem["title"]
    assert mention.lower() in problem["detail"].lower()
    if name in ("malformed", "truncated", "xxe", "billion laughs"):
        assert problem["line"] >= 1
    assert stored(hub.store) == before
    again = hub.push(_good())
    assert again.status_code == 200 and again.json()["counts"]["created"] == 1


def test_only_the_sources_own_token_may_push(hub: Hub) -> None:
    before = stored(hub.store)
    admin = create_token(hub.store.engine, "admin")
    cases = {
        "": 401,
        "lhub_t_000000000000_" + "A" * 43: 401,
        "not-a-token": 401,
        hub.other.token: 403,
        admin.token: 403,
    }
    with capture_logs() as logs:
        for token, status in cases.items():
            response = hub.push(_good(), token=token)
            assert response.status_code == status, (token[:12], response.text)
            assert response.headers["content-type"] == "application/problem+json"
    assert stored(hub.store) == before and flows(hub.store) == 0
    refusals = [e for e in logs if e["event"] == "request refused"]
    assert [e["status"] for e in refusals] == list(cases.values())
    assert refusals[3]["who"] == hub.other.token_id and refusals[3]["source"] == "reunion"
    assert "guyane" in refusals[3]["reason"]
    assert all(e["client"] == "127.0.0.1" and e["method"] == "POST" for e in refusals)
    assert hub.other.token not in repr(logs) and admin.token not in repr(logs)
    revoke_tokens(hub.store.engine, hub.token.token_id)
    assert hub.push(_good()).status_code == 401
    assert hub.push(_good(), token=hub.other.token, source="guyane").status_code == 200


def test_the_same_idempotency_key_replays_and_never_applies_twice(hub: Hub) -> None:
    body = document([formation("I1")])
    first = hub.push(body, Idempotency_Key="delta-2026-11-27")
    replay = hub.push(body, Idempotency_Key="delta-2026-11-27")
    assert first.status_code == replay.status_code == 200
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == first.json() | {"replayed": True}
    assert flows(hub.store) == 1
    other_body = document([formation("I2")])
    with capture_logs() as logs:
        conflict = hub.push(other_body, Idempotency_Key="delta-2026-11-27")
    assert conflict.status_code == 409
    assert first.json()["flow_id"] in conflict.json()["detail"]
    assert logs[-1]["status"] == 409 and logs[-1]["who"] == hub.token.token_id
    assert flows(hub.store) == 1
    assert [n for _, n, _, _ in stored(hub.store)] == ["I1"]
    assert hub.push(other_body, Idempotency_Key="delta-2").status_code == 200


def test_a_failed_push_frees_its_idempotency_key(hub: Hub) -> None:
    failed = hub.push(b"<lheo", Idempotency_Key="k1")
    assert failed.status_code in (400, 422)
    retried = hub.push(_good(), Idempotency_Key="k1")
    assert retried.status_code == 200 and retried.json()["counts"]["created"] == 1
    assert hub.push(_good(), Idempotency_Key="bad key with spaces").status_code == 400


def _raw_request(url: str, head: str, chunks: list[bytes]) -> tuple[int, bytes]:
    """Send a request by hand (headers, then some body), and read the answer."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.encode())
        for chunk in chunks:
            sock.sendall(chunk)
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(65536)
        headers, _, body = answer.partition(b"\r\n\r\n")
        length = int(headers.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        while len(body) < length:
            body += sock.recv(65536)
    return int(headers.split(b" ")[1]), body


def test_an_oversized_body_is_refused_before_it_is_read(hub: Hub) -> None:
    head = (
        "POST /v1/push/reunion HTTP/1.1\r\nHost: hub\r\nContent-Type: application/xml\r\n"
        f"Authorization: Bearer {hub.token.token}\r\n"
    )
    with capture_logs() as logs:
        # Declares a gigabyte and sends none of it: answered at once, from Content-Length.
        status, body = _raw_request(hub.url, head + f"Content-Length: {10**9}\r\n\r\n", [])
        assert status == 413 and b"at most 262144" in body
        # Chunked, never finished: refused as soon as the count passes the limit.
        chunk = b"%x\r\n%s\r\n" % (100_000, b"x" * 100_000)
        chunked = head + "Transfer-Encoding: chunked\r\n\r\n"
        status, body = _raw_request(hub.url, chunked, [chunk] * 3)
        assert status == 413 and b"went past 262144" in body
    refusals = [
        (e["status"], e["who"], e["source"]) for e in logs if e["event"] == "request refused"
    ]
    assert refusals == [(413, hub.token.token_id, "reunion")] * 2
    assert flows(hub.store) == 0
    assert hub.push(_good()).status_code == 200


def test_unknown_content_types_are_refused(hub: Hub) -> None:
    response = hub.push(_good(), Content_Type="application/json")
    assert response.status_code == 415 and "text/csv" in response.json()["hint"]


def test_spreadsheets_are_converted_and_bad_cells_rejected_alone(hub: Hub) -> None:
    # one session per formation: the bad row's formation is the one left out
    rows = list({r["numero_formation"]: r for r in example_rows("04", formations=4)}.values())
    good = [r["numero_formation"] for r in rows]
    rows[1] = rows[1] | {"date_debut": "31/02/2026"}
    response = hub.push(write_csv(rows), Content_Type="text/csv; charset=utf-8")
    assert response.status_code == 200, response.text
    report = response.json()
    [cell] = report["rejections"]
    assert cell["line"] == 3 and cell["stage"] == "convert" and cell["numero"] == good[1]
    assert cell["path"].startswith("ligne 3, colonne ") and "(date_debut)" in cell["path"]
    assert "'31/02/2026' n'est pas une date" in cell["reason"]
    assert (report["spreadsheet"]["rows"], report["spreadsheet"]["rows_rejected"]) == (4, 1)
    assert report["counts"]["created"] == 3
    assert [n for _, n, _, _ in stored(hub.store)] == sorted(good[:1] + good[2:])
    rows[1] = rows[1] | {"date_debut": "05/01/2027"}
    again = hub.push(write_xlsx(rows), Content_Type=XLSX).json()
    assert again["rejections"] == [] and again["spreadsheet"]["kind"] == "xlsx"
    assert (again["counts"]["created"], again["counts"]["unchanged"]) == (1, 3)
    assert [n for _, n, _, _ in stored(hub.store)] == sorted(good)


@pytest.mark.parametrize(
    ("body", "content_type", "mention"),
    [
        (b"numero_formation;intitule\r\nF1;Cuisine\r\n", "text/csv", "date_debut"),
        ("é;à".encode("cp1252") + b"\r\n", "text/csv", "UTF-8"),
        (b"PK\x03\x04 this is no workbook", XLSX, "XLSX"),
    ],
    ids=["missing columns", "not utf-8", "broken xlsx"],
)
def test_an_unreadable_spreadsheet_is_a_problem(
    hub: Hub, body: bytes, content_type: str, mention: str
) -> None:
    before = stored(hub.store)
    response = hub.push(body, Content_Type=content_type)
    assert response.status_code in (400, 422)
    assert response.headers["content-type"] == "application/problem+json"
    assert mention in response.json()["detail"]
    assert stored(hub.store) == before
    assert hub.push(write_csv(example_rows("04")), Content_Type="text/csv").status_code == 200


def test_an_idempotency_claim_is_held_then_taken_over_when_abandoned(store: Store) -> None:
    engine = store.engine
    assert receipts.claim(engine, "reunion", "k", "a" * 64).state == "claimed"
    assert receipts.claim(engine, "reunion", "k", "a" * 64).state == "in-progress"
    assert receipts.claim(engine, "reunion", "k", "b" * 64).state == "mismatch"
    assert receipts.claim(engine, "guyane", "k", "b" * 64).state == "claimed"  # keys are per source
    table = PushReceipt.__table__  # type: ignore[attr-defined]
    with engine.begin() as connection:
        connection.execute(
            update(table).values(
                created_at=utcnow() - receipts.PENDING_TIMEOUT - timedelta(seconds=1)
            )
        )
    assert receipts.claim(engine, "reunion", "k", "a" * 64).state == "claimed"  # its owner died
    receipts.complete(engine, "reunion", "k", {"flow_id": "f1", "counts": {}})
    replay = receipts.claim(engine, "reunion", "k", "a" * 64)
    assert (replay.state, replay.flow_id, replay.report) == (
        "replay",
        "f1",
        {"flow_id": "f1", "counts": {}},
    )


def test_the_push_route_is_described_in_openapi(hub: Hub) -> None:
    operation = hub.http.get("/openapi.json").json()["paths"]["/v1/push/{source}"]["post"]
    assert set(operation["requestBody"]["content"]) == {"application/xml", "text/csv", XLSX}
    assert {"200", "401", "403", "409", "413", "415"} <= set(operation["responses"])
