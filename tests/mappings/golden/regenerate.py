"""Rebuild the golden harmonisation cases that ``test_mapping_golden.py`` compares against.

Run it from the repository root, and only when a change of harmonised output is intended
(a new rule, a fixed bug), then review the change of ``cases.jsonl.gz`` like code:

    .venv/bin/python tests/mappings/golden/regenerate.py            # expected outputs only
    .venv/bin/python tests/mappings/golden/regenerate.py --inputs   # inputs and tables too

The inputs are (1) formations of generated corpora (LHEO 2.3, and 2.2 read into the 2.3
namespace by LheoReader; several seeds, regions and shares of language offers), (2) the
same formations with the defects regional exports have, seeded (local codes, placeholders,
pre-2016 regions, HTML escapes, odd dates, prices, SIRETs and coordinates, extras), and
(3) every formation the other tests of tests/mappings harmonise with the packaged tables.
Expected outputs are computed with ``golden/tables``, a frozen copy of the packaged tables,
so that adding a row to a packaged table does not move the golden cases.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from random import Random
from typing import Any

from lxml import etree

GOLDEN = Path(__file__).resolve().parent
REPOSITORY = GOLDEN.parents[2]
CASES = GOLDEN / "cases.jsonl.gz"
TABLES = GOLDEN / "tables"
SOURCES = (
    ("via-competences-auvergne", "83"),
    ("via-competences-rhone-alpes", "82"),
    ("grand-est", "44"),
    ("auvergne-rhone-alpes", "84"),
    ("offre-nationale", None),
    ("test", "-"),
)
PER_CORPUS = 10

# Values regional exports send instead of proper ones, by element; "{v}" is the value sent.
_CODE = ("0{v}", " {v} ", "-", "n/a", "ZZ9", "1", "", "{v}")
_DEFECTS: dict[str, tuple[str, ...]] = {
    "code-financeur": (*_CODE, "20", "19", "CR", "BOP104", "R", "DRJSCS-BOP104", "2", "4"),
    "code-public-vise": ("0{v}", "PRIMO", "PUB-PA", "DE", "nc", "99999", "81023", "{v}"),
    "code-niveau-entree": ("0{v}", "V", "IV", "N5B", "SANS", "nc", "9", "{v}"),
    "code-niveau-sortie": ("0{v}", "VI", "N4", "1", "x", "{v}"),
    "objectif-general-formation": ("7", "8", "0{v}", "ZZ", "1", "{v}"),
    "conventionnement": ("1", "0", "01", "x", "{v}"),
    "type-contact": _CODE,
    "modalites-enseignement": _CODE,
    "parcours-de-formation": _CODE,
    "departement": ("1", "2a", "2B", "99", "nc", " 63 ", "", "974", "{v}"),
    "region": ("83", "82", "99", "-", "1", "84", "11", "6", "{v}"),
    "code-INSEE-commune": ("2A004", "97411", "6300", "nc", "75056", "{v}"),
    "codepostal": ("20100", "20200", "97400", "6300", "75001", "{v}"),
    "latitude": ("45,5", "abc", "200", "-91", "45.77", "{v}"),
    "longitude": ("3,08", "181", "x", "{v}"),
    "debut": ("2024-09-02", "20240900", "20240000", "00000000", "99999999", "20241332", "nc"),
    "fin": ("2024", "20230229", " 20240902 ", "2024-02-30", "{v}"),
    "prix-total-TTC": ("1 250,50 €", "abc", "-5", "1.250,50", "1,250.50", "nc", "12 EUR"),
    "prix-horaire-TTC": ("100 euros TTC", "3.5", "0", "{v}"),
    "SIRET": ("123 456 789 00012", "0" * 14, "1" * 15, "12345678901234", "35600000000048"),
    "intitule-formation": (
        "n/a",
        "Fran&amp;ccedil;ais langue &eacute;trang&egrave;re",
        "&lt;b&gt;FLE&lt;/b&gt; A2",
        "Atelier sociolinguistique B1 - A1.1",
        "Formation CIR - OFII",
        "Français langue étrangère - DELF B2 C1",
        "Ouvrir l'école aux parents",
        "Post-alphabétisation",
        "Lutte contre l'illettrisme",
        "{v}",
    ),
    "code-FORMACODE": ("1523", "15235", "15043", "15022", "15040", "nc", "0{v}", "abcde"),
    "code-CERTIFINFO": ("76101", "46908", "68844", "62926", "99999", "-", " {v} "),
    "reference-code-CERTIFINFO": ("76101", "54321", "{v}"),
    "code-RS": ("RS 5080", "5080", "rs5080", "nc"),
    "code-RNCP": ("rncp 123", "RNCP34567", "34567", "-"),
}
_EXTRAS: tuple[tuple[str, dict[str, str]], ...] = (
    ("type-formation", {"type-formation": "ASL"}),
    ("type-formation", {"type-formation": "Français langue étrangère"}),
    ("type-formation", {"type-formation": "alphabétisation"}),
    ("eligibilite-cpf", {"eligibilite-cpf": "oui"}),
    ("dispositif", {"dispositif": "CIR"}),
    ("specificites", {"programme-financeur": "BOP 104"}),
    ("specificites", {"programme-financeur": "Contrat d'Intégration Républicaine"}),
    ("specificites", {"programme-financeur": "Politique de la ville"}),
)


def generated_cases() -> Iterator[dict[str, Any]]:
    """Formations of generated corpora, read by the hub's reader (2.2 upgraded to 2.3)."""
    from hub.lheo.reader import LheoReader
    from simulators.corpus import CorpusSpec, write_corpus

    specs = (
        CorpusSpec(formations=PER_CORPUS, seed=11, regions=("*",), language_share=0.15),
        CorpusSpec(
            formations=PER_CORPUS, seed=12, regions=("84",), version="2.2", language_share=0.9
        ),
        CorpusSpec(formations=PER_CORPUS, seed=13, regions=("11", "93"), language_share=0.0),
    )
    for number, spec in enumerate(specs):
        flow = io.BytesIO()
        write_corpus(flow, spec)
        flow.seek(0)
        for index, record in enumerate(LheoReader(flow)):
            assert record.element is not None, record.errors
            source, region = SOURCES[(number + index) % len(SOURCES)]
            name = f"corpus-{spec.version}-seed{spec.seed}/{record.numero}"
            yield _case(name, source, region, record.element)


