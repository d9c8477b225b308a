"""A deterministic, realistic LHEO corpus generator.

The regional simulators, the tests and the national-scale benchmark all need LHEO documents that
look like what the Carif-Oref databases publish: real communes weighted by population, organismes
shared by many offers, French titles and programmes, dictionary codes, intercarif extras, a share
of French-language training (FLE, ASL, OEPRE, OFII...), and a controlled share of records that
break the XSD the way real exports do.

Two properties drive the design:

* **Per-record determinism.** Record ``i`` is drawn from generators seeded by ``(seed, i)``, never
  from a stream shared with the records before it. The same spec therefore gives byte-identical
  output, and :func:`formation_xml` regenerates one record without generating the others.
* **Streaming speed.** Records are assembled as text (see :mod:`simulators.corpus.parts`) and
  :func:`write_corpus` writes them in chunks, so a national corpus never sits in memory.

Example::

    spec = CorpusSpec(formations=1_000, seed=7, regions=("84",))
    with open("ara.xml", "wb") as out:
        stats = write_corpus(out, spec)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from random import Random
from typing import BinaryIO, Literal

from hub.lheo.schema import NAMESPACE_OF
from hub.lheo.writer import document_head, document_tail, formation_alone, formation_in_document
from simulators.corpus import places
from simulators.corpus.records import FormationWriter, Plan

__all__ = [
    "CorpusSpec",
    "CorpusStats",
    "GeneratedFormation",
    "formation_numero",
    "formation_xml",
    "iter_formations",
    "population_share",
    "write_corpus",
    "write_formations",
]

ORGANISMES_METIER = 12_000
"""Organismes offering vocational training nationwide; a region gets its population share."""
ORGANISMES_LANGUE = 3_000
"""Organismes (mostly associations) offering French-language training nationwide."""

_ENCODINGS = {
    "UTF-8": "utf-8",
    "UTF8": "utf-8",
    "ISO-8859-1": "iso-8859-1",
    "LATIN-1": "iso-8859-1",
    "LATIN1": "iso-8859-1",
}
_CHUNK = 1 << 18
_DATE = re.compile(r"\d{8}")


@dataclass(frozen=True)
class CorpusSpec:
    """What corpus to generate. Two equal specs always give the same bytes."""

    formations: int
    """Number of ``<formation>`` elements."""
    seed: int = 0
    regions: tuple[str, ...] = ("11",)
    """INSEE region codes the communes are drawn from; ``("*",)`` is the whole country."""
    numero_prefix: str = "F"
    """Prefix of every numero: formation ``F_AF_0000000001``, action ``F_AC_...``..."""
    version: Literal["2.2", "2.3"] = "2.3"
    language_share: float = 0.15
    """Share of French-language offers (FLE, ASL, OEPRE, alphabétisation, OFII...)."""
    invalid_share: float = 0.0
    """Share of formations made XSD-invalid on purpose."""
    actions_per_formation: float = 2.5
    """Mean; the national offer is about 100k formations, 250k actions, 600k sessions."""
    sessions_per_action: float = 2.4
    datemaj: str | None = None
    """Force every ``datemaj`` (YYYYMMDD); by default each record draws its own."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "regions", tuple(self.regions))
        places.commune_picker(self.regions)  # raises ValueError naming an unknown region
        if self.formations < 0:
            raise ValueError(f"formations must be >= 0, got {self.formations}")
        if self.version not in NAMESPACE_OF:
            raise ValueError(f"version must be 2.2 or 2.3, got {self.version!r}")
        for name in ("language_share", "invalid_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {getattr(self, name)}")
        if self.actions_per_formation < 1 or self.sessions_per_action < 1:
            raise ValueError("actions_per_formation and sessions_per_action must be >= 1")
        if self.datemaj is not None and not _DATE.fullmatch(self.datemaj):
            raise ValueError(f"datemaj must be YYYYMMDD, got {self.datemaj!r}")
        if not re.fullmatch(r"[A-Za-z0-9]+", self.numero_prefix):
            raise ValueError(f"numero_prefix must be alphanumeric, got {self.numero_prefix!r}")


