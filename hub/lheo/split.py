"""The fast path of reading a flow: split it into raw ``<formation>`` chunks, parse each alone.

Building an lxml tree costs about three times what libxml2 needs just to check the bytes, so a
big flow is first cut into the raw bytes of each formation with plain byte searches, which lets
the hub skip an unchanged formation by the hash of its raw bytes before any parsing, and parse
the others in worker processes. Everything else (prolog, gaps, root extras) is the *skeleton*:
it goes through the same safe pull parser as the streaming reader, with each formation replaced
by a stand-in element and as many newlines as it spans, so the deletions are read as before.
A formation is then parsed alone inside a copy of its document's opening tags, which gives
exactly what the streaming reader gives, line numbers shifted back to the document's.

The cutter follows the lexical rules that matter: comments, CDATA sections and processing
instructions are skipped whole (they may hide a ``</formation>``), start tags are read with
their attributes (which may hold ``>``), end tags may carry white space before ``>``, names
may carry a prefix, formations may be self-closing or nested (depth is counted). It cannot
prove every input right, so libxml2 has the last word: the skeleton's parser must meet every
stand-in as a child of the root's ``<offres>`` and no formation there that was not cut, and
each chunk must parse alone as exactly one formation of the flow's namespace. Anything else
raises :class:`~hub.errors.SplitMismatch`, and the flow is read again by the streaming parser.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from lxml import etree

from hub.errors import SplitMismatch
from hub.lheo.paths import readable_message

_OPEN, _CLOSE = b"<formation", b"</formation"
_NAME_END = frozenset(b" \t\r\n/>")
"""What may follow ``<formation`` when the name is complete."""
_CLOSE_NAME_END = frozenset(b" \t\r\n>")
_NCNAME = rb"[A-Za-z_\x80-\xff][\w.\x80-\xff-]*"
_PREFIX = re.compile(_NCNAME)
_ATTRIBUTES = (
    rb"(?:[ \t\r\n]+[^ \t\r\n=/<>\"']+[ \t\r\n]*=[ \t\r\n]*(?:\"[^\"<]*\"|'[^'<]*'))*[ \t\r\n]*"
)
_START_TAG = re.compile(rb"<(?:" + _NCNAME + rb":)?formation" + _ATTRIBUTES + rb"(/?)>")
_END_TAG_REST = re.compile(rb"[ \t\r\n]*>")
_LAST_END_TAG = re.compile(rb"</(?:" + _NCNAME + rb":)?formation[ \t\r\n]*>")
_BLANK_TO_END = re.compile(rb"[ \t\r\n]*\Z")
_ROOT_TAGS = re.compile(
    rb"<(?:[\w.-]+:)?lheo" + _ATTRIBUTES + rb">\s*<(?:[\w.-]+:)?offres" + _ATTRIBUTES + rb">"
)
_NUMERO = re.compile(rb"""[ \t\r\n]numero[ \t\r\n]*=[ \t\r\n]*(?:"([^"]*)"|'([^']*)')""")
_VERSION = re.compile(rb"""(?:\xef\xbb\xbf)?\s*<\?xml\s+version\s*=\s*["']([^"']*)["']""")
_UTF8_BOM = b"\xef\xbb\xbf"
# Encodings where every markup character is its ASCII byte, so byte searches find markup.
_ASCII_COMPATIBLE = frozenset(
    ("UTF-8", "UTF8", "US-ASCII", "ASCII", "ISO-8859-1", "LATIN1", "LATIN-1", "ISO-8859-15")
)
READ_SIZE = 1 << 20
MAX_PENDING = 128 << 20
"""Bytes the cutter may hold without finding where a formation (or a comment) ends: past it,
the flow is left to the streaming parser, whose memory does not grow."""
_MAX_TAG = 1 << 20
_PLACEHOLDER_STEP = 1 << 20
STAND_IN_NAMESPACE = "urn:x-lheo-sync-hub:split"
STAND_IN_TAG = f"{{{STAND_IN_NAMESPACE}}}formation"
"""The element that stands for the n-th formation in the skeleton (attribute ``n``)."""


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


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
    declaration = f'<?xml version="1.0" encoding="{encoding}"?>'.encode("ascii")
    root_name = opening[1 : re.search(rb"[\s>]", opening).start()]  # type: ignore[union-attr]
    offres_name = re.search(rb"<((?:[\w.-]+:)?offres)", opening).group(1)  # type: ignore[union-attr]
    tail = b"</" + offres_name + b"></" + root_name + b">"
    return FlowContext(declaration + opening, tail, encoding, version, namespace)


_ONE_LINE = re.compile(rb"\"[^\"]*\"|'[^']*'|\s+")


def _on_one_line(found: re.Match[bytes]) -> bytes:
    """White space between names one space; in a value, each line end one space, as XML
    normalises it (so the values read the same)."""
    text = found.group()
    if text[:1] not in (b'"', b"'"):
        return b" "
    return text.replace(b"\r\n", b" ").replace(b"\r", b" ").replace(b"\n", b" ")


