"""Encoding truth: a flow's bytes must be in the encoding its XML declaration names.

Two lies are common and both end as mojibake in the national feed if nobody checks:

* a file declares ``ISO-8859-1`` (or another single-byte Latin encoding) but its non-ASCII
  bytes are all valid multi-byte UTF-8: read as declared, ``Français`` becomes ``FranÃ§ais``,
  and libxml2 cannot notice (every byte is a Latin-1 character);
* a file declares ``UTF-8`` (or nothing) but is not valid UTF-8 (Latin-1 bytes).

:class:`EncodingCheck` watches the bytes on their way to the parser and raises
:class:`~hub.errors.EncodingMismatchError` naming the declared encoding and the first line
concerned. A source whose configuration sets ``assume_encoding`` gets its flows repaired
instead: :func:`sniff` finds the lie before parsing, and :func:`redeclared` makes the
parser read the bytes in the encoding they are really in (same bytes, same lines).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import IO

from hub.errors import EncodingMismatchError
from hub.lheo.writer import xml_declaration

__all__ = ["EncodingCheck", "Verdict", "declared_encoding", "redeclared", "sniff"]

_DECLARATION = re.compile(
    rb"""^(\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']"""
)
SINGLE_BYTE = frozenset(
    name.upper()
    for name in (
        "ISO-8859-1", "ISO8859-1", "ISO_8859-1", "LATIN1", "LATIN-1", "L1", "ISO-8859-15",
        "ISO8859-15", "LATIN-9", "LATIN9", "WINDOWS-1252", "CP1252",
    )
)  # fmt: skip
_UTF8 = frozenset(("UTF-8", "UTF8"))
_CHUNK = 1 << 20
_HEAD = 1024
"""Bytes read first to find the XML declaration."""


def declared_encoding(head: bytes) -> str:
    """The encoding the XML declaration at the start of ``head`` names (UTF-8 if none)."""
    found = _DECLARATION.match(head)
    return found.group(2).decode("ascii") if found else "UTF-8"


def _line_of(data: bytes, offset: int, lines_before: int) -> int:
    return lines_before + data.count(b"\n", 0, offset) + 1


class EncodingCheck:
    """A binary stream that raises when its bytes contradict their declared encoding.

    Reads pass through untouched. The UTF-8 check runs at C speed on each chunk; the
    Latin-1 lie can only be told at the end (a single valid UTF-8 sequence proves
    nothing), so it is raised when the last byte has been read, before the flow's
    transaction commits.
    """

    def __init__(self, stream: IO[bytes], name: str = "") -> None:
        self._stream = stream
        self._name = name
        self._declared: str | None = None
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._utf8 = True
        """Every byte so far is valid UTF-8."""
        self._first_non_ascii: int | None = None
        """Line of the first non-ASCII byte."""
        self._lines = 0
        self._done = False
        self._head = b""
        """Bytes read ahead to find the XML declaration, not handed out yet."""

    @property
    def declared(self) -> str:
        return self._declared or "UTF-8"

    def read(self, size: int = -1) -> bytes:
        if self._declared is None:
            self._head = self._stream.read(_HEAD)
            self._declared = declared_encoding(self._head).upper()
        if self._head:
            take = len(self._head) if size < 0 else min(size, len(self._head))
            data, self._head = self._head[:take], self._head[take:]
        else:
            data = self._stream.read(size)
        if self._done:
            return data
        if not data:
            self._finish()
            return data
        if self._declared in _UTF8 or self._declared in SINGLE_BYTE:
            self._check(data)
        self._lines += data.count(b"\n")
        return data

    def _check(self, data: bytes) -> None:
        if self._first_non_ascii is None and not data.isascii():
            offset = next(i for i, byte in enumerate(data) if byte > 0x7F)
            self._first_non_ascii = _line_of(data, offset, self._lines)
        if not self._utf8:
            return
        try:
            self._decoder.decode(data)
        except UnicodeDecodeError as exc:
            self._utf8 = False
            if self._declared in _UTF8:
                line = _line_of(data, exc.start, self._lines)
                byte = data[exc.start : exc.start + 1].hex().upper()
                raise EncodingMismatchError(
                    f"the flow{self._where()} declares {self._declared} but is not valid "
                    f"UTF-8 (byte 0x{byte}); it looks like ISO-8859-1 or Windows-1252",
                    line=line,
                    hint='declare the encoding the file is really in (encoding="ISO-8859-1"), '
                    "or set assume_encoding for this source to have the hub repair it",
                ) from exc

    def _finish(self) -> None:
        self._done = True
        if self._declared not in SINGLE_BYTE or not self._utf8:
            return
        try:
            self._decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return  # cut in the middle of a sequence: not UTF-8 after all
        if self._first_non_ascii is not None:
            raise EncodingMismatchError(
                f"the flow{self._where()} declares {self._declared} but its non-ASCII "
                "characters are all valid UTF-8: read as declared, « Français » would be "
                "stored as « FranÃ§ais »",
                line=self._first_non_ascii,
                hint='declare encoding="UTF-8" in its XML declaration, or set '
                'assume_encoding = "UTF-8" for this source to have the hub repair it',
            )

    def _where(self) -> str:
        return f" {self._name}" if self._name else ""

    def close(self) -> None:
        self._stream.close()


@dataclass(frozen=True, slots=True)
class Verdict:
    """What :func:`sniff` found: the declared encoding and the one the bytes are in."""

    declared: str
    actual: str
    line: int | None
    """First line concerned, when they differ."""

    @property
    def lies(self) -> bool:
        return self.declared != self.actual


def sniff(stream: IO[bytes]) -> Verdict:
    """Read a whole stream and tell whether its bytes are in their declared encoding."""
    check = EncodingCheck(stream)
    try:
        while check.read(_CHUNK):
            pass
    except EncodingMismatchError as exc:
        actual = "ISO-8859-1" if check.declared in _UTF8 else "UTF-8"
        return Verdict(check.declared, actual, exc.line)
    return Verdict(check.declared, check.declared, None)


class _Redeclared:
    """A stream whose XML declaration names another encoding; every other byte unchanged."""

    def __init__(self, stream: IO[bytes], encoding: str) -> None:
        self._stream = stream
        self._encoding = encoding.encode("ascii")
        self._started = False

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        if self._started:
            return data
        self._started = True
        found = _DECLARATION.match(data)
        if found is None:
            return xml_declaration(self._encoding.decode("ascii")) + data
        start, end = found.span(2)
        return data[:start] + self._encoding + data[end:]

    def close(self) -> None:
        self._stream.close()


def redeclared(stream: IO[bytes], encoding: str) -> IO[bytes]:
    """``stream`` with its XML declaration saying ``encoding`` (the rest as it is)."""
    return _Redeclared(stream, encoding)  # type: ignore[return-value]
