"""A simulated Dokelio web service: pages of LHEO 2.3 from a generated Île-de-France offer.

``GET /v1/offres?since=&page=&limit=`` with ``Authorization: Bearer <token>``:

* pages of ``limit`` formations (default 100, at most 500) ordered by numero, keyset
  paginated (the opaque ``page`` token names the last numero served), with
  ``Link: <...>; rel="next"`` while more follow and ``X-Total-Count``;
* ``since`` (``YYYYMMDD`` or ``YYYYMMDDHHMMSS``, UTC, inclusive) keeps the formations
  changed since then, and the last page lists the deletions since then in
  ``<extras info="suppressions">``;
* ``Date`` is the simulator's clock, so a connector can use it as its next ``since``;
* 401 without the token, 400 for a malformed parameter.

Offer numbers follow Dokelio's ``14_AF_…`` / ``14_AC_…`` / ``14_SE_…`` pattern.
"""

from __future__ import annotations

import base64
import binascii
import io
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from fastapi import APIRouter, Request, Response

from simulators.corpus import write_formations
from simulators.system import SimulatedSystem

__all__ = ["DokelioSimulator"]

MAX_LIMIT = 500
TOKEN_ENV = "DOKELIO_TOKEN"


def encode_token(numero: str) -> str:
    return base64.urlsafe_b64encode(f"after:{numero}".encode()).decode().rstrip("=")


def decode_token(token: str) -> str:
    """The numero a page token continues after; ValueError for a token we did not issue."""
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError(f"invalid page token {token!r}") from exc
    if not text.startswith("after:"):
        raise ValueError(f"invalid page token {token!r}")
    return text.removeprefix("after:")


def parse_since(value: str) -> datetime:
    for layout in ("%Y%m%d%H%M%S", "%Y%m%d"):
        if len(value) == len(datetime(2000, 1, 1).strftime(layout)):
            try:
                return datetime.strptime(value, layout).replace(tzinfo=UTC)
            except ValueError:
                break
    raise ValueError(f"since must be YYYYMMDD or YYYYMMDDHHMMSS, got {value!r}")


class DokelioSimulator(SimulatedSystem):
    name = "dokelio"
    region = "11"
    version = "2.3"
    numero_prefix = "14"

    def __init__(self, *, page_size: int = 10, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.page_size = page_size

    def source_config(self, base_url: str) -> dict[str, Any]:
        return {
            "connector": "dokelio",
            "region": self.region,
            "url": f"{base_url}/v1",
            "token_env": TOKEN_ENV if self.token else None,
            "options": {"page_size": self.page_size},
        }

    def routes(self, router: APIRouter) -> None:
        @router.get("/v1/offres")
        def offres(
            request: Request,
            since: str | None = None,
            page: str | None = None,
            limit: int = 100,
        ) -> Response:
            refused = self.unauthorized(request)
            if refused is not None:
                return refused
            try:
                after = decode_token(page) if page else ""
                instant = parse_since(since) if since else None
            except ValueError as exc:
                return Response(f"{exc}\n", status_code=400, media_type="text/plain")
            limit = max(1, min(limit, MAX_LIMIT))
            return self._page(request, instant, after, limit)

    def _page(self, request: Request, since: datetime | None, after: str, limit: int) -> Response:
        with self.offer.lock:
            now = self.offer.clock()
            matching = self.offer.live(since)
            remaining = [f for f in matching if f.numero > after]
            page, more = remaining[:limit], len(remaining) > limit
            deletions = self.offer.deleted(since) if since is not None and not more else []
        body = io.BytesIO()
        write_formations(body, page, version="2.3", deletions=deletions)
        headers = {
            "Date": format_datetime(now.astimezone(UTC), usegmt=True),
            "X-Total-Count": str(len(matching)),
        }
        if more:
            next_url = request.url.include_query_params(page=encode_token(page[-1].numero))
            headers["Link"] = f'<{next_url}>; rel="next"'
        return Response(
            body.getvalue(), media_type="application/xml; charset=utf-8", headers=headers
        )
