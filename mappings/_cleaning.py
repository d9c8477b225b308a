"""Cleaning the values regional systems send in place of proper ones.

Each function returns the cleaned value and logs what it did: a value changed is
``cleaned`` (with the original kept in the issue), a value that cannot be trusted is
``suspicious``. The input element is never modified.
"""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import date
from functools import lru_cache

from mappings._issues import Finding, IssueLog, Where

_SPACES = re.compile(r"\s+")
_NOT_WORD = re.compile(r"[^0-9a-z]+")
_TAGS = re.compile(r"</?[a-zA-Z][^>]*>")
_PLAIN_NUMBER = re.compile(r"\d+(\.\d+)?")
_CURRENCY = re.compile(r"(€|eur(os?)?|ttc)", re.IGNORECASE)
_DIGITS_8 = re.compile(r"\d{8}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SIRET_SEPARATORS = re.compile(r"[\s.]")
_THOUSANDS_SEPARATORS = re.compile(r"[\s\u00a0\u202f']")
_LA_POSTE_SIREN = "356000000"
_UNKNOWN_DATES = frozenset({"00000000", "99999999"})


@lru_cache(maxsize=8192)
def normalise(text: str) -> str:
    """Lower case, accents and punctuation removed, words separated by one space.

    Used to compare titles, keywords and extras whatever the case, accents or
    apostrophes: ``Contrat d'Intégration`` and ``contrat d integration`` are equal.
    Cached: extras repeat the same few names and values across a whole flow.
    """
    decomposed = unicodedata.normalize("NFKD", text.lower())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _NOT_WORD.sub(" ", bare).strip()


@lru_cache(maxsize=8192)
def placeholder_key(text: str) -> str:
    """How placeholders are compared: lower case, no accents, single spaces.

    Cached: every date, price and code is tested, and a flow repeats the same values.
    """
    decomposed = unicodedata.normalize("NFKD", text.lower())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _SPACES.sub(" ", bare).strip()


class Cleaner:
    """Cleans the raw values of one formation, logging each change to ``log``."""

    def __init__(self, placeholders: frozenset[str], log: IssueLog) -> None:
        self.placeholders = placeholders
        self.log = log

    def is_placeholder(self, raw: str) -> bool:
        return placeholder_key(raw) in self.placeholders

    def text(self, raw: str | None, path: Where) -> str | None:
        """Free text: placeholders become None, HTML escapes and tags are undone."""
        if raw is None or not raw.strip():
            return None
        value = _SPACES.sub(" ", raw).strip()
        if self.is_placeholder(value):
            self.log.cleaned(path, "placeholder", raw, "placeholder text treated as absent")
            return None
        unescaped = _unescape(value)
        if unescaped != value:
            self.log.cleaned(path, "html-echappe", raw, f"HTML escapes undone: {unescaped!r}")
        return unescaped or None

    def siret(self, raw: str | None, path: Where) -> str | None:
        """A 14-digit SIRET, or None with a suspicious issue when it cannot be one."""
        if raw is None or not raw.strip():
            return None
        digits = _SIRET_SEPARATORS.sub("", raw)
        if not digits.isdigit() or set(digits) == {"0"}:
            self.log.suspicious(path, "siret-absent", raw, "not a SIRET: treated as absent")
            return None
        if len(digits) != 14:
            code = "siret-15-chiffres" if len(digits) == 15 else "siret-longueur"
            message = f"a SIRET has 14 digits, this one {len(digits)}: treated as absent"
            self.log.suspicious(path, code, raw, message)
            return None
        if not _siret_checksum_ok(digits):
            self.log.suspicious(path, "siret-cle", raw, "SIRET check digit is wrong (kept)")
        if digits != raw:
            self.log.cleaned(path, "siret-reformate", raw, "spaces removed from the SIRET")
        return digits

    def price(self, raw: str | None, path: Where) -> float | None:
        """A price in euros; ``1 250,50 €`` becomes 1250.5."""
        if raw is None or not raw.strip():
            return None
        if self.is_placeholder(raw):
            self.log.cleaned(path, "placeholder", raw, "placeholder price treated as absent")
            return None
        if _PLAIN_NUMBER.fullmatch(raw):
            return float(raw)  # the usual case, with nothing to clean
        number = _decimal_text(_CURRENCY.sub("", raw))
        try:
            value = float(number)
        except ValueError:
            self.log.suspicious(path, "prix-illisible", raw, "not a price: treated as absent")
            return None
        if not _PLAIN_NUMBER.fullmatch(raw.strip()):
            self.log.cleaned(path, "prix-reformate", raw, f"read as {value}")
        if value < 0:
            self.log.suspicious(path, "prix-negatif", raw, "negative price (kept)")
        return value

    def date(self, raw: str | None, path: Where) -> str | None:
        """An LHEO date (``YYYYMMDD``) as ISO; an unknown day gives ``YYYY-MM``."""
        iso, findings = _read_date(raw, self.placeholders)
        if findings:
            self.log.report(path, raw or "", findings)
        return iso

    def coordinate(self, raw: str | None, path: Where, limit: float) -> float | None:
        """A latitude (limit 90) or longitude (limit 180) in decimal degrees."""
        if raw is None or not raw.strip():
            return None
        try:
            value = float(raw.strip().replace(",", "."))
        except ValueError:
            self.log.suspicious(path, "coordonnee-illisible", raw, "not a number: ignored")
            return None
        if not -limit <= value <= limit:
            self.log.suspicious(path, "coordonnee-hors-limites", raw, "out of range: ignored")
            return None
        if "," in raw:
            self.log.cleaned(path, "coordonnee-reformatee", raw, f"decimal comma: read {value}")
        return value


@lru_cache(maxsize=8192)
def _read_date(
    raw: str | None, placeholders: frozenset[str]
) -> tuple[str | None, tuple[Finding, ...]]:
    """`Cleaner.date` without the logging: the date read and the issue to log, if any.

    Cached: the sessions of a flow start and end on the same few hundred days.
    """
    if raw is None or not raw.strip():
        return None, ()
    value = raw.strip()
    if value in _UNKNOWN_DATES or placeholder_key(value) in placeholders:
        return None, (("cleaned", "date-inconnue", "date sent as unknown"),)
    compact = value.replace("-", "") if _ISO_DATE.fullmatch(value) else value
    if not _DIGITS_8.fullmatch(compact):
        return None, (("suspicious", "date-illisible", "not a YYYYMMDD date: ignored"),)
    year, month, day = int(compact[:4]), int(compact[4:6]), int(compact[6:])
    try:
        if day == 0 and month == 0:
            date(year, 1, 1)
            return f"{year:04d}", (("cleaned", "date-mois-inconnu", "month and day unknown"),)
        if day == 0:
            date(year, month, 1)
            finding: Finding = ("cleaned", "date-jour-inconnu", "day unknown: month kept")
            return f"{year:04d}-{month:02d}", (finding,)
        iso = date(year, month, day).isoformat()
    except ValueError:
        return None, (("suspicious", "date-invalide", "no such date: ignored"),)
    if compact != value:
        return iso, (("cleaned", "date-reformatee", "ISO date instead of YYYYMMDD"),)
    return iso, ()


def _unescape(text: str) -> str:
    """Undo HTML escaping, also when it was applied twice (``&amp;eacute;``)."""
    value = text
    for _ in range(3):
        unescaped = html.unescape(value)
        if unescaped == value:
            break
        value = unescaped
    if value != text:
        value = _SPACES.sub(" ", _TAGS.sub(" ", value)).strip()
    return value


def _decimal_text(text: str) -> str:
    """``1 250,50`` → ``1250.50``; ``1.250,50`` → ``1250.50``; ``1,250.50`` → ``1250.50``."""
    compact = _THOUSANDS_SEPARATORS.sub("", text)
    if "," in compact and "." in compact:
        thousands = "." if compact.rfind(",") > compact.rfind(".") else ","
        compact = compact.replace(thousands, "")
    return compact.replace(",", ".")


def _siret_checksum_ok(digits: str) -> bool:
    """Luhn check of a SIRET; La Poste's establishments use a digit sum instead."""
    if digits.startswith(_LA_POSTE_SIREN):
        return sum(int(digit) for digit in digits) % 5 == 0
    total = 0
    for position, digit in enumerate(reversed(digits)):
        doubled = int(digit) * (2 if position % 2 else 1)
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10 == 0
