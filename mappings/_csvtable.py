"""Reading one code table: a UTF-8 CSV with a header row, checked as it is read.

Each row remembers its file and line so that a broken table, an explanation or a
surprising mapping can always be traced back to the exact line to change.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from hub.errors import MappingError


@dataclass(frozen=True, slots=True)
class Row:
    """One data row of a table, with the line it starts on (the header is line 1)."""

    table: str
    line: int
    values: Mapping[str, str]

    def __getitem__(self, column: str) -> str:
        return self.values[column]

    def many(self, column: str) -> tuple[str, ...]:
        """The ``|``-separated values of ``column``, empty when the cell is empty."""
        return tuple(part.strip() for part in self.values[column].split("|") if part.strip())

    def error(self, message: str) -> MappingError:
        """A MappingError naming this row's file and line."""
        return MappingError(f"{self.table}, line {self.line}: {message}")


@dataclass(frozen=True, slots=True)
class TableSpec:
    """What a table must look like: its file, columns, key and non-empty columns."""

    file: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    required: tuple[str, ...] = ()
    unique: tuple[tuple[str, ...], ...] = ()
    """Column sets other than the key that must also be unique (e.g. a rule's priority)."""


@dataclass(frozen=True, slots=True)
class Table:
    """A loaded table: its rows in file order and an index by key."""

    spec: TableSpec
    rows: tuple[Row, ...]
    index: Mapping[tuple[str, ...], Row] = field(repr=False)

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, *key: str) -> Row | None:
        return self.index.get(key)

    def keys(self) -> frozenset[str]:
        """The first key column's values: the codes a one-column-key table defines."""
        return frozenset(key[0] for key in self.index)


def read_table(directory: Path, spec: TableSpec) -> Table:
    """Read and check ``spec.file`` under ``directory``; raise MappingError at the bad line."""
    path = directory / spec.file
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MappingError(f"{spec.file}: missing from {directory}") from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise MappingError(f"{spec.file}, line {line}: not UTF-8 ({exc.reason})") from exc
    reader = csv.reader(text.splitlines(keepends=True))
    header = [name.strip() for name in next(reader, [])]
    missing = [column for column in spec.columns if column not in header]
    if missing:
        raise MappingError(f"{spec.file}, line 1: missing column(s) {', '.join(missing)}")
    rows = tuple(_rows(reader, spec.file, header))
    index = _unique_index(rows, spec.key, spec.file)
    for columns in spec.unique:
        _unique_index(rows, columns, spec.file)
    for row in rows:
        for column in (*spec.key, *spec.required):
            if not row[column]:
                raise row.error(f"column {column!r} is empty")
    return Table(spec, rows, index)


class _CsvReader(Protocol):
    line_num: int

    def __iter__(self) -> Iterator[list[str]]: ...
    def __next__(self) -> list[str]: ...


def _rows(reader: _CsvReader, file: str, header: list[str]) -> Iterator[Row]:
    while True:
        start = reader.line_num + 1
        cells = next(reader, None)
        if cells is None:
            return
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            message = f"{len(cells)} fields where the header has {len(header)}"
            raise MappingError(f"{file}, line {start}: {message}")
        yield Row(
            file, start, {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
        )


def _unique_index(
    rows: tuple[Row, ...], columns: tuple[str, ...], file: str
) -> dict[tuple[str, ...], Row]:
    index: dict[tuple[str, ...], Row] = {}
    for row in rows:
        key = tuple(row[column] for column in columns)
        first = index.setdefault(key, row)
        if first is not row:
            shown = ", ".join(key)
            raise row.error(f"duplicate {'/'.join(columns)} ({shown}), first at line {first.line}")
    return index