def defective(case: dict[str, Any], seed: int) -> dict[str, Any]:
    """``case`` with the defects of regional exports seeded into about a third of its values."""
    random = Random(seed)
    formation = etree.fromstring(case["xml"])
    namespace = etree.QName(formation).namespace
    for element in list(formation.iter()):
        name = etree.QName(element).localname
        if name in _DEFECTS and random.random() < 0.35:
            element.text = random.choice(_DEFECTS[name]).replace("{v}", element.text or "")
    holders = [formation, *formation.iter(f"{{{namespace}}}action")]
    holders += formation.iter(f"{{{namespace}}}organisme-financeur")
    for holder in random.sample(holders, k=min(3, len(holders))):
        info, values = random.choice(_EXTRAS)
        extras = etree.SubElement(holder, f"{{{namespace}}}extras", info=info)
        for key, value in values.items():
            etree.SubElement(extras, f"{{{namespace}}}extra", info=key).text = value
    for lieu in list(formation.iter(f"{{{namespace}}}lieu-de-formation")):
        parent = lieu.getparent()
        if random.random() < 0.3 and parent is not None:
            parent.remove(lieu)  # sessions then give the place
    source, region = random.choice(SOURCES)
    return _case(f"defects/{case['case']}", source, region, formation)


def recorded_cases() -> list[dict[str, Any]]:
    """Every formation the tests of tests/mappings harmonise with the packaged tables."""
    import pytest

    from mappings import TABLES_DIRECTORY, Harmoniser

    harmonise = Harmoniser.harmonise
    seen: dict[str, dict[str, Any]] = {}

    def recording(self: Harmoniser, formation: Any, *, source: str, region: str | None) -> Any:
        harmonised = harmonise(self, formation, source=source, region=region)
        if self.tables.directory == TABLES_DIRECTORY:
            case = _case("", source, region, formation)
            key = json.dumps([case["source"], case["region"], case["xml"]])
            seen.setdefault(key, {**case, "case": f"tests/{len(seen) + 1:03d}"})
        return harmonised

    Harmoniser.harmonise = recording  # type: ignore[method-assign]
    try:
        tests = str(REPOSITORY / "tests" / "mappings")
        golden_test = str(GOLDEN.parent / "test_mapping_golden.py")
        arguments = [tests, "-q", "-p", "no:xdist", "-p", "no:cacheprovider"]
        arguments += ["--ignore", golden_test]
        if pytest.main(arguments) != 0:
            raise SystemExit("tests/mappings fail: fix them before recording their formations")
    finally:
        Harmoniser.harmonise = harmonise  # type: ignore[method-assign]
    return list(seen.values())


def _case(name: str, source: str, region: str | None, formation: Any) -> dict[str, Any]:
    xml = etree.tostring(formation, encoding="unicode")
    return {"case": name, "source": source, "region": region, "xml": xml}


def with_expected(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``cases`` with ``expected``: the current harmoniser's output with the frozen tables."""
    from mappings import Harmoniser, load_tables, to_json

    harmoniser = Harmoniser(load_tables(TABLES))
    for case in cases:
        formation = etree.fromstring(case["xml"])
        harmonised = harmoniser.harmonise(formation, source=case["source"], region=case["region"])
        case["expected"] = to_json(harmonised)
    return cases


def read_cases() -> list[dict[str, Any]]:
    with gzip.open(CASES, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", action="store_true", help="rebuild inputs and tables too")
    arguments = parser.parse_args()
    if arguments.inputs:
        if TABLES.exists():
            shutil.rmtree(TABLES)
        shutil.copytree(
            REPOSITORY / "mappings" / "tables", TABLES, ignore=shutil.ignore_patterns("*.md")
        )
        corpus = list(generated_cases())
        cases = corpus + [defective(case, seed) for seed, case in enumerate(corpus)]
        cases += recorded_cases()
    else:
        cases = [{k: v for k, v in case.items() if k != "expected"} for case in read_cases()]
    # mtime=0: the same cases give the same bytes, so an unchanged golden shows no diff.
    with gzip.GzipFile(CASES, "wb", mtime=0) as raw, io.TextIOWrapper(raw, "utf-8") as out:
        for case in with_expected(cases):
            out.write(json.dumps(case, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"{len(cases)} cases written to {CASES.relative_to(REPOSITORY)}")


if __name__ == "__main__":
    sys.path[:0] = [str(REPOSITORY), str(REPOSITORY / "tests")]
    main()
