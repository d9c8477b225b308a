"""Tools for a connector's read stage: look into an LHEO flow, or rewrite it formation by formation.

Both go through the hub's safe streaming reader (:class:`hub.lheo.reader.LheoReader`), so a
connector never parses untrusted XML by itself:

* :func:`scan_lheo` counts formations and deletions and finds the newest ``datemaj``
  (for an incremental cursor), checking the version the region should send.
* :func:`rewrite_formations` streams a flow through a ``fix`` function that repairs or
  flags each formation (in the 2.3 namespace, whatever the source version) and writes a
  UTF-8 document of the source's version; deletions are kept. A fix returns its
  :class:`Flag` list; each becomes an ``<extra>`` of a formation-level
  ``<extras info="qualite-source">``, so the problem travels with the offer downstream.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

from lxml import etree

from connectors.http import SPOOL_IN_MEMORY
from hub.errors import FatalFetchError, RecordError
from hub.lheo.reader import LheoReader
from hub.lheo.schema import DELETIONS_INFO, NAMESPACE_OF, NS_23, Version

__all__ = ["QUALITY_INFO", "Flag", "LheoScan", "Rewritten", "rewrite_formations", "scan_lheo"]

QUALITY_INFO = "qualite-source"
"""``info`` of the formation-level extras that name what the source got wrong."""


@dataclass(frozen=True, slots=True)
class Flag:
    """One problem of a formation that the read stage kept and marked: a code and where."""

    code: str
    """Short code, the ``info`` of the ``<extra>``: ``siret-absent``..."""
    detail: str
    """Where and what: ``organisme-formation-responsable: SIRET « NC » remplacé par ...``."""


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


@dataclass(slots=True)
class Rewritten:
    body: IO[bytes]
    scan: LheoScan
    findings: list[RecordError]


def _reader(body: IO[bytes], expected: Version | None) -> LheoReader:
    reader = LheoReader(body, validate=False)
    if expected is not None and reader.version != expected:
        raise FatalFetchError(
            f"invalid payload: LHEO {reader.version} where the source sends {expected}",
            hint="the regional system changed its format: update the connector",
        )
    return reader


def scan_lheo(body: IO[bytes], *, expected: Version | None = None) -> LheoScan:
    """Count formations and deletions and find the newest datemaj; rewinds ``body``."""
    body.seek(0)
    reader = _reader(body, expected)
    scan = LheoScan(reader.version, reader.encoding)
    for record in reader:
        scan.formations += 1
        if record.datemaj and (scan.max_datemaj is None or record.datemaj > scan.max_datemaj):
            scan.max_datemaj = record.datemaj
    scan.deletions = list(reader.deletions)
    body.seek(0)
    return scan


def rewrite_formations(
    body: IO[bytes],
    fix: Callable[[etree._Element], list[Flag]],
    *,
    expected: Version | None = None,
) -> Rewritten:
    """Stream ``body`` through ``fix``; the result is UTF-8 LHEO of the source's version.

    ``fix`` gets each formation in the 2.3 namespace and returns the flags it raised; a
    formation the reader cannot identify (no ``numero``) is dropped and reported.
    """
    body.seek(0)
    reader = _reader(body, expected)
    namespace = NAMESPACE_OF[reader.version]
    scan = LheoScan(reader.version, "UTF-8")
    findings: list[RecordError] = []
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    out.write(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<lheo xmlns="{namespace}">\n<offres>\n'.encode()
    )
    for record in reader:
        scan.formations += 1
        if record.element is None:
            findings.extend(
                RecordError(e.numero, e.line, e.path, f"{e.reason}; dropped", stage="read")
                for e in record.errors
            )
            continue
        if record.datemaj and (scan.max_datemaj is None or record.datemaj > scan.max_datemaj):
            scan.max_datemaj = record.datemaj
        flags = fix(record.element)
        if flags:
            _append_quality_extras(record.element, flags)
            path = f"formation[@numero='{record.numero}']/extras[@info='{QUALITY_INFO}']"
            findings.extend(
                RecordError(record.numero, record.line, path, f"{f.code}: {f.detail}", "flag")
                for f in flags
            )
        out.write(etree.tostring(_in_namespace(record.element, namespace), encoding="UTF-8"))
        out.write(b"\n")
    scan.deletions = list(reader.deletions)
    out.write(b"</offres>\n" + _deletions(scan.deletions, namespace) + b"</lheo>\n")
    out.seek(0)
    return Rewritten(out, scan, findings)


def _append_quality_extras(formation: etree._Element, flags: list[Flag]) -> None:
    extras = etree.SubElement(formation, f"{{{NS_23}}}extras", info=QUALITY_INFO)
    for flag in flags:
        etree.SubElement(extras, f"{{{NS_23}}}extra", info=flag.code).text = flag.detail


def _deletions(numeros: list[str], namespace: str) -> bytes:
    if not numeros:
        return b""
    extras = etree.Element(f"{{{namespace}}}extras", nsmap={None: namespace}, info=DELETIONS_INFO)
    for numero in numeros:
        etree.SubElement(extras, f"{{{namespace}}}extra", info="numero").text = numero
    return etree.tostring(extras, encoding="UTF-8") + b"\n"


def _in_namespace(element: etree._Element, namespace: str) -> etree._Element:
    """The formation moved from the 2.3 namespace back to the source's own."""
    if namespace == NS_23:
        return element
    moved = etree.Element(
        f"{{{namespace}}}{etree.QName(element).localname}", nsmap={None: namespace}
    )
    for name, value in element.attrib.items():
        moved.set(name, value)
    moved.text = element.text
    for child in list(element):
        moved.append(child)
    for node in moved.iter(tag=etree.Element):
        node.tag = f"{{{namespace}}}{etree.QName(node).localname}"
    etree.cleanup_namespaces(moved)
    return moved
