"""A real ``hub serve`` to push to, for the bad-input tests: one source, its push token.

:class:`Pusher` sends bodies to ``POST /v1/push/reunion`` and, after each bad one, a good
one that must be applied as usual (the hub is not left in a bad state by what it refused).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from lheo_factory import document, formation

from hub.store.sources import ensure_source
from hub.store.tokens import create_token
from tests.reliability.hubproc import HubProcess, postgres_schema
from tests.reliability.offer import XML, live_state

LIMIT = 1024 * 1024
SOURCE = "reunion"


@dataclass
class Pusher:
    hub: HubProcess
    http: httpx.Client
    token: str
    good: int = 0

    def push(self, body: bytes, content_type: str = XML, **headers: str) -> httpx.Response:
        sent = {"Content-Type": content_type, "Authorization": f"Bearer {self.token}"}
        sent |= {k.replace("_", "-"): v for k, v in headers.items()}
        return self.http.post(f"/v1/push/{SOURCE}", content=body, headers=sent)

    def push_good(self) -> None:
        """A good push right after a bad one: it must be applied as usual."""
        self.good += 1
        numero = f"GOOD-{self.good}"
        response = self.push(document([formation(numero)]))
        assert response.status_code == 200, response.text
        assert response.json()["counts"]["created"] == 1
        assert (SOURCE, numero) in live_state(self.hub.store.engine)


@contextmanager
def pushing_hub(folder: Path) -> Iterator[Pusher]:
    """A hub on a fresh PostgreSQL schema taking pushes of at most ``LIMIT`` bytes."""
    with postgres_schema("bad") as url:
        hub = HubProcess(folder, url, api={"max_push_bytes": LIMIT})
        try:
            hub.start().ready()
            ensure_source(hub.store.engine, SOURCE, "04")
            token = create_token(hub.store.engine, "push", source=SOURCE).token
            with hub.client() as http:
                seeded = Pusher(hub, http, token)
                assert seeded.push(document([formation("KEEP-1"), formation("KEEP-2")])).is_success
                yield seeded
        finally:
            hub.close()


def assert_problem(response: httpx.Response, status: int | tuple[int, ...]) -> dict[str, object]:
    """An RFC 9457 problem with the expected status; returns its body."""
    wanted = status if isinstance(status, tuple) else (status,)
    assert response.status_code in wanted, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, object] = response.json()
    assert problem["status"] == response.status_code
    assert problem["type"] and problem["title"] and problem["detail"]
    return problem
