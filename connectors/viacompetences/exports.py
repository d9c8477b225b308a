"""Two legacy exports in, one regional LHEO 2.3 snapshot out, in two streaming passes.

Pass 1 reads every export one formation at a time, harmonises it (:class:`BaseDialect`:
region codes, numero prefixes, local codes), and keeps only what the merge needs (its key,
``datemaj``, validity against the XSD, a fingerprint of its texts; see
:mod:`connectors.viacompetences.merge`). Pass 2 reads the exports again and writes each
offer's winning copy once, with its provenance; copies that differ from the winner become
findings. Memory holds the index, never the offer: the exports stay in their spooled files.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO

from lxml import etree

from connectors.dialect import QUALITY_INFO, Flag
from connectors.http import SPOOL_IN_MEMORY
from connectors.viacompetences.codes import LocalCodes, OldRegions
from connectors.viacompetences.merge import (
    Copy,
    MergePlan,
    Offer,
    differences,
    fingerprint,
    leaves,
    merge_key,
    provenance_extras,
)
from hub.errors import FatalFetchError, RecordError
from hub.lheo.reader import LheoReader
from hub.lheo.schema import NS_23, xml_schema

__all__ = ["BaseDialect", "Export", "Merged", "merge_exports"]

_HEAD = f'<?xml version="1.0" encoding="UTF-8"?>\n<lheo xmlns="{NS_23}">\n<offres>\n'.encode()
_TAIL = b"</offres>\n</lheo>\n"


@dataclass(frozen=True, slots=True)
class BaseDialect:
    """How one legacy base writes its offers: its old region code and its local codes."""

    name: str
    old_region: str
    codes: LocalCodes

    def harmonise(
        self, formation: etree._Element, *, region: str, regions: OldRegions
    ) -> list[Flag]:
        """Bring a formation of this base to the current region's codes, in place.

        ``<region>`` codes become current ones, numeros ``83_…`` become ``84_…`` (actions,
        sessions and organismes too), local codes become national ones; the returned flags
        name the codes it could not translate.
        """
        regions.harmonise(formation)
        prefix = f"{self.old_region}_"
        for element in formation.iter(tag=etree.Element):
            numero = element.get("numero")
            if numero is not None and numero.startswith(prefix):
                element.set("numero", f"{region}_{numero[len(prefix) :]}")
        return self.codes.translate(formation)


@dataclass(frozen=True, slots=True)
class Export:
    """One base's export as fetched: its dialect and its bytes."""

    dialect: BaseDialect
    body: IO[bytes]


@dataclass(slots=True)
class Merged:
    """The regional snapshot and what the merge found."""

    body: IO[bytes]
    findings: list[RecordError] = field(default_factory=list)
    formations: int = 0
    """Formations published."""
    copies: int = 0
    """Formations read over all exports."""
    merged: int = 0
    """Offers described by more than one base, published once."""


def merge_exports(
    exports: Sequence[Export], *, preferred: str, region: str, regions: OldRegions
) -> Merged:
    """Merge the full exports of every base into one snapshot of ``region``'s offer."""
    names = [export.dialect.name for export in exports]
    prefixes = {export.dialect.name: export.dialect.old_region for export in exports}
    plan = MergePlan(names, preferred, prefixes, region)
    findings: list[RecordError] = []
    copies = 0
    for export in exports:
        copies += _index(export, plan, region, regions, findings)
    findings += plan.decide()
    writer = _Writer(plan, names, region, regions)
    for export in exports:
        writer.write(export)
    writer.out.write(_TAIL)
    writer.out.seek(0)
    return Merged(
        writer.out,
        findings + writer.findings,
        formations=writer.formations,
        copies=copies,
        merged=sum(1 for _ in plan.merged()),
    )


def _reader(export: Export) -> LheoReader:
    export.body.seek(0)
    reader = LheoReader(export.body, validate=False)
    if reader.version != "2.3":
        raise FatalFetchError(
            f"invalid payload: the {export.dialect.name} export is LHEO {reader.version}, "
            "the connector reads LHEO 2.3",
            hint="the regional system changed its format: update the connector",
        )
    return reader


