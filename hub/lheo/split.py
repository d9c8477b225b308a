"""The fast path of reading a flow, first step: cut it into raw ``<formation>`` chunks.

Building an lxml tree costs about three times what libxml2 needs just to check the bytes, so a
big flow is first cut into the raw bytes of each formation with plain byte searches, which lets
the hub skip an unchanged formation by the hash of its raw bytes before any parsing, and parse
the others in worker processes (:mod:`hub.lheo.chunk`). Everything else (prolog, gaps, root
extras) is the *skeleton*, which the reader parses safely (:mod:`hub.lheo.document`).

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

import re
from collections.abc import Iterator
from typing import Protocol

from hub.errors import SplitMismatch
from hub.lheo.chunk import NCNAME, START_TAG, FlowContext, RawFormation

_OPEN, _CLOSE = b"<formation", b"</formation"
_NAME_END = frozenset(b" \t\r\n/>")
"""What may follow ``<formation`` when the name is complete."""
_CLOSE_NAME_END = frozenset(b" \t\r\n>")
_PREFIX = re.compile(NCNAME)
_END_TAG_REST = re.compile(rb"[ \t\r\n]*>")
_BLANK_TO_END = re.compile(rb"[ \t\r\n]*\Z")
_NUMERO = re.compile(rb"""[ \t\r\n]numero[ \t\r\n]*=[ \t\r\n]*(?:"([^"]*)"|'([^']*)')""")
READ_SIZE = 1 << 20
MAX_PENDING = 128 << 20
"""Bytes the cutter may hold without finding where a formation (or a comment) ends: past it,
the flow is left to the streaming parser, whose memory does not grow."""
_MAX_TAG = 1 << 20


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


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
    start_tag = START_TAG.match(buf, tag)
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
    start_tag = START_TAG.match(buf, opening)
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
