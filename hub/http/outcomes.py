"""How a failed request is named in events and metrics: short, bounded outcomes."""

from __future__ import annotations

import re

import httpx

__all__ = ["fetch_outcome"]

_HTTP_STATUS = re.compile(r": (\d{3}) ")


def fetch_outcome(error: BaseException) -> str:
    """A short, bounded name for a failed request: ``http_503``, ``timeout``, ``connect``..."""
    cause = error.__cause__
    if isinstance(cause, httpx.TimeoutException):
        return "timeout"
    if isinstance(cause, httpx.TransportError):
        return "connect"
    message = str(error)
    if "truncated" in message:
        return "truncated"
    if status := _HTTP_STATUS.search(message):
        return f"http_{status.group(1)}"
    return "invalid" if "invalid" in message or "limit" in message else "error"
