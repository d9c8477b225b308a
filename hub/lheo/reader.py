"""Streaming, safe LHEO reader: one ``<formation>`` at a time, memory flat on any file size.

The reader refuses DOCTYPEs, entity declarations and network access before lxml sees the
document, validates each formation against the official XSD of its version (per-record
errors with line and element path), upgrades LHEO 2.2 to the 2.3 namespace, and yields
each formation in canonical form with its content hash.

A formation is what libxml2 reads as a ``{namespace}formation`` child of an ``<offres>``
child of the root; both ways of reading a flow (:meth:`LheoReader.__iter__` and the fast
path, :meth:`LheoReader.split` + :meth:`LheoReader.read`) give the same records, deletions
and :attr:`LheoReader.document_errors`, or the fast path raises
:class:`~hub.errors.SplitMismatch` and the flow is read again the streaming way.

Line numbers past 65535: libxml2 keeps an element's line in 16 bits. lxml parses with
``XML_PARSE_BIG_LINES``, which keeps the true line on *text* nodes only, and
``sourceline`` (``xmlGetLineNo``) then answers, for an element past line 65535, the line of
its first text descendant, which is where that text ends, often a few lines after the tag.
There is no parser option nor lxml API that gives the tag's own line, so the streaming path
is exact up to line 65535 and close after it. The fast path parses each formation alone
from its own first line, so its lines stay exact as long as one formation spans fewer than
65535 lines.

Where the rest lives: what one formation becomes, :mod:`hub.lheo.record`; the document
around the formations (deletions, document errors, the fast path's skeleton),
:mod:`hub.lheo.document`; the fast path's cut, :mod:`hub.lheo.split` and :mod:`hub.lheo.chunk`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO, cast

from lxml import etree

from hub.errors import (
    LheoError,
    MalformedXmlError,
    RecordError,
    SplitMismatch,
    UnsafeXmlError,
    UnsupportedLheoError,
)
from hub.lheo.chunk import FlowContext, RawFormation, flow_context
from hub.lheo.document import Document, Skeleton
from hub.lheo.paths import readable_message
from hub.lheo.record import Fix, FormationRecord, read_formation, read_raw
from hub.lheo.schema import NAMESPACES, Version
from hub.lheo.split import split_flow

_PROLOG_LIMIT = 64 * 1024
_UNSAFE_PROLOG = re.compile(rb"<!DOCTYPE|<!ENTITY|<!ELEMENT|<!ATTLIST")
_DECLARED_ENCODING = re.compile(
    rb"""(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']"""
)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


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
    ``deletions`` (numeros named by a delta's ``<extras info="suppressions">``) and
    ``document_errors`` are complete once iteration ends, because LHEO puts root extras
    after ``<offres>``.
    """

    def __init__(self, stream: IO[bytes], *, validate: bool = True, fix: Fix | None = None) -> None:
        self.validate = validate
        self.fix = fix
        """The source's dialect hook, run on each formation before the XSD judges it."""
        head = self._read_prolog(stream)
        self.version, self.namespace, self.encoding = self._inspect_root(head)
        self._document = Document(self.namespace)
        self._stream = _Prefixed(head, stream)
        self.context: FlowContext | None = flow_context(
            head, self.encoding, self.version, self.namespace
        )
        """Set when the flow can take the fast path (:meth:`split` and :meth:`read`)."""

    @property
    def deletions(self) -> list[str]:
        """Numeros the root's ``<extras info="suppressions">`` names (a delta deletes them)."""
        return self._document.deletions

    @property
    def document_errors(self) -> list[RecordError]:
        """What is wrong with the document around its formations (an ``<offres>`` without
        formation, elements LHEO does not put there): reported, the rest is read all the same."""
        return self._document.errors

    @property
    def only_deletions(self) -> bool:
        """An ``<offres>`` without formation in a delta that deletes: the hub's own dialect,
        which it reads as such, though the XSD wants a formation (``hub validate`` says so)."""
        return self._document.only_deletions

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
        if declared is None and head.startswith(_UTF16_BOMS):
            encoding = "UTF-16"
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
        """The streaming path: libxml2 reads the whole flow and decides what a formation is."""
        ns, document = self.namespace, self._document
        formation_tag, extras_tag = f"{{{ns}}}formation", f"{{{ns}}}extras"
        # The stubs do not know resolve_entities="internal" (lxml >= 5).
        context = etree.iterparse(  # type: ignore[call-overload]
            self._stream,
            events=("end",),
            tag=(formation_tag, extras_tag),
            remove_blank_text=True,
            remove_comments=True,  # no content: the same tree hashes the same
            remove_pis=True,
            resolve_entities="internal",  # none can be declared: DOCTYPEs are refused above
            no_network=True,
            load_dtd=False,
            huge_tree=False,
        )
        try:
            for _, element in context:
                parent = element.getparent()
                if element.tag == formation_tag:
                    if not document.is_root_offres(parent):
                        continue  # nested or astray: left where it is, for the XSD or below
                    document.count_formation(parent)
                    yield read_formation(
                        element, self.version, ns, validate=self.validate, fix=self.fix
                    )
                    parent.remove(element)
                elif parent is not None and parent.getparent() is None:
                    document.read_root_extras(element)
                    parent.remove(element)
        except etree.XMLSyntaxError as exc:
            raise _syntax_error(exc, self.encoding) from exc
        document.check(context.root)

    def split(self) -> Iterator[RawFormation]:
        """The fast path: each formation's raw bytes, unparsed, in document order.

        Only when ``context`` is set. The rest of the flow goes through the same safe parser
        as ``__iter__``; ``deletions`` and ``document_errors`` are complete once iteration
        ends. Parse a formation with :meth:`read`. Raises :class:`SplitMismatch` (at any
        point) where the cut and libxml2 could disagree, malformed flows included: read the
        flow again with ``__iter__``, which raises the real error at its line.
        """
        assert self.context is not None, "this flow cannot be split; iterate over the reader"
        skeleton = Skeleton(self._document, self.context)
        try:
            for gap, raw in split_flow(self._stream, self.context):
                if raw is None:
                    skeleton.feed(gap)
                else:
                    skeleton.stand_for(gap, raw)
                    yield raw
            root = skeleton.close()
        except etree.XMLSyntaxError as exc:
            message = readable_message(str(exc.msg))
            raise SplitMismatch(f"the skeleton is not well-formed: {message}") from exc
        self._document.check(root)

    def read(self, raw: RawFormation) -> FormationRecord:
        """Parse, validate and canonicalise one formation from :meth:`split`."""
        assert self.context is not None
        return read_raw(self.context, raw, validate=self.validate, fix=self.fix)
