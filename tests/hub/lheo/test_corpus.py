"""The synthetic LHEO corpus: deterministic, valid where it says so, realistic enough to test on."""

from __future__ import annotations

import csv
import importlib.util
import io
from collections import Counter
from collections.abc import Iterator, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

import pytest
from lxml import etree

from hub.lheo.schema import NS_22, NS_23, xml_schema
from simulators.corpus import (
    CorpusSpec,
    CorpusStats,
    GeneratedFormation,
    formation_numero,
    formation_xml,
    iter_formations,
    write_corpus,
    write_formations,
)
from simulators.corpus import text as corpus_text
from simulators.corpus.parts import upper
from simulators.corpus.places import communes, luhn_valid

REPO = Path(__file__).resolve().parents[3]
ONLY_23 = (
    "type-contact",
    "code-type-formation",
    "SIRET-lieu-formation",
    "code-UAI-lieu-formation",
    "code-UAI-formateur",
    "code-UAI-organisme-formation",
    "url-session",
    "contact-session",
    "recrutement",
    "equipement",
    "reference-certification",
    "blocs-competences",
    "cycle",
    "code-RS",
    "code-CPF",
    "denomination",
    "enseignement",
)
Version = Literal["2.2", "2.3"]
LANGUAGE_FORMACODES = {"15235", "15040", "15043", "15022", "15030", "15031", "15281"}


@cache
def _formations(version: Version, invalid_share: float = 0.0) -> tuple[GeneratedFormation, ...]:
    spec = CorpusSpec(
        formations=300, seed=3, version=version, regions=("*",), invalid_share=invalid_share
    )
    return tuple(iter_formations(spec))


def _document(
    spec: CorpusSpec, encoding: str = "UTF-8", deletions: Sequence[str] = ()
) -> tuple[bytes, CorpusStats]:
    out = io.BytesIO()
    stats = write_corpus(out, spec, encoding=encoding, deletions=deletions)
    return out.getvalue(), stats


def _ns(version: Version) -> dict[str, str]:
    return {"l": NS_23 if version == "2.3" else NS_22}


def test_same_spec_gives_the_same_bytes() -> None:
    spec = CorpusSpec(formations=60, seed=42, regions=("84", "93"), invalid_share=0.1)
    first, _ = _document(spec)
    second, _ = _document(spec)
    assert first == second
    other, _ = _document(CorpusSpec(formations=60, seed=43, regions=("84", "93")))
    assert other != first


def test_formation_xml_regenerates_the_ith_record_alone() -> None:
    spec = CorpusSpec(formations=40, seed=5, invalid_share=0.2)
    records = list(iter_formations(spec))
    for index in (0, 7, 39):
        assert formation_xml(spec, index) == records[index]
    assert records[7].numero == formation_numero(spec, 7) == "F_AF_0000000008"
    # A record does not depend on how many records the corpus has.
    assert formation_xml(CorpusSpec(formations=1_000, seed=5, invalid_share=0.2), 7) == records[7]


@pytest.mark.parametrize("version", ["2.3", "2.2"])
def test_valid_records_validate_against_the_official_xsd(version: Version) -> None:
    schema = xml_schema(version)
    for generated in _formations(version):
        element = etree.fromstring(generated.xml)
        assert element.tag == f"{{{_ns(version)['l']}}}formation"
        assert generated.valid
        assert schema.validate(element), (generated.numero, schema.error_log.last_error)


@pytest.mark.parametrize("version", ["2.3", "2.2"])
def test_invalid_records_fail_the_xsd_and_say_why(version: Version) -> None:
    schema = xml_schema(version)
    records = _formations(version, 0.3)
    invalid = [g for g in records if not g.valid]
    assert 50 < len(invalid) < 130
    assert len({g.defect for g in invalid}) >= 5
    for generated in records:
        assert schema.validate(etree.fromstring(generated.xml)) == generated.valid, generated.defect


