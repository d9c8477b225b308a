"""Recognising the certifications a formation prepares, and whether they open the CPF.

A certification is named by its Certif Info code or its RS code; the hub's label
(``DELF A2``, ``DCL FLE``) comes from ``certifinfo.csv`` and ``certifications.csv``.
Codes outside those tables are kept as they are, without a label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from hub.lheo.schema import NS_23
from mappings._cleaning import Cleaner
from mappings._issues import path_of
from mappings._model import Certification
from mappings._tables import Tables

NS = {"l": NS_23}
_FORMATION_CODES = {
    "certifinfo": "l:code-CERTIFINFO",
    "rs": "l:code-RS",
    "rncp": "l:code-RNCP",
    "cpf": "l:code-CPF",
}
_SESSION_CODES = {
    "certifinfo": "l:reference-code-CERTIFINFO",
    "rs": "l:reference-code-RS",
    "rncp": "l:reference-code-RNCP",
}


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

    def read(self, formation: etree._Element, cleaner: Cleaner) -> list[Certification]:
        """Every certification of the formation and of its sessions, each once."""
        found: list[Certification] = []
        for element in formation.iterfind("l:certification", NS):
            found.append(self._certification(element, _FORMATION_CODES, cleaner))
        for element in formation.iterfind("l:action/l:session/l:reference-certification", NS):
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
        self, element: etree._Element, paths: dict[str, str], cleaner: Cleaner
    ) -> Certification:
        codes: dict[str, str | None] = {}
        for name, child_path in paths.items():
            child = element.find(child_path, NS)
            where = path_of(child) if child is not None else ""
            codes[name] = cleaner.text(None if child is None else child.text, where)
        rs = _rs(codes["rs"]) if codes["rs"] else None
        label = self._by_certifinfo.get(codes["certifinfo"] or "") or self._by_rs.get(rs or "")
        entry = self._by_label.get(label or "")
        return Certification(
            label=label,
            certifinfo=codes["certifinfo"],
            rs=rs or self._rs_of.get(label or ""),
            rncp=_rncp(codes["rncp"]) if codes["rncp"] else None,
            cpf=codes.get("cpf"),
            cefr=None if entry is None else entry.cefr,
        )


def _codes(certification: Certification) -> tuple[str | None, ...]:
    return (certification.certifinfo, certification.rs, certification.rncp, certification.cpf)


def _rs(code: str | None) -> str:
    """``5080``, ``rs 5080`` and ``RS5080`` are one RS code: ``RS5080``."""
    digits = re.sub(r"^\s*RS\s*", "", code or "", flags=re.IGNORECASE).strip()
    return f"RS{digits}"


def _rncp(code: str) -> str:
    """``34567`` and ``RNCP34567`` are one RNCP code: ``RNCP34567``."""
    digits = re.sub(r"^\s*RNCP\s*", "", code, flags=re.IGNORECASE).strip()
    return f"RNCP{digits}"
