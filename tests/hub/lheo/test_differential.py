"""The same offer in any legal writing reads the same, both ways, as its plain writing does.

An offer (a few formations, some XSD-invalid, root-level deletions, now and then an element
LHEO does not put where it is) is written plainly, then again in a lexical variant drawn by
Hypothesis: white space inside tags and before ``>``, single or double quotes, a namespace
prefix instead of the default namespace (throughout, here and there, or declared on each
formation), CDATA sections, character and entity references, comments and processing
instructions between and inside records (one of them holding ``</formation>``), CRLF line
ends, a UTF-8 byte order mark, ISO-8859-1 or UTF-16.

Each variant is read the streaming way and the way ingest reads it (the fast path, read again
by the streaming parser should it raise SplitMismatch); both must give the same records
(numero, line, fragment, content hash, errors with numero, line, path and reason), deletions
and document errors, and the content hashes and rejections of the plain writing: none of the
above is content. The fast path must never fall back on these variants, only UTF-16 (no byte
search finds its markup) and a comment between ``<lheo>`` and ``<offres>`` keep it away.

``make reliability`` runs the same property much longer (tests/reliability/test_fuzz_reader.py).
"""

from __future__ import annotations

import io
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis_profiles import bounded
from lheo_factory import document, formation
from lxml import etree

from hub.errors import SplitMismatch
from hub.lheo.reader import LheoReader
from hub.lheo.record import FormationRecord
from hub.lheo.schema import NS_23
from simulators.corpus import CorpusSpec, formation_xml

EXAMPLES = 60
CORPUS = CorpusSpec(formations=6, seed=11, regions=("84",), invalid_share=0.4)
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ODD_IN_OFFRES, ODD_IN_LHEO, ODD_IN_EXTRAS = "autre-chose", "ailleurs", "bizarre"
TRICKY_MARKUP = (
    "<!-- </formation> -->",
    '<!-- <formation numero="FAUX"> -->',
    "<?hub </formation>?>",
    "<!-- - -->",
    "<?hub-note a='1'?>",
    "<!---->",
)


