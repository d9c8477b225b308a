"""Key figures of the French-language training offer, and session counts, from the store.

Everything here reads the harmonised facts stored with each live formation (the map stage
wrote them during ingest, ``hub remap`` rewrites them after a table changes), never the raw
LHEO, so the figures always say what the national vocabulary says. Only language-training
formations (``language_kind`` set) are read: `mappings.stats.key_figures` explains what each
figure counts and why.

A session belongs where its action counts in the key figures: the action's region (its place
of training), else the formation's. Its département is its own, else its action's, else its
formation's. `SessionFilter` uses exactly these, so "how many OFII-funded DELF A2 sessions in
Corsica" is the same number as ``sessions_by_conventionnement.ofii`` would be for a corpus
of DELF A2 offers only.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, distinct, func, select

from hub.harmonise import harmoniser
from hub.publish.feed import current_cursor
from hub.store.db import snapshot_connection
from hub.store.tables import FORMATIONS, ISSUES, ORGANISMES
from mappings import HarmonisedAction, HarmonisedFormation, HarmonisedSession, Tables, from_json
from mappings._model import CONVENTIONNEMENTS, LANGUAGE_KINDS
from mappings.stats import NATIONAL, RegionFigures, key_figures

FRANCE = "France"
_PAGE = 500
_COMPUTED: WeakKeyDictionary[Engine, tuple[int, dict[str, RegionFigures]]] = WeakKeyDictionary()
"""The last figures computed per store, with the change cursor they were computed at."""


@dataclass(frozen=True, slots=True)
class StoredFormation:
    """A live language-training formation as the store holds it."""

    id: int
    harmonised: HarmonisedFormation
    organisme: str | None
    """Raison sociale of the organisme responsable, when sent."""


@dataclass(frozen=True, slots=True)
class SessionView:
    """One session of a language-training formation, with the places it is counted in."""

    formation: HarmonisedFormation
    action: HarmonisedAction
    session: HarmonisedSession
    organisme: str | None
    action_index: int
    session_index: int

    @property
    def region(self) -> str | None:
        return self.action.region or self.formation.region

    @property
    def departement(self) -> str | None:
        return self.session.departement or self.action.departement or self.formation.departement

    @property
    def certifications(self) -> list[str]:
        return sorted({c.label for c in self.formation.certifications if c.label})


@dataclass(frozen=True, slots=True)
class SessionFilter:
    """Which sessions to keep; None keeps any. Build it with `resolve_filter` from user input."""

    region: str | None = None
    departement: str | None = None
    kind: str | None = None
    certification: str | None = None
    conventionnement: str | None = None

    def matches(self, view: SessionView) -> bool:
        language = view.formation.language
        return (
            (self.region is None or view.region == self.region)
            and (self.departement is None or view.departement == self.departement)
            and (self.kind is None or (language is not None and language.kind == self.kind))
            and (self.certification is None or self.certification in view.certifications)
            and (
                self.conventionnement is None
                or view.action.conventionnement == self.conventionnement
            )
        )

    def describe(self) -> dict[str, str]:
        """The criteria that are set, for reports and responses."""
        return {k: v for k, v in asdict(self).items() if v is not None}


def language_formations(
    connection: Connection, *, kind: str | None = None
) -> Iterator[StoredFormation]:
    """Every live language-training formation (of ``kind``), by id, a page at a time."""
    f, o = FORMATIONS.c, ORGANISMES.c
    query = (
        select(f.id, f.harmonised, o.raison_sociale)
        .select_from(FORMATIONS.outerjoin(ORGANISMES, o.id == f.organisme_id))
        .where(f.deleted.is_(False), f.language_kind.is_not(None))
        .order_by(f.id)
        .limit(_PAGE)
    )
    if kind is not None:
        query = query.where(f.language_kind == kind)
    last = 0
    while True:
        rows = connection.execute(query.where(f.id > last)).all()
        for row in rows:
            yield StoredFormation(row.id, from_json(row.harmonised), row.raison_sociale)
        if len(rows) < _PAGE:
            return
        last = rows[-1].id


def iter_sessions(connection: Connection, wanted: SessionFilter) -> Iterator[SessionView]:
    """The sessions of the live language-training offer that ``wanted`` keeps."""
    for stored in language_formations(connection, kind=wanted.kind):
        formation = stored.harmonised
        labels = {c.label for c in formation.certifications}
        if wanted.certification is not None and wanted.certification not in labels:
            continue
        for a, action in enumerate(formation.actions):
            for s, session in enumerate(action.sessions):
                view = SessionView(formation, action, session, stored.organisme, a, s)
                if wanted.matches(view):
                    yield view


def count_sessions(engine: Engine, wanted: SessionFilter) -> int:
    """How many sessions of the live language-training offer ``wanted`` keeps."""
    with snapshot_connection(engine) as connection, connection.begin():
        return sum(1 for _ in iter_sessions(connection, wanted))


@dataclass(frozen=True, slots=True)
class Figures:
    """Key figures per region code (and ``FR``), with the cursor they were computed at."""

    regions: dict[str, RegionFigures]
    names: dict[str, str]
    cursor: int

    def as_json(self) -> dict[str, Any]:
        """The published shape: ``{"cursor": n, "regions": {"11": {"nom": ..., ...}}}``."""
        return {
            "cursor": self.cursor,
            "regions": {
                code: {"nom": self.names.get(code), **asdict(figures)}
                for code, figures in self.regions.items()
            },
        }

    def flat(self) -> list[dict[str, Any]]:
        """One flat row per region, for CSV: nested names become ``sessions_by_certification.
        DELF A2``; every certification any region counts is a column of every row."""
        labels = sorted(
            {label for f in self.regions.values() for label in f.sessions_by_certification}
        )
        rows = []
        for code, figures in self.regions.items():
            row: dict[str, Any] = {"region": code, "nom": self.names.get(code)}
            row.update(
                actions=figures.actions,
                actions_ofii=figures.actions_ofii,
                sessions=figures.sessions,
            )
            for name, value in figures.sessions_by_conventionnement.items():
                row[f"sessions_by_conventionnement.{name}"] = value
            for label in labels:
                row[f"sessions_by_certification.{label}"] = figures.sessions_by_certification.get(
                    label, 0
                )
            row["cpf_eligible"] = figures.cpf_eligible
            rows.append(row)
        return rows


def region_figures(engine: Engine, region: str | None = None) -> Figures:
    """Key figures of every region and ``FR`` (or of ``region`` only), in one consistent read.

    Every current region of mainland France and the DROM is listed, with zeros when it has
    no language-training offer, so a portal never finds a region missing. The figures are
    computed once per change cursor: every change to stored facts (a flow, a remap) moves
    the cursor, so until it moves the last figures are still exact.
    """
    names = region_names()
    with snapshot_connection(engine) as connection, connection.begin():
        cursor = current_cursor(connection)
        cached = _COMPUTED.get(engine)
        if cached is not None and cached[0] == cursor:
            counted = cached[1]
        else:
            counted = key_figures(s.harmonised for s in language_formations(connection))
            _COMPUTED[engine] = (cursor, counted)
    zero = key_figures([])[NATIONAL]
    if region is not None:
        return Figures({region: counted.get(region, zero)}, names, cursor)
    listed = [row["code"] for row in _tables().regions if row["zone"] != "com"]
    regions = {code: counted.get(code, zero) for code in sorted({*listed, *counted})}
    regions[NATIONAL] = regions.pop(NATIONAL)
    return Figures(regions, names, cursor)


@dataclass(frozen=True, slots=True)
class IssueCount:
    """One unmapped, suspicious or cleaned value of a source, and how often the live offer
    carries it: ``count`` occurrences in ``formations`` formations."""

    source: str
    kind: str
    code: str
    value: str
    count: int
    formations: int


def issue_counts(connection: Connection, *, source: str | None = None) -> list[IssueCount]:
    """The mapping report: issues of the live offer per source, kind, code and value."""
    i = ISSUES.c
    count = func.count().label("count")
    formations = func.count(distinct(i.formation_id))
    query = (
        select(i.source, i.kind, i.code, i.value, count, formations)
        .group_by(i.source, i.kind, i.code, i.value)
        .order_by(i.source, i.kind, count.desc(), i.code, i.value)
    )
    if source is not None:
        query = query.where(i.source == source)
    return [IssueCount(*row) for row in connection.execute(query)]


def _tables() -> Tables:
    return harmoniser().tables


def region_names() -> dict[str, str]:
    """Region code to name (``regions.csv``), plus ``FR``."""
    return {**{row["code"]: row["nom"] for row in _tables().regions}, NATIONAL: FRANCE}


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(c for c in decomposed if c.isalnum())


def resolve_region(value: str) -> str:
    """A current region code from a code, a pre-2016 code or a name (``Corse``, ``corse``)."""
    tables = _tables()
    code = value.strip().upper()
    if code == NATIONAL:
        return NATIONAL
    if tables.regions.get(code.zfill(2)) is not None:
        return code.zfill(2)
    former = tables.regions_anciennes.get(code.zfill(2))
    if former is not None:
        return former["code_region"]
    by_name = {_fold(row["nom"]): row["code"] for row in tables.regions}
    if _fold(value) in by_name:
        return by_name[_fold(value)]
    choices = ", ".join(f"{row['code']} ({row['nom']})" for row in tables.regions)
    raise ValueError(f"unknown region {value!r}: give an INSEE region code or name: {choices}")


def resolve_filter(
    *,
    region: str | None = None,
    departement: str | None = None,
    kind: str | None = None,
    certification: str | None = None,
    conventionnement: str | None = None,
) -> SessionFilter:
    """Check user input against the tables; raises ValueError saying what is accepted."""
    tables = _tables()
    if departement is not None:
        departement = departement.strip().upper()
        departement = departement.zfill(2) if departement.isdigit() else departement
        if tables.departements.get(departement) is None:
            raise ValueError(f"unknown département {departement!r}: give its INSEE code (75, 2A)")
    if kind is not None and kind not in LANGUAGE_KINDS:
        raise ValueError(f"unknown kind {kind!r}: one of {', '.join(sorted(LANGUAGE_KINDS))}")
    if conventionnement is not None and conventionnement not in CONVENTIONNEMENTS:
        choices = ", ".join(CONVENTIONNEMENTS)
        raise ValueError(f"unknown conventionnement {conventionnement!r}: one of {choices}")
    if certification is not None:
        labels = {_fold(row["label"]): row["label"] for row in tables.certifications}
        if _fold(certification) not in labels:
            choices = ", ".join(labels.values())
            raise ValueError(f"unknown certification {certification!r}: one of {choices}")
        certification = labels[_fold(certification)]
    resolved = None if region is None else resolve_region(region)
    return SessionFilter(
        None if resolved == NATIONAL else resolved,
        departement,
        kind,
        certification,
        conventionnement,
    )
