"""The via-competences connector: two legacy exports merged into one regional offer.

Auvergne-Rhône-Alpes (region 84) still publishes its offer as two full LHEO 2.3 exports,
one per former base: Auvergne (region code 83, ISO-8859-1) and Rhône-Alpes (82, UTF-8).
Each writes its old region code and its own local codes, and many offers are described in
both. Each export is archived as fetched; the flow is the pair, and its dialect
(:class:`~connectors.viacompetences.exports.ViaCompetencesDialect`) harmonises each copy
(:mod:`connectors.codes`) and merges them by explicit rules
(:mod:`connectors.viacompetences.merge`) into one snapshot of region 84, in which each
offer appears once with ``<extras info="provenance">``. A rejection names its export and
its line there.

Local codes are translated here rather than left to the mapping layer: the XSD enumerates
financeurs and levels, so ``CR`` or ``N5`` would be rejected before mapping; and the two
copies of an offer can only be compared in one vocabulary. The rows come from the mapping
layer's own table, ``source_codes.csv`` (sources ``via-competences-auvergne`` and
``via-competences-rhone-alpes``).

Both exports are served with ``ETag`` and ``Last-Modified``, and fetched one after the
other with ``If-None-Match`` / ``If-Modified-Since``. Both unchanged: two 304s, no flow.
One changed: the unchanged one is fetched again without conditions (a snapshot needs both
halves), and the merged snapshot deletes what neither export holds any more. Nothing is
stored until the merged flow is applied, so a sync stopped between the two exports starts
again from the first one.

Cursor, one validator pair per base::

    {"auvergne": {"etag": "\\"3f9a…\\"", "last_modified": "Sun, 02 Mar 2025 10:15:00 GMT"},
     "rhone-alpes": {"etag": "\\"b41c…\\"", "last_modified": "..."}}
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.base import Connector, ConnectorOptions, Cursor, Fetched, LheoFlow, WorkItem
from connectors.codes import LocalCodes, OldRegions
from connectors.viacompetences.exports import BaseDialect, ViaCompetencesDialect
from hub.errors import FatalFetchError
from hub.http import conditional_headers
from hub.lheo.dialect import Dialect
from hub.settings import FetchSettings, SourceSettings

__all__ = ["ExportBase", "ViaCompetencesConnector", "ViaCompetencesOptions"]


class ExportBase(BaseModel):
    """One legacy base and its export."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    """Its name in cursors, provenance extras and findings (``auvergne``)."""
    path: str = Field(min_length=1)
    """Path of its export under the source's url."""
    old_region: str = Field(pattern=r"^\d{2}$")
    """The pre-2016 region code it writes (``83``), also the prefix of its numeros."""
    codes: str = Field(min_length=1)
    """Its source name in ``mappings/tables/source_codes.csv``."""


DEFAULT_BASES = (
    ExportBase(
        name="auvergne",
        path="auvergne/offres-lheo.xml",
        old_region="83",
        codes="via-competences-auvergne",
    ),
    ExportBase(
        name="rhone-alpes",
        path="rhone-alpes/offres-lheo.xml",
        old_region="82",
        codes="via-competences-rhone-alpes",
    ),
)


class ViaCompetencesOptions(ConnectorOptions):
    bases: tuple[ExportBase, ...] = Field(default=DEFAULT_BASES, min_length=2)
    """The exports, fetched and named in provenance in this order."""
    preferred: str = "rhone-alpes"
    """The base whose copy wins a ``datemaj`` tie and whose numero names a merged offer."""

    @model_validator(mode="after")
    def _known_names(self) -> ViaCompetencesOptions:
        names = [base.name for base in self.bases]
        if len(set(names)) != len(names):
            raise ValueError(f"bases must have distinct names, got {names}")
        if self.preferred not in names:
            raise ValueError(
                f"preferred must name one of the bases {names}, got {self.preferred!r}"
            )
        return self


class ViaCompetencesConnector(Connector):
    """Pulls both exports when either changed; one merged snapshot per change."""

    name = "via-competences"
    transport = "pull"
    lheo_version = "2.3"
    encoding = "UTF-8"
    Options = ViaCompetencesOptions
    options: ViaCompetencesOptions

    @classmethod
    def dialect(
        cls, source: SourceSettings | None, *, region: str | None, limits: FetchSettings
    ) -> Dialect:
        options = cls.options_of(source)
        assert isinstance(options, ViaCompetencesOptions)
        return ViaCompetencesDialect(
            [
                BaseDialect(base.name, base.old_region, LocalCodes(base.codes))
                for base in options.bases
            ],
            preferred=options.preferred,
            region=region or (source.region if source is not None else "84"),
            regions=OldRegions(),
        )

    def gather(self, cursor: Cursor) -> Iterator[WorkItem]:
        yield self._export(self.options.bases[0], cursor, {}, conditional=True)

    def read(self, fetched: Fetched) -> LheoFlow:
        context = fetched.item.context
        cursor: Cursor = dict(context["cursor"])  # type: ignore[call-overload]
        held: dict[str, Any] = dict(context["held"])  # type: ignore[call-overload]
        base = str(context["base"])
        if fetched.not_modified:
            if not context["conditional"]:
                raise FatalFetchError(
                    f"invalid payload: {fetched.item.describe()} answered 304 to a request "
                    "without conditions",
                    hint="the export server mishandles conditional requests",
                )
            held[base] = None
        else:
            assert fetched.part is not None, "the runner archives a body before reading it"
            held[base] = (replace(fetched.part, role=base), fetched.validators)
        following = self._following(cursor, held)
        if following is not None or all(value is None for value in held.values()):
            return LheoFlow(None, cursor, next=following)
        parts = tuple(held[b.name][0] for b in self.options.bases)
        validators = {b.name: held[b.name][1] for b in self.options.bases}
        return LheoFlow("snapshot", validators, parts=parts)

    def _following(self, cursor: Cursor, held: dict[str, Any]) -> WorkItem | None:
        """The next export to ask for: one not asked yet, else an unchanged one, in full."""
        for base in self.options.bases:
            if base.name not in held:
                return self._export(base, cursor, held, conditional=True)
        if all(value is None for value in held.values()):
            return None
        for base in self.options.bases:
            if held[base.name] is None:
                return self._export(base, cursor, held, conditional=False)
        return None

    def _export(
        self, base: ExportBase, cursor: Cursor, held: dict[str, Any], *, conditional: bool
    ) -> WorkItem:
        validators = (cursor.get(base.name) or {}) if conditional else {}
        headers = conditional_headers(validators)
        return self.item(
            base.path,
            headers=headers,
            label=f"{base.name} export" + ("" if conditional else " (again, in full)"),
            context={"base": base.name, "cursor": cursor, "held": held, "conditional": conditional},
        )
