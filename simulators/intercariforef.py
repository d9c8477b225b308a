"""A simulator of intercariforef's receiving end, served on 127.0.0.1 like the real thing.

It checks what the hub's intercariforef publisher sends as a strict partner would, and
keeps what it accepted so a test (or a person running ``make run``) can rebuild the
partner's offer by applying the files in order and compare it with the store:

* ``Authorization: Bearer <token>`` (401 otherwise); ``Content-Encoding: gzip`` and a
  ``Content-Digest`` matching the bytes (400 otherwise);
* the **whole document** valid against the official LHEO 2.3 XSD (422 with the XSD errors,
  line by line, otherwise);
* ``Idempotency-Key``: the same key with the same bytes is answered with the first receipt
  and applied once; the same key with other bytes is a 409 (one delivery, two versions);
* deltas chain: a delta starting after the last cursor received would skip changes, so it
  is refused (409); one starting at or before it is applied (replaying latest states is
  harmless);
* it can be told to fail: ``unavailable`` (503), ``throttled`` (429, ``Retry-After: 0``),
  ``timeout`` (holds the request, unanswered, then 504), ``lost-ack`` (applies the delivery,
  then holds the answer: the hub never hears of it) and ``reject`` (422).

The admin routes (``/_faults``, ``/_release``) and the read routes (``/lheo/deliveries``,
``/lheo/offre``) are for tests and demos only.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import io
import threading
import time
import zlib
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from lxml import etree
from pydantic import BaseModel

from hub.lheo.reader import LheoReader
from hub.lheo.schema import DELETIONS_INFO, NS_23, xml_schema

__all__ = ["Fault", "IntercariforefReceiver", "Received"]

Fault = Literal["unavailable", "throttled", "timeout", "lost-ack", "reject"]
Key = tuple[str, str]
ENDPOINT = "/lheo/offres"
_ERRORS_LISTED = 50


@dataclass(frozen=True, slots=True)
class Received:
    """One delivery the receiver accepted, with what applying it means."""

    ack: str
    delivery: str
    kind: str
    from_cursor: int | None
    to_cursor: int
    sha256: str
    body: bytes
    """The gzip bytes exactly as received."""
    formations: dict[Key, str]
    """``(source, numero) -> content hash`` of each formation the document holds."""
    deletions: list[Key]
    received_at: datetime


@dataclass
class _Refusal(Exception):
    status: int
    title: str
    errors: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> JSONResponse:
        body = {"type": "about:blank", "title": self.title, "status": self.status}
        if self.errors:
            body["errors"] = self.errors
        return JSONResponse(
            body, self.status, headers=self.headers, media_type="application/problem+json"
        )


class _FaultRequest(BaseModel):
    fault: Fault
    times: int = 1


def _parse_document(xml: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        return etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        raise _Refusal(422, "Not well-formed XML", [f"line {exc.lineno}: {exc.msg}"]) from exc


def _content(xml: bytes, root: etree._Element) -> tuple[dict[Key, str], list[Key]]:
    """Formations (by provenance source and numero, with content hash) and deletions."""
    formations: dict[Key, str] = {}
    for record in LheoReader(io.BytesIO(xml), validate=False):
        source = record.provenance.get("source", "")
        formations[(source, record.numero or "")] = record.content_hash
    deletions = [
        (extra.get("ref", ""), (extra.text or "").strip())
        for extras in root.iterchildren(f"{{{NS_23}}}extras")
        if extras.get("info") == DELETIONS_INFO
        for extra in extras.iterchildren(f"{{{NS_23}}}extra")
    ]
    return formations, deletions


class IntercariforefReceiver:
    """The receiving end: validates, acknowledges or rejects, remembers, can fail."""

    def __init__(
        self,
        *,
        token: str | None,
        max_bytes: int = 512 * 1024 * 1024,
        hang_seconds: float = 30.0,
    ) -> None:
        self.token = token
        self.max_bytes = max_bytes
        self.hang_seconds = hang_seconds
        self.posts = 0
        """Every POST that reached the handler, answered or not."""
        self.in_flight = 0
        self._faults: deque[Fault] = deque()
        self._accepted: list[Received] = []
        self._by_key: dict[str, Received] = {}
        self._lock = threading.Lock()
        self._released = threading.Event()

    # -- control (tests, demos) ---------------------------------------------------------

    def fail(self, fault: Fault, times: int = 1) -> None:
        """Fail the next ``times`` deliveries with ``fault``."""
        with self._lock:
            self._released.clear()
            self._faults.extend([fault] * times)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
        self._released.set()

    def release(self) -> None:
        """Let every held request (timeout, lost-ack) end now."""
        self._released.set()

    @property
    def deliveries(self) -> list[Received]:
        with self._lock:
            return list(self._accepted)

    def offer(self) -> dict[Key, str]:
        """The partner's offer: every accepted file applied in order (a full one resets)."""
        offer: dict[Key, str] = {}
        for received in self.deliveries:
            if received.kind == "full":
                offer.clear()
            offer.update(received.formations)
            for key in received.deletions:
                offer.pop(key, None)
        return offer

    # -- receiving ------------------------------------------------------------------------

    def _check_token(self, request: Request) -> None:
        if self.token is None:
            return
        if request.headers.get("authorization") != f"Bearer {self.token}":
            raise _Refusal(401, "Unauthorized", ["a valid bearer token is required"])

    def _next_fault(self) -> Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    async def _hold(self) -> None:
        deadline = time.monotonic() + self.hang_seconds
        while not self._released.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.02)

    def _unpack(self, request: Request, body: bytes) -> bytes:
        if len(body) > self.max_bytes:
            raise _Refusal(413, "Delivery too large")
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        if request.headers.get("content-digest") != f"sha-256=:{digest}:":
            raise _Refusal(400, "Content-Digest does not match the body")
        if request.headers.get("content-encoding") != "gzip":
            raise _Refusal(400, "Content-Encoding: gzip is required")
        try:
            return gzip.decompress(body)
        except (OSError, EOFError, zlib.error) as exc:
            raise _Refusal(400, "The body is not valid gzip", [str(exc)]) from exc

    def _headers(self, request: Request) -> tuple[str, str, int | None, int]:
        key = request.headers.get("idempotency-key")
        kind = request.headers.get("x-lheo-delivery")
        try:
            start = request.headers.get("x-lheo-cursor-from")
            to = int(request.headers.get("x-lheo-cursor-to", ""))
            since = int(start) if start is not None else None
        except ValueError as exc:
            raise _Refusal(400, "X-Lheo-Cursor-From/-To must be integers") from exc
        if not key or kind not in ("full", "delta") or (kind == "delta" and since is None):
            raise _Refusal(
                400, "Idempotency-Key, X-Lheo-Delivery (full|delta) and cursors are required"
            )
        return key, kind, since, to

    def _check_chain(self, kind: str, since: int | None) -> None:
        if kind == "full":
            return
        with self._lock:
            last = self._accepted[-1].to_cursor if self._accepted else None
        if last is None:
            raise _Refusal(409, "A delta before any full file", ["send a full file first"])
        if since is not None and since > last:
            raise _Refusal(
                409, "Gap in the deltas", [f"this delta starts after {since}, the last was {last}"]
            )

    def _validate(self, xml: bytes) -> etree._Element:
        root = _parse_document(xml)
        schema = xml_schema("2.3")
        if not schema.validate(root):
            errors = [f"line {e.line}: {e.message}" for e in schema.error_log]
            raise _Refusal(422, "Invalid against the LHEO 2.3 XSD", errors[:_ERRORS_LISTED])
        return root

    def _accept(self, request: Request, body: bytes) -> tuple[Received, bool]:
        """Check everything, record the delivery; (receipt, whether it was a repeat)."""
        self._check_token(request)
        xml = self._unpack(request, body)
        key, kind, since, to = self._headers(request)
        sha = hashlib.sha256(body).hexdigest()
        with self._lock:
            known = self._by_key.get(key)
        if known is not None:
            if known.sha256 != sha:
                raise _Refusal(409, "Idempotency-Key reused for different content")
            return known, True
        self._check_chain(kind, since)
        root = self._validate(xml)
        formations, deletions = _content(xml, root)
        with self._lock:
            received = Received(
                f"ack-{len(self._accepted) + 1:06d}", key, kind, since, to, sha, body,
                formations, deletions, datetime.now(UTC),
            )  # fmt: skip
            self._accepted.append(received)
            self._by_key[key] = received
        return received, False

    async def receive(self, request: Request) -> JSONResponse:
        with self._lock:
            self.posts += 1
            self.in_flight += 1
        try:
            fault = self._next_fault()
            if fault == "unavailable":
                raise _Refusal(503, "Service unavailable (simulated)")
            if fault == "throttled":
                raise _Refusal(429, "Too many requests (simulated)", headers={"Retry-After": "0"})
            if fault == "reject":
                raise _Refusal(422, "Rejected (simulated)", ["rejected on request"])
            if fault == "timeout":
                await self._hold()
                raise _Refusal(504, "Timed out (simulated)")
            received, repeat = self._accept(request, await request.body())
            if fault == "lost-ack":
                await self._hold()
                raise _Refusal(504, "Acknowledgement lost (simulated)")
            return JSONResponse(
                {
                    "ack": received.ack,
                    "cursor": received.to_cursor,
                    "formations": len(received.formations),
                    "deletions": len(received.deletions),
                    "repeat": repeat,
                },
                200,
            )
        except _Refusal as refusal:
            return refusal.response()
        finally:
            with self._lock:
                self.in_flight -= 1

    def app(self) -> FastAPI:
        app = FastAPI(title="intercariforef (simulated receiver)")
        app.add_api_route(ENDPOINT, self.receive, methods=["POST"])

        @app.get("/lheo/deliveries")
        def deliveries() -> list[dict[str, Any]]:
            return [
                {
                    "ack": r.ack,
                    "delivery": r.delivery,
                    "kind": r.kind,
                    "from_cursor": r.from_cursor,
                    "to_cursor": r.to_cursor,
                    "formations": len(r.formations),
                    "deletions": len(r.deletions),
                    "sha256": r.sha256,
                    "received_at": r.received_at.isoformat(),
                }
                for r in self.deliveries
            ]

        @app.get("/lheo/offre")
        def offre() -> dict[str, Any]:
            offer = self.offer()
            return {"formations": len(offer), "sources": sorted({s for s, _ in offer})}

        @app.post("/_faults")
        def faults(body: _FaultRequest) -> dict[str, Any]:
            self.fail(body.fault, body.times)
            return {"queued": list(self._faults)}

        @app.delete("/_faults")
        def clear() -> dict[str, Any]:
            self.clear_faults()
            return {"queued": []}

        @app.post("/_release")
        def release() -> dict[str, str]:
            self.release()
            return {"status": "released"}

        return app
