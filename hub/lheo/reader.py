"""Streaming, safe LHEO reader: one ``<formation>`` at a time, memory flat on any file size.

The reader refuses DOCTYPEs, entity declarations and network access before lxml sees the
document, validates each formation against the official XSD of its version (per-record
errors with line and element path), upgrades LHEO 2.2 to the 2.3 namespace, and yields
each formation in canonical form with its content hash.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, cast

from lxml import etree

from hub.errors import (
    LheoError,
    MalformedXmlError,
    RecordError,
    UnsafeXmlError,
    UnsupportedLheoError,
)
from hub.lheo.paths import element_path, readable_message
from hub.lheo.schema import (
    DELETIONS_INFO,
    NAMESPACES,
    NS_23,
    PROVENANCE_INFO,
    Version,
    xml_schema,
)

_PROLOG_LIMIT = 64 * 1024
_UNSAFE_PROLOG = re.compile(rb"<!DOCTYPE|<!ENTITY|<!ELEMENT|<!ATTLIST")
_DECLARED_ENCODING = re.compile(rb"""\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_STRIPPED_ATTRIBUTES = ("horodatage-export",)


@dataclass(slots=True)
class FormationRecord:
    """One formation read from a flow: either valid, with its canonical 2.3 form, or rejected."""

    numero: str | None
    datemaj: str | None
    line: int
    errors: list[RecordError] = field(default_factory=list)
    element: etree._Element | None = None
    fragment: bytes = b""
    content_hash: str = ""
    provenance: dict[str, str] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.errors


class _Prefixed:
    """A binary stream that first replays the bytes already peeked at."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = head
        self._rest = rest

    def read(self, size: int = -1) -> bytes:
        if self._head:
            if size < 0 or size >= len(self._head):
                head, self._head = self._head, b""
                return head + (self._rest.read(size - len(head)) if size > 0 else b"")
            head, self._head = self._head[:size], self._head[size:]
            return head
        return self._rest.read(size)


def _syntax_error(exc: etree.XMLSyntaxError, encoding: str) -> LheoError:
    """Translate libxml2's syntax error, saying which encoding was declared when it matters."""
    message = readable_message(str(exc.msg))
    if "encoding" in message.lower() or "utf-8" in message.lower():
        message += f" (the XML declaration says {encoding})"
    error = UnsafeXmlError if "entit" in message.lower() else MalformedXmlError
    return error(message, line=exc.lineno or None)


def _secure_pull_parser() -> etree.XMLPullParser:
    return etree.XMLPullParser(
        events=("start",), resolve_entities="internal", no_network=True, load_dtd=False
    )


