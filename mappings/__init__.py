"""Harmonisation of regional LHEO offers into one national offer.

Code tables live in ``mappings/tables/*.csv`` (documented in ``tables/README.md``);
`load_tables` reads and checks them, `Harmoniser` applies them to one formation at a
time, and `mappings.stats.key_figures` counts the harmonised offer.
"""

from __future__ import annotations

from mappings._harmoniser import Harmoniser
from mappings._model import (
    Certification,
    Conventionnement,
    Explanation,
    HarmonisedAction,
    HarmonisedFormation,
    HarmonisedSession,
    IssueKind,
    LanguageKind,
    LanguagePath,
    LanguageTraining,
    MappingIssue,
    from_json,
    to_json,
)
from mappings._tables import TABLES_DIRECTORY, Tables, load_tables

__all__ = [
    "TABLES_DIRECTORY",
    "Certification",
    "Conventionnement",
    "Explanation",
    "HarmonisedAction",
    "HarmonisedFormation",
    "HarmonisedSession",
    "Harmoniser",
    "IssueKind",
    "LanguageKind",
    "LanguagePath",
    "LanguageTraining",
    "MappingIssue",
    "Tables",
    "from_json",
    "load_tables",
    "to_json",
]
