"""What an HTTP status means for the hub: one classifier for fetching and delivering.

==============================  ============  =============================================
status                          kind          what the caller does
==============================  ============  =============================================
2xx                             ``ok``        use the answer
304                             ``ok``        nothing new (a conditional GET)
429, 503 with ``Retry-After``   ``throttled`` wait what the server asks (capped), retry
408, 5xx                        ``retriable`` back off, retry
other 4xx, 3xx left             ``fatal``     stop: retrying cannot help
==============================  ============  =============================================
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal

__all__ = ["StatusKind", "classify", "retry_after_seconds"]

StatusKind = Literal["ok", "throttled", "retriable", "fatal"]


def classify(status: int, retry_after: float | None = None) -> StatusKind:
    """The kind of an HTTP status (see the module's table)."""
    if status < 300 or status == 304:
        return "ok"
    if status == 429 or (status == 503 and retry_after is not None):
        return "throttled"
    if status == 408 or status >= 500:
        return "retriable"
    return "fatal"


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
