"""A bounded load on loopback: every region pushes while portals read, and nothing is lost.

Four overseas regions push deltas to a real ``hub serve`` on PostgreSQL, each from its own
thread (new revisions, new offers, deletions), while two portals page through the changes
feed and a third downloads the full LHEO feed over and over, for a fixed time (a few
seconds in ``make test``, 25 s in ``make reliability``). Every request is timed; any error
fails the test. Then each portal's replica, kept up to date from the changes feed alone,
must equal the store, and the store must hold exactly what the regions last sent.
"""

from __future__ import annotations

import io
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx

from hub.lheo.reader import LheoReader
from hub.store.sources import ensure_source
from hub.store.tokens import create_token
from simulators.corpus import CorpusSpec, formation_numero, formation_xml, write_formations
from tests.reliability.hubproc import HubProcess, postgres_schema
from tests.reliability.offer import XML, Key, apply_changes, live_state, merge, replica_from_changes
from tests.reliability.report import Tally
from tests.reliability.sizes import scale

SECONDS = scale(4.0, 25.0)
MAX_REQUESTS = 200_000
REGIONS = {"guadeloupe": "01", "martinique": "02", "guyane": "03", "reunion": "04"}
SEED_FORMATIONS = 24


@dataclass
class Timings:
    """Every request of the run: how long it took, and what went wrong."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: list[float] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def timed(self, what: str, call: Callable[[], httpx.Response]) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = call()
        except httpx.HTTPError as exc:
            response, problem = None, f"{what}: {exc!r}"
        else:
            problem = None if response.status_code == 200 else f"{what}: {response.status_code}"
        with self.lock:
            self.latencies.append(time.perf_counter() - started)
            self.kinds[what] += 1
            if problem:
                self.errors.append(problem)
        return response

    def spent(self) -> bool:
        return len(self.latencies) >= MAX_REQUESTS


@dataclass
class Region:
    """One region's pusher and what it has sent: index -> revision of each live offer."""

    source: str
    code: str
    token: str
    spec: CorpusSpec = field(init=False)
    live: dict[int, int] = field(default_factory=dict)
    next_index: int = SEED_FORMATIONS
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.spec = CorpusSpec(
            formations=SEED_FORMATIONS, seed=int(self.code), regions=(self.code,)
        )
        self.rng = random.Random(self.source)

    def document(self, revisions: dict[int, int], deletions: list[int]) -> bytes:
        out = io.BytesIO()
        formations = [formation_xml(self.spec, i, revision=r) for i, r in revisions.items()]
        numeros = [formation_numero(self.spec, i) for i in deletions]
        write_formations(out, formations, deletions=numeros)
        return out.getvalue()

    def next_delta(self) -> tuple[dict[int, int], list[int]]:
        """Three offers revised, one new, one deleted."""
        chosen = self.rng.sample(sorted(self.live), k=min(4, len(self.live)))
        revisions = {i: self.live[i] + 1 for i in chosen[:3]}
        revisions[self.next_index] = 0
        return revisions, chosen[3:]

    def push_for(self, url: str, deadline: float, timings: Timings) -> None:
        headers = {"Content-Type": XML, "Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=url, timeout=60, headers=headers) as http:
            while time.monotonic() < deadline and not timings.spent():
                revisions, deletions = self.next_delta()
                body = self.document(revisions, deletions)
                sent = timings.timed(
                    "push", partial(http.post, f"/v1/push/{self.source}", content=body)
                )
                if sent is not None and sent.status_code == 200:
                    self.live.update(revisions)
                    self.next_index += 1
                    for index in deletions:
                        del self.live[index]

    def expected(self) -> dict[Key, str]:
        """What the store must hold for this region: the last revision of each live offer."""
        document = self.document(dict(self.live), [])
        return {(self.source, r.numero): r.content_hash for r in LheoReader(io.BytesIO(document))}


@dataclass
class Portal:
    """A national portal keeping its replica of the offer from the changes feed alone."""

    replica: dict[Key, str] = field(default_factory=dict)
    cursor: int = 0

    def poll_for(self, url: str, deadline: float, timings: Timings) -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            while time.monotonic() < deadline and not timings.spent():
                query = {"since": self.cursor, "limit": 200}
                page = timings.timed("changes", partial(http.get, "/v1/feed/changes", params=query))
                if page is None or page.status_code != 200:
                    continue
                body = page.json()
                merge(self.replica, body["changes"])
                self.cursor = body["next_cursor"]
                if not body["has_more"]:
                    time.sleep(0.02)  # caught up: a portal polls, it does not spin


def downloader(url: str, deadline: float, timings: Timings, complete: list[bool]) -> None:
    with httpx.Client(base_url=url, timeout=120) as http:
        gzip = False
        while time.monotonic() < deadline and not timings.spent():
            gzip = not gzip
            headers = {"Accept-Encoding": "gzip" if gzip else "identity"}
            full = timings.timed("full feed", partial(http.get, "/v1/feed/lheo", headers=headers))
            if full is not None and full.status_code == 200:
                complete.append(full.content.rstrip().endswith(b"</lheo>"))


def test_regions_push_while_portals_read(tmp_path: Path, figures: Tally) -> None:
    with postgres_schema("load") as url:
        hub = HubProcess(tmp_path, url)
        try:
            hub.start().ready()
            regions = []
            for source, code in REGIONS.items():
                ensure_source(hub.store.engine, source, code)
                token = create_token(hub.store.engine, "push", source=source).token
                region = Region(source, code, token)
                seed = region.document(dict.fromkeys(range(SEED_FORMATIONS), 0), [])
                with hub.client(Authorization=f"Bearer {token}", **{"Content-Type": XML}) as http:
                    assert http.post(f"/v1/push/{source}", content=seed).status_code == 200
                region.live = dict.fromkeys(range(SEED_FORMATIONS), 0)
                regions.append(region)
            run(hub, regions, figures)
        finally:
            hub.close()


def run(hub: HubProcess, regions: list[Region], figures: Tally) -> None:
    timings, portals, complete = Timings(), [Portal(), Portal()], []
    started = time.monotonic()
    deadline = started + SECONDS
    workers: list[Callable[..., None]] = [r.push_for for r in regions]
    workers += [p.poll_for for p in portals]
    threads = [threading.Thread(target=w, args=(hub.url, deadline, timings)) for w in workers]
    threads.append(threading.Thread(target=downloader, args=(hub.url, deadline, timings, complete)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + 120)
    elapsed = time.monotonic() - started
    figures.held(
        kinds=timings.kinds, seconds=elapsed, latencies=timings.latencies,
        errors=len(timings.errors),
    )  # fmt: skip
    assert timings.errors == [], timings.errors[:10]
    assert complete and all(complete), "every full feed came whole"
    live = live_state(hub.store.engine)
    with hub.client() as http:
        for portal in portals:
            assert portal.cursor > 0, "the portal followed the changes while they were made"
            apply_changes(http, portal.replica, since=portal.cursor)  # its next poll
            assert portal.replica == live, "a portal's replica equals the store"
        assert replica_from_changes(http) == live
    expected: dict[Key, str] = {}
    for region in regions:
        expected |= region.expected()
    figures.records("load", expected, live)
    assert live == expected, "the store holds what the regions last sent, nothing else"