# -- the offer ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    formations: tuple[str, ...]
    """Each formation's plain XML, in the LHEO 2.3 namespace of the document."""
    deletions: tuple[str, ...] = ()
    odd: tuple[str, ...] = ()
    """Elements LHEO does not put there: ``ODD_IN_OFFRES``, ``ODD_IN_LHEO``, ``ODD_IN_EXTRAS``."""

    def plain(self) -> bytes:
        """The offer written plainly: the reference the variants must read like."""
        items = list(self.formations)
        if ODD_IN_OFFRES in self.odd:
            items.insert(len(items) // 2, f"<{ODD_IN_OFFRES} info='x'>texte</{ODD_IN_OFFRES}>")
        data = document(items, deletions=self.deletions)
        if ODD_IN_EXTRAS in self.odd and self.deletions:
            data = data.replace(
                b'<extra info="numero">',
                f"<{ODD_IN_EXTRAS}/>".encode() + b'<extra info="numero">',
                1,
            )
        if ODD_IN_LHEO in self.odd:
            data = data.replace(b"</lheo>", f"<{ODD_IN_LHEO}/></lheo>".encode())
        return data


def _corpus_formation(index: int) -> str:
    text = formation_xml(CORPUS, index).xml.decode()
    return text.replace(f' xmlns="{NS_23}"', "", 1)


TITLES = (
    "Français langue étrangère - niveau A2",
    "Cuisine & pâtisserie <niveau 1> : « l'œuvre » 100 € ’",
    'Atelier "théâtre" à Besançon ; ]]> fin',
)
FORMATIONS = st.one_of(
    st.builds(
        lambda numero, title, sessions: formation(numero, intitule=title, sessions=sessions),
        st.sampled_from([f"F{i}" for i in range(1, 9)] + ["F'2", "Fé"]),
        st.sampled_from(TITLES),
        st.integers(1, 3),
    ),
    st.sampled_from(["99", "2"]).map(lambda code: formation("BAD-CODE", financeur=code)),
    st.just(formation("BAD-DATE", debut="2027-01-05")),
    st.just(formation("NAMELESS").replace(' numero="NAMELESS"', "", 1)),
    st.integers(0, CORPUS.formations - 1).map(_corpus_formation),
)
OFFERS = st.builds(
    Offer,
    st.lists(FORMATIONS, min_size=0, max_size=5).map(tuple),
    st.lists(st.sampled_from(["D1", "D2", "D&3"]), max_size=2).map(tuple),
    st.lists(st.sampled_from([ODD_IN_OFFRES, ODD_IN_LHEO, ODD_IN_EXTRAS]), max_size=1).map(tuple),
).filter(lambda offer: offer.formations or offer.deletions or not offer.odd)


# -- its lexical variants --------------------------------------------------------------------


@dataclass(frozen=True)
class Lexical:
    """How a variant writes the same tree; ``seed`` drives the choices made node by node."""

    seed: int
    encoding: str = "UTF-8"
    bom: bool = False
    declaration: bool = True
    crlf: bool = False
    prefix: str = "none"
    """"none", "root" (one prefix throughout), "mixed" (default and prefix, here and there),
    "local" (each formation declares its own prefix, or the default namespace again)."""
    spaces: bool = False
    quotes: str = '"'
    """'"', "'" or "mixed"."""
    indent: bool = False
    texts: bool = False
    """CDATA sections, character and entity references in text and attribute values."""
    markup: bool = False
    """Comments and processing instructions between and inside records."""
    schema_location: bool = False
    between_roots: bool = False
    """A comment between ``<lheo>`` and ``<offres>``: the fast path cannot take the flow."""

    @property
    def fast(self) -> bool:
        """Whether ingest's fast path takes the variant (never falling back when it does)."""
        return self.encoding != "UTF-16" and not self.between_roots


COMMON = st.builds(
    Lexical,
    seed=st.integers(0, 2**32),
    encoding=st.sampled_from(["UTF-8", "ISO-8859-1"]),
    crlf=st.booleans(),
    spaces=st.booleans(),
    quotes=st.sampled_from(['"', "'", "mixed"]),
    indent=st.booleans(),
    markup=st.booleans(),
)
"""What real exports do: layout, quotes, ``</formation >``, CRLF, comments between records."""
ANY = st.builds(
    Lexical,
    seed=st.integers(0, 2**32),
    encoding=st.sampled_from(["UTF-8", "ISO-8859-1", "UTF-16"]),
    bom=st.booleans(),
    declaration=st.booleans(),
    crlf=st.booleans(),
    prefix=st.sampled_from(["none", "root", "mixed", "local"]),
    spaces=st.booleans(),
    quotes=st.sampled_from(['"', "'", "mixed"]),
    indent=st.booleans(),
    texts=st.booleans(),
    markup=st.booleans(),
    schema_location=st.booleans(),
    between_roots=st.integers(0, 9).map(lambda n: n == 0),
)
VARIANTS = st.one_of(COMMON, ANY)


class Writer:
    """Writes an lxml tree of an LHEO document in one :class:`Lexical` variant."""

    def __init__(self, lexical: Lexical) -> None:
        self.lex = lexical
        self.rng = random.Random(lexical.seed)
        self.codec = {"UTF-8": "utf-8", "ISO-8859-1": "iso-8859-1", "UTF-16": "utf-16"}[
            lexical.encoding
        ]
        self.out: list[str] = []

    def chance(self, share: float) -> bool:
        return self.rng.random() < share

    def document(self, root: etree._Element) -> bytes:
        lex, out = self.lex, self.out
        if lex.declaration or lex.encoding != "UTF-8":
            q = self.quote()
            out.append(f"<?xml version={q}1.0{q} encoding={q}{lex.encoding}{q}{self.blank()}?>\n")
        if lex.markup:
            out.append("<!-- export du catalogue -->\n<?hub-export debut?>\n")
        self.element(root, 0, prefix="l" if lex.prefix == "root" else None, top=True)
        if lex.markup:
            out.append("\n<!-- fin -->")
        out.append("\n")
        text = "".join(out)
        if lex.crlf:
            text = text.replace("\n", "\r\n")
        data = text.encode(self.codec, "xmlcharrefreplace")
        if lex.bom and lex.encoding == "UTF-8":
            data = b"\xef\xbb\xbf" + data
        return data

    # -- pieces ----------------------------------------------------------------------------

    def blank(self, at_least: int = 0) -> str:
        """White space where a tag allows it: none, or some when ``spaces`` is drawn."""
        if not self.lex.spaces or not self.chance(0.5):
            return " " * at_least
        return self.rng.choice([" ", "  ", "\n", "\t", "\n  ", " \n\t "])

    def quote(self) -> str:
        if self.lex.quotes == "mixed":
            return self.rng.choice(['"', "'"])
        return self.lex.quotes

    def name(self, element: etree._Element, prefix: str | None) -> str:
        local = etree.QName(element).localname
        return f"{prefix}:{local}" if prefix else local

    def attribute_value(self, value: str, quote: str) -> str:
        escaped = []
        for char in value:
            if char == "&":
                escaped.append("&amp;")
            elif char == "<":
                escaped.append("&lt;")
            elif char == quote:
                escaped.append("&quot;" if quote == '"' else "&apos;")
            elif char in "\t\n\r":
                escaped.append(f"&#{ord(char)};")
            elif self.lex.texts and char != " " and self.chance(0.2):
                escaped.append(self.reference(char))
            else:
                escaped.append(char)
        return "".join(escaped)

    def reference(self, char: str) -> str:
        named = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"}
        if char in named and self.chance(0.5):
            return named[char]
        return f"&#{ord(char)};" if self.chance(0.5) else f"&#x{ord(char):X};"

    def text(self, value: str) -> str:
        """Text content: escaped, and with ``texts``, cut into CDATA and references."""
        if not self.lex.texts or not value.strip():
            return self.escaped(value)
        pieces, start = [], 0
        while start < len(value):
            end = min(len(value), start + self.rng.randint(1, 12))
            piece = value[start:end]
            if (
                self.chance(0.3)
                and "]]" not in piece
                and "]" not in piece[-1:]
                and self.encodable(piece)
            ):
                pieces.append(f"<![CDATA[{piece}]]>")
            else:
                pieces.append(
                    "".join(
                        self.reference(c)
                        if not c.isspace() and self.chance(0.2)
                        else self.escaped(c)
                        for c in piece
                    )
                )
            start = end
        return "".join(pieces)

    def escaped(self, value: str) -> str:
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def encodable(self, value: str) -> bool:
        try:
            value.encode(self.codec)
        except UnicodeEncodeError:
            return False
        return True

    def markup(self) -> str:
        """A comment or a PI where one may stand, now and then (some say ``</formation>``)."""
        if not self.lex.markup or not self.chance(0.15):
            return ""
        return self.rng.choice(TRICKY_MARKUP)

    # -- elements --------------------------------------------------------------------------

    def element(
        self, element: etree._Element, depth: int, prefix: str | None, top: bool = False
    ) -> None:
        lex, out = self.lex, self.out
        local = etree.QName(element).localname
        declarations: list[tuple[str, str]] = []
        if top:
            if lex.prefix == "root":
                declarations.append(("xmlns:l", NS_23))
            else:
                declarations.append(("xmlns", NS_23))
                if lex.prefix == "mixed":
                    declarations.append(("xmlns:l", NS_23))
            if lex.schema_location:
                declarations += [("xmlns:xsi", XSI), ("xsi:schemaLocation", f"{NS_23} lheo.xsd")]
        elif local == "formation" and lex.prefix == "local":
            if self.chance(0.5):
                prefix = self.rng.choice(["f", "lheo", "ns0"])
                declarations.append((f"xmlns:{prefix}", NS_23))
            else:
                prefix = None
                declarations.append(("xmlns", NS_23))
        if lex.prefix == "mixed" and not top:
            prefix = "l" if self.chance(0.4) else None
        name = self.name(element, prefix)
        out.append(f"<{name}")
        for key, value in [*declarations, *element.attrib.items()]:
            q = self.quote()
            written = self.attribute_value(value, q)
            out.append(f"{self.blank(1)}{key}{self.blank()}={self.blank()}{q}{written}{q}")
        children = list(element)
        text = element.text
        if not children and not text:
            inner = self.markup()
            if inner or self.chance(0.3):
                out.append(f"{self.blank()}>{inner}</{name}{self.blank()}>")
            else:
                out.append(f"{self.blank()}/>")
            return
        out.append(f"{self.blank()}>")
        if text:
            out.append(
                self.split_by_markup(self.text(text)) if not children else self.escaped(text)
            )
        for index, child in enumerate(children):
            if top and not index:  # <lheo> then <offres>: layout only, or what the flag says
                out.append("\n" if lex.indent else "")
                out.append("<!-- offres -->" if lex.between_roots else "")
            else:
                self.between(depth + 1)
            self.element(child, depth + 1, prefix)
            if child.tail:
                out.append(self.escaped(child.tail))
        if children:
            self.between(depth)
        out.append(f"</{name}{self.blank()}>")

    def between(self, depth: int) -> None:
        """Between two elements of element-only content: layout, a comment, a PI."""
        if self.lex.indent:
            self.out.append("\n" + "  " * depth)
        self.out.append(self.markup())

    def split_by_markup(self, written: str) -> str:
        """A comment or a PI inside text, where both sides keep a non-blank character."""
        if not self.lex.markup or not self.chance(0.1) or "<" in written or "&" in written:
            return written
        cuts = [i for i in range(1, len(written)) if written[:i].strip() and written[i:].strip()]
        if not cuts:
            return written
        at = self.rng.choice(cuts)
        return written[:at] + self.rng.choice(TRICKY_MARKUP) + written[at:]


def variant(offer: Offer, lexical: Lexical) -> bytes:
    root = etree.fromstring(offer.plain(), etree.XMLParser(remove_blank_text=True))
    return Writer(lexical).document(root)


# -- reading it ------------------------------------------------------------------------------


@dataclass
class Reading:
    records: list[FormationRecord]
    deletions: list[str]
    document_errors: list[Any]
    way: str


def read_streaming(data: bytes) -> Reading:
    reader = LheoReader(io.BytesIO(data))
    records = list(reader)
    return Reading(records, reader.deletions, reader.document_errors, "streaming")


def read_as_ingest(data: bytes) -> Reading:
    """As ingest reads a flow: the fast path, or again with the streaming parser."""
    reader = LheoReader(io.BytesIO(data))
    if reader.context is None:
        return read_streaming(data)
    try:
        records = [reader.read(raw) for raw in reader.split()]
    except SplitMismatch:
        reading = read_streaming(data)
        reading.way = "fell back"
        return reading
    return Reading(records, reader.deletions, reader.document_errors, "fast")


def facts(record: FormationRecord) -> tuple[Any, ...]:
    return (
        record.numero,
        record.datemaj,
        record.line,
        [(e.numero, e.line, e.path, e.reason, e.stage) for e in record.errors],
        record.fragment,
        record.content_hash,
        record.provenance,
    )


def content(reading: Reading) -> tuple[Any, ...]:
    """What does not depend on the writing: no line numbers."""
    return (
        [
            (r.numero, r.content_hash, [(e.numero, e.path, e.reason) for e in r.errors])
            for r in reading.records
        ],
        reading.deletions,
        [(e.path, e.reason, e.stage) for e in reading.document_errors],
    )


def assert_reads_alike(data: bytes, plain: bytes | None = None) -> Reading:
    """Both ways read ``data`` alike (and, given ``plain``, with its content); the ingest one."""
    streaming, ingest = read_streaming(data), read_as_ingest(data)
    assert [facts(r) for r in ingest.records] == [facts(r) for r in streaming.records]
    assert ingest.deletions == streaming.deletions
    assert ingest.document_errors == streaming.document_errors
    if plain is not None:
        assert content(streaming) == content(read_streaming(plain))
    return ingest


def check_variant(offer: Offer, lexical: Lexical) -> Reading:
    """The property, for one offer in one lexical variant."""
    data = variant(offer, lexical)
    reading = assert_reads_alike(data, offer.plain())
    assert reading.way == ("fast" if lexical.fast else "streaming"), (reading.way, data[:300])
    return reading


PROPERTY_SETTINGS = bounded(EXAMPLES)


def differential(examples: int, tried: Callable[[Lexical], None]) -> None:
    """Run the property for ``examples`` (offer, variant) pairs; ``tried`` sees each variant."""

    @settings(PROPERTY_SETTINGS, max_examples=examples)
    @given(offer=OFFERS, lexical=VARIANTS)
    def run(offer: Offer, lexical: Lexical) -> None:
        check_variant(offer, lexical)
        tried(lexical)

    run()


def test_every_lexical_variant_reads_like_the_plain_offer_both_ways() -> None:
    ways: list[bool] = []
    differential(EXAMPLES, lambda lexical: ways.append(lexical.fast))
    assert len(ways) == EXAMPLES and any(ways) and not all(ways)


# -- the defects found, as examples ----------------------------------------------------------


def test_five_formations_ending_in_a_spaced_end_tag_are_five_both_ways() -> None:
    data = document([formation(f"F{i}") for i in range(5)]).replace(
        b"</formation>", b"</formation >"
    )
    reading = assert_reads_alike(data, document([formation(f"F{i}") for i in range(5)]))
    assert [r.numero for r in reading.records] == [f"F{i}" for i in range(5)]
    assert reading.way == "fast"


def test_a_comment_inside_an_action_is_no_content() -> None:
    plain = document([formation("F1")])
    commented = document(
        [formation("F1").replace("<rythme-formation>", "<!-- vu --><rythme-formation>", 1)]
    )
    reading = assert_reads_alike(commented, plain)
    assert reading.way == "fast"
    assert reading.records[0].content_hash == read_streaming(plain).records[0].content_hash


def test_a_nested_formation_rejects_the_outer_one_alone_both_ways() -> None:
    outer = formation("NEST-OUTER").replace(
        "<certifiante>0</certifiante>",
        '<certifiante>0</certifiante><formation numero="NEST-INNER"><certifiante>1'
        "</certifiante></formation>",
    )
    data = document([formation("NEST-A"), outer, formation("NEST-B")])
    reading = assert_reads_alike(data)
    assert reading.way == "fast"
    assert [(r.numero, r.valid) for r in reading.records] == [
        ("NEST-A", True),
        ("NEST-OUTER", False),
        ("NEST-B", True),
    ]


def test_the_writer_writes_the_same_tree() -> None:
    """The variants are the plain offer: lxml reads the same elements, text and attributes."""
    offer = Offer((formation("F1", intitule=TITLES[1]), _corpus_formation(0)), ("D1",))
    plain = etree.fromstring(offer.plain(), etree.XMLParser(remove_blank_text=True))
    lexical = Lexical(seed=3, encoding="ISO-8859-1", crlf=True, prefix="mixed", spaces=True,
                      quotes="mixed", indent=True, texts=True, markup=True)  # fmt: skip
    data = variant(offer, lexical)
    parser = etree.XMLParser(remove_blank_text=True, remove_comments=True, remove_pis=True)
    written = etree.fromstring(data, parser)
    assert [(e.tag, e.text, dict(e.attrib)) for e in written.iter()] == [
        (e.tag, e.text, dict(e.attrib)) for e in plain.iter()
    ]
    assert re.search(rb"<!\[CDATA\[|&#", data) and b"\r\n" in data and b"<l:" in data
