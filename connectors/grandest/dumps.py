"""Grand-Est's daily dumps: which one is new, and its LHEO taken safely out of the zip.

A dump is ``<prefix><YYYY-MM-DD>.zip`` (``offre-grand-est-2026-11-27.zip``) holding one
LHEO 2.3 XML file. Dumps are found in a folder or in an HTTP directory listing (the plain
HTML index of nginx ``autoindex`` or Apache: links to the files); any other name there
(uploads in progress, read-me files) is ignored.

The zip comes from outside, so it is opened with care: the member is never extracted to a
path taken from the archive, but read into a spooled temporary file of the hub's own, and
refused before reading when it declares more than ``max_bytes`` or a compression ratio past
``max_ratio`` (a zip bomb), and while reading as soon as it inflates past either. A zip
holding no or several XML files is refused: which one is the offer would be a guess.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from datetime import date
from functools import partial
from html.parser import HTMLParser
from pathlib import PurePosixPath
from typing import IO
from urllib.parse import unquote, urlsplit

from hub.errors import FatalFetchError
from hub.http import spool

__all__ = [
    "MAX_MEMBERS",
    "Dump",
    "Member",
    "dumps_in",
    "lheo_member",
    "links_of",
    "newest_unseen",
]

MAX_MEMBERS = 64
"""More entries than this is no daily dump."""
_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True, order=True)
class Dump:
    """One dated dump: its day, and its name (the file name, or the link's last segment)."""

    day: date
    name: str
    href: str = ""
    """Where it is: a link of the listing, or the file's path in the folder."""


def dumps_in(names: list[tuple[str, str]], prefix: str) -> list[Dump]:
    """The dumps among ``(name, href)`` pairs, oldest first; other names are ignored."""
    pattern = re.compile(rf"{re.escape(prefix)}(\d{{4}}-\d{{2}}-\d{{2}})\.zip")
    found = set()
    for name, href in names:
        match = pattern.fullmatch(name)
        if match is None:
            continue
        try:
            found.add(Dump(date.fromisoformat(match.group(1)), name, href))
        except ValueError:
            continue  # offre-grand-est-2026-02-30.zip is no day
    return sorted(found)


def newest_unseen(dumps: list[Dump], seen: str | None) -> Dump | None:
    """The newest dump if it is newer than the day ``seen`` (ISO date); older ones never."""
    if not dumps:
        return None
    newest = dumps[-1]
    if seen is not None and newest.day <= date.fromisoformat(seen):
        return None
    return newest


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.extend(value for name, value in attrs if name == "href" and value)


def links_of(listing: str) -> list[tuple[str, str]]:
    """``(file name, href)`` of every link of an HTML directory listing."""
    parser = _Links()
    parser.feed(listing)
    parser.close()
    return [(unquote(PurePosixPath(urlsplit(h).path).name), h) for h in parser.hrefs]


@dataclass(frozen=True, slots=True)
class Member:
    """The XML file taken out of a dump: its bytes (a spooled file) and its name in the zip."""

    stream: IO[bytes]
    name: str


def lheo_member(body: IO[bytes], *, name: str, max_bytes: int, max_ratio: float) -> Member:
    """The one XML file of the zip ``body``, read into a spooled file; FatalFetchError if unsafe."""
    try:
        archive = zipfile.ZipFile(body)
    except (zipfile.BadZipFile, OSError) as exc:
        raise FatalFetchError(
            f"invalid payload: {name} is not a readable zip archive ({exc})",
            hint="if the dump was still being copied, the next sync takes it again",
        ) from exc
    with archive:
        member = _the_xml_member(archive, name)
        _check_declared(member, name, max_bytes, max_ratio)
        return Member(_inflate(archive, member, name, max_bytes, max_ratio), member.filename)


def _the_xml_member(archive: zipfile.ZipFile, name: str) -> zipfile.ZipInfo:
    entries = archive.infolist()
    if len(entries) > MAX_MEMBERS:
        raise FatalFetchError(f"invalid payload: {name} holds {len(entries)} entries; refused")
    xml = [e for e in entries if not e.is_dir() and e.filename.lower().endswith(".xml")]
    if len(xml) != 1:
        listed = ", ".join(e.filename for e in xml) or "none"
        raise FatalFetchError(
            f"invalid payload: {name} holds {len(xml)} XML files ({listed}); a dump holds "
            "exactly one LHEO file",
            hint="ask Grand-Est to publish one LHEO file per dump",
        )
    return xml[0]


def _check_declared(member: zipfile.ZipInfo, name: str, max_bytes: int, max_ratio: float) -> None:
    where = f"{name}!{member.filename}"
    if member.flag_bits & 0x1:
        raise FatalFetchError(f"invalid payload: {where} is encrypted")
    if member.file_size > max_bytes:
        raise FatalFetchError(
            f"invalid payload: {where} declares {member.file_size} bytes once inflated, over "
            f"the limit of {max_bytes}; refused before reading"
        )
    if member.file_size > max_ratio * max(member.compress_size, 1):
        raise FatalFetchError(
            f"invalid payload: {where} inflates {member.compress_size} bytes to "
            f"{member.file_size} (ratio over {max_ratio:g}): a zip bomb; refused"
        )


def _inflate(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, name: str, max_bytes: int, ratio: float
) -> IO[bytes]:
    """Read the member in chunks, stopping once it passes what it declared or may weigh."""
    where = f"{name}!{member.filename}"
    limit = min(max_bytes, member.file_size, int(ratio * max(member.compress_size, 1)))

    def too_large(_size: int) -> FatalFetchError:
        return FatalFetchError(
            f"invalid payload: {where} inflates past {limit} bytes, more than it "
            "declares or may weigh: a zip bomb; refused"
        )

    try:
        with archive.open(member) as stream:
            out, _ = spool(iter(partial(stream.read, _CHUNK), b""), limit, too_large)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise FatalFetchError(f"invalid payload: {where} is damaged ({exc})") from exc
    return out