def test_lheo_22_records_hold_no_23_only_element() -> None:
    for generated in _formations("2.2"):
        element = etree.fromstring(generated.xml)
        names = {etree.QName(child).localname for child in element.iter()}
        assert not names & set(ONLY_23), generated.numero
        for action in element.iterfind("l:action", _ns("2.2")):
            assert len(action.findall("l:lieu-de-formation", _ns("2.2"))) == 1
            assert len(action.findall("l:organisme-formateur", _ns("2.2"))) <= 1


def test_stats_match_the_document() -> None:
    spec = CorpusSpec(formations=120, seed=9, invalid_share=0.05)
    data, stats = _document(spec)
    root = etree.fromstring(data)
    ns = _ns("2.3")
    assert stats.formations == len(root.findall("l:offres/l:formation", ns)) == 120
    assert stats.actions == len(root.findall(".//l:action", ns))
    assert stats.sessions == len(root.findall(".//l:session", ns))
    assert stats.bytes == len(data)
    assert stats.invalid == sum(not g.valid for g in iter_formations(spec))
    assert stats.language == sum(g.language for g in iter_formations(spec))


def test_mean_actions_and_sessions_follow_the_spec() -> None:
    _, stats = _document(CorpusSpec(formations=400, seed=1))
    assert 2.2 < stats.actions / stats.formations < 2.8
    assert 2.1 < stats.sessions / stats.actions < 2.7


def test_whole_document_validates_and_lists_deletions() -> None:
    spec = CorpusSpec(formations=30, seed=2, version="2.2")
    data, _ = _document(spec, deletions=["F_AF_0000000099", "R&D_<1>"])
    root = etree.fromstring(data)
    assert xml_schema("2.2").validate(root), xml_schema("2.2").error_log.last_error
    extras = root.find("l:extras[@info='suppressions']", _ns("2.2"))
    assert extras is not None
    assert [e.text for e in extras] == ["F_AF_0000000099", "R&D_<1>"]
    assert all(e.get("info") == "numero" for e in extras)
    no_deletions, _ = _document(spec)
    assert b"suppressions" not in no_deletions


def test_iso_8859_1_output_parses_and_validates() -> None:
    spec = CorpusSpec(formations=60, seed=4, regions=("*",), language_share=0.5)
    data, stats = _document(spec, encoding="ISO-8859-1")
    assert data.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')
    assert "é".encode("latin-1") in data
    root = etree.fromstring(data)
    assert xml_schema("2.3").validate(root)
    utf8, _ = _document(spec)
    assert etree.tostring(etree.fromstring(utf8), method="c14n") == etree.tostring(
        root, method="c14n"
    )
    assert stats.bytes == len(data) < len(utf8)


def test_unsupported_encoding_is_refused() -> None:
    with pytest.raises(ValueError, match="UTF-8 or ISO-8859-1"):
        write_corpus(io.BytesIO(), CorpusSpec(formations=1), encoding="UTF-16")


def test_language_share_is_roughly_respected() -> None:
    records = list(iter_formations(CorpusSpec(formations=400, seed=8, language_share=0.25)))
    language = [g for g in records if g.language]
    assert 0.18 < len(language) / len(records) < 0.32
    ns = _ns("2.3")
    for generated in language:
        element = etree.fromstring(generated.xml)
        codes = {e.text for e in element.iterfind("l:domaine-formation/l:code-FORMACODE", ns)}
        assert codes & LANGUAGE_FORMACODES, generated.numero
    assert not any(g.language for g in iter_formations(CorpusSpec(formations=50, language_share=0)))


