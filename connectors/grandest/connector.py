"""The Grand-Est connector: the newest daily dump, from a folder or a directory listing.

Grand-Est's system drops one dated zip a day (``offre-grand-est-2026-11-27.zip``), each
holding the whole offer as one LHEO 2.3 file. The source gives either ``options.folder``
(dumps dropped on this machine) or ``url`` (an HTTP directory listing of them), never
both. Each sync takes the newest dump if it is newer than the last one ingested and reads
it as a snapshot; older dumps and the one already ingested are skipped, since the newest
holds everything they held. The zip is archived as downloaded; the hub's read stage opens
it safely (:mod:`connectors.grandest.dumps`) through :class:`GrandEstDialect`, whose
rejections name ``offre-grand-est-….zip!<file>.xml`` and its line.

The dialect translates Grand-Est's local financeur and public codes with its rows of
``mappings/tables/source_codes.csv`` (the XSD would refuse ``REGION`` as a financeur) and
leaves the rest to the mapping layer, in particular the ``<extras info="type-formation">``
through which this system, designed without atypical offers, says an offer is an ASL or an
OEPRE: ``language_rules.csv`` recognises exactly that extra.

Cursor: ``{"dump": "offre-grand-est-2026-11-27.zip", "day": "2026-11-27"}``. Over HTTP a
sync costs one GET of the listing when nothing is new.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import IO, ClassVar
from urllib.parse import urljoin

import httpx
from lxml import etree
from pydantic import Field

from connectors.base import (
    Connector,
    ConnectorOptions,
    Cursor,
    Fetched,
    LheoFlow,
    Transport,
    WorkItem,
)
from connectors.codes import LocalCodes
from connectors.grandest.dumps import Dump, dumps_in, lheo_member, links_of, newest_unseen
from hub.errors import ConfigError, FatalFetchError
from hub.http import SPOOL_IN_MEMORY, Fetcher, spool
from hub.lheo.dialect import Dialect, Flag, Opened, Part
from hub.settings import FetchSettings, SourceSettings

__all__ = ["GrandEstConnector", "GrandEstDialect", "GrandEstOptions"]

_CHUNK = 1 << 16


class GrandEstOptions(ConnectorOptions):
    folder: Path | None = None
    """The folder dumps are dropped in (instead of ``url``, a directory listing)."""
    dump_prefix: str = Field(default="offre-grand-est-", min_length=1)
    """Dumps are named ``<dump_prefix>YYYY-MM-DD.zip``."""
    codes: str = Field(default="grand-est", min_length=1)
    """The source name of Grand-Est's rows in ``mappings/tables/source_codes.csv``."""
    max_ratio: float = Field(default=200.0, gt=1)
    """Refuse a zip whose XML inflates more than this many times (a zip bomb)."""


class GrandEstDialect(Dialect):
    """A dump is a zip holding one LHEO 2.3 file, whose local codes become national ones."""

    name = "grand-est"
    fixes = True
    lheo_version = "2.3"

    def __init__(self, codes: LocalCodes, *, max_bytes: int, max_ratio: float) -> None:
        self.codes, self.max_bytes, self.max_ratio = codes, max_bytes, max_ratio

    def fingerprint(self) -> str:
        return f"{super().fingerprint()}/{self.codes.fingerprint()}"

    def open(self, part: Part, raw: IO[bytes]) -> Opened:
        """The zip's one XML file, checked for size and ratio before and while inflating."""
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as body:
            shutil.copyfileobj(raw, body)  # a zip is read from its end: it must seek
            body.seek(0)
            member = lheo_member(
                body, name=part.name, max_bytes=self.max_bytes, max_ratio=self.max_ratio
            )
        return Opened(member.stream, f"{part.name}!{member.name}")

    def fix(self, formation: etree._Element, part: Part) -> list[Flag]:
        return self.codes.translate(formation)


