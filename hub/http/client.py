"""The hub's HTTP client, for regional systems and partners alike, and what its failures mean."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager

import httpx

import hub
from hub.settings import FetchSettings

__all__ = ["BearerToken", "make_client", "timeout_of", "transport_errors"]


def timeout_of(policy: FetchSettings) -> httpx.Timeout:
    """The read timeout for every wait on bytes, the connect timeout for connecting."""
    return httpx.Timeout(policy.read_timeout, connect=policy.connect_timeout)


def make_client(policy: FetchSettings) -> httpx.Client:
    """The hub's client: its timeouts, redirects followed, the hub's User-Agent."""
    return httpx.Client(
        timeout=timeout_of(policy),
        follow_redirects=True,
        headers={"User-Agent": f"lheo-sync-hub/{hub.__version__}"},
    )


@contextmanager
def transport_errors(
    request: str,
    *,
    retriable: Callable[[str], Exception],
    fatal: Callable[[str], Exception],
) -> Iterator[None]:
    """httpx's transport faults inside the block, as the hub's errors (``raise ... from``):
    a timeout or a failed connection is ``retriable``, a URL it cannot use is ``fatal``.
    ``request`` starts their message (``GET https://...``)."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise retriable(f"{request}: timed out ({exc!r})") from exc
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise fatal(f"{request}: invalid URL: {exc}") from exc
    except httpx.TransportError as exc:
        raise retriable(f"{request}: connection failed: {exc!r}") from exc


class BearerToken(httpx.Auth):
    """``Authorization: Bearer <token>``; its repr never shows the token."""

    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    def __repr__(self) -> str:
        return "BearerToken(***)"
