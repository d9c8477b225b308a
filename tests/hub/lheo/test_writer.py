"""hub/lheo/writer.py: what it writes, the reader reads back, in every layout and encoding."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lheo_factory import formation
from lxml import etree

from hub.lheo.reader import LheoReader
from hub.lheo.schema import NAMESPACE_OF
from hub.lheo.writer import (
    Deletion,
    document_head,
    document_tail,
    formation_alone,
    formation_in_document,
    xml_declaration,
)

# Text an XML document can carry (no control characters, no surrogates).
XML_TEXT = st.text(
    st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufffe\uffff"),
    min_size=1,
    max_size=30,
).filter(lambda text: text.strip() == text and text != "")


def _document(
    formations: list[str], deletions: list[str], *, version: str, encoding: str, compact: bool
) -> bytes:
    body = "".join(formations).encode(encoding, "xmlcharrefreplace")
    head = document_head(version, encoding, one_per_line=not compact)  # type: ignore[arg-type]
    return head + body + document_tail(deletions, encoding=encoding, one_per_line=not compact)


@pytest.mark.parametrize("version", ["2.2", "2.3"])
@pytest.mark.parametrize("encoding", ["UTF-8", "ISO-8859-1"])
@pytest.mark.parametrize("compact", [True, False])
def test_what_it_writes_the_reader_reads_and_the_xsd_accepts(
    version: str, encoding: str, compact: bool
) -> None:
    data = _document(
        [formation("F-1"), formation("F-2")],
        ["gone & <old>", "Œuvre-42"],
        version=version,
        encoding=encoding,
        compact=compact,
    )
    reader = LheoReader(io.BytesIO(data))
    records = list(reader)
    assert [r.numero for r in records] == ["F-1", "F-2"]
    assert [r.errors for r in records] == [[], []]
    assert reader.deletions == ["gone & <old>", "Œuvre-42"]
    assert reader.document_errors == []
    root = etree.fromstring(data)
    assert root.tag == f"{{{NAMESPACE_OF[version]}}}lheo"  # type: ignore[index]
    assert data.startswith(xml_declaration(encoding) + b"\n")
    assert data.endswith(b"</lheo>\n")


@given(numeros=st.lists(XML_TEXT, max_size=5))
def test_any_deletion_numero_survives_the_round_trip(numeros: list[str]) -> None:
    for encoding in ("UTF-8", "ISO-8859-1"):
        data = _document([], numeros, version="2.3", encoding=encoding, compact=True)
        reader = LheoReader(io.BytesIO(data), validate=False)
        assert list(reader) == []
        assert reader.deletions == numeros


def test_the_national_feed_names_each_deletion_s_source() -> None:
    tail = document_tail([Deletion("F-1", "dokelio"), Deletion("F&2", 'a"b')])
    assert tail == (
        b'</offres><extras info="suppressions">'
        b'<extra info="numero" ref="dokelio">F-1</extra>'
        b'<extra info="numero" ref=\'a"b\'>F&amp;2</extra>'
        b"</extras></lheo>\n"
    )


def test_no_deletions_no_extras() -> None:
    assert document_tail() == b"</offres></lheo>\n"
    assert document_tail(one_per_line=True) == b"</offres>\n</lheo>\n"


def test_a_formation_moves_between_alone_and_in_a_document() -> None:
    inside = formation("F-1").encode()
    alone = formation_alone(inside)
    assert alone.startswith(b'<formation xmlns="http://lheo.gouv.fr/2.3" numero="F-1"')
    assert etree.fromstring(alone).tag == "{http://lheo.gouv.fr/2.3}formation"
    assert formation_in_document(alone) == inside
    assert formation_in_document(inside) == inside  # nothing to drop
    assert formation_in_document(formation_alone(inside, "2.2"), "2.2") == inside


def test_documents_it_cannot_write_are_refused() -> None:
    with pytest.raises(ValueError, match="UTF-8 or ISO-8859"):
        document_head("2.3", "UTF-16")
    with pytest.raises(ValueError, match="must start with <formation"):
        formation_alone(b'<lheo:formation xmlns:lheo="x"/>')
