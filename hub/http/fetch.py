"""Fetching from regional systems: one request per work item, under the hub's policy.

Connectors never build a client or a retry loop. The runner hands each one a
:class:`Fetcher` wrapping the hub's ``httpx.Client`` (a test passes a client with its own
transport), and every request goes through :meth:`Fetcher.fetch`, which:

* streams the body into the bounded spool, refusing it once it passes ``max_bytes`` (at
  once when ``Content-Length`` says so, without reading it);
* translates httpx's errors at this boundary, ``raise ... from exc``, into the hub's tree
  (``RetriableFetchError``, ``ThrottledError``, ``FatalFetchError``), by the one status
  classifier of :mod:`hub.http.status`;
* retries the retriable ones with the one policy of :mod:`hub.http.retry`, counting each
  retry (``Fetcher.retries``) and telling :mod:`hub.events` listeners.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

import httpx
import structlog

from hub.errors import FatalFetchError, FetchError, RetriableFetchError, ThrottledError
from hub.events import FetchEvent, RetryEvent, emit
from hub.http.client import timeout_of, transport_errors
from hub.http.outcomes import fetch_outcome
from hub.http.retry import call_with_retries
from hub.http.spool import spool
from hub.http.status import classify, retry_after_seconds
from hub.lheo.dialect import Part
from hub.settings import FetchSettings

__all__ = ["Fetched", "Fetcher", "WorkItem", "conditional_headers"]

_TAIL = 4096
_FIRST_TAG = re.compile(rb"<([A-Za-z_][\w.:-]*)")
_LAST_CLOSING_TAG = re.compile(rb"</([A-Za-z_][\w.:-]*)\s*>\s*$")
_PROLOG_NOISE = re.compile(rb"<\?.*?\?>|<!--.*?-->", re.S)

log = structlog.get_logger("hub.http")


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One request ``gather`` found: a page, a file, a conditional GET.

    ``context`` carries what the connector's ``read`` needs to know about this item (the
    ``since`` it asked for, the page it is...). ``expect_xml`` makes the fetcher check the
    body is a whole XML document, so a truncated one is retried rather than ingested.
    """

    url: str
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    label: str = ""
    context: dict[str, object] = field(default_factory=dict)
    expect_xml: bool = True

    def describe(self) -> str:
        """The URL with its query, for messages (never the headers: they may hold secrets)."""
        return str(httpx.URL(self.url, params=self.params or None))


@dataclass(slots=True)
class Fetched:
    """What the regional system answered to one item: status, headers and the body.

    ``part`` is the body as the hub archived it, before the connector's ``read`` runs.
    """

    item: WorkItem
    status: int
    headers: httpx.Headers
    body: IO[bytes]
    size: int
    part: Part | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def validators(self) -> dict[str, str | None]:
        """The answer's ``etag`` and ``last_modified``, as `conditional_headers` sends them back."""
        return {
            "etag": self.headers.get("etag"),
            "last_modified": self.headers.get("last-modified"),
        }

    def close(self) -> None:
        self.body.close()


def conditional_headers(validators: Mapping[str, Any]) -> dict[str, str]:
    """``If-None-Match`` / ``If-Modified-Since`` from a stored ``etag`` / ``last_modified``."""
    headers = {}
    if validators.get("etag"):
        headers["If-None-Match"] = str(validators["etag"])
    if validators.get("last_modified"):
        headers["If-Modified-Since"] = str(validators["last_modified"])
    return headers


