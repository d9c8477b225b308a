"""One cell → one LHEO value, or the reason (in French, for the person who typed it) why not.

Cells come as text from CSV and as text, numbers, dates or booleans from XLSX. A number
typed into a code column (SIRET, code postal) lost its leading zeros in the spreadsheet,
so it is padded back to the length the XSD requires.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from connectors.spreadsheet.template import TERRITORIES, Column, facets

CellValue = str | int | float | bool | date | datetime | None

_TRUE = {"1", "oui", "o", "vrai", "x", "yes", "y", "true"}
_FALSE = {"0", "non", "n", "faux", "no", "false"}
_DATE_FR = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00)?)?$")
_SEPARATORS = re.compile(r"[\s,;/]+")


class CellProblem(ValueError):
    """Why a cell cannot be turned into its LHEO value."""


def as_text(value: CellValue) -> str:
    """The cell as the person sees it, for messages and text columns."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y") if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_cell(column: Column, value: CellValue, *, region: str | None = None) -> str:
    """The LHEO value of a non-empty cell; raises CellProblem with a plain reason."""
    text = as_text(value)
    if column.kind == "date":
        return parse_date(value, text)
    if column.kind == "boolean":
        return _boolean(text)
    if column.kind == "codes":
        return " ".join(_code(column, code) for code in _split(column, text))
    if column.kind == "code":
        return _code(column, text)
    if column.kind == "integer":
        if not re.fullmatch(r"\d{1,9}", text):
            raise CellProblem(f"'{text}' n'est pas un nombre entier d'heures")
        return str(int(text))
    if column.kind == "decimal":
        amount = re.sub(r"[\s\u00a0€]", "", text).replace(",", ".")
        if not re.fullmatch(r"\d{1,7}(\.\d{1,2})?", amount):
            raise CellProblem(f"'{text}' n'est pas un montant en euros (ex. 1250,50)")
        return amount
    if column.kind in ("digits", "codepostal"):
        text = _digits(column, value, text)
        if column.kind == "codepostal" and column.level != "organisme":
            _check_territory(text, region)  # where training happens; the organisme may be away
        return text
    text = _length_checked(column, " ".join(text.split()) if "\n" not in text else text)
    if column.element == "courriel" and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", text):
        raise CellProblem(f"'{text}' n'est pas une adresse de courriel")
    return text


def parse_date(value: CellValue, text: str) -> str:
    """JJ/MM/AAAA (or a spreadsheet date, or AAAA-MM-JJ) → LHEO ``AAAAMMJJ``."""
    if isinstance(value, datetime | date):
        return value.strftime("%Y%m%d")
    fr, iso = _DATE_FR.match(text), _DATE_ISO.match(text)
    parts = (fr.group(3), fr.group(2), fr.group(1)) if fr else iso.groups()[:3] if iso else None
    try:
        if parts is None:
            raise ValueError(text)
        day = date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        raise CellProblem(f"'{text}' n'est pas une date (JJ/MM/AAAA)") from None
    return day.strftime("%Y%m%d")


def _boolean(text: str) -> str:
    lowered = text.lower()
    if lowered in _TRUE:
        return "1"
    if lowered in _FALSE:
        return "0"
    raise CellProblem(f"'{text}' n'est ni oui ni non")


def _split(column: Column, text: str) -> list[str]:
    codes = [code for code in _SEPARATORS.split(text) if code]
    if len(codes) > column.max_items:
        raise CellProblem(f"{len(codes)} codes, {column.max_items} au plus")
    return codes


def _code(column: Column, text: str) -> str:
    assert column.element is not None
    allowed = facets(column.element).enumeration
    if allowed:
        if text not in allowed:
            raise CellProblem(f"'{text}' n'est pas un code autorisé ({', '.join(allowed)})")
        return text
    if not text.isdigit():
        raise CellProblem(f"'{text}' n'est pas un code numérique")
    return _length_checked(column, text)


def _digits(column: Column, value: CellValue, text: str) -> str:
    assert column.element is not None
    width = facets(column.element).max_length or len(text)
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = text.zfill(width)  # the spreadsheet stored a code as a number and lost its zeros
    compact = re.sub(r"[\s.]", "", text)
    if not compact.isdigit() or len(compact) != width:
        raise CellProblem(f"'{text}' n'a pas {width} chiffres")
    return compact


def _check_territory(codepostal: str, region: str | None) -> None:
    territory = TERRITORIES.get(region or "")
    if territory and not codepostal.startswith(territory[0]):
        raise CellProblem(
            f"'{codepostal}' n'est pas un code postal de {territory[1]} ({territory[0]}xx)"
        )


def _length_checked(column: Column, text: str) -> str:
    bounds = facets(column.element) if column.element else None
    if bounds and bounds.max_length is not None and len(text) > bounds.max_length:
        raise CellProblem(f"trop long : {len(text)} caractères, {bounds.max_length} au plus")
    if bounds and bounds.min_length is not None and len(text) < bounds.min_length:
        raise CellProblem(f"trop court : {len(text)} caractères, {bounds.min_length} au moins")
    return text
