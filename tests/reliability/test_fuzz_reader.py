"""Fuzzing the LHEO reader: whatever the bytes, records or an LheoError, never a crash or a hang.

The inputs start from realistic formations of the corpus generator and are mutated the
ways real exports go wrong: elements dropped, duplicated, reordered or renamed; text and
attributes replaced by random text (XML-special and non-Latin-1 characters included);
then, at the byte level, raw markup spliced in, bytes overwritten, the document cut short,
or bytes that are no XML at all. Both ways the hub reads a flow are held to it, and to
each other: the streaming iterator and the fast path (``split`` + ``read``, read again by the
streaming parser when it raises SplitMismatch, as ingest does) must raise alike or yield the
same records, each with the same line and hash, and the same document errors.

``make reliability`` also runs the differential property of tests/hub/lheo/test_differential.py
at length: the same offers in thousands of lexical variants, counted in the table.
"""

from __future__ import annotations

import copy
import io
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis_profiles import bounded
from lxml import etree

from hub.errors import LheoError, SplitMismatch
from hub.lheo.reader import LheoReader
from hub.lheo.schema import NS_22, NS_23
from simulators.corpus import CorpusSpec, formation_xml
from tests.hub.lheo.test_differential import Lexical, differential
from tests.reliability.report import Tally
from tests.reliability.sizes import scale

EXAMPLES = scale(50, 1500)
LEXICAL_VARIANTS = 3000
HANG_SECONDS = 20
SPEC = CorpusSpec(formations=4, seed=7, regions=("84",), invalid_share=0.0)
BASE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<lheo xmlns="'
    + NS_23.encode()
    + b'"><offres>\n'
    + b"\n".join(formation_xml(SPEC, i).xml for i in range(3))
    + b'\n</offres><extras info="suppressions"><extra info="numero">GONE-1</extra></extras>'
    b"</lheo>\n"
)
FUZZ_SETTINGS = bounded(EXAMPLES)

XML_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from("<>&\"' ;]]>?-/=\t\n"),
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
        st.sampled_from("éàçœ€‰—中文😀\u200b\ufeff"),
    ),
    max_size=40,
)
RAW_MARKUP = st.sampled_from(
    [b"<!DOCTYPE lheo [<!ENTITY x 'x'>]>", b"&x;", b"&#0;", b"]]>", b"<![CDATA[", b"<?pi x?>",
     b"<!--", b"</formation>", b"<formation>", b"\x00", b"\xff\xfe", b"\xc3", b"&amp", b"<"]
)  # fmt: skip


class Hang(Exception):
    """The reader took longer than HANG_SECONDS on one input."""


