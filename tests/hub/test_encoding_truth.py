"""Mojibake never reaches the store: a flow's bytes must be in the encoding it declares.

A UTF-8 file that declares ISO-8859-1 (or the reverse) is refused whole with a problem that
names the declared encoding and the first line concerned; a source configured with
``assume_encoding`` gets it repaired instead, flagged in the flow's report.
"""

from __future__ import annotations

import io

import pytest
from lheo_factory import document, formation
from sqlalchemy import select

from hub.errors import EncodingMismatchError
from hub.lheo.encoding import EncodingCheck, sniff
from hub.pipeline.ingest import ingest
from hub.publish.feed import write_lheo
from hub.settings import Settings, SourceSettings
from hub.store import Store
from hub.store.tables import FLOWS, REJECTIONS

OFFER = [formation("F1"), formation("F2", intitule="Français langue étrangère, niveau A2")]


def mislabelled_utf8() -> bytes:
    """UTF-8 bytes under an ISO-8859-1 declaration, as some exports write them."""
    return document(OFFER).replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"')


def mislabelled_latin1() -> bytes:
    return document(OFFER, encoding="ISO-8859-1").replace(
        b'encoding="ISO-8859-1"', b'encoding="UTF-8"'
    )


def first_non_ascii_line(data: bytes) -> int:
    offset = next(i for i, byte in enumerate(data) if byte > 0x7F)
    return data.count(b"\n", 0, offset) + 1


def flows(store: Store) -> list[tuple[str, str | None]]:
    with store.engine.connect() as connection:
        return [tuple(r) for r in connection.execute(select(FLOWS.c.status, FLOWS.c.error))]  # type: ignore[misc]


@pytest.mark.parametrize(
    ("data", "declared"), [(mislabelled_utf8(), "ISO-8859-1"), (mislabelled_latin1(), "UTF-8")]
)
def test_a_body_that_lies_about_its_encoding_is_refused_with_its_line(
    store: Store, data: bytes, declared: str
) -> None:
    with pytest.raises(EncodingMismatchError) as raised:
        ingest(store, io.BytesIO(data), source="emfor", region="27", kind="snapshot")
    assert raised.value.line == first_non_ascii_line(data)
    assert f"declares {declared}" in str(raised.value)
    assert b"".join(write_lheo(store.engine)) == b"", "nothing stored"
    [(status, error)] = flows(store)
    assert status == "failed" and error is not None and declared in error


def test_an_honest_latin1_file_is_read_as_latin1(store: Store) -> None:
    data = document(OFFER, encoding="ISO-8859-1")
    result = ingest(store, io.BytesIO(data), source="emfor", region="27", kind="snapshot")
    assert result.counts.created == 2 and result.encoding == "ISO-8859-1"
    assert "Français langue étrangère".encode() in b"".join(write_lheo(store.engine))


def test_a_source_may_have_its_mislabelled_flows_repaired_and_flagged(store: Store) -> None:
    settings = Settings(
        sources={
            "emfor": SourceSettings(
                name="emfor", connector="emfor", region="27", url="http://127.0.0.1:1",
                assume_encoding="UTF-8",
            )
        }
    )  # fmt: skip
    data = mislabelled_utf8()
    result = ingest(
        store, io.BytesIO(data), source="emfor", region="27", kind="snapshot", settings=settings
    )
    assert result.status == "applied" and result.counts.created == 2
    feed = b"".join(write_lheo(store.engine)).decode("utf-8")
    assert "Français langue étrangère" in feed and "FranÃ§ais" not in feed
    [repair] = [e for e in result.rejections if e.stage == "repair"]
    assert repair.kept and repair.line == first_non_ascii_line(data)
    assert "declares ISO-8859-1 but is in UTF-8" in repair.reason
    with store.engine.connect() as connection:
        stored = connection.execute(select(REJECTIONS.c.stage, REJECTIONS.c.reason)).all()
    assert [stage for stage, _ in stored] == ["repair"]


def test_the_check_passes_every_byte_through_unchanged() -> None:
    data = document(OFFER, encoding="ISO-8859-1")
    check = EncodingCheck(io.BytesIO(data))
    out = b""
    while chunk := check.read(7):
        out += chunk
    assert out == data


def test_sniff_tells_the_truth_about_each_case() -> None:
    assert not sniff(io.BytesIO(document(OFFER))).lies
    assert not sniff(io.BytesIO(document(OFFER, encoding="ISO-8859-1"))).lies
    lie = sniff(io.BytesIO(mislabelled_utf8()))
    assert (lie.declared, lie.actual) == ("ISO-8859-1", "UTF-8") and lie.lies
    assert sniff(io.BytesIO(mislabelled_latin1())).actual == "ISO-8859-1"
    ascii_only = b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<lheo/>\n'
    assert not sniff(io.BytesIO(ascii_only)).lies, "pure ASCII is both: no lie"
