"""The one retry policy: tenacity, exponential backoff plus jitter, or the server's Retry-After.

The wait before retry *n* is ``min(initial · 2^(n-1), max) + uniform(0, jitter)``: the cap
bounds the backoff, and the jitter always spreads many sources' retries, even at the cap.
An error carrying ``retry_after`` (a 429, or a 503 that says when) waits that long instead,
capped at ``max_retry_after``. Fetching and delivering both retry this way.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from hub.settings import FetchSettings

__all__ = ["backoff", "call_with_retries", "retrying"]

T = TypeVar("T")


def backoff(policy: FetchSettings, attempt: int, error: BaseException | None) -> float:
    """Seconds to wait after failed ``attempt`` (1-based) ended with ``error``."""
    asked = getattr(error, "retry_after", None)
    if asked is not None:
        return float(min(asked, policy.max_retry_after))
    exponential = policy.backoff_initial * 2 ** (attempt - 1)
    jitter = random.uniform(0, policy.jitter) if policy.jitter else 0.0
    return float(min(exponential, policy.backoff_max) + jitter)


def retrying(
    policy: FetchSettings,
    *,
    retriable: type[BaseException],
    before_sleep: Callable[[RetryCallState], None],
    sleep: Callable[[float], None] | None = None,
) -> Retrying:
    """A tenacity loop: ``policy.attempts`` tries of what raises ``retriable``, then re-raise."""

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        return backoff(policy, state.attempt_number, error)

    return Retrying(
        retry=retry_if_exception_type(retriable),
        stop=stop_after_attempt(policy.attempts),
        wait=wait,
        before_sleep=before_sleep,
        reraise=True,
        sleep=sleep or time.sleep,
    )


def call_with_retries(
    policy: FetchSettings,
    call: Callable[[], T],
    *,
    retriable: type[Exception],
    on_retry: Callable[[int, BaseException | None, float], None],
    sleep: Callable[[float], None] | None = None,
) -> T:
    """``call()`` under the policy, retried while it raises ``retriable``.

    ``on_retry(attempt, error, wait)`` is told of each failed attempt that is retried. Once
    attempts run out the last error is raised, noted "gave up after N attempts".
    """

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        on_retry(state.attempt_number, error, wait)

    attempts = retrying(policy, retriable=retriable, before_sleep=before_sleep, sleep=sleep)
    try:
        for attempt in attempts:
            with attempt:
                return call()
    except retriable as exc:
        exc.add_note(f"gave up after {policy.attempts} attempts")
        raise
    raise AssertionError("unreachable: tenacity either returns or raises")
