"""The fast path (split into raw formations, parse each alone) reads exactly what the reader reads.

Every document here is read both ways, and the records (numero, datemaj, line, errors with
their line and path, canonical fragment, content hash, provenance) and deletions must be equal.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from lheo_factory import document, formation

from hub.errors import LheoError, MalformedXmlError, UnsafeXmlError
from hub.lheo.corpus import CorpusSpec, write_corpus
from hub.lheo.reader import FormationRecord, LheoReader
from hub.lheo.schema import NS_23
from hub.lheo.split import next_marker, placeholder


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
    classic = LheoReader(io.BytesIO(data))
    expected = list(classic)
    fast = LheoReader(stream(data))
    assert fast.context is not None
    records = [fast.read(raw) for raw in fast.split()]
    assert [facts(r) for r in records] == [facts(r) for r in expected]
    assert fast.deletions == classic.deletions
    assert all(r.raw_hash for r in records)
    return records


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
    with pytest.raises(error) as split:
        for raw in fast.split():
            fast.read(raw)
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
