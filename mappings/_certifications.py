"""Recognising the certifications a formation prepares, and whether they open the CPF.

A certification is named by its Certif Info code or its RS code; the hub's label
(``DELF A2``, ``DCL FLE``) comes from ``certifinfo.csv`` and ``certifications.csv``.
Codes outside those tables are kept as they are, without a label.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from lxml import etree

from mappings._cleaning import Cleaner
from mappings._model import Certification
from mappings._paths import ChildPaths, first
from mappings._tables import Tables

_CODE_NAMES = ("certifinfo", "rs", "rncp", "cpf")
"""The codes of a certification, in the order of the paths below."""
_FORMATION_CODES = ChildPaths("code-CERTIFINFO", "code-RS", "code-RNCP", "code-CPF")
_SESSION_CODES = ChildPaths("reference-code-CERTIFINFO", "reference-code-RS", "reference-code-RNCP")
_RS_PREFIX = re.compile(r"^\s*RS\s*", flags=re.IGNORECASE)
_RNCP_PREFIX = re.compile(r"^\s*RNCP\s*", flags=re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Entry:
    label: str
    famille: str
    cefr: str | None
    eligible_cpf: bool


class CertificationBook:
    """The language certifications the hub knows, by Certif Info code, RS code and label."""

    def __init__(self, tables: Tables) -> None:
        self._by_label = {
            row["label"]: _Entry(
                row["label"], row["famille"], row["cefr"] or None, row["eligible_cpf"] == "1"
            )
            for row in tables.certifications
        }
        self._by_certifinfo = {row["code_certifinfo"]: row["label"] for row in tables.certifinfo}
        self._by_rs = {_rs(row["rs"]): row["label"] for row in tables.certifications if row["rs"]}
        self._rs_of = {row["label"]: _rs(row["rs"]) for row in tables.certifications if row["rs"]}
        self._of_codes = lru_cache(maxsize=4096)(self._certification_of)
        """`_certification_of`, cached: an organisme's formations prepare the same
        certifications (the result is immutable, so it is shared)."""

    def read(
        self,
        certifications: Iterable[etree._Element],
        references: Iterable[etree._Element],
        cleaner: Cleaner,
    ) -> list[Certification]:
        """Every certification of the formation (its ``certification`` elements and its
        sessions' ``reference-certification`` elements, in document order), each once."""
        found: list[Certification] = []
        for element in certifications:
            found.append(self._certification(element, _FORMATION_CODES, cleaner))
        for element in references:
            found.append(self._certification(element, _SESSION_CODES, cleaner))
        unique: dict[tuple[str | None, ...], Certification] = {}
        for certification in found:
            key = (certification.label,) if certification.label else _codes(certification)
            if any(key) and key not in unique:
                unique[key] = certification
        return list(unique.values())

    def names(self, certifications: list[Certification]) -> frozenset[str]:
        """Labels and families (``DELF A2``, ``DELF``) the language rules can test."""
        entries = [self._by_label[c.label] for c in certifications if c.label in self._by_label]
        return frozenset(name for entry in entries for name in (entry.label, entry.famille))

    def eligible_cpf(self, label: str | None) -> bool:
        entry = self._by_label.get(label or "")
        return entry is not None and entry.eligible_cpf

    def _certification(
        self, element: etree._Element, paths: ChildPaths, cleaner: Cleaner
    ) -> Certification:
        codes: dict[str, str | None] = dict.fromkeys(_CODE_NAMES)
        found = paths.find(element)
        for name, path in zip(_CODE_NAMES, paths.paths, strict=False):
            child = first(found, path)
            if child is not None:
                codes[name] = cleaner.text(child.text, child)
        return self._of_codes(codes["certifinfo"], codes["rs"], codes["rncp"], codes["cpf"])

    def _certification_of(
        self, certifinfo: str | None, rs: str | None, rncp: str | None, cpf: str | None
    ) -> Certification:
        """The certification named by these (cleaned) codes; before caching."""
        rs = _rs(rs) if rs else None
        label = self._by_certifinfo.get(certifinfo or "") or self._by_rs.get(rs or "")
        entry = self._by_label.get(label or "")
        return Certification(
            label=label,
            certifinfo=certifinfo,
            rs=rs or self._rs_of.get(label or ""),
            rncp=_rncp(rncp) if rncp else None,
            cpf=cpf,
            cefr=None if entry is None else entry.cefr,
        )


def _codes(certification: Certification) -> tuple[str | None, ...]:
    return (certification.certifinfo, certification.rs, certification.rncp, certification.cpf)


def _rs(code: str | None) -> str:
    """``5080``, ``rs 5080`` and ``RS5080`` are one RS code: ``RS5080``."""
    digits = _RS_PREFIX.sub("", code or "").strip()
    return f"RS{digits}"


def _rncp(code: str) -> str:
    """``34567`` and ``RNCP34567`` are one RNCP code: ``RNCP34567``."""
    digits = _RNCP_PREFIX.sub("", code).strip()
    return f"RNCP{digits}"
