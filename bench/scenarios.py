"""The benchmark's scenarios, each run alone in a fresh process so its peak memory is its own.

    python bench/scenarios.py SCENARIO --database URL --workdir DIR --corpus FILE [--delta FILE]

Prints one JSON object on standard output: records, bytes, seconds, peak RSS (this process's
VmHWM, plus the largest child for the worker processes a flow may use) and scenario details.
The scenarios share one store, in order: first ingest, re-ingest, delta, export, walk, push.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import resource
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

try:
    from hub.pipeline.ingest import FlowResult, ingest
except ModuleNotFoundError:  # a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from hub.pipeline.ingest import FlowResult, ingest
from hub.publish.feed import changes_page, current_cursor, write_lheo
from hub.store import Store

SOURCE = "bench"
WALK_PAGE = 500


def _status_kb(pid: str, field: str, name: str = "status") -> int:
    try:
        for line in Path(f"/proc/{pid}/{name}").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass  # the process just ended
    return 0


class MemoryWatch:
    """Samples the proportional memory (PSS) of this process and its children (workers, server).

    RSS counts shared libraries once per process and, for a child started by fork + exec,
    its parent's pages at the fork; PSS shares them out, so the sum is what the tree costs.
    """

    def __init__(self, interval: float = 0.2) -> None:
        self.peak_pss_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._thread.start()

    def _run(self, interval: float) -> None:
        me = str(os.getpid())
        while not self._stop.wait(interval):
            children: list[str] = []
            for task in Path(f"/proc/{me}/task").iterdir():
                with contextlib.suppress(OSError):
                    children += (task / "children").read_text().split()
            total = sum(_status_kb(pid, "Pss", "smaps_rollup") for pid in [me, *children])
            self.peak_pss_kb = max(self.peak_pss_kb, total)

    def stop(self) -> float:
        """Peak PSS of the tree, in MB."""
        self._stop.set()
        self._thread.join()
        return self.peak_pss_kb / 1024


def peak_rss_mb() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest child, in MB."""
    own = _status_kb("self", "VmHWM") / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (workers), user + system.

    The push scenario's includes the API server's (a child process).
    """
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _counts(result: FlowResult) -> dict[str, Any]:
    return {"counts": result.counts.as_dict(), "rejections": len(result.rejections)}


def ingest_file(store: Store, path: Path, kind: str) -> dict[str, Any]:
    started = time.perf_counter()
    with path.open("rb") as stream:
        result = ingest(store, stream, source=SOURCE, kind=kind)  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    return {
        "records": result.counts.formations,
        "bytes": path.stat().st_size,
        "seconds": seconds,
        **_counts(result),
    }


def first_ingest(store: Store, args: argparse.Namespace) -> dict[str, Any]:
    return ingest_file(store, Path(args.corpus), "snapshot")


def reingest(store: Store, args: argparse.Namespace) -> dict[str, Any]:
    return ingest_file(store, Path(args.corpus), "snapshot")


def walk(store: Store, since: int) -> tuple[int, int]:
    """Follow the changes feed from ``since`` to its end; (changes, fragment bytes) seen."""
    changes = size = 0
    with store.engine.connect() as connection:
        while True:
            page = changes_page(connection, since, WALK_PAGE)
            changes += len(page.changes)
            size += sum(len(c["lheo"] or "") for c in page.changes)
            since = page.next_cursor
            if not page.has_more:
                return changes, size


def delta(store: Store, args: argparse.Namespace) -> dict[str, Any]:
    """Apply the 1% delta, then read every change it made back from the changes feed."""
    with store.engine.connect() as connection:
        before = current_cursor(connection)
    started = time.perf_counter()
    applied = ingest_file(store, Path(args.delta), "delta")
    visible, _ = walk(store, before)
    seconds = time.perf_counter() - started
    expected = applied["counts"]["updated"] + applied["counts"]["deleted"]
    if visible != expected:
        raise SystemExit(f"delta: {expected} changes applied but {visible} visible in the feed")
    return {**applied, "seconds": seconds, "apply_seconds": applied["seconds"], "visible": visible}


def export(store: Store, args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    size = formations = 0
    with Path(args.workdir, "export.xml").open("wb") as out:
        for chunk in write_lheo(store.engine):
            size += len(chunk)
            formations += chunk.count(b"</formation>")
            out.write(chunk)
    return {"records": formations, "bytes": size, "seconds": time.perf_counter() - started}


def changes_walk(store: Store, args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    changes, size = walk(store, 0)
    return {"records": changes, "bytes": size, "seconds": time.perf_counter() - started}


SCENARIOS: dict[str, Callable[[Store, argparse.Namespace], dict[str, Any]]] = {
    "first_ingest": first_ingest,
    "reingest": reingest,
    "delta": delta,
    "export": export,
    "changes_walk": changes_walk,
}


def naive_decode(args: argparse.Namespace) -> dict[str, Any]:
    """What other consumers do: xmlschema decoding every formation (XSD compiled beforehand)."""
    import xmlschema  # noqa: PLC0415 - only this scenario needs it

    from hub.lheo.schema import NS_23, xsd_path  # noqa: PLC0415

    schema = xmlschema.XMLSchema(xsd_path("2.3"))
    started = time.perf_counter()
    decoded = 0
    for _ in schema.iter_decode(
        args.corpus, path="//offres/formation", namespaces={"": NS_23}, validation="lax"
    ):
        decoded += 1
    seconds = time.perf_counter() - started
    return {"records": decoded, "bytes": Path(args.corpus).stat().st_size, "seconds": seconds}


def run(args: argparse.Namespace) -> dict[str, Any]:
    """The scenario's figures, with the CPU time it took (after imports and migrations)."""
    if args.scenario == "naive":
        cpu = cpu_seconds()
        return {**naive_decode(args), "cpu_s": cpu_seconds() - cpu}
    store = Store.at(args.database, Path(args.workdir, "archive"))
    cpu = cpu_seconds()
    if args.scenario == "push":
        from push import push_latency  # noqa: PLC0415 - only this scenario needs the API

        outcome = push_latency(store, args)
    else:
        outcome = SCENARIOS[args.scenario](store, args)
    deadline = time.monotonic() + 30
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)  # workers exit after the flow: count their CPU time too
    return {**outcome, "cpu_s": cpu_seconds() - cpu}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=[*SCENARIOS, "push", "naive"])
    parser.add_argument("--database")
    parser.add_argument("--workdir", default=".")
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--delta")
    parser.add_argument("--pushes", type=int, default=50)
    args = parser.parse_args()
    load = os.getloadavg()[0]  # other work on the machine skews every figure: say so
    watch = MemoryWatch()
    outcome = run(args)
    tree_pss = watch.stop()
    own, children = peak_rss_mb()
    memory = {"rss_mb": own, "children_rss_mb": children, "tree_pss_mb": tree_pss}
    print(json.dumps({**outcome, **memory, "load": load}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
