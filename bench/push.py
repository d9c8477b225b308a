"""Push latency: from sending 100 changed formations to seeing them in the changes feed.

With the push API present (``hub.api.push``), the real server runs in a subprocess (``hub
serve`` on a free 127.0.0.1 port) and each delta is POSTed to ``/v1/push/{source}`` with a token
from ``hub tokens create``; the clock stops when ``/v1/feed/changes`` shows every valid
formation of the delta. Without it, the same path is measured in process:
``hub.pipeline.ingest.ingest`` of the delta, then ``changes_page`` until the changes are
visible.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from environment import bench_env
from files import corpus_spec

from hub.pipeline.ingest import ingest
from hub.publish.feed import changes_page, current_cursor
from hub.store import Store
from simulators.corpus import CorpusSpec, formation_xml, write_formations

PUSH_SIZE = 100
SOURCE = "bench"  # the corpus's own source: each push updates 100 stored formations


def _delta(spec: CorpusSpec, push: int) -> tuple[bytes, set[str]]:
    """The ``push``-th delta: 100 formations spread over the corpus, at a new revision."""
    stride = max(1, spec.formations // PUSH_SIZE)
    generated = [
        formation_xml(spec, (j * stride + push) % max(1, spec.formations), revision=2 + push)
        for j in range(PUSH_SIZE)
    ]
    out = io.BytesIO()
    write_formations(out, generated)
    return out.getvalue(), {g.numero for g in generated if g.valid}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _server(store_url: str, workdir: Path) -> Iterator[tuple[str, str]]:
    """``hub serve`` in a subprocess; yields its base URL and a push token for SOURCE."""
    port = _free_port()
    config = workdir / "hub-bench.toml"
    config.write_text(
        f'[store]\ndatabase_url = "{store_url}"\narchive_dir = "{workdir / "archive"}"\n'
        f'[api]\nhost = "127.0.0.1"\nport = {port}\n'
    )
    env = bench_env({"HUB_CONFIG": str(config)})  # never the caller's database or archive
    hub = str(Path(sys.executable).with_name("hub"))
    created = subprocess.run(
        [hub, "tokens", "create", SOURCE], env=env, capture_output=True, text=True, check=True
    )
    token = created.stdout.strip().split()[-1]
    server = subprocess.Popen(
        [hub, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        yield base, token
    finally:
        server.terminate()
        server.wait(timeout=30)


def _visible_http(client: httpx.Client, base: str, since: int, wanted: set[str]) -> None:
    seen: set[str] = set()
    while not wanted <= seen:
        page = client.get(f"{base}/v1/feed/changes", params={"since": since, "limit": 5000}).json()
        seen.update(c["numero"] for c in page["changes"] if c["source"] == SOURCE)
        since = page["next_cursor"]


def _visible_store(store: Store, since: int, wanted: set[str]) -> None:
    seen: set[str] = set()
    with store.engine.connect() as connection:
        while not wanted <= seen:
            page = changes_page(connection, since, 5000)
            seen.update(c["numero"] for c in page.changes if c["source"] == SOURCE)
            since = page.next_cursor


def push_latency(store: Store, args: argparse.Namespace) -> dict[str, Any]:
    spec = corpus_spec(Path(args.corpus))
    latencies: list[float] = []
    http = importlib.util.find_spec("hub.api.push") is not None
    with _maybe_server(http, store, Path(args.workdir)) as server:
        client = httpx.Client(timeout=60)
        for push in range(args.pushes):
            body, wanted = _delta(spec, push)
            with store.engine.connect() as connection:
                since = current_cursor(connection)
            started = time.perf_counter()
            if server is not None:
                base, token = server
                response = client.post(
                    f"{base}/v1/push/{SOURCE}",
                    content=body,
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/xml"},
                )
                response.raise_for_status()
                _visible_http(client, base, since, wanted)
            else:
                ingest(store, io.BytesIO(body), source=SOURCE, kind="delta")
                _visible_store(store, since, wanted)
            latencies.append(time.perf_counter() - started)
    quantiles = statistics.quantiles(latencies, n=20, method="inclusive")
    return {
        "records": PUSH_SIZE * len(latencies),
        "bytes": 0,
        "seconds": sum(latencies),
        "p50": statistics.median(latencies),
        "p95": quantiles[18],
        "path": "HTTP /v1/push"
        if http
        else "in process: hub.pipeline.ingest.ingest + changes_page",
    }


@contextmanager
def _maybe_server(http: bool, store: Store, workdir: Path) -> Iterator[tuple[str, str] | None]:
    if not http:
        yield None
        return
    with _server(str(store.engine.url.render_as_string(hide_password=False)), workdir) as server:
        yield server
