"""Read the rows of a CSV or XLSX file, safely, with their spreadsheet row numbers.

CSV: UTF-8 with or without BOM, ``;`` or ``,`` (or tab) as separator, detected from the
header line. XLSX: the first worksheet, read with openpyxl in read-only mode, every row and
column whatever the sheet's ``<dimension>`` element claims (many tools leave it stale, and
read-only openpyxl would otherwise stop there and drop the rest silently). An XLSX file
is a zip of XML parts, so before openpyxl sees it the zip is checked against bombs (total
uncompressed size, member count) and every XML part against DTDs and entity declarations
(XXE, billion laughs); defusedxml, which openpyxl uses when installed, is a second guard.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import openpyxl

from connectors.spreadsheet.cells import CellValue
from hub.errors import LheoError

MAX_UNCOMPRESSED = 256 * 1024 * 1024
MAX_ZIP_MEMBERS = 2_000
_UNSAFE_XML = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
_XLS_MAGIC = b"\xd0\xcf\x11\xe0"


class SpreadsheetError(LheoError):
    """The file cannot be read as the column template at all; none of its rows was used."""

    hint = (
        "envoyez un CSV (UTF-8, « ; » ou « , ») ou un XLSX qui suit le modèle de colonnes "
        "(connectors/spreadsheet/README.md)"
    )


@dataclass(slots=True)
class Sheet:
    """A header row and the data rows after it, each with its spreadsheet row number."""

    kind: str
    header: list[str]
    rows: Iterator[tuple[int, tuple[CellValue, ...]]]


def open_sheet(raw: bytes, filename: str) -> Sheet:
    """Open ``raw`` as XLSX (a zip) or else as CSV, by its first bytes."""
    if raw.startswith(_XLS_MAGIC) or filename.lower().endswith(".xls"):
        raise SpreadsheetError(
            f"{filename} : l'ancien format Excel 97-2003 (.xls) n'est pas accepté",
            hint="enregistrez-le en XLSX ou en « CSV UTF-8 »",
        )
    if raw.startswith(b"PK\x03\x04"):  # the bytes decide, whatever the name says
        return _open_xlsx(raw, filename)
    return _open_csv(raw, filename)


def _open_csv(raw: bytes, filename: str) -> Sheet:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SpreadsheetError(
            f"{filename} : le fichier n'est pas en UTF-8 "
            f"(octet 0x{raw[exc.start]:02X}, ligne {line})",
            line=line,
            hint="enregistrez-le au format « CSV UTF-8 » (Excel : Enregistrer sous › CSV UTF-8)",
        ) from None
    first_line = text.split("\n", 1)[0]
    delimiter = max(";,\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise SpreadsheetError(f"{filename} : ligne d'en-tête illisible : {exc}", line=1) from None
    if not header or not any(cell.strip() for cell in header):
        raise SpreadsheetError(f"{filename} : fichier vide ou sans ligne d'en-tête", line=1)

    def rows() -> Iterator[tuple[int, tuple[CellValue, ...]]]:
        number = 1
        try:
            for number, row in enumerate(reader, start=2):
                yield number, tuple(row)
        except csv.Error as exc:
            raise SpreadsheetError(
                f"{filename} : CSV illisible après la ligne {number} : {exc}", line=number + 1
            ) from None

    return Sheet("csv", [cell.strip() for cell in header], rows())


def _check_zip(raw: bytes, filename: str) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise SpreadsheetError(f"{filename} : fichier XLSX illisible ({exc})") from None
    if len(members) > MAX_ZIP_MEMBERS or sum(m.file_size for m in members) > MAX_UNCOMPRESSED:
        raise SpreadsheetError(
            f"{filename} : le XLSX dépasse {MAX_UNCOMPRESSED // 2**20} Mio décompressé "
            f"ou {MAX_ZIP_MEMBERS} parties (bombe zip ?)"
        )
    for member in members:
        if not member.filename.endswith((".xml", ".rels")):
            continue
        try:
            with archive.open(member) as part:
                head = part.read(4096)
        except (zipfile.BadZipFile, OSError, ValueError, RuntimeError) as exc:
            raise SpreadsheetError(
                f"{filename} : partie {member.filename} endommagée : {exc}"
            ) from None
        if _UNSAFE_XML.search(head):
            raise SpreadsheetError(
                f"{filename} : la partie {member.filename} déclare une DTD ou des entités "
                "(refusé : XXE et expansion d'entités)",
                path=member.filename,
            )
    return archive


def _root_cause(exc: BaseException) -> str:
    """The innermost error (openpyxl wraps defusedxml's ``EntitiesForbidden`` in a ValueError)."""
    while (inner := exc.__cause__ or exc.__context__) is not None:
        exc = inner
    return f"{type(exc).__name__} : {exc}"


def _open_xlsx(raw: bytes, filename: str) -> Sheet:
    archive = _check_zip(raw, filename)
    archive.close()
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        worksheet = workbook.worksheets[0]
        # The sheet's <dimension ref="A1:F3"/> is often stale: trusted, it would cut rows and
        # columns without a word. Without it, each row is read to its last cell, then the end.
        worksheet.reset_dimensions()
        cells = worksheet.iter_rows(min_row=1, values_only=True)
        header = next(cells, None)
    except Exception as exc:  # openpyxl raises anything from KeyError to defusedxml's own
        raise SpreadsheetError(
            f"{filename} : classeur XLSX illisible ({_root_cause(exc)})"
        ) from None
    if header is None or not any(cell not in (None, "") for cell in header):
        raise SpreadsheetError(
            f"{filename} : la première feuille est vide ou sans ligne d'en-tête", line=1
        )

    def rows() -> Iterator[tuple[int, tuple[Any, ...]]]:
        number = 1
        try:
            for number, row in enumerate(cells, start=2):
                yield number, tuple(row)
        except Exception as exc:
            raise SpreadsheetError(
                f"{filename} : XLSX illisible après la ligne {number} ({_root_cause(exc)})",
                line=number + 1,
            ) from None
        finally:
            workbook.close()

    return Sheet("xlsx", [str(cell).strip() if cell is not None else "" for cell in header], rows())
