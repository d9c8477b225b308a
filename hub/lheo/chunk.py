"""One formation's raw bytes, cut from its flow, and how the fast path parses them alone.

A raw formation (:class:`RawFormation`) is parsed inside a copy of its document's opening
tags (:class:`FlowContext`), which gives exactly what the streaming reader gives, line numbers
shifted back to the document's. In the skeleton (:mod:`hub.lheo.document`) each formation is
replaced by a stand-in element followed by as many newlines as it spans, so the lines there
stay the document's too.

The start-tag patterns live here because both the cutter (:mod:`hub.lheo.split`) and
:func:`parse_alone`, which checks what the cutter cut, read formation tags with them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

from lxml import etree

from hub.errors import SplitMismatch
from hub.lheo.paths import readable_message
from hub.lheo.writer import xml_declaration

NCNAME = rb"[A-Za-z_\x80-\xff][\w.\x80-\xff-]*"
ATTRIBUTES = (
    rb"(?:[ \t\r\n]+[^ \t\r\n=/<>\"']+[ \t\r\n]*=[ \t\r\n]*(?:\"[^\"<]*\"|'[^'<]*'))*[ \t\r\n]*"
)
START_TAG = re.compile(rb"<(?:" + NCNAME + rb":)?formation" + ATTRIBUTES + rb"(/?)>")
"""A formation start tag, prefixed or not; group 1 is ``/`` when it closes itself."""
_LAST_END_TAG = re.compile(rb"</(?:" + NCNAME + rb":)?formation[ \t\r\n]*>")
_ROOT_TAGS = re.compile(
    rb"<(?:[\w.-]+:)?lheo" + ATTRIBUTES + rb">\s*<(?:[\w.-]+:)?offres" + ATTRIBUTES + rb">"
)
_VERSION = re.compile(rb"""(?:\xef\xbb\xbf)?\s*<\?xml\s+version\s*=\s*["']([^"']*)["']""")
_UTF8_BOM = b"\xef\xbb\xbf"
# Encodings where every markup character is its ASCII byte, so byte searches find markup.
_ASCII_COMPATIBLE = frozenset(
    ("UTF-8", "UTF8", "US-ASCII", "ASCII", "ISO-8859-1", "LATIN1", "LATIN-1", "ISO-8859-15")
)
_PLACEHOLDER_STEP = 1 << 20
STAND_IN_NAMESPACE = "urn:x-lheo-sync-hub:split"
STAND_IN_TAG = f"{{{STAND_IN_NAMESPACE}}}formation"
"""The element that stands for the n-th formation in the skeleton (attribute ``n``)."""


@lru_cache(maxsize=16)
def _head_hash(head: bytes) -> hashlib._Hash:
    return hashlib.sha256(head)


@dataclass(frozen=True, slots=True)
class FlowContext:
    """What a formation needs to be parsed alone: its document's declaration and opening tags."""

    head: bytes
    """XML declaration + ``<lheo ...><offres ...>``, on one line, in the flow's encoding."""
    tail: bytes
    encoding: str
    version: str
    namespace: str

    def raw_hash(self, chunk: bytes) -> str:
        """Same hash, same bytes in the same context: the formation reads the same."""
        digest = _head_hash(self.head).copy()
        digest.update(chunk)
        return digest.hexdigest()


@dataclass(slots=True)
class RawFormation:
    """One formation's bytes as found in the flow, not yet parsed."""

    chunk: bytes
    line: int
    """Line of ``<formation`` in the flow."""
    numero: str | None
    """The ``numero`` attribute as written (entities unresolved): only a lookup key."""
    raw_hash: str
    newlines: int


