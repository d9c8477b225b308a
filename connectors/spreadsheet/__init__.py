"""Spreadsheet offers (CSV or XLSX in a documented column template) → LHEO 2.3.

For the overseas territories (Guadeloupe 01, Martinique 02, Guyane 03, La Réunion 04,
Mayotte 06) whose systems cannot publish LHEO. ``read`` is the whole conversion; the
template is described in ``README.md`` and, as data, in ``template.COLUMNS``.
"""

from __future__ import annotations

from connectors.spreadsheet.converter import CellError, Conversion, ConversionReport, read
from connectors.spreadsheet.sheets import SpreadsheetError
from connectors.spreadsheet.template import COLUMNS, REQUIRED, TERRITORIES

__all__ = [
    "COLUMNS",
    "REQUIRED",
    "TERRITORIES",
    "CellError",
    "Conversion",
    "ConversionReport",
    "SpreadsheetError",
    "read",
]
