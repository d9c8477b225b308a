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
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
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
from hub.lheo.canonical import canonical_formation, canonical_fragment
from hub.lheo.dialect import Flag
from hub.lheo.paths import element_path, node_path, readable_message
from hub.lheo.schema import (
    DELETIONS_INFO,
    NAMESPACES,
    Version,
    xml_schema,
)
from hub.lheo.split import (
    STAND_IN_TAG,
    FlowContext,
    RawFormation,
    flow_context,
    formation_parser,
    parse_alone,
    split_flow,
    stand_in,
)

_PROLOG_LIMIT = 64 * 1024
_UNSAFE_PROLOG = re.compile(rb"<!DOCTYPE|<!ENTITY|<!ELEMENT|<!ATTLIST")
_DECLARED_ENCODING = re.compile(
    rb"""(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']"""
)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_FEED_EVERY = 32
"""Formations whose skeleton bytes are fed to its parser at once..."""
_FEED_BYTES = 1 << 20
"""...in pieces of at most this many bytes."""


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
    flags: list[Flag] = field(default_factory=list)
    """What the source's dialect repaired and marked in it (it was kept)."""
    file: str | None = None
    """The file of its flow it was read from."""

    @property
    def valid(self) -> bool:
        return not self.errors


Fix = Callable[[etree._Element], list[Flag]]
"""A dialect's hook: repair one formation in place, in its own namespace, before validation."""


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
        self.deletions: list[str] = []
        self.document_errors: list[RecordError] = []
        """What is wrong with the document around its formations (an ``<offres>`` without
        formation, elements LHEO does not put there): reported, the rest is read all the same."""
        self.only_deletions = False
        """An ``<offres>`` without formation in a delta that deletes: the hub's own dialect,
        which it reads as such, though the XSD wants a formation (``hub validate`` says so)."""
        self._formations_in: Counter[etree._Element] = Counter()
        head = self._read_prolog(stream)
        self.version, self.namespace, self.encoding = self._inspect_root(head)
        self._offres_tag = f"{{{self.namespace}}}offres"
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
        ns = self.namespace
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
                    if not self._is_root_offres(parent):
                        continue  # nested or astray: left where it is, for the XSD or below
                    self._formations_in[parent] += 1
                    yield self._read_formation(element)
                    parent.remove(element)
                elif parent is not None and parent.getparent() is None:
                    self._read_root_extras(element)
                    parent.remove(element)
        except etree.XMLSyntaxError as exc:
            raise _syntax_error(exc, self.encoding) from exc
        self._check_document(context.root)

    def split(self) -> Iterator[RawFormation]:
        """The fast path: each formation's raw bytes, unparsed, in document order.

        Only when ``context`` is set. The rest of the flow goes through the same safe parser
        as ``__iter__``; ``deletions`` and ``document_errors`` are complete once iteration
        ends. Parse a formation with :meth:`read`. Raises :class:`SplitMismatch` (at any
        point) where the cut and libxml2 could disagree, malformed flows included: read the
        flow again with ``__iter__``, which raises the real error at its line.
        """
        assert self.context is not None, "this flow cannot be split; iterate over the reader"
        skeleton = _Skeleton(self, self.context)
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
        self._check_document(root)

    def read(self, raw: RawFormation) -> FormationRecord:
        """Parse, validate and canonicalise one formation from :meth:`split`."""
        assert self.context is not None
        return read_raw(self.context, raw, validate=self.validate, fix=self.fix)

    def _is_root_offres(self, element: etree._Element | None) -> bool:
        """Whether ``element`` is an ``<offres>`` child of the root: where formations are."""
        return (
            element is not None
            and element.tag == self._offres_tag
            and (parent := element.getparent()) is not None
            and parent.getparent() is None
        )

    def _read_root_extras(self, extras: etree._Element) -> None:
        self.document_errors += _extras_errors(extras, self.namespace, "lheo/extras")
        if extras.get("info") != DELETIONS_INFO:
            return
        for extra in extras.iter(f"{{{self.namespace}}}extra"):
            numero = (extra.text or "").strip()
            if numero:
                self.deletions.append(numero)

    def _check_document(self, root: etree._Element) -> None:
        """What is left of the document once its formations and root extras were read."""
        ns = self.namespace
        offres_tag, extras_tag = f"{{{ns}}}offres", f"{{{ns}}}extras"
        offres_count = 0
        for child in root:
            if child.tag == offres_tag:
                offres_count += 1
                if offres_count == 2:
                    self.document_errors.append(
                        _document_error(
                            child,
                            "lheo/offres",
                            "a second offres; LHEO allows one (its formations are read "
                            "all the same)",
                        )
                    )
                if not self._formations_in[child] and self.deletions:
                    self.only_deletions = True  # the hub's delta dialect: see __init__
                elif not self._formations_in[child]:
                    self.document_errors.append(
                        _document_error(
                            child,
                            "lheo/offres",
                            "offres holds no formation; LHEO requires at least one",
                        )
                    )
                for item in child:
                    if item.tag == extras_tag:
                        self.document_errors += _extras_errors(item, ns, "lheo/offres/extras")
                    else:
                        self.document_errors.append(
                            _unexpected(item, ns, "lheo/offres", "formation and extras")
                        )
            elif child.tag != extras_tag:
                self.document_errors.append(_unexpected(child, ns, "lheo", "offres and extras"))
        if not offres_count:
            self.document_errors.append(
                _document_error(root, "lheo", "lheo holds no offres; LHEO requires one")
            )

    def _read_formation(self, element: etree._Element) -> FormationRecord:
        return read_formation(
            element, self.version, self.namespace, validate=self.validate, fix=self.fix
        )


