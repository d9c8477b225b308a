"""Where an address is, in current INSEE codes.

Regional systems send pre-2016 region codes, départements without their leading zero,
or no département at all. The département is the anchor: taken as sent, else from the
INSEE commune code, else from the postal code; the region follows from it, and a
region sent that contradicts it is reported rather than trusted.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from lxml import etree

from mappings._cleaning import Cleaner
from mappings._codes import CodeBook
from mappings._issues import At, IssueLog, Where
from mappings._model import MappingIssue
from mappings._paths import ChildPaths
from mappings._tables import Tables

_CORSE_SUD_LAST_POSTCODE = 20190
_ADRESSE = ChildPaths(
    "code-INSEE-commune",
    "departement",
    "codepostal",
    "region",
    "geolocalisation/latitude",
    "geolocalisation/longitude",
)


@dataclass(frozen=True, slots=True)
class Place:
    """A harmonised address: national codes and, when sent, coordinates."""

    departement: str | None = None
    region: str | None = None
    code_insee_commune: str | None = None
    latitude: float | None = None
    longitude: float | None = None


NOWHERE = Place()
"""The place of a missing address."""


class Geography:
    """Regions (current and pre-2016) and départements, from the geography tables."""

    def __init__(self, tables: Tables, codes: CodeBook) -> None:
        self._regions = tables.regions.keys()
        self._old_regions = {
            row["code_ancien"]: row["code_region"] for row in tables.regions_anciennes
        }
        self._region_of = {row["code"]: row["code_region"] for row in tables.departements}
        self._codes = codes
        self._place = lru_cache(maxsize=16384)(self._read_place)
        self._area = lru_cache(maxsize=16384)(self._read_area)

    def region(self, source: str, raw: str | None, path: Where, cleaner: Cleaner) -> str | None:
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

    def departement(
        self, source: str, raw: str | None, path: Where, cleaner: Cleaner
    ) -> str | None:
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
            return NOWHERE
        place, issues = self._place(source, _ADRESSE.first_texts(adresse))
        for issue in issues:  # their paths are relative to the adresse
            path = At(adresse, issue.path)
            cleaner.log.add(issue.kind, path, issue.code, issue.value, issue.message)
        return place

    def _read_place(
        self, source: str, texts: tuple[str | None, ...]
    ) -> tuple[Place, tuple[MappingIssue, ...]]:
        """The place of an address whose texts are ``texts`` (in the order of ``_ADRESSE``),
        and the issues met, their paths relative to the address. Cached (``_place``): the
        addresses of an organisme's sites come back in all its formations."""
        commune, departement_sent, codepostal, region_sent, latitude_sent, longitude_sent = texts
        area, issues = self._area(source, commune, departement_sent, codepostal, region_sent)
        cleaner = Cleaner(self._codes.placeholders, IssueLog(source))
        latitude = cleaner.coordinate(latitude_sent, "/geolocalisation/latitude", 90)
        longitude = cleaner.coordinate(longitude_sent, "/geolocalisation/longitude", 180)
        place = Place(*area, latitude, longitude)
        # NOWHERE itself for an empty place, so that readers may test it by identity
        return NOWHERE if place == NOWHERE else place, issues + tuple(cleaner.log.issues)

    def _read_area(
        self,
        source: str,
        commune: str | None,
        departement_sent: str | None,
        codepostal: str | None,
        region_sent: str | None,
    ) -> tuple[tuple[str | None, str | None, str | None], tuple[MappingIssue, ...]]:
        """The département, region and commune of an address, and the issues met (their
        paths relative to the address). Cached (``_area``) apart from the coordinates,
        which differ from site to site of the same commune."""
        cleaner = Cleaner(self._codes.placeholders, IssueLog(source))
        departement = self.departement(
            source, departement_sent, "/departement", cleaner
        ) or self._departement_from_codes(commune, codepostal)
        region = self._consistent_region(source, region_sent, departement, "/region", cleaner)
        commune = commune.strip().upper() if commune else None
        return (departement, region, commune), tuple(cleaner.log.issues)

    def _consistent_region(
        self,
        source: str,
        raw: str | None,
        departement: str | None,
        path: Where,
        cleaner: Cleaner,
    ) -> str | None:
        sent = self.region(source, raw, path, cleaner)
        derived = self.region_of(departement)
        if sent is not None and derived is not None and sent != derived:
            message = f"region {sent} contradicts département {departement} (region {derived})"
            cleaner.log.suspicious(path, "region-incoherente", raw or "", message)
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