@dataclass(frozen=True)
class GeneratedFormation:
    """One generated ``<formation>``, serialized alone (UTF-8, namespace declared on it)."""

    numero: str
    valid: bool
    xml: bytes
    language: bool = False
    actions: int = 0
    sessions: int = 0
    defect: str | None = None
    """For an invalid record, what was broken (``siret-trop-long``, ``intitule-manquant``...)."""


@dataclass(frozen=True)
class CorpusStats:
    """What :func:`write_corpus` wrote."""

    formations: int
    actions: int
    sessions: int
    invalid: int
    language: int
    bytes: int


def formation_numero(spec: CorpusSpec, index: int) -> str:
    """The ``numero`` of the ``index``-th formation (0-based index, 1-based number)."""
    return f"{spec.numero_prefix}_AF_{index + 1:010d}"


def population_share(regions: tuple[str, ...]) -> float:
    """Share of the national population living in ``regions`` (1.0 for ``("*",)``).

    Raises ``ValueError`` for an unknown region code.
    """
    return places.commune_picker(regions).population / places.national_population()


@cache
def _pool_sizes(regions: tuple[str, ...]) -> tuple[int, int]:
    share = population_share(regions)
    return max(20, round(ORGANISMES_METIER * share)), max(8, round(ORGANISMES_LANGUE * share))


def _siret_trop_long(xml: str) -> str:
    return xml.replace("<SIRET>", "<SIRET>9", 1)


def _intitule_manquant(xml: str) -> str:
    return re.sub(r"<intitule-formation>[^<]*</intitule-formation>\n", "", xml, count=1)


def _balise_mal_orthographiee(xml: str) -> str:
    return xml.replace("<coordonnees>", "<coordonnes>", 1).replace(
        "</coordonnees>", "</coordonnes>", 1
    )


def _date_mal_formee(xml: str) -> str:
    return re.sub(r"<debut>(\d{4})(\d\d)(\d\d)</debut>", r"<debut>\3/\2/\1</debut>", xml, count=1)


def _ordre_inverse(xml: str) -> str:
    return re.sub(
        r"(<intitule-formation>[^<]*</intitule-formation>\n)(<objectif-formation>[^<]*"
        r"</objectif-formation>\n)",
        r"\2\1",
        xml,
        count=1,
    )


def _code_hors_dictionnaire(xml: str) -> str:
    return re.sub(r"<certifiante>\d</certifiante>", "<certifiante>oui</certifiante>", xml, count=1)


_DEFECTS: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("siret-trop-long", _siret_trop_long),
    ("intitule-manquant", _intitule_manquant),
    ("balise-mal-orthographiee", _balise_mal_orthographiee),
    ("date-mal-formee", _date_mal_formee),
    ("ordre-des-elements", _ordre_inverse),
    ("code-hors-dictionnaire", _code_hors_dictionnaire),
)
"""Ways real exports break the XSD; each keeps the document well-formed."""


@dataclass(frozen=True, slots=True)
class _Rendered:
    numero: str
    text: str
    """The ``<formation>`` without namespace declaration, as written inside a document."""
    language: bool
    actions: int
    sessions: int
    defect: str | None


def _render(spec: CorpusSpec, index: int, revision: int) -> _Rendered:
    kind = Random(f"{spec.seed}:{index}:kind")
    language = kind.random() < spec.language_share
    invalid = kind.random() < spec.invalid_share
    defect_name, defect = _DEFECTS[int(kind.random() * len(_DEFECTS))]
    metier_pool, langue_pool = _pool_sizes(spec.regions)
    numero = formation_numero(spec, index)
    writer = FormationWriter(
        Plan(
            seed=spec.seed,
            index=index,
            numero=numero,
            revision=revision,
            v23=spec.version == "2.3",
            regions=spec.regions,
            prefix=spec.numero_prefix,
            langue=language,
            datemaj=spec.datemaj,
            actions_mean=spec.actions_per_formation,
            sessions_mean=spec.sessions_per_action,
            organismes=langue_pool if language else metier_pool,
        )
    )
    body = writer.render()
    if invalid:
        body = defect(body)
    return _Rendered(
        numero, body, language, writer.actions, writer.sessions, defect_name if invalid else None
    )


