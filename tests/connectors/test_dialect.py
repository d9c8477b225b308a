"""Dialect hooks and Emfor's flags: repaired offers stay valid LHEO, every fix is named.

A dialect's ``fix`` runs inside the hub's one read of the archived bytes, before the XSD
judges the formation; the file itself is never rewritten.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

import pytest
from lheo_factory import document, formation
from lxml import etree

from connectors.dialect import scan_lheo
from connectors.emfor.connector import EmforDialect
from connectors.emfor.quality import (
    NUMERO_ACTIVITE_PLACEHOLDER,
    SIRET_PLACEHOLDER,
    flag_organismes,
    luhn_valid,
)
from hub.errors import FatalFetchError
from hub.lheo.dialect import Dialect, Flag, Part
from hub.lheo.reader import LheoReader
from hub.lheo.record import FormationRecord
from hub.lheo.schema import NS_22, NS_23
from hub.pipeline.read import fix_and_mark, flag_findings
from simulators.emfor import EmforSimulator

PART = Part(name="offres.xml", path=Path("/nonexistent"), sha256="", size_bytes=0)


class Essai(Dialect):
    """Flags F2, whatever it holds."""

    fixes = True

    def fix(self, formation: etree._Element, part: Part) -> list[Flag]:
        return [Flag("essai", "un défaut")] if formation.get("numero") == "F2" else []


def read(data: bytes, dialect: Dialect) -> tuple[LheoReader, list[FormationRecord]]:
    reader = LheoReader(io.BytesIO(data), fix=functools.partial(fix_and_mark, dialect, PART))
    return reader, list(reader)


def test_scan_counts_and_finds_the_newest_datemaj() -> None:
    body = io.BytesIO(
        document(
            [formation("F1", datemaj="20250101"), formation("F2", datemaj="20250301")],
            deletions=["F9"],
        )
    )
    scan = scan_lheo(body, expected="2.3")
    assert (scan.formations, scan.deletions, scan.max_datemaj) == (2, ["F9"], "20250301")
    assert body.tell() == 0 and not scan.empty
    with pytest.raises(FatalFetchError, match=r"LHEO 2\.3 where the source sends 2\.2"):
        scan_lheo(body, expected="2.2")


def test_a_hook_flags_inside_the_one_read_and_keeps_version_encoding_and_deletions() -> None:
    data = document(
        [formation("F1"), formation("F2")], version="2.2", encoding="ISO-8859-1", deletions=["F7"]
    )
    reader, records = read(data, Essai())
    assert reader.version == "2.2" and reader.encoding == "ISO-8859-1", "nothing rewritten"
    assert [r.numero for r in records] == ["F1", "F2"] and all(r.valid for r in records)
    assert reader.deletions == ["F7"]
    assert records[0].flags == [] and records[1].flags == [Flag("essai", "un défaut")]
    extras = records[1].element.find(f"{{{NS_23}}}extras[@info='qualite-source']")
    assert extras is not None and extras[0].get("info") == "essai" and extras[0].text == "un défaut"
    [finding] = flag_findings(records[1])
    assert finding.stage == "flag" and finding.kept and finding.numero == "F2"
    assert finding.line == records[1].line and "essai" in finding.reason


def test_a_formation_without_numero_is_rejected_at_its_line() -> None:
    text = document([formation("F1"), formation("F2")]).replace(b' numero="F2"', b"", 1)
    _, records = read(text, Essai())
    assert [r.numero for r in records] == ["F1", None]
    [error] = records[1].errors
    assert "no numero" in error.reason and error.line == 4


@pytest.mark.parametrize(
    ("siret", "valid"),
    [
        ("73282932000074", True),
        ("73282932000075", False),
        ("35600000000010", True),
        ("00000000000000", True),
    ],
)
def test_luhn(siret: str, valid: bool) -> None:
    assert luhn_valid(siret) is valid


def responsable(numero_activite: str | None, siret: str | None) -> etree._Element:
    parts = [f'<formation xmlns="{NS_23}"><organisme-formation-responsable numero="OF1">']
    if numero_activite is not None:
        parts.append(f"<numero-activite>{numero_activite}</numero-activite>")
    if siret is not None:
        parts.append(
            f"<SIRET-organisme-formation><SIRET>{siret}</SIRET></SIRET-organisme-formation>"
        )
    parts.append("<nom-organisme>MJC</nom-organisme></organisme-formation-responsable></formation>")
    return etree.fromstring("".join(parts))


@pytest.mark.parametrize(
    ("numero_activite", "siret", "codes", "kept_siret"),
    [
        ("27210012321", "73282932000074", [], "73282932000074"),
        (None, None, ["numero-activite-absent", "siret-absent"], SIRET_PLACEHOLDER),
        ("", "", ["numero-activite-absent", "siret-absent"], SIRET_PLACEHOLDER),
        ("EN COURS", "NC", ["numero-activite-invalide", "siret-invalide"], SIRET_PLACEHOLDER),
        ("27210012321", "732829320", ["siret-invalide"], SIRET_PLACEHOLDER),
        ("27210012321", "732 829 320 00074", ["siret-reformate"], "73282932000074"),
        ("27210012321", "73282932000075", ["siret-cle-invalide"], "73282932000075"),
    ],
)
def test_emfor_flags(
    numero_activite: str | None, siret: str | None, codes: list[str], kept_siret: str
) -> None:
    element = responsable(numero_activite, siret)
    flags = flag_organismes(element)
    assert [flag.code for flag in flags] == codes
    organisme = element[0]
    names = [etree.QName(child).localname for child in organisme]
    assert names[:3] == ["numero-activite", "SIRET-organisme-formation", "nom-organisme"]
    assert organisme[1][0].text == kept_siret
    if "numero-activite-absent" in codes or "numero-activite-invalide" in codes:
        assert organisme[0].text == NUMERO_ACTIVITE_PLACEHOLDER
    assert all("OF1" in flag.detail for flag in flags)


def test_the_simulated_export_needs_the_flags_and_passes_the_xsd_with_them() -> None:
    system = EmforSimulator(formations=20, seed=3, structure_share=0.5)
    body, _ = system.export()
    raw = list(LheoReader(io.BytesIO(body)))
    broken = {r.numero for r in raw if not r.valid}
    structures = system.structure_numeros()
    assert broken and broken <= structures, "only structures break the XSD"
    reader, records = read(body, EmforDialect())
    assert reader.namespace == NS_22 and all(r.valid for r in records)
    assert {r.numero for r in records if r.flags} == structures, "every structure is flagged"
