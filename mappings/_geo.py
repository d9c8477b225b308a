"""Where an address is, in current INSEE codes.

Regional systems send pre-2016 region codes, départements without their leading zero,
or no département at all. The département is the anchor: taken as sent, else from the
INSEE commune code, else from the postal code; the region follows from it, and a
region sent that contradicts it is reported rather than trusted.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from hub.lheo.schema import NS_23
from mappings._cleaning import Cleaner
from mappings._codes import CodeBook
from mappings._issues import path_of
from mappings._tables import Tables

NS = {"l": NS_23}
_CORSE_SUD_LAST_POSTCODE = 20190


@dataclass(frozen=True, slots=True)
class Place:
    """A harmonised address: national codes and, when sent, coordinates."""

    departement: str | None = None
    region: str | None = None
    code_insee_commune: str | None = None
    latitude: float | None = None
    longitude: float | None = None


class Geography:
    """Regions (current and pre-2016) and départements, from the geography tables."""

    def __init__(self, tables: Tables, codes: CodeBook) -> None:
        self._regions = tables.regions.keys()
        self._old_regions = {
            row["code_ancien"]: row["code_region"] for row in tables.regions_anciennes
        }
        self._region_of = {row["code"]: row["code_region"] for row in tables.departements}
        self._codes = codes

    def region(self, source: str, raw: str | None, path: str, cleaner: Cleaner) -> str | None:
        """The current region for ``raw``: a current code, a pre-2016 one, or a local one."""
        if raw is None or not raw.strip():
            return None
        value = raw.strip().zfill(2)
        local = self._codes.local(source, "region", raw.strip())
        if local is not None:
            return local
        if value in self._regions:
            return value
        if value in self._old_regions:
            return self._old_regions[value]
        if cleaner.is_placeholder(raw):
            cleaner.log.cleaned(path, "placeholder", raw, "placeholder region treated as absent")
            return None
        message = f"{raw.strip()!r} is neither a current nor a pre-2016 region code"
        cleaner.log.unmapped(path, "region-inconnue", raw, message)
        return None

    def departement(self, source: str, raw: str | None, path: str, cleaner: Cleaner) -> str | None:
        """The INSEE département for ``raw`` (``1`` → ``01``, ``2a`` → ``2A``)."""
        if raw is None or not raw.strip():
            return None
        value = raw.strip().upper()
        local = self._codes.local(source, "departement", value)
        if local is not None:
            return local
        if len(value) == 1:
            value = value.zfill(2)
        if value in self._region_of:
            return value
        if cleaner.is_placeholder(raw):
            cleaner.log.cleaned(path, "placeholder", raw, "placeholder département: absent")
            return None
        cleaner.log.unmapped(path, "departement-inconnu", raw, f"{raw.strip()!r} is no département")
        return None

    def region_of(self, departement: str | None) -> str | None:
        return None if departement is None else self._region_of.get(departement)

    def place(self, source: str, adresse: etree._Element | None, cleaner: Cleaner) -> Place:
        """The harmonised place of an LHEO ``adresse`` element (empty when None)."""
        if adresse is None:
            return Place()
        path = path_of(adresse)
        commune = _text(adresse, "l:code-INSEE-commune")
        departement = self.departement(
            source, _text(adresse, "l:departement"), f"{path}/departement", cleaner
        ) or self._departement_from_codes(commune, _text(adresse, "l:codepostal"))
        region = self._consistent_region(source, adresse, departement, path, cleaner)
        latitude = cleaner.coordinate(
            _text(adresse, "l:geolocalisation/l:latitude"), f"{path}/geolocalisation/latitude", 90
        )
        longitude = cleaner.coordinate(
            _text(adresse, "l:geolocalisation/l:longitude"),
            f"{path}/geolocalisation/longitude",
            180,
        )
        commune = commune.strip().upper() if commune else None
        return Place(departement, region, commune, latitude, longitude)

    def _consistent_region(
        self,
        source: str,
        adresse: etree._Element,
        departement: str | None,
        path: str,
        cleaner: Cleaner,
    ) -> str | None:
        raw = _text(adresse, "l:region")
        sent = self.region(source, raw, f"{path}/region", cleaner)
        derived = self.region_of(departement)
        if sent is not None and derived is not None and sent != derived:
            message = f"region {sent} contradicts département {departement} (region {derived})"
            cleaner.log.suspicious(f"{path}/region", "region-incoherente", raw or "", message)
        return derived or sent

    def _departement_from_codes(self, commune: str | None, codepostal: str | None) -> str | None:
        for code, is_postcode in ((commune, False), (codepostal, True)):
            value = (code or "").strip().upper()
            if len(value) != 5:
                continue
            candidate = _departement_prefix(value, is_postcode=is_postcode)
            if candidate in self._region_of:
                return candidate
        return None


def _departement_prefix(code: str, *, is_postcode: bool) -> str:
    """The département a commune or postal code belongs to (97x and Corsica included)."""
    if code.startswith(("97", "98")):
        return code[:3]
    if is_postcode and code.startswith("20") and code.isdigit():
        return "2A" if int(code) <= _CORSE_SUD_LAST_POSTCODE else "2B"
    return code[:2]


def _text(element: etree._Element, path: str) -> str | None:
    found = element.find(path, NS)
    return None if found is None else found.text
