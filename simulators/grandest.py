"""A simulated Grand-Est drop: daily dated zips of the region's offer in a directory listing.

``GET /offres/`` answers an nginx ``autoindex``-style HTML listing of the dumps kept
(``history`` of them, oldest first), next to a dump still being uploaded (``.zip.part``)
and a read-me, which a reader must ignore. ``GET /offres/<dump>.zip`` answers the zip: one
LHEO 2.3 file, UTF-8, named like the dump.

The system publishes a new dump the day after its offer changed: each change of the offer
(``/_admin/offer``) makes the next day's dump, so a test sees a newer dump at once.
:meth:`GrandEstSimulator.write_dumps` writes the same dumps to a folder, for the folder
transport.

The dialect of this new system: financeurs and publics in Grand-Est's local codes (its
rows of ``source_codes.csv``), and no field for atypical offers, so an ASL or an OEPRE
carries a plain title and says what it is only in a formation-level
``<extras info="type-formation"><extra info="type-formation">ASL</extra></extras>``, the
extra ``language_rules.csv`` recognises.
"""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile
from datetime import timedelta
from html import unescape
from pathlib import Path
from random import Random
from typing import Any

from fastapi import APIRouter, Response

from connectors.codes import LocalCodes
from simulators.corpus import GeneratedFormation, write_formations
from simulators.corpus import text as corpus_text
from simulators.corpus.parts import esc
from simulators.system import SimulatedOffer, SimulatedSystem

__all__ = ["ATYPICAL", "GrandEstSimulator"]

ATYPICAL = ("ASL", "OEPRE")
"""The schemes the system can only state in an extras."""
PREFIX = "offre-grand-est-"
CODED = ("code-financeur", "code-public-vise")
_TITLES: dict[str, str] = {
    **{
        title: offre.dispositif
        for offre in corpus_text.OFFRES_LANGUE
        if offre.dispositif in ATYPICAL
        for title in offre.intitules
    },
    **{
        title: dispositif
        for dispositif, titles in corpus_text.INTITULES_SANS_DISPOSITIF.items()
        for title in titles
    },
}
_TITLE = re.compile(r"<intitule-formation>([^<]*)</intitule-formation>")
_SCHEME_EXTRAS = re.compile(
    r'<extras info="dispositif">\s*<extra info="type">(?:ASL|OEPRE)</extra>\s*</extras>\n?'
)


