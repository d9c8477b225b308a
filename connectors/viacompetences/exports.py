"""Two legacy exports in, one regional offer out: the via-competences dialect's ``combine``.

Both exports are archived as fetched; the hub's read stage hands them to
:meth:`ViaCompetencesDialect.combine`, in two streaming passes. Pass 1 reads every export
one formation at a time, harmonises it (:class:`BaseDialect`: region codes, numero
prefixes, local codes), and keeps only what the merge needs (its key, ``datemaj``,
validity against the XSD, a fingerprint of its texts; see
:mod:`connectors.viacompetences.merge`). Pass 2 reads the exports again and publishes each
offer's winning copy once, with its provenance; copies that differ from the winner become
findings. Memory holds the index, never the offer. Every finding names its export's file
and its line there.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from lxml import etree

from connectors.codes import LocalCodes, OldRegions
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
from hub.lheo.dialect import Combined, Dialect, Flag, Part, Reader, mark_quality
from hub.lheo.schema import xml_schema

__all__ = ["BaseDialect", "ViaCompetencesDialect"]


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


class ViaCompetencesDialect(Dialect):
    """The exports of the former bases, each harmonised, merged into one offer per region."""

    name = "via-competences"
    lheo_version = "2.3"

    def __init__(
        self,
        bases: Sequence[BaseDialect],
        *,
        preferred: str,
        region: str,
        regions: OldRegions,
    ) -> None:
        self.bases, self.preferred, self.region, self.regions = (
            list(bases),
            preferred,
            region,
            regions,
        )

    def fingerprint(self) -> str:
        codes = "/".join(f"{base.name}:{base.codes.fingerprint()}" for base in self.bases)
        return f"{super().fingerprint()}/{self.preferred}/{self.region}/{codes}"

    def combine(self, parts: Sequence[Part], read: Reader) -> Iterator[Combined | RecordError]:
        by_role = {part.role: part for part in parts}
        missing = [base.name for base in self.bases if base.name not in by_role]
        if missing:
            raise FatalFetchError(
                f"the flow lacks the export of {', '.join(missing)}: a via-competences "
                "snapshot needs every base's export",
                hint="sync the source again: both exports are fetched together",
            )
        exports = [(base, by_role[base.name]) for base in self.bases]
        names = [base.name for base in self.bases]
        prefixes = {base.name: base.old_region for base in self.bases}
        plan = MergePlan(names, self.preferred, prefixes, self.region)
        for base, part in exports:
            yield from self._index(base, part, read, plan)
        yield from plan.decide(files={base.name: part.name for base, part in exports})
        writer = _Writer(plan, names, self.region, self.regions)
        for base, part in exports:
            yield from writer.write(base, part, read)

    def _index(
        self, base: BaseDialect, part: Part, read: Reader, plan: MergePlan
    ) -> Iterator[RecordError]:
        """Pass 1: add every formation of one export to ``plan``; the unreadable are rejected."""
        schema = xml_schema("2.3")
        for position, (element, line, errors) in enumerate(read(part)):
            if element is None:
                yield from (
                    RecordError(
                        e.numero, e.line, e.path, f"{base.name} export: {e.reason}", "read", e.file
                    )
                    for e in errors
                )
                continue
            numero = element.get("numero") or ""
            datemaj = element.get("datemaj") or ""
            flags = base.harmonise(element, region=self.region, regions=self.regions)
            plan.add(
                Copy(
                    base=base.name,
                    position=position,
                    numero=numero,
                    line=line,
                    datemaj=datemaj,
                    valid=bool(schema.validate(element)),
                    key=merge_key(element),
                    fingerprint=fingerprint(element),  # last: it strips the attributes
                    flags=flags,
                )
            )


class _Writer:
    """Pass 2: the winners, published once with their provenance; the losers' differences."""

    def __init__(self, plan: MergePlan, bases: list[str], region: str, regions: OldRegions) -> None:
        self.plan, self.bases, self.region, self.regions = plan, bases, region, regions
        self._pending: dict[int, dict[str, dict[str, str]]] = {}
        self._files: dict[str, str] = {}

    def write(
        self, base: BaseDialect, part: Part, read: Reader
    ) -> Iterator[Combined | RecordError]:
        self._files[base.name] = part.name
        for position, (element, _line, _errors) in enumerate(read(part)):
            offer = self.plan.offer_of(base.name, position)
            if element is None or offer is None or offer.winner is None:
                continue
            base.harmonise(element, region=self.region, regions=self.regions)
            if offer.differing():
                yield from self._compare(offer, base.name, leaves(element))
            if offer.winner is offer.copies[base.name]:
                yield self._publish(offer, element, part)

    def _publish(self, offer: Offer, element: etree._Element, part: Part) -> Combined:
        winner = offer.winner
        assert winner is not None
        element.set("numero", offer.numero)
        mark_quality(element, winner.flags)
        element.append(provenance_extras(offer, self.bases))
        return Combined(element, part, winner.line, list(winner.flags))

    def _compare(self, offer: Offer, base: str, texts: dict[str, str]) -> Iterator[RecordError]:
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
            yield RecordError(
                offer.numero,
                copy.line,
                f"formation[@numero='{copy.numero}']",
                f"fusion-ecart: the {name} copy {copy.numero} (datemaj {copy.datemaj}) "
                f"differs from the {winner.base} copy published (datemaj "
                f"{winner.datemaj}): {described}",
                stage="flag",
                file=self._files.get(name),
            )
