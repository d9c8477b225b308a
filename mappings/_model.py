"""The harmonised facts of one formation, as the rest of the hub reads them.

Every value here is national: codes come from the LHEO 2.3 dictionaries, regions and
départements are current INSEE codes, certifications carry the hub's label. Whatever
could not be made national is not dropped silently: it is a `MappingIssue`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, Final, Literal

LanguageKind = Literal[
    "integration", "asl", "oepre", "fle", "alphabetisation", "remise_a_niveau", "illettrisme"
]
LanguagePath = Literal["integration", "insertion_professionnelle", "formation_professionnelle"]
Conventionnement = Literal["ofii", "autre_public", "non_conventionne"]
IssueKind = Literal["unmapped", "suspicious", "cleaned"]

LANGUAGE_KINDS: Final[frozenset[str]] = frozenset(
    {"integration", "asl", "oepre", "fle", "alphabetisation", "remise_a_niveau", "illettrisme"}
)
LANGUAGE_PATHS: Final[frozenset[str]] = frozenset(
    {"integration", "insertion_professionnelle", "formation_professionnelle"}
)
CONVENTIONNEMENTS: Final[tuple[Conventionnement, ...]] = (
    "ofii",
    "autre_public",
    "non_conventionne",
)
CEFR_LEVELS: Final[tuple[str, ...]] = ("A1.1", "A1", "A2", "B1", "B2", "C1", "C2")


@dataclass(frozen=True, slots=True)
class MappingIssue:
    """A value the hub could not map, found doubtful, or cleaned, with where it was."""

    source: str
    path: str
    """Readable element path: ``formation[F1]/action[A1]/organisme-financeur/code-financeur``."""
    code: str
    """Stable name of the problem (``code-inconnu``, ``siret-15-chiffres``...), for counting."""
    value: str
    """The value as the source sent it."""
    kind: IssueKind
    message: str


@dataclass(frozen=True, slots=True)
class Certification:
    """A certification the formation prepares, identified by the hub's label when known."""

    label: str | None
    """The hub's label (``DELF A2``, ``DCL FLE``...); None for a certification outside the table."""
    certifinfo: str | None = None
    rs: str | None = None
    rncp: str | None = None
    cpf: str | None = None
    cefr: str | None = None


@dataclass(frozen=True, slots=True)
class LanguageTraining:
    """Why and how a formation belongs to the French-language training offer."""

    kind: LanguageKind
    path: LanguagePath
    target_level: str | None
    rule_id: str
    """The ``rule_id`` of the ``language_rules.csv`` row that decided it."""


@dataclass(frozen=True, slots=True)
class HarmonisedSession:
    """One session: when and where, in national codes."""

    numero: str | None
    debut: str | None
    """ISO date (``2024-09-02``), or ``2024-09`` when the source left the day unknown."""
    fin: str | None
    departement: str | None
    region: str | None
    code_insee_commune: str | None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, slots=True)
class HarmonisedAction:
    """One action: who pays, whether it is publicly funded, where, and its sessions."""

    numero: str | None
    financeurs: list[str]
    conventionnement: Conventionnement
    conventionnement_rule_id: str | None
    """The ``conventionnement.csv`` row that decided, None for ``non_conventionne``."""
    departement: str | None
    region: str | None
    publics_vises: list[str] = field(default_factory=list)
    prix_total_ttc: float | None = None
    prix_horaire_ttc: float | None = None
    sessions: list[HarmonisedSession] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class HarmonisedFormation:
    """One formation after harmonisation, with every issue met on the way."""

    source: str
    numero: str | None
    intitule: str | None
    datemaj: str | None
    region: str | None
    departement: str | None
    siret_organisme: str | None
    formacodes: list[str]
    niveau_entree: str | None
    niveau_sortie: str | None
    certifications: list[Certification]
    language: LanguageTraining | None
    cpf_eligible: bool
    actions: list[HarmonisedAction]
    issues: list[MappingIssue]


@dataclass(frozen=True, slots=True)
class Explanation:
    """One table row that maps a code, with the file and line to go and change it."""

    table: str
    line: int
    row: dict[str, str]
    reason: str


def to_json(harmonised: HarmonisedFormation) -> dict[str, Any]:
    """A plain JSON-able dict of ``harmonised`` (str, float, bool, None, lists, dicts).

    The same dict as `dataclasses.asdict`, without its generic deep copy: ingest stores
    one per formation, and the values here are immutable apart from lists and dicts.
    """
    plain: dict[str, Any] = _plain(harmonised)
    return plain


_ATOMS: Final[frozenset[type]] = frozenset({str, int, float, bool, type(None)})
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is list:  # before the dataclasses: lists are the most common other value
        return [item if type(item) in _ATOMS else _plain(item) for item in value]
    names = _FIELD_NAMES.get(kind)
    if names is None and is_dataclass(value) and not isinstance(value, type):
        names = _FIELD_NAMES.setdefault(kind, tuple(f.name for f in fields(value)))
    if names is not None:
        plain = {}
        for name in names:
            item = getattr(value, name)
            plain[name] = item if type(item) in _ATOMS else _plain(item)
        return plain
    if kind is tuple:
        return tuple(_plain(item) for item in value)
    if kind is dict:
        return {_plain(key): _plain(item) for key, item in value.items()}
    return copy.deepcopy(value)  # what asdict does with any other value


def from_json(data: dict[str, Any]) -> HarmonisedFormation:
    """Rebuild what `to_json` stored (the store keeps harmonised facts as JSON)."""
    language = data.get("language")
    return HarmonisedFormation(
        **{
            **data,
            "certifications": [Certification(**c) for c in data.get("certifications", [])],
            "language": LanguageTraining(**language) if language else None,
            "actions": [
                HarmonisedAction(
                    **{**a, "sessions": [HarmonisedSession(**s) for s in a.get("sessions", [])]}
                )
                for a in data.get("actions", [])
            ],
            "issues": [MappingIssue(**i) for i in data.get("issues", [])],
        }
    )
