"""The LHEO reader: versions, encodings, per-record validation, and refusing unsafe XML."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from lheo_factory import document, formation
from lxml import etree

from hub.errors import MalformedXmlError, UnsafeXmlError, UnsupportedLheoError
from hub.lheo.reader import LheoReader
from hub.lheo.schema import NS_23, xml_schema


def read(data: bytes) -> tuple[LheoReader, list]:  # type: ignore[type-arg]
    reader = LheoReader(io.BytesIO(data))
    return reader, list(reader)


def test_anotea_fixture_errors_are_located_precisely(shared: Path) -> None:
    path = shared / "lheo/samples/intercarif-offre-lheo-2.2-anotea-fixture.xml"
    with path.open("rb") as stream:
        reader = LheoReader(stream)
        records = list(reader)
    assert reader.version == "2.2"
    [record] = records
    assert record.numero == "F_XX_XX"
    assert not record.valid
    located = [(e.line, e.path) for e in record.errors]
    assert located == [
        (14, "formation[@numero='F_XX_XX']/contact-formation/coordonneFs"),
        (434, "formation[@numero='F_XX_XX']/action/organisme-formateur/SIRET-formateur/SIRET"),
        (
            521,
            "formation[@numero='F_XX_XX']/organisme-formation-responsable/"
            "SIRET-organisme-formation/SIRET",
        ),
        (
            528,
            "formation[@numero='F_XX_XX']/organisme-formation-responsable/"
            "coordonnees-organisme/coordonnees/adresse",
        ),
    ]
    assert "coordonnees" in record.errors[0].reason
    assert "maximum length of '14'" in record.errors[1].reason
    assert all(e.numero == "F_XX_XX" for e in record.errors)


def test_lheo_index_summaries_are_refused_with_a_reason(shared: Path) -> None:
    path = shared / "lheo/samples/intercarif-lheo-index-2.2-idf-2017.xml"
    with path.open("rb") as stream, pytest.raises(UnsupportedLheoError, match="lheo-index"):
        LheoReader(stream)


@pytest.mark.parametrize("version", ["2.2", "2.3"])
def test_valid_formations_come_out_canonical_in_the_2_3_namespace(version: str) -> None:
    data = document([formation("F1", sessions=2), formation("F2")], version=version)
    reader, records = read(data)
    assert reader.version == version
    assert [r.numero for r in records] == ["F1", "F2"]
    assert all(r.valid for r in records)
    for record in records:
        assert record.element is not None
        assert etree.QName(record.element).namespace == NS_23
        assert record.fragment.startswith(f'<formation xmlns="{NS_23}"'.encode())
        assert xml_schema("2.3").validate(etree.fromstring(record.fragment))


def test_the_same_offer_has_the_same_hash_in_2_2_and_2_3_and_any_layout() -> None:
    offer = formation("F1")
    _, [from_22] = read(document([offer], version="2.2"))
    _, [from_23] = read(document([offer], version="2.3"))
    pretty = etree.tostring(etree.fromstring(document([offer])), pretty_print=True)
    _, [from_pretty] = read(pretty)
    assert from_22.content_hash == from_23.content_hash == from_pretty.content_hash
    _, [changed] = read(document([formation("F1", intitule="Français - niveau B1")]))
    assert changed.content_hash != from_23.content_hash


def test_export_timestamps_and_hub_provenance_do_not_change_the_hash() -> None:
    _, [plain] = read(document([formation("F1")]))
    stamped = formation("F1").replace(
        '<formation numero="F1"', '<formation horodatage-export="2026-11-27T10:00:00" numero="F1"'
    )
    provenance = formation(
        "F1", extra='<extras info="hub-provenance"><extra info="source">idf</extra></extras>'
    )
    _, [from_stamped] = read(document([stamped]))
    _, [from_feed] = read(document([provenance]))
    assert from_stamped.content_hash == plain.content_hash
    assert from_feed.content_hash == plain.content_hash
    assert from_feed.provenance == {"source": "idf"}


def test_iso_8859_1_text_is_read_intact() -> None:
    data = document(
        [formation("F1", intitule="Atelier sociolinguistique à Besançon")],
        version="2.2",
        encoding="ISO-8859-1",
    )
    assert "à".encode("latin-1") in data
    reader, [record] = read(data)
    assert reader.encoding.upper() == "ISO-8859-1"
    assert record.valid
    assert "Atelier sociolinguistique à Besançon".encode() in record.fragment


def test_an_invalid_formation_is_rejected_alone_with_line_and_path() -> None:
    broken = formation("F2").replace("<certifiante>0</certifiante>", "<certifiante>7</certifiante>")
    data = document([formation("F1"), broken, formation("F3")])
    _, records = read(data)
    assert [r.valid for r in records] == [True, False, True]
    [error] = records[1].errors
    assert error.numero == "F2"
    assert error.path == "formation[@numero='F2']/certifiante"
    assert error.line == 4
    assert "certifiante" in error.reason


def test_a_formation_without_numero_is_rejected() -> None:
    nameless = formation("X").replace(' numero="X"', "", 1)
    _, [record] = read(document([nameless]))
    assert not record.valid
    assert "numero" in record.errors[-1].reason


def test_delta_deletions_are_read_from_the_root_extras() -> None:
    reader, records = read(document([formation("F1")], deletions=["F7", "F8"]))
    assert [r.numero for r in records] == ["F1"]
    assert reader.deletions == ["F7", "F8"]


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE lheo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<lheo xmlns="http://lheo.gouv.fr/2.3"><offres>&xxe;</offres></lheo>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<lheo xmlns="http://lheo.gouv.fr/2.3"><offres>&lol3;</offres></lheo>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE lheo SYSTEM "http://lheo.gouv.fr/2.3/lheo.dtd">
<lheo xmlns="http://lheo.gouv.fr/2.3"><offres/></lheo>"""