def next_marker(buf: bytes, pos: int) -> int:
    """Where the next comment, CDATA, PI or prefixed formation may start (``len(buf)``: none).

    Searches single bytes (``!``, ``?``), which is far quicker than two-byte needles starting
    with the ubiquitous ``<``, then looks at the byte before each hit. A prefixed name is
    found by its ``:formation`` (the position of the colon is returned).
    """
    found = len(buf)
    for byte in (b"!", b"?"):
        hit = buf.find(byte, pos + 1, found)
        while hit >= 0 and buf[hit - 1] != 0x3C:  # "<"
            hit = buf.find(byte, hit + 1, found)
        if hit >= 0:
            found = hit - 1
    hit = buf.find(b":formation", pos, found)
    return found if hit < 0 else hit


def _named(buf: bytes, needle: bytes, ends: frozenset[int], pos: int) -> int:
    """The next ``needle`` from ``pos`` whose name ends there (``len(buf)``: none).

    A hit in the last bytes, whose next byte is not read yet, counts: the caller asks for more.
    """
    size, length = len(buf), len(needle)
    hit = buf.find(needle, pos)
    while hit >= 0 and hit + length < size and buf[hit + length] not in ends:
        hit = buf.find(needle, hit + 1)
    return size if hit < 0 else hit


class _Hits:
    """The next hit of each needle, kept while the cutter has not passed it.

    Each needle is searched once over the bytes: ``<formation`` from inside a formation also
    finds where the next one starts, and that hit serves the next cut.
    """

    __slots__ = ("close", "close_from", "marker", "marker_from", "open", "open_from")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.open = self.close = self.marker = -1
        self.open_from = self.close_from = self.marker_from = 0

    def next_open(self, buf: bytes, pos: int) -> int:
        if not self.open_from <= pos <= self.open:
            self.open_from, self.open = pos, _named(buf, _OPEN, _NAME_END, pos)
        return self.open

    def next_close(self, buf: bytes, pos: int) -> int:
        if not self.close_from <= pos <= self.close:
            self.close_from, self.close = pos, _named(buf, _CLOSE, _CLOSE_NAME_END, pos)
        return self.close

    def next_marker(self, buf: bytes, pos: int) -> int:
        if not self.marker_from <= pos <= self.marker:
            self.marker_from, self.marker = pos, next_marker(buf, pos)
        return self.marker


def _skipped(buf: bytes, at: int) -> int:
    """The end of the comment, CDATA section or PI at ``at`` (-1: it ends in later bytes)."""
    if buf.startswith(b"<?", at):
        end = buf.find(b"?>", at + 2)
        return end + 2 if end >= 0 else -1
    for opening, closing in ((b"<!--", b"-->"), (b"<![CDATA[", b"]]>")):
        if buf.startswith(opening, at):
            end = buf.find(closing, at + len(opening))
            return end + len(closing) if end >= 0 else -1
        if opening.startswith(buf[at : at + len(opening)]) and at + len(opening) > len(buf):
            return -1  # cut short by the end of the buffer
    raise SplitMismatch("markup starting with <! that is no comment or CDATA section")


def _prefixed(buf: bytes, at: int, colon: int) -> tuple[int, bool, int] | None:
    """The formation tag whose name has a prefix before ``colon``: where it starts, whether it
    is an end tag, where its name ends; None if ``:formation`` there is no such name."""
    tag = buf.rfind(b"<", at, colon)
    end_tag = tag >= 0 and buf.startswith(b"</", tag)
    if tag < 0 or not _PREFIX.fullmatch(buf, tag + 1 + end_tag, colon):
        return None
    name_end = colon + len(b":formation")
    if name_end < len(buf) and buf[name_end] not in (_CLOSE_NAME_END if end_tag else _NAME_END):
        return None
    return tag, end_tag, name_end


def _tag_end(buf: bytes, tag: int, end_tag: bool, name_end: int) -> tuple[int, bool] | None:
    """Where the formation tag at ``tag`` ends and whether it closes itself (None: the tag goes
    on in later bytes). Attribute values may hold ``>``, end tags white space before it."""
    size = len(buf)
    if name_end >= size:
        return None
    if end_tag:
        rest = _END_TAG_REST.match(buf, name_end)
        if rest is not None:
            return rest.end(), False
        if _BLANK_TO_END.match(buf, name_end):
            return None
        raise SplitMismatch("a formation end tag the splitter cannot read")
    start_tag = _START_TAG.match(buf, tag)
    if start_tag is not None:
        return start_tag.end(), bool(start_tag.group(1))
    if buf.find(b"<", tag + 1) < 0 and size - tag <= _MAX_TAG:  # no "<" may come inside
        return None
    raise SplitMismatch("a formation start tag the splitter cannot read")


