"""The hub's one error tree.

Every error a person can see says what was wrong, where, and what to do::

    HubError
    ├── ConfigError                  bad TOML, unknown key, missing secret
    ├── LheoError                    the bytes are not LHEO the hub can read
    │   ├── UnsafeXmlError           DTD, external entity, entity expansion
    │   ├── MalformedXmlError        not well-formed, truncated, bad encoding
    │   │   └── EncodingMismatchError  the bytes contradict the declared encoding
    │   ├── UnsupportedLheoError     wrong root, namespace or version
    │   └── SplitMismatch            the fast splitter cannot vouch for a flow: read it again
    │                                with the streaming parser (never shown to a person)
    ├── FlowError                    a flow could not be applied (nothing was written)
    │   └── ArchiveError             the raw flow could not be archived (disk full...)
    ├── FetchError                   talking to a regional system failed
    │   ├── RetriableFetchError      timeouts, resets, 429, 5xx, truncated bodies
    │   └── FatalFetchError          401/403/404, invalid payload: retrying will not help
    ├── MappingError                 a code table is broken
    └── AuthError                    a token is missing, unknown or not allowed here
"""

from __future__ import annotations

from dataclasses import dataclass


class HubError(Exception):
    """Root of every error the hub raises on purpose."""

    hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        message = super().__str__()
        return f"{message} ({self.hint})" if self.hint else message


class ConfigError(HubError):
    hint = "fix the configuration file or environment variable named above"


class LheoError(HubError):
    """The input cannot be read as LHEO at all; no record of it was applied."""

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        path: str | None = None,
        hint: str | None = None,
    ) -> None:
        where = []
        if line is not None:
            where.append(f"line {line}")
        if path:
            where.append(path)
        full = f"{message} at {', '.join(where)}" if where else message
        super().__init__(full, hint=hint)
        self.reason = message
        self.line = line
        self.path = path


class UnsafeXmlError(LheoError):
    hint = "send plain LHEO without a DOCTYPE, DTD or entity declarations"


class MalformedXmlError(LheoError):
    hint = "the file is not well-formed XML: check it is complete and in its declared encoding"


class EncodingMismatchError(MalformedXmlError):
    hint = "declare the encoding the file is really in, or set assume_encoding for the source"


class UnsupportedLheoError(LheoError):
    hint = (
        "send <lheo><offres> in LHEO 2.2 (http://www.lheo.org/2.2) or 2.3 (http://lheo.gouv.fr/2.3)"
    )


class SplitMismatch(LheoError):
    """The byte splitter met something it cannot prove it cuts as libxml2 parses it.

    Raised by the fast path only (:meth:`hub.lheo.reader.LheoReader.split` and
    :func:`hub.lheo.reader.read_raw`); whoever reads the flow then reads it again, whole,
    with the streaming parser, which decides. A person never sees it.
    """

    hint = "internal: the flow is read again by the streaming parser"


class FlowError(HubError):
    hint = "nothing of this flow was applied; fix the cause and send or replay it again"


class ArchiveError(FlowError):
    hint = "free space on the archive volume (HUB_ARCHIVE_DIR) and replay the flow"


class FetchError(HubError):
    """Talking to a regional system failed."""


class RetriableFetchError(FetchError):
    hint = "transient: the hub retries with backoff"


class FatalFetchError(FetchError):
    hint = "check the source's URL and credentials; retrying will not help"


class MappingError(HubError):
    hint = "fix the code table at the file and line named above"


class AuthError(HubError):
    hint = "send a valid token for this source in the Authorization header"


KEPT_STAGES = frozenset(("flag", "repair"))
"""Stages of findings on records that were kept (marked or repaired), not rejected."""


@dataclass(frozen=True, slots=True)
class RecordError:
    """Why one record of a flow was rejected (or flagged), and exactly where."""

    numero: str | None
    line: int | None
    path: str
    reason: str
    stage: str = "validate"
    file: str | None = None
    """The file of the flow it is in, when a flow is made of several (``auvergne.xml``)."""

    @property
    def kept(self) -> bool:
        """The record went in all the same: this is a flag or a repair, not a rejection."""
        return self.stage in KEPT_STAGES

    def __str__(self) -> str:
        numero = self.numero or "(sans numero)"
        return f"formation {numero}, line {self.line}, {self.path}: {self.reason}"
