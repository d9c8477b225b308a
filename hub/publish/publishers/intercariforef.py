"""intercariforef: the national LHEO 2.3 offer, posted gzip-compressed to its endpoint.

Each delivery is one ``POST`` to ``destination`` of one LHEO 2.3 document (valid against
the official XSD: the national feed's fragments are stored valid, and a deletions-only
delta carries a formation, see :mod:`hub.publish.publishers.lheo`), with::

    Authorization: Bearer <token from token_env>
    Content-Type: application/xml
    Content-Encoding: gzip
    Content-Digest: sha-256=:<base64 of the SHA-256 of the gzip bytes>:
    Idempotency-Key: <delivery id>       the same on every attempt of one delivery
    X-Lheo-Delivery: full | delta        a full file replaces the partner's whole offer
    X-Lheo-Cursor-From / X-Lheo-Cursor-To   the cursor range (no From on a full file)

The partner answers ``2xx`` with ``{"ack": "<receipt id>", "cursor": <To>}``; that
acknowledgement is what moves the partner's cursor in the ledger. A delivery resent after
a lost answer carries the same key and bytes, so the partner can answer with its first
receipt instead of applying it twice. ``full_every = "1d"`` in the partner's file gives
the daily full file, deltas in between.
"""

from __future__ import annotations

import base64
import json
from typing import ClassVar

from hub.errors import RetriableDeliveryError
from hub.publish.publishers.base import Acknowledgement, Delivery
from hub.publish.publishers.lheo import LheoPublisher

__all__ = ["IntercariforefPublisher", "delivery_headers"]


def delivery_headers(delivery: Delivery) -> dict[str, str]:
    """The headers of one delivery's POST (the token is added by the sender's auth)."""
    [file] = delivery.files
    digest = base64.b64encode(bytes.fromhex(file.sha256)).decode("ascii")
    headers = {
        "Content-Type": "application/xml",
        "Content-Encoding": "gzip",
        "Content-Digest": f"sha-256=:{digest}:",
        "Idempotency-Key": delivery.id,
        "X-Lheo-Delivery": delivery.kind,
        "X-Lheo-Cursor-To": str(delivery.to_cursor),
    }
    if delivery.from_cursor is not None:
        headers["X-Lheo-Cursor-From"] = str(delivery.from_cursor)
    return headers


class IntercariforefPublisher(LheoPublisher):
    """Posts full and delta LHEO 2.3 files to intercariforef's endpoint."""

    name: ClassVar[str] = "intercariforef"
    destination_kind = "url"

    def deliver(self, delivery: Delivery) -> Acknowledgement:
        [file] = delivery.files
        response = self.sender().post(
            self.config.destination, file.path, delivery_headers(delivery)
        )
        try:
            body = response.json()
            return Acknowledgement(str(body["ack"]), int(body["cursor"]))
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError) as exc:
            # It answered 2xx but no receipt: resend under the same key to get one.
            raise RetriableDeliveryError(
                f"POST {self.config.destination}: {response.status_code} without an "
                f"acknowledgement ({{'ack', 'cursor'}} expected): {response.text[:200]!r}"
            ) from exc
