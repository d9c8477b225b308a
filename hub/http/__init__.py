"""The hub's one HTTP stack, for connectors (fetching) and publishers (delivering) alike.

``client`` makes the one client; ``status`` classifies answers; ``retry`` is the one retry
policy (tenacity, backoff with jitter, ``Retry-After``); ``spool`` the one bounded spool;
``fetch`` and ``send`` the two directions, which tell :mod:`hub.events` what they do.
"""

from __future__ import annotations

from hub.http.client import BearerToken, make_client, timeout_of
from hub.http.fetch import Fetched, Fetcher, WorkItem, conditional_headers
from hub.http.outcomes import fetch_outcome
from hub.http.retry import backoff, call_with_retries, retrying
from hub.http.send import Sender
from hub.http.spool import SPOOL_IN_MEMORY, spool
from hub.http.status import classify, retry_after_seconds

__all__ = [
    "SPOOL_IN_MEMORY",
    "BearerToken",
    "Fetched",
    "Fetcher",
    "Sender",
    "WorkItem",
    "backoff",
    "call_with_retries",
    "classify",
    "conditional_headers",
    "fetch_outcome",
    "make_client",
    "retry_after_seconds",
    "retrying",
    "spool",
    "timeout_of",
]
