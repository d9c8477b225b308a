"""The national-scale benchmark: every scenario on SQLite and PostgreSQL, against two references.

    python bench/run.py --scale 0.01            # quick
    python bench/run.py --scale 1               # the national offer (about 1.6 GB of LHEO)

The corpus is generated once per scale under bench/out/. Each scenario runs in its own process
(bench/scenarios.py) so its peak memory is its own; the store is fresh for each backend (a new
SQLite file, a new PostgreSQL database). The references run on the same file: the floor is
libxml2 parsing it with no work at all (``xmllint --stream --noout``), the naive way is
``xmlschema`` decoding every formation, timed on a slice of the first formations and scaled
linearly by size. Prints one markdown table and writes it, the raw figures and a PNG chart
beside the corpus.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from environment import bench_env  # noqa: E402
from files import ensure_corpus, ensure_delta, ensure_slice  # noqa: E402
from report import chart, table  # noqa: E402

SCENARIOS = ("first_ingest", "reingest", "delta", "export", "changes_walk", "push")
POSTGRES_ADMIN = os.environ.get(
    "HUB_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def floor(corpus: Path, runs: int = 3) -> dict[str, Any]:
    """libxml2 reading the file with no work at all: the speed limit of any XML consumer.

    The best of ``runs``, so that a moment of other work on the machine does not flatter
    every ratio to it.
    """
    if shutil.which("xmllint") is None:
        raise SystemExit("xmllint is missing: apt-get install -y libxml2-utils")
    best: dict[str, Any] = {}
    for _ in range(runs):
        started = time.perf_counter()
        process = subprocess.Popen(["xmllint", "--stream", "--noout", str(corpus)], env=bench_env())
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        if status != 0:
            raise SystemExit(f"xmllint failed on {corpus} (status {status})")
        if not best or seconds < best["seconds"]:
            best = {
                "seconds": seconds,
                "bytes": corpus.stat().st_size,
                "rss_mb": usage.ru_maxrss / 1024,
                "cpu_s": usage.ru_utime + usage.ru_stime,
                "load": os.getloadavg()[0],
            }
    return best


def run_scenario(name: str, *options: str) -> dict[str, Any]:
    command = [sys.executable, str(BENCH / "scenarios.py"), name, *options]
    print(f"  {name}...", end=" ", flush=True)
    # The scenario's store is the --database given here, never the caller's HUB_* settings.
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=bench_env())
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"scenario {name} failed")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{result['seconds']:.2f} s", flush=True)
    return result


def fresh_postgres(name: str) -> str:
    """A new, empty PostgreSQL database for this run; returns its URL."""
    from sqlalchemy import create_engine, text  # noqa: PLC0415

    engine = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def run_backend(
    backend: str, url: str, workdir: Path, *, corpus: Path, delta: Path, pushes: int
) -> dict[str, Any]:
    print(f"{backend}:", flush=True)
    common = ["--database", url, "--workdir", str(workdir), "--corpus", str(corpus)]
    results = {}
    for name in SCENARIOS:
        extra = ["--delta", str(delta)] if name == "delta" else []
        extra += ["--pushes", str(pushes)] if name == "push" else []
        results[name] = run_scenario(name, *common, *extra)
    return results


def references(corpus: Path, stats: dict[str, Any]) -> dict[str, Any]:
    """The floor on the whole file, and the naive decode on a slice scaled by size."""
    sliced, slice_records, slice_bytes = ensure_slice(corpus)
    found = {"floor": floor(corpus)}
    print(f"floor: {found['floor']['seconds']:.2f} s", flush=True)
    naive = run_scenario("naive", "--corpus", str(sliced))
    factor = stats["bytes"] / slice_bytes
    found["naive"] = {
        **naive,
        "slice_records": slice_records,
        "slice_bytes": slice_bytes,
        "factor": factor,
        "seconds": naive["seconds"] * factor,
        "slice_seconds": naive["seconds"],
    }
    return found


def publish(figures: dict[str, Any], results: Path) -> None:
    """Write the figures, the table and the chart beside each other, and print the table."""
    results.write_text(json.dumps(figures, indent=1))
    markdown = table(figures)
    results.with_suffix(".md").write_text(markdown)
    chart(figures, results.with_suffix(".png"))
    print()
    print(markdown)
    print(f"chart: {results.with_suffix('.png')}")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=float(os.environ.get("SCALE", "0.01")))
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pushes", type=int, default=50)
    parser.add_argument("--out", type=Path, default=BENCH / "out")
    parser.add_argument("--label", default="", help="suffix of the result files (before, ...)")
    parser.add_argument(
        "--refloor", action="store_true", help="measure the floor again, keep the scenarios"
    )
    args = parser.parse_args()
    corpus, stats = ensure_corpus(args.out, args.scale)
    results = args.out / f"results-{args.scale:g}{'-' + args.label if args.label else ''}.json"
    if args.refloor:
        figures = json.loads(results.read_text())
        kept, again = figures["references"]["floor"], floor(corpus, runs=5)
        figures["references"]["floor"] = min(kept, again, key=lambda f: f["seconds"])
        publish(figures, results)
        return 0
    delta = ensure_delta(corpus)
    found = references(corpus, stats)
    runs: dict[str, Any] = {}
    for backend in args.backends.split(","):
        workdir = args.out / f"run-{args.scale:g}-{backend}{args.label}"
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        if backend == "sqlite":
            url = f"sqlite:///{workdir / 'hub.db'}"
        else:
            url = fresh_postgres(f"hub_bench_{str(args.scale).replace('.', '_')}{args.label}")
        runs[backend] = run_backend(
            backend, url, workdir, corpus=corpus, delta=delta, pushes=args.pushes
        )
    publish({"scale": args.scale, "stats": stats, "references": found, "runs": runs}, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