class GrandEstSimulator(SimulatedSystem):
    name = "grand-est"
    region = "44"
    version = "2.3"
    numero_prefix = "44"

    def __init__(self, *, history: int = 3, language_share: float = 0.3, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        spec = dataclasses.replace(self.offer.spec, language_share=language_share)
        self.offer = SimulatedOffer(spec, clock=self.offer.clock)
        self.history = history
        self.first_day = self.offer.clock().date()
        self.codes = LocalCodes("grand-est")
        self._zips: dict[int, bytes] = {}

    def source_config(self, base_url: str) -> dict[str, Any]:
        return {"connector": "grand-est", "region": self.region, "url": f"{base_url}/offres/"}

    # -- the dumps -----------------------------------------------------------------------

    def dumps(self) -> list[tuple[str, int]]:
        """``(name, day)`` of the dumps listed, oldest first; day 0 is the first one.

        The current dump is day ``generation``: each change of the offer is published
        the next day.
        """
        current = self.offer.generation
        return [
            (self.dump_name(day), day) for day in range(current - self.history + 1, current + 1)
        ]

    def newest(self) -> str:
        return self.dumps()[-1][0]

    def dump_name(self, day: int) -> str:
        return f"{PREFIX}{(self.first_day + timedelta(days=day)).isoformat()}.zip"

    def dump(self, day: int) -> bytes:
        """The zip of ``day``, built once, from the offer as it is when first asked for.

        The current day's is exact; older days listed before the simulator started hold
        its first offer (a reader only ever takes the newest).
        """
        with self.offer.lock:
            if day not in self._zips:
                self._zips[day] = self._zip(self.dump_name(day))
            return self._zips[day]

    def _zip(self, name: str) -> bytes:
        document = io.BytesIO()
        write_formations(document, [self._dialect(f) for f in self.offer.live()], version="2.3")
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(name.removesuffix(".zip") + ".xml", document.getvalue())
        return out.getvalue()

    def write_dumps(self, folder: Path) -> list[Path]:
        """Drop the listed dumps (and the noise beside them) in ``folder``, as the system does."""
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name, day in self.dumps():
            path = folder / name
            path.write_bytes(self.dump(day))
            written.append(path)
        (folder / "LISEZMOI.txt").write_text("Offre de formation Grand Est, un dépôt par jour.\n")
        return written

    def routes(self, router: APIRouter) -> None:
        @router.get("/offres/")
        def listing() -> Response:
            return Response(self.listing(), media_type="text/html; charset=utf-8")

        @router.get("/offres/{name}")
        def download(name: str) -> Response:
            for listed, day in self.dumps():
                if listed == name:
                    return Response(self.dump(day), media_type="application/zip")
            return Response("404 Not Found\n", status_code=404, media_type="text/plain")

    def listing(self) -> str:
        """An nginx autoindex page: parent link, dumps, an upload in progress, a read-me."""
        entries = [(name, len(self.dump(g))) for name, g in self.dumps()]
        uploading = self.dump_name(self.offer.generation + 1)
        entries += [(uploading + ".part", 4096), ("LISEZMOI.txt", 52)]
        rows = "".join(
            f'<a href="{name}">{name}</a>{" " * max(1, 51 - len(name))}'
            f"{self.first_day:%d-%b-%Y} 04:12 {size:>19}\n"
            for name, size in entries
        )
        return (
            "<html>\n<head><title>Index of /offres/</title></head>\n<body>\n"
            '<h1>Index of /offres/</h1><hr><pre><a href="../">../</a>\n'
            f"{rows}</pre><hr></body>\n</html>\n"
        )

    # -- the dialect ---------------------------------------------------------------------

    def atypical(self) -> dict[str, str]:
        """Live numeros of the ASL and OEPRE offers, and which they are."""
        found = {}
        for formation in self.offer.live():
            scheme = _scheme(formation)
            if scheme is not None:
                found[formation.numero] = scheme
        return found

    def _dialect(self, formation: GeneratedFormation) -> GeneratedFormation:
        text = formation.xml.decode("utf-8")
        scheme = _scheme(formation)
        if scheme is not None:
            rng = Random(f"{self.offer.spec.seed}:grand-est:{formation.numero}")
            title = rng.choice(corpus_text.INTITULES_SANS_DISPOSITIF[scheme])
            text = _TITLE.sub(f"<intitule-formation>{esc(title)}</intitule-formation>", text, 1)
            text = _SCHEME_EXTRAS.sub("", text)
            extras = (
                '<extras info="type-formation">\n'
                f'<extra info="type-formation">{scheme}</extra>\n</extras>\n'
            )
            text = text[: text.rindex("</formation>")] + extras + "</formation>"
        text = self._local_codes(text)
        return dataclasses.replace(formation, xml=text.encode("utf-8"))

    def _local_codes(self, text: str) -> str:
        def local(match: re.Match[str]) -> str:
            element, attributes, value = match.group(1), match.group(2) or "", match.group(3)
            code = self.codes.local(element, value) or value
            return f"<{element}{attributes}>{code}</{element}>"

        return re.sub(rf"<({'|'.join(CODED)})(\s[^>]*)?>([^<]*)</\1>", local, text)


def _scheme(formation: GeneratedFormation) -> str | None:
    """ASL or OEPRE when the generated offer is one (known by its title), else None."""
    if not formation.language:
        return None
    found = _TITLE.search(formation.xml.decode("utf-8"))
    return _TITLES.get(unescape(found.group(1))) if found else None