@pytest.mark.parametrize(
    "payload", [XXE, BILLION_LAUGHS, EXTERNAL_DTD], ids=["xxe", "laughs", "dtd"]
)
def test_unsafe_xml_is_refused_before_parsing(payload: bytes) -> None:
    with pytest.raises(UnsafeXmlError, match="refused") as caught:
        read(payload)
    assert caught.value.line == 2


def test_undeclared_entity_in_the_body_is_refused() -> None:
    data = document([formation("F1", intitule="&xxe;")]).replace(b"&amp;xxe;", b"&xxe;")
    with pytest.raises((UnsafeXmlError, MalformedXmlError)) as caught:
        read(data)
    assert caught.value.line == 3


def test_a_truncated_flow_fails_with_its_line() -> None:
    data = document([formation("F1"), formation("F2"), formation("F3")])
    truncated = data[: len(data) * 2 // 3]
    with pytest.raises(MalformedXmlError) as caught:
        read(truncated)
    assert caught.value.line is not None and caught.value.line >= 3


def test_a_wrong_declared_encoding_is_a_clear_error() -> None:
    data = document([formation("F1", intitule="Français à Besançon")], encoding="ISO-8859-1")
    lying = data.replace(b'encoding="ISO-8859-1"', b'encoding="UTF-8"')
    with pytest.raises(MalformedXmlError, match="UTF-8"):
        read(lying)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00garbage", "line 1"),
        (b'<lheo xmlns="http://lheo.gouv.fr/9.9"><offres/></lheo>', "unknown namespace"),
        (b"<lheo><offres/></lheo>", "unknown namespace"),
        (b'<catalogue xmlns="http://lheo.gouv.fr/2.3"/>', "is not <lheo>"),
    ],
    ids=["empty", "garbage", "version", "no-namespace", "root"],
)
def test_what_is_not_lheo_says_why(data: bytes, message: str) -> None:
    with pytest.raises((MalformedXmlError, UnsupportedLheoError), match=message):
        read(data)


