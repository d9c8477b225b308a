"""The hub's side of fetching: one HTTP client, one retry policy, one size limit.

Connectors never build a client or a retry loop. The runner hands each one a
:class:`Fetcher` wrapping the hub's ``httpx.Client`` (a test passes a client with its own
transport), and every request goes through :meth:`Fetcher.fetch`, which:

* streams the body into a spooled temporary file, refusing it once it passes
  ``max_bytes`` (at once when ``Content-Length`` says so, without reading it);
* translates httpx's errors at this boundary, ``raise ... from exc``, into the hub's tree::

      FetchError
      ├── RetriableFetchError   timeouts, connection resets, 408, 5xx, truncated bodies
      │   └── ThrottledError    429 (and 503) with the server's Retry-After
      └── FatalFetchError       401/403/404 and other 4xx, oversize or invalid payloads

* retries the retriable ones with tenacity: exponential backoff plus jitter, or the
  server's ``Retry-After`` when it sends one (capped), and counts each retry
  (``Fetcher.retries``, and :func:`on_retry` listeners such as the metrics module).
"""

from __future__ import annotations

import random
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import IO, Any

import httpx
import structlog
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
)

import hub
from hub import metrics
from hub.errors import FatalFetchError, FetchError, RetriableFetchError
from hub.lheo.dialect import Part
from hub.settings import FetchSettings

__all__ = [
    "Fetched",
    "Fetcher",
    "RetryEvent",
    "ThrottledError",
    "WorkItem",
    "conditional_headers",
    "make_client",
    "on_retry",
]

SPOOL_IN_MEMORY = 8 * 1024 * 1024
"""Bodies up to this size stay in memory; larger ones go to a temporary file."""
_TAIL = 4096
_FIRST_TAG = re.compile(rb"<([A-Za-z_][\w.:-]*)")
_LAST_CLOSING_TAG = re.compile(rb"</([A-Za-z_][\w.:-]*)\s*>\s*$")
_PROLOG_NOISE = re.compile(rb"<\?.*?\?>|<!--.*?-->", re.S)

log = structlog.get_logger("connectors.http")


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

    def close(self) -> None:
        self.body.close()