@contextmanager
def watchdog(seconds: float) -> Iterator[None]:
    def expired(_signum: int, _frame: Any) -> None:
        raise Hang(f"the reader did not finish within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _elements(root: etree._Element) -> list[etree._Element]:
    return [e for e in root.iter() if isinstance(e.tag, str) and e.getparent() is not None]


def mutate_tree(data: st.DataObject) -> bytes:
    """The base document with a few structural mutations, serialised in a drawn encoding."""
    root = etree.fromstring(BASE)
    for _ in range(data.draw(st.integers(0, 4), label="mutations")):
        elements = _elements(root)
        if not elements:
            break
        target = data.draw(st.sampled_from(elements), label="element")
        parent = target.getparent()
        assert parent is not None
        operation = data.draw(
            st.sampled_from(["drop", "duplicate", "reorder", "text", "attribute", "rename"])
        )
        if operation == "drop":
            parent.remove(target)
        elif operation == "duplicate":
            target.addnext(copy.deepcopy(target))
        elif operation == "reorder":
            children = list(parent)
            order = data.draw(st.permutations(range(len(children))), label="order")
            for child in children:
                parent.remove(child)
            parent.extend(children[i] for i in order)
        elif operation == "text":
            target.text = data.draw(XML_TEXT, label="text")
        elif operation == "attribute":
            name = data.draw(st.sampled_from(["numero", "datemaj", "datecrea", "info", "x"]))
            target.set(name, data.draw(XML_TEXT, label="value"))
        else:
            local = data.draw(st.sampled_from(["action", "session", "extras", "offres", "zz"]))
            target.tag = f"{{{NS_23}}}{local}"
    if data.draw(st.booleans(), label="as 2.2"):
        text = etree.tostring(root, encoding="unicode").replace(NS_23, NS_22)
        root = etree.fromstring(text.encode())
    encoding = data.draw(st.sampled_from(["UTF-8", "ISO-8859-1", "UTF-16"]), label="encoding")
    return bytes(etree.tostring(root, encoding=encoding, xml_declaration=True))


def mutate_bytes(data: st.DataObject, document: bytes) -> bytes:
    """Byte-level damage: markup spliced in, bytes overwritten, the end cut off."""
    for _ in range(data.draw(st.integers(0, 3), label="byte mutations")):
        at = data.draw(st.integers(0, len(document)), label="at")
        kind = data.draw(st.sampled_from(["splice", "overwrite", "truncate"]))
        if kind == "splice":
            document = document[:at] + data.draw(RAW_MARKUP) + document[at:]
        elif kind == "overwrite":
            patch = data.draw(st.binary(min_size=1, max_size=8), label="bytes")
            document = document[:at] + patch + document[at + len(patch) :]
        else:
            document = document[:at]
    return document


Outcome = tuple[list[tuple[Any, ...]], list[str], list[Any]]


def read_streaming(document: bytes) -> Outcome:
    reader = LheoReader(io.BytesIO(document))
    records = [_summary(record) for record in reader]
    return records, reader.deletions, reader.document_errors


def read_fast_path(document: bytes) -> Outcome | None:
    """The fast path as ingest takes it: read again the streaming way on SplitMismatch."""
    reader = LheoReader(io.BytesIO(document))
    if reader.context is None:
        return None
    try:
        records = [_summary(reader.read(raw)) for raw in reader.split()]
    except SplitMismatch:
        return read_streaming(document)
    return records, reader.deletions, reader.document_errors


def _summary(record: Any) -> tuple[Any, ...]:
    assert record.valid == bool(record.content_hash), "a valid record has a hash, no other"
    for error in record.errors:
        assert error.path and error.reason, error
    return (
        record.numero,
        record.line,
        record.content_hash,
        tuple((e.line, e.path) for e in record.errors),
    )


def check(document: bytes) -> str:
    """Read ``document`` both ways; return the outcome, failing on anything but LheoError."""
    outcomes: list[Any] = []
    with watchdog(HANG_SECONDS):
        for way in (read_streaming, read_fast_path):
            try:
                outcomes.append(way(document))
            except LheoError as error:
                assert str(error) and error.reason, "an LheoError says what was wrong"
                outcomes.append("refused")
    streaming, fast = outcomes
    if fast is not None:
        assert fast == streaming, "the fast path and the streaming reader disagree"
    return "refused" if streaming == "refused" else "read"


def test_the_base_document_reads_cleanly() -> None:
    records, deletions, document_errors = read_streaming(BASE)
    assert len(records) == 3 and all(hash_ for _, _, hash_, _ in records)
    assert deletions == ["GONE-1"] and not document_errors
    assert read_fast_path(BASE) == (records, deletions, document_errors)


def test_mutated_formations_are_read_or_refused_never_crash(figures: Tally) -> None:
    outcomes: list[str] = []

    @FUZZ_SETTINGS
    @given(data=st.data())
    def mutated(data: st.DataObject) -> None:
        document = mutate_bytes(data, mutate_tree(data))
        outcomes.append(check(document))

    mutated()
    figures.count("fuzz_cases", "LHEO reader: mutated formations", len(outcomes))
    assert {"read", "refused"} <= set(outcomes), "the strategies reach both outcomes"


def test_random_bytes_and_text_are_refused_cleanly(figures: Tally) -> None:
    tried: list[str] = []

    @FUZZ_SETTINGS
    @given(
        blob=st.one_of(
            st.binary(max_size=2048),
            XML_TEXT.map(lambda t: f'<?xml version="1.0"?><lheo xmlns="{NS_23}">{t}'.encode()),
            st.binary(max_size=512).map(lambda b: BASE[:200] + b),
        )
    )
    def blobs(blob: bytes) -> None:
        tried.append(check(blob))

    blobs()
    figures.count("fuzz_cases", "LHEO reader: random bytes", len(tried))
    assert "refused" in tried


@pytest.mark.reliability_full
def test_thousands_of_lexical_variants_read_like_the_plain_offer(figures: Tally) -> None:
    """tests/hub/lheo/test_differential.py at length: layout, quotes, prefixes, CDATA,
    references, comments, PIs, CRLF, BOM and encodings are no content, and the fast path
    reads what the streaming parser reads without falling back."""

    def tried(lexical: Lexical) -> None:
        way = "fast path" if lexical.fast else "streaming only"
        figures.count("lexical_variants", f"{way}: {lexical.encoding}")

    differential(LEXICAL_VARIANTS, tried)
    assert figures.counts["lexical_variants"].total() == LEXICAL_VARIANTS