class _Skeleton:
    """The fast path's view of everything but the formations, through the safe pull parser.

    It is where libxml2 checks the cut: each stand-in must come, in order, as a child of the
    root's ``<offres>``, and no formation may be met there (one the cutter missed). The root
    and ``<offres>`` must be those the formations are parsed inside (:class:`FlowContext`).
    """

    def __init__(self, reader: LheoReader, context: FlowContext) -> None:
        self.reader = reader
        ns = reader.namespace
        self.formation_tag, self.extras_tag = f"{{{ns}}}formation", f"{{{ns}}}extras"
        self.offres_tag = f"{{{ns}}}offres"
        self.parser = etree.XMLPullParser(
            events=("start", "end"),
            remove_blank_text=True,
            remove_comments=True,  # the formations' line placeholders among them
            remove_pis=True,
            resolve_entities="internal",  # none can be declared: DOCTYPEs are refused above
            no_network=True,
            load_dtd=False,
            huge_tree=False,
        )
        parsed = etree.fromstring(context.head + context.tail, formation_parser())
        self.expected = {parsed.tag: _opening(parsed), parsed[0].tag: _opening(parsed[0])}
        self.cut = self.seen = 0
        self.pending: list[bytes] = []
        self.pending_lines = 0
        self.offres: etree._Element | None = None
        """The last ``<offres>`` a stand-in was met in, known to be the root's."""

    def feed(self, data: bytes) -> None:
        self.pending.append(data)
        self.flush()

    def stand_for(self, gap: bytes, raw: RawFormation) -> None:
        """The bytes before a formation and its stand-in, fed a few formations at a time."""
        self.pending += (gap, stand_in(self.cut, raw.newlines))
        self.pending_lines += raw.newlines
        self.cut += 1
        if not self.cut % _FEED_EVERY or self.pending_lines > _FEED_BYTES:
            self.flush()

    def flush(self) -> None:
        """Feed what is pending, in pieces libxml2 takes without ``huge_tree``."""
        data = b"".join(self.pending)
        for start in range(0, len(data), _FEED_BYTES):
            self.parser.feed(data[start : start + _FEED_BYTES])
        self.pending.clear()
        self.pending_lines = 0
        self.check()

    def close(self) -> etree._Element:
        self.flush()
        root: etree._Element = self.parser.close()
        self.check()
        if self.seen != self.cut:
            raise SplitMismatch(
                f"{self.cut} formations were cut, the parser saw {self.seen} in <offres>"
            )
        return root

    def check(self) -> None:
        for event, element in self.parser.read_events():
            parent = element.getparent()
            if event == "start":
                self._started(element, parent)
            elif element.tag == STAND_IN_TAG:
                assert parent is not None
                parent.remove(element)
            elif (
                element.tag == self.extras_tag and parent is not None and parent.getparent() is None
            ):
                self.reader._read_root_extras(element)
                parent.remove(element)

    def _started(self, element: etree._Element, parent: etree._Element | None) -> None:
        if element.tag == STAND_IN_TAG:
            if parent is None or element.get("n") != str(self.seen):
                raise SplitMismatch(
                    "the formations cut and those parsed differ", line=element.sourceline
                )
            if parent is not self.offres:
                if not self.reader._is_root_offres(parent):
                    raise SplitMismatch(
                        "a formation was cut where the parser reads no formation",
                        line=element.sourceline,
                    )
                self.offres = parent
            self.reader._formations_in[parent] += 1
            self.seen += 1
        elif element.tag == self.formation_tag and self.reader._is_root_offres(parent):
            raise SplitMismatch("a formation the splitter did not cut", line=element.sourceline)
        elif (
            parent is None or (element.tag == self.offres_tag and parent.getparent() is None)
        ) and _opening(element) != self.expected.get(element.tag):
            raise SplitMismatch(
                f"<{etree.QName(element).localname}> is not the one formations are parsed in",
                line=element.sourceline,
            )


