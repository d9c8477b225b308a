"""A simulated via-competences: the Auvergne-Rhône-Alpes offer as two legacy exports.

The system holds one generated regional offer (region 84) and publishes it as the two
exports of the former bases, each a full LHEO 2.3 file with a strong ``ETag`` and a
``Last-Modified`` of its own (``If-None-Match``, else ``If-Modified-Since``, answer 304):

* ``GET /auvergne/offres-lheo.xml``, ISO-8859-1: the offers of organismes of the Allier,
  Cantal, Haute-Loire and Puy-de-Dôme;
* ``GET /rhone-alpes/offres-lheo.xml``, UTF-8: the offers of the other départements;
* and a share of offers (``overlap_share``) in **both**, as happens when an organisme
  entered its offer in each base.

Each base writes its old region code (``<region>83</region>``, ``82``), numbers its
records with it (``83_AF_…``; the Auvergne copy of an offer it shares has an id of its
own), codes financeurs, publics and levels with its local codes (the rows of
``source_codes.csv``, levels in the pre-2019 nomenclature) and, for a shared offer, one
copy lags: an older ``datemaj`` (or the same one) and small differences of wording.
Changes (``/_admin/offer``) reach every base that holds the offer.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from random import Random
from typing import Any

from fastapi import APIRouter, Request, Response

from connectors.codes import LocalCodes
from connectors.viacompetences.connector import DEFAULT_BASES, ExportBase
from hub.harmonise import harmoniser
from simulators.corpus import GeneratedFormation, write_formations
from simulators.system import SimulatedSystem

__all__ = ["AUVERGNE_DEPARTEMENTS", "ViaCompetencesSimulator"]

AUVERGNE_DEPARTEMENTS = frozenset({"03", "15", "43", "63"})
ENCODINGS = {"auvergne": "ISO-8859-1", "rhone-alpes": "UTF-8"}
OWN_ID_OFFSET = 7_000_000
"""Ids of the Auvergne copies of shared offers start here: the bases number apart."""
CODED = ("code-financeur", "code-public-vise", "code-niveau-entree", "code-niveau-sortie")
LAGS = ("intitule-majuscules", "resultats-attendus", "telephone")
_ORGANISME_DEPARTEMENT = re.compile(
    r"<organisme-formation-responsable.*?<departement>([^<]*)</departement>", re.S
)


class ViaCompetencesSimulator(SimulatedSystem):
    name = "via-competences"
    region = "84"
    version = "2.3"
    numero_prefix = "84"

    def __init__(self, *, overlap_share: float = 0.35, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.overlap_share = overlap_share
        self.bases: tuple[ExportBase, ...] = DEFAULT_BASES
        self.codes = {base.name: LocalCodes(base.codes) for base in self.bases}
        self._old_levels = {
            row["code_2019"]: row["code_ancien"] for row in harmoniser().tables.niveaux_2019
        }
        self._exports: dict[str, tuple[int, bytes, str]] = {}
        self._last_modified: dict[str, tuple[str, datetime]] = {}

    def source_config(self, base_url: str) -> dict[str, Any]:
        return {"connector": "via-competences", "region": self.region, "url": base_url}

    # -- who holds what ------------------------------------------------------------------

    def bases_of(self, formation: GeneratedFormation) -> tuple[str, ...]:
        """The bases whose export holds ``formation`` (both for a shared offer)."""
        index = _index(formation.numero)
        if Random(f"{self.offer.spec.seed}:via-competences:{index}").random() < self.overlap_share:
            return tuple(base.name for base in self.bases)
        found = _ORGANISME_DEPARTEMENT.search(formation.xml.decode("utf-8"))
        auvergne = found is not None and found.group(1) in AUVERGNE_DEPARTEMENTS
        return ("auvergne",) if auvergne else ("rhone-alpes",)

    def holdings(self) -> dict[str, tuple[str, ...]]:
        """Live numeros (the region's) and the bases holding each."""
        return {f.numero: self.bases_of(f) for f in self.offer.live()}

    def base_numero(self, numero: str, base: str) -> str:
        """The numero ``base`` gives the offer the region numbers ``numero``."""
        old = next(b.old_region for b in self.bases if b.name == base)
        index = _index(numero)
        shared = len(self.bases_of_numero(numero)) > 1
        own = index + OWN_ID_OFFSET if base == "auvergne" and shared else index
        return f"{old}_AF_{own + 1:010d}"

    def bases_of_numero(self, numero: str) -> tuple[str, ...]:
        return self.holdings()[numero]

    def lag(self, formation: GeneratedFormation) -> tuple[str, int, tuple[str, ...]]:
        """For a shared offer: the lagging base, how many days older, what it words apart."""
        rng = Random(f"{self.offer.spec.seed}:via-competences:lag:{_index(formation.numero)}")
        base = rng.choice([b.name for b in self.bases])
        return base, rng.choice((0, 2, 9, 35)), tuple(sorted(rng.sample(LAGS, rng.randint(1, 2))))

    # -- the exports ---------------------------------------------------------------------

    def routes(self, router: APIRouter) -> None:
        for base in self.bases:
            router.add_api_route(f"/{base.path}", self._route(base.name), methods=["GET"])

    def _route(self, base: str) -> Any:
        def export(request: Request) -> Response:
            body, etag = self.export(base)
            last_modified = self._last_modified[base][1]
            headers = {"ETag": etag, "Last-Modified": format_datetime(last_modified, usegmt=True)}
            if _not_modified(request, etag, last_modified):
                return Response(status_code=304, headers=headers)
            charset = ENCODINGS[base]
            return Response(body, media_type=f"application/xml; charset={charset}", headers=headers)

        return export

    def export(self, base: str) -> tuple[bytes, str]:
        """The export of ``base`` and its ETag, rebuilt only when the offer changed."""
        with self.offer.lock:
            cached = self._exports.get(base)
            if cached is None or cached[0] != self.offer.generation:
                formations = [
                    self._dialect(f, base) for f in self.offer.live() if base in self.bases_of(f)
                ]
                out = io.BytesIO()
                write_formations(out, formations, version="2.3", encoding=ENCODINGS[base])
                data = out.getvalue()
                etag = f'"{hashlib.sha256(data).hexdigest()[:24]}"'
                self._exports[base] = cached = (self.offer.generation, data, etag)
                if self._last_modified.get(base, ("", None))[0] != etag:
                    when = self.offer.updated_at.replace(microsecond=0)
                    self._last_modified[base] = (etag, when)
            return cached[1], cached[2]

    def _dialect(self, formation: GeneratedFormation, base: str) -> GeneratedFormation:
        """``formation`` as ``base`` writes it."""
        spec = next(b for b in self.bases if b.name == base)
        text = formation.xml.decode("utf-8")
        text = text.replace(
            f"<region>{self.region}</region>", f"<region>{spec.old_region}</region>"
        )
        text = text.replace(f'numero="{self.region}_', f'numero="{spec.old_region}_')
        shared = len(self.bases_of(formation)) > 1
        index = _index(formation.numero)
        if shared and base == "auvergne":
            own = f"{index + OWN_ID_OFFSET + 1:010d}"
            numeros = rf'(numero="{spec.old_region}_(?:A[FC]|SE)_){index + 1:010d}'
            text = re.sub(numeros, rf"\g<1>{own}", text)
        text = self._local_codes(text, base)
        if shared:
            lagging, days, wording = self.lag(formation)
            if lagging == base:
                text = _lagging(text, days, wording)
        return dataclasses.replace(formation, xml=text.encode("utf-8"))

    def _local_codes(self, text: str, base: str) -> str:
        codes = self.codes[base]

        def local(match: re.Match[str]) -> str:
            element, attributes, value = match.group(1), match.group(2) or "", match.group(3)
            if element.startswith("code-niveau"):
                value = self._old_levels.get(value, value)  # legacy bases predate 2019
            code = codes.local(element, value) or value
            return f"<{element}{attributes}>{code}</{element}>"

        pattern = rf"<({'|'.join(CODED)})(\s[^>]*)?>([^<]*)</\1>"
        return re.sub(pattern, local, text)


def _index(numero: str) -> int:
    """The corpus index of the region's numero ``84_AF_0000000012`` (11)."""
    return int(numero.rsplit("_", 1)[-1]) - 1


def _lagging(text: str, days: int, wording: tuple[str, ...]) -> str:
    """The copy of a base that lags: older ``datemaj`` and small differences of wording."""

    def older(match: re.Match[str]) -> str:
        day = datetime.strptime(match.group(1), "%Y%m%d") - timedelta(days=days)
        return f'datemaj="{day:%Y%m%d}"'

    text = re.sub(r'datemaj="(\d{8})"', older, text)
    if "intitule-majuscules" in wording:
        text = re.sub(
            r"<intitule-formation>([^<]*)</intitule-formation>",
            lambda m: f"<intitule-formation>{_upper(m.group(1))}</intitule-formation>",
            text,
            count=1,
        )
    if "resultats-attendus" in wording:
        text = re.sub(
            r"<resultats-attendus>[^<]*</resultats-attendus>",
            "<resultats-attendus>Attestation de fin de formation.</resultats-attendus>",
            text,
            count=1,
        )
    if "telephone" in wording:
        text = re.sub(
            r"<numtel>(\d\d) (\d\d) (\d\d) (\d\d) (\d\d)</numtel>",
            r"<numtel>\1.\2.\3.\4.\5</numtel>",
            text,
            count=1,
        )
    return text


def _upper(text: str) -> str:
    """Upper case, entities (``&amp;``) left as they are."""
    return re.sub(
        r"&\w+;|[^&]+", lambda m: m.group(0) if m.group(0)[0] == "&" else m.group(0).upper(), text
    )


def _not_modified(request: Request, etag: str, last_modified: datetime) -> bool:
    """RFC 9110: ``If-None-Match`` decides when sent, else ``If-Modified-Since``."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return etag in tags or "*" in tags
    since = request.headers.get("if-modified-since")
    if not since:
        return False
    try:
        return last_modified <= parsedate_to_datetime(since).astimezone(UTC)
    except (TypeError, ValueError):
        return False
