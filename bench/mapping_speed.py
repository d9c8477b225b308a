"""Measure the harmonisation layer alone: formations per second, single-threaded.

    python bench/mapping_speed.py
    python bench/mapping_speed.py --formations 5000 --regions 84 --language-share 0.5

Generates a corpus in memory (simulators.corpus), reads it with the hub's reader as ingest
does (2.2 is upgraded to the 2.3 namespace), then times ``Harmoniser.harmonise`` alone
and followed by ``to_json`` (what the map stage stores), over several rounds, in CPU
time (the wall time of a shared machine says more about its other work). The first
round starts with empty caches; the best round is what a long ingest sees. The read
time (parse, XSD validation, canonical form) is printed for comparison.
"""

from __future__ import annotations

import argparse
import gc
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path

from lxml import etree

try:
    from simulators.corpus import CorpusSpec, write_corpus
except ModuleNotFoundError:  # a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from simulators.corpus import CorpusSpec, write_corpus
from hub.lheo.reader import LheoReader
from mappings import Harmoniser, load_tables, to_json


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--formations", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--regions", default="*", help="INSEE region codes (11,84) or *")
    parser.add_argument("--version", choices=("2.2", "2.3"), default="2.3")
    parser.add_argument("--language-share", type=float, default=0.15)
    parser.add_argument("--source", default="auvergne-rhone-alpes", help="source harmonised as")
    parser.add_argument("--region", default="84", help="the source's region ('' for national)")
    parser.add_argument("--rounds", type=int, default=5)
    return parser


def _read(spec: CorpusSpec) -> tuple[list[etree._Element], float]:
    """The valid formations of ``spec`` as ingest reads them, and the read time."""
    flow = io.BytesIO()
    write_corpus(flow, spec)
    flow.seek(0)
    started = time.process_time()
    formations = [record.element for record in LheoReader(flow) if record.element is not None]
    return formations, time.process_time() - started


def _rounds(work: Callable[[], object], rounds: int) -> list[tuple[float, float]]:
    """CPU and wall time of each round of ``work`` (garbage collection on, as in ingest)."""
    times = []
    for _ in range(rounds):
        gc.collect()
        cpu, wall = time.process_time(), time.perf_counter()
        work()
        times.append((time.process_time() - cpu, time.perf_counter() - wall))
    return times


def _report(label: str, times: list[tuple[float, float]], count: int) -> None:
    """The best round's CPU time (what the work costs, even on a busy machine), its wall
    time, and the first round's CPU time (caches empty)."""
    cpu, wall = min(times)
    print(
        f"{label:<22} {cpu / count * 1e3:7.3f} ms/formation  {count / cpu:8.0f} formations/s"
        f"  (wall {wall / count * 1e3:.3f} ms, first round {times[0][0] / count * 1e3:.3f} ms)"
    )


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    regions = tuple(code.strip() for code in args.regions.split(",") if code.strip())
    spec = CorpusSpec(
        formations=args.formations,
        seed=args.seed,
        regions=regions,
        version=args.version,
        language_share=args.language_share,
    )
    formations, read_time = _read(spec)
    count = len(formations)
    harmoniser = Harmoniser(load_tables())
    region = args.region or None

    def harmonise() -> object:
        return [harmoniser.harmonise(f, source=args.source, region=region) for f in formations]

    def harmonise_to_json() -> object:
        return [
            to_json(harmoniser.harmonise(f, source=args.source, region=region)) for f in formations
        ]

    print(f"{count} formations ({spec.version}, regions {args.regions}), {args.rounds} rounds")
    print(f"{'read (parse+XSD)':<22} {read_time / count * 1e3:7.3f} ms/formation")
    _report("harmonise", _rounds(harmonise, args.rounds), count)
    _report("harmonise + to_json", _rounds(harmonise_to_json, args.rounds), count)


if __name__ == "__main__":
    main()
