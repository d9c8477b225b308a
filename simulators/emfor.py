"""A simulated Emfor export: the whole Bourgogne-Franche-Comté offer in one LHEO 2.2 file.

``GET /export/offres-lheo.xml`` answers the file in ISO-8859-1 with a strong ``ETag`` and
``Last-Modified``; ``If-None-Match`` (or, without it, ``If-Modified-Since``) answers 304
while the offer has not changed.

A share of the organismes (``structure_share``, drawn per organisme so all its offers
agree) are not training organisations: neighbourhood committees, youth and social centres.
They carry such a structure's name, and their SIRET and activity number are missing or
wrong in one of the ways real exports show (absent, empty, ``NC``, a SIREN, spaces, a bad
check digit; ``EN COURS``...).
"""

from __future__ import annotations

import hashlib
import io
import re
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from random import Random
from typing import Any

from fastapi import APIRouter, Request, Response

from simulators.corpus import GeneratedFormation, write_formations
from simulators.corpus.parts import esc
from simulators.system import SimulatedSystem

__all__ = ["EmforSimulator"]

EXPORT_PATH = "/export/offres-lheo.xml"
STRUCTURES = (
    "Comité de quartier {lieu}",
    "Maison des jeunes et de la culture {lieu}",
    "Centre social {lieu}",
    "Maison de quartier {lieu}",
    "Association des habitants {lieu}",
    "Foyer de jeunes travailleurs {lieu}",
)
LIEUX = (
    "de Planoise",
    "des Grésilles",
    "de Palente",
    "du Mont-Bart",
    "Fontaine d'Ouche",
    "de la Petite-Hollande",
    "des Époisses",
    "de Chenôve",
    "du Stade",
    "Saint-Claude",
)
SIRET_DEFECTS = ("absent", "vide", "NC", "siren", "espaces", "cle")
NUMERO_ACTIVITE_DEFECTS = ("absent", "vide", "EN COURS", "0")
_BLOCK = re.compile(
    r'<(organisme-formation-responsable|organisme-formateur) numero="([^"]*)">.*?</\1>', re.S
)


class EmforSimulator(SimulatedSystem):
    name = "emfor"
    region = "27"
    version = "2.2"
    numero_prefix = "27"

    def __init__(self, *, structure_share: float = 0.3, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.structure_share = structure_share
        self._export: tuple[int, bytes, str] | None = None

    def source_config(self, base_url: str) -> dict[str, Any]:
        return {"connector": "emfor", "region": self.region, "url": base_url}

    def accepted(self, formation: GeneratedFormation) -> bool:
        # The connector repairs a wrong SIRET (and flags it), so that defect is kept.
        return formation.valid or formation.defect == "siret-trop-long"

    def is_structure(self, organisme_numero: str) -> bool:
        draw = Random(f"{self.offer.spec.seed}:structure:{organisme_numero}").random()
        return draw < self.structure_share

    def structure_numeros(self) -> set[str]:
        """Numeros of the live formations one of whose organismes is such a structure."""
        return {
            formation.numero
            for formation in self.offer.live()
            if any(self.is_structure(m.group(2)) for m in _BLOCK.finditer(formation.xml.decode()))
        }

    def routes(self, router: APIRouter) -> None:
        @router.get(EXPORT_PATH)
        def export(request: Request) -> Response:
            body, etag = self.export()
            last_modified = self.offer.updated_at.replace(microsecond=0)
            headers = {"ETag": etag, "Last-Modified": format_datetime(last_modified, usegmt=True)}
            if _not_modified(request, etag, last_modified):
                return Response(status_code=304, headers=headers)
            return Response(body, media_type="application/xml; charset=ISO-8859-1", headers=headers)

    def export(self) -> tuple[bytes, str]:
        """The export file and its ETag, rebuilt only when the offer changed."""
        with self.offer.lock:
            if self._export is None or self._export[0] != self.offer.generation:
                formations = [self._dialect(f) for f in self.offer.live()]
                out = io.BytesIO()
                write_formations(out, formations, version="2.2", encoding="ISO-8859-1")
                data = out.getvalue()
                etag = f'"{hashlib.sha256(data).hexdigest()[:24]}"'
                self._export = (self.offer.generation, data, etag)
            return self._export[1], self._export[2]

    def _dialect(self, formation: GeneratedFormation) -> GeneratedFormation:
        text = formation.xml.decode("utf-8")
        changed = _BLOCK.sub(self._structure_block, text)
        if changed == text:
            return formation
        return GeneratedFormation(
            formation.numero,
            formation.valid,
            changed.encode("utf-8"),
            formation.language,
            formation.actions,
            formation.sessions,
            formation.defect,
        )

    def _structure_block(self, match: re.Match[str]) -> str:
        block, numero = match.group(0), match.group(2)
        if not self.is_structure(numero):
            return block
        rng = Random(f"{self.offer.spec.seed}:structure-defects:{numero}")
        block = _with_siret(block, rng.choice(SIRET_DEFECTS), rng)
        if match.group(1) == "organisme-formation-responsable":
            nom = rng.choice(STRUCTURES).format(lieu=rng.choice(LIEUX))
            block = re.sub(
                r"<nom-organisme>[^<]*</nom-organisme>",
                f"<nom-organisme>{esc(nom)}</nom-organisme>",
                block,
                count=1,
            )
            block = _with_numero_activite(block, rng.choice(NUMERO_ACTIVITE_DEFECTS))
        return block


def _with_siret(block: str, defect: str, rng: Random) -> str:
    siret = re.search(r"<SIRET>(\d{14})</SIRET>", block)
    if siret is None:
        return block
    value = siret.group(1)
    if defect == "absent":
        return re.sub(
            r"<(SIRET-[a-z-]+|SIRET-formateur)>\s*<SIRET>\d*</SIRET>\s*</\1>\n?", "", block, count=1
        )
    replacement = {
        "vide": "",
        "NC": "NC",
        "siren": value[:9],
        "espaces": f"{value[:3]} {value[3:6]} {value[6:9]} {value[9:]}",
        "cle": value[:13] + str((int(value[13]) + 1 + rng.randrange(8)) % 10),
    }[defect]
    return block.replace(siret.group(0), f"<SIRET>{replacement}</SIRET>", 1)


def _with_numero_activite(block: str, defect: str) -> str:
    if defect == "absent":
        return re.sub(r"<numero-activite>[^<]*</numero-activite>\n?", "", block, count=1)
    value = "" if defect == "vide" else defect
    return re.sub(
        r"<numero-activite>[^<]*</numero-activite>",
        f"<numero-activite>{value}</numero-activite>",
        block,
        count=1,
    )


def _not_modified(request: Request, etag: str, last_modified: datetime) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return etag in tags or "*" in tags
    since = request.headers.get("if-modified-since")
    if since:
        try:
            return last_modified <= parsedate_to_datetime(since).astimezone(UTC)
        except (TypeError, ValueError):
            return False
    return False
