"""The fast path of reading a flow: split it into raw ``<formation>`` chunks, parse each alone.

Building an lxml tree costs about three times what libxml2 needs just to check the bytes, so a
big flow is first cut into the raw bytes of each formation with plain byte searches, which lets
the hub skip an unchanged formation by the hash of its raw bytes before any parsing, and parse
the others in worker processes. Everything else (prolog, gaps, root extras) is the *skeleton*:
it goes through the same safe pull parser as before, with each formation replaced by as many
newlines as it spans, so well-formedness errors keep their line and the deletions are read as
before. A formation is then parsed alone inside a copy of its document's opening tags, which
gives exactly what the streaming reader gives, line numbers shifted back to the document's.

Comments, CDATA sections and processing instructions could hide a ``</formation>``; where one
appears near a formation, that stretch is tokenised properly (slower, still correct).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from lxml import etree

_START, _END = b"<formation", b"</formation>"
_AFTER_NAME = frozenset(b" \t\r\n/>")
_TOKEN = re.compile(
    rb"<!--.*?(?:-->|\Z)|<!\[CDATA\[.*?(?:\]\]>|\Z)|<\?.*?(?:\?>|\Z)"
    rb"|<(/?)(?:[A-Za-z_][\w.-]*:)?formation(?=[\s/>])",
    re.S,
)
_TERMINATORS = (b"-->", b"]]>", b"?>")
_ATTRIBUTES = rb"(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*\s*"
_ROOT_TAGS = re.compile(
    rb"<(?:[\w.-]+:)?lheo" + _ATTRIBUTES + rb">\s*<(?:[\w.-]+:)?offres" + _ATTRIBUTES + rb">"
)
_NUMERO = re.compile(rb"""\snumero\s*=\s*(["'])([^"'<]*)\1""")
_START_TAG = re.compile(rb"<(?:[\w.-]+:)?formation" + _ATTRIBUTES + rb"/?>")
# Encodings where every markup character is its ASCII byte, so byte searches find markup.
_ASCII_COMPATIBLE = frozenset(
    ("UTF-8", "UTF8", "US-ASCII", "ASCII", "ISO-8859-1", "LATIN1", "LATIN-1", "ISO-8859-15")
)
READ_SIZE = 1 << 20


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


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
        return hashlib.sha256(self.head + chunk).hexdigest()


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

    Flows in an encoding whose markup is not plain ASCII bytes, or whose ``<offres>`` does not
    open within the first bytes, are read by the streaming parser instead.
    """
    if encoding.upper() not in _ASCII_COMPATIBLE:
        return None
    found = _ROOT_TAGS.search(head)
    if found is None:
        return None
    opening = re.sub(rb"\s+", b" ", found.group())
    declaration = f'<?xml version="1.0" encoding="{encoding}"?>'.encode("ascii")
    root_name = opening[1 : re.search(rb"[\s>]", opening).start()]  # type: ignore[union-attr]
    offres_name = re.search(rb"<((?:[\w.-]+:)?offres)", opening).group(1)  # type: ignore[union-attr]
    tail = b"</" + offres_name + b"></" + root_name + b">"
    return FlowContext(declaration + opening, tail, encoding, version, namespace)


def _tokenised(buf: bytes, pos: int) -> tuple[int, int] | None:
    """(start, end) of the next formation from ``pos``, skipping comments, CDATA and PIs.

    None when ``buf`` ends before the formation (or a comment around it) does.
    """
    start = None
    for token in _TOKEN.finditer(buf, pos):
        if token.group(1) is None:
            if not token.group().endswith(_TERMINATORS):
                return None
            continue
        if token.group(1) == b"/" and start is not None:
            close = buf.find(b">", token.end())
            return None if close < 0 else (start, close + 1)
        if token.group(1) == b"" and start is None:
            start = token.start()
    return None


def next_marker(buf: bytes, pos: int) -> int:
    """Where the next comment, CDATA, PI or prefixed formation may start (``len(buf)``: none).

    Searches single bytes (``!``, ``?``), which is far quicker than two-byte needles starting
    with the ubiquitous ``<``, then looks at the byte before each hit.
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


def _next_formation(buf: bytes, pos: int, marker: int) -> tuple[int, int] | None:
    """(start, end) of the next formation in ``buf`` from ``pos``; None if not complete yet.

    ``marker`` is :func:`next_marker` from ``pos`` or before: where the quick search stops
    being safe and the stretch must be tokenised.
    """
    start = buf.find(_START, pos)
    while (
        start >= 0
        and start + len(_START) < len(buf)
        and buf[start + len(_START)] not in _AFTER_NAME
    ):
        start = buf.find(_START, start + 1)
    end = buf.find(_END, max(start, pos)) if start >= 0 else -1
    stop = len(buf) if end < 0 else end + len(_END)
    if marker < stop:
        return _tokenised(buf, pos)
    if start < 0 or end < 0 or start + len(_START) >= len(buf):
        return None
    return start, end + len(_END)


def split_flow(
    stream: Readable, context: FlowContext
) -> Iterator[tuple[bytes, RawFormation | None]]:
    """Cut a flow into (skeleton bytes, formation) pairs, in document order.

    The skeleton bytes precede the formation; the last pair has no formation. Memory holds one
    read buffer and the formation being cut, whatever the size of the flow.
    """
    buf, pos, line, eof = b"", 0, 1, False
    marker = 0
    while True:
        if marker < pos:
            marker = next_marker(buf, pos)
        found = _next_formation(buf, pos, marker)
        if found is None:
            if eof:
                yield buf[pos:], None
                return
            data = stream.read(READ_SIZE)
            eof = not data
            pending = buf[pos:]
            if len(pending) > READ_SIZE and next_marker(pending, 0) == len(pending):
                # a long stretch without formations (root extras): pass it on, keep a tail in
                # case a formation's name straddles two reads
                skeleton, pending = pending[:-64], pending[-64:]
                line += skeleton.count(b"\n")
                yield skeleton, None
            buf, pos, marker = pending + data, 0, -1
            continue
        start, end = found
        skeleton, chunk = buf[pos:start], buf[start:end]
        line += skeleton.count(b"\n")
        raw = _raw(chunk, line, context)
        yield skeleton, raw
        line += raw.newlines
        pos = end


def _raw(chunk: bytes, line: int, context: FlowContext) -> RawFormation:
    start_tag = _START_TAG.match(chunk)
    numero = _NUMERO.search(start_tag.group()) if start_tag else None
    return RawFormation(
        chunk,
        line,
        numero.group(2).decode(context.encoding, "replace") if numero else None,
        context.raw_hash(chunk),
        chunk.count(b"\n"),
    )


def placeholder(newlines: int) -> bytes:
    """What stands for a formation in the skeleton: as many lines, and nothing else.

    Comments, which the skeleton's parser drops, each under libxml2's 10 MB limit on one
    text or comment node (plain newlines would add up to one huge text node).
    """
    step = 1 << 20
    return (
        b"".join(
            b"<!--" + b"\n" * min(step, newlines - start) + b"-->"
            for start in range(0, newlines, step)
        )
        or b"<!---->"
    )


def parse_alone(context: FlowContext, raw: RawFormation) -> etree._Element:
    """The formation element of ``raw``, parsed inside its document's opening tags.

    Raises ``etree.XMLSyntaxError`` with line numbers relative to ``raw.line``.
    """
    parser = etree.XMLParser(
        remove_blank_text=True,
        resolve_entities="internal",  # none can be declared: DOCTYPEs are refused
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )
    parser.feed(context.head)
    parser.feed(raw.chunk)
    parser.feed(context.tail)
    root = parser.close()
    return root[0][0]
