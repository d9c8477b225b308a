"""Every bad push to a real ``hub serve`` gets a clear 4xx and changes nothing stored.

Each case goes over real HTTP to ``POST /v1/push/{source}`` of a hub process on PostgreSQL.
The answer must be an RFC 9457 problem (``application/problem+json`` with type, title,
status and detail) naming the line, element or field at fault; the store's digest must be
the same before and after; and the next good push must work.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from lheo_factory import NS, document, formation

from tests.reliability.offer import live_state, store_digest
from tests.reliability.pushing import LIMIT, SOURCE, Pusher, assert_problem, pushing_hub
from tests.reliability.report import Tally


@pytest.fixture(scope="module")
def pusher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pusher]:
    with pushing_hub(tmp_path_factory.mktemp("pushes")) as pushing:
        yield pushing


LATIN1_IN_UTF8 = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<lheo xmlns="http://lheo.gouv.fr/2.3"><offres>\n'
    + formation("ENC-1", intitule="Préparation à l'entrée en formation").encode("iso-8859-1")
    + b"\n</offres></lheo>\n"
)
HIDDEN_DOCTYPE = (
    b'<?xml version="1.0"?>\n<!--' + b"-" * 70_000 + b'-->\n<!DOCTYPE lheo [<!ENTITY x "x">]>\n'
    b'<lheo xmlns="http://lheo.gouv.fr/2.3"><offres/></lheo>'
)
# (body, expected status, where the problem must point: "line" (a line number), or a
# word its detail must contain (the element, field or header at fault))
BAD_BODIES: dict[str, tuple[bytes, int | tuple[int, ...], str]] = {
    "broken XML: malformed": (
        document([formation("M-1")]).replace(b"</intitule-formation>", b"", 1),
        400,
        "line",
    ),
    "broken XML: truncated document": (
        document([formation("T-1"), formation("T-2")])[:-400],
        400,
        "line",
    ),
    "unsafe XML: XXE (system entity)": (
        b'<?xml version="1.0"?>\n<!DOCTYPE lheo [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        b'<lheo xmlns="http://lheo.gouv.fr/2.3"><offres>&x;</offres></lheo>',
        400,
        "line",
    ),
    "unsafe XML: XXE (parameter entity)": (
        b'<?xml version="1.0"?>\n<!DOCTYPE lheo [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p">'
        b' %p;]>\n<lheo xmlns="http://lheo.gouv.fr/2.3"><offres/></lheo>',
        400,
        "DOCTYPE",
    ),
    "unsafe XML: external DTD": (
        b'<?xml version="1.0"?>\n<!DOCTYPE lheo SYSTEM "http://127.0.0.1:9/lheo.dtd">\n'
        b'<lheo xmlns="http://lheo.gouv.fr/2.3"><offres/></lheo>',
        400,
        "DOCTYPE",
    ),
    "unsafe XML: billion laughs": (
        b'<?xml version="1.0"?>\n<!DOCTYPE lheo [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;">'
        + b"".join(
            b'<!ENTITY %s "%s">' % (bytes([99 + i]), (b"&%s;" % bytes([98 + i])) * 10)
            for i in range(8)
        )
        + b']>\n<lheo xmlns="http://lheo.gouv.fr/2.3"><offres>&j;</offres></lheo>',
        400,
        "line",
    ),
    "unsafe XML: DOCTYPE after 70 KiB of comment": (HIDDEN_DOCTYPE, (400, 422), "root"),
    "unsafe XML: undeclared entity": (
        document([formation("E-1")]).replace(
            b"<intitule-formation>", b"<intitule-formation>&nbsp;", 1
        ),
        400,
        "line",
    ),
    "not LHEO: wrong namespace": (
        document([formation("N-1")]).replace(NS["2.3"].encode(), b"http://example.org/lheo"),
        (400, 422),
        "namespace",
    ),
    "not LHEO: unknown LHEO version": (
        document([formation("V-1")]).replace(NS["2.3"].encode(), b"http://lheo.gouv.fr/2.4"),
        (400, 422),
        "2.4",
    ),
    "not LHEO: HTML": (b"<html><body>offres</body></html>", (400, 422), "<html>"),
    "encoding: wrong one declared": (LATIN1_IN_UTF8, 400, "UTF-8"),
    "encoding: unknown one declared": (
        document([formation("X-1")]).replace(b"UTF-8", b"X-KLINGON", 1),
        (400, 422),
        "KLINGON",
    ),
    "broken XML: garbage bytes": (bytes(range(256)) * 16, (400, 422), "line"),
    "broken XML: NUL bytes": (
        document([formation("Z-1", intitule="Cuisine\x00du monde")]),
        400,
        "line",
    ),
    "broken XML: a zip archive": (b"PK\x03\x04" + bytes(range(200)) * 4, (400, 422), "line"),
    "broken XML: empty body": (b"", (400, 422), "empty"),
}


@pytest.mark.parametrize("case", list(BAD_BODIES))
def test_a_bad_body_gets_a_problem_and_changes_nothing(
    pusher: Pusher, figures: Tally, case: str
) -> None:
    body, status, where = BAD_BODIES[case]
    before = store_digest(pusher.hub.store.engine)
    problem = assert_problem(pusher.push(body), status)
    if where == "line":
        assert isinstance(problem.get("line"), int) and problem["line"] >= 1, problem
    else:
        assert where.lower() in str(problem["detail"]).lower(), problem
    assert store_digest(pusher.hub.store.engine) == before
    figures.count("bad_inputs", case)
    pusher.push_good()


BAD_REQUESTS: dict[str, tuple[dict[str, str], int, str]] = {
    "request: JSON instead of LHEO": ({"content_type": "application/json"}, 415, "Content-Type"),
    "request: no content type": ({"content_type": ""}, 415, "Content-Type"),
    "request: idempotency key with spaces": (
        {"Idempotency_Key": "a key with spaces"},
        400,
        "Idempotency",
    ),
}


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
def test_a_bad_request_gets_a_problem_and_changes_nothing(
    pusher: Pusher, figures: Tally, case: str
) -> None:
    headers, status, field = BAD_REQUESTS[case]
    before = store_digest(pusher.hub.store.engine)
    problem = assert_problem(pusher.push(document([formation("H-1")]), **headers), status)
    assert field.lower() in str(problem["detail"]).lower()
    assert store_digest(pusher.hub.store.engine) == before
    figures.count("bad_inputs", case)
    pusher.push_good()


def _head(pusher: Pusher, extra: str) -> bytes:
    return (
        f"POST /v1/push/{SOURCE} HTTP/1.1\r\nHost: hub\r\nContent-Type: application/xml\r\n"
        f"Authorization: Bearer {pusher.token}\r\n{extra}\r\n"
    ).encode()


def _answer(sock: socket.socket) -> tuple[int, bytes]:
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(65536)
        assert chunk, f"the connection closed without an answer: {answer!r}"
        answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    while len(body) < length:
        body += sock.recv(65536)
    return int(head.split(b" ")[1]), body


def test_a_body_over_the_limit_is_refused_before_it_is_sent(pusher: Pusher, figures: Tally) -> None:
    """413 comes back while the client has sent the headers only: nothing was read."""
    before = store_digest(pusher.hub.store.engine)
    with socket.create_connection(("127.0.0.1", pusher.hub.port), timeout=10) as sock:
        sock.sendall(_head(pusher, f"Content-Length: {50 * 1024**3}\r\n"))
        status, body = _answer(sock)  # not one byte of the 50 GiB was sent
    assert status == 413 and f"at most {LIMIT}".encode() in body
    # Chunked, so the size is unknown up front: cut as soon as the count passes the limit.
    chunk = b"%x\r\n%s\r\n" % (256 * 1024, b"x" * 256 * 1024)
    with socket.create_connection(("127.0.0.1", pusher.hub.port), timeout=10) as sock:
        sock.sendall(_head(pusher, "Transfer-Encoding: chunked\r\n"))
        sent = 0
        for _ in range(16):  # 4 MiB offered; the answer must come after about 1 MiB
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += 1
            sock.settimeout(0.05)
            try:
                if sock.recv(1, socket.MSG_PEEK):
                    break
            except TimeoutError:
                continue
            finally:
                sock.settimeout(10)
        status, body = _answer(sock)
    assert status == 413 and f"went past {LIMIT}".encode() in body
    assert sent < 16, "the hub read the whole body before refusing it"
    assert store_digest(pusher.hub.store.engine) == before
    figures.count("bad_inputs", "size: declared over the limit")
    figures.count("bad_inputs", "size: chunked over the limit")
    pusher.push_good()


def test_a_body_cut_by_a_closed_connection_changes_nothing(pusher: Pusher, figures: Tally) -> None:
    before = store_digest(pusher.hub.store.engine)
    body = document([formation(f"CUT-{i}") for i in range(40)])
    with socket.create_connection(("127.0.0.1", pusher.hub.port), timeout=10) as sock:
        sock.sendall(_head(pusher, f"Content-Length: {len(body)}\r\n") + body[: len(body) // 2])
        sock.shutdown(socket.SHUT_WR)  # the client gives up half-way
        time.sleep(0.2)  # let the server see the end of the stream before the next check
    assert store_digest(pusher.hub.store.engine) == before
    assert not any(n.startswith("CUT-") for _, n in live_state(pusher.hub.store.engine))
    figures.count("bad_inputs", "broken XML: body cut by a closed connection")
    pusher.push_good()
