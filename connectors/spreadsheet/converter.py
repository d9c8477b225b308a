"""A CSV or XLSX file in the column template → an LHEO 2.3 delta, and a report per cell.

``read(raw, filename=..., region=...)`` is the whole conversion. Every bad cell is
reported with its row and column (``ligne 7, colonne F (date_debut) : '31/02/2026' n'est
pas une date``); a row with a bad cell is rejected alone and the good rows still go in.
Rows sharing a ``numero_formation`` form one formation; its values come from its first
good row, and a later row that contradicts them is rejected at the contradicting cell.
Each formation built is validated against the official XSD before it is emitted, so the
delta is valid LHEO 2.3. Rows whose ``operation`` is ``supprimer`` become the delta's
explicit deletions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from lxml import etree

from connectors.spreadsheet.build import ActionGroup, FormationGroup, Values, formation_element
from connectors.spreadsheet.cells import CellProblem, CellValue, as_text, parse_cell
from connectors.spreadsheet.sheets import SpreadsheetError, open_sheet
from connectors.spreadsheet.template import (
    BY_NAME,
    COLUMNS,
    REQUIRED,
    column_letter,
    normalise_header,
)
from hub.errors import RecordError
from hub.lheo.schema import NS_23, xml_schema
from hub.lheo.writer import document_head, document_tail, formation_in_document

MAX_ROWS = 200_000
MAX_NUMERO = 128
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
FORMATION_COLUMNS = tuple(c.name for c in COLUMNS if c.level in ("formation", "organisme"))
ACTION_COLUMNS = tuple(c.name for c in COLUMNS if c.level == "action" and c.name != "numero_action")
_PAIRED = {
    prefix: tuple(f"{prefix}_{k}" for k in ("adresse", "code_postal", "ville"))
    for prefix in ("organisme", "inscription")
}


@dataclass(frozen=True, slots=True)
class CellError:
    """One bad cell (or row): where it is and why, in the words of the spreadsheet."""

    row: int
    column: str | None
    field: str | None
    reason: str
    numero: str | None = None

    @property
    def where(self) -> str:
        column = f", colonne {self.column} ({self.field})" if self.column else ""
        return f"ligne {self.row}{column}"

    def __str__(self) -> str:
        return f"{self.where} : {self.reason}"

    def as_record_error(self) -> RecordError:
        return RecordError(self.numero, self.row, self.where, self.reason, stage="convert")


@dataclass(slots=True)
class ConversionReport:
    """What the conversion read, kept and rejected."""

    filename: str
    kind: str
    rows: int = 0
    rows_rejected: int = 0
    formations: int = 0
    sessions: int = 0
    deletions: int = 0
    errors: list[CellError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["errors"] = [dict(asdict(e), message=str(e)) for e in self.errors]
        return data


@dataclass(slots=True)
class Conversion:
    lheo: bytes
    report: ConversionReport


@dataclass(slots=True)
class _Row:
    number: int
    values: Values
    letters: dict[str, str]
    errors: list[CellError] = field(default_factory=list)

    @property
    def deletes(self) -> bool:
        return normalise_header(self.values.get("operation", "")) == "supprimer"

    def fail(self, name: str, reason: str) -> None:
        numero = self.values.get("numero_formation") or None
        self.errors.append(CellError(self.number, self.letters.get(name), name, reason, numero))


def read(raw: bytes, *, filename: str, region: str | None = None) -> Conversion:
    """Convert one spreadsheet; raises SpreadsheetError when it cannot be read at all."""
    sheet = open_sheet(raw, filename)
    report = ConversionReport(filename, sheet.kind)
    layout = _layout(sheet.header, filename, report)
    rows = list(_parse_rows(sheet.rows, layout, region, report))
    for row in rows:
        _cross_checks(row)
    formations, deletions = _group(rows)
    document = _document(formations, deletions, rows, region or "", report)
    for row in rows:
        report.errors.extend(row.errors)
    report.errors.sort(key=lambda e: (e.row, e.column or ""))
    report.rows_rejected = sum(1 for row in rows if row.errors)
    return Conversion(document, report)


def _layout(header: list[str], filename: str, report: ConversionReport) -> dict[str, int]:
    layout: dict[str, int] = {}
    for index, title in enumerate(header):
        name = normalise_header(title)
        if not name:
            continue
        if name not in BY_NAME:
            report.warnings.append(f"colonne {column_letter(index)} ({title}) inconnue : ignorée")
        elif name in layout:
            raise SpreadsheetError(
                f"{filename} : la colonne {name} apparaît deux fois "
                f"({column_letter(layout[name])} et {column_letter(index)})",
                line=1,
                path=name,
            )
        else:
            layout[name] = index
    missing = [name for name in REQUIRED if name not in layout]
    if missing:
        raise SpreadsheetError(
            f"{filename} : colonne(s) obligatoire(s) absente(s) : {', '.join(missing)}",
            line=1,
            path=", ".join(missing),
        )
    return layout


def _parse_rows(
    rows: Iterator[tuple[int, tuple[CellValue, ...]]],
    layout: dict[str, int],
    region: str | None,
    report: ConversionReport,
) -> Iterator[_Row]:
    letters = {name: column_letter(index) for name, index in layout.items()}
    for number, cells in rows:
        if not any(as_text(cell) for cell in cells):
            continue  # blank rows separate groups in many sheets: not an error
        report.rows += 1
        if report.rows > MAX_ROWS:
            raise SpreadsheetError(f"{report.filename} : plus de {MAX_ROWS} lignes", line=number)
        raw = {name: cells[i] if i < len(cells) else None for name, i in layout.items()}
        row = _Row(number, {c.name: c.default or "" for c in COLUMNS}, letters)
        row.values["numero_formation"] = as_text(raw["numero_formation"])
        row.values["operation"] = as_text(raw.get("operation"))
        for name, value in raw.items():
            if row.deletes and name not in ("numero_formation", "operation"):
                continue  # a deletion needs nothing but the numero
            _parse_one(row, name, value, region)
        yield row


def _parse_one(row: _Row, name: str, value: CellValue, region: str | None) -> None:
    column, text = BY_NAME[name], as_text(value)
    if control := _CONTROL.search(text):
        row.fail(name, f"caractère de contrôle interdit (U+{ord(control.group()):04X})")
    elif not text:
        if column.required:
            row.fail(name, "valeur obligatoire manquante")
    elif name.startswith("numero_") and len(text) > MAX_NUMERO:
        row.fail(name, f"numéro trop long : {len(text)} caractères, {MAX_NUMERO} au plus")
    elif name == "operation":
        if normalise_header(text) not in ("publier", "creer", "modifier", "supprimer"):
            row.fail(name, f"'{text}' : opération inconnue (publier ou supprimer)")
    else:
        try:
            row.values[name] = parse_cell(column, value, region=region)
        except CellProblem as problem:
            row.fail(name, str(problem))


def _cross_checks(row: _Row) -> None:
    """Checks across cells of one row, made only on cells that are themselves good."""
    bad = {e.field for e in row.errors}
    v = row.values
    if not row.deletes and not {"date_debut", "date_fin"} & bad and v["date_fin"] < v["date_debut"]:
        row.fail("date_fin", f"la fin ({v['date_fin']}) précède le début ({v['date_debut']})")
    for prefix, names in _PAIRED.items():
        if any(v.get(n) for n in names) and not row.deletes:
            for name in names:
                if not v.get(name) and name not in bad:
                    row.fail(name, f"obligatoire quand une colonne {prefix}_* est remplie")


def _group(rows: list[_Row]) -> tuple[dict[str, FormationGroup], list[str]]:
    formations: dict[str, FormationGroup] = {}
    session_numbers: dict[str, dict[str, int]] = {}
    for row in rows:
        if row.errors or row.deletes:
            continue
        v, numero = row.values, row.values["numero_formation"]
        group = formations.get(numero)
        if group is None:
            group = FormationGroup(numero, {k: v[k] for k in FORMATION_COLUMNS}, row.number)
            formations[numero] = group
        else:
            _conflicts(row, FORMATION_COLUMNS, group.values, group.first_row, f"formation {numero}")
        action = _action_of(row, group)
        sessions = session_numbers.setdefault(numero, {})
        session = v["numero_session"] or f"{action.numero}-S{len(action.sessions) + 1}"
        if session in sessions:
            row.fail("numero_session", f"session {session} déjà à la ligne {sessions[session]}")
        if row.errors:
            continue
        sessions[session] = row.number
        group.rows.append(row.number)
        action.sessions.append((session, v))
        group.actions.setdefault(action.numero, action)
    deletions = _deletions(rows, formations)
    return {n: g for n, g in formations.items() if g.rows}, deletions


def _action_of(row: _Row, group: FormationGroup) -> ActionGroup:
    """The action this row's session belongs to (not yet attached when new)."""
    v = row.values
    if v["numero_action"]:
        known = group.actions.get(v["numero_action"])
        if known is not None:
            _conflicts(row, ACTION_COLUMNS, known.values, known.first_row, f"action {known.numero}")
            return known
        return ActionGroup(v["numero_action"], {k: v[k] for k in ACTION_COLUMNS}, row.number)
    same = tuple(v[k] for k in ACTION_COLUMNS)
    for action in group.actions.values():
        if tuple(action.values[k] for k in ACTION_COLUMNS) == same:
            return action
    taken = {a.numero for a in group.actions.values()}
    rank = len(group.actions) + 1
    while f"{group.numero}-A{rank}" in taken:
        rank += 1
    return ActionGroup(f"{group.numero}-A{rank}", {k: v[k] for k in ACTION_COLUMNS}, row.number)


