"""Delivering to partners: one upload under the same policy as fetching.

The outbound mirror of :mod:`hub.http.fetch`. Publishers never build a client or a retry
loop: the runner hands each one a :class:`Sender` wrapping the hub's ``httpx.Client``
under the same ``[fetch]`` policy (timeouts, attempts, backoff, jitter, longest
``Retry-After``). :meth:`Sender.post` uploads a file and translates what goes wrong,
``raise ... from exc``, by the one status classifier, into ``RetriableDeliveryError``,
``ThrottledDeliveryError`` and ``RejectedDeliveryError`` (see :mod:`hub.errors`). Once
attempts run out the last error is raised; the run records it, and the next run resends
the same delivery.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import structlog

from hub.errors import RejectedDeliveryError, RetriableDeliveryError, ThrottledDeliveryError
from hub.http.client import timeout_of, transport_errors
from hub.http.retry import call_with_retries
from hub.http.status import classify, retry_after_seconds
from hub.settings import FetchSettings

__all__ = ["Sender"]

log = structlog.get_logger("hub.http")
_DETAIL_LIMIT = 2000


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
        return call_with_retries(
            self.policy,
            lambda: self._post_once(url, path, headers),
            retriable=RetriableDeliveryError,
            on_retry=lambda attempt, error, wait: self._count_retry(url, attempt, error, wait),
            sleep=self._sleep,
        )

    def _count_retry(
        self, url: str, attempt: int, error: BaseException | None, wait: float
    ) -> None:
        self.retries += 1
        log.warning(
            "publish.retry",
            publisher=self.publisher,
            url=url,
            attempt=attempt,
            reason=str(error),
            wait_seconds=round(wait, 3),
        )

    def _post_once(self, url: str, path: Path, headers: dict[str, str]) -> httpx.Response:
        timeout = timeout_of(self.policy)
        with (
            transport_errors(f"POST {url}", retriable=RetriableDeliveryError, fatal=_refused),
            path.open("rb") as body,
        ):
            response = self.client.post(
                url,
                content=body,
                headers={**headers, "Content-Length": str(path.stat().st_size)},
                auth=self.auth or httpx.USE_CLIENT_DEFAULT,
                timeout=timeout,
            )
        _raise_for_status(response, url)
        return response


def _refused(reason: str) -> RejectedDeliveryError:
    """A request that never reached the partner (a URL it cannot use): no status."""
    return RejectedDeliveryError(reason, status=0)


def _raise_for_status(response: httpx.Response, url: str) -> None:
    status = response.status_code
    retry_after = retry_after_seconds(response.headers.get("retry-after"))
    kind = classify(status, retry_after)
    if kind == "ok" and status != 304:
        return
    reason = f"POST {url}: {status} {response.reason_phrase}"
    if kind == "throttled":
        raise ThrottledDeliveryError(reason, retry_after=retry_after)
    if kind == "retriable":
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