def test_language_offers_look_like_the_real_ones() -> None:
    ns = _ns("2.3")
    spec = CorpusSpec(formations=300, seed=6, language_share=1.0)
    titles, financeurs, certifinfo, dispositifs = Counter[str](), set(), set(), set()
    for generated in iter_formations(spec):
        element = etree.fromstring(generated.xml)
        title = element.findtext("l:intitule-formation", namespaces=ns) or ""
        titles[title.split(" ")[0]] += 1
        financeurs |= {e.text for e in element.iterfind(".//l:code-financeur", ns)}
        certifinfo |= {e.text for e in element.iterfind(".//l:code-CERTIFINFO", ns)}
        dispositifs |= {e.text for e in element.iterfind(".//l:extras/l:extra[@info='type']", ns)}
    assert {"Français", "Alphabétisation", "OEPRE", "Formation"} <= set(titles)
    assert {"19", "20"} <= financeurs  # État-Intérieur and OFII exist in LHEO 2.3
    assert {"46907", "76101"} & certifinfo  # DELF A1 / A2
    assert {"ASL", "OEPRE"} <= dispositifs


def test_places_are_real_communes_of_the_requested_regions() -> None:
    communes = {
        row["code_insee"]: row
        for row in csv.DictReader(
            io.StringIO(
                resources.files("simulators.corpus").joinpath("communes.csv").read_text("utf-8")
            )
        )
    }
    ns = _ns("2.3")
    for generated in iter_formations(CorpusSpec(formations=80, seed=1, regions=("53", "04"))):
        for adresse in etree.fromstring(generated.xml).iterfind(".//l:adresse", ns):
            commune = communes[adresse.findtext("l:code-INSEE-commune", namespaces=ns) or ""]
            assert adresse.findtext("l:region", namespaces=ns) == commune["region"]
            assert commune["region"] in ("53", "04")
            assert adresse.findtext("l:codepostal", namespaces=ns) in commune["codes_postaux"]
            assert adresse.findtext("l:departement", namespaces=ns) == commune["departement"]


def test_sirets_pass_the_luhn_check() -> None:
    ns = _ns("2.3")
    for generated in _formations("2.3"):
        for siret in etree.fromstring(generated.xml).iterfind(".//l:SIRET", ns):
            assert siret.text and len(siret.text) == 14 and luhn_valid(siret.text)


def test_a_revision_is_the_same_offer_updated() -> None:
    spec = CorpusSpec(formations=10, seed=12)
    ns = _ns("2.3")
    for index in range(10):
        before = etree.fromstring(formation_xml(spec, index).xml)
        after = etree.fromstring(formation_xml(spec, index, revision=1).xml)
        assert xml_schema("2.3").validate(after)
        assert before.get("numero") == after.get("numero")
        assert before.get("datecrea") == after.get("datecrea")
        assert before.get("datemaj", "") < after.get("datemaj", "")
        for path in ("l:intitule-formation", "l:organisme-formation-responsable"):
            same_before, same_after = before.find(path, ns), after.find(path, ns)
            assert same_before is not None and same_after is not None
            assert etree.tostring(same_before) == etree.tostring(same_after)


def test_forced_datemaj_is_used_everywhere() -> None:
    data, _ = _document(CorpusSpec(formations=10, datemaj="20250301"))
    root = etree.fromstring(data)
    dated = [e for e in root.iter() if e.get("datemaj") is not None]
    assert len(dated) > 30
    assert {e.get("datemaj") for e in dated} == {"20250301"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"formations": -1}, "formations"),
        ({"formations": 1, "invalid_share": 1.5}, "invalid_share"),
        ({"formations": 1, "regions": ("99",)}, "unknown region"),
        ({"formations": 1, "datemaj": "2025-03-01"}, "YYYYMMDD"),
        ({"formations": 1, "version": "2.1"}, "version"),
    ],
)
def test_bad_specs_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CorpusSpec(**kwargs)  # type: ignore[arg-type]


def test_packaged_communes_cover_every_departement() -> None:
    path = resources.files("simulators.corpus").joinpath("communes.csv")
    rows = list(csv.DictReader(io.StringIO(path.read_text("utf-8"))))
    per_departement = Counter(row["departement"] for row in rows)
    assert len(per_departement) == 101
    assert {"971", "972", "973", "974", "976"} <= set(per_departement)
    # Paris is a single commune; every other département keeps at least its 3 largest.
    assert per_departement.pop("75") == 1
    assert min(per_departement.values()) >= 3
    assert len(path.read_bytes()) < 1_000_000


