"""A connector's look into a fetched LHEO flow, through the hub's safe streaming reader.

:func:`scan_lheo` counts formations and deletions and finds the newest ``datemaj`` (for an
incremental cursor), checking the version the region should send. It only looks: the flow
is archived as received, and the hub's read stage alone turns it into records, running the
connector's :class:`~hub.lheo.dialect.Dialect` hooks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO

from hub.errors import FatalFetchError
from hub.lheo.reader import LheoReader
from hub.lheo.schema import Version

__all__ = ["LheoScan", "scan_lheo"]


@dataclass(slots=True)
class LheoScan:
    """What a flow holds, without validating it."""

    version: Version
    encoding: str
    formations: int = 0
    deletions: list[str] = field(default_factory=list)
    max_datemaj: str | None = None

    @property
    def empty(self) -> bool:
        return self.formations == 0 and not self.deletions


def scan_lheo(body: IO[bytes], *, expected: Version | None = None) -> LheoScan:
    """Count formations and deletions and find the newest datemaj; rewinds ``body``."""
    body.seek(0)
    reader = LheoReader(body, validate=False)
    if expected is not None and reader.version != expected:
        raise FatalFetchError(
            f"invalid payload: LHEO {reader.version} where the source sends {expected}",
            hint="the regional system changed its format: update the connector",
        )
    scan = LheoScan(reader.version, reader.encoding)
    for record in reader:
        scan.formations += 1
        if record.datemaj and (scan.max_datemaj is None or record.datemaj > scan.max_datemaj):
            scan.max_datemaj = record.datemaj
    scan.deletions = list(reader.deletions)
    body.seek(0)
    return scan
