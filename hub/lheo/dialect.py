"""A region's dialect: what the hub's one parse does with what a region really writes.

The hub archives every file of a flow exactly as received, then reads it once. Where a
regional system departs from plain LHEO, its connector gives a :class:`Dialect` whose hooks
run inside that read, on the archived bytes, in the manner of ckanext-harvest's import
stage working on stored objects:

``open(part, raw)``
    The LHEO of one archived file: the bytes themselves (the default), the one XML file of
    a zip, or the LHEO a spreadsheet converts to, with what the conversion found.
``fix(formation, part)``
    Repair one formation in place before it is validated (placeholder SIRETs, local codes,
    old region codes); the :class:`Flag` list says what was changed, and each flag travels
    with the offer in ``<extras info="qualite-source">``.
``combine(parts, read)``
    Several files that make one offer together (two former regions' exports): which
    formation of which file is published, once.

Encoding and the 2.2 → 2.3 move need no hook: the parser reads the declared encoding (the
hub checks it tells the truth) and the canonical form is always LHEO 2.3.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, ClassVar, Literal

from lxml import etree

from hub.errors import RecordError

__all__ = [
    "QUALITY_INFO",
    "Combined",
    "Dialect",
    "Flag",
    "FlowKind",
    "Opened",
    "Part",
    "flag_errors",
    "lheo_child",
    "mark_quality",
]

FlowKind = Literal["snapshot", "delta"]
"""How a flow's files apply: a ``snapshot`` holds a source's whole offer (what it lacks is
deleted), a ``delta`` holds changes (deletions named in root extras)."""

QUALITY_INFO = "qualite-source"
"""``info`` of the formation-level extras that name what the source got wrong."""


@dataclass(frozen=True, slots=True)
class Flag:
    """One problem of a formation that the dialect kept and marked: a code and where."""

    code: str
    """Short code, the ``info`` of the ``<extra>``: ``siret-absent``..."""
    detail: str
    """Where and what: ``organisme-formation-responsable: SIRET « NC » remplacé par ...``."""


@dataclass(frozen=True, slots=True)
class Part:
    """One archived file of a flow: how it came, and where its bytes are kept."""

    name: str
    """The file's name as received (``offres-lheo.xml``, ``offre-grand-est-2026-11-27.zip``)."""
    path: Path
    """Its archive (gzip of the bytes as received)."""
    sha256: str
    size_bytes: int
    position: int = 0
    role: str | None = None
    """Which file of a multi-file flow it is (``auvergne``), for the dialect."""
    url: str | None = None
    http_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None


@dataclass(slots=True)
class Opened:
    """The LHEO bytes of one part, and what opening it found (bad spreadsheet cells...)."""

    stream: IO[bytes]
    name: str
    """How rejections name the file (``offre.zip!offres.xml``)."""
    findings: list[RecordError] = field(default_factory=list)
    summary: dict[str, Any] | None = None
    """What a conversion read (rows, rows rejected...), for the flow's report."""

    def close(self) -> None:
        self.stream.close()


@dataclass(slots=True)
class Combined:
    """A formation a multi-file dialect publishes: the element (LHEO 2.3) and its origin."""

    element: etree._Element
    part: Part
    line: int
    flags: list[Flag] = field(default_factory=list)


Reader = Callable[[Part], Iterator[tuple[etree._Element | None, int, list[RecordError]]]]
"""Reads one part for :meth:`Dialect.combine`: each formation as (element in LHEO 2.3, or
None when unreadable; its line; its errors), without XSD validation."""


class Dialect:
    """Plain LHEO, read as sent. Connectors subclass it for their region's ways."""

    name: ClassVar[str] = "lheo"
    fixes: ClassVar[bool] = False
    """Whether :meth:`fix` does anything (the hub skips the call when not)."""
    version: ClassVar[str] = "1"
    """Bump it when the hooks change what they write: stored formations are then re-read."""

    def fingerprint(self) -> str:
        """Changes whenever the hooks would rewrite a formation otherwise (code, tables).

        Part of the raw hash that lets an unchanged formation skip parsing, so a changed
        table makes every formation be read again.
        """
        return f"{self.name}/{self.version}"

    def open(self, part: Part, raw: IO[bytes]) -> Opened:
        """The LHEO of one archived file (``raw`` holds its bytes as received)."""
        return Opened(raw, part.name)

    def fix(self, formation: etree._Element, part: Part) -> list[Flag]:
        """Repair one formation in place, in its own namespace, before it is validated."""
        return []

    def combine(
        self, parts: Sequence[Part], read: Reader
    ) -> Iterator[Combined | RecordError] | None:
        """The formations several files publish together, and what combining them found.

        A yielded :class:`~hub.errors.RecordError` is a finding: a rejection (a copy that
        could not be read) or, stage ``flag``, a note on a kept offer. None (the default):
        each file is read alone.
        """
        return None


def lheo_child(parent: etree._Element, name: str) -> etree._Element | None:
    """The first child ``name`` of ``parent`` in its own LHEO namespace (2.2 or 2.3)."""
    return parent.find(f"{{{etree.QName(parent).namespace}}}{name}")


def mark_quality(formation: etree._Element, flags: Iterable[Flag]) -> None:
    """Append ``<extras info="qualite-source">`` naming each flag, in the formation's namespace."""
    flags = list(flags)
    if not flags:
        return
    namespace = etree.QName(formation).namespace
    extras = etree.SubElement(formation, f"{{{namespace}}}extras", info=QUALITY_INFO)
    for flag in flags:
        etree.SubElement(extras, f"{{{namespace}}}extra", info=flag.code).text = flag.detail


def flag_errors(
    numero: str | None, line: int | None, flags: Iterable[Flag], *, file: str | None = None
) -> list[RecordError]:
    """The findings (stage ``flag``) of a kept formation's flags."""
    path = f"formation[@numero='{numero}']/extras[@info='{QUALITY_INFO}']"
    return [
        RecordError(numero, line, path, f"{flag.code}: {flag.detail}", "flag", file)
        for flag in flags
    ]