def formation_xml(spec: CorpusSpec, index: int, *, revision: int = 0) -> GeneratedFormation:
    """The ``index``-th formation of ``spec`` alone, the same bytes :func:`iter_formations` gives.

    ``index`` may exceed ``spec.formations`` (a simulator creating offers). ``revision`` > 0 gives
    the same offer as updated by a later export: same identity, organisme and places, new session
    dates, prices and a later ``datemaj``.
    """
    if index < 0 or revision < 0:
        raise ValueError("index and revision must be >= 0")
    rendered = _render(spec, index, revision)
    return GeneratedFormation(
        numero=rendered.numero,
        valid=rendered.defect is None,
        xml=formation_alone(rendered.text.encode("utf-8"), spec.version),
        language=rendered.language,
        actions=rendered.actions,
        sessions=rendered.sessions,
        defect=rendered.defect,
    )


def iter_formations(spec: CorpusSpec) -> Iterator[GeneratedFormation]:
    """Every formation of ``spec`` in order, one at a time."""
    for index in range(spec.formations):
        yield formation_xml(spec, index)


def _codec(encoding: str) -> tuple[str, str]:
    """The declared name and the Python codec of a supported document encoding."""
    codec = _ENCODINGS.get(encoding.upper())
    if codec is None:
        raise ValueError(f"encoding must be UTF-8 or ISO-8859-1, got {encoding!r}")
    return ("UTF-8" if codec == "utf-8" else "ISO-8859-1"), codec


def _write(out: BinaryIO, text: str, codec: str) -> int:
    data = text.encode(codec)
    out.write(data)
    return len(data)


def _stream(
    out: BinaryIO,
    version: Literal["2.2", "2.3"],
    encoding: str,
    deletions: Sequence[str],
    records: Iterable[_Rendered],
) -> CorpusStats:
    """Write a ``<lheo>`` document around ``records``, in chunks, and count what it holds."""
    declared, codec = _codec(encoding)
    head = document_head(version, declared, one_per_line=True)
    out.write(head)
    written = len(head)
    formations = actions = sessions = invalid = language = 0
    chunk: list[str] = []
    size = 0
    for rendered in records:
        formations += 1
        actions += rendered.actions
        sessions += rendered.sessions
        invalid += rendered.defect is not None
        language += rendered.language
        chunk.append(rendered.text)
        size += len(rendered.text)
        if size >= _CHUNK:
            written += _write(out, "".join(chunk), codec)
            chunk, size = [], 0
    last = "".join(chunk).encode(codec) + document_tail(
        deletions, encoding=declared, one_per_line=True
    )
    out.write(last)
    written += len(last)
    return CorpusStats(formations, actions, sessions, invalid, language, written)


def write_corpus(
    out: BinaryIO,
    spec: CorpusSpec,
    *,
    encoding: str = "UTF-8",
    deletions: Sequence[str] = (),
) -> CorpusStats:
    """Stream the whole ``<lheo>`` document of ``spec`` to ``out``.

    ``deletions`` are numeros of formations the document deletes, written as the root-level
    ``<extras info="suppressions">`` a delta uses. The output is written in chunks; memory use
    does not grow with the number of formations.
    """
    records = (_render(spec, index, 0) for index in range(spec.formations))
    return _stream(out, spec.version, encoding, deletions, records)


def write_formations(
    out: BinaryIO,
    formations: Iterable[GeneratedFormation],
    *,
    version: Literal["2.2", "2.3"] = "2.3",
    encoding: str = "UTF-8",
    deletions: Sequence[str] = (),
) -> CorpusStats:
    """Stream a ``<lheo>`` document of chosen formations, such as a simulator's delta.

    The formations must have been generated for ``version``; the namespace each one declares is
    dropped since the root declares it.
    """

    def records() -> Iterator[_Rendered]:
        for generated in formations:
            body = formation_in_document(generated.xml, version)
            if not body.startswith(b"<formation") or len(body) == len(generated.xml):
                raise ValueError(f"{generated.numero} is not an LHEO {version} formation")
            yield _Rendered(
                generated.numero,
                body.decode("utf-8"),
                generated.language,
                generated.actions,
                generated.sessions,
                generated.defect,
            )

    return _stream(out, version, encoding, deletions, records())