class ThrottledError(RetriableFetchError):
    """The server asked us to slow down (429, or 503 with ``Retry-After``)."""

    def __init__(self, message: str, *, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class RetryEvent:
    """One retry about to happen: who, what, why, and how long the hub waits first."""

    source: str
    url: str
    attempt: int
    reason: str
    wait_seconds: float


_listeners: list[Callable[[RetryEvent], None]] = []
_listeners_lock = threading.Lock()


def conditional_headers(validators: Mapping[str, Any]) -> dict[str, str]:
    """``If-None-Match`` / ``If-Modified-Since`` from a stored ``etag`` / ``last_modified``."""
    headers = {}
    if validators.get("etag"):
        headers["If-None-Match"] = str(validators["etag"])
    if validators.get("last_modified"):
        headers["If-Modified-Since"] = str(validators["last_modified"])
    return headers


def on_retry(listener: Callable[[RetryEvent], None]) -> Callable[[], None]:
    """Call ``listener`` on every retry of every source; returns a function that stops it."""
    with _listeners_lock:
        _listeners.append(listener)

    def remove() -> None:
        with _listeners_lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return remove


def make_client(settings: FetchSettings) -> httpx.Client:
    """The hub's HTTP client for regional systems (redirects followed, hub User-Agent)."""
    return httpx.Client(
        timeout=_timeout(settings),
        follow_redirects=True,
        headers={"User-Agent": f"lheo-sync-hub/{hub.__version__}"},
    )


def _timeout(settings: FetchSettings) -> httpx.Timeout:
    return httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP-date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


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
        self._sleep = sleep or time.sleep

    def fetch(self, item: WorkItem) -> Fetched:
        """GET ``item``, retrying retriable faults; raises the last one once attempts run out."""
        retrying = Retrying(
            retry=retry_if_exception_type(RetriableFetchError),
            stop=stop_after_attempt(self.settings.attempts),
            wait=self._wait,
            before_sleep=lambda state: self._count_retry(item, state),
            reraise=True,
            sleep=self._sleep,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._observed(item)
        except RetriableFetchError as exc:
            exc.add_note(f"gave up after {self.settings.attempts} attempts")
            raise
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _observed(self, item: WorkItem) -> Fetched:
        """One attempt, counted in the hub's metrics (requests, errors by kind, duration)."""
        started = time.monotonic()
        try:
            fetched = self._fetch_once(item)
        except FetchError as exc:
            metrics.observe_fetch(
                self.source, "fetch", metrics.fetch_outcome(exc), time.monotonic() - started
            )
            raise
        outcome = "not_modified" if fetched.not_modified else "ok"
        metrics.observe_fetch(self.source, "fetch", outcome, time.monotonic() - started)
        return fetched

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, ThrottledError) and error.retry_after is not None:
            return min(error.retry_after, self.settings.max_retry_after)
        exponential = self.settings.backoff_initial * 2 ** (state.attempt_number - 1)
        backoff = min(exponential, self.settings.backoff_max)
        return float(backoff + random.uniform(0, self.settings.jitter))

    def _count_retry(self, item: WorkItem, state: RetryCallState) -> None:
        self.retries += 1
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        event = RetryEvent(self.source, item.describe(), state.attempt_number, str(error), wait)
        log.warning(
            "fetch.retry",
            source=self.source,
            url=event.url,
            attempt=event.attempt,
            reason=event.reason,
            wait_seconds=round(wait, 3),
        )
        with _listeners_lock:
            listeners = list(_listeners)
        for listener in listeners:
            listener(event)

    def _fetch_once(self, item: WorkItem) -> Fetched:
        url = item.describe()
        try:
            with self.client.stream(
                "GET",
                item.url,
                params=item.params or None,
                headers=item.headers or None,
                auth=self.auth or httpx.USE_CLIENT_DEFAULT,
                timeout=_timeout(self.settings),
            ) as response:
                _raise_for_status(response, url)
                return self._receive(item, response, url)
        except httpx.TimeoutException as exc:
            raise RetriableFetchError(f"GET {url}: timed out ({exc!r})") from exc
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise FatalFetchError(f"GET {url}: invalid URL: {exc}") from exc
        except httpx.TransportError as exc:
            raise RetriableFetchError(f"GET {url}: connection failed: {exc!r}") from exc

    def _receive(self, item: WorkItem, response: httpx.Response, url: str) -> Fetched:
        limit = self.settings.max_bytes
        declared = _content_length(response)
        if declared is not None and declared > limit:
            raise FatalFetchError(
                f"GET {url}: the response announces {declared} bytes, over the limit "
                f"of {limit} (fetch.max_bytes)"
            )
        body = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
        try:
            size = _spool(response.iter_bytes(), body, limit, url)
            # Content-Length counts the bytes on the wire: compressed ones when encoded.
            encoded = response.headers.get("content-encoding", "identity") != "identity"
            received = response.num_bytes_downloaded if encoded else size
            if declared is not None and received != declared:
                raise RetriableFetchError(
                    f"GET {url}: truncated body: {received} bytes of the {declared} announced"
                )
            body.seek(0)
            if item.expect_xml and response.status_code != 304:
                _check_complete_xml(body, size, url)
        except BaseException:
            body.close()
            raise
        return Fetched(item, response.status_code, response.headers, body, size)


def _content_length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length")
    return int(value) if value and value.isdigit() else None


def _spool(chunks: Iterator[bytes], body: IO[bytes], limit: int, url: str) -> int:
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise FatalFetchError(
                f"GET {url}: the response passed the limit of {limit} bytes "
                "(fetch.max_bytes); refused"
            )
        body.write(chunk)
    return size


def _raise_for_status(response: httpx.Response, url: str) -> None:
    status = response.status_code
    if status < 300 or status == 304:
        return
    reason = f"GET {url}: {status} {response.reason_phrase}"
    retry_after = retry_after_seconds(response.headers.get("retry-after"))
    if status == 429 or (status == 503 and retry_after is not None):
        raise ThrottledError(reason, retry_after=retry_after)
    if status == 408 or status >= 500:
        raise RetriableFetchError(reason)
    hints = {
        401: "the source's token was refused: check the variable named by token_env",
        403: "the source's token is not allowed here: check the variable named by token_env",
        404: "check the source's url in its config/regions file",
    }
    error = FatalFetchError(reason, hint=hints.get(status))
    raise error


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