def test_comments_and_instructions_are_no_content() -> None:
    _, [plain] = read(document([formation("F1")]))
    noted = formation("F1").replace(
        "<rythme-formation>", "<!-- revu --><?hub vu?><rythme-formation>", 1
    )
    noted = noted.replace("<nom>Durand</nom>", "<nom>Dur<!-- x -->and</nom>", 1)
    _, [from_noted] = read(document([noted]))
    assert from_noted.content_hash == plain.content_hash
    assert from_noted.fragment == plain.fragment


def test_namespace_declarations_the_formation_does_not_use_are_no_content() -> None:
    _, [plain] = read(document([formation("F1")]))
    declared = document([formation("F1")]).replace(
        b"<lheo ",
        b'<lheo xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        b'xsi:schemaLocation="http://lheo.gouv.fr/2.3 lheo.xsd" xmlns:l="http://lheo.gouv.fr/2.3" ',
    )
    prefixed = formation("F1").replace("<action ", "<l:action ").replace("</action>", "</l:action>")
    _, [from_declared] = read(declared)
    _, [from_prefixed] = read(declared.replace(formation("F1").encode(), prefixed.encode()))
    assert from_declared.fragment == from_prefixed.fragment == plain.fragment


def test_elements_of_another_namespace_keep_theirs() -> None:
    point = '<g:point xmlns:g="urn:geo">45 5</g:point>'
    geo = f'<extras info="geo"><extra info="point">{point}</extra></extras>'
    data = document([formation("F1", extra=geo)]).replace(
        b"<lheo ", b'<lheo xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    )
    _, [record] = read(data)
    assert record.valid and point.encode() in record.fragment
    assert record.fragment.startswith(f'<formation xmlns="{NS_23}"'.encode())


def test_document_errors_name_what_lheo_does_not_put_there() -> None:
    foreign = '<formation xmlns="urn:autre" numero="X"/>'
    data = document([formation("F1"), foreign, "<autre-chose/>"], deletions=["D1"])
    data = data.replace(b'<extras info="suppressions">', b'<extras info="suppressions"><note/>')
    data = data.replace(b"</lheo>", b"<ailleurs/></lheo>")
    reader, records = read(data)
    assert [r.numero for r in records] == ["F1"] and reader.deletions == ["D1"]
    found = [(e.numero, e.line, e.path, e.stage) for e in reader.document_errors]
    assert found == [
        (None, 6, "lheo/extras/note", "document"),
        (None, 4, "lheo/offres/formation", "document"),
        (None, 5, "lheo/offres/autre-chose", "document"),
        (None, 6, "lheo/ailleurs", "document"),
    ]
    assert "urn:autre" in reader.document_errors[1].reason


def test_an_offres_without_formation_is_reported() -> None:
    reader, records = read(document([]))
    assert records == [] and reader.deletions == [] and not reader.only_deletions
    [error] = reader.document_errors
    assert (error.line, error.path) == (2, "lheo/offres")
    assert error.reason == "offres holds no formation; LHEO requires at least one"


def test_a_delta_that_only_deletes_is_told_apart() -> None:
    reader, records = read(document([], deletions=["D1"]))
    assert records == [] and reader.deletions == ["D1"]
    assert reader.document_errors == [] and reader.only_deletions


def test_only_formations_of_the_root_offres_are_records() -> None:
    astray = f"<offres>{formation('ASTRAY')}</offres>".encode()
    data = document([formation("F1")]).replace(
        b"</lheo>", b"<extras>" + astray + b"</extras></lheo>"
    )
    reader, records = read(data)
    assert [r.numero for r in records] == ["F1"]
    assert [e.path for e in reader.document_errors] == ["lheo/extras/offres"]


def test_a_byte_order_mark_that_contradicts_the_declaration_keeps_the_fast_path_away() -> None:
    """libxml2 reads UTF-8 after a UTF-8 byte order mark, whatever the declaration says."""
    utf8 = document([formation("F1", intitule="Français à Besançon")])
    data = b"\xef\xbb\xbf" + utf8.replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"')
    reader, [record] = read(data)
    assert reader.encoding == "ISO-8859-1" and reader.context is None
    assert "Français à Besançon".encode() in record.fragment
    assert LheoReader(io.BytesIO(b"\xef\xbb\xbf" + utf8)).context is not None