def _conflicts(row: _Row, names: tuple[str, ...], first: Values, first_row: int, what: str) -> None:
    for name in names:
        if row.values[name] != first[name]:
            row.fail(
                name,
                f"'{row.values[name]}' diffère de la ligne {first_row} pour la {what} "
                f"('{first[name]}')",
            )


def _deletions(rows: list[_Row], formations: dict[str, FormationGroup]) -> list[str]:
    deletions: list[str] = []
    for row in rows:
        if not row.deletes or row.errors:
            continue
        numero = row.values["numero_formation"]
        published = formations.get(numero)
        if published is not None and published.rows:
            first = published.rows[0]
            row.fail("operation", f"la formation {numero} est aussi publiée ligne {first}")
        elif numero not in deletions:
            deletions.append(numero)
    return deletions


def _document(
    formations: dict[str, FormationGroup],
    deletions: list[str],
    rows: list[_Row],
    region: str,
    report: ConversionReport,
) -> bytes:
    """The LHEO 2.3 delta: each formation validated alone against the XSD, then kept."""
    kept: list[bytes] = []
    by_number = {row.number: row for row in rows}
    schema = xml_schema("2.3")
    for group in formations.values():
        element = formation_element(group, region)
        alone = etree.Element(f"{{{NS_23}}}lheo", nsmap={None: NS_23})
        etree.SubElement(alone, f"{{{NS_23}}}offres").append(element)
        if not schema.validate(alone):
            last = schema.error_log.last_error
            reason = f"LHEO invalide : {last.message if last else 'refusé par le XSD'}"
            for number in group.rows:
                by_number[number].fail("numero_formation", reason)
            continue
        fragment = etree.tostring(
            element, encoding="UTF-8", xml_declaration=False, pretty_print=True
        )
        kept.append(formation_in_document(fragment))
        report.formations += 1
        report.sessions += len(group.rows)
    report.deletions = len(deletions)
    return (
        document_head(one_per_line=True)
        + b"".join(kept)
        + document_tail(deletions, one_per_line=True)
    )