class LheoReader:
    """Iterate over the formations of one LHEO flow.

    ``version``, ``encoding`` and the root are known as soon as the reader is built;
    ``deletions`` (numeros named by a delta's ``<extras info="suppressions">``) is complete
    once iteration ends, because LHEO puts root extras after ``<offres>``.
    """

    def __init__(self, stream: IO[bytes], *, validate: bool = True) -> None:
        self.validate = validate
        self.deletions: list[str] = []
        head = self._read_prolog(stream)
        self.version, self.namespace, self.encoding = self._inspect_root(head)
        self._stream = _Prefixed(head, stream)

    @staticmethod
    def _read_prolog(stream: IO[bytes]) -> bytes:
        head = stream.read(_PROLOG_LIMIT)
        if not head.strip():
            raise MalformedXmlError("the flow is empty", line=1)
        root_start = re.search(rb"<[A-Za-z_]", head)
        prolog = head if root_start is None else head[: root_start.start()]
        unsafe = _UNSAFE_PROLOG.search(prolog)
        if unsafe:
            line = prolog.count(b"\n", 0, unsafe.start()) + 1
            kind = unsafe.group().decode()[2:]
            raise UnsafeXmlError(
                f"{kind} declarations are refused (XXE and entity expansion)", line=line
            )
        return head

    @staticmethod
    def _inspect_root(head: bytes) -> tuple[Version, str, str]:
        declared = _DECLARED_ENCODING.match(head)
        encoding = declared.group(1).decode("ascii") if declared else "UTF-8"
        parser = _secure_pull_parser()
        try:
            parser.feed(head)
            events = list(parser.read_events())
        except etree.XMLSyntaxError as exc:
            raise _syntax_error(exc, encoding) from exc
        if not events:
            raise MalformedXmlError("no root element in the first 64 KiB", line=1)
        root = cast(etree._Element, events[0][1])
        if root.getroottree().docinfo.internalDTD is not None:
            raise UnsafeXmlError("DOCTYPE declarations are refused", line=1)
        qname = etree.QName(root)
        version = NAMESPACES.get(qname.namespace or "")
        if version is None:
            raise UnsupportedLheoError(
                f"unknown namespace {qname.namespace!r} on <{qname.localname}>",
                line=root.sourceline,
            )
        if qname.localname != "lheo":
            raise UnsupportedLheoError(
                f"root element <{qname.localname}> is not <lheo>"
                + (
                    " (lheo-index holds offer summaries, not offers)"
                    if "index" in qname.localname
                    else ""
                ),
                line=root.sourceline,
            )
        return version, qname.namespace or "", encoding

    def __iter__(self) -> Iterator[FormationRecord]:
        ns = self.namespace
        formation_tag, extras_tag = f"{{{ns}}}formation", f"{{{ns}}}extras"
        # The stubs do not know resolve_entities="internal" (lxml >= 5).
        context = etree.iterparse(  # type: ignore[call-overload]
            self._stream,
            events=("end",),
            tag=(formation_tag, extras_tag),
            remove_blank_text=True,
            resolve_entities="internal",  # none can be declared: DOCTYPEs are refused above
            no_network=True,
            load_dtd=False,
            huge_tree=False,
        )
        try:
            for _, element in context:
                parent = element.getparent()
                if element.tag == formation_tag:
                    yield self._read_formation(element)
                    if parent is not None:
                        parent.remove(element)
                elif parent is not None and parent.getparent() is None:
                    self._read_root_extras(element)
                    parent.remove(element)
        except etree.XMLSyntaxError as exc:
            raise _syntax_error(exc, self.encoding) from exc

    def _read_root_extras(self, extras: etree._Element) -> None:
        if extras.get("info") != DELETIONS_INFO:
            return
        for extra in extras.iter(f"{{{self.namespace}}}extra"):
            numero = (extra.text or "").strip()
            if numero:
                self.deletions.append(numero)

    def _read_formation(self, element: etree._Element) -> FormationRecord:
        record = FormationRecord(
            numero=element.get("numero"),
            datemaj=element.get("datemaj"),
            line=element.sourceline or 0,
        )
        if self.validate:
            record.errors = self._validate(element, record.numero)
        if record.numero is None or not record.numero.strip():
            record.errors.append(
                RecordError(
                    None,
                    record.line,
                    "formation",
                    "the formation has no numero attribute; the hub identifies offers by numero",
                )
            )
        if record.errors:
            return record
        canonical = canonical_formation(element, self.namespace, record.provenance)
        record.element = canonical
        record.fragment = etree.tostring(canonical, encoding="UTF-8", xml_declaration=False)
        record.content_hash = hashlib.sha256(record.fragment).hexdigest()
        return record

    def _validate(self, element: etree._Element, numero: str | None) -> list[RecordError]:
        schema = xml_schema(self.version)
        if schema.validate(element):
            return []
        return [
            RecordError(
                numero,
                error.line,
                element_path(element, error.path),
                readable_message(error.message),
            )
            for error in schema.error_log
        ]


def canonical_formation(
    element: etree._Element, namespace: str, provenance: dict[str, str] | None = None
) -> etree._Element:
    """The formation in the 2.3 namespace without export noise, detached from its document.

    Hub provenance extras (written by the national feed) are removed and returned in
    ``provenance``, so that re-reading the feed gives back the same content hash.
    """
    for extras in element.findall(f"{{{namespace}}}extras"):
        if extras.get("info") == PROVENANCE_INFO:
            if provenance is not None:
                for extra in extras:
                    provenance[str(extra.get("info"))] = extra.text or ""
            element.remove(extras)
    if element.xpath("boolean(descendant-or-self::*[@horodatage-export])"):
        for node in element.iter():
            for name in _STRIPPED_ATTRIBUTES:
                node.attrib.pop(name, None)
    if namespace == NS_23 and element.prefix is None:
        element.tail = None
        return element
    return _renamed(element, NS_23)


def _renamed(element: etree._Element, namespace: str) -> etree._Element:
    """Move a formation into ``namespace`` as the default namespace (2.2 → 2.3 upgrade)."""
    local = etree.QName(element).localname
    renamed = etree.Element(f"{{{namespace}}}{local}", nsmap={None: namespace})
    for name, value in element.attrib.items():
        renamed.set(name, value)
    renamed.text = element.text
    for child in list(element):
        renamed.append(child)
    for node in renamed.iter(tag=etree.Element):
        node.tag = f"{{{namespace}}}{etree.QName(node).localname}"
    etree.cleanup_namespaces(renamed)
    return renamed