def flow_context(head: bytes, encoding: str, version: str, namespace: str) -> FlowContext | None:
    """The context of a flow whose first bytes are ``head``, or None if it cannot be split.

    Flows in an encoding whose markup is not plain ASCII bytes, in an XML version other than
    1.0, with a UTF-8 byte order mark that contradicts the declared encoding, or whose
    ``<offres>`` does not open right after ``<lheo>`` within the first bytes, are read by the
    streaming parser instead.
    """
    if encoding.upper() not in _ASCII_COMPATIBLE:
        return None
    if head.startswith(_UTF8_BOM) and encoding.upper() not in ("UTF-8", "UTF8"):
        return None
    declared = _VERSION.match(head)
    if declared is not None and declared.group(1) != b"1.0":
        return None
    found = _ROOT_TAGS.search(head)
    if found is None:
        return None
    opening = _ONE_LINE.sub(_on_one_line, found.group())
    root_name = opening[1 : re.search(rb"[\s>]", opening).start()]  # type: ignore[union-attr]
    offres_name = re.search(rb"<((?:[\w.-]+:)?offres)", opening).group(1)  # type: ignore[union-attr]
    tail = b"</" + offres_name + b"></" + root_name + b">"
    return FlowContext(xml_declaration(encoding) + opening, tail, encoding, version, namespace)


_ONE_LINE = re.compile(rb"\"[^\"]*\"|'[^']*'|\s+")


def _on_one_line(found: re.Match[bytes]) -> bytes:
    """White space between names one space; in a value, each line end one space, as XML
    normalises it (so the values read the same)."""
    text = found.group()
    if text[:1] not in (b'"', b"'"):
        return b" "
    return text.replace(b"\r\n", b" ").replace(b"\r", b" ").replace(b"\n", b" ")


_STAND_IN = b'<s:formation xmlns:s="' + STAND_IN_NAMESPACE.encode() + b'" n="%d"/>'


def stand_in(index: int, newlines: int = 0) -> bytes:
    """The element that stands for the ``index``-th formation (from 0) in the skeleton,
    followed by the formation's lines (see :func:`placeholder`)."""
    if not newlines:
        return _STAND_IN % index
    if newlines <= _PLACEHOLDER_STEP:
        return _STAND_IN % index + b"<!--" + b"\n" * newlines + b"-->"
    return _STAND_IN % index + placeholder(newlines)


def placeholder(newlines: int) -> bytes:
    """What keeps a formation's lines in the skeleton: as many lines, and nothing else.

    Comments, which the skeleton's parser drops, each under libxml2's 10 MB limit on one
    text or comment node (plain newlines would add up to one huge text node).
    """
    step = _PLACEHOLDER_STEP
    return (
        b"".join(
            b"<!--" + b"\n" * min(step, newlines - start) + b"-->"
            for start in range(0, newlines, step)
        )
        or b"<!---->"
    )


def formation_parser() -> etree.XMLParser:
    """The parser options both paths read formations with: comments and PIs are no content."""
    return etree.XMLParser(
        remove_blank_text=True,
        remove_comments=True,
        remove_pis=True,
        resolve_entities="internal",  # none can be declared: DOCTYPEs are refused
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )


def parse_alone(context: FlowContext, raw: RawFormation) -> etree._Element:
    """The formation element of ``raw``, parsed inside its document's opening tags.

    Line numbers are relative to ``raw.line``. Raises :class:`SplitMismatch` unless the
    bytes are well-formed alone and hold exactly one formation of the flow's namespace,
    nothing before or after it: the splitter cut something libxml2 would not read so.
    """
    chunk = raw.chunk
    start_tag = START_TAG.match(chunk)
    last = chunk.rfind(b"</")
    if start_tag is None or not (
        start_tag.end() == len(chunk)
        if start_tag.group(1)
        else _LAST_END_TAG.fullmatch(chunk, max(last, 0))
    ):
        raise SplitMismatch("the bytes cut as a formation are not one formation", line=raw.line)
    parser = formation_parser()
    try:
        parser.feed(context.head)
        parser.feed(raw.chunk)
        parser.feed(context.tail)
        root = parser.close()
    except etree.XMLSyntaxError as exc:
        raise SplitMismatch(
            f"the bytes cut as a formation are not well-formed alone: "
            f"{readable_message(str(exc.msg))}",
            line=raw.line,
        ) from exc
    offres = root[0] if len(root) == 1 else None
    if offres is None or len(offres) != 1 or offres.text is not None:
        raise SplitMismatch("the bytes cut as a formation hold other markup", line=raw.line)
    element = offres[0]
    tag = str(element.tag)
    if tag != f"{{{context.namespace}}}formation" or element.tail is not None:
        raise SplitMismatch(
            f"the bytes cut as a formation hold <{tag}>, not one formation of {context.namespace}",
            line=raw.line,
        )
    return element