def _opening(element: etree._Element) -> tuple[object, ...]:
    """What a start tag gives the elements inside it: name, attributes, namespaces."""
    return element.tag, dict(element.attrib), element.nsmap


def _document_error(element: etree._Element, path: str, reason: str) -> RecordError:
    return RecordError(None, element.sourceline, path, reason, stage="document")


def _name(element: etree._Element, namespace: str) -> tuple[str, str]:
    """The element's local name, and what to say of its namespace when it is not LHEO's."""
    if not isinstance(element.tag, str):
        return "node", ""
    qname = etree.QName(element)
    if qname.namespace == namespace:
        return qname.localname, ""
    if qname.namespace:
        return qname.localname, f" in namespace {qname.namespace}"
    return qname.localname, " in no namespace"


def _unexpected(element: etree._Element, namespace: str, where: str, allowed: str) -> RecordError:
    local, foreign = _name(element, namespace)
    holder = where.rsplit("/", 1)[-1]
    return _document_error(
        element,
        f"{where}/{local}",
        f"<{local}>{foreign} does not belong in {holder}: only {allowed} do; it was not read",
    )


def _extras_errors(extras: etree._Element, namespace: str, path: str) -> list[RecordError]:
    """Children of ``extras`` (and of the extras inside it) that are neither extra nor extras."""
    errors: list[RecordError] = []
    for child in extras:
        local, foreign = _name(child, namespace)
        if not foreign and local == "extras":
            errors += _extras_errors(child, namespace, f"{path}/extras")
        elif foreign or local != "extra":
            errors.append(_unexpected(child, namespace, path, "extra and extras"))
    return errors


def read_raw(
    context: FlowContext, raw: RawFormation, *, validate: bool = True, fix: Fix | None = None
) -> FormationRecord:
    """A formation from :meth:`LheoReader.split`, read exactly as the streaming reader would.

    A module function so that worker processes can run it with only the picklable context.
    Raises :class:`SplitMismatch` when the bytes cut are not one formation alone.
    """
    element = parse_alone(context, raw)
    version = cast(Version, context.version)
    offset = raw.line - 1
    record = read_formation(
        element, version, context.namespace, validate=validate, offset=offset, fix=fix
    )
    record.raw_hash = raw.raw_hash
    return record


def read_formation(
    element: etree._Element,
    version: Version,
    namespace: str,
    *,
    validate: bool = True,
    offset: int = 0,
    fix: Fix | None = None,
) -> FormationRecord:
    """Validate one parsed formation and give its canonical form and hash, or its errors.

    ``offset`` is added to line numbers, for an element parsed apart from its document.
    ``fix``, the source's dialect hook, repairs it first (its flags are kept on the record).
    """
    record = FormationRecord(
        numero=element.get("numero"),
        datemaj=element.get("datemaj"),
        line=(element.sourceline or 0) + offset,
    )
    if fix is not None:
        record.flags = fix(element)
        record.numero = element.get("numero")
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
    record.element, record.fragment = canonical_fragment(canonical)
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
            _error_path(element, error.path),
            readable_message(error.message),
        )
        for error in schema.error_log
    ]


def _error_path(formation: etree._Element, libxml_path: str | None) -> str:
    """The named path of an XSD error, whatever prefixes the flow writes names with.

    libxml2 writes an element in a default namespace as ``*[n]`` and a prefixed one as
    ``prefix:name[n]``, from the formation; :func:`element_path` reads the former.
    """
    if not libxml_path or ":" not in libxml_path:
        return element_path(formation, libxml_path)
    step_end = libxml_path.find("/", 1)
    relative = "." + (libxml_path[step_end:] if step_end > 0 else "")
    namespaces = {
        prefix: uri for node in formation.iter() for prefix, uri in node.nsmap.items() if prefix
    }
    try:
        found = formation.xpath(relative, namespaces=namespaces)
    except etree.XPathError:
        return node_path(formation)
    if isinstance(found, list) and found and isinstance(found[0], etree._Element):
        return node_path(found[0], formation)
    return node_path(formation)