class GrandEstConnector(Connector):
    """Reads the newest unseen dump; one snapshot flow per new dump."""

    name = "grand-est"
    transport: ClassVar[Transport] = "pull"
    lheo_version = "2.3"
    encoding = "UTF-8"
    Options = GrandEstOptions
    options: GrandEstOptions

    def __init__(self, source: SourceSettings, fetcher: Fetcher) -> None:
        if source.options.get("folder") is not None:
            # Dumps dropped in a folder: a file source, so the base needs no url.
            self.transport = "file"  # type: ignore[misc]
        super().__init__(source, fetcher)
        if self.options.folder is not None and source.url:
            raise ConfigError(
                f"{source.file or source.name}: give either url (a directory listing) or "
                "options.folder (dropped dumps), not both"
            )

    @classmethod
    def dialect(
        cls, source: SourceSettings | None, *, region: str | None, limits: FetchSettings
    ) -> Dialect:
        options = cls.options_of(source)
        assert isinstance(options, GrandEstOptions)
        return GrandEstDialect(
            LocalCodes(options.codes), max_bytes=limits.max_bytes, max_ratio=options.max_ratio
        )

    # -- gather --------------------------------------------------------------------------

    def gather(self, cursor: Cursor) -> Iterator[WorkItem]:
        if self.options.folder is None:
            # The url as configured: its trailing slash makes the listing's links relative to it.
            # expect_xml: the fetcher then retries a listing cut before its </html>.
            yield WorkItem(str(self.source.url), label="listing", context={"cursor": cursor})
            return
        folder = self.options.folder
        if not folder.is_dir():
            raise FatalFetchError(
                f"the dump folder {folder} does not exist or is not a folder",
                hint="fix options.folder, or mount the drop folder",
            )
        names = [(p.name, str(p)) for p in folder.iterdir() if p.is_file()]
        dump = newest_unseen(dumps_in(names, self.options.dump_prefix), _seen(cursor))
        if dump is not None:
            yield self._dump_item(Path(dump.href).resolve().as_uri(), dump)

    def _dump_item(self, url: str, dump: Dump) -> WorkItem:
        context: dict[str, object] = {
            "dump": dump.name,
            "day": dump.day.isoformat(),
            "href": dump.href,
        }
        return WorkItem(url, label=dump.name, context=context, expect_xml=False)

    # -- fetch ---------------------------------------------------------------------------

    def fetch(self, item: WorkItem) -> Fetched:
        if self.options.folder is None:
            return super().fetch(item)
        return self._read_file(item, Path(str(item.context["href"])))

    def _read_file(self, item: WorkItem, path: Path) -> Fetched:
        """A dropped dump's bytes, under the same size limit as a download."""
        limit = self.fetcher.settings.max_bytes

        def too_large(_size: int) -> FatalFetchError:
            return FatalFetchError(
                f"{path}: the dump passes the limit of {limit} bytes (fetch.max_bytes); refused"
            )

        try:
            with path.open("rb") as stream:
                body, size = spool(iter(partial(stream.read, _CHUNK), b""), limit, too_large)
        except OSError as exc:
            raise FatalFetchError(f"{path}: cannot read the dump ({exc})") from exc
        return Fetched(item, 200, httpx.Headers(), body, size)

    # -- read ----------------------------------------------------------------------------

    def read(self, fetched: Fetched) -> LheoFlow:
        context = fetched.item.context
        if "dump" not in context:
            return self._read_listing(fetched)
        return LheoFlow("snapshot", {"dump": context["dump"], "day": context["day"]})

    def _read_listing(self, fetched: Fetched) -> LheoFlow:
        cursor: Cursor = dict(fetched.item.context["cursor"])  # type: ignore[call-overload]
        names = links_of(fetched.body.read().decode("utf-8", "replace"))  # dump names are ASCII
        dump = newest_unseen(dumps_in(names, self.options.dump_prefix), _seen(cursor))
        if dump is None:
            return LheoFlow(None, cursor)
        url = urljoin(fetched.item.url, dump.href)
        return LheoFlow(None, cursor, next=self._dump_item(url, dump))


def _seen(cursor: Cursor) -> str | None:
    day = cursor.get("day")
    return str(day) if day else None
