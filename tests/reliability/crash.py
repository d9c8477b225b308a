"""A hub to crash: started on PostgreSQL or SQLite with one push source, and probes.

``writing`` says whether a write transaction is open in the hub's database right now (a
PostgreSQL backend of the hub holding a transaction id, or the SQLite write lock), so a
test can kill the hub in the middle of applying a flow rather than at a guessed moment.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import text

from hub.store.sources import ensure_source
from hub.store.tokens import create_token
from tests.reliability.hubproc import HubProcess, postgres_schema
from tests.reliability.offer import XML

SOURCE = "corse"


@contextmanager
def running_hub(database: str, folder: Path, **options: Any) -> Iterator[tuple[HubProcess, str]]:
    """A started hub with a push token for ``SOURCE``, on PostgreSQL or on a SQLite file."""
    with postgres_schema("fault") if database == "postgresql" else _sqlite(folder) as url:
        hub = HubProcess(folder, url, api={"max_push_bytes": 256 * 1024 * 1024}, **options)
        try:
            hub.start().ready()
            ensure_source(hub.store.engine, SOURCE, "94")
            yield hub, create_token(hub.store.engine, "push", source=SOURCE).token
        finally:
            hub.close()


@contextmanager
def _sqlite(folder: Path) -> Iterator[str]:
    yield f"sqlite:///{folder / 'hub.db'}"


def writing(hub: HubProcess) -> bool:
    """Whether a write transaction is open in the hub's database right now."""
    if hub.database_url.startswith("sqlite"):
        probe = sqlite3.connect(hub.database_url.removeprefix("sqlite:///"), timeout=0)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.rollback()
            return False
        except sqlite3.OperationalError:
            return True  # locked: the hub holds the write lock
        finally:
            probe.close()
    [name] = parse_qs(urlsplit(hub.database_url).query)["application_name"]
    with hub.store.engine.connect() as connection:
        return bool(
            connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = :name "
                    "AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            ).scalar()
        )


class Push(threading.Thread):
    """A push sent from a thread, so the test can kill the hub while it is answered."""

    def __init__(self, url: str, token: str, body: Any, *, idempotency_key: str = "") -> None:
        super().__init__(daemon=True)
        self.url, self.token, self.body = url, token, body
        self.headers = {"Content-Type": XML, "Authorization": f"Bearer {token}"}
        if idempotency_key:
            self.headers["Idempotency-Key"] = idempotency_key
        self.response: httpx.Response | None = None
        self.error: Exception | None = None

    def run(self) -> None:
        try:
            self.response = httpx.post(
                f"{self.url}/v1/push/{SOURCE}", content=self.body, headers=self.headers, timeout=300
            )
        except httpx.HTTPError as exc:
            self.error = exc


def push(hub: HubProcess, token: str, body: bytes, **headers: str) -> httpx.Response:
    sent = {"Content-Type": XML, "Authorization": f"Bearer {token}", **headers}
    return httpx.post(f"{hub.url}/v1/push/{SOURCE}", content=body, headers=sent, timeout=300)
