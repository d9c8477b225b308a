"""The hub's one error tree.

Every error a person can see says what was wrong, where, and what to do::

    HubError
    ├── ConfigError                  bad TOML, unknown key, missing secret
    ├── LheoError                    the bytes are not LHEO the hub can read
    │   ├── UnsafeXmlError           DTD, external entity, entity expansion
    │   ├── MalformedXmlError        not well-formed, truncated, bad encoding
    │   │   └── EncodingMismatchError  the bytes contradict the declared encoding
    │   ├── UnsupportedLheoError     wrong root, namespace or version
    │   ├── SplitMismatch            the fast splitter cannot vouch for a flow: read it again
    │                                with the streaming parser (never shown to a person)
    │       └── SpreadsheetError     a CSV/XLSX file that is not the column template at all
    ├── FlowError                    a flow could not be applied (nothing was written)
    │   ├── ArchiveError             the raw flow could not be archived (disk full...)
    │   ├── FlowHeld                 a snapshot would delete too much: held for an operator
    │   ├── FlowSuperseded           a newer snapshot made the flow pointless
    │   ├── FlowNotPending           the flow was applied or settled already
    │   └── SourceBusy               the source is running elsewhere: retry later
    ├── SyncFailed                   a scheduled sync ended with an error (stage, URL, why)
    ├── FetchError                   talking to a regional system failed
    │   ├── RetriableFetchError      timeouts, resets, 408, 5xx, truncated bodies
    │   │   └── ThrottledError       429 (or 503) with the server's Retry-After
    │   └── FatalFetchError          401/403/404, invalid payload: retrying will not help
    ├── DeliveryError                delivering to a partner failed
    │   ├── RetriableDeliveryError   timeouts, resets, 408, 5xx: the partner may take it later
    │   │   └── ThrottledDeliveryError  429 (or 503) with the partner's Retry-After
    │   └── RejectedDeliveryError    401/403/404/409/422 and other 4xx: resending will not help
    ├── MappingError                 a code table is broken
    ├── AuthError                    a token is missing, unknown or not allowed here
    │   └── AccessRefused            a request refused (401/403), rendered as a problem
    └── RequestError                 an HTTP request the hub cannot take (its body is too big)

Retriable errors carry ``retry_after`` (seconds, or None) for the one retry policy of
:mod:`hub.http`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
    :func:`hub.lheo.record.read_raw`); whoever reads the flow then reads it again, whole,
    with the streaming parser, which decides. A person never sees it.
    """

    hint = "internal: the flow is read again by the streaming parser"


class SpreadsheetError(LheoError):
    """The file cannot be read as the column template at all; none of its rows was used."""

    hint = (
        "envoyez un CSV (UTF-8, « ; » ou « , ») ou un XLSX qui suit le modèle de colonnes "
        "(connectors/spreadsheet/README.md)"
    )


class FlowError(HubError):
    hint = "nothing of this flow was applied; fix the cause and send or replay it again"


class ArchiveError(FlowError):
    hint = "free space on the archive volume (HUB_ARCHIVE_DIR) and replay the flow"


class FlowHeld(FlowError):
    """A snapshot would delete too much of its source: held for an operator, not applied.

    ``result`` is what it would have done (the pipeline's report of the flow).
    """

    hint = (
        "check the source's export; then `hub apply FLOW --confirm-deletions` or `hub discard FLOW`"
    )

    def __init__(self, message: str, *, result: Any) -> None:
        super().__init__(message)
        self.result = result


class FlowSuperseded(FlowError):
    """A newer snapshot of the same source was applied: this flow can change nothing safely."""

    hint = "nothing to do: the newer snapshot holds the source's offer as it is now"

    def __init__(self, message: str, *, by: str) -> None:
        super().__init__(message)
        self.by = by


class FlowNotPending(FlowError):
    """The flow was applied, refused or settled already (by this process or another)."""

    hint = "see its state on its page or with `hub flows`"


class SourceBusy(FlowError):
    hint = "a sync or replay of this source is running (here or on another replica): retry later"


class SyncFailed(HubError):
    """A sync ended with an error (its stage, URL and reason are in the message).

    ``flows`` are the flows it applied before it failed (they stay applied).
    """

    def __init__(self, message: str, *, flows: list[Any] | None = None) -> None:
        super().__init__(message)
        self.flows = list(flows or [])


class FetchError(HubError):
    """Talking to a regional system failed."""


class RetriableFetchError(FetchError):
    hint = "transient: the hub retries with backoff"
    retry_after: float | None = None


class ThrottledError(RetriableFetchError):
    """The server asked us to slow down (429, or 503 with ``Retry-After``)."""

    def __init__(self, message: str, *, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FatalFetchError(FetchError):
    hint = "check the source's URL and credentials; retrying will not help"


class DeliveryError(HubError):
    """Delivering to a partner failed."""


class RetriableDeliveryError(DeliveryError):
    hint = "transient: the hub retries with backoff, then resends the same delivery next run"
    retry_after: float | None = None


class ThrottledDeliveryError(RetriableDeliveryError):
    """The partner asked us to slow down (429, or 503 with ``Retry-After``)."""

    def __init__(self, message: str, *, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RejectedDeliveryError(DeliveryError):
    """The partner refused the delivery; ``errors`` are its reasons (XSD errors...)."""

    hint = (
        "the partner refused this delivery: read its errors above; the next run builds a "
        "new one from the acknowledged cursor (or run `hub publish NAME --full`)"
    )

    def __init__(self, message: str, *, status: int, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.errors = errors or []


class MappingError(HubError):
    hint = "fix the code table at the file and line named above"


class AuthError(HubError):
    hint = "send a valid token for this source in the Authorization header"


class AccessRefused(AuthError):
    """A request refused for who it is (401) or what it asked (403); rendered as a problem."""

    def __init__(self, status: int, title: str, detail: str, *, hint: str | None = None) -> None:
        super().__init__(detail, hint=hint)
        self.status = status
        self.title = title
        self.detail = detail


class RequestError(HubError):
    """An HTTP request the hub cannot take as it is."""


class BodyTooLarge(RequestError):
    """A body went past the configured limit while it was read; nothing of it was kept."""

    hint = "split the data into several smaller requests"


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
