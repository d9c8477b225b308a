"""The open-data extract: one CSV row per session, made to open right in a spreadsheet.

The dialect is the one French spreadsheet programs expect when a file is double-clicked:

* UTF-8 **with a byte-order mark**, so accents are not read as Windows-1252;
* ``;`` as the separator and a **decimal comma** (``12,50``): with a French locale a
  spreadsheet reads ``12.50`` as text, or as a date; programs read it with
  ``pandas.read_csv(path, sep=";", decimal=",", encoding="utf-8-sig", dtype=str)``;
* fields quoted only when they hold ``;``, ``"`` or a line break (``"`` doubled), rows
  ending in CRLF (RFC 4180);
* dates as ``YYYY-MM-DD``. When the source left the day (or month) unknown, the date is
  the first day of the period for a start and its last day for an end, and the column
  ``..._precision`` says ``mois`` (or ``annee``) instead of ``jour``;
* booleans as ``oui``/``non``, several values in one cell joined by ``|``;
* a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
  leading ``'`` so that a spreadsheet never runs it as a formula (CSV injection).

`COLUMNS` is the single definition of the columns; ``docs/opendata-columns.md`` documents
each one, and a test checks that both list the same names in the same order.
"""

from __future__ import annotations

import calendar
import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from hub.publish.publishers.sessions import PublishedSession

__all__ = ["BOM", "COLUMNS", "Column", "date_cell", "write_csv"]

BOM = "\ufeff".encode()
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CHUNK_ROWS = 256

Cell = str | float | bool | list[str] | None


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: str
    """texte, code, date, precision, decimal, booleen or liste (for the documentation)."""
    value: Callable[[PublishedSession], Cell]


def _decimal(value: float | None, places: int) -> str:
    return "" if value is None else f"{value:.{places}f}".replace(".", ",")


def _text(value: str | None) -> str:
    if not value:
        return ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def date_cell(value: str | None, *, end: bool) -> tuple[str, str]:
    """``(YYYY-MM-DD, precision)`` of an ISO date that may lack its day or month.

    A missing day (month) gives the first day of the month (year) for a start and its last
    day for an end; a date that does not exist gives empty cells rather than a wrong one.
    """
    if not value:
        return "", ""
    parts = value.split("-")
    try:
        numbers = [int(part) for part in parts[:3]]
        if len(numbers) == 3:
            return date(*numbers).isoformat(), "jour"
        if len(numbers) == 2:
            year, month = numbers
            day = calendar.monthrange(year, month)[1] if end else 1
            return date(year, month, day).isoformat(), "mois"
        return date(numbers[0], 12, 31 if end else 1).isoformat(), "annee"
    except (ValueError, calendar.IllegalMonthError):
        return "", ""


def _bool(value: bool | None) -> str:
    return "" if value is None else ("oui" if value else "non")


def _day(value: str | None) -> str:
    return date_cell(value, end=False)[0]


def _language(row: PublishedSession, attribute: str) -> str | None:
    language = row.view.formation.language
    return None if language is None else getattr(language, attribute)


COLUMNS: tuple[Column, ...] = (
    Column("source", "code", lambda r: r.view.formation.source),
    Column("region", "code", lambda r: r.view.formation.region),
    Column("formation_numero", "code", lambda r: r.view.formation.numero),
    Column("formation_intitule", "texte", lambda r: r.view.formation.intitule),
    Column("formation_datemaj", "date", lambda r: _day(r.view.formation.datemaj)),
    Column("formacodes", "liste", lambda r: r.view.formation.formacodes),
    Column("certifiante", "booleen", lambda r: r.certifiante),
    Column("certifications", "liste", lambda r: r.view.certifications),
    Column("eligible_cpf", "booleen", lambda r: r.view.formation.cpf_eligible),
    Column("niveau_entree", "code", lambda r: r.view.formation.niveau_entree),
    Column("niveau_sortie", "code", lambda r: r.view.formation.niveau_sortie),
    Column("organisme_siret", "code", lambda r: r.view.formation.siret_organisme),
    Column("organisme_raison_sociale", "texte", lambda r: r.view.organisme),
    Column("action_numero", "code", lambda r: r.view.action.numero),
    Column("financeurs", "liste", lambda r: r.view.action.financeurs),
    Column("conventionnement", "code", lambda r: r.view.action.conventionnement),
    Column("prix_total_ttc", "decimal", lambda r: r.view.action.prix_total_ttc),
    Column("prix_horaire_ttc", "decimal", lambda r: r.view.action.prix_horaire_ttc),
    Column("session_numero", "code", lambda r: r.view.session.numero),
    Column("session_debut", "date", lambda r: date_cell(r.view.session.debut, end=False)[0]),
    Column("session_debut_precision", "precision",
           lambda r: date_cell(r.view.session.debut, end=False)[1]),
    Column("session_fin", "date", lambda r: date_cell(r.view.session.fin, end=True)[0]),
    Column("session_fin_precision", "precision",
           lambda r: date_cell(r.view.session.fin, end=True)[1]),
    Column("session_departement", "code", lambda r: r.view.departement),
    Column("session_region", "code", lambda r: r.view.region),
    Column("session_commune_insee", "code", lambda r: r.view.session.code_insee_commune),
    Column("latitude", "decimal", lambda r: r.view.session.latitude),
    Column("longitude", "decimal", lambda r: r.view.session.longitude),
    Column("langue_type", "code", lambda r: _language(r, "kind")),
    Column("langue_parcours", "code", lambda r: _language(r, "path")),
    Column("langue_niveau_cible", "code", lambda r: _language(r, "target_level")),
)  # fmt: skip

_PLACES = {"prix_total_ttc": 2, "prix_horaire_ttc": 2, "latitude": 6, "longitude": 6}


def _cell(column: Column, row: PublishedSession) -> str:
    value = column.value(row)
    if column.kind == "decimal":
        return _decimal(value if isinstance(value, int | float) else None, _PLACES[column.name])
    if column.kind == "booleen":
        return _bool(value if isinstance(value, bool) else None)
    if isinstance(value, list):
        return _text("|".join(value))
    return _text(None if value is None else str(value))


def write_csv(rows: Iterable[PublishedSession], write: Callable[[bytes], object]) -> int:
    """Write the BOM, the header and one line per session through ``write``; the row count."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow([column.name for column in COLUMNS])
    write(BOM + buffer.getvalue().encode("utf-8"))
    buffer.seek(0)
    buffer.truncate()
    count = 0
    for row in rows:
        writer.writerow([_cell(column, row) for column in COLUMNS])
        count += 1
        if count % _CHUNK_ROWS == 0:
            write(buffer.getvalue().encode("utf-8"))
            buffer.seek(0)
            buffer.truncate()
    write(buffer.getvalue().encode("utf-8"))
    return count
