"""CSV and XLSX in the column template → valid LHEO 2.3, and a row and column for each bad cell."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from lxml import etree

from connectors.spreadsheet import COLUMNS, REQUIRED, SpreadsheetError, read, sheets
from connectors.spreadsheet.template import column_letter
from hub.lheo.reader import LheoReader
from hub.lheo.schema import NS_23, xml_schema
from simulators.spreadsheet import HEADER, example_rows, write_csv, write_xlsx

README = Path(__file__).resolve().parents[3] / "connectors/spreadsheet/README.md"
L = {"lheo": NS_23}


def letter(name: str) -> str:
    return column_letter(HEADER.index(name))


def formations_of(lheo: bytes) -> dict[str, etree._Element]:
    root = etree.fromstring(lheo)
    return {f.get("numero"): f for f in root.iterfind("lheo:offres/lheo:formation", L)}


@pytest.mark.parametrize(
    "encode",
    [
        write_csv,
        lambda rows: write_csv(rows, delimiter=",", bom=False),
        lambda rows: write_csv(rows, delimiter="\t"),
        write_xlsx,
    ],
    ids=["csv ; bom", "csv , no bom", "csv tab", "xlsx"],
)
@pytest.mark.parametrize("region", ["01", "02", "03", "04", "06"])
def test_every_format_gives_the_same_valid_lheo(encode: object, region: str) -> None:
    rows = example_rows(region, formations=5)
    reference = read(write_csv(rows), filename="ref.csv", region=region)
    conversion = read(encode(rows), filename="offres", region=region)  # type: ignore[operator]
    assert conversion.report.errors == [] and conversion.report.warnings == []
    assert conversion.lheo == reference.lheo
    root = etree.fromstring(conversion.lheo)
    assert xml_schema("2.3").validate(root), xml_schema("2.3").error_log
    records = list(LheoReader(io.BytesIO(conversion.lheo)))
    assert [r.errors for r in records] == [[]] * 5
    assert conversion.report.formations == 5 and conversion.report.sessions == len(rows)
    for departement in root.iter(f"{{{NS_23}}}departement"):
        assert departement.text and departement.text.startswith("97")


def test_rows_group_into_formations_actions_and_sessions() -> None:
    base = example_rows("04", formations=1)[0]
    other_place = {
        "lieu_adresse": "2 rue de Paris",
        "lieu_code_postal": "97410",
        "lieu_ville": "Saint-Pierre",
    }
    rows = [
        base | {"date_debut": "05/01/2027", "date_fin": "05/03/2027"},
        base | {"date_debut": "05/04/2027", "date_fin": "05/06/2027"},
        base | other_place | {"date_debut": "05/01/2027", "date_fin": "05/03/2027"},
    ]
    conversion = read(write_csv(rows), filename="f.csv", region="04")
    [formation] = formations_of(conversion.lheo).values()
    actions = formation.findall("lheo:action", L)
    numero = base["numero_formation"]
    assert [a.get("numero") for a in actions] == [f"{numero}-A1", f"{numero}-A2"]
    sessions = [[s.get("numero") for s in a.findall("lheo:session", L)] for a in actions]
    assert sessions == [[f"{numero}-A1-S1", f"{numero}-A1-S2"], [f"{numero}-A2-S1"]]
    assert (
        actions[1].findtext(
            "lheo:lieu-de-formation/lheo:coordonnees/lheo:adresse/lheo:ville", namespaces=L
        )
        == "Saint-Pierre"
    )
    debut = formation.findtext("lheo:action/lheo:session/lheo:periode/lheo:debut", namespaces=L)
    assert debut == "20270105"


BAD_CELLS = [
    ("date_debut", "31/02/2026", "'31/02/2026' n'est pas une date (JJ/MM/AAAA)"),
    ("date_fin", "01/01/2020", "la fin (20200101) précède le début"),
    ("certifiante", "peut-être", "'peut-être' n'est ni oui ni non"),
    ("code_financeur", "2 99", "'99' n'est pas un code autorisé"),
    ("parcours", "7", "'7' n'est pas un code autorisé (1, 2, 3, 4)"),
    ("organisme_siret", "1234", "'1234' n'a pas 14 chiffres"),
    ("organisme_numero_activite", "12AB5678901", "n'a pas 11 chiffres"),
    ("lieu_code_postal", "75005", "'75005' n'est pas un code postal de La Réunion (974xx)"),
    ("intitule", "", "valeur obligatoire manquante"),
    ("intitule", "x" * 300, "trop long : 300 caractères, 255 au plus"),
    ("lieu_adresse", "y" * 51, "trop long : 51 caractères, 50 au plus"),
    ("contact_courriel", "pas-un-courriel", "n'est pas une adresse de courriel"),
    ("public_vise", " ".join(["80006"] * 11), "11 codes, 10 au plus"),
    ("formacode", "ABCDE", "'ABCDE' n'est pas un code numérique"),
    ("duree_heures", "beaucoup", "n'est pas un nombre entier"),
    ("prix_total_ttc", "gratuit", "n'est pas un montant en euros"),
    ("lieu_ville", "Saint\x07Denis", "caractère de contrôle interdit (U+0007)"),
    ("operation", "archiver", "opération inconnue"),
    ("organisme_adresse", "", "obligatoire quand une colonne organisme_* est remplie"),
    ("numero_session", "S" * 129, "numéro trop long"),
]


@pytest.mark.parametrize(
    ("column", "value", "reason"), BAD_CELLS, ids=[f"{c}={v[:12]!r}" for c, v, _ in BAD_CELLS]
)
def test_a_bad_cell_is_reported_by_row_and_column_and_its_row_alone_rejected(
    column: str, value: str, reason: str
) -> None:
    rows = example_rows("04", formations=3)
    bad = 1  # the second data row: spreadsheet row 3
    rows[bad] = rows[bad] | {column: value}
    conversion = read(write_csv(rows), filename="offres.csv", region="04")
    [error] = conversion.report.errors
    assert (error.row, error.column, error.field) == (3, letter(column), column)
    assert reason in error.reason
    assert str(error).startswith(f"ligne 3, colonne {letter(column)} ({column}) : ")
    assert error.numero == rows[bad]["numero_formation"]
    assert conversion.report.rows_rejected == 1
    produced = formations_of(conversion.lheo)
    sessions = sum(len(f.findall("lheo:action/lheo:session", L)) for f in produced.values())
    assert sessions == len(rows) - 1
    assert xml_schema("2.3").validate(etree.fromstring(conversion.lheo))


def test_xlsx_cells_are_reported_too_and_typed_cells_are_understood() -> None:
    rows = list({r["numero_formation"]: r for r in example_rows("02", formations=2)}.values())
    rows[0]["date_fin"] = "32/13/2027"
    workbook = openpyxl.load_workbook(io.BytesIO(write_xlsx(rows)))
    sheet = workbook.active
    assert sheet is not None
    siret = rows[1]["organisme_siret"]
    sheet.cell(row=3, column=HEADER.index("organisme_siret") + 1, value=int("0" + siret[1:]))
    sheet.cell(
        row=3, column=HEADER.index("lieu_code_postal") + 1, value=int(rows[1]["lieu_code_postal"])
    )
    sheet.cell(row=3, column=HEADER.index("date_maj") + 1, value=datetime(2026, 3, 1))
    buffer = io.BytesIO()
    workbook.save(buffer)
    conversion = read(buffer.getvalue(), filename="offres.xlsx", region="02")
    [error] = conversion.report.errors
    where = f"ligne 2, colonne {letter('date_fin')} (date_fin)"
    assert str(error) == f"{where} : '32/13/2027' n'est pas une date (JJ/MM/AAAA)"
    formation = formations_of(conversion.lheo)[rows[1]["numero_formation"]]
    assert formation.get("datemaj") == "20260301"
    assert formation.findtext(".//lheo:SIRET", namespaces=L) == "0" + siret[1:]


def test_a_row_contradicting_its_formation_is_rejected_at_the_differing_cell() -> None:
    first = example_rows("04", formations=1)[0]
    rows = [
        first,
        first
        | {"intitule": "Autre intitulé", "date_debut": "01/09/2027", "date_fin": "01/10/2027"},
    ]
    conversion = read(write_csv(rows), filename="f.csv", region="04")
    [error] = conversion.report.errors
    assert (error.row, error.field) == (3, "intitule")
    assert "diffère de la ligne 2" in error.reason and first["intitule"] in error.reason
    explicit = [first | {"numero_action": "A"}, first | {"numero_action": "A", "rythme": "Soir"}]
    [error] = read(write_csv(explicit), filename="f.csv", region="04").report.errors
    assert (error.row, error.field) == (3, "rythme") and "action A" in error.reason
    twice = [first | {"numero_session": "S1"}, first | {"numero_session": "S1"}]
    [error] = read(write_csv(twice), filename="f.csv", region="04").report.errors
    assert (error.row, error.field) == (3, "numero_session") and "ligne 2" in error.reason


def test_supprimer_rows_become_the_deltas_deletions() -> None:
    rows = example_rows("06", formations=2)
    published = rows[0]["numero_formation"]
    rows += [{"numero_formation": "976-OLD-1", "operation": "Supprimer"}]
    rows += [{"numero_formation": published, "operation": "supprimer"}]
    conversion = read(write_csv(rows), filename="f.csv", region="06")
    root = etree.fromstring(conversion.lheo)
    deleted = root.xpath(
        "lheo:extras[@info='suppressions']/lheo:extra[@info='numero']/text()", namespaces=L
    )
    assert deleted == ["976-OLD-1"]
    [error] = conversion.report.errors
    assert error.field == "operation" and "aussi publiée ligne 2" in error.reason
    assert LheoReader(io.BytesIO(conversion.lheo)).version == "2.3"
    reader = LheoReader(io.BytesIO(conversion.lheo))
    list(reader)
    assert reader.deletions == ["976-OLD-1"]


def test_headers_are_matched_loosely_and_unknown_ones_reported() -> None:
    rows = example_rows("04", formations=1)
    header = [
        {"numero_formation": "Numéro formation", "date_debut": "Date début (JJ/MM/AAAA)"}.get(
            n, n.upper()
        )
        for n in HEADER
    ] + ["Commentaire interne"]
    data = write_csv(
        [{h: r.get(n, "") for h, n in zip(header, HEADER, strict=False)} for r in rows],
        header=header,
    )
    conversion = read(data, filename="f.csv", region="04")
    assert conversion.report.errors == [] and conversion.report.formations == 1
    assert conversion.report.warnings == [
        f"colonne {column_letter(len(HEADER))} (Commentaire interne) inconnue : ignorée"
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"numero_formation;intitule\r\nF1;x\r\n",
            "colonne(s) obligatoire(s) absente(s) : objectif",
        ),
        (
            ("\ufeff" + ";".join([*HEADER, "intitule"]) + "\r\n").encode(),
            "la colonne intitule apparaît deux fois (B et",
        ),
        (
            ";".join(HEADER).encode() + b"\r\nF1;Caf\xe9\r\n",
            "n'est pas en UTF-8 (octet 0xE9, ligne 2)",
        ),
        (b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "Excel 97-2003"),
        (b"", "fichier vide"),
        (bytes(range(256)) * 4, "n'est pas en UTF-8"),
        (b"PK\x03\x04garbage", "fichier XLSX illisible"),
    ],
    ids=[
        "missing columns",
        "duplicate column",
        "not utf-8",
        "xls",
        "empty",
        "garbage",
        "broken zip",
    ],
)
def test_an_unreadable_file_is_refused_whole_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(SpreadsheetError) as raised:
        read(data, filename="f.csv", region="04")
    assert message in str(raised.value)


def _xlsx_with(part: str, transform: object) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(write_xlsx(example_rows("04", formations=1))))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            target.writestr(item, transform(data) if item.filename == part else data)  # type: ignore[operator]
    return out.getvalue()


def _bomb(data: bytes) -> bytes:
    """Billion laughs in front of a part's root element, and used in it."""
    declaration = b'<!DOCTYPE x [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    return declaration + data.replace(b"<sheetData>", b"<sheetData>&b;", 1)


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "[Content_Types].xml"])
def test_an_xlsx_with_entities_or_a_dtd_is_refused(part: str) -> None:
    with pytest.raises(SpreadsheetError, match=re.escape(f"la partie {part} déclare une DTD")):
        read(_xlsx_with(part, _bomb), filename="f.xlsx", region="04")


