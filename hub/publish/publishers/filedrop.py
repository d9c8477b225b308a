"""File drop: dated, gzip-compressed LHEO 2.3 files and their manifests, in a folder.

For each delivery the folder receives the LHEO file, named after its date, kind and cursor
range so names sort in the order they must be applied::

    lheo-20261128T093000Z-0000004211-full-from-0000000000.xml.gz
    lheo-20261128T101500Z-0000004388-delta-from-0000004211.xml.gz

then its manifest, ``<same stem>.manifest.json``: the delivery id, kind, cursor range,
filter, and for each file its size, SHA-256 and counts. Every file is written under a
temporary dot name and renamed only when complete, and the manifest comes last: a reader
takes a file only once its manifest exists and its checksum matches, in cursor order,
starting from the latest full file.

Delivering again (after a crash between the copy and the ledger's acknowledgement) writes
the same bytes under the same names: the spooled file, and a manifest built only from the
ledger's record of the delivery.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from hub.publish.publishers.base import Acknowledgement, Delivery
from hub.publish.publishers.lheo import LheoPublisher

__all__ = ["FiledropPublisher", "manifest"]

MANIFEST_SUFFIX = ".manifest.json"


def manifest_name(file_name: str) -> str:
    return file_name.removesuffix(".xml.gz") + MANIFEST_SUFFIX


def manifest(delivery: Delivery, *, format: str, filter: dict[str, Any]) -> bytes:
    """The manifest of ``delivery``: deterministic, from the ledger's record alone."""
    document = {
        "publisher": delivery.publisher,
        "delivery": delivery.id,
        "kind": delivery.kind,
        "format": format,
        "from_cursor": delivery.from_cursor,
        "to_cursor": delivery.to_cursor,
        "created_at": delivery.created_at.isoformat(),
        "filter": filter,
        "formations": delivery.formations,
        "deletions": delivery.deletions,
        "files": [
            {
                "name": file.name,
                "media_type": file.media_type,
                "size": file.size,
                "sha256": file.sha256,
            }
            for file in delivery.files
        ],
    }
    return (json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode()


class FiledropPublisher(LheoPublisher):
    """Drops full and delta LHEO 2.3 files, with manifests, in a folder."""

    name: ClassVar[str] = "filedrop"
    destination_kind = "folder"

    def deliver(self, delivery: Delivery) -> Acknowledgement:
        name = manifest_name(delivery.files[0].name)
        body = manifest(delivery, format=self.format, filter=self.config.filter.describe())
        self.drop([(file, file.name) for file in delivery.files], last=(name, body))
        return Acknowledgement(name, delivery.to_cursor)