def _index(
    export: Export, plan: MergePlan, region: str, regions: OldRegions, findings: list[RecordError]
) -> int:
    """Pass 1: add every formation of ``export`` to ``plan``; returns how many were read."""
    base, schema = export.dialect.name, xml_schema("2.3")
    position = -1
    for position, record in enumerate(_reader(export)):
        if record.element is None:
            findings.extend(
                RecordError(e.numero, e.line, e.path, f"{base} export: {e.reason}; dropped", "read")
                for e in record.errors
            )
            continue
        element = record.element
        flags = export.dialect.harmonise(element, region=region, regions=regions)
        copy = Copy(
            base=base,
            position=position,
            numero=record.numero or "",
            line=record.line,
            datemaj=record.datemaj or "",
            valid=bool(schema.validate(element)),
            key=merge_key(element),
            fingerprint=fingerprint(element),  # last: it strips the attributes
            flags=flags,
        )
        plan.add(copy)
    return position + 1


class _Writer:
    """Pass 2: the winners, written once with their provenance; the losers' differences."""

    def __init__(self, plan: MergePlan, bases: list[str], region: str, regions: OldRegions) -> None:
        self.plan, self.bases, self.region, self.regions = plan, bases, region, regions
        self.out = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
        self.out.write(_HEAD)
        self.findings: list[RecordError] = []
        self.formations = 0
        self._pending: dict[int, dict[str, dict[str, str]]] = {}

    def write(self, export: Export) -> None:
        base = export.dialect.name
        for position, record in enumerate(_reader(export)):
            offer = self.plan.offer_of(base, position)
            if record.element is None or offer is None or offer.winner is None:
                continue
            element = record.element
            export.dialect.harmonise(element, region=self.region, regions=self.regions)
            if offer.differing():
                self._compare(offer, base, leaves(element))
            if offer.winner is offer.copies[base]:
                self._publish(offer, element)

    def _publish(self, offer: Offer, element: etree._Element) -> None:
        winner = offer.winner
        assert winner is not None
        element.set("numero", offer.numero)
        if winner.flags:
            quality = etree.SubElement(element, f"{{{NS_23}}}extras", info=QUALITY_INFO)
            for flag in winner.flags:
                etree.SubElement(quality, f"{{{NS_23}}}extra", info=flag.code).text = flag.detail
            path = f"formation[@numero='{offer.numero}']/extras[@info='{QUALITY_INFO}']"
            self.findings.extend(
                RecordError(offer.numero, winner.line, path, f"{f.code}: {f.detail}", "flag")
                for f in winner.flags
            )
        element.append(provenance_extras(offer, self.bases))
        self.out.write(etree.tostring(element, encoding="UTF-8"))
        self.out.write(b"\n")
        self.formations += 1

    def _compare(self, offer: Offer, base: str, texts: dict[str, str]) -> None:
        """Hold each copy's texts until the offer's last copy is read, then diff them."""
        seen = self._pending.setdefault(id(offer), {})
        seen[base] = texts
        if len(seen) < len(offer.copies):
            return
        del self._pending[id(offer)]
        winner = offer.winner
        assert winner is not None
        for name, copy in offer.copies.items():
            if copy is winner or copy.fingerprint == winner.fingerprint:
                continue
            described = "; ".join(differences(seen[winner.base], seen[name]))
            if not described:
                continue  # the copies differ only by layout (whitespace)
            self.findings.append(
                RecordError(
                    offer.numero,
                    copy.line,
                    f"formation[@numero='{copy.numero}']",
                    f"fusion-ecart: the {name} copy {copy.numero} (datemaj {copy.datemaj}) "
                    f"differs from the {winner.base} copy published (datemaj "
                    f"{winner.datemaj}): {described}",
                    stage="flag",
                )
            )