def test_bench_generate_cli_writes_a_corpus(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = importlib.util.spec_from_file_location("bench_generate", REPO / "bench/generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "corpus.xml"
    argv = ["--out", str(out), "--formations", "20", "--version", "2.2", "--regions", "11,84"]
    assert module.main([*argv, "--encoding", "ISO-8859-1", "--invalid-share", "0.1"]) == 0
    printed = capsys.readouterr().out
    assert "formations       20" in printed
    root = etree.parse(str(out)).getroot()
    assert root.tag == f"{{{NS_22}}}lheo"
    assert len(root.findall("l:offres/l:formation", _ns("2.2"))) == 20


def _codes(path: Path, column: str) -> set[str]:
    with path.open(encoding="utf-8") as handle:
        return {row[column] for row in csv.DictReader(handle)}


def test_codes_come_from_the_reference_tables(shared: Path) -> None:
    tables = shared / "lheo" / "dictionaries"
    publics = _codes(tables / "formacode-v14-publics-vises.csv", "code_formacode_v14")
    inclusion = _codes(tables / "formacode-v14-domaines-inclusion-fle.csv", "code_formacode_v14")
    certifinfo = _codes(tables / "certifinfo-trefle-2020.csv", "code_certifinfo")
    with (tables / "lheo-2.3-dictionnaires.csv").open(encoding="utf-8") as handle:
        financeurs = {
            r["code"] for r in csv.DictReader(handle) if r["dictionnaire"] == "dict-financeurs"
        }
    ns = _ns("2.3")
    spec = CorpusSpec(formations=200, seed=4, regions=("*",), language_share=0.4)
    for generated in iter_formations(spec):
        element = etree.fromstring(generated.xml)
        assert {e.text for e in element.iterfind(".//l:code-public-vise", ns)} <= publics
        assert {e.text for e in element.iterfind(".//l:code-financeur", ns)} <= financeurs
        assert {e.text for e in element.iterfind(".//l:code-CERTIFINFO", ns)} <= certifinfo
        if generated.language:
            codes = {e.text for e in element.iterfind("l:domaine-formation/l:code-FORMACODE", ns)}
            assert codes <= inclusion


def test_write_formations_builds_a_delta_of_chosen_records() -> None:
    spec = CorpusSpec(formations=20, seed=7, version="2.2")
    changed = [formation_xml(spec, index, revision=1) for index in (3, 5)]
    created = [formation_xml(spec, 20)]
    out = io.BytesIO()
    stats = write_formations(
        out, changed + created, version="2.2", encoding="ISO-8859-1", deletions=["F_AF_0000000001"]
    )
    root = etree.fromstring(out.getvalue())
    assert xml_schema("2.2").validate(root)
    numeros = [f.get("numero") for f in root.iterfind("l:offres/l:formation", _ns("2.2"))]
    assert numeros == ["F_AF_0000000004", "F_AF_0000000006", "F_AF_0000000021"]
    assert stats.formations == 3
    assert stats.sessions == sum(g.sessions for g in changed + created)
    assert b"xmlns" not in out.getvalue().split(b"<offres>")[1]
    with pytest.raises(ValueError, match=r"not an LHEO 2\.3 formation"):
        write_formations(io.BytesIO(), changed, version="2.3")


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif hasattr(value, "__slots__"):
        for name in value.__slots__:
            yield from _strings(getattr(value, name))


def test_every_text_source_stays_within_latin_1() -> None:
    vocabulary = [v for name, v in vars(corpus_text).items() if name.isupper()]
    for value in _strings(vocabulary):
        value.encode("latin-1")
    for commune in communes():
        commune.nom.encode("latin-1")
        upper(commune.nom).encode("latin-1")
