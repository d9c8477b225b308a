"""The intercariforef simulator refuses what a strict partner would, with the reasons."""

from __future__ import annotations

import base64
import gzip
import hashlib

import httpx
import pytest
from lheo_factory import document, formation
from publishing import TOKEN, LiveReceiver

BROKEN = (
    formation("BAD")
    .replace("<intitule-formation>", "<intitule>")
    .replace("</intitule-formation>", "</intitule>")
)


def post(
    receiver: LiveReceiver, xml: bytes, *, key: str = "k1", kind: str = "full", **headers: str
) -> httpx.Response:
    body = gzip.compress(xml, mtime=0)
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    sent = {
        "Authorization": f"Bearer {TOKEN}",
        "Content-Encoding": "gzip",
        "Content-Digest": f"sha-256=:{digest}:",
        "Idempotency-Key": key,
        "X-Lheo-Delivery": kind,
        "X-Lheo-Cursor-To": "10",
        **headers,
    }
    return httpx.post(receiver.url, content=body, headers=sent, timeout=10)


def test_a_valid_full_file_is_acknowledged_once_per_key(receiver: LiveReceiver) -> None:
    xml = document([formation("F1")])
    first = post(receiver, xml)
    assert first.status_code == 200 and first.json()["cursor"] == 10
    again = post(receiver, xml)
    assert again.json() == {**first.json(), "repeat": True}
    assert len(receiver.deliveries) == 1
    other = post(receiver, document([formation("F2")]))
    assert other.status_code == 409 and "different content" in other.json()["title"]


def test_the_whole_document_is_checked_against_the_xsd(receiver: LiveReceiver) -> None:
    refused = post(receiver, document([formation("F1"), BROKEN]))
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert any(
        error.startswith("line ") and "intitule" in error for error in refused.json()["errors"]
    )
    empty = post(receiver, b'<lheo xmlns="http://lheo.gouv.fr/2.3"><offres/></lheo>', key="k2")
    assert empty.status_code == 422 and "offres" in " ".join(empty.json()["errors"])
    assert receiver.deliveries == []


def test_deltas_must_follow_a_full_file_without_a_gap(receiver: LiveReceiver) -> None:
    xml = document([formation("F1")])
    early = post(receiver, xml, key="d0", kind="delta", **{"X-Lheo-Cursor-From": "0"})
    assert early.status_code == 409
    assert post(receiver, xml, key="f1").status_code == 200
    gap = post(
        receiver,
        xml,
        key="d1",
        kind="delta",
        **{"X-Lheo-Cursor-From": "12", "X-Lheo-Cursor-To": "15"},
    )
    assert gap.status_code == 409 and "starts after 12" in gap.json()["errors"][0]
    chained = post(
        receiver,
        xml,
        key="d2",
        kind="delta",
        **{"X-Lheo-Cursor-From": "10", "X-Lheo-Cursor-To": "15"},
    )
    assert chained.status_code == 200


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Authorization": "Bearer wrong"}, 401),
        ({"Content-Digest": "sha-256=:AAAA:"}, 400),
        ({"X-Lheo-Delivery": "partial"}, 400),
    ],
)
def test_bad_requests_are_refused(receiver: LiveReceiver, headers: dict, status: int) -> None:
    assert post(receiver, document([formation("F1")]), **headers).status_code == status