class Fetcher:
    """Fetches work items for one source under the hub's timeouts, size limit and retries."""

    def __init__(
        self,
        client: httpx.Client,
        settings: FetchSettings,
        *,
        source: str,
        auth: httpx.Auth | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.client = client
        self.settings = settings
        self.source = source
        self.auth = auth
        self.retries = 0
        self._sleep = sleep

    def fetch(self, item: WorkItem) -> Fetched:
        """GET ``item``, retrying retriable faults; raises the last one once attempts run out."""
        return call_with_retries(
            self.settings,
            lambda: self._observed(item),
            retriable=RetriableFetchError,
            on_retry=lambda attempt, error, wait: self._count_retry(item, attempt, error, wait),
            sleep=self._sleep,
        )

    def _observed(self, item: WorkItem) -> Fetched:
        """One attempt, told to the listeners (requests, errors by kind, duration)."""
        started = time.monotonic()
        try:
            fetched = self._fetch_once(item)
        except FetchError as exc:
            emit(FetchEvent(self.source, fetch_outcome(exc), time.monotonic() - started))
            raise
        outcome = "not_modified" if fetched.not_modified else "ok"
        emit(FetchEvent(self.source, outcome, time.monotonic() - started))
        return fetched

    def _count_retry(
        self, item: WorkItem, attempt: int, error: BaseException | None, wait: float
    ) -> None:
        self.retries += 1
        event = RetryEvent(self.source, item.describe(), attempt, str(error), wait)
        log.warning(
            "fetch.retry",
            source=self.source,
            url=event.url,
            attempt=event.attempt,
            reason=event.reason,
            wait_seconds=round(wait, 3),
        )
        emit(event)

    def _fetch_once(self, item: WorkItem) -> Fetched:
        url = item.describe()
        with (
            transport_errors(f"GET {url}", retriable=RetriableFetchError, fatal=FatalFetchError),
            self.client.stream(
                "GET",
                item.url,
                params=item.params or None,
                headers=item.headers or None,
                auth=self.auth or httpx.USE_CLIENT_DEFAULT,
                timeout=timeout_of(self.settings),
            ) as response,
        ):
            _raise_for_status(response, url)
            return self._receive(item, response, url)

    def _receive(self, item: WorkItem, response: httpx.Response, url: str) -> Fetched:
        limit = self.settings.max_bytes
        declared = _content_length(response)
        if declared is not None and declared > limit:
            raise FatalFetchError(
                f"GET {url}: the response announces {declared} bytes, over the limit "
                f"of {limit} (fetch.max_bytes)"
            )

        def too_large(_size: int) -> FatalFetchError:
            return FatalFetchError(
                f"GET {url}: the response passed the limit of {limit} bytes "
                "(fetch.max_bytes); refused"
            )

        body, size = spool(response.iter_bytes(), limit, too_large)
        try:
            # Content-Length counts the bytes on the wire: compressed ones when encoded.
            encoded = response.headers.get("content-encoding", "identity") != "identity"
            received = response.num_bytes_downloaded if encoded else size
            if declared is not None and received != declared:
                raise RetriableFetchError(
                    f"GET {url}: truncated body: {received} bytes of the {declared} announced"
                )
            if item.expect_xml and response.status_code != 304:
                _check_complete_xml(body, size, url)
        except BaseException:
            body.close()
            raise
        return Fetched(item, response.status_code, response.headers, body, size)


def _content_length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length")
    return int(value) if value and value.isdigit() else None


_HINTS = {
    401: "the source's token was refused: check the variable named by token_env",
    403: "the source's token is not allowed here: check the variable named by token_env",
    404: "check the source's url in its config/regions file",
}


def _raise_for_status(response: httpx.Response, url: str) -> None:
    retry_after = retry_after_seconds(response.headers.get("retry-after"))
    kind = classify(response.status_code, retry_after)
    if kind == "ok":
        return
    reason = f"GET {url}: {response.status_code} {response.reason_phrase}"
    if kind == "throttled":
        raise ThrottledError(reason, retry_after=retry_after)
    if kind == "retriable":
        raise RetriableFetchError(reason)
    raise FatalFetchError(reason, hint=_HINTS.get(response.status_code))


def _check_complete_xml(body: IO[bytes], size: int, url: str) -> None:
    """Refuse (as retriable) a body whose last closing tag is not its root's: it was cut."""
    head = body.read(_TAIL)
    body.seek(max(0, size - _TAIL))
    tail = body.read()
    body.seek(0)
    first = _FIRST_TAG.search(_PROLOG_NOISE.sub(b"", head))
    if first is None:
        raise FatalFetchError(f"GET {url}: invalid payload: not XML")
    last = _LAST_CLOSING_TAG.search(tail)
    if last is None or last.group(1) != first.group(1):
        raise RetriableFetchError(
            f"GET {url}: truncated body: the XML document ends before </"
            f"{first.group(1).decode('ascii', 'replace')}>"
        )