def test_defusedxml_is_the_second_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheets, "_UNSAFE_XML", re.compile(rb"(?!)"))  # the first guard off
    with pytest.raises(SpreadsheetError, match=r"(?i)xlsx illisible.*(DTD|Entities)Forbidden"):
        read(_xlsx_with("xl/worksheets/sheet1.xml", _bomb), filename="f.xlsx", region="04")


def test_a_zip_bomb_is_refused_before_it_is_expanded(monkeypatch: pytest.MonkeyPatch) -> None:
    data = write_xlsx(example_rows("04", formations=1))
    monkeypatch.setattr(sheets, "MAX_UNCOMPRESSED", 4096)
    with pytest.raises(SpreadsheetError, match="bombe zip"):
        read(data, filename="f.xlsx", region="04")


def _stale_dimension(data: bytes, ref: str) -> bytes:
    """The workbook with the ``<dimension>`` of its sheet rewritten, as many tools leave it."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            part = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                part, replaced = re.subn(
                    rb'<dimension ref="[^"]*"/>', f'<dimension ref="{ref}"/>'.encode(), part
                )
                assert replaced == 1
            target.writestr(item, part)
    return out.getvalue()


@pytest.mark.parametrize(
    "ref",
    [f"A1:{column_letter(len(HEADER) - 1)}3", "A1:F3", "A1:A1"],
    ids=["fewer rows", "fewer rows and columns", "one cell"],
)
def test_every_xlsx_row_is_read_whatever_its_stale_dimension_says(ref: str) -> None:
    rows = example_rows("04", formations=5)
    reference = read(write_csv(rows), filename="ref.csv", region="04")
    data = _stale_dimension(write_xlsx(rows), ref)
    conversion = read(data, filename="offres.xlsx", region="04")
    assert conversion.report.errors == [] and conversion.report.warnings == []
    assert conversion.report.rows == len(rows) > 3
    assert conversion.report.sessions == len(rows)
    assert conversion.lheo == reference.lheo


def test_without_a_territory_any_postcode_is_accepted() -> None:
    rows = example_rows("04", formations=1)
    rows[0] |= {"lieu_code_postal": "75005", "lieu_ville": "Paris"}
    assert read(write_csv(rows), filename="f.csv").report.errors == []
    assert read(write_csv(rows), filename="f.csv", region="04").report.errors


def test_the_readme_documents_exactly_the_template() -> None:
    documented = re.findall(
        r"^\| ([A-Z]+) \| `([a-z_]+)` \| (\w+) \| ([^|]*) \|",
        README.read_text(encoding="utf-8"),
        re.M,
    )
    assert [(c, n) for c, n, _, _ in documented] == [
        (column_letter(i), c.name) for i, c in enumerate(COLUMNS)
    ]
    assert [n for _, n, _, req in documented if req.strip()] == list(REQUIRED)
    assert [level for _, _, level, _ in documented] == [c.level for c in COLUMNS]
