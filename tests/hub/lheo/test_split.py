"""The fast path (split into raw formations, parse each alone) reads exactly what the reader reads.

Every document here is read both ways, and the records (numero, datemaj, line, errors with
their line and path, canonical fragment, content hash, provenance), deletions and document
errors must be equal. Where the cut and libxml2 could disagree the fast path raises
SplitMismatch instead, and ingest reads the flow again with the streaming parser
(:func:`read_as_ingest`); the tests say which inputs may take that way, and that the others
never do.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from lheo_factory import document, formation

from hub.errors import LheoError, MalformedXmlError, SplitMismatch, UnsafeXmlError
from hub.lheo import reader as reader_module
from hub.lheo.chunk import FlowContext, RawFormation, parse_alone, placeholder
from hub.lheo.reader import LheoReader
from hub.lheo.record import FormationRecord
from hub.lheo.schema import NS_23
from hub.lheo.split import next_marker, split_flow
from simulators.corpus import CorpusSpec, write_corpus


class Trickle(io.BytesIO):
    """A stream that hands out a few bytes per read after the prolog, as a slow socket would."""

    def read(self, size: int | None = -1) -> bytes:
        if self.tell() == 0:
            return super().read(size)
        return super().read(7 if size is None or size < 0 else min(size, 7))


def facts(record: FormationRecord) -> tuple[Any, ...]:
    return (
        record.numero,
        record.datemaj,
        record.line,
        record.errors,
        record.fragment,
        record.content_hash,
        record.provenance,
    )


def both_ways(data: bytes, stream: type[io.BytesIO] = io.BytesIO) -> list[FormationRecord]:
    """Read ``data`` both ways, the fast path without falling back; the same records."""
    classic = LheoReader(io.BytesIO(data))
    expected = list(classic)
    fast = LheoReader(stream(data))
    assert fast.context is not None
    records = [fast.read(raw) for raw in fast.split()]
    assert [facts(r) for r in records] == [facts(r) for r in expected]
    assert fast.deletions == classic.deletions
    assert fast.document_errors == classic.document_errors
    assert all(r.raw_hash for r in records)
    return records


@dataclass
class Reading:
    """What :func:`read_as_ingest` read, and which way: fast, fell back or streaming."""

    reader: LheoReader
    records: list[FormationRecord]
    way: str


def read_as_ingest(data: bytes) -> Reading:
    """Read ``data`` as ingest does: the fast path, or again with the streaming parser."""
    reader = LheoReader(io.BytesIO(data))
    if reader.context is None:
        return Reading(reader, list(reader), "streaming")
    try:
        return Reading(reader, [reader.read(raw) for raw in reader.split()], "fast")
    except SplitMismatch:
        reader = LheoReader(io.BytesIO(data))
        return Reading(reader, list(reader), "fell back")


def falls_back(data: bytes) -> Reading:
    """``data`` is refused by the fast path alone, and ingest reads it as the streaming reader."""
    fast = LheoReader(io.BytesIO(data))
    with pytest.raises(SplitMismatch):
        for raw in fast.split():
            fast.read(raw)
    reading = read_as_ingest(data)
    classic = LheoReader(io.BytesIO(data))
    assert [facts(r) for r in reading.records] == [facts(r) for r in classic]
    assert reading.reader.document_errors == classic.document_errors
    assert reading.way == "fell back"
    return reading


def corpus(**options: Any) -> bytes:
    out = io.BytesIO()
    write_corpus(out, CorpusSpec(formations=40, seed=3, regions=("*",), **options))
    return out.getvalue()


@pytest.mark.parametrize("version", ["2.2", "2.3"])
def test_a_generated_corpus_with_invalid_records_reads_the_same(version: str) -> None:
    records = both_ways(corpus(version=version, invalid_share=0.3))
    assert any(r.errors for r in records) and any(r.valid for r in records)


def test_iso_8859_1_and_deletions_read_the_same() -> None:
    offers = [formation("F1", intitule="Atelier à Besançon"), formation("F2", sessions=3)]
    both_ways(document(offers, version="2.2", encoding="ISO-8859-1", deletions=["F7", "F8"]))


def test_formations_cut_across_many_small_reads_read_the_same() -> None:
    both_ways(corpus(invalid_share=0.2), stream=Trickle)


def test_comments_cdata_and_instructions_never_cut_a_formation_wrongly() -> None:
    hidden = formation("F9")  # a whole formation inside a comment is not a formation
    tricky = formation("F2").replace(
        "<certifiante>",
        "<!-- </formation> --><?hub </formation>?><certifiante>",
    )
    cdata = formation("F3", contenu="<![CDATA[ a </formation> <formation> in text ]]>")
    data = document([formation("F1"), f"<!-- {hidden} -->", tricky, "<?pi x?>", cdata])
    records = both_ways(data)
    assert [r.numero for r in records] == ["F1", "F2", "F3"]
    assert all(r.valid for r in records)


def test_millions_of_lines_of_formations_do_not_make_one_huge_skeleton_node() -> None:
    tall = "\n" * 900_000 + "<intitule-formation>"
    data = document([formation(f"F{i}").replace("<intitule-formation>", tall) for i in range(12)])
    classic = list(LheoReader(io.BytesIO(data)))
    fast = LheoReader(io.BytesIO(data))
    records = [fast.read(raw) for raw in fast.split()]  # 10.8 million lines in placeholders
    assert [(r.numero, r.line) for r in records] == [(r.numero, r.line) for r in classic]
    assert records[-1].line > 9_900_000 and all(r.valid for r in records)
    assert placeholder(3) == b"<!--\n\n\n-->" and placeholder(0) == b"<!---->"
    assert placeholder(3 << 20).count(b"<!--") == 3


def test_a_prefixed_formation_is_found() -> None:
    offer = formation("F1").replace("<formation ", f'<l:formation xmlns:l="{NS_23}" ', 1)
    offer = offer.replace("</formation>", "</l:formation>")
    [record] = both_ways(document([offer, formation("F2")]))[:1]
    assert record.numero == "F1"


def test_a_formation_named_alike_is_not_a_formation() -> None:
    data = document([formation("F1")]).replace(b"<offres>", b"<offres><!---->", 1)
    both_ways(data.replace(b"</offres>", b"<formations-x/></offres>"))


@pytest.mark.parametrize(
    ("mangle", "error"),
    [
        (lambda d: d[: len(d) * 2 // 3], MalformedXmlError),
        (lambda d: d.replace(b"&amp;xxe;", b"&xxe;"), (UnsafeXmlError, MalformedXmlError)),
        (lambda d: d.replace(b"</offres>", b"</offre>"), MalformedXmlError),
        (lambda d: d.replace(b'<formation numero="F2"', b"<formation numero=F2"), LheoError),
    ],
    ids=["truncated", "entity", "skeleton", "start-tag"],
)
def test_malformed_flows_fail_the_same_way_at_the_same_line(mangle: Any, error: Any) -> None:
    before = [formation(f"A{i}", sessions=3) for i in range(80)]  # past the 64 KiB prolog
    offers = [*before, formation("F1"), formation("F2", intitule="&xxe;"), formation("F3")]
    data = mangle(document(offers))
    assert len(data) > 2 * 64 * 1024  # the fault is not in the prolog
    with pytest.raises(error) as classic:
        list(LheoReader(io.BytesIO(data)))
    fast = LheoReader(io.BytesIO(data))
    with pytest.raises(SplitMismatch):  # the fast path cannot tell a bad cut from bad XML
        for raw in fast.split():
            fast.read(raw)
    with pytest.raises(error) as split:  # so ingest reads it again, and libxml2 says
        read_as_ingest(data)
    assert type(split.value) is type(classic.value)
    assert split.value.line == classic.value.line


def test_a_flow_that_cannot_be_split_says_so() -> None:
    data = document([formation("F1")]).replace(b"<offres>", b"<!-- x --><offres>")
    assert LheoReader(io.BytesIO(data)).context is None
    utf16 = document([formation("F1")]).decode().replace('"UTF-8"', '"UTF-16"').encode("utf-16")
    assert LheoReader(io.BytesIO(utf16)).context is None


def test_the_same_bytes_hash_the_same_and_other_bytes_do_not() -> None:
    one = LheoReader(io.BytesIO(document([formation("F1"), formation("F2")])))
    two = LheoReader(io.BytesIO(document([formation("F1"), formation("F2", sessions=2)])))
    first, second = list(one.split()), list(two.split())
    assert first[0].raw_hash == second[0].raw_hash
    assert first[1].raw_hash != second[1].raw_hash
    latin = LheoReader(io.BytesIO(document([formation("F1")], encoding="ISO-8859-1")))
    assert next(iter(latin.split())).raw_hash != first[0].raw_hash  # another context


def test_markers_are_found_by_the_byte_before_them() -> None:
    assert next_marker(b"<a>Quoi ? Oui !</a>", 0) == len(b"<a>Quoi ? Oui !</a>")
    assert next_marker(b"<a>x</a><!-- y -->", 0) == 8
    assert next_marker(b"<a><?pi?></a>", 0) == 3
    assert next_marker(b"<a><l:formation/></a>", 0) == 5


def test_end_tags_with_white_space_before_the_bracket_are_cut_right() -> None:
    """Defect: ``</formation >`` made the cutter miss the end, losing 4 formations of 5."""
    data = document([formation(f"F{i}") for i in range(5)]).replace(
        b"</formation>", b"</formation >"
    )
    records = both_ways(data)
    assert [r.numero for r in records] == [f"F{i}" for i in range(5)]
    crlf = data.replace(b"</formation >", b"</formation\r\n\t>").replace(b"\n", b"\r\n")
    assert [r.line for r in both_ways(crlf)] == [3, 5, 7, 9, 11]


def test_a_formation_nested_in_another_rejects_the_outer_one_alone() -> None:
    """Defect: the fast path refused the whole flow; now both ways reject the outer one."""
    outer = formation("OUTER").replace(
        "<certifiante>0</certifiante>",
        '<certifiante>0</certifiante><formation numero="INNER"><certifiante>1'
        "</certifiante></formation >",
    )
    records = both_ways(document([formation("A"), outer, formation("B")]))
    assert [(r.numero, r.valid) for r in records] == [("A", True), ("OUTER", False), ("B", True)]
    assert "formation" in records[1].errors[0].path


def test_self_closing_prefixed_and_oddly_written_formations_are_cut_right() -> None:
    prefixed = formation("P1").replace("<formation ", f'<l:formation xmlns:l="{NS_23}" ', 1)
    prefixed = prefixed.replace("</formation>", "</l:formation\n>")
    quoted = formation("Q1").replace('numero="Q1"', "numero = 'Q1'  info='a>b' ")
    offers = [formation("A"), '<formation numero="SELF" />', prefixed, quoted, formation("B")]
    records = both_ways(document(offers))
    assert [r.numero for r in records] == ["A", "SELF", "P1", "Q1", "B"]
    assert not records[1].valid and records[2].valid and records[3].valid


def test_a_flow_written_with_a_prefix_throughout_is_cut_right() -> None:
    text = document([formation("P1"), formation("P2")]).decode()
    text = re.sub(r"<(/?)(?=[a-zA-Z])", r"<\1l:", text).replace("xmlns=", "xmlns:l=")
    records = both_ways(text.replace("</l:formation>", "</l:formation >").encode())
    plain = both_ways(document([formation("P1"), formation("P2")]))
    assert [r.content_hash for r in records] == [r.content_hash for r in plain]


def test_document_errors_are_the_same_both_ways() -> None:
    data = document([formation("A"), "<autre-chose/>", formation("B")], deletions=["D1"])
    data = data.replace(b'<extra info="numero">', b'<bizarre/><extra info="numero">')
    data = data.replace(b"</lheo>", b"<ailleurs/></lheo>")
    records = both_ways(data)
    assert [r.numero for r in records] == ["A", "B"]
    reader = LheoReader(io.BytesIO(data))
    list(reader)
    assert [(e.line, e.path, e.stage, e.numero) for e in reader.document_errors] == [
        (6, "lheo/extras/bizarre", "document", None),
        (4, "lheo/offres/autre-chose", "document", None),
        (6, "lheo/ailleurs", "document", None),
    ]
    empty = document([])
    both_ways(empty)
    [error] = read_as_ingest(empty).reader.document_errors
    assert error.reason == "offres holds no formation; LHEO requires at least one"


@pytest.mark.parametrize(
    "odd",
    [
        pytest.param('<formation xmlns="urn:autre" numero="X"/>', id="foreign-namespace"),
        pytest.param(
            "<formation><formation>1</formation><formation>2</formation></formation>",
            id="nested-twice",
        ),
    ],
)
def test_formations_the_cut_cannot_vouch_for_are_read_by_the_streaming_parser(odd: str) -> None:
    falls_back(document([formation("A"), odd, formation("B")]))


def test_a_formation_outside_offres_is_no_record_either_way() -> None:
    data = document([formation("A")])
    data = data.replace(b"</offres>", b"</offres><extras>" + formation("Z").encode() + b"</extras>")
    reading = falls_back(data)
    assert [r.numero for r in reading.records] == ["A"]
    assert [e.path for e in reading.reader.document_errors] == ["lheo/extras/formation"]


def test_a_fake_root_in_a_comment_is_not_taken_for_the_formations_context() -> None:
    fake = f'<!-- <lheo xmlns="{NS_23}" xmlns:x="urn:x"><offres> -->\n'.encode()
    data = document([formation("A")]).replace(b"<lheo ", fake + b"<lheo ", 1)
    falls_back(data)


def _cutting(doctor: Any) -> Any:
    """A split_flow whose pairs pass through ``doctor``: a cutter bug, made on purpose."""

    def cut(stream: Any, context: FlowContext) -> Iterator[tuple[bytes, RawFormation | None]]:
        yield from doctor(list(split_flow(stream, context)), context)

    return cut


def test_a_formation_the_cutter_missed_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    def miss_the_second(pairs: list[Any], context: FlowContext) -> Iterator[Any]:
        (gap1, first), (gap2, second), *rest = pairs
        yield gap1, first
        yield gap2 + second.chunk + rest[0][0], rest[0][1]  # its bytes left in the skeleton
        yield from rest[1:]

    monkeypatch.setattr(reader_module, "split_flow", _cutting(miss_the_second))
    data = document([formation("A"), formation("B"), formation("C")])
    reader = LheoReader(io.BytesIO(data))
    with pytest.raises(SplitMismatch, match="did not cut"):
        list(reader.split())


def test_a_formation_cut_where_there_is_none_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    def cut_inside_a_comment(pairs: list[Any], context: FlowContext) -> Iterator[Any]:
        (gap1, first), *rest = pairs
        yield gap1 + b"<!-- ", first
        yield b" -->" + rest[0][0], rest[0][1]
        yield from rest[1:]

    monkeypatch.setattr(reader_module, "split_flow", _cutting(cut_inside_a_comment))
    reader = LheoReader(io.BytesIO(document([formation("A"), formation("B")])))
    with pytest.raises(SplitMismatch, match="cut"):
        list(reader.split())


@pytest.mark.parametrize(
    "chunk",
    [
        formation("A") + formation("B"),
        formation("A") + "text",
        formation("A")[:-20],
        formation("A").replace("<formation ", '<formation xmlns="urn:autre" ', 1),
        "<!-- x -->" + formation("A"),
        formation("A") + "<!-- x -->",
        "<x/>",
    ],
    ids=[
        "two",
        "trailing-text",
        "unclosed",
        "foreign",
        "leading-comment",
        "trailing-comment",
        "other",
    ],
)
def test_bytes_that_are_not_one_formation_alone_are_refused(chunk: str) -> None:
    reader = LheoReader(io.BytesIO(document([formation("A")])))
    assert reader.context is not None
    [raw] = list(reader.split())
    bad = replace(raw, chunk=chunk.encode())
    with pytest.raises(SplitMismatch):
        parse_alone(reader.context, bad)
    with pytest.raises(SplitMismatch):
        reader.read(bad)


def test_lines_past_65535_are_exact_on_the_fast_path() -> None:
    """libxml2 keeps an element's line in 16 bits; parsed alone, a formation's lines are small."""
    pretty = formation("F2", financeur="99").replace("><", ">\n<")
    data = document([formation("F1") + "\n" * 70_000, pretty])
    text = data.decode()
    tag = text.count("\n", 0, text.index('<formation numero="F2"')) + 1
    code = text.count("\n", 0, text.index("<code-financeur>99")) + 1
    fast = LheoReader(io.BytesIO(data))
    [_, record] = [fast.read(raw) for raw in fast.split()]
    assert record.line == tag and [e.line for e in record.errors] == [code]
    classic = list(LheoReader(io.BytesIO(data)))[1]
    assert [e.line for e in classic.errors] == [code]  # the error's element holds its text
    assert 0 <= classic.line - tag <= 2  # the first text after the tag: see hub.lheo.reader


def test_formations_of_a_second_offres_are_read_and_it_is_reported() -> None:
    data = document([formation("A")]).replace(
        b"</offres>", b"</offres><offres>" + formation("B").encode() + b"</offres>"
    )
    records = both_ways(data)
    assert [r.numero for r in records] == ["A", "B"]
    [error] = read_as_ingest(data).reader.document_errors
    assert (error.path, error.line) == ("lheo/offres", 4) and "second offres" in error.reason
