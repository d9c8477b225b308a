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
from hub.lheo.canonical import canonical_formation
from hub.lheo.paths import element_path, readable_message
from hub.lheo.schema import (
    DELETIONS_INFO,
    NAMESPACES,
    Version,
    xml_schema,
)
from hub.lheo.split import (
    FlowContext,
    RawFormation,
    flow_context,
    parse_alone,
    placeholder,
    split_flow,
)

_PROLOG_LIMIT = 64 * 1024
_UNSAFE_PROLOG = re.compile(rb"<!DOCTYPE|<!ENTITY|<!ELEMENT|<!ATTLIST")
_DECLARED_ENCODING = re.compile(rb"""\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


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
    raw_hash: str = ""
    """Hash of the formation's bytes as sent (fast path only): a cheap "unchanged" check."""

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


def _syntax_error(exc: etree.XMLSyntaxError, encoding: str, line_offset: int = 0) -> LheoError:
    """Translate libxml2's syntax error, saying which encoding was declared when it matters."""
    message = readable_message(str(exc.msg))
    if "encoding" in message.lower() or "utf-8" in message.lower():
        message += f" (the XML declaration says {encoding})"
    error = UnsafeXmlError if "entit" in message.lower() else MalformedXmlError
    return error(message, line=exc.lineno + line_offset if exc.lineno else None)


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
        self.context: FlowContext | None = flow_context(
            head, self.encoding, self.version, self.namespace
        )
        """Set when the flow can take the fast path (:meth:`split` and :meth:`read`)."""

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
        offres_tag = f"{{{ns}}}offres"
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
                    if parent is None or parent.tag != offres_tag:
                        continue  # nested: left inside the formation that holds it, for the XSD
                    yield self._read_formation(element)
                    parent.remove(element)
                elif parent is not None and parent.getparent() is None:
                    self._read_root_extras(element)
                    parent.remove(element)
        except etree.XMLSyntaxError as exc:
            raise _syntax_error(exc, self.encoding) from exc

    def split(self) -> Iterator[RawFormation]:
        """The fast path: each formation's raw bytes, unparsed, in document order.

        Only when ``context`` is set. The rest of the flow is checked by the same safe
        parser as ``__iter__`` (a malformed flow raises the same errors), and ``deletions``
        is complete once iteration ends. Parse a formation with :meth:`read`.
        """
        assert self.context is not None, "this flow cannot be split; iterate over the reader"
        extras_tag = f"{{{self.namespace}}}extras"
        skeleton = etree.XMLPullParser(
            events=("end",),
            tag=extras_tag,
            remove_blank_text=True,
            remove_comments=True,  # the formations' placeholders
            resolve_entities="internal",  # none can be declared: DOCTYPEs are refused above
            no_network=True,
            load_dtd=False,
            huge_tree=False,
        )
        try:
            for gap, raw in split_flow(self._stream, self.context):
                if gap:
                    skeleton.feed(gap)
                if raw is not None:
                    skeleton.feed(placeholder(raw.newlines))
                    yield raw
                self._take_root_extras(skeleton)
            skeleton.close()
            self._take_root_extras(skeleton)
        except etree.XMLSyntaxError as exc:
            raise _syntax_error(exc, self.encoding) from exc

    def _take_root_extras(self, parser: etree.XMLPullParser) -> None:
        for _, element in parser.read_events():
            parent = element.getparent()
            if parent is not None and parent.getparent() is None:
                self._read_root_extras(element)
                parent.remove(element)

    def read(self, raw: RawFormation) -> FormationRecord:
        """Parse, validate and canonicalise one formation from :meth:`split`."""
        assert self.context is not None
        return read_raw(self.context, raw, validate=self.validate)

    def _read_root_extras(self, extras: etree._Element) -> None:
        if extras.get("info") != DELETIONS_INFO:
            return
        for extra in extras.iter(f"{{{self.namespace}}}extra"):
            numero = (extra.text or "").strip()
            if numero:
                self.deletions.append(numero)

    def _read_formation(self, element: etree._Element) -> FormationRecord:
        return read_formation(element, self.version, self.namespace, validate=self.validate)


def read_raw(context: FlowContext, raw: RawFormation, *, validate: bool = True) -> FormationRecord:
    """A formation from :meth:`LheoReader.split`, read exactly as the streaming reader would.

    A module function so that worker processes can run it with only the picklable context.
    """
    offset = raw.line - 1
    try:
        element = parse_alone(context, raw)
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc, context.encoding, offset) from exc
    version = cast(Version, context.version)
    record = read_formation(element, version, context.namespace, validate=validate, offset=offset)
    record.raw_hash = raw.raw_hash
    return record


def read_formation(
    element: etree._Element,
    version: Version,
    namespace: str,
    *,
    validate: bool = True,
    offset: int = 0,
) -> FormationRecord:
    """Validate one parsed formation and give its canonical form and hash, or its errors.

    ``offset`` is added to line numbers, for an element parsed apart from its document.
    """
    record = FormationRecord(
        numero=element.get("numero"),
        datemaj=element.get("datemaj"),
        line=(element.sourceline or 0) + offset,
    )
    if validate:
        record.errors = _validate(element, version, record.numero, offset)
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
    canonical = canonical_formation(element, namespace, record.provenance)
    record.element = canonical
    record.fragment = etree.tostring(canonical, encoding="UTF-8", xml_declaration=False)
    record.content_hash = hashlib.sha256(record.fragment).hexdigest()
    return record


def _validate(
    element: etree._Element, version: Version, numero: str | None, offset: int
) -> list[RecordError]:
    schema = xml_schema(version)
    if schema.validate(element):
        return []
    return [
        RecordError(
            numero,
            error.line + offset if error.line else error.line,
            element_path(element, error.path),
            readable_message(error.message),
        )
        for error in schema.error_log
    ]
