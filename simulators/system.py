"""What every simulated regional system shares: its offer, its faults, its admin endpoint.

A simulator is a real HTTP server on 127.0.0.1 serving one regional system's dialect from
a generated corpus (:mod:`simulators.corpus`). Subclasses of :class:`SimulatedSystem` add the
routes of their dialect; this module gives them:

* :class:`SimulatedOffer`: the offer the system holds, and how it changes (``change``,
  ``add``, ``delete``), each record stamped with the instant it last changed;
* fault switches (:mod:`simulators.faults`) on every dialect route;
* ``/_admin`` routes to inspect the system, queue faults and change the offer by hand::

      curl -X POST 127.0.0.1:8101/_admin/faults -H 'content-type: application/json' \\
           -d '{"faults": ["429", "503", "truncate"]}'
      curl -X POST 127.0.0.1:8101/_admin/offer -H 'content-type: application/json' \\
           -d '{"change": 2, "add": 1, "delete": 1, "corrupt": 1}'
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from random import Random
from typing import Any, ClassVar

from fastapi import APIRouter, FastAPI, HTTPException, Request, Response
from pydantic import BaseModel, Field

from hub.lheo.schema import Version
from simulators.corpus import CorpusSpec, GeneratedFormation, formation_xml
from simulators.faults import ADMIN_PREFIX, FaultMiddleware, Faults

__all__ = ["SimulatedOffer", "SimulatedSystem"]

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _day_start(datemaj: str | None) -> datetime:
    if not datemaj or datemaj.strip("0") == "":
        return datetime(2000, 1, 1, tzinfo=UTC)
    return datetime.strptime(datemaj, "%Y%m%d").replace(tzinfo=UTC)


@dataclasses.dataclass(slots=True)
class _Entry:
    index: int
    formation: GeneratedFormation
    modified: datetime
    revision: int = 0


class SimulatedOffer:
    """The offer of a simulated system: generated formations, their changes, deletions."""

    def __init__(self, spec: CorpusSpec, *, clock: Clock = _utcnow) -> None:
        self.spec = spec
        self.clock = clock
        self.lock = threading.RLock()
        self._entries: dict[str, _Entry] = {}
        self._deleted: dict[str, datetime] = {}
        self._touched: set[str] = set()
        self._next_index = spec.formations
        self._mutations = 0
        for index in range(spec.formations):
            generated = formation_xml(spec, index)
            self._entries[generated.numero] = _Entry(
                index, generated, _day_start(_datemaj(generated))
            )
        self.updated_at = clock()
        """When the offer last changed (a simulator's ``Last-Modified``)."""

    # -- reading ----------------------------------------------------------------------

    def live(self, since: datetime | None = None) -> list[GeneratedFormation]:
        """Live formations ordered by numero, only those changed at or after ``since``."""
        with self.lock:
            return [
                entry.formation
                for numero, entry in sorted(self._entries.items())
                if since is None or entry.modified >= since
            ]

    def deleted(self, since: datetime | None = None) -> list[str]:
        """Numeros deleted at or after ``since`` (all of them without it), sorted."""
        with self.lock:
            return sorted(n for n, at in self._deleted.items() if since is None or at >= since)

    @property
    def generation(self) -> int:
        """How many times the offer changed (0 as generated); caches key on it."""
        return self._mutations

    # -- changing ---------------------------------------------------------------------

    def change(self, count: int = 1, *, numeros: Iterable[str] | None = None) -> list[str]:
        """Publish a new revision of ``count`` valid formations (or of ``numeros``)."""
        with self.lock:
            chosen = list(numeros) if numeros is not None else self._pick(count)
            now = self._tick()
            for numero in chosen:
                entry = self._entries[numero]
                entry.revision += 1
                entry.formation = formation_xml(
                    self._dated(now), entry.index, revision=entry.revision
                )
                entry.modified = now
            return chosen

    def add(self, count: int = 1) -> list[str]:
        """Create ``count`` new valid formations."""
        with self.lock:
            now, added = self._tick(), list[str]()
            while len(added) < count:
                index, self._next_index = self._next_index, self._next_index + 1
                generated = formation_xml(self._dated(now), index)
                if generated.valid:
                    self._entries[generated.numero] = _Entry(index, generated, now)
                    self._touched.add(generated.numero)
                    added.append(generated.numero)
            return added

    def delete(self, count: int = 1, *, numeros: Iterable[str] | None = None) -> list[str]:
        """Delete ``count`` valid formations (or ``numeros``); deltas report them."""
        with self.lock:
            chosen = list(numeros) if numeros is not None else self._pick(count)
            now = self._tick()
            for numero in chosen:
                del self._entries[numero]
                self._deleted[numero] = now
            return chosen

    def corrupt(self, count: int = 1) -> list[str]:
        """Publish ``count`` formations again without their title: the XSD refuses them."""
        with self.lock:
            chosen, now = self._pick(count), self._tick()
            for numero in chosen:
                entry = self._entries[numero]
                text = re.sub(
                    rb"<intitule-formation>[^<]*</intitule-formation>\n?",
                    b"",
                    entry.formation.xml,
                    count=1,
                )
                entry.formation = dataclasses.replace(
                    entry.formation, xml=text, valid=False, defect="intitule-manquant"
                )
                entry.modified = now
            return chosen

    def _pick(self, count: int) -> list[str]:
        candidates = sorted(
            n for n, e in self._entries.items() if e.formation.valid and n not in self._touched
        )
        if len(candidates) < count:
            raise ValueError(f"only {len(candidates)} untouched valid formations left")
        chosen = Random(f"{self.spec.seed}:mutation:{self._mutations}").sample(candidates, count)
        self._touched.update(chosen)
        return sorted(chosen)

    def _tick(self) -> datetime:
        self._mutations += 1
        self.updated_at = max(self.clock(), self.updated_at)
        return self.updated_at

    def _dated(self, now: datetime) -> CorpusSpec:
        """The spec with every datemaj forced to ``now``'s day, for records changed now."""
        return dataclasses.replace(self.spec, datemaj=now.strftime("%Y%m%d"))


def _datemaj(generated: GeneratedFormation) -> str | None:
    head = generated.xml[:400].decode("utf-8", "replace")
    marker = 'datemaj="'
    start = head.find(marker)
    return head[start + len(marker) : start + len(marker) + 8] if start >= 0 else None


class _OfferChange(BaseModel):
    change: int = Field(default=0, ge=0)
    corrupt: int = Field(default=0, ge=0)
    """Formations published again with an XSD error (no title)."""
    add: int = Field(default=0, ge=0)
    delete: int = Field(default=0, ge=0)


class _FaultRequest(BaseModel):
    faults: list[str]


class SimulatedSystem:
    """Base of a simulated regional system; subclasses add the routes of their dialect."""

    name: ClassVar[str]
    """The connector that talks to this system."""
    region: ClassVar[str]
    version: ClassVar[Version]
    numero_prefix: ClassVar[str]

    def __init__(
        self,
        *,
        formations: int = 30,
        seed: int = 0,
        invalid_share: float = 0.0,
        token: str | None = None,
        clock: Clock = _utcnow,
    ) -> None:
        spec = CorpusSpec(
            formations=formations,
            seed=seed,
            regions=(self.region,),
            numero_prefix=self.numero_prefix,
            version=self.version,
            invalid_share=invalid_share,
        )
        self.offer = SimulatedOffer(spec, clock=clock)
        self.faults = Faults()
        self.token = token
        self.instance = secrets.token_hex(8)
        """Who this simulator is, so a demo can tell it from another process on its port."""

    def routes(self, router: APIRouter) -> None:
        """Add the dialect's routes (faults apply to them)."""
        raise NotImplementedError

    def source_config(self, base_url: str) -> dict[str, Any]:
        """The ``config/regions`` content of a source reading this system at ``base_url``."""
        raise NotImplementedError

    def accepted(self, formation: GeneratedFormation) -> bool:
        """Whether the hub keeps this formation once the connector has read it."""
        return formation.valid

    def expected_numeros(self) -> set[str]:
        """Numeros a hub in step with this system holds (live and accepted)."""
        return {f.numero for f in self.offer.live() if self.accepted(f)}

    def rejected_numeros(self) -> set[str]:
        """Numeros of the live formations the hub must reject (XSD-invalid)."""
        return {f.numero for f in self.offer.live() if not self.accepted(f)}

    def unauthorized(self, request: Request) -> Response | None:
        """401 unless the request carries this system's bearer token (when it has one)."""
        if self.token is None or request.headers.get("authorization") == f"Bearer {self.token}":
            return None
        return Response(
            "missing or invalid bearer token\n",
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="' + self.name + '"'},
            media_type="text/plain",
        )

    def app(self) -> Any:
        """The ASGI app: dialect routes behind the fault switches, plus ``/_admin``."""
        app = FastAPI(title=f"{self.name} simulator", docs_url=None, redoc_url=None)
        router = APIRouter()
        self.routes(router)
        app.include_router(router)
        app.include_router(self._admin())
        return FaultMiddleware(app, self.faults)

    def _admin(self) -> APIRouter:
        admin = APIRouter(prefix=ADMIN_PREFIX)

        @admin.get("/whoami")
        def whoami() -> dict[str, str]:
            return {"system": self.name, "instance": self.instance}

        @admin.get("/state")
        def state() -> dict[str, Any]:
            return {
                "system": self.name,
                "live": len(self.offer.live()),
                "deleted": len(self.offer.deleted()),
                "requests": len(self.faults.log()),
                "pending_faults": self.faults.pending(),
            }

        @admin.post("/faults")
        def faults(body: _FaultRequest) -> dict[str, list[str]]:
            try:
                self.faults.inject(*body.faults)
            except ValueError as exc:
                raise HTTPException(422, str(exc)) from exc
            return {"pending_faults": self.faults.pending()}

        @admin.delete("/faults")
        def clear() -> dict[str, list[str]]:
            self.faults.clear()
            return {"pending_faults": []}

        @admin.post("/offer")
        def offer(body: _OfferChange) -> dict[str, list[str]]:
            return {
                "changed": self.offer.change(body.change) if body.change else [],
                "added": self.offer.add(body.add) if body.add else [],
                "deleted": self.offer.delete(body.delete) if body.delete else [],
                "corrupted": self.offer.corrupt(body.corrupt) if body.corrupt else [],
            }

        return admin