def _cut(buf: bytes, pos: int, hits: _Hits) -> tuple[int, int] | int:
    """The next formation from ``pos`` as (start, end); or, when more bytes are needed, how far
    the bytes from ``pos`` are skeleton for sure (to hand on a long stretch without formations).

    ``pos`` is outside any markup. The common formation, with no comment, CDATA, PI, prefix
    or formation inside, is cut with one search for its end; a second ``</formation`` before
    the next formation starts means one was nested, and the walk of :func:`_walk` decides.
    Raises :class:`SplitMismatch` on markup it cannot read.
    """
    size = len(buf)
    opening = hits.next_open(buf, pos)
    marker = hits.next_marker(buf, pos)
    if marker < opening or opening + len(_OPEN) >= size:
        return _walk(buf, pos, hits)
    start_tag = _START_TAG.match(buf, opening)
    if start_tag is None or start_tag.group(1):  # cut short, unreadable or self-closing
        return _walk(buf, pos, hits)
    closing = _named(buf, _CLOSE, _CLOSE_NAME_END, start_tag.end())
    name_end = closing + len(_CLOSE)
    if name_end >= size:
        return _walk(buf, pos, hits)
    if buf[name_end] == 0x3E:  # ">"
        end = name_end + 1
    else:
        rest = _END_TAG_REST.match(buf, name_end)
        if rest is None:
            return _walk(buf, pos, hits)
        end = rest.end()
    following = hits.next_open(buf, end)
    if marker < end or buf.find(_CLOSE, end, following) >= 0:
        return _walk(buf, pos, hits)
    return opening, end


def _walk(buf: bytes, pos: int, hits: _Hits) -> tuple[int, int] | int:
    """:func:`_cut` token by token: comments, CDATA and PIs skipped whole, prefixed names,
    formations nested at any depth."""
    size = len(buf)
    at, depth, start = pos, 0, pos
    while True:
        marker = hits.next_marker(buf, at)
        opening = hits.next_open(buf, at)
        closing = hits.next_close(buf, at) if depth else size
        first = min(marker, opening, closing)
        if first >= size:
            if depth:
                return start
            last = buf.rfind(b"<", at)  # a name or a comment may be cut short here
            return size if last < 0 else last
        if first == marker:
            if buf[marker] == 0x3C:  # "<!" or "<?"
                skipped = _skipped(buf, marker)
                if skipped < 0:
                    return start if depth else marker
                at = skipped
                continue
            found = _prefixed(buf, at, marker)
            if found is None:
                at = marker + 1
                continue
            tag, end_tag, name_end = found
        elif first == closing:
            tag, end_tag, name_end = first, True, first + len(_CLOSE)
        else:
            tag, end_tag, name_end = first, False, first + len(_OPEN)
        ended = _tag_end(buf, tag, end_tag, name_end)
        if ended is None:
            return start if depth else tag
        at, self_closing = ended
        if end_tag:
            if not depth:
                raise SplitMismatch("a formation end tag outside any formation")
            depth -= 1
            if not depth:
                return start, at
        elif not self_closing:
            if not depth:
                start = tag
            depth += 1
        elif not depth:
            return tag, at


def split_flow(
    stream: Readable, context: FlowContext
) -> Iterator[tuple[bytes, RawFormation | None]]:
    """Cut a flow into (skeleton bytes, formation) pairs, in document order.

    The skeleton bytes precede the formation; the last pair has no formation. Memory holds one
    read buffer and the formation being cut, whatever the size of the flow.
    """
    buf, pos, line, eof = b"", 0, 1, False
    hits = _Hits()
    while True:
        found = _cut(buf, pos, hits)
        if isinstance(found, tuple):
            start, end = found
            skeleton, chunk = buf[pos:start], buf[start:end]
            line += skeleton.count(b"\n")
            raw = _raw(chunk, line, context)
            yield skeleton, raw
            line += raw.newlines
            pos = end
            continue
        if eof:
            yield buf[pos:], None
            return
        if found - pos > READ_SIZE:  # a long stretch without formations (root extras)
            skeleton = buf[pos:found]
            line += skeleton.count(b"\n")
            yield skeleton, None
            pos = found
        if len(buf) - pos > MAX_PENDING:
            raise SplitMismatch(f"no formation ends within {MAX_PENDING >> 20} MiB", line=line)
        data = stream.read(READ_SIZE)
        eof = not data
        buf, pos = buf[pos:] + data, 0
        hits.reset()


def _raw(chunk: bytes, line: int, context: FlowContext) -> RawFormation:
    numero = _NUMERO.search(chunk, 0, chunk.find(b">"))  # a lookup key: a miss costs a parse
    written = None if numero is None else numero.group(1) or numero.group(2) or b""
    return RawFormation(
        chunk,
        line,
        None if written is None else written.decode(context.encoding, "replace"),
        context.raw_hash(chunk),
        chunk.count(b"\n"),
    )


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
    start_tag = _START_TAG.match(chunk)
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
