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

from lxml import etree

from mappings._issues import At, Finding, IssueLog, Where

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
_LUHN_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)
"""A digit doubled, less 9 when that makes two digits (Luhn)."""


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

    # text, siret, price and date name the place of a value by its element and a suffix
    # (``/periode/debut``): most values are fine, and a path is only worked out for an
    # issue (`At`).

    def text(self, raw: str | None, element: etree._Element, suffix: str = "") -> str | None:
        """Free text: placeholders become None, HTML escapes and tags are undone."""
        if raw is None:
            return None
        value, findings = _read_text(raw, self.placeholders)
        if findings:
            self.log.report(At(element, suffix), raw, findings)
        return value

    def siret(self, raw: str | None, element: etree._Element, suffix: str = "") -> str | None:
        """A 14-digit SIRET, or None with a suspicious issue when it cannot be one."""
        if raw is None:
            return None
        digits, findings = _read_siret(raw)
        if findings:
            self.log.report(At(element, suffix), raw, findings)
        return digits

    def price(self, raw: str | None, element: etree._Element, suffix: str = "") -> float | None:
        """A price in euros; ``1 250,50 €`` becomes 1250.5."""
        if raw is None:
            return None
        value, findings = _read_price(raw, self.placeholders)
        if findings:
            self.log.report(At(element, suffix), raw, findings)
        return value

    def date(self, raw: str | None, element: etree._Element, suffix: str = "") -> str | None:
        """An LHEO date (``YYYYMMDD``) as ISO; an unknown day gives ``YYYY-MM``."""
        iso, findings = _read_date(raw, self.placeholders)
        if findings:
            self.log.report(At(element, suffix), raw or "", findings)
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


# The readers below are `Cleaner`'s methods without the logging: the value read and the
# issues to log, if any. Those of texts and dates are cached, as a flow sends the same
# ones again and again (titles and codes of an organisme's formations, session days).


@lru_cache(maxsize=8192)
def _read_text(raw: str, placeholders: frozenset[str]) -> tuple[str | None, tuple[Finding, ...]]:
    if not raw.strip():
        return None, ()
    value = _SPACES.sub(" ", raw).strip()
    if placeholder_key(value) in placeholders:
        return None, (("cleaned", "placeholder", "placeholder text treated as absent"),)
    unescaped = _unescape(value)
    if unescaped != value:
        finding: Finding = ("cleaned", "html-echappe", f"HTML escapes undone: {unescaped!r}")
        return unescaped or None, (finding,)
    return unescaped or None, ()


def _read_siret(raw: str) -> tuple[str | None, tuple[Finding, ...]]:
    # Not cached: an organisme's SIRET comes with its formations only.
    if not raw.strip():
        return None, ()
    digits = _SIRET_SEPARATORS.sub("", raw)
    if not digits.isdigit() or set(digits) == {"0"}:
        return None, (("suspicious", "siret-absent", "not a SIRET: treated as absent"),)
    if len(digits) != 14:
        code = "siret-15-chiffres" if len(digits) == 15 else "siret-longueur"
        message = f"a SIRET has 14 digits, this one {len(digits)}: treated as absent"
        return None, (("suspicious", code, message),)
    findings: list[Finding] = []
    if not _siret_checksum_ok(digits):
        findings.append(("suspicious", "siret-cle", "SIRET check digit is wrong (kept)"))
    if digits != raw:
        findings.append(("cleaned", "siret-reformate", "spaces removed from the SIRET"))
    return digits, tuple(findings)


def _read_price(raw: str, placeholders: frozenset[str]) -> tuple[float | None, tuple[Finding, ...]]:
    # Not cached: prices vary too much. An ASCII number is its own placeholder key
    # (``0`` is a placeholder), so the usual case skips working the key out.
    placeholder: Finding = ("cleaned", "placeholder", "placeholder price treated as absent")
    if raw.isascii() and _PLAIN_NUMBER.fullmatch(raw):
        return (None, (placeholder,)) if raw in placeholders else (float(raw), ())
    if not raw.strip():
        return None, ()
    if placeholder_key(raw) in placeholders:
        return None, (placeholder,)
    if _PLAIN_NUMBER.fullmatch(raw):
        return float(raw), ()  # digits of another script
    number = _decimal_text(_CURRENCY.sub("", raw))
    try:
        value = float(number)
    except ValueError:
        return None, (("suspicious", "prix-illisible", "not a price: treated as absent"),)
    findings: list[Finding] = []
    if not _PLAIN_NUMBER.fullmatch(raw.strip()):
        findings.append(("cleaned", "prix-reformate", f"read as {value}"))
    if value < 0:
        findings.append(("suspicious", "prix-negatif", "negative price (kept)"))
    return value, tuple(findings)


@lru_cache(maxsize=8192)
def _read_date(
    raw: str | None, placeholders: frozenset[str]
) -> tuple[str | None, tuple[Finding, ...]]:
    """`Cleaner.date`'s reading, cached: the sessions of a flow start and end on the same
    few hundred days."""
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
        return sum(map(int, digits)) % 5 == 0
    # From the right, every second digit is doubled (less 9 when that makes two digits).
    kept = sum(map(int, digits[-1::-2]))
    doubled = sum(_LUHN_DOUBLED[int(digit)] for digit in digits[-2::-2])
    return (kept + doubled) % 10 == 0
