"""The hub's side of delivering over HTTP: one upload, one retry policy, one error tree.

The outbound mirror of :mod:`connectors.http`. Publishers never build a client or a retry
loop: the runner hands each one a :class:`Sender` wrapping the hub's ``httpx.Client`` (made
by :func:`connectors.http.make_client`, so a test can pass a client with its own transport)
under the same ``[fetch]`` policy the connectors use (timeouts, attempts, backoff, jitter,
longest ``Retry-After``). :meth:`Sender.post` uploads a file and translates what goes
wrong, ``raise ... from exc``, into::

    DeliveryError
    ├── RetriableDeliveryError     timeouts, resets, 408, 5xx: the partner may take it later
    │   └── ThrottledDeliveryError 429 (and 503) with the partner's Retry-After
    └── RejectedDeliveryError      401/403/404/409/422 and other 4xx: resending will not help

Retriable faults are retried with tenacity (exponential backoff plus jitter, or the
partner's ``Retry-After``, capped); once attempts run out the last one is raised, the run
records it, and the next run resends the same delivery.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
)

from connectors.http import retry_after_seconds
from hub.errors import HubError
from hub.logging import get_logger
from hub.settings import FetchSettings

__all__ = [
    "DeliveryError",
    "RejectedDeliveryError",
    "RetriableDeliveryError",
    "Sender",
    "ThrottledDeliveryError",
]

log = get_logger(__name__)
_DETAIL_LIMIT = 2000


class DeliveryError(HubError):
    """Delivering to a partner failed."""


class RetriableDeliveryError(DeliveryError):
    hint = "transient: the hub retries with backoff, then resends the same delivery next run"


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


class Sender:
    """Uploads files for one publisher under the hub's timeouts and retry policy."""

    def __init__(
        self,
        client: httpx.Client,
        policy: FetchSettings,
        *,
        publisher: str,
        auth: httpx.Auth | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.client = client
        self.policy = policy
        self.publisher = publisher
        self.auth = auth
        self.retries = 0
        self._sleep = sleep

    def post(self, url: str, path: Path, headers: dict[str, str]) -> httpx.Response:
        """POST the bytes of ``path``; a 2xx response, or the last error once attempts run out."""
        retrying = Retrying(
            retry=retry_if_exception_type(RetriableDeliveryError),
            stop=stop_after_attempt(self.policy.attempts),
            wait=self._wait,
            before_sleep=lambda state: self._count_retry(url, state),
            reraise=True,
            sleep=self._sleep if self._sleep is not None else time.sleep,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._post_once(url, path, headers)
        except RetriableDeliveryError as exc:
            exc.add_note(f"gave up after {self.policy.attempts} attempts")
            raise
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, ThrottledDeliveryError) and error.retry_after is not None:
            return min(error.retry_after, self.policy.max_retry_after)
        # Exponential backoff plus jitter (tenacity's wait_exponential_jitter, whose
        # parameter names changed between versions).
        exponential = self.policy.backoff_initial * 2 ** (state.attempt_number - 1)
        jitter = random.uniform(0, self.policy.jitter) if self.policy.jitter else 0.0
        return float(min(exponential + jitter, self.policy.backoff_max))

    def _count_retry(self, url: str, state: RetryCallState) -> None:
        self.retries += 1
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "publish.retry",
            publisher=self.publisher,
            url=url,
            attempt=state.attempt_number,
            reason=str(error),
            wait_seconds=round(wait, 3),
        )

    def _post_once(self, url: str, path: Path, headers: dict[str, str]) -> httpx.Response:
        timeout = httpx.Timeout(self.policy.read_timeout, connect=self.policy.connect_timeout)
        try:
            with path.open("rb") as body:
                response = self.client.post(
                    url,
                    content=body,
                    headers={**headers, "Content-Length": str(path.stat().st_size)},
                    auth=self.auth or httpx.USE_CLIENT_DEFAULT,
                    timeout=timeout,
                )
        except httpx.TimeoutException as exc:
            raise RetriableDeliveryError(f"POST {url}: timed out ({exc!r})") from exc
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise RejectedDeliveryError(f"POST {url}: invalid URL: {exc}", status=0) from exc
        except httpx.TransportError as exc:
            raise RetriableDeliveryError(f"POST {url}: connection failed: {exc!r}") from exc
        _raise_for_status(response, url)
        return response


def _raise_for_status(response: httpx.Response, url: str) -> None:
    status = response.status_code
    if status < 300:
        return
    reason = f"POST {url}: {status} {response.reason_phrase}"
    retry_after = retry_after_seconds(response.headers.get("retry-after"))
    if status == 429 or (status == 503 and retry_after is not None):
        raise ThrottledDeliveryError(reason, retry_after=retry_after)
    if status == 408 or status >= 500:
        raise RetriableDeliveryError(reason)
    errors = _errors_of(response)
    detail = "; ".join(errors)[:_DETAIL_LIMIT]
    hints = {
        401: "the partner refused the token: check the variable named by token_env",
        403: "the token is not allowed here: check the variable named by token_env",
        404: "check the publisher's destination in its config/publishers file",
    }
    error = RejectedDeliveryError(
        reason + (f": {detail}" if detail else ""), status=status, errors=errors
    )
    if status in hints:
        error.hint = hints[status]
    raise error


def _errors_of(response: httpx.Response) -> list[str]:
    """The partner's reasons: ``errors`` of a JSON (problem+json) body, else its text."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        text = response.text.strip()
        return [text[:_DETAIL_LIMIT]] if text else []
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            return [str(e) for e in errors]
        detail = body.get("detail") or body.get("title")
        return [str(detail)] if detail else []
    return [str(body)[:_DETAIL_LIMIT]]
