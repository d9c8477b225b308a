"""Places and identifiers of the synthetic LHEO corpus.

Communes come from ``communes.csv`` beside this module (real INSEE codes, postal codes and
populations) and are drawn in proportion to their population, so Paris, Marseille or Lyon carry
many offers and small towns few, as in real regional databases. The source has no coordinates:
each commune is placed near the approximate centre of its département
(``hub/publish/data/departements_centroides.csv``) with a small jitter derived from its
INSEE code, which is enough for maps and distance filters but not for geocoding.

SIRET, activity declaration numbers (NDA), UAI codes and phone numbers are generated in their
official formats: SIRET pass the Luhn check, UAI carry their check letter.
"""

from __future__ import annotations

import bisect
import csv
import io
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from random import Random
from typing import TypeVar

T = TypeVar("T")

WHOLE_COUNTRY = "*"

_UAI_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
_PHONE_PREFIX = {"971": "0590", "972": "0596", "973": "0594", "974": "0262", "976": "0269"}
_REGION_PHONE = {
    "11": "01",
    "24": "02",
    "28": "02",
    "52": "02",
    "53": "02",
    "27": "03",
    "32": "03",
    "44": "03",
    "84": "04",
    "93": "04",
    "94": "04",
    "75": "05",
    "76": "05",
}


def pick(rng: Random, choices: Sequence[T]) -> T:
    """``rng.choice(choices)`` at a fraction of its cost (called ~100 times per formation)."""
    return choices[int(rng.random() * len(choices))]


def randrange(rng: Random, start: int, stop: int | None = None) -> int:
    """``rng.randrange(start, stop)`` without its argument checks, for the same reason."""
    if stop is None:
        start, stop = 0, start
    return start + int(rng.random() * (stop - start))


@dataclass(frozen=True, slots=True)
class Commune:
    """A commune with what an LHEO ``<adresse>`` needs."""

    insee: str
    nom: str
    codes_postaux: tuple[str, ...]
    departement: str
    region: str
    population: int
    latitude: float
    longitude: float


def _read_csv(name: str) -> list[dict[str, str]]:
    """``communes.csv`` lies beside this module; the centres are the hub's own table."""
    here = Path(__file__).with_name(name)
    source = here if here.exists() else resources.files("hub.publish").joinpath(f"data/{name}")
    return list(csv.DictReader(io.StringIO(source.read_text(encoding="utf-8"))))


def _latin1(name: str) -> str:
    """Commune names written the way ISO-8859-1 producers write them (no oe ligature)."""
    return name.replace("œ", "oe").replace("Œ", "Oe")


@cache
def communes() -> tuple[Commune, ...]:
    """All packaged communes, placed near their département's centre."""
    centres = {
        row["departement"]: (float(row["latitude"]), float(row["longitude"]), float(row["rayon"]))
        for row in _read_csv("departements_centroides.csv")
    }
    result = []
    for row in _read_csv("communes.csv"):
        lat, lon, rayon = centres[row["departement"]]
        crc = zlib.crc32(row["code_insee"].encode("ascii"))
        dlat = ((crc & 0xFFFF) / 0xFFFF - 0.5) * 2 * rayon
        dlon = ((crc >> 16) / 0xFFFF - 0.5) * 2 * rayon * 1.4
        result.append(
            Commune(
                insee=row["code_insee"],
                nom=_latin1(row["nom"]),
                codes_postaux=tuple(row["codes_postaux"].split()),
                departement=row["departement"],
                region=row["region"],
                population=int(row["population"]),
                latitude=round(lat + dlat, 4),
                longitude=round(lon + dlon, 4),
            )
        )
    return tuple(result)


class CommunePicker:
    """Draws communes of some regions in proportion to their population."""

    def __init__(self, choices: tuple[Commune, ...]) -> None:
        if not choices:
            raise ValueError("no commune in the requested regions")
        self._choices = choices
        self._cumulative: list[int] = []
        total = 0
        for commune in choices:
            total += commune.population
            self._cumulative.append(total)
        self.population = total

    def pick(self, rng: Random) -> Commune:
        return self._choices[bisect.bisect_right(self._cumulative, rng.random() * self.population)]


@cache
def commune_picker(regions: tuple[str, ...]) -> CommunePicker:
    """The picker of ``regions`` (INSEE region codes), or of the whole country for ``("*",)``."""
    everything = communes()
    if WHOLE_COUNTRY in regions:
        return CommunePicker(everything)
    known = {commune.region for commune in everything}
    unknown = sorted(set(regions) - known)
    if unknown:
        raise ValueError(f"unknown region code(s) {', '.join(unknown)}; known: {sorted(known)}")
    return CommunePicker(tuple(c for c in everything if c.region in regions))


def national_population() -> int:
    return commune_picker((WHOLE_COUNTRY,)).population


def _luhn_complete(digits: str) -> str:
    """``digits`` followed by the check digit that makes the whole number Luhn-valid."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return digits + str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return number.isdigit() and _luhn_complete(number[:-1]) == number


def siren(rng: Random) -> str:
    first = "3456789"[randrange(rng, 7)]
    return _luhn_complete(first + str(randrange(rng, 10_000_000)).zfill(7))


def siret(rng: Random, of_siren: str | None = None) -> str:
    """A Luhn-valid SIRET, of ``of_siren`` when given (another establishment of a company)."""
    base = of_siren or siren(rng)
    return _luhn_complete(base + str(randrange(rng, 1, 1000)).zfill(4))


def _dep2(departement: str) -> str:
    if departement in ("2A", "2B"):
        return "20"
    return departement[:2]


def numero_activite(rng: Random, commune: Commune) -> str:
    """An 11-digit activity declaration number (region, département, sequence, département)."""
    dep = _dep2(commune.departement)
    return f"{commune.region[-2:]}{dep}{randrange(rng, 100_000):05d}{dep}"


def uai(rng: Random, departement: str) -> str:
    """A UAI establishment code: 7 characters and the check letter."""
    head = {"2A": "620", "2B": "720"}.get(departement, departement.zfill(3))
    body = f"{head}{randrange(rng, 10_000):04d}"
    return body + _UAI_LETTERS[int(body) % 23]


def telephone(rng: Random, commune: Commune, mobile: bool = False) -> str:
    """A French phone number in the usual ``01 23 45 67 89`` layout."""
    if mobile:
        head = "06" if rng.random() < 0.7 else "07"
        rest = f"{randrange(rng, 100_000_000):08d}"
    elif commune.departement in _PHONE_PREFIX:
        prefix = _PHONE_PREFIX[commune.departement]
        head, rest = prefix[:2], prefix[2:] + f"{randrange(rng, 1_000_000):06d}"
    else:
        head = _REGION_PHONE.get(commune.region, "09")
        rest = f"{randrange(rng, 10, 100)}{randrange(rng, 1_000_000):06d}"
    return " ".join((head, rest[0:2], rest[2:4], rest[4:6], rest[6:8]))


def geolocalisation(rng: Random, commune: Commune) -> tuple[str, str]:
    """Latitude and longitude of an address in ``commune`` (a few hundred metres around it)."""
    lat = commune.latitude + (rng.random() - 0.5) * 0.01
    lon = commune.longitude + (rng.random() - 0.5) * 0.014
    return f"{lat:.6f}", f"{lon:.6f}"
